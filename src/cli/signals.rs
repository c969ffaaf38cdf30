//! SIGINT, SIGTERM and SIGHUP while `compile` writes: the temporary files and the directories
//! this run created are removed, then initc exits 128 + the signal's number (130, 143, 129), as
//! a shell reports a process the signal ended.
//!
//! The work runs on a thread of our own (signal-hook's self-pipe iterator), not inside the
//! signal handler, so it may lock and allocate. It takes the lock on `PENDING`, removes what is
//! listed there and exits while still holding it. The writer creates and registers each file
//! under the same lock, and renames the finished set into place under it, so a signal sees a
//! step either not yet begun or complete: never a file created but not listed, nor half a set
//! renamed.
//!
//! A signal ignored when initc started (`nohup` ignores SIGHUP, a shell's background job
//! SIGINT) stays ignored.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// What a signal must remove: files, then directories in reverse order of creation.
pub struct Pending {
    files: Vec<PathBuf>,
    directories: Vec<PathBuf>,
}

static PENDING: Mutex<Pending> = Mutex::new(Pending { files: Vec::new(), directories: Vec::new() });

/// The lock every step that creates, registers or renames an output file holds.
pub fn pending() -> MutexGuard<'static, Pending> {
    // A thread that panicked while holding it left a list that is still a valid list.
    PENDING.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Pending {
    pub fn add_file(&mut self, path: &Path) {
        self.files.push(path.to_path_buf());
    }

    pub fn forget_file(&mut self, path: &Path) {
        self.files.retain(|listed| listed != path);
    }

    pub fn add_directory(&mut self, path: &Path) {
        self.directories.push(path.to_path_buf());
    }

    pub fn forget_directory(&mut self, path: &Path) {
        self.directories.retain(|listed| listed != path);
    }

    /// Removes everything listed; true when there was anything.
    #[cfg(unix)]
    fn remove_all(&mut self) -> bool {
        let any = !self.files.is_empty() || !self.directories.is_empty();
        for file in self.files.drain(..) {
            let _ = std::fs::remove_file(file);
        }
        // Only empty directories go: another job may be writing its shard into the same one.
        for directory in self.directories.drain(..).rev() {
            let _ = std::fs::remove_dir(directory);
        }
        any
    }
}

/// Starts the thread that cleans up on SIGINT, SIGTERM and SIGHUP. Without it (on other
/// systems, or if the handlers cannot be installed) a signal ends initc as before and the next
/// run removes the temporary files it left (`output_set::remove_stale`).
pub fn install() {
    #[cfg(unix)]
    {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        use std::io::Write;
        let ignored = ignored_signals();
        let caught: Vec<i32> =
            [SIGINT, SIGTERM, SIGHUP].into_iter().filter(|&signal| ignored & (1 << (signal - 1)) == 0).collect();
        let Ok(mut signals) = signal_hook::iterator::Signals::new(&caught) else { return };
        std::thread::spawn(move || {
            if let Some(signal) = signals.forever().next() {
                let mut pending = pending();
                let removed = pending.remove_all();
                let name = match signal {
                    SIGINT => "SIGINT",
                    SIGTERM => "SIGTERM",
                    _ => "SIGHUP",
                };
                let what = if removed { "; the unfinished output was removed" } else { "" };
                let _ = writeln!(std::io::stderr(), "\ninitc: stopped by {name}{what}");
                std::process::exit(128 + signal);
            }
        });
    }
}

/// The signals this process ignores, bit `n - 1` for signal `n` (Linux's `SigIgn` mask).
#[cfg(target_os = "linux")]
fn ignored_signals() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("SigIgn:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .unwrap_or(0)
}

/// Elsewhere the disposition is not known without raw `sigaction`: SIGHUP is left alone, as
/// `nohup` may have asked.
#[cfg(all(unix, not(target_os = "linux")))]
fn ignored_signals() -> u64 {
    1 << (signal_hook::consts::SIGHUP - 1)
}
