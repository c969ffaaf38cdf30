//! A byte range of an open weights file mapped into memory, as `inspect`, `diff` and `verify`
//! compute on it in the `initc` binary on Linux when the range is in the page cache: the
//! cache's own pages, with no copy. Elsewhere (a range still on the disk, where `pread` with the
//! kernel's read-ahead is faster than faulting pages in; the library inside Python; other
//! systems; a failed mapping) the blocks are read.
//!
//! A mapped file that something truncates while initc reads it would kill the process with
//! SIGBUS. The binary's handler looks the faulting address up among the live windows and, when
//! it lies in one, prints that window's "changed while it was read" diagnostic (rendered when
//! the window was made) and exits 2, as a short read does. Any other SIGBUS keeps its default.

use std::ops::Deref;
#[cfg(target_os = "linux")]
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering};

/// Bytes of a file mapped into memory, registered with the SIGBUS handler for as long as the
/// mapping lives.
#[cfg(target_os = "linux")]
pub(super) struct Window {
    map: memmap2::Mmap,
    slot: usize,
    /// What the handler prints; it must outlive the registration.
    _message: Box<[u8]>,
}

/// No system but Linux maps: there is no window to have.
#[cfg(not(target_os = "linux"))]
pub(super) enum Window {}

impl Deref for Window {
    type Target = [u8];

    #[cfg(target_os = "linux")]
    fn deref(&self) -> &[u8] {
        &self.map
    }

    #[cfg(not(target_os = "linux"))]
    fn deref(&self) -> &[u8] {
        match *self {}
    }
}

#[cfg(target_os = "linux")]
impl Drop for Window {
    fn drop(&mut self) {
        // Unregistered before the mapping goes: `drop` runs before the fields are dropped.
        GUARDS[self.slot].release();
    }
}

/// Whether this process maps weights files: set once by the binary.
#[cfg(target_os = "linux")]
static MAPPING: AtomicBool = AtomicBool::new(false);

/// Makes this process map weights files instead of reading them, once the SIGBUS handler is
/// installed. Only the `initc` binary calls it: a host process such as Python may have its own
/// SIGBUS handling.
pub(super) fn map_weights_files() {
    #[cfg(target_os = "linux")]
    {
        static INSTALLED: std::sync::Once = std::sync::Once::new();
        INSTALLED.call_once(|| {
            // SAFETY: the action only reads atomics and calls write(2) and _exit(2), both
            // async-signal-safe, or re-raises the signal with its default action.
            let installed = unsafe { signal_hook_registry::register_sigaction(libc::SIGBUS, on_bus_error) };
            MAPPING.store(installed.is_ok(), Ordering::Release);
        });
    }
}

/// Maps `length` bytes of `file` from `offset` when this process maps files, a guard slot is
/// free and every page is in the page cache; `None` means "read them instead" (with `pread`). `message` is what a SIGBUS inside the mapping
/// prints.
#[cfg(target_os = "linux")]
pub(super) fn map(
    file: &std::fs::File,
    offset: u64,
    length: usize,
    message: impl FnOnce() -> String,
) -> Option<Window> {
    if length == 0 || !MAPPING.load(Ordering::Acquire) {
        return None;
    }
    let slot = GUARDS.iter().position(Slot::take)?;
    // SAFETY: the bytes can change under the mapping only if another process writes the
    // file; a truncation is caught by the SIGBUS handler (registered below, before any read).
    let map = match unsafe { memmap2::MmapOptions::new().offset(offset).len(length).map(file) } {
        Ok(map) => map,
        Err(_) => {
            GUARDS[slot].release();
            return None;
        }
    };
    if !resident(&map) {
        // From the disk, `pread` with the file's read-ahead is faster than faulting pages in.
        GUARDS[slot].release();
        return None;
    }
    let message: Box<[u8]> = message().into_bytes().into_boxed_slice();
    GUARDS[slot].register(map.as_ptr() as usize, map.len(), &message);
    Some(Window { map, slot, _message: message })
}

