//! The safetensors files `from_file` initializers name: each opened and its header read once,
//! with paths relative to the config file's directory, and each tensor handed to
//! `plan::attach_external` with its dtype, shape and `F32` values, read with positioned reads
//! (see [`super::weights`]): only regular files, and a file that shrinks meanwhile is an error,
//! never a crash.

use super::weights::{CHUNK_BYTES, OpenFile};
use crate::inspect::FileHeader;
use crate::plan::ExternalTensor;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Safetensors files named by `from_file`, opened once each, paths relative to the config
/// file's directory.
pub(crate) struct ExternalFiles<'a> {
    directory: &'a Path,
    opened: HashMap<PathBuf, Result<(OpenFile, FileHeader), String>>,
    /// A file could not be read through although its header was fine (it changed meanwhile):
    /// an I/O failure, not a mistake in the config.
    read_failed: bool,
}

impl<'a> ExternalFiles<'a> {
    pub(crate) fn new(directory: &'a Path) -> Self {
        ExternalFiles { directory, opened: HashMap::new(), read_failed: false }
    }

    pub(crate) fn reader(&mut self) -> impl FnMut(&str, &str) -> Result<ExternalTensor, String> + '_ {
        move |path, tensor| self.read(path, tensor)
    }

    /// True when a file failed while its data was read (exit 2 rather than 1).
    pub(crate) fn read_failed(&self) -> bool {
        self.read_failed
    }

    fn read(&mut self, path: &str, tensor: &str) -> Result<ExternalTensor, String> {
        if path.is_empty() {
            return Err("`path` is empty: name a safetensors file".to_string());
        }
        let full = self.directory.join(path);
        let opened = self.opened.entry(full.clone()).or_insert_with(|| {
            let file = OpenFile::open(&full, path).map_err(|error| error.message)?;
            let header = file.header().map_err(|error| error.message)?;
            Ok((file, header))
        });
        let (file, header) = opened.as_ref().map_err(Clone::clone)?;
        let Some(entry) = header.tensors.iter().find(|entry| entry.name == tensor) else {
            let mut names: Vec<&str> = header.tensors.iter().map(|entry| entry.name.as_str()).collect();
            names.sort();
            let similar = crate::diagnostic::did_you_mean(tensor, names.iter().copied());
            return Err(match similar {
                Some(similar) => format!("`{path}` has no tensor `{tensor}` (did you mean `{similar}`?)"),
                None => format!("`{path}` has no tensor `{tensor}`"),
            });
        };
        let dtype = format!("{:?}", entry.dtype);
        let values = if entry.dtype == safetensors::Dtype::F32 {
            let values = read_f32(file, entry.start, entry.length).inspect_err(|_| self.read_failed = true)?;
            Some(values)
        } else {
            None
        };
        Ok(ExternalTensor { dtype, shape: entry.shape.clone(), values })
    }
}

/// `length` bytes of little-endian `f32` from `start`, a piece at a time (no second copy of
/// the tensor in memory).
fn read_f32(file: &OpenFile, start: u64, length: u64) -> Result<Arc<[f32]>, String> {
    let mut values = Vec::with_capacity((length / 4) as usize);
    let mut buffer = vec![0u8; CHUNK_BYTES.min(length as usize)];
    let mut done = 0u64;
    while done < length {
        let piece = &mut buffer[..(length - done).min(CHUNK_BYTES as u64) as usize];
        file.read_at(piece, start + done).map_err(|error| error.message)?;
        values.extend(piece.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])));
        done += piece.len() as u64;
    }
    Ok(values.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_weights(path: &Path) {
        let a: Vec<u8> = [1.0f32, 2.0].iter().flat_map(|v| v.to_le_bytes()).collect();
        let b: Vec<u8> = [3.0f32; 64].iter().flat_map(|v| v.to_le_bytes()).collect();
        let views = [
            ("a", safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![2], &a).expect("consistent")),
            ("b", safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![64], &b).expect("consistent")),
        ];
        std::fs::write(path, safetensors::serialize(views, None).expect("serializes")).expect("write");
    }

    #[test]
    fn a_source_that_shrinks_between_two_tensors_is_an_io_failure() {
        let dir = tempfile::tempdir().expect("temporary directory");
        write_weights(&dir.path().join("src.safetensors"));
        let mut files = ExternalFiles::new(dir.path());
        let first = files.reader()("src.safetensors", "a").expect("readable");
        assert_eq!(first.values.as_deref(), Some(&[1.0f32, 2.0][..]));
        // Another process truncates the file after its header was read.
        let path = dir.path().join("src.safetensors");
        let length = std::fs::metadata(&path).expect("exists").len();
        std::fs::OpenOptions::new().write(true).open(&path).and_then(|f| f.set_len(length - 8)).expect("truncate");
        let error = files.reader()("src.safetensors", "b").expect_err("a short read");
        assert!(error.starts_with("`src.safetensors` changed while it was read"), "{error}");
        assert!(files.read_failed());
    }

    #[cfg(unix)]
    #[test]
    fn fifos_directories_and_empty_paths_are_refused() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let status = std::process::Command::new("mkfifo").arg(dir.path().join("pipe")).status().expect("mkfifo");
        assert!(status.success());
        std::fs::create_dir(dir.path().join("sub")).expect("mkdir");
        let mut files = ExternalFiles::new(dir.path());
        let mut read = files.reader();
        assert_eq!(read("pipe", "a").expect_err("refused"), "`pipe` is a FIFO, not a regular file");
        assert_eq!(read("sub", "a").expect_err("refused"), "`sub` is a directory, not a regular file");
        assert_eq!(read("", "a").expect_err("refused"), "`path` is empty: name a safetensors file");
        drop(read);
        assert!(!files.read_failed());
    }
}
