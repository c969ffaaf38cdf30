//! Writing a set of output files all or nothing: the weights file, or the shards and their index.
//!
//! Each file is first written to a temporary file beside its target, named
//! `.initc-<pid>-<random>.tmp` and locked (`flock`) for as long as this run lives. Only when
//! every file of the set is written are they renamed into place, under the signal lock
//! (`signals::pending`), keeping a hard link to each old file until the whole set is in place:
//! if one rename fails, the files already renamed get their old contents back, or are removed
//! where there was none. A run that is killed (SIGKILL, a power cut) leaves its temporary files
//! behind; the next run writing into that directory removes every one whose lock it can take,
//! since the kernel releases a dead process's locks.

use super::signals;
use std::fs::{File, Metadata};
use std::io;
use std::path::{Path, PathBuf};
use tempfile::{NamedTempFile, TempPath};

/// A set of files being written into one directory.
pub struct OutputSet {
    directory: PathBuf,
    staged: Vec<(NamedTempFile, PathBuf)>,
    /// Directories this run created for the set, outermost first.
    created: Vec<PathBuf>,
}

impl OutputSet {
    /// A set written into `directory`, which exists. Stale temporary files of killed runs there
    /// are removed first.
    pub fn in_directory(directory: &Path) -> OutputSet {
        remove_stale(directory);
        OutputSet { directory: directory.to_path_buf(), staged: Vec::new(), created: Vec::new() }
    }

    /// A set written into `directory`, created (with any missing parent) when missing. What this
    /// run created is removed again unless the set is committed.
    pub fn creating_directory(directory: &Path) -> io::Result<OutputSet> {
        let mut set = OutputSet { directory: directory.to_path_buf(), staged: Vec::new(), created: Vec::new() };
        let mut missing: Vec<&Path> = directory.ancestors().take_while(|path| !path.as_os_str().is_empty()).collect();
        missing.retain(|path| std::fs::symlink_metadata(path).is_err());
        for path in missing.into_iter().rev() {
            let mut pending = signals::pending();
            match std::fs::create_dir(path) {
                Ok(()) => {
                    pending.add_directory(path);
                    set.created.push(path.to_path_buf());
                }
                // Another job of a `--shard` array made it first: it is not ours to remove.
                Err(error) if error.kind() == io::ErrorKind::AlreadyExists && path.is_dir() => {}
                Err(error) => return Err(error),
            }
        }
        if set.created.is_empty() {
            remove_stale(directory);
        }
        Ok(set)
    }

    /// A new, empty, locked temporary file that will become `target` (in this set's directory).
    pub fn create(&mut self, target: PathBuf) -> io::Result<&File> {
        let temporary = new_temporary(&self.directory)?;
        self.staged.push((temporary, target));
        match self.staged.last() {
            Some((temporary, _)) => Ok(temporary.as_file()),
            None => Err(io::Error::other("the staged file vanished")),
        }
    }

    /// Renames every file into place. On failure nothing has changed: the targets hold what they
    /// held before and the temporary files are gone. The error names the target that failed.
    pub fn commit(mut self) -> Result<(), (PathBuf, io::Error)> {
        let staged = std::mem::take(&mut self.staged);
        // One file needs no backup: a rename replaces it atomically.
        let keep_backups = staged.len() > 1;
        let mut pending = signals::pending();
        let mut placed: Vec<(PathBuf, Option<TempPath>)> = Vec::new();
        let mut remaining = staged.into_iter();
        let mut failure = None;
        for (temporary, target) in remaining.by_ref() {
            let temporary_path = temporary.path().to_path_buf();
            let result = place(temporary, &target, keep_backups);
            // Renamed, or removed with the error: either way no longer there to remove.
            pending.forget_file(&temporary_path);
            match result {
                Ok(backup) => placed.push((target, backup)),
                Err(error) => {
                    failure = Some((target, error));
                    break;
                }
            }
        }
        let Some(failure) = failure else {
            // Dropping the backups removes the old files' last names.
            drop(placed);
            for directory in &self.created {
                pending.forget_directory(directory);
            }
            self.created.clear();
            return Ok(());
        };
        for (target, backup) in placed.into_iter().rev() {
            match backup {
                Some(backup) => {
                    // Should even this fail, the old contents stay under the backup's name.
                    if let Err(error) = backup.persist(&target) {
                        let _ = error.path.keep();
                    }
                }
                None => {
                    let _ = std::fs::remove_file(&target);
                }
            }
        }
        for (temporary, _) in remaining {
            pending.forget_file(temporary.path());
        }
        Err(failure)
    }
}