/// Whether every page of `map` is in the page cache (`mincore`).
#[cfg(target_os = "linux")]
fn resident(map: &memmap2::Mmap) -> bool {
    // SAFETY: sysconf has no preconditions.
    let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096).max(1);
    // memmap2 maps from the page holding `offset`: the slice may start inside that page.
    let start = map.as_ptr() as usize;
    let aligned = start - start % page;
    let length = map.len() + (start - aligned);
    let mut pages = vec![0u8; length.div_ceil(page)];
    // SAFETY: `[aligned, aligned + length)` lies inside the mapping, and `pages` holds one byte
    // per page of it.
    let status = unsafe { libc::mincore(aligned as *mut libc::c_void, length, pages.as_mut_ptr()) };
    status == 0 && pages.iter().all(|&flags| flags & 1 == 1)
}

#[cfg(not(target_os = "linux"))]
pub(super) fn map(_: &std::fs::File, _: u64, _: usize, _: impl FnOnce() -> String) -> Option<Window> {
    None
}

/// Windows live at once: one per file a command reads (`diff` reads two), with room to spare.
#[cfg(target_os = "linux")]
const SLOTS: usize = 8;

/// One live mapping, as the signal handler reads it: `[start, end)` and its message.
#[cfg(target_os = "linux")]
struct Slot {
    taken: AtomicBool,
    /// 0 while the slot is not (yet) registered.
    start: AtomicUsize,
    end: AtomicUsize,
    message: AtomicPtr<u8>,
    message_length: AtomicUsize,
}

#[cfg(target_os = "linux")]
static GUARDS: [Slot; SLOTS] = [const { Slot::new() }; SLOTS];

#[cfg(target_os = "linux")]
impl Slot {
    const fn new() -> Slot {
        Slot {
            taken: AtomicBool::new(false),
            start: AtomicUsize::new(0),
            end: AtomicUsize::new(0),
            message: AtomicPtr::new(std::ptr::null_mut()),
            message_length: AtomicUsize::new(0),
        }
    }

    fn take(&self) -> bool {
        self.taken.compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire).is_ok()
    }

    /// Publishes the range last, so that the handler never sees a range without its message.
    fn register(&self, start: usize, length: usize, message: &[u8]) {
        self.message.store(message.as_ptr().cast_mut(), Ordering::Release);
        self.message_length.store(message.len(), Ordering::Release);
        self.end.store(start + length, Ordering::Release);
        self.start.store(start, Ordering::Release);
    }

    fn release(&self) {
        self.start.store(0, Ordering::Release);
        self.taken.store(false, Ordering::Release);
    }

    /// The message of the live window holding `address`.
    fn message_at(&self, address: usize) -> Option<(*const u8, usize)> {
        let start = self.start.load(Ordering::Acquire);
        if start == 0 || address < start || address >= self.end.load(Ordering::Acquire) {
            return None;
        }
        Some((self.message.load(Ordering::Acquire), self.message_length.load(Ordering::Acquire)))
    }
}

/// The SIGBUS action: a fault inside a live window is that file's truncation.
#[cfg(target_os = "linux")]
fn on_bus_error(info: &libc::siginfo_t) {
    // SAFETY: the kernel fills `si_addr` for SIGBUS.
    let address = unsafe { info.si_addr() } as usize;
    if let Some((message, length)) = GUARDS.iter().find_map(|slot| slot.message_at(address)) {
        // SAFETY: the message lives as long as its registration; write(2) and _exit(2) are
        // async-signal-safe. Exit 2 is a read failure's status.
        unsafe {
            libc::write(libc::STDERR_FILENO, message.cast(), length);
            libc::_exit(2);
        }
    }
    let _ = signal_hook::low_level::emulate_default_handler(libc::SIGBUS);
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn slots_find_the_window_holding_an_address_and_free_on_release() {
        let slot = Slot::new();
        assert!(slot.take());
        assert!(!slot.take(), "a taken slot is not given twice");
        let message = b"changed".to_vec();
        slot.register(4096, 100, &message);
        assert_eq!(slot.message_at(4095), None);
        assert_eq!(slot.message_at(4096).map(|(_, length)| length), Some(7));
        assert_eq!(slot.message_at(4195).map(|(_, length)| length), Some(7));
        assert_eq!(slot.message_at(4196), None);
        slot.release();
        assert_eq!(slot.message_at(4100), None);
        assert!(slot.take(), "a released slot is free again");
    }
}
