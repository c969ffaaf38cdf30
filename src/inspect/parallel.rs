//! Blocks shared out to the threads one at a time: every thread of the pool takes the next
//! block nobody has taken yet, so together they move through a tensor in (nearly) increasing
//! order — a sequential read for the kernel's read-ahead when the blocks come from a file (with
//! contiguous splits, two threads would read two places at once, and the read-ahead would take
//! that for random reads) — and each thread keeps one state (a read buffer, a count table) for
//! all its blocks. Results come back sorted by block, so what is merged from them does not
//! depend on which thread computed what.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Where a block's bytes are, as a block source hands them over: borrowed from memory that
/// outlives the round (a mapped file, a tensor in memory), or read into the thread's buffer.
#[derive(Clone, Copy, Debug)]
pub enum BlockBytes<'w> {
    Borrowed(&'w [u8]),
    Buffered,
}

impl<'w> BlockBytes<'w> {
    /// The bytes: the borrowed slice, or `buffer`'s.
    pub fn or_buffer<'a>(self, buffer: &'a [u8]) -> &'a [u8]
    where
        'w: 'a,
    {
        match self {
            BlockBytes::Borrowed(bytes) => bytes,
            BlockBytes::Buffered => buffer,
        }
    }
}

/// What one thread did: its state, its `(index, result)` pairs and the error that stopped it.
type Share<S, T, E> = (S, Vec<(usize, T)>, Option<E>);

/// Every thread's state, and every block's `(index, result)` in block order.
pub(super) type Blocks<S, T> = (Vec<S>, Vec<(usize, T)>);

/// Runs `work(state, index)` for every block of `blocks` on the pool's threads, each with its
/// own `state` from `init`. Returns the states and the `(index, result)` pairs sorted by index,
/// or the first error (the other threads then stop taking blocks).
pub(super) fn for_each_block<S: Send, T: Send, E: Send>(
    blocks: std::ops::Range<usize>,
    init: impl Fn() -> S + Sync,
    work: impl Fn(&mut S, usize) -> Result<T, E> + Sync,
) -> Result<Blocks<S, T>, E> {
    let next = AtomicUsize::new(blocks.start);
    let failed = AtomicBool::new(false);
    let run = || -> Share<S, T, E> {
        let mut state = init();
        let mut results = Vec::new();
        while !failed.load(Ordering::Relaxed) {
            let index = next.fetch_add(1, Ordering::Relaxed);
            if index >= blocks.end {
                break;
            }
            match work(&mut state, index) {
                Ok(result) => results.push((index, result)),
                Err(error) => {
                    failed.store(true, Ordering::Relaxed);
                    return (state, results, Some(error));
                }
            }
        }
        (state, results, None)
    };
    // One block: this thread alone, without waking the pool.
    let shares = if blocks.len() <= 1 { vec![run()] } else { rayon::broadcast(|_| run()) };
    let (mut states, mut all) = (Vec::with_capacity(shares.len()), Vec::with_capacity(blocks.len()));
    for (state, results, error) in shares {
        if let Some(error) = error {
            return Err(error);
        }
        states.push(state);
        all.extend(results);
    }
    all.sort_by_key(|(index, _)| *index);
    Ok((states, all))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_block_once_in_order_on_any_thread_count() {
        for threads in [1, 2, 5] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("a pool");
            let (states, results) = pool
                .install(|| {
                    for_each_block(
                        3..1003,
                        || 0usize,
                        |seen, index| {
                            *seen += 1;
                            Ok::<_, ()>(index * 2)
                        },
                    )
                })
                .expect("no error");
            assert_eq!(states.iter().sum::<usize>(), 1000);
            assert_eq!(results, (3..1003).map(|index| (index, index * 2)).collect::<Vec<_>>());
        }
        let failed = for_each_block(0..100, || (), |_, index| if index == 50 { Err(index) } else { Ok(()) });
        assert_eq!(failed.err(), Some(50));
    }
}
