//! A contraction hierarchy over a road [`Graph`] (Geisberger, Sanders, Schultes and Delling,
//! 2008), and the sweeps that answer one-to-all and many-to-many travel times on it (PHAST and
//! RPHAST: Delling, Goldberg, Nowatzyk and Werneck, 2011/2013).
//!
//! Nodes are contracted one at a time, least important first (edge difference, contracted
//! neighbours and depth, updated lazily); contracting a node adds a shortcut between two of
//! its neighbours when no witness path, found by a local search that skips the node, is as
//! short. Every shortest path then has an up-down form: edges to higher ranks from the
//! source, then edges to lower ranks to the target. Times stay whole tenths of a second, so
//! the sweeps give exactly the times of Dijkstra's algorithm.

use super::Graph;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Time of a node no source reaches.
pub const FAR: u32 = u32::MAX;

/// Nodes settled by a witness search before it gives up (and adds the shortcut).
const WITNESS_SETTLED: usize = 400;

/// A contraction hierarchy: nodes by rank and the edges between ranks, in forward direction.
#[derive(Debug, Clone, PartialEq)]
pub struct Hierarchy {
    /// Rank of each node (0 was contracted first).
    pub rank: Vec<u32>,
    /// Edges to higher ranks, by tail rank: `up_head[up_first[r]..up_first[r + 1]]`.
    pub up_first: Vec<u32>,
    pub up_head: Vec<u32>,
    pub up_time: Vec<u32>,
    /// Edges to lower ranks, by tail rank.
    pub down_first: Vec<u32>,
    pub down_head: Vec<u32>,
    pub down_time: Vec<u32>,
    /// The down edges by head rank (their tails), derived, not stored.
    into_first: Vec<u32>,
    into_tail: Vec<u32>,
}

/// A local Dijkstra over the graph being contracted.
struct Witness {
    dist: Vec<u32>,
    touched: Vec<u32>,
    heap: BinaryHeap<Reverse<u64>>,
}

impl Witness {
    fn new(n: usize) -> Witness {
        Witness {
            dist: vec![FAR; n],
            touched: Vec::new(),
            heap: BinaryHeap::new(),
        }
    }

    /// Times from `from` over `out` without passing `skip`, up to `bound` and a few hundred
    /// settled nodes; a node's time is a path's length (at least its shortest).
    fn run(&mut self, out: &[Vec<(u32, u32)>], from: u32, skip: u32, bound: u32) {
        for &v in &self.touched {
            self.dist[v as usize] = FAR;
        }
        self.touched.clear();
        self.heap.clear();
        self.dist[from as usize] = 0;
        self.touched.push(from);
        self.heap.push(Reverse(u64::from(from)));
        let mut settled = 0;
        while let Some(Reverse(key)) = self.heap.pop() {
            let (t, v) = ((key >> 32) as u32, key as u32);
            if t > self.dist[v as usize] {
                continue;
            }
            if t > bound || settled >= WITNESS_SETTLED {
                break;
            }
            settled += 1;
            for &(w, dt) in &out[v as usize] {
                if w == skip {
                    continue;
                }
                let nt = t.saturating_add(dt);
                let old = self.dist[w as usize];
                if nt < old {
                    if old == FAR {
                        self.touched.push(w);
                    }
                    self.dist[w as usize] = nt;
                    self.heap.push(Reverse((u64::from(nt) << 32) | u64::from(w)));
                }
            }
        }
    }
}

/// The graph while it is contracted: the edges among nodes not yet contracted.
struct Remaining {
    out: Vec<Vec<(u32, u32)>>,
    inn: Vec<Vec<(u32, u32)>>,
}

impl Remaining {
    fn add(&mut self, u: u32, w: u32, t: u32) {
        if let Some(e) = self.out[u as usize].iter_mut().find(|e| e.0 == w) {
            if t < e.1 {
                e.1 = t;
                if let Some(f) = self.inn[w as usize].iter_mut().find(|f| f.0 == u) {
                    f.1 = t;
                }
            }
        } else {
            self.out[u as usize].push((w, t));
            self.inn[w as usize].push((u, t));
        }
    }

