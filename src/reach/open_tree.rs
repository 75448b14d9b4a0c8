//! Points in a fixed k-d tree that can be taken out one by one and are visited nearest first:
//! the sites a capacity assignment fills (`straight::OpenSites`).
//!
//! The tree is built once (median splits on the widest axis of earth-centred coordinates,
//! leaves of at most [`LEAF`] points). Taking a point out marks it and lowers the count of
//! open points in each node above it, so a visit skips emptied subtrees without the tree
//! ever being rebuilt; the nodes' boxes stay those of all their points, which still bound
//! the open ones. A visit is a best-first walk (a heap of nodes and points keyed by squared
//! chord), which hands out open points in order of their squared chord from the query.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Points per leaf at most.
const LEAF: usize = 16;

/// No child: the node is a leaf.
const NO_CHILD: u32 = u32::MAX;

#[derive(Clone)]
struct Node {
    lo: [f64; 3],
    hi: [f64; 3],
    /// The node's points: `order[start..end]`.
    start: u32,
    end: u32,
    /// Children (both or neither).
    left: u32,
    right: u32,
    parent: u32,
}

/// A heap entry: squared chord's bits (non-negative floats order as their bits), then a
/// node (`is_point` false) or a point.
type Entry = Reverse<(u64, bool, u32)>;

#[derive(Clone)]
pub struct OpenTree {
    xyz: Vec<[f64; 3]>,
    nodes: Vec<Node>,
    /// Point indexes, each leaf's contiguous.
    order: Vec<u32>,
    /// The leaf holding each point.
    leaf_of: Vec<u32>,
    /// Open points under each node.
    open: Vec<u32>,
    closed: Vec<bool>,
    /// The walk's heap, kept between visits.
    heap: BinaryHeap<Entry>,
}

impl OpenTree {
    pub fn new(xyz: Vec<[f64; 3]>) -> OpenTree {
        let n = xyz.len();
        let mut tree = OpenTree {
            nodes: Vec::with_capacity(2 * n / LEAF + 1),
            order: (0..n as u32).collect(),
            leaf_of: vec![0; n],
            open: Vec::new(),
            closed: vec![false; n],
            heap: BinaryHeap::new(),
            xyz,
        };
        if n > 0 {
            tree.build(0, n, NO_CHILD);
        }
        tree.open = tree.nodes.iter().map(|node| node.end - node.start).collect();
        tree
    }

    /// Builds the node of `order[start..end]` and those under it; returns its index.
    fn build(&mut self, start: usize, end: usize, parent: u32) -> u32 {
        let (mut lo, mut hi) = ([f64::INFINITY; 3], [f64::NEG_INFINITY; 3]);
        for &i in &self.order[start..end] {
            let p = self.xyz[i as usize];
            for a in 0..3 {
                lo[a] = lo[a].min(p[a]);
                hi[a] = hi[a].max(p[a]);
            }
        }
        let k = self.nodes.len() as u32;
        self.nodes.push(Node {
            lo,
            hi,
            start: start as u32,
            end: end as u32,
            left: NO_CHILD,
            right: NO_CHILD,
            parent,
        });
        if end - start <= LEAF {
            for &i in &self.order[start..end] {
                self.leaf_of[i as usize] = k;
            }
            return k;
        }
        let axis = (0..3)
            .max_by(|&a, &b| (hi[a] - lo[a]).total_cmp(&(hi[b] - lo[b])))
            .unwrap_or(0);
        let mid = start + (end - start) / 2;
        let xyz = &self.xyz;
        self.order[start..end].select_nth_unstable_by(mid - start, |&a, &b| {
            xyz[a as usize][axis].total_cmp(&xyz[b as usize][axis]).then(a.cmp(&b))
        });
        let left = self.build(start, mid, k);
        let right = self.build(mid, end, k);
        self.nodes[k as usize].left = left;
        self.nodes[k as usize].right = right;
        k
    }

