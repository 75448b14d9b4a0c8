//! The exact maximum number of catchments of a small unit, by branch and bound.
//!
//! Every area must end in a group that meets the floors. The search takes a free area (the
//! one with the fewest free neighbours) and grows a group from it into every connected set of
//! free areas that holds it, each set enumerated once; a set that meets every floor becomes a
//! group while the search goes on with the rest.
//!
//! Three cuts keep it small:
//! - **Bound.** The groups made, plus one, plus the upper bound of the areas left free
//!   ([`Unit::bound_of`], summed over their connected parts) cannot beat the best known: then
//!   no larger group from this one can either, since taking areas away never raises the bound.
//! - **Dead parts.** A connected part of the free areas that the growing group can no longer
//!   reach and whose bound is 0 can never be partitioned into groups.
//! - **Memory.** The most groups a set of free areas can still make depends on that set only;
//!   once a set is searched, the most it can give is remembered (different first groups often
//!   leave the same areas).
//!
//! The search starts from the heuristic's count, so it only has to look for more; it gives up
//! after a budget of group extensions tried, and then proves nothing.

use std::collections::HashMap;

use crate::catchments::maxp::{Acc, Unit};

/// Units up to this many areas are searched exactly with [`BUDGET`].
pub const EXACT_MAX_AREAS: usize = 30;

/// Group extensions the search may try on a unit of up to [`EXACT_MAX_AREAS`] areas before it
/// gives up (about 1.5 µs each: the longest search of the national data, 岡山県's 30
/// municipalities, took 380,550).
pub const BUDGET: u64 = 1_000_000;

/// Larger units, up to this many areas (one bit each in a set), are tried with
/// [`LARGE_BUDGET`]: many still finish, each failure costs a fraction of a second.
pub const ATTEMPT_MAX_AREAS: usize = 64;

/// The budget of units of more than [`EXACT_MAX_AREAS`] areas.
pub const LARGE_BUDGET: u64 = 20_000;

/// The budget of a unit of `n` areas; `None`: too large to try.
pub fn budget_for(n: usize) -> Option<u64> {
    match n {
        0 => None,
        n if n <= EXACT_MAX_AREAS => Some(BUDGET),
        n if n <= ATTEMPT_MAX_AREAS => Some(LARGE_BUDGET),
        _ => None,
    }
}

/// What the exact search found.
#[derive(Debug, Clone, PartialEq)]
pub enum Exact {
    /// The search finished: `groups` is the maximum; `labels` a partition reaching it when it
    /// beats the count the search started from (`None`: that count is the maximum).
    Optimal { groups: usize, labels: Option<Vec<u32>> },
    /// Too many areas, or the budget ran out: nothing proven.
    Unknown,
}

/// [`Unit::bound_of`] over sets of areas given as bit masks.
pub struct SetBound {
    demand: Vec<f64>,
    min_demand: f64,
    /// Per role with a provider floor: providers per area, and the areas hosting the role.
    providers: Vec<(Vec<u32>, u64)>,
    min_providers: u64,
    /// Per role a share floor needs: the areas hosting it.
    share_hosts: Vec<u64>,
    /// Areas without demand.
    empty: u64,
}

impl SetBound {
    /// The bound's tables for `unit` (at most 64 areas).
    pub fn new(unit: &Unit) -> SetBound {
        let n = unit.len();
        assert!(n <= 64, "a set bound holds at most 64 areas");
        let f = &unit.floors;
        let hosting = |r: usize| {
            (0..n)
                .filter(|&a| unit.providers[a * unit.roles + r] > 0)
                .fold(0u64, |m, a| m | (1 << a))
        };
        let providers = if f.min_providers > 0 {
            (0..unit.roles)
                .filter(|&r| f.provider_roles & (1 << r) != 0)
                .map(|r| {
                    let counts = (0..n).map(|a| unit.providers[a * unit.roles + r]).collect();
                    (counts, hosting(r))
                })
                .collect()
        } else {
            Vec::new()
        };
        let share_hosts = if f.min_share > 0.0 {
            (0..unit.roles)
                .filter(|&r| unit.share_roles() & (1 << r) != 0)
                .map(hosting)
                .collect()
        } else {
            Vec::new()
        };
        SetBound {
            demand: unit.demand.clone(),
            min_demand: f.min_demand,
            providers,
            min_providers: u64::from(f.min_providers),
            share_hosts,
            empty: (0..n)
                .filter(|&a| unit.demand[a] <= 0.0)
                .fold(0u64, |m, a| m | (1 << a)),
        }
    }

