//! Dijkstra's algorithm on a [`Graph`]: one search from many sources (each node's time to
//! the nearest source) and bounded searches reused across many sources.
//!
//! The unbounded search keeps a binary heap of `(time << 32) | node` in one `u64`. Bounded
//! searches use a bucket queue instead (Dial's algorithm): times are whole tenths of a
//! second, so a ring of buckets one longer than the longest edge holds every pending node,
//! and a search costs time in proportion to the nodes it reaches plus its limit in tenths.
//! Times do not depend on the queue or on how the sources are listed.

use super::Graph;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Time of a node no source reaches.
pub const UNREACHED: u32 = u32::MAX;

/// A search whose buffers are kept between runs: a run costs time in proportion to the
/// nodes it reaches, not to the graph.
pub struct Search {
    dist: Vec<u32>,
    touched: Vec<u32>,
    heap: BinaryHeap<Reverse<u64>>,
    buckets: Vec<Vec<u32>>,
}

impl Search {
    /// A search over `graph` (and graphs of its size and longest edge).
    pub fn new(graph: &Graph) -> Search {
        let width = graph.time.iter().copied().max().unwrap_or(0) as usize + 1;
        Search {
            dist: vec![UNREACHED; graph.nodes()],
            touched: Vec::new(),
            heap: BinaryHeap::new(),
            buckets: vec![Vec::new(); width],
        }
    }

    /// Forgets the last run.
    fn reset(&mut self) {
        for &v in &self.touched {
            self.dist[v as usize] = UNREACHED;
        }
        self.touched.clear();
    }

    /// Like [`Search::run`] with a bucket queue: for limits of minutes to hours, where the
    /// ring of buckets is scanned once.
    pub fn run_bounded(&mut self, graph: &Graph, sources: &[(u32, u32)], limit: u32, mut settle: impl FnMut(u32, u32)) {
        self.reset();
        let width = self.buckets.len() as u32;
        let mut pending = 0usize;
        let mut now = u32::MAX;
        for &(v, t) in sources {
            if t <= limit && t < self.dist[v as usize] {
                if self.dist[v as usize] == UNREACHED {
                    self.touched.push(v);
                }
                self.dist[v as usize] = t;
                now = now.min(t);
            }
        }
        // Sources may start up to the limit apart: queue them as time reaches them.
        let mut later: Vec<(u32, u32)> = sources
            .iter()
            .copied()
            .filter(|&(v, t)| self.dist[v as usize] == t && t <= limit)
            .collect();
        later.sort_unstable_by_key(|&(v, t)| (std::cmp::Reverse(t), v));
        later.dedup();
        while pending > 0 || !later.is_empty() {
            while let Some(&(v, t)) = later.last() {
                if t > now.saturating_add(width - 1) {
                    break;
                }
                later.pop();
                self.buckets[(t % width) as usize].push(v);
                pending += 1;
            }
            if pending == 0 {
                now = later.last().map(|s| s.1).unwrap_or(now);
                continue;
            }
            let b = (now % width) as usize;
            while let Some(v) = self.buckets[b].pop() {
                pending -= 1;
                if self.dist[v as usize] != now {
                    continue;
                }
                settle(v, now);
                for (w, dt) in graph.out(v as usize) {
                    let nt = now.saturating_add(dt);
                    let old = self.dist[w as usize];
                    if nt < old && nt <= limit {
                        if old == UNREACHED {
                            self.touched.push(w);
                        }
                        self.dist[w as usize] = nt;
                        self.buckets[(nt % width) as usize].push(w);
                        pending += 1;
                    }
                }
            }
            now += 1;
        }
    }

    /// Runs from `sources` (node, start time) and calls `settle(node, time)` once for every
    /// node reached within `limit` (inclusive), in order of time.
    pub fn run(&mut self, graph: &Graph, sources: &[(u32, u32)], limit: u32, mut settle: impl FnMut(u32, u32)) {
        self.reset();
        self.heap.clear();
        for &(v, t) in sources {
            if t <= limit && t < self.dist[v as usize] {
                if self.dist[v as usize] == UNREACHED {
                    self.touched.push(v);
                }
                self.dist[v as usize] = t;
                self.heap.push(Reverse((u64::from(t) << 32) | u64::from(v)));
            }
        }
        while let Some(Reverse(key)) = self.heap.pop() {
            let (t, v) = ((key >> 32) as u32, key as u32);
            if t > self.dist[v as usize] {
                continue;
            }
            settle(v, t);
            for (w, dt) in graph.out(v as usize) {
                let nt = t.saturating_add(dt);
                let old = self.dist[w as usize];
                if nt < old && nt <= limit {
                    if old == UNREACHED {
                        self.touched.push(w);
                    }
                    self.dist[w as usize] = nt;
                    self.heap.push(Reverse((u64::from(nt) << 32) | u64::from(w)));
                }
            }
        }
    }
}

/// Every node's time from the nearest of `sources` (node, start time), or [`UNREACHED`].
pub fn multi_source(graph: &Graph, sources: &[(u32, u32)]) -> Vec<u32> {
    let mut search = Search::new(graph);
    search.run(graph, sources, UNREACHED - 1, |_, _| {});
    search.dist
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::GraphInfo;

    /// a -> b -> c, a -> c slow, c -> a.
    fn graph() -> Graph {
        Graph {
            info: GraphInfo {
                source: String::new(),
                source_sha256: String::new(),
                zaitaku_version: String::new(),
                speeds_kmh: vec![],
                ways_by_class: vec![],
                ways_left_out: vec![],
                nodes_before: 3,
                edges_before: 4,
                components_dropped: 0,
                nodes_dropped: 0,
            },
            lat: vec![0; 3],
            lon: vec![0; 3],
            first_out: vec![0, 2, 3, 4],
            head: vec![1, 2, 2, 0],
            time: vec![10, 50, 15, 7],
            hierarchy: None,
        }
    }

    #[test]
    fn shortest_times_and_limits() {
        let g = graph();
        assert_eq!(multi_source(&g, &[(0, 0)]), vec![0, 10, 25]);
        assert_eq!(multi_source(&g, &[(2, 0)]), vec![7, 17, 0]);
        // Two sources with start times: the nearer wins.
        assert_eq!(multi_source(&g, &[(0, 20), (1, 0)]), vec![20, 0, 15]);
        assert_eq!(multi_source(&g, &[(0, 30), (1, 0)]), vec![22, 0, 15]);
        let mut seen = Vec::new();
        Search::new(&g).run(&g, &[(0, 0)], 24, |v, t| seen.push((v, t)));
        assert_eq!(seen, vec![(0, 0), (1, 10)]);
        // The bucket queue settles the same nodes at the same times.
        for (sources, limit) in [
            (vec![(0, 0)], 24),
            (vec![(0, 0)], 100),
            (vec![(0, 30), (1, 0)], 100),
            (vec![(2, 3)], 9),
        ] {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            let mut s = Search::new(&g);
            s.run(&g, &sources, limit, |v, t| a.push((v, t)));
            s.run_bounded(&g, &sources, limit, |v, t| b.push((v, t)));
            a.sort_unstable();
            b.sort_unstable();
            assert_eq!(a, b, "{sources:?} {limit}");
        }
    }
}
