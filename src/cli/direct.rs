//! A file writer that bypasses the page cache (Linux `O_DIRECT`): whole aligned blocks go from
//! our buffers to the disk on a background thread, so the CPU does not copy every byte into the
//! page cache while it is busy generating the next ones.
//!
//! Only full blocks are written directly; the tail (less than a block) is written through the
//! page cache once `O_DIRECT` is switched off again, so no padding or truncation is needed. Only
//! local disk filesystems are written this way: on a network filesystem (NFS, Lustre, …) each
//! direct write would wait for its round trip, where the page cache keeps many in flight. Any
//! other filesystem, or one that refuses `O_DIRECT`, gets the same bytes through ordinary writes.

use std::fs::File;
use std::io::{self, Write};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::{Scope, ScopedJoinHandle};

/// Bytes per direct write: a multiple of every logical block size (512 B or 4 KiB).
const BLOCK: usize = 8 << 20;
/// Buffer address alignment `O_DIRECT` needs (the largest logical block size in use).
const ALIGNMENT: usize = 4096;
/// `statfs` magic numbers of the local disk filesystems written with `O_DIRECT`: ext2/3/4, XFS,
/// Btrfs, F2FS.
const LOCAL_DISK_FILESYSTEMS: [u64; 4] = [0xEF53, 0x5846_5342, 0x9123_683E, 0xF2F5_2010];

/// A `BLOCK`-byte buffer starting on an `ALIGNMENT` boundary, carved out of a larger `Vec` so no
/// unsafe allocation is needed.
struct AlignedBuffer {
    storage: Vec<u8>,
    start: usize,
}

impl AlignedBuffer {
    fn new() -> AlignedBuffer {
        let storage = vec![0u8; BLOCK + ALIGNMENT];
        let start = storage.as_ptr().align_offset(ALIGNMENT);
        AlignedBuffer { storage, start }
    }

    fn bytes(&self) -> &[u8] {
        &self.storage[self.start..self.start + BLOCK]
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.storage[self.start..self.start + BLOCK]
    }
}

pub struct DirectWriter<'scope> {
    file: &'scope File,
    current: AlignedBuffer,
    filled: usize,
    to_disk: Option<SyncSender<AlignedBuffer>>,
    returned: Receiver<io::Result<AlignedBuffer>>,
    /// Buffers handed to the disk thread and not yet returned.
    in_flight: usize,
    disk: Option<ScopedJoinHandle<'scope, ()>>,
}

impl<'scope> DirectWriter<'scope> {
    /// Switches `file` (empty, opened for writing) to `O_DIRECT` and starts the disk thread in
    /// `scope`; `None` on other filesystems or where the file cannot be switched, and the
    /// caller writes as usual.
    pub fn start<'env>(scope: &'scope Scope<'scope, 'env>, file: &'scope File) -> Option<DirectWriter<'scope>> {
        let filesystem = rustix::fs::fstatfs(file).ok()?.f_type as u64;
        if !LOCAL_DISK_FILESYSTEMS.contains(&filesystem) {
            return None;
        }
        let flags = rustix::fs::fcntl_getfl(file).ok()?;
        rustix::fs::fcntl_setfl(file, flags | rustix::fs::OFlags::DIRECT).ok()?;
        let (to_disk, requests) = sync_channel::<AlignedBuffer>(1);
        let (replies, returned) = sync_channel::<io::Result<AlignedBuffer>>(2);
        let disk = scope.spawn(move || {
            for buffer in requests {
                let result = write_block(file, buffer.bytes()).map(|()| buffer);
                let failed = result.is_err();
                if replies.send(result).is_err() || failed {
                    return;
                }
            }
        });
        Some(DirectWriter {
            file,
            current: AlignedBuffer::new(),
            filled: 0,
            to_disk: Some(to_disk),
            returned,
            in_flight: 0,
            disk: Some(disk),
        })
    }

    /// Hands the full current buffer to the disk thread and continues in a free one: a second
    /// buffer at first, later whichever the disk thread has finished with.
    fn send_current(&mut self) -> io::Result<()> {
        let next = if self.in_flight == 0 { AlignedBuffer::new() } else { self.receive()? };
        let full = std::mem::replace(&mut self.current, next);
        self.filled = 0;
        let sent = self.to_disk.as_ref().map(|channel| channel.send(full).is_ok());
        if sent != Some(true) {
            return Err(disk_stopped());
        }
        self.in_flight += 1;
        Ok(())
    }

    fn receive(&mut self) -> io::Result<AlignedBuffer> {
        match self.returned.recv() {
            Ok(result) => {
                self.in_flight -= 1;
                result
            }
            Err(_) => Err(disk_stopped()),
        }
    }