    /// The shortcuts contracting `v` needs, into `found`.
    fn shortcuts(&self, v: u32, witness: &mut Witness, found: &mut Vec<(u32, u32, u32)>) {
        found.clear();
        let outs = &self.out[v as usize];
        if outs.is_empty() {
            return;
        }
        let longest = outs.iter().map(|e| e.1).max().unwrap_or(0);
        for &(u, tu) in &self.inn[v as usize] {
            if outs.iter().all(|&(w, _)| w == u) {
                continue;
            }
            witness.run(&self.out, u, v, tu.saturating_add(longest));
            for &(w, tw) in outs {
                if w != u && witness.dist[w as usize] > tu.saturating_add(tw) {
                    found.push((u, w, tu.saturating_add(tw)));
                }
            }
        }
    }
}

impl Hierarchy {
    /// A hierarchy of these arrays (as [`Hierarchy`] names them; check them first when they
    /// come from a file).
    pub fn from_parts(
        rank: Vec<u32>,
        up: (Vec<u32>, Vec<u32>, Vec<u32>),
        down: (Vec<u32>, Vec<u32>, Vec<u32>),
    ) -> Hierarchy {
        let n = rank.len();
        let (down_first, down_head, down_time) = down;
        let mut into_first = vec![0u32; n + 1];
        for &x in &down_head {
            into_first[x as usize + 1] += 1;
        }
        for r in 0..n {
            into_first[r + 1] += into_first[r];
        }
        let mut fill = into_first.clone();
        let mut into_tail = vec![0u32; down_head.len()];
        for r in 0..n {
            for &x in &down_head[down_first[r] as usize..down_first[r + 1] as usize] {
                into_tail[fill[x as usize] as usize] = r as u32;
                fill[x as usize] += 1;
            }
        }
        Hierarchy {
            rank,
            up_first: up.0,
            up_head: up.1,
            up_time: up.2,
            down_first,
            down_head,
            down_time,
            into_first,
            into_tail,
        }
    }

