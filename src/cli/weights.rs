//! Reading safetensors files for `inspect`, `diff`, `verify` and `from_file`: a file, a sharded
//! checkpoint directory or its index is opened and every header parsed; tensor data is then
//! taken a window (a round of blocks, a few MiB) at a time: mapped by the `initc` binary on
//! Linux, so that the threads compute on the page cache's pages with no copy, else read with
//! positioned reads (`pread`). Resident memory stays at a window or two whatever the file's
//! size. A file that shrinks while it is read is reported as "changed while it was read": by
//! the length check before each window, by a short read, or by the SIGBUS handler of a mapped
//! window (`window.rs`). Only regular files are opened (a FIFO would block forever), and an
//! index may name only files that stay inside its directory once links are followed.

use super::io_reason;
use super::window::{self, Window};
use crate::inspect::{self, BlockBytes, TensorEntry};
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The index file Hugging Face writes beside the shards of a sharded checkpoint.
const SHARD_INDEX_NAME: &str = "model.safetensors.index.json";
/// The single file a checkpoint directory holds when it is not sharded.
const SINGLE_FILE_NAME: &str = "model.safetensors";
/// Bytes read at a time by `from_file`.
pub(super) const CHUNK_BYTES: usize = 2 << 20;

/// Why a file could not be read, with the help line that fits.
#[derive(Debug)]
pub(super) struct ReadError {
    pub message: String,
    pub help: &'static str,
}

const HELP_WEIGHTS: &str = "give a safetensors file, a checkpoint directory, or its model.safetensors.index.json";
const HELP_CHANGED: &str =
    "something truncated or rewrote the file while initc read it; run again once nothing writes to it";
const HELP_REGULAR: &str = "give a regular file: FIFOs, devices and directories are not read as safetensors files";
const HELP_OUTSIDE: &str =
    "an index may only name files inside its own directory; copy the shard in (e.g. `cp -L`) if you trust it";

impl ReadError {
    fn new(message: String, help: &'static str) -> ReadError {
        ReadError { message, help }
    }

    fn weights(message: String) -> ReadError {
        ReadError::new(message, HELP_WEIGHTS)
    }

    /// The diagnostic as stderr shows it.
    pub(super) fn rendered(&self) -> String {
        super::render_human(&self.diagnostic(), None)
    }

    /// An I/O error with its help line.
    pub(super) fn diagnostic(&self) -> crate::diagnostic::Diagnostic {
        crate::diagnostic::Diagnostic::error(crate::diagnostic::Code::Io, self.message.clone()).with_help(self.help)
    }
}

/// An open file and its length when it was opened.
pub(super) struct OpenFile {
    pub shown: String,
    file: File,
    length: u64,
}

impl OpenFile {
    /// Opens `path` for reading if it is a regular file (following links), never blocking on a
    /// FIFO; `shown` names it in messages.
    pub(super) fn open(path: &Path, shown: &str) -> Result<OpenFile, ReadError> {
        if path.as_os_str().is_empty() {
            return Err(ReadError::new("the path is empty".to_string(), HELP_WEIGHTS));
        }
        let cannot =
            |error: std::io::Error| ReadError::weights(format!("cannot read `{shown}`: {}", io_reason(&error)));
        let metadata = std::fs::metadata(path).map_err(cannot)?;
        check_regular(&metadata, shown)?;
        let mut options = std::fs::OpenOptions::new();
        options.read(true);
        // Should the path become a FIFO between the check and the open, do not wait for a writer.
        #[cfg(target_os = "linux")]
        std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, rustix::fs::OFlags::NONBLOCK.bits() as i32);
        let file = options.open(path).map_err(cannot)?;
        let metadata = file.metadata().map_err(cannot)?;
        check_regular(&metadata, shown)?;
        #[cfg(target_os = "linux")]
        let _ = rustix::fs::fadvise(&file, 0, None, rustix::fs::Advice::Sequential);
        Ok(OpenFile { shown: shown.to_string(), file, length: metadata.len() })
    }

    /// Fills `buffer` from `offset`; a file now shorter than that is a file that changed.
    pub(super) fn read_at(&self, buffer: &mut [u8], offset: u64) -> Result<(), ReadError> {
        read_exact_at(&self.file, buffer, offset).map_err(|error| {
            if error.kind() == std::io::ErrorKind::UnexpectedEof {
                self.changed(offset + buffer.len() as u64)
            } else {
                ReadError::weights(format!("cannot read `{}`: {}", self.shown, io_reason(&error)))
            }
        })
    }

    /// Bytes `[offset, offset + length)` mapped, where this process maps files (else `None`).
    pub(super) fn window(&self, offset: u64, length: usize) -> Result<Option<Window>, ReadError> {
        let end = offset + length as u64;
        // Checked before every window: a file truncated in between is reported, not mapped.
        if self.file.metadata().map_or(self.length, |metadata| metadata.len()) < end {
            return Err(self.changed(end));
        }
        Ok(window::map(&self.file, offset, length, || self.changed(end).rendered()))
    }

    /// "Changed while it was read": the file ended before byte `needed`.
    fn changed(&self, needed: u64) -> ReadError {
        ReadError::new(
            format!(
                "`{}` changed while it was read: it ended before byte {needed} of the {} it had when opened",
                self.shown, self.length
            ),
            HELP_CHANGED,
        )
    }

    /// Reads and validates the header: the tensors (where their bytes lie) and the metadata.
    pub(super) fn header(&self) -> Result<inspect::FileHeader, ReadError> {
        let invalid = |message: String| ReadError::weights(format!("`{}` is {message}", self.shown));
        let mut prefix = [0u8; 8];
        if self.length < inspect::LENGTH_PREFIX_BYTES {
            return Err(invalid("not a safetensors file: shorter than its 8-byte header length".to_string()));
        }
        self.read_at(&mut prefix, 0)?;
        let length = inspect::header_length(prefix, self.length).map_err(invalid)?;
        let mut header = vec![0u8; length];
        self.read_at(&mut header, inspect::LENGTH_PREFIX_BYTES)?;
        inspect::parse_header(&header, self.length).map_err(invalid)
    }
}