    /// The upper bound on the groups of the areas of `set`; equal to [`Unit::bound_of`].
    pub fn of(&self, set: u64) -> usize {
        let mut bound = set.count_ones() as usize;
        if self.min_demand > 0.0 {
            let total: f64 = bits(set).map(|a| self.demand[a]).sum();
            bound = bound.min((total * (1.0 + 1e-12) / self.min_demand).floor() as usize);
        }
        for (counts, hosts) in &self.providers {
            let hosting = (set & hosts).count_ones() as usize;
            bound = bound.min(hosting);
            // With a floor of one provider the providers number at least the areas hosting
            // them, so only a higher floor needs them counted.
            if self.min_providers > 1 {
                let total: u64 = bits(set).map(|a| u64::from(counts[a])).sum();
                bound = bound.min((total / self.min_providers) as usize);
            }
        }
        let empty = (set & self.empty).count_ones() as usize;
        for hosts in &self.share_hosts {
            bound = bound.min((set & hosts).count_ones() as usize + empty);
        }
        bound
    }
}

/// The areas of a bit mask, lowest first.
fn bits(mut set: u64) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        (set != 0).then(|| {
            let a = set.trailing_zeros() as usize;
            set &= set - 1;
            a
        })
    })
}

struct Search<'u> {
    unit: &'u Unit,
    bound: SetBound,
    neighbours: Vec<u64>,
    best: usize,
    best_groups: Option<Vec<u64>>,
    groups: Vec<u64>,
    /// Per searched set of free areas: the most groups it can make.
    most: HashMap<u64, usize>,
    /// Per set of areas tried as a group: whether it meets every floor (a set recurs under
    /// other first groups).
    feasible: rustc_hash::FxHashMap<u64, bool>,
    /// The areas of a set, as [`Unit::figures_of_set`] lists them.
    members: Vec<u32>,
    /// Where the unit's sets add up ([`Unit::sets_add_up`]): the figures of the sets being
    /// grown, one per [`Search::grow`] under way (storage kept past `depth`), each its
    /// parent's with one area added; the classes' masks inside them, with the gains to undo.
    figures: Vec<Acc>,
    depth: usize,
    masks: Vec<u64>,
    undo: Vec<(u32, u64)>,
    tried: u64,
    budget: u64,
}

/// The maximum number of groups of `unit` (connected, each meeting every floor, covering
/// every area), given that `known` groups are reachable. `Unknown` past [`ATTEMPT_MAX_AREAS`]
/// areas or `budget` group extensions tried.
pub fn maximum(unit: &Unit, known: usize, budget: u64) -> Exact {
    let n = unit.len();
    if n == 0 || n > ATTEMPT_MAX_AREAS {
        return Exact::Unknown;
    }
    let neighbours = (0..n)
        .map(|a| unit.neighbours[a].iter().fold(0u64, |m, &b| m | (1 << b)))
        .collect();
    let mut s = Search {
        unit,
        bound: SetBound::new(unit),
        neighbours,
        best: known,
        best_groups: None,
        groups: Vec::new(),
        most: HashMap::new(),
        feasible: Default::default(),
        members: Vec::new(),
        figures: Vec::new(),
        depth: 0,
        masks: vec![0; unit.class_count()],
        undo: Vec::new(),
        tried: 0,
        budget,
    };
    let all = (1u64 << n) - 1;
    if !s.go(all) {
        return Exact::Unknown;
    }
    let labels = s.best_groups.map(|groups| {
        let mut labels = vec![0u32; n];
        for (g, &set) in groups.iter().enumerate() {
            for a in bits(set) {
                labels[a] = g as u32;
            }
        }
        labels
    });
    Exact::Optimal { groups: s.best, labels }
}