    /// Contracts `graph` (one thread; the same hierarchy on every run).
    pub fn build(graph: &Graph, mut tick: impl FnMut(usize)) -> Hierarchy {
        let n = graph.nodes();
        let mut rest = Remaining {
            out: vec![Vec::new(); n],
            inn: vec![Vec::new(); n],
        };
        for v in 0..n {
            for (w, t) in graph.out(v) {
                if w as usize != v {
                    rest.add(v as u32, w, t);
                }
            }
        }
        let mut witness = Witness::new(n);
        let mut found = Vec::new();
        let mut deleted = vec![0i64; n];
        let mut depth = vec![0i64; n];
        let mut priority = |rest: &Remaining, v: u32, deleted: i64, depth: i64, witness: &mut Witness| -> i64 {
            rest.shortcuts(v, witness, &mut found);
            let removed = (rest.out[v as usize].len() + rest.inn[v as usize].len()) as i64;
            4 * (found.len() as i64 - removed) + 2 * deleted + depth
        };
        let mut prio: Vec<i64> = (0..n as u32).map(|v| priority(&rest, v, 0, 0, &mut witness)).collect();
        let mut heap: BinaryHeap<Reverse<(i64, u32)>> = (0..n as u32).map(|v| Reverse((prio[v as usize], v))).collect();
        let mut rank = vec![u32::MAX; n];
        let mut up: Vec<(u32, u32, u32)> = Vec::new();
        let mut down: Vec<(u32, u32, u32)> = Vec::new();
        let mut next = 0u32;
        let mut shortcuts = Vec::new();
        while let Some(Reverse((p, v))) = heap.pop() {
            let vi = v as usize;
            if rank[vi] != u32::MAX || p != prio[vi] {
                continue;
            }
            let fresh = priority(&rest, v, deleted[vi], depth[vi], &mut witness);
            if fresh > p {
                prio[vi] = fresh;
                heap.push(Reverse((fresh, v)));
                continue;
            }
            rest.shortcuts(v, &mut witness, &mut shortcuts);
            rank[vi] = next;
            next += 1;
            let outs = std::mem::take(&mut rest.out[vi]);
            let inns = std::mem::take(&mut rest.inn[vi]);
            for &(w, t) in &outs {
                up.push((v, w, t));
                rest.inn[w as usize].retain(|e| e.0 != v);
            }
            for &(u, t) in &inns {
                down.push((u, v, t));
                rest.out[u as usize].retain(|e| e.0 != v);
            }
            for &(u, w, t) in &shortcuts {
                rest.add(u, w, t);
            }
            let mut near: Vec<u32> = outs.iter().chain(&inns).map(|e| e.0).collect();
            near.sort_unstable();
            near.dedup();
            for &x in &near {
                let xi = x as usize;
                deleted[xi] += 1;
                depth[xi] = depth[xi].max(depth[vi] + 1);
                prio[xi] = priority(&rest, x, deleted[xi], depth[xi], &mut witness);
                heap.push(Reverse((prio[xi], x)));
            }
            tick(next as usize);
        }
        let csr = |edges: &mut Vec<(u32, u32, u32)>| {
            for e in edges.iter_mut() {
                *e = (rank[e.0 as usize], rank[e.1 as usize], e.2);
            }
            edges.sort_unstable();
            let mut first = vec![0u32; n + 1];
            for e in edges.iter() {
                first[e.0 as usize + 1] += 1;
            }
            for r in 0..n {
                first[r + 1] += first[r];
            }
            let head = edges.iter().map(|e| e.1).collect();
            let time = edges.iter().map(|e| e.2).collect();
            (first, head, time)
        };
        let up = csr(&mut up);
        let down = csr(&mut down);
        Hierarchy::from_parts(rank, up, down)
    }

    pub fn nodes(&self) -> usize {
        self.rank.len()
    }

    /// Checks a hierarchy read from a file: ranks a permutation, offsets in order, every up
    /// edge to a higher rank and every down edge to a lower one, times from 1 to 2^30
    /// tenths (so sums of two never overflow).
    #[cfg_attr(not(test), deny(clippy::indexing_slicing))]
    pub fn check(
        rank: &[u32],
        up: &(Vec<u32>, Vec<u32>, Vec<u32>),
        down: &(Vec<u32>, Vec<u32>, Vec<u32>),
    ) -> std::result::Result<(), String> {
        let n = rank.len();
        let mut seen = vec![false; n];
        for &r in rank {
            match seen.get_mut(r as usize) {
                Some(s) if !*s => *s = true,
                _ => return Err("hierarchy: node ranks are not a permutation".into()),
            }
        }
        for ((first, head, time), up) in [(up, true), (down, false)] {
            if first.len() != n + 1
                || first.first() != Some(&0)
                || first.last().map(|&x| x as usize) != Some(head.len())
                || first.windows(2).any(|w| w.first() > w.get(1))
                || head.len() != time.len()
            {
                return Err("hierarchy: edge offsets out of order".into());
            }
            for (r, w) in first.windows(2).enumerate() {
                let (a, b) = (w.first().copied().unwrap_or(0), w.get(1).copied().unwrap_or(0));
                let heads = head.get(a as usize..b as usize).unwrap_or(&[]);
                if heads
                    .iter()
                    .any(|&h| h as usize >= n || (h as usize > r) != up || h as usize == r)
                {
                    return Err("hierarchy: an edge leads to no node or to a rank on the wrong side".into());
                }
            }
            if time.iter().any(|&t| t == 0 || t > 1 << 30) {
                return Err("hierarchy: an edge takes no time or more than 2^30 tenths of a second".into());
            }
        }
        Ok(())
    }