impl Drop for OutputSet {
    /// A set not committed: its temporary files and the directories it created go.
    fn drop(&mut self) {
        let mut pending = signals::pending();
        for (temporary, _) in self.staged.drain(..) {
            pending.forget_file(temporary.path());
        }
        for directory in self.created.drain(..).rev() {
            pending.forget_directory(&directory);
            let _ = std::fs::remove_dir(directory);
        }
    }
}

/// The temporary file's name starts with this and the process id.
const PREFIX: &str = ".initc-";
const SUFFIX: &str = ".tmp";

fn new_temporary(directory: &Path) -> io::Result<NamedTempFile> {
    let prefix = format!("{PREFIX}{}-", std::process::id());
    let mut builder = tempfile::Builder::new();
    builder.prefix(&prefix).suffix(SUFFIX);
    // A temporary file is private (0600); the finished weights are read by others (a cluster's
    // other jobs), so they get the usual 0644. `place` gives a replaced file's mode back.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
    // Another run's `remove_stale` may lock and remove the file between its creation and our
    // lock: then try another name.
    for _ in 0..8 {
        let temporary = {
            let mut pending = signals::pending();
            let temporary = builder.tempfile_in(directory)?;
            pending.add_file(temporary.path());
            temporary
        };
        match temporary.as_file().try_lock() {
            Ok(()) if is_at(temporary.as_file(), temporary.path()) => return Ok(temporary),
            // A filesystem without locks: no run can take the lock either, so none removes it.
            Err(std::fs::TryLockError::Error(_)) => return Ok(temporary),
            _ => signals::pending().forget_file(temporary.path()),
        }
    }
    Err(io::Error::other("another process keeps removing the temporary files"))
}

/// Renames `temporary` over `target`, giving it the mode of the file it replaces. With
/// `keep_backup`, the replaced file keeps a second name until the whole set is in place.
fn place(temporary: NamedTempFile, target: &Path, keep_backup: bool) -> io::Result<Option<TempPath>> {
    #[cfg(unix)]
    if let Ok(old) = std::fs::metadata(target)
        && old.is_file()
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = old.permissions().mode() & 0o777;
        temporary.as_file().set_permissions(std::fs::Permissions::from_mode(mode))?;
    }
    let backup = match std::fs::symlink_metadata(target) {
        Ok(old) if keep_backup => Some(backup(target, &old)?),
        _ => None,
    };
    match temporary.persist(target) {
        Ok(_) => Ok(backup),
        Err(error) => {
            if let Some(backup) = backup {
                let _ = backup.persist(target);
            }
            Err(error.error)
        }
    }
}

/// A second name for `target`'s file, beside it: a hard link, so the target stays in place, or
/// where the filesystem has none, the file itself moved aside.
fn backup(target: &Path, old: &Metadata) -> io::Result<TempPath> {
    let directory = match target.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    if old.is_dir() {
        return Err(io::ErrorKind::IsADirectory.into());
    }
    let prefix = format!("{PREFIX}{}-", std::process::id());
    let named = tempfile::Builder::new().prefix(&prefix).suffix(".old").make_in(directory, |path| {
        std::fs::hard_link(target, path).or_else(|error| {
            if error.kind() == io::ErrorKind::AlreadyExists {
                return Err(error);
            }
            if std::fs::symlink_metadata(path).is_ok() {
                return Err(io::ErrorKind::AlreadyExists.into());
            }
            std::fs::rename(target, path)
        })
    })?;
    Ok(named.into_temp_path())
}