fn check_regular(metadata: &std::fs::Metadata, shown: &str) -> Result<(), ReadError> {
    if metadata.is_file() {
        return Ok(());
    }
    let kind = if metadata.is_dir() { "a directory" } else { special_kind(metadata) };
    Err(ReadError::new(format!("`{shown}` is {kind}, not a regular file"), HELP_REGULAR))
}

#[cfg(unix)]
fn special_kind(metadata: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let kind = metadata.file_type();
    if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

#[cfg(not(unix))]
fn special_kind(_: &std::fs::Metadata) -> &'static str {
    "a special file"
}

#[cfg(unix)]
fn read_exact_at(file: &File, buffer: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buffer, offset)
}

#[cfg(not(unix))]
fn read_exact_at(mut file: &File, buffer: &mut [u8], offset: u64) -> std::io::Result<()> {
    use std::io::{Read, Seek};
    file.seek(std::io::SeekFrom::Start(offset))?;
    file.read_exact(buffer)
}

/// One tensor of a [`WeightFiles`]: its header entry and the file holding it.
pub(super) struct FileTensor {
    pub entry: TensorEntry,
    pub file: usize,
}

/// A safetensors file or a sharded checkpoint, headers parsed, files open.
pub(super) struct WeightFiles {
    files: Vec<OpenFile>,
    /// Shard by shard (shards in name order), each shard's tensors in data order.
    pub tensors: Vec<FileTensor>,
    /// Merged over the shards (the first shard's value wins).
    pub metadata: HashMap<String, String>,
}

impl WeightFiles {
    /// Opens a safetensors file, a directory holding `model.safetensors.index.json` (or a
    /// single `model.safetensors`), or an index file, and reads every header.
    pub(super) fn open(path: &Path) -> Result<WeightFiles, ReadError> {
        let index = if path.is_dir() {
            let index = path.join(SHARD_INDEX_NAME);
            if index.is_file() {
                index
            } else if path.join(SINGLE_FILE_NAME).is_file() {
                return WeightFiles::open(&path.join(SINGLE_FILE_NAME));
            } else {
                return Err(ReadError::weights(format!(
                    "`{}` is a directory without `{SHARD_INDEX_NAME}` or `{SINGLE_FILE_NAME}`",
                    path.display()
                )));
            }
        } else if path.file_name().and_then(|name| name.to_str()).is_some_and(|name| name.ends_with(".index.json")) {
            path.to_path_buf()
        } else {
            let file = OpenFile::open(path, &path.display().to_string())?;
            return WeightFiles::from_files(vec![file], None);
        };
        let text = std::fs::read_to_string(&index)
            .map_err(|error| ReadError::weights(format!("cannot read `{}`: {}", index.display(), io_reason(&error))))?;
        let parsed = inspect::parse_shard_index(&text)
            .map_err(|error| ReadError::weights(format!("`{}`: {error}", index.display())))?;
        let directory = index.parent().unwrap_or(Path::new(""));
        let files = parsed
            .shards
            .iter()
            .map(|shard| {
                let path = inside(directory, shard)?;
                OpenFile::open(&path, shard)
            })
            .collect::<Result<_, _>>()?;
        WeightFiles::from_files(files, Some(parsed.weight_map))
    }