    /// Every node's time from the nearest of `sources` (node, start time), or [`FAR`]: one
    /// upward sweep in rank order, one downward sweep back (PHAST).
    pub fn nearest(&self, sources: &[(u32, u32)]) -> Vec<u32> {
        let n = self.nodes();
        let mut d = vec![FAR; n];
        for &(v, t) in sources {
            let r = self.rank[v as usize] as usize;
            d[r] = d[r].min(t);
        }
        for r in 0..n {
            let t = d[r];
            if t == FAR {
                continue;
            }
            let range = self.up_first[r] as usize..self.up_first[r + 1] as usize;
            for (&h, &dt) in self.up_head[range.clone()].iter().zip(&self.up_time[range]) {
                let nt = t.saturating_add(dt);
                if nt < d[h as usize] {
                    d[h as usize] = nt;
                }
            }
        }
        for r in (0..n).rev() {
            let t = d[r];
            if t == FAR {
                continue;
            }
            let range = self.down_first[r] as usize..self.down_first[r + 1] as usize;
            for (&h, &dt) in self.down_head[range.clone()].iter().zip(&self.down_time[range]) {
                let nt = t.saturating_add(dt);
                if nt < d[h as usize] {
                    d[h as usize] = nt;
                }
            }
        }
        self.rank.iter().map(|&r| d[r as usize]).collect()
    }
}

/// Sources run together by a [`Sweeper`].
pub const LANES: usize = 16;

/// Limits a [`Sweeper`] takes (tenths of a second, about 3.4 years): above, searches run on
/// the graph.
pub const MAX_LIMIT: u32 = 1 << 30;

type Lanes = [u32; LANES];

/// Many-to-many travel times within a limit (RPHAST): the ranks that lead down to a set of
/// target nodes are chosen once ([`Sweeper::targets`]), then sources run [`LANES`] at a time,
/// one upward search and one downward sweep over those ranks for all of them.
pub struct Sweeper {
    /// Each rank's slot in the current target selection (valid when `mark == epoch`).
    slot: Vec<u32>,
    mark: Vec<u32>,
    epoch: u32,
    /// The selection, highest rank first, with its down edges as (slot, time).
    order: Vec<u32>,
    first: Vec<u32>,
    edges: Vec<(u32, u32)>,
    /// The targets: (node, slot).
    targets: Vec<(u32, u32)>,
    /// The upward search: its ranks' labels, by slot.
    up_slot: Vec<u32>,
    up_mark: Vec<u32>,
    up_epoch: u32,
    up_ranks: Vec<u32>,
    up_labels: Vec<Lanes>,
    heap: BinaryHeap<Reverse<u32>>,
    labels: Vec<Lanes>,
    stack: Vec<u32>,
}

impl Sweeper {
    pub fn new(h: &Hierarchy) -> Sweeper {
        let n = h.nodes();
        Sweeper {
            slot: vec![0; n],
            mark: vec![0; n],
            epoch: 0,
            order: Vec::new(),
            first: Vec::new(),
            edges: Vec::new(),
            targets: Vec::new(),
            up_slot: vec![0; n],
            up_mark: vec![0; n],
            up_epoch: 0,
            up_ranks: Vec::new(),
            up_labels: Vec::new(),
            heap: BinaryHeap::new(),
            labels: Vec::new(),
            stack: Vec::new(),
        }
    }

