//! The `initc` binary's allocator: the system's, until a command that prints a result and exits
//! (`summary`, `lint` of one file) switches to mimalloc for the rest of the process.
//!
//! Why two: a graph of 100,000 nodes is millions of small allocations, which glibc's allocator
//! serves at about half mimalloc's speed (BENCHMARKS.md, "Graphs"). But `compile` relies on the
//! system allocator's behaviour under a memory limit (one large tensor at a time, E0603 rather
//! than an abort under `ulimit -v`), which mimalloc's address-space reservations change, so it
//! keeps the system's. Only the binary installs [`Heap`] (`main.rs`); the Python extension keeps
//! the interpreter's allocator, and there [`use_fast_heap`] changes nothing.

use libmimalloc_sys as mi;
use std::alloc::{GlobalAlloc, Layout, System};
use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, Ordering};

/// New allocations come from mimalloc.
static FAST: AtomicBool = AtomicBool::new(false);
/// Some allocation came from mimalloc: a freed pointer may be one of its.
static EVER_FAST: AtomicBool = AtomicBool::new(false);

/// Serves new allocations from mimalloc from now on. Memory the system allocator gave before is
/// still returned to it: each pointer goes back to the allocator that owns it.
///
/// Not under an address-space limit (`ulimit -v`, or a data limit): mimalloc reserves address
/// space a gigabyte at a time, and under a limit whether its reservations fit varies from run
/// to run (a summary that fits in 300 MB aborted in some runs), where the system allocator
/// asks for what it uses.
pub fn use_fast_heap() {
    if address_space_is_limited() {
        return;
    }
    EVER_FAST.store(true, Ordering::SeqCst);
    FAST.store(true, Ordering::SeqCst);
}

/// Fewer bytes than this are not worth a thread.
const MIN_PREFAULT: usize = 16 << 20;
/// What one `madvise` call faults in: small enough that the thread stops soon after the process
/// is done, large enough that the calls cost nothing.
const PREFAULT_CHUNK: usize = 2 << 20;

/// Faults in, on another thread, about `bytes` of the memory mimalloc hands out next (after
/// what earlier calls fault in), so that the caller's first writes to it do not wait for the
/// kernel.
///
/// Why: a graph of 100,000 nodes writes 150 MB of fresh memory, and the kernel gives each fresh
/// page at the first write to it, a fault that took about a third of `summary`'s time on the
/// machine measured (BENCHMARKS.md, "Graphs"). Building the graph is one thread's work; another
/// core can take those faults ahead of it. The memory is mimalloc's reserved arena, in which it
/// places new pages from the start; `MADV_POPULATE_WRITE` makes its pages present as a write
/// would, without writing (so it is safe beside the threads that use them). Only the mapping
/// that holds mimalloc's next block is touched; nothing happens before [`use_fast_heap`], under
/// a kernel without `MADV_POPULATE_WRITE` (Linux 5.14), or outside Linux.
pub fn prefault(bytes: usize) {
    // The thread is left to finish, or to end with the process.
    drop(start_prefault(None, bytes));
}

/// [`prefault`], after faulting in the unused capacity of `list` first: a list of 100,000 nodes
/// is a block of its own, which mimalloc places apart from its small blocks, and which the
/// caller fills from its start.
pub fn prefault_list_first<T>(list: &Vec<T>, bytes: usize) {
    let start = list.as_ptr() as usize + list.len() * size_of::<T>();
    drop(start_prefault(Some(start..start + (list.capacity() - list.len()) * size_of::<T>()), bytes));
}

/// [`prefault`]: the range it faults in and the thread doing it, if it started one.
fn start_prefault(
    first: Option<std::ops::Range<usize>>,
    bytes: usize,
) -> Option<(std::ops::Range<usize>, std::thread::JoinHandle<()>)> {
    if !FAST.load(Ordering::Relaxed) || bytes < MIN_PREFAULT {
        return None;
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
    #[cfg(target_os = "linux")]
    {
        /// The end of what earlier calls fault in.
        static FAULTED_TO: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        // SAFETY: a block of mimalloc's, freed at once; only its address is kept.
        let next = unsafe {
            let block = mi::mi_malloc(1);
            mi::mi_free(block);
            block as usize
        };
        let mapping = mapping_holding(next)?;
        // From mimalloc's next block, or after what an earlier call faults in if that is later.
        let start = (next & !(PREFAULT_CHUNK - 1)).max(mapping.start).max(FAULTED_TO.load(Ordering::Relaxed));
        let end = start.saturating_add(bytes).min(mapping.end);
        if start >= end {
            return None;
        }
        FAULTED_TO.fetch_max(end, Ordering::Relaxed);
        // The list's pages (from the one holding its first unused byte), within its mapping.
        const PAGE: usize = 4096;
        let first = first.filter(|range| !range.is_empty()).and_then(|range| {
            let mapping = mapping_holding(range.start)?;
            Some((range.start & !(PAGE - 1))..range.end.min(mapping.end))
        });
        let thread = std::thread::Builder::new().name("initc-prefault".into()).spawn(move || {
            for range in first.into_iter().chain(std::iter::once(start..end)) {
                for chunk in range.clone().step_by(PREFAULT_CHUNK) {
                    let length = PREFAULT_CHUNK.min(range.end - chunk);
                    // SAFETY: the range lies in one private writable mapping of this process,
                    // which mimalloc owns; populating changes no byte in it.
                    let done = unsafe { libc::madvise(chunk as *mut c_void, length, libc::MADV_POPULATE_WRITE) };
                    if done != 0 {
                        break;
                    }
                }
            }
        });
        // Without the thread the process only runs as it would have.
        thread.ok().map(|thread| (start..end, thread))
    }
}

/// The writable private mapping of this process that holds `address` (`/proc/self/maps`).
#[cfg(target_os = "linux")]
fn mapping_holding(address: usize) -> Option<std::ops::Range<usize>> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    maps.lines().find_map(|line| {
        let mut fields = line.split_ascii_whitespace();
        let (start, end) = fields.next()?.split_once('-')?;
        let range = usize::from_str_radix(start, 16).ok()?..usize::from_str_radix(end, 16).ok()?;
        // `rw-p`: writable and private, as mimalloc maps its arenas (never a shared file).
        let permissions = fields.next()?;
        let private = permissions.starts_with("rw") && permissions.ends_with('p');
        (private && range.contains(&address)).then_some(range)
    })
}