    /// Takes point `i` out (again: no change).
    pub fn remove(&mut self, i: u32) {
        if std::mem::replace(&mut self.closed[i as usize], true) {
            return;
        }
        let mut k = self.leaf_of[i as usize];
        while k != NO_CHILD {
            self.open[k as usize] -= 1;
            k = self.nodes[k as usize].parent;
        }
    }

    /// Squared chord from `q` to the box of node `k`.
    fn box_dist2(&self, q: &[f64; 3], k: u32) -> f64 {
        let node = &self.nodes[k as usize];
        (0..3)
            .map(|a| {
                let d = (node.lo[a] - q[a]).max(q[a] - node.hi[a]).max(0.0);
                d * d
            })
            .sum()
    }

    /// Starts a visit from `q`, of the open points within the squared chord `max2`.
    pub fn visit<'t>(&'t mut self, q: [f64; 3], max2: f64) -> Visit<'t> {
        self.heap.clear();
        if !self.nodes.is_empty() && self.open[0] > 0 && self.box_dist2(&q, 0) <= max2 {
            self.heap.push(Reverse((self.box_dist2(&q, 0).to_bits(), false, 0)));
        }
        Visit { tree: self, q, max2 }
    }
}

/// The open points within reach of a query, nearest first (ties in any order).
pub struct Visit<'t> {
    tree: &'t mut OpenTree,
    q: [f64; 3],
    max2: f64,
}

impl Visit<'_> {
    /// The next point's squared chord, without taking it.
    pub fn peek(&mut self) -> Option<f64> {
        loop {
            let &Reverse((bits, is_point, k)) = self.tree.heap.peek()?;
            if is_point {
                return Some(f64::from_bits(bits));
            }
            self.tree.heap.pop();
            self.expand(k);
        }
    }

    /// The next point and its squared chord.
    pub fn next_point(&mut self) -> Option<(u32, f64)> {
        self.peek()?;
        let Reverse((bits, _, i)) = self.tree.heap.pop()?;
        Some((i, f64::from_bits(bits)))
    }

    fn expand(&mut self, k: u32) {
        let tree = &mut *self.tree;
        let node = &tree.nodes[k as usize];
        if node.left == NO_CHILD {
            for &i in &tree.order[node.start as usize..node.end as usize] {
                if tree.closed[i as usize] {
                    continue;
                }
                let p = &tree.xyz[i as usize];
                let d2 = (0..3).map(|a| (p[a] - self.q[a]).powi(2)).sum::<f64>();
                if d2 <= self.max2 {
                    tree.heap.push(Reverse((d2.to_bits(), true, i)));
                }
            }
            return;
        }
        for child in [node.left, node.right] {
            if tree.open[child as usize] == 0 {
                continue;
            }
            let d2 = tree.box_dist2(&self.q, child);
            if d2 <= self.max2 {
                tree.heap.push(Reverse((d2.to_bits(), false, child)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn visits_open_points_nearest_first() {
        // A 20 x 20 grid of points; every third taken out.
        let xyz: Vec<[f64; 3]> = (0..400).map(|k| [(k % 20) as f64, (k / 20) as f64, 0.0]).collect();
        let mut tree = OpenTree::new(xyz.clone());
        for i in (0..400).step_by(3) {
            tree.remove(i);
        }
        let q = [7.3, 11.6, 0.5];
        let max2 = 30.0;
        let mut visit = tree.visit(q, max2);
        let mut got = Vec::new();
        while let Some((i, d2)) = visit.next_point() {
            got.push((d2, i));
        }
        let mut want: Vec<(f64, u32)> = (0..400u32)
            .filter(|i| i % 3 != 0)
            .map(|i| (super::super::straight::dist2(&q, &xyz[i as usize]), i))
            .filter(|&(d2, _)| d2 <= max2)
            .collect();
        want.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        // Nearest first: the same squared chords in the same order (ties in any order).
        let d: Vec<f64> = got.iter().map(|g| g.0).collect();
        let w: Vec<f64> = want.iter().map(|g| g.0).collect();
        assert_eq!(d, w);
        got.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        assert_eq!(got, want);
    }
}