    /// Selects the target nodes of the next runs: they and every rank with a downward path
    /// to one of them.
    pub fn targets(&mut self, h: &Hierarchy, nodes: &[u32]) {
        self.epoch += 1;
        let epoch = self.epoch;
        self.order.clear();
        self.stack.clear();
        for &v in nodes {
            let r = h.rank[v as usize];
            if self.mark[r as usize] != epoch {
                self.mark[r as usize] = epoch;
                self.stack.push(r);
            }
        }
        while let Some(r) = self.stack.pop() {
            self.order.push(r);
            for &u in &h.into_tail[h.into_first[r as usize] as usize..h.into_first[r as usize + 1] as usize] {
                if self.mark[u as usize] != epoch {
                    self.mark[u as usize] = epoch;
                    self.stack.push(u);
                }
            }
        }
        self.order.sort_unstable_by(|a, b| b.cmp(a));
        for (i, &r) in self.order.iter().enumerate() {
            self.slot[r as usize] = i as u32;
        }
        self.first.clear();
        self.edges.clear();
        self.first.push(0);
        for &r in &self.order {
            let range = h.down_first[r as usize] as usize..h.down_first[r as usize + 1] as usize;
            for (&x, &t) in h.down_head[range.clone()].iter().zip(&h.down_time[range]) {
                if self.mark[x as usize] == epoch {
                    self.edges.push((self.slot[x as usize], t));
                }
            }
            self.first.push(self.edges.len() as u32);
        }
        self.targets.clear();
        for &v in nodes {
            self.targets.push((v, self.slot[h.rank[v as usize] as usize]));
        }
        self.targets.sort_unstable();
        self.targets.dedup();
    }

