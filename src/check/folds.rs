//! Independent refits (the full fit and every cross-validation fold) run on every core.
//!
//! Each refit is deterministic and shares nothing with the others, so running them side by
//! side changes no number: results are put back in job order (issue 25 item 4).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// Progress of a long run: called with (jobs done, jobs in all) as jobs finish, from whichever
/// thread finished one.
pub type Progress<'a> = &'a (dyn Fn(usize, usize) + Sync);

/// No progress shown.
pub fn quiet(_: usize, _: usize) {}

/// Threads the refits use: one per core.
fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |t| t.get())
}

/// `work(i)` for every `i` in `0..n`, in that order, on every core. Jobs are taken in `order`
/// (a permutation of `0..n`: the longest first keeps the cores busy to the end).
pub fn map<T: Send>(
    n: usize,
    order: &[usize],
    work: impl Fn(usize) -> T + Sync,
    progress: Progress,
) -> Vec<T> {
    map_spawning(n, order, default_jobs(), usize::MAX, work, progress)
}

/// [`map`] on `jobs` threads (the calling one included), where spawning helper `spawn_limit`
/// or later fails as if the OS refused it. A helper that cannot be spawned (a process or
/// memory limit) is not an error: the calling thread works too, so the jobs run on the threads
/// that did start — on the calling thread alone when none did.
fn map_spawning<T: Send>(
    n: usize,
    order: &[usize],
    jobs: usize,
    spawn_limit: usize,
    work: impl Fn(usize) -> T + Sync,
    progress: Progress,
) -> Vec<T> {
    debug_assert_eq!(order.len(), n);
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<T>>> = Mutex::new((0..n).map(|_| None).collect());
    let worker = || loop {
        let k = next.fetch_add(1, Ordering::Relaxed);
        let Some(&i) = order.get(k) else {
            break;
        };
        let t = work(i);
        results.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(t);
        progress(done.fetch_add(1, Ordering::Relaxed) + 1, n);
    };
    std::thread::scope(|scope| {
        for k in 1..jobs.min(n) {
            let started = k < spawn_limit
                && std::thread::Builder::new()
                    .spawn_scoped(scope, worker)
                    .is_ok();
            if !started {
                break;
            }
        }
        worker();
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|t| t.expect("every job ran"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn squares(jobs: usize, spawn_limit: usize) -> Vec<u64> {
        let n = 37;
        let order: Vec<usize> = (0..n).rev().collect();
        let calls = AtomicUsize::new(0);
        let out = map_spawning(
            n,
            &order,
            jobs,
            spawn_limit,
            |i| (i as u64) * (i as u64),
            &|done, all| {
                assert!(done <= all && all == n);
                calls.fetch_add(1, Ordering::Relaxed);
            },
        );
        assert_eq!(calls.into_inner(), n, "progress once per job");
        out
    }

    /// Results come back in job order whatever the threads, and a refused thread (a process
    /// limit) leaves the work to the threads that started — the calling one at least.
    #[test]
    fn results_are_in_order_on_any_number_of_threads_even_when_spawning_fails() {
        let expected: Vec<u64> = (0..37u64).map(|i| i * i).collect();
        for (jobs, limit) in [(1, usize::MAX), (4, usize::MAX), (4, 0), (4, 2), (64, 1)] {
            assert_eq!(squares(jobs, limit), expected, "{jobs} jobs, limit {limit}");
        }
    }
}