    /// Reads every header; checks that each tensor the index lists is in its shard and that no
    /// name appears in two shards.
    fn from_files(
        files: Vec<OpenFile>,
        weight_map: Option<BTreeMap<String, String>>,
    ) -> Result<WeightFiles, ReadError> {
        let mut tensors = Vec::new();
        let mut metadata = HashMap::new();
        let mut shard_of: HashMap<String, usize> = HashMap::new();
        for (index, file) in files.iter().enumerate() {
            let header = file.header()?;
            for entry in header.tensors {
                if let Some(&first) = shard_of.get(&entry.name) {
                    return Err(ReadError::weights(format!(
                        "tensor `{}` appears in more than one shard (`{}` and `{}`)",
                        inspect::printable(&entry.name),
                        files[first].shown,
                        file.shown
                    )));
                }
                shard_of.insert(entry.name.clone(), index);
                tensors.push(FileTensor { entry, file: index });
            }
            for (key, value) in header.metadata {
                metadata.entry(key).or_insert(value);
            }
        }
        if let Some(weight_map) = &weight_map {
            for (name, shard) in weight_map {
                if shard_of.get(name).map(|&index| files[index].shown.as_str()) != Some(shard.as_str()) {
                    return Err(ReadError::weights(format!(
                        "the index puts tensor `{}` in `{shard}`, which does not hold it",
                        inspect::printable(name)
                    )));
                }
            }
        }
        Ok(WeightFiles { files, tensors, metadata })
    }

    /// Bytes `[from, to)` of tensor `index` (`to` clipped to the tensor's end) mapped, where this
    /// process maps files; else `None`, and [`WeightFiles::read_range`] reads them.
    pub(super) fn window(&self, index: usize, from: u64, to: u64) -> Result<Option<Window>, ReadError> {
        let tensor = &self.tensors[index];
        let to = to.min(tensor.entry.length);
        self.files[tensor.file].window(tensor.entry.start + from, to.saturating_sub(from) as usize)
    }

    /// Bytes `[from, to)` of tensor `index` into `buffer` (resized to fit).
    pub(super) fn read_range(&self, index: usize, from: u64, to: u64, buffer: &mut Vec<u8>) -> Result<(), ReadError> {
        let tensor = &self.tensors[index];
        let to = to.min(tensor.entry.length);
        buffer.resize(to.saturating_sub(from) as usize, 0);
        self.files[tensor.file].read_at(buffer, tensor.entry.start + from)
    }

    /// Bytes `[from, to)` of tensor `index`: a slice of `window` (the mapping of the tensor's
    /// bytes from `window_from`) when there is one, else read into `buffer`.
    pub(super) fn block<'w>(
        &self,
        index: usize,
        window: Option<(&'w Window, u64)>,
        from: u64,
        to: u64,
        buffer: &mut Vec<u8>,
    ) -> Result<BlockBytes<'w>, ReadError> {
        match window {
            Some((window, window_from)) => {
                let to = to.min(self.tensors[index].entry.length);
                let (from, to) = ((from - window_from) as usize, (to - window_from) as usize);
                Ok(BlockBytes::Borrowed(&window[from..to]))
            }
            None => self.read_range(index, from, to, buffer).map(|()| BlockBytes::Buffered),
        }
    }
}

/// `directory/name`, refused when links lead it outside `directory`.
fn inside(directory: &Path, name: &str) -> Result<PathBuf, ReadError> {
    let path = directory.join(name);
    let (Ok(real_directory), Ok(real)) = (std::fs::canonicalize(directory), std::fs::canonicalize(&path)) else {
        // A missing file: opening it says so.
        return Ok(path);
    };
    if real.starts_with(&real_directory) {
        Ok(path)
    } else {
        Err(ReadError::new(
            format!("shard `{name}` is a link to `{}`, outside the index's directory", real.display()),
            HELP_OUTSIDE,
        ))
    }
}

