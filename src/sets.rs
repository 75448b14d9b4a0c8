//! Disjoint sets of indexes (union-find), for grouping parts that meet and municipalities
//! that link.

/// Disjoint sets over `0..n`: every set is named by its smallest index, paths are halved
/// as they are walked.
pub struct DisjointSets {
    parent: Vec<usize>,
}

impl DisjointSets {
    pub fn new(n: usize) -> Self {
        DisjointSets {
            parent: (0..n).collect(),
        }
    }

    /// The smallest index of `i`'s set.
    pub fn root(&mut self, mut i: usize) -> usize {
        while self.parent[i] != i {
            self.parent[i] = self.parent[self.parent[i]];
            i = self.parent[i];
        }
        i
    }

    /// Joins the sets of `a` and `b`.
    pub fn join(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.root(a), self.root(b));
        if ra != rb {
            self.parent[ra.max(rb)] = ra.min(rb);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_are_named_by_their_smallest_index() {
        let mut s = DisjointSets::new(6);
        s.join(4, 2);
        s.join(5, 4);
        s.join(3, 1);
        assert_eq!((0..6).map(|i| s.root(i)).collect::<Vec<_>>(), vec![0, 1, 2, 1, 2, 2]);
        s.join(5, 3);
        assert_eq!((0..6).map(|i| s.root(i)).collect::<Vec<_>>(), vec![0, 1, 1, 1, 1, 1]);
    }
}
