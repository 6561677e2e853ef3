//! Prices a sweep on worker threads and hands the results to the calling thread in order, as
//! they complete. Workers take small chunks of configurations from a shared counter (so a
//! slow stretch of the grid is shared by every core), and may run only a bounded window ahead
//! of the oldest chunk not yet handed over, so memory stays flat whatever the sweep's size.

use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// Largest chunk of configurations one worker takes at a time (a few milliseconds of work).
const MAX_CHUNK: usize = 256;
/// Chunks in flight per worker beyond the oldest one not yet handed over: enough that a worker
/// paused by the OS for ~0.1 s does not stall the others, a few MB of rows at most.
const WINDOW_PER_JOB: usize = 32;
/// How often the calling thread reports progress while the sweep runs.
const TICK: Duration = Duration::from_millis(50);

/// What the calling thread does with the results.
pub(super) trait Consumer<T> {
    /// The result of the next chunk in order.
    fn chunk(&mut self, result: T) -> Result<()>;
    /// Called about every 50 ms while the sweep runs, with the configurations handed over so
    /// far (progress, flushing output).
    fn tick(&mut self, done: usize) -> Result<()>;
}

/// Runs `work` over `0..n` in chunks on `jobs` threads and gives `consumer` the results in
/// order. Stops at the first error in order (of `work` or of the consumer): chunks after it
/// are not handed over, and workers stop taking new ones.
///
/// A worker that cannot be spawned (a process or memory limit) is not an error: the sweep runs
/// on the workers that did start, or on the calling thread when none did.
#[cfg(test)]
fn ordered<T: Send>(
    n: usize,
    jobs: usize,
    work: impl Fn(Range<usize>) -> Result<T> + Sync,
    consumer: &mut impl Consumer<T>,
) -> Result<()> {
    ordered_spawning(n, jobs, usize::MAX, || (), |(), r| work(r), consumer)
}

/// [`ordered`] where each worker (or the calling thread, when none could start) keeps a state
/// from one chunk to the next: `state()` makes it, `work` gets it with each chunk (a sweep's
/// scenario and layer cache outlive the chunk).
pub(super) fn ordered_with<S, T: Send>(
    n: usize,
    jobs: usize,
    state: impl Fn() -> S + Sync,
    work: impl Fn(&mut S, Range<usize>) -> Result<T> + Sync,
    consumer: &mut impl Consumer<T>,
) -> Result<()> {
    ordered_spawning(n, jobs, usize::MAX, state, work, consumer)
}

