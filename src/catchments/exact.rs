//! The exact maximum number of catchments of a small unit, by branch and bound.
//!
//! The areas still free are taken in order: the first free area opens a group, which is grown
//! into every connected set of free areas that holds it (each set enumerated once), and a set
//! that meets every floor becomes a group while the search goes on with the rest. Every area
//! must end in a group that meets the floors. A branch is cut when the groups made plus the
//! upper bound of the free areas ([`Unit::bound_of`]: demand, providers and hosts the floors
//! need) cannot beat the best known, or when a connected part of the free areas cannot meet
//! the additive floors (demand, providers) as a whole. The search starts from the
//! heuristic's count, so it only has to look for more; it gives up after a budget of groups
//! tried, and then proves nothing.

use crate::catchments::maxp::Unit;

/// Units up to this many areas are searched exactly.
pub const EXACT_MAX_AREAS: usize = 30;

/// Groups the search may try before it gives up.
pub const BUDGET: u64 = 20_000;

/// What the exact search found.
#[derive(Debug, Clone, PartialEq)]
pub enum Exact {
    /// The search finished: `groups` is the maximum; `labels` a partition reaching it when it
    /// beats the count the search started from (`None`: that count is the maximum).
    Optimal { groups: usize, labels: Option<Vec<u32>> },
    /// Too many areas, or the budget ran out: nothing proven.
    Unknown,
}

struct Search<'u> {
    unit: &'u Unit,
    neighbours: Vec<u64>,
    best: usize,
    best_groups: Option<Vec<u64>>,
    groups: Vec<u64>,
    tried: u64,
    budget: u64,
}

/// The maximum number of groups of `unit` (connected, each meeting every floor, covering
/// every area), given that `known` groups are reachable. `Unknown` past [`EXACT_MAX_AREAS`]
/// areas or `budget` groups tried.
pub fn maximum(unit: &Unit, known: usize, budget: u64) -> Exact {
    let n = unit.len();
    if n == 0 || n > EXACT_MAX_AREAS {
        return Exact::Unknown;
    }
    let neighbours = (0..n)
        .map(|a| unit.neighbours[a].iter().fold(0u64, |m, &b| m | (1 << b)))
        .collect();
    let mut s = Search {
        unit,
        neighbours,
        best: known,
        best_groups: None,
        groups: Vec::new(),
        tried: 0,
        budget,
    };
    let all = (1u64 << n) - 1;
    if !s.go(all) {
        return Exact::Unknown;
    }
    let labels = s.best_groups.map(|groups| {
        let mut labels = vec![0u32; n];
        for (g, set) in groups.iter().enumerate() {
            for (a, l) in labels.iter_mut().enumerate() {
                if set & (1 << a) != 0 {
                    *l = g as u32;
                }
            }
        }
        labels
    });
    Exact::Optimal { groups: s.best, labels }
}

impl Search<'_> {
    fn members(set: u64) -> Vec<u32> {
        (0..64u32).filter(|a| set & (1 << a) != 0).collect()
    }

    fn bound(&self, set: u64) -> usize {
        self.unit.bound_of(|a| set & (1 << a) != 0)
    }

    /// Whether a set meets the additive floors (demand, providers): necessary for any set to
    /// be partitioned into groups that meet every floor.
    fn additive_ok(&self, set: u64) -> bool {
        let u = self.unit;
        let f = &u.floors;
        let members = Self::members(set);
        let demand: f64 = members.iter().map(|&a| u.demand[a as usize]).sum();
        if demand < f.min_demand * (1.0 - 1e-12) {
            return false;
        }
        if f.min_providers > 0 {
            for r in (0..u.roles).filter(|&r| f.provider_roles & (1 << r) != 0) {
                let p: u32 = members.iter().map(|&a| u.providers[a as usize * u.roles + r]).sum();
                if p < f.min_providers {
                    return false;
                }
            }
        }
        true
    }

    /// The connected parts of `set`.
    fn parts(&self, mut set: u64) -> Vec<u64> {
        let mut out = Vec::new();
        while set != 0 {
            let mut part = set & set.wrapping_neg();
            let mut frontier = part;
            while frontier != 0 {
                let a = frontier.trailing_zeros() as usize;
                frontier &= frontier - 1;
                let new = self.neighbours[a] & set & !part;
                part |= new;
                frontier |= new;
            }
            out.push(part);
            set &= !part;
        }
        out
    }

    /// Searches the partitions of `free`; false when the budget ran out.
    fn go(&mut self, free: u64) -> bool {
        if free == 0 {
            if self.groups.len() > self.best {
                self.best = self.groups.len();
                self.best_groups = Some(self.groups.clone());
            }
            return true;
        }
        let parts = self.parts(free);
        if parts.iter().any(|&p| !self.additive_ok(p)) {
            return true;
        }
        let bound: usize = parts.iter().map(|&p| self.bound(p)).sum();
        if self.groups.len() + bound <= self.best {
            return true;
        }
        let start = free.trailing_zeros() as usize;
        let set = 1u64 << start;
        let extension = self.neighbours[start] & free;
        self.grow(free, set, extension, 0)
    }

    /// Every connected set of `free` that holds `set` and grows by areas of `extension`
    /// (areas of `excluded` never join): each becomes a group if it meets the floors.
    fn grow(&mut self, free: u64, set: u64, extension: u64, excluded: u64) -> bool {
        self.tried += 1;
        if self.tried > self.budget {
            return false;
        }
        let members = Self::members(set);
        if self.unit.figures(&members).feasible(&self.unit.floors) {
            self.groups.push(set);
            let ok = self.go(free & !set);
            self.groups.pop();
            if !ok {
                return false;
            }
        }
        let mut ext = extension;
        let mut excluded = excluded;
        while ext != 0 {
            let v = ext.trailing_zeros() as usize;
            ext &= ext - 1;
            let bit = 1u64 << v;
            let next_ext = (ext | (self.neighbours[v] & free)) & !set & !bit & !excluded;
            if !self.grow(free, set | bit, next_ext, excluded) {
                return false;
            }
            excluded |= bit;
        }
        true
    }
}