impl Search<'_> {
    /// The connected parts of `set`.
    fn parts(&self, mut set: u64) -> impl Iterator<Item = u64> + '_ {
        std::iter::from_fn(move || {
            (set != 0).then(|| {
                let mut part = set & set.wrapping_neg();
                let mut frontier = part;
                while frontier != 0 {
                    let a = frontier.trailing_zeros() as usize;
                    frontier &= frontier - 1;
                    let new = self.neighbours[a] & set & !part;
                    part |= new;
                    frontier |= new;
                }
                set &= !part;
                part
            })
        })
    }

    /// The upper bound of `free` summed over its connected parts, or `None` when a part that
    /// `reach` does not touch has a bound of 0 (it can never be partitioned).
    fn free_bound(&self, free: u64, reach: u64) -> Option<usize> {
        let mut sum = 0;
        for part in self.parts(free) {
            let b = self.bound.of(part);
            if b == 0 && part & reach == 0 {
                return None;
            }
            sum += b;
        }
        Some(sum)
    }

    /// Whether `free` could still give more groups than the best known.
    fn promising(&self, free: u64) -> bool {
        let made = self.groups.len();
        match self.free_bound(free, 0) {
            Some(b) if made + b > self.best => {}
            _ => return false,
        }
        self.most.get(&free).is_none_or(|&m| made + m > self.best)
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
        if !self.promising(free) {
            return true;
        }
        // The free area with the fewest free neighbours opens the next group.
        let Some(start) = bits(free).min_by_key(|&a| (self.neighbours[a] & free).count_ones()) else {
            return true;
        };
        let set = 1u64 << start;
        if !self.grow(free, set, start, self.neighbours[start] & free, 0) {
            return false;
        }
        // Everything under `free` was searched against a best that only grew.
        self.most.insert(free, self.best - self.groups.len());
        true
    }

    /// Every connected set of `free` that holds `set` and grows by areas of `extension`
    /// (areas of `excluded` never join): each becomes a group if it meets the floors.
    /// `added` is the area `set` took last (its only one when it opens a group).
    fn grow(&mut self, free: u64, set: u64, added: usize, extension: u64, excluded: u64) -> bool {
        self.tried += 1;
        if self.tried > self.budget {
            return false;
        }
        let rest = free & !set;
        match self.free_bound(rest, extension) {
            Some(b) if self.groups.len() + 1 + b > self.best => {}
            _ => return true,
        }
        let unit = self.unit;
        if !unit.sets_add_up() {
            let members = &mut self.members;
            let feasible = *self
                .feasible
                .entry(set)
                .or_insert_with(|| unit.figures_of_set(set, members).feasible(&unit.floors));
            return self.extend(free, set, extension, excluded, feasible);
        }
        // The set's figures from its parent's (one level up) and the area added.
        let (d, mark) = (self.depth, self.undo.len());
        if self.figures.len() == d {
            self.figures.push(unit.figures_of_set(0, &mut self.members));
        }
        if set == 1 << added {
            self.figures[d] = unit.figures_of_area(added, &mut self.masks);
        } else {
            let (parents, this) = self.figures.split_at_mut(d);
            this[0].clone_from(&parents[d - 1]);
            unit.add_to_set(
                &mut this[0],
                set & !(1 << added),
                added,
                &mut self.masks,
                &mut self.undo,
            );
        }
        let feasible = self.figures[d].feasible(&unit.floors);
        self.depth += 1;
        let ok = self.extend(free, set, extension, excluded, feasible);
        self.depth -= 1;
        while self.undo.len() > mark {
            if let Some((c, mask)) = self.undo.pop() {
                self.masks[c as usize] = mask;
            }
        }
        ok
    }

    /// The rest of [`Search::grow`]: `set` as a group when `feasible`, then every larger set.
    fn extend(&mut self, free: u64, set: u64, extension: u64, excluded: u64, feasible: bool) -> bool {
        let rest = free & !set;
        if feasible {
            self.groups.push(set);
            let ok = self.go(rest);
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
            if !self.grow(free, set | bit, v, next_ext, excluded) {
                return false;
            }
            excluded |= bit;
        }
        true
    }
}