/// [`ordered_with`], where spawning worker `spawn_limit` or later fails as if the OS refused it
/// (tests use a small limit; a real refusal is handled the same way).
fn ordered_spawning<S, T: Send>(
    n: usize,
    jobs: usize,
    spawn_limit: usize,
    state: impl Fn() -> S + Sync,
    work: impl Fn(&mut S, Range<usize>) -> Result<T> + Sync,
    consumer: &mut impl Consumer<T>,
) -> Result<()> {
    let jobs = jobs.max(1);
    let chunk = (n / (jobs * 16)).clamp(1, MAX_CHUNK);
    let chunks = n.div_ceil(chunk);
    let jobs = jobs.min(chunks.max(1));
    let window = WINDOW_PER_JOB * jobs;
    let claimed = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    // Chunks handed over so far; workers wait on `advanced` while they are a window ahead.
    let handed = Mutex::new(0usize);
    let advanced = Condvar::new();
    let range = |c: usize| c * chunk..((c + 1) * chunk).min(n);

    std::thread::scope(|scope| {
        let (tx, rx) = mpsc::channel::<(usize, Result<T>)>();
        let mut spawned = 0usize;
        for k in 0..jobs {
            let tx = tx.clone();
            let (state, work, claimed, stop, handed, advanced) =
                (&state, &work, &claimed, &stop, &handed, &advanced);
            let worker = move || {
                let mut s = state();
                loop {
                    let c = claimed.fetch_add(1, Ordering::Relaxed);
                    if c >= chunks || stop.load(Ordering::Relaxed) {
                        break;
                    }
                    {
                        let mut h = handed.lock().unwrap_or_else(|e| e.into_inner());
                        while c >= *h + window && !stop.load(Ordering::Relaxed) {
                            h = advanced.wait(h).unwrap_or_else(|e| e.into_inner());
                        }
                    }
                    if stop.load(Ordering::Relaxed) || tx.send((c, work(&mut s, range(c)))).is_err()
                    {
                        break;
                    }
                }
            };
            let started = if k < spawn_limit {
                std::thread::Builder::new()
                    .spawn_scoped(scope, worker)
                    .is_ok()
            } else {
                false
            };
            if !started {
                // The OS refused a thread: go on with the workers that started.
                break;
            }
            spawned += 1;
        }
        drop(tx);
        if spawned == 0 {
            let mut s = state();
            return inline(chunks, range, |r| work(&mut s, r), consumer);
        }

        let mut pending: BTreeMap<usize, Result<T>> = BTreeMap::new();
        let (mut next, mut done) = (0usize, 0usize);
        let mut last_tick = Instant::now();
        let outcome = loop {
            if next == chunks {
                break Ok(());
            }
            match rx.recv_timeout(TICK) {
                Ok((c, result)) => {
                    pending.insert(c, result);
                    let mut failed = None;
                    while let Some(result) = pending.remove(&next) {
                        if let Err(e) = result.and_then(|t| consumer.chunk(t)) {
                            failed = Some(e);
                            break;
                        }
                        done = range(next).end;
                        next += 1;
                        *handed.lock().unwrap_or_else(|e| e.into_inner()) = next;
                        advanced.notify_all();
                    }
                    if let Some(e) = failed {
                        break Err(e);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                // Every worker is gone before the last chunk: one panicked (the scope re-raises it).
                Err(RecvTimeoutError::Disconnected) => {
                    break Err(Error::invalid(
                        "a sweep worker stopped before the sweep ended",
                    ));
                }
            }
            if last_tick.elapsed() >= TICK {
                last_tick = Instant::now();
                if let Err(e) = consumer.tick(done) {
                    break Err(e);
                }
            }
        };
        if outcome.is_err() {
            stop.store(true, Ordering::Relaxed);
            // Taking the lock orders the store before any waiting worker's next check.
            drop(handed.lock().unwrap_or_else(|e| e.into_inner()));
            advanced.notify_all();
        }
        outcome
    })
}

/// Every chunk in order on the calling thread (no worker could be spawned).
fn inline<T>(
    chunks: usize,
    range: impl Fn(usize) -> Range<usize>,
    mut work: impl FnMut(Range<usize>) -> Result<T>,
    consumer: &mut impl Consumer<T>,
) -> Result<()> {
    let mut last_tick = Instant::now();
    for c in 0..chunks {
        consumer.chunk(work(range(c))?)?;
        if last_tick.elapsed() >= TICK {
            last_tick = Instant::now();
            consumer.tick(range(c).end)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Collect {
        seen: Vec<usize>,
        stop_after: Option<usize>,
    }

    impl Consumer<Vec<usize>> for Collect {
        fn chunk(&mut self, result: Vec<usize>) -> Result<()> {
            self.seen.extend(result);
            match self.stop_after {
                Some(k) if self.seen.len() >= k => Err(Error::invalid("consumer stops")),
                _ => Ok(()),
            }
        }
        fn tick(&mut self, _: usize) -> Result<()> {
            Ok(())
        }
    }

    #[test]
    fn results_come_in_order_whatever_the_chunk_timing() {
        for (n, jobs) in [(0, 1), (1, 4), (7, 3), (1000, 2), (5000, 5), (20_000, 3)] {
            let mut c = Collect {
                seen: Vec::new(),
                stop_after: None,
            };
            // Uneven work: early chunks are the slow ones.
            ordered(
                n,
                jobs,
                |r: Range<usize>| {
                    if r.start < 600 {
                        std::thread::sleep(Duration::from_micros(200));
                    }
                    Ok(r.collect())
                },
                &mut c,
            )
            .unwrap();
            assert_eq!(c.seen, (0..n).collect::<Vec<_>>(), "n = {n}, jobs = {jobs}");
        }
    }

    /// Issue 24 item 4: no thread could be spawned (a process limit) panicked the sweep.
    #[test]
    fn refused_threads_fall_back_to_fewer_or_to_the_calling_thread() {
        for (jobs, limit) in [(4, 0), (4, 1), (1, 0), (8, 3)] {
            let mut c = Collect {
                seen: Vec::new(),
                stop_after: None,
            };
            ordered_spawning(
                3000,
                jobs,
                limit,
                || (),
                |(), r: Range<usize>| Ok(r.collect()),
                &mut c,
            )
            .unwrap();
            assert_eq!(
                c.seen,
                (0..3000).collect::<Vec<_>>(),
                "jobs {jobs}, limit {limit}"
            );
        }
        let mut c = Collect {
            seen: Vec::new(),
            stop_after: None,
        };
        let e = ordered_spawning(
            3000,
            2,
            0,
            || (),
            |(), r: Range<usize>| {
                if r.contains(&1000) {
                    Err(Error::invalid("row 1000"))
                } else {
                    Ok(r.collect())
                }
            },
            &mut c,
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "row 1000");
        assert!(c.seen.len() <= 1000);
    }

    #[test]
    fn the_first_error_in_order_wins_and_stops_the_workers() {
        let priced = AtomicUsize::new(0);
        let mut c = Collect {
            seen: Vec::new(),
            stop_after: None,
        };
        let e = ordered(
            1_000_000,
            2,
            |r: Range<usize>| {
                priced.fetch_add(r.len(), Ordering::Relaxed);
                if r.contains(&5000) {
                    return Err(Error::invalid("row 5000"));
                }
                if r.contains(&9000) {
                    return Err(Error::invalid("row 9000"));
                }
                Ok(r.collect())
            },
            &mut c,
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "row 5000");
        assert!(c.seen.len() <= 5000 && c.seen == (0..c.seen.len()).collect::<Vec<_>>());
        // Bounded by the window: nowhere near the million configurations.
        assert!(priced.load(Ordering::Relaxed) < 5000 + (2 * WINDOW_PER_JOB + 4) * MAX_CHUNK);
        // A consumer error (a closed pipe) stops the sweep as well.
        let mut c = Collect {
            seen: Vec::new(),
            stop_after: Some(3000),
        };
        assert!(ordered(1_000_000, 2, |r: Range<usize>| Ok(r.collect()), &mut c).is_err());
        assert!(c.seen.len() < 3000 + MAX_CHUNK);
    }
}