    /// Runs up to [`LANES`] sources (node, start time) and calls `found(lane, node, time)` for
    /// every selected target within `limit` (times with the start, as Dijkstra's algorithm
    /// gives them), targets in node order.
    pub fn run(&mut self, h: &Hierarchy, sources: &[(u32, u32)], limit: u32, mut found: impl FnMut(usize, u32, u32)) {
        assert!(sources.len() <= LANES && limit < MAX_LIMIT);
        let cap = limit + 1;
        self.up_epoch += 1;
        let up_epoch = self.up_epoch;
        self.up_ranks.clear();
        self.up_labels.clear();
        self.heap.clear();
        for (lane, &(v, t)) in sources.iter().enumerate() {
            if t > limit {
                continue;
            }
            let r = h.rank[v as usize] as usize;
            if self.up_mark[r] != up_epoch {
                self.up_mark[r] = up_epoch;
                self.up_slot[r] = self.up_labels.len() as u32;
                self.up_labels.push([cap; LANES]);
                self.up_ranks.push(r as u32);
                self.heap.push(Reverse(r as u32));
            }
            let l = &mut self.up_labels[self.up_slot[r] as usize][lane];
            *l = (*l).min(t);
        }
        // Upward: ranks in increasing order, each final when taken.
        while let Some(Reverse(r)) = self.heap.pop() {
            let l = self.up_labels[self.up_slot[r as usize] as usize];
            if l.iter().all(|&x| x >= cap) {
                continue;
            }
            let range = h.up_first[r as usize] as usize..h.up_first[r as usize + 1] as usize;
            for (&u, &dt) in h.up_head[range.clone()].iter().zip(&h.up_time[range]) {
                let ui = u as usize;
                if self.up_mark[ui] != up_epoch {
                    self.up_mark[ui] = up_epoch;
                    self.up_slot[ui] = self.up_labels.len() as u32;
                    self.up_labels.push([cap; LANES]);
                    self.up_ranks.push(u);
                    self.heap.push(Reverse(u));
                }
                let d = &mut self.up_labels[self.up_slot[ui] as usize];
                for k in 0..LANES {
                    d[k] = d[k].min(l[k] + dt);
                }
            }
        }
        // Downward over the selection.
        self.labels.clear();
        self.labels.resize(self.order.len(), [cap; LANES]);
        for (&r, l) in self.up_ranks.iter().zip(&self.up_labels) {
            if self.mark[r as usize] == self.epoch {
                let d = &mut self.labels[self.slot[r as usize] as usize];
                for k in 0..LANES {
                    d[k] = d[k].min(l[k]);
                }
            }
        }
        for i in 0..self.order.len() {
            let l = self.labels[i];
            if l.iter().all(|&x| x >= cap) {
                continue;
            }
            for &(j, dt) in &self.edges[self.first[i] as usize..self.first[i + 1] as usize] {
                let d = &mut self.labels[j as usize];
                for k in 0..LANES {
                    d[k] = d[k].min(l[k] + dt);
                }
            }
        }
        for &(v, slot) in &self.targets {
            let l = &self.labels[slot as usize];
            for (lane, &t) in l.iter().enumerate().take(sources.len()) {
                if t <= limit {
                    found(lane, v, t);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::route::{multi_source, UNREACHED};
    use crate::network::GraphInfo;

    /// A random directed graph: a jittered lattice with one-way and missing links.
    pub(crate) fn random_graph(seed: u64, side: u32) -> Graph {
        let mut x = seed | 1;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let n = (side * side) as usize;
        let mut edges = Vec::new();
        for a in 0..side {
            for b in 0..side {
                let v = a * side + b;
                for (da, db) in [(0, 1), (1, 0), (1, 1)] {
                    let (c, d) = (a + da, b + db);
                    if c >= side || d >= side || next() % 5 == 0 {
                        continue;
                    }
                    let w = c * side + d;
                    let t = 1 + (next() % 50) as u32;
                    match next() % 4 {
                        0 => edges.push((v, w, t)),
                        1 => edges.push((w, v, t)),
                        _ => {
                            edges.push((v, w, t));
                            edges.push((w, v, t + (next() % 3) as u32));
                        }
                    }
                }
            }
        }
        edges.sort_unstable();
        let mut first_out = vec![0u32; n + 1];
        for e in &edges {
            first_out[e.0 as usize + 1] += 1;
        }
        for v in 0..n {
            first_out[v + 1] += first_out[v];
        }
        Graph {
            info: GraphInfo {
                nodes_before: n as u64,
                edges_before: edges.len() as u64,
                ..GraphInfo::default()
            },
            lat: vec![0; n],
            lon: vec![0; n],
            first_out,
            head: edges.iter().map(|e| e.1).collect(),
            time: edges.iter().map(|e| e.2).collect(),
            hierarchy: None,
        }
    }

    #[test]
    fn sweeps_give_dijkstras_times() {
        for seed in 1..30u64 {
            let g = random_graph(seed * 7919, 5 + (seed % 9) as u32);
            let h = Hierarchy::build(&g, |_| {});
            let n = g.nodes() as u32;
            for s in 0..n.min(12) {
                let sources = [(s * 7 % n, (s % 3) * 5), ((s * 13 + 1) % n, 0)];
                let want: Vec<u32> = multi_source(&g, &sources)
                    .into_iter()
                    .map(|t| if t == UNREACHED { FAR } else { t })
                    .collect();
                assert_eq!(h.nearest(&sources), want, "seed {seed} source {s}");
            }
            // Many to many within a limit: every target's time from each source, as a
            // bounded Dijkstra finds it.
            let mut sweeper = Sweeper::new(&h);
            let targets: Vec<u32> = (0..n).filter(|v| v % 3 != 1).collect();
            sweeper.targets(&h, &targets);
            let sources: Vec<(u32, u32)> = (0..n.min(20)).map(|i| ((i * 11 + seed as u32) % n, i % 4)).collect();
            for limit in [0, 40, 90, 400] {
                for batch in sources.chunks(LANES) {
                    let mut got = Vec::new();
                    sweeper.run(&h, batch, limit, |lane, v, t| got.push((lane, v, t)));
                    let mut want = Vec::new();
                    let mut search = crate::network::route::Search::new(&g);
                    for (lane, &src) in batch.iter().enumerate() {
                        search.run(&g, &[src], limit, |v, t| {
                            if v % 3 != 1 {
                                want.push((lane, v, t));
                            }
                        });
                    }
                    got.sort_unstable();
                    want.sort_unstable();
                    assert_eq!(got, want, "seed {seed} limit {limit}");
                }
            }
        }
    }
}