/// Whether `file` is still the file at `path` (a stale-file sweep may have removed the name).
#[cfg(unix)]
fn is_at(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::symlink_metadata(path)) {
        (Ok(open), Ok(named)) => open.dev() == named.dev() && open.ino() == named.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn is_at(_: &File, path: &Path) -> bool {
    path.exists()
}

/// Whether two paths name one file: the same device and inode (so also through a hard or
/// symbolic link), or elsewhere the same canonical path.
pub fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (std::fs::metadata(a), std::fs::metadata(b)) {
            (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Whether `name` is one of our temporary files: `.initc-<pid>-<random>.tmp`.
fn is_temporary_name(name: &str) -> bool {
    let Some(rest) = name.strip_prefix(PREFIX).and_then(|rest| rest.strip_suffix(SUFFIX)) else { return false };
    match rest.split_once('-') {
        Some((pid, random)) => {
            !pid.is_empty()
                && pid.bytes().all(|byte| byte.is_ascii_digit())
                && !random.is_empty()
                && random.bytes().all(|byte| byte.is_ascii_alphanumeric())
        }
        None => false,
    }
}

/// Removes the temporary files that runs killed before they could clean up left in
/// `directory`: those whose lock can be taken, as no live process holds it.
pub fn remove_stale(directory: &Path) {
    let Ok(entries) = std::fs::read_dir(directory) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if !name.to_str().is_some_and(is_temporary_name) || !entry.file_type().is_ok_and(|kind| kind.is_file()) {
            continue;
        }
        let path = entry.path();
        let Ok(file) = super::open_without_blocking(&path) else { continue };
        if file.try_lock().is_ok() && is_at(&file, &path) {
            let _ = std::fs::remove_file(&path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_names_are_recognised() {
        for (name, expected) in [
            (".initc-123-AbC9x1.tmp", true),
            (".initc-1-a.tmp", true),
            (".initc-AbC9x1.tmp", false),
            (".initc--abc.tmp", false),
            (".initc-12-.tmp", false),
            (".initc-12-abc.old", false),
            (".initc-12-a/b.tmp", false),
            ("initc-12-abc.tmp", false),
            ("model.safetensors", false),
        ] {
            assert_eq!(is_temporary_name(name), expected, "{name}");
        }
    }

    fn write(set: &mut OutputSet, target: PathBuf, bytes: &[u8]) {
        use std::io::Write;
        let mut file = set.create(target).expect("temporary");
        file.write_all(bytes).expect("write");
    }

    #[test]
    fn a_failed_rename_restores_every_file_already_renamed() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let (first, second, third) = (dir.path().join("a"), dir.path().join("b"), dir.path().join("c"));
        std::fs::write(&first, "old a").expect("write");
        // A directory where the second file goes: its rename fails after the first one's.
        std::fs::create_dir(&second).expect("directory");
        let mut set = OutputSet::in_directory(dir.path());
        write(&mut set, first.clone(), b"new a");
        write(&mut set, second.clone(), b"new b");
        write(&mut set, third.clone(), b"new c");
        let (failed, _) = set.commit().expect_err("the second rename fails");
        assert_eq!(failed, second);
        assert_eq!(std::fs::read_to_string(&first).expect("a"), "old a");
        assert!(second.is_dir() && !third.exists());
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .expect("list")
            .map(|entry| entry.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(names, ["a", "b"], "no temporary file nor backup is left");
    }

    #[test]
    fn a_new_file_renamed_before_a_failure_is_removed_again() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let (first, second) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::create_dir(&second).expect("directory");
        let mut set = OutputSet::creating_directory(dir.path()).expect("set");
        write(&mut set, first.clone(), b"new a");
        write(&mut set, second.clone(), b"new b");
        assert!(set.commit().is_err());
        assert!(!first.exists());
    }

    #[test]
    fn a_committed_set_replaces_every_file_and_leaves_no_backup() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let out = dir.path().join("new/deeper");
        let mut set = OutputSet::creating_directory(&out).expect("set");
        write(&mut set, out.join("a"), b"a");
        write(&mut set, out.join("b"), b"b");
        set.commit().expect("commit");
        std::fs::write(out.join("a"), "old").expect("write");
        let mut set = OutputSet::in_directory(&out);
        write(&mut set, out.join("a"), b"a2");
        write(&mut set, out.join("b"), b"b2");
        set.commit().expect("commit");
        assert_eq!(std::fs::read_to_string(out.join("a")).expect("a"), "a2");
        assert_eq!(std::fs::read_dir(&out).expect("list").count(), 2);
    }

    #[test]
    fn an_uncommitted_set_removes_the_directories_it_created() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let out = dir.path().join("new/deeper");
        let mut set = OutputSet::creating_directory(&out).expect("set");
        write(&mut set, out.join("a"), b"a");
        drop(set);
        assert_eq!(std::fs::read_dir(dir.path()).expect("list").count(), 0);
    }

    #[test]
    fn stale_temporary_files_go_and_live_ones_stay() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let stale = dir.path().join(".initc-4-dead01.tmp");
        std::fs::write(&stale, "left by a killed run").expect("write");
        let live = dir.path().join(".initc-5-live01.tmp");
        let held = File::create(&live).expect("create");
        held.lock().expect("lock");
        let other = dir.path().join(".initc-old01.tmp");
        std::fs::write(&other, "an older initc's: no lock to tell").expect("write");
        remove_stale(dir.path());
        assert!(!stale.exists());
        assert!(live.exists() && other.exists());
        // And a temporary file of ours in progress is locked too.
        let mut set = OutputSet::in_directory(dir.path());
        let name = {
            set.create(dir.path().join("x")).expect("temporary");
            set.staged[0].0.path().to_path_buf()
        };
        remove_stale(dir.path());
        assert!(name.exists());
    }
}