    /// Waits for every block to reach the disk, then writes the tail through the page cache.
    pub fn finish(mut self) -> io::Result<()> {
        self.to_disk = None;
        while self.in_flight > 0 {
            self.receive()?;
        }
        if let Some(disk) = self.disk.take() {
            disk.join().map_err(|_| disk_stopped())?;
        }
        let flags = rustix::fs::fcntl_getfl(self.file)?;
        rustix::fs::fcntl_setfl(self.file, flags - rustix::fs::OFlags::DIRECT)?;
        (&mut &*self.file).write_all(&self.current.bytes()[..self.filled])
    }
}

/// The disk thread stopped without reporting an error: it can only have panicked.
fn disk_stopped() -> io::Error {
    io::Error::other("the thread writing the file stopped")
}

/// One block to the disk. A filesystem that accepts `O_DIRECT` at open but not for this write
/// answers `EINVAL`: the rest of the file then goes through the page cache.
fn write_block(file: &File, bytes: &[u8]) -> io::Result<()> {
    let mut out = file;
    let mut written = 0;
    while written < bytes.len() {
        match out.write(&bytes[written..]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(count) => written += count,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) if error.raw_os_error() == Some(rustix::io::Errno::INVAL.raw_os_error()) => {
                let flags = rustix::fs::fcntl_getfl(file)?;
                if !flags.contains(rustix::fs::OFlags::DIRECT) {
                    return Err(error);
                }
                rustix::fs::fcntl_setfl(file, flags - rustix::fs::OFlags::DIRECT)?;
            }
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

/// Lends the current buffer, so the data is generated where the disk thread writes it from.
impl crate::emit::Sink for DirectWriter<'_> {
    fn spare(&mut self) -> Option<&mut [u8]> {
        let filled = self.filled;
        Some(&mut self.current.bytes_mut()[filled..])
    }

    fn commit(&mut self, count: usize) -> io::Result<()> {
        self.filled = (self.filled + count).min(BLOCK);
        if self.filled == BLOCK {
            self.send_current()?;
        }
        Ok(())
    }
}

impl Write for DirectWriter<'_> {
    /// Copies into the lent buffer and commits: one path fills and sends blocks.
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        use crate::emit::Sink;
        let filled = self.filled;
        let spare = &mut self.current.bytes_mut()[filled..];
        let count = bytes.len().min(spare.len());
        spare[..count].copy_from_slice(&bytes[..count]);
        self.commit(count)?;
        Ok(count)
    }

    /// Data is complete on the disk only after `finish`.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `write` leaves in a new file through a `DirectWriter`, on the project's own
    /// filesystem (where the integration tests and users write, unlike a RAM-backed /tmp);
    /// `None`, with the reason printed, where that filesystem does not allow `O_DIRECT`.
    fn written_directly(write: impl FnOnce(&mut DirectWriter<'_>)) -> Option<Vec<u8>> {
        let dir = tempfile::tempdir_in(env!("CARGO_MANIFEST_DIR")).expect("temporary directory");
        let path = dir.path().join("out.bin");
        let file = File::create(&path).expect("create");
        let started = std::thread::scope(|scope| {
            let Some(mut out) = DirectWriter::start(scope, &file) else { return false };
            write(&mut out);
            out.finish().expect("finish");
            true
        });
        if !started {
            eprintln!("skipped: not a local disk filesystem allowing O_DIRECT; compile writes as usual here");
            return None;
        }
        drop(file);
        Some(std::fs::read(&path).expect("read"))
    }

    #[test]
    fn odd_sized_writes_arrive_in_order_with_the_tail() {
        // Two and a half blocks in writes of awkward sizes.
        let expected: Vec<u8> = (0..BLOCK * 5 / 2 + 12_345).map(|i| (i * 7 + i / 4099) as u8).collect();
        let written = written_directly(|out| {
            for piece in expected.chunks(1_000_003) {
                out.write_all(piece).expect("write");
            }
        });
        if let Some(written) = written {
            assert!(written == expected);
        }
    }

    #[test]
    fn bytes_filled_in_the_lent_buffer_arrive_in_order_between_written_ones() {
        use crate::emit::Sink;
        let expected: Vec<u8> = (0..BLOCK * 3 + 777).map(|i| (i * 13 + i / 4093) as u8).collect();
        let written = written_directly(|out| {
            let mut done = 0;
            // Alternately copied and filled in place, in pieces that cross the blocks' ends.
            for (turn, piece) in [12_345, BLOCK - 5, 3, BLOCK + 9_999, BLOCK].into_iter().cycle().enumerate() {
                if done == expected.len() {
                    break;
                }
                let piece = piece.min(expected.len() - done);
                if turn % 2 == 0 {
                    out.write_all(&expected[done..done + piece]).expect("write");
                    done += piece;
                    continue;
                }
                let mut left = piece;
                while left > 0 {
                    let spare = out.spare().expect("the direct writer lends its buffer");
                    let count = spare.len().min(left);
                    spare[..count].copy_from_slice(&expected[done..done + count]);
                    out.commit(count).expect("commit");
                    (done, left) = (done + count, left - count);
                }
            }
        });
        if let Some(written) = written {
            assert!(written == expected);
        }
    }
}
