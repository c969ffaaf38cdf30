//! Where a file's bytes go: any writer, or one that lends its own buffer so the tensors' data is
//! generated in the place it will be written from, instead of being copied there.

use std::io::{self, Write};

/// A writer the safetensors writer can write through. Most only copy (`spare` is `None`); the
/// command line's page-cache-bypassing writer lends its aligned buffer, which saves copying
/// every byte of a large checkpoint once more.
pub trait Sink: Write + Send {
    /// The unfilled rest of the buffer the sink writes out next, never empty, to be filled in
    /// place; `None` for a sink that takes bytes only through `write`.
    fn spare(&mut self) -> Option<&mut [u8]> {
        None
    }

    /// Takes the first `count` bytes of what [`Sink::spare`] lent as written.
    fn commit(&mut self, count: usize) -> io::Result<()> {
        match count {
            0 => Ok(()),
            _ => Err(io::Error::other("this writer lends no buffer to commit")),
        }
    }
}

impl Sink for Vec<u8> {}

impl Sink for io::Sink {}

impl<W: Write + Send> Sink for io::BufWriter<W> {}

impl<S: Sink + ?Sized> Sink for &mut S {
    fn spare(&mut self) -> Option<&mut [u8]> {
        (**self).spare()
    }

    fn commit(&mut self, count: usize) -> io::Result<()> {
        (**self).commit(count)
    }
}