/// Whether the process may map only so much memory.
fn address_space_is_limited() -> bool {
    #[cfg(target_os = "linux")]
    {
        [libc::RLIMIT_AS, libc::RLIMIT_DATA].into_iter().any(|resource| {
            let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
            // SAFETY: `getrlimit` writes one `rlimit`, which `limit` is.
            let known = unsafe { libc::getrlimit(resource, &mut limit) } == 0;
            !known || limit.rlim_cur != libc::RLIM_INFINITY
        })
    }
    #[cfg(not(target_os = "linux"))]
    {
        false
    }
}

/// Whether a block from `mi_malloc` has `align`: mimalloc's size classes are whole words, and a
/// page's first block is aligned to 16 bytes, so every block is aligned to a word (8 bytes).
/// Almost every Rust block asks no more.
fn plain_alignment(align: usize) -> bool {
    align <= std::mem::size_of::<usize>()
}

/// A mimalloc block: `mi_malloc` when its alignment is one that gives, the faster call (a graph
/// makes over a million blocks), else `mi_malloc_aligned`.
fn mi_alloc(size: usize, align: usize) -> *mut u8 {
    match plain_alignment(align) {
        // SAFETY: any size; the alignment is one `mi_malloc` gives.
        true => unsafe { mi::mi_malloc(size) as *mut u8 },
        // SAFETY: mimalloc accepts any size and power-of-two alignment.
        false => unsafe { mi::mi_malloc_aligned(size, align) as *mut u8 },
    }
}

/// The binary's global allocator (see the module's documentation).
pub struct Heap;

/// Whether mimalloc gave `pointer` (its page map knows every page it owns).
fn is_fast(pointer: *mut u8) -> bool {
    // SAFETY: a lookup in mimalloc's page map, defined for any address.
    EVER_FAST.load(Ordering::Relaxed) && unsafe { mi::mi_is_in_heap_region(pointer as *const c_void) }
}

