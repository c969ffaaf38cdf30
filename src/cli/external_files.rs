//! The safetensors files `from_file` initializers name: each read once, with paths relative to
//! the config file's directory, and each tensor handed to `plan::attach_external` with its dtype,
//! shape and `F32` values.

use super::io_reason;
use crate::plan::ExternalTensor;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Safetensors files named by `from_file`, memory-mapped once each, paths relative to the
/// config file's directory.
pub(crate) struct ExternalFiles<'a> {
    directory: &'a Path,
    opened: HashMap<PathBuf, Result<memmap2::Mmap, String>>,
}

impl<'a> ExternalFiles<'a> {
    pub(crate) fn new(directory: &'a Path) -> Self {
        ExternalFiles { directory, opened: HashMap::new() }
    }

    pub(crate) fn reader(&mut self) -> impl FnMut(&str, &str) -> Result<ExternalTensor, String> + '_ {
        move |path, tensor| self.read(path, tensor)
    }

    fn read(&mut self, path: &str, tensor: &str) -> Result<ExternalTensor, String> {
        let full = self.directory.join(path);
        let map = self.opened.entry(full.clone()).or_insert_with(|| {
            let file =
                std::fs::File::open(&full).map_err(|error| format!("cannot read `{path}`: {}", io_reason(&error)))?;
            // SAFETY: the map is read-only and lives only while this command runs; a file changed
            // underneath it by another process could give wrong values, never unsafety here.
            unsafe { memmap2::Mmap::map(&file) }.map_err(|error| format!("cannot read `{path}`: {}", io_reason(&error)))
        });
        let map = map.as_ref().map_err(Clone::clone)?;
        let tensors = safetensors::SafeTensors::deserialize(map)
            .map_err(|error| format!("`{path}` is not a safetensors file: {error}"))?;
        let view = tensors.tensor(tensor).map_err(|_| {
            let mut names = tensors.names();
            names.sort();
            let similar = crate::diagnostic::did_you_mean(tensor, names.iter().copied());
            match similar {
                Some(similar) => format!("`{path}` has no tensor `{tensor}` (did you mean `{similar}`?)"),
                None => format!("`{path}` has no tensor `{tensor}`"),
            }
        })?;
        let dtype = format!("{:?}", view.dtype());
        let values = (view.dtype() == safetensors::Dtype::F32).then(|| {
            view.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect::<Arc<[f32]>>()
        });
        Ok(ExternalTensor { dtype, shape: view.shape().to_vec(), values })
    }
}
