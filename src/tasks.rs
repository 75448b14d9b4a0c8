//! Tasks of uneven length run side by side in a chosen order.
//!
//! Rayon splits a range into halves up front; when a few tasks are much longer than the rest,
//! the longest may start last and run alone at the end. [`in_order_of`] hands out tasks one
//! at a time in the order given instead (longest first, say): each thread takes the next task
//! left, and the results come back by task index, whatever thread ran them.

use rayon::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};

/// `f(k)` for every task `k` of `order` (a permutation of `0..order.len()`), started in the
/// order given, each thread taking the next task left; returns the results by task index
/// (`result[k] == f(k)`). `f` may run parallel work of its own: a thread waiting inside it
/// may take up further tasks, which needs no lock.
pub fn in_order_of<T: Send>(order: &[usize], f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    debug_assert!({
        let mut seen = vec![false; order.len()];
        order
            .iter()
            .all(|&k| k < seen.len() && !std::mem::replace(&mut seen[k], true))
    });
    let next = AtomicUsize::new(0);
    let threads = rayon::current_num_threads().clamp(1, order.len().max(1));
    let runs: Vec<Vec<(usize, T)>> = (0..threads)
        .into_par_iter()
        .map(|_| {
            let mut mine = Vec::new();
            while let Some(&k) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
                mine.push((k, f(k)));
            }
            mine
        })
        .collect();
    let mut all: Vec<(usize, T)> = runs.into_iter().flatten().collect();
    all.sort_unstable_by_key(|&(k, _)| k);
    all.into_iter().map(|(_, t)| t).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_by_task_index_whatever_the_order_and_threads() {
        for threads in [1, 2, 3, 8] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            for n in [0usize, 1, 2, 7, 40] {
                // Longest first: task k "costs" k, so the order is n-1, ..., 0.
                let order: Vec<usize> = (0..n).rev().collect();
                let got = pool.install(|| in_order_of(&order, |k| (k * k, (0..k).into_par_iter().sum::<usize>())));
                let want: Vec<(usize, usize)> = (0..n).map(|k| (k * k, k * k.saturating_sub(1) / 2)).collect();
                assert_eq!(got, want, "{threads} threads, {n} tasks");
            }
        }
    }

    #[test]
    fn every_task_runs_once() {
        let runs = AtomicUsize::new(0);
        let order = [3, 0, 4, 1, 2];
        let got = in_order_of(&order, |k| {
            runs.fetch_add(1, Ordering::Relaxed);
            k + 10
        });
        assert_eq!(got, vec![10, 11, 12, 13, 14]);
        assert_eq!(runs.load(Ordering::Relaxed), 5);
    }
}