// SAFETY: every pointer is freed or resized by the allocator that gave it (`is_fast`), and each
// allocator is called with the layout's size and alignment, as its own `GlobalAlloc` would.
unsafe impl GlobalAlloc for Heap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if FAST.load(Ordering::Relaxed) {
            mi_alloc(layout.size(), layout.align())
        } else {
            // SAFETY: the caller's layout, passed on.
            unsafe { System.alloc(layout) }
        }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if FAST.load(Ordering::Relaxed) {
            // SAFETY: as in `alloc`.
            unsafe { mi::mi_zalloc_aligned(layout.size(), layout.align()) as *mut u8 }
        } else {
            // SAFETY: the caller's layout, passed on.
            unsafe { System.alloc_zeroed(layout) }
        }
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        if is_fast(pointer) {
            // SAFETY: mimalloc gave it.
            unsafe { mi::mi_free(pointer as *mut c_void) }
        } else {
            // SAFETY: the system allocator gave it, with this layout.
            unsafe { System.dealloc(pointer, layout) }
        }
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if is_fast(pointer) {
            if plain_alignment(layout.align()) {
                // SAFETY: mimalloc gave it; the new block is aligned as `mi_alloc` aligns it.
                return unsafe { mi::mi_realloc(pointer as *mut c_void, new_size) as *mut u8 };
            }
            // SAFETY: mimalloc gave it, with this alignment.
            return unsafe { mi::mi_realloc_aligned(pointer as *mut c_void, new_size, layout.align()) as *mut u8 };
        }
        if !FAST.load(Ordering::Relaxed) {
            // SAFETY: the system allocator gave it, with this layout.
            return unsafe { System.realloc(pointer, layout, new_size) };
        }
        // A system block grown after the switch moves to mimalloc.
        // SAFETY: as in `alloc`; both blocks hold at least the bytes copied, and the old block
        // goes back to the system allocator with its layout.
        unsafe {
            let moved = mi_alloc(new_size, layout.align());
            if !moved.is_null() {
                std::ptr::copy_nonoverlapping(pointer, moved, layout.size().min(new_size));
                System.dealloc(pointer, layout);
            }
            moved
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A block the system allocator gave before the switch, grown after it, moves to mimalloc
    /// with its bytes; each block is freed by its own allocator (a wrong one would abort).
    #[test]
    fn each_block_goes_back_to_the_allocator_that_gave_it() {
        let heap = Heap;
        let small = Layout::from_size_align(24, 8).unwrap_or(Layout::new::<u64>());
        let aligned = Layout::from_size_align(100, 4096).unwrap_or(Layout::new::<u64>());
        // SAFETY: every block is written within its size and freed once, with its layout.
        unsafe {
            let old = System.alloc(small);
            assert!(!old.is_null());
            old.copy_from_nonoverlapping([7u8; 24].as_ptr(), 24);
            // As `use_fast_heap` does without a memory limit.
            EVER_FAST.store(true, Ordering::SeqCst);
            FAST.store(true, Ordering::SeqCst);
            assert!(!is_fast(old));
            let grown = heap.realloc(old, small, 4000);
            assert!(is_fast(grown));
            assert_eq!(std::slice::from_raw_parts(grown, 24), &[7u8; 24]);
            let larger = Layout::from_size_align(4000, 8).unwrap_or(small);
            let shrunk = heap.realloc(grown, larger, 16);
            assert!(is_fast(shrunk));
            assert_eq!(std::slice::from_raw_parts(shrunk, 16), &[7u8; 16]);
            heap.dealloc(shrunk, Layout::from_size_align(16, 8).unwrap_or(small));

            let fresh = heap.alloc(aligned);
            assert!(is_fast(fresh) && (fresh as usize).is_multiple_of(4096));
            heap.dealloc(fresh, aligned);
            let zeroed = heap.alloc_zeroed(aligned);
            assert!(is_fast(zeroed) && std::slice::from_raw_parts(zeroed, 100).iter().all(|&b| b == 0));
            heap.dealloc(zeroed, aligned);

            let system = System.alloc(aligned);
            assert!(!is_fast(system));
            heap.dealloc(system, aligned);
        }
    }

    /// Every block `mi_alloc` gives has the alignment asked for: the plain `mi_malloc` for up
    /// to a word, the aligned call beyond, across the small, medium and large size classes.
    #[test]
    fn mimalloc_blocks_have_their_alignment() {
        let sizes = (1..=600).chain([1000, 4096, 10_000, 70_000, 300_000, 5_000_000]);
        for size in sizes {
            for align in [1, 2, 4, 8, 16, 32, 4096] {
                let blocks: Vec<*mut u8> = (0..5).map(|_| mi_alloc(size, align)).collect();
                for &block in &blocks {
                    assert!(!block.is_null() && (block as usize).is_multiple_of(align), "{size} bytes at {align}");
                    // SAFETY: a block mimalloc gave, freed once.
                    unsafe { mi::mi_free(block as *mut c_void) };
                }
            }
        }
    }

    /// Once mimalloc serves allocations, `prefault` makes the pages it will hand out next
    /// present, within the one mapping that holds them.
    #[cfg(target_os = "linux")]
    #[test]
    fn prefaulted_pages_are_present() {
        assert!(start_prefault(None, MIN_PREFAULT - 1).is_none(), "too little to start a thread for");
        // As `use_fast_heap` does without a memory limit.
        EVER_FAST.store(true, Ordering::SeqCst);
        FAST.store(true, Ordering::SeqCst);
        let Some((range, thread)) = start_prefault(None, MIN_PREFAULT) else { panic!("no thread started") };
        assert!(thread.join().is_ok());
        assert!(!range.is_empty() && range.len() <= MIN_PREFAULT, "{range:x?}");
        let mapping = mapping_holding(range.start).unwrap_or(0..0);
        assert!(mapping.start <= range.start && range.end <= mapping.end, "{range:x?} in {mapping:x?}");
        let pages = range.len().div_ceil(4096);
        let mut present = vec![0u8; pages];
        // SAFETY: `range` starts on a page and lies in one mapping; `present` has a byte per page.
        let known = unsafe { libc::mincore(range.start as *mut c_void, range.len(), present.as_mut_ptr()) };
        assert_eq!(known, 0);
        assert!(
            present.iter().all(|page| page & 1 == 1),
            "{} of {pages} pages present",
            present.iter().filter(|p| **p & 1 == 1).count()
        );
        // A second call faults in what follows, not the same pages again.
        if let Some((next, thread)) = start_prefault(None, MIN_PREFAULT) {
            assert!(thread.join().is_ok());
            assert!(next.start >= range.end || next.is_empty(), "{next:x?} after {range:x?}");
        }
    }
}