/// Runs `run` over blocks `0..count` in rounds of `per_round` (the unit of progress). The blocks
/// of a round are read in parallel; the kernel's read-ahead (told at open that reads are
/// sequential) keeps the disk ahead of them. (`POSIX_FADV_WILLNEED` was tried: it fills the page
/// cache with single pages instead of large folios, and costs more system time than it saves.)
pub(super) fn in_rounds<E>(
    count: usize,
    per_round: usize,
    mut run: impl FnMut(std::ops::Range<usize>) -> Result<(), E>,
) -> Result<(), E> {
    let per_round = per_round.max(1);
    let mut start = 0;
    while start < count {
        let end = (start + per_round).min(count);
        run(start..end)?;
        start = end;
    }
    Ok(())
}

/// A progress bar on stderr (bytes read, rate, ETA) that appears only once a command has run
/// for `SHOW_AFTER`, only when stderr is a terminal, and never with `--quiet`.
pub(super) struct Progress {
    bar: Option<indicatif::ProgressBar>,
    started: Instant,
    shown: bool,
}

const SHOW_AFTER: Duration = Duration::from_secs(1);

impl Progress {
    pub(super) fn new(total: u64, quiet: bool) -> Progress {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = indicatif::ProgressBar::with_draw_target(Some(total), indicatif::ProgressDrawTarget::hidden());
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{bar:40} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} ETA {eta}",
            ) {
                bar.set_style(style);
            }
            bar
        });
        Progress { bar, started: Instant::now(), shown: false }
    }

    pub(super) fn advance(&mut self, bytes: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(bytes);
            if !self.shown && self.started.elapsed() >= SHOW_AFTER {
                bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                self.shown = true;
            }
        }
    }

    pub(super) fn finish(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_weights(path: &Path, tensors: &[(&str, Vec<f32>)]) {
        let data: Vec<Vec<u8>> =
            tensors.iter().map(|(_, values)| values.iter().flat_map(|v| v.to_le_bytes()).collect()).collect();
        let views: Vec<(&str, safetensors::tensor::TensorView<'_>)> = tensors
            .iter()
            .zip(&data)
            .map(|((name, values), bytes)| {
                let view = safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![values.len()], bytes);
                (*name, view.expect("consistent"))
            })
            .collect();
        std::fs::write(path, safetensors::serialize(views, None).expect("serializes")).expect("write");
    }

    #[test]
    fn a_file_that_shrinks_after_its_header_was_read_is_reported_not_a_crash() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("w.safetensors");
        write_weights(&path, &[("a", vec![1.0; 1000]), ("b", vec![2.0; 1000])]);
        let weights = WeightFiles::open(&path).expect("valid file");
        let mut buffer = Vec::new();
        weights.read_range(1, 0, 4000, &mut buffer).expect("whole before the truncation");
        // Another process truncates the file between the header and the data.
        let full = std::fs::metadata(&path).expect("exists").len();
        std::fs::OpenOptions::new().write(true).open(&path).and_then(|f| f.set_len(full - 100)).expect("truncate");
        weights.read_range(0, 0, 4000, &mut buffer).expect("the first tensor is still whole");
        let error = weights.read_range(1, 0, 4000, &mut buffer).expect_err("a short read");
        assert!(error.message.contains("changed while it was read"), "{error:?}");
        assert!(error.message.contains(&path.display().to_string()), "{error:?}");
        assert_eq!(error.help, HELP_CHANGED);
    }

    #[test]
    fn rounds_cover_every_block_once_in_order() {
        let mut seen = Vec::new();
        let result: Result<(), ()> = in_rounds(10, 4, |round| {
            seen.push(round);
            Ok(())
        });
        assert_eq!(result, Ok(()));
        assert_eq!(seen, vec![0..4, 4..8, 8..10]);
        let stopped: Result<(), usize> = in_rounds(10, 4, |round| if round.start == 4 { Err(4) } else { Ok(()) });
        assert_eq!(stopped, Err(4));
    }

    #[cfg(unix)]
    #[test]
    fn only_regular_files_open() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let fifo = dir.path().join("pipe");
        let status = std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo runs");
        assert!(status.success());
        let error = OpenFile::open(&fifo, "pipe").err().expect("refused");
        assert_eq!(error.message, "`pipe` is a FIFO, not a regular file");
        let error = OpenFile::open(dir.path(), "dir").err().expect("refused");
        assert_eq!(error.message, "`dir` is a directory, not a regular file");
        let error = OpenFile::open(Path::new(""), "").err().expect("refused");
        assert_eq!(error.message, "the path is empty");
    }
}
