//! Max-p regionalization with service floors: the largest number of contiguous groups
//! (catchments) of areas such that every group meets its floors (Duque, Anselin and Rey
//! 2012; Wei, Rey and Knaap 2021).
//!
//! Floors here are those of home-care catchments: a demand floor (additive), a provider floor
//! per role (additive), and an in-area covered share per function, which is not additive:
//! a place counts as covered only when every required role has a provider within reach that
//! lies *in the same group*. A group keeps, per class of places, the set of roles satisfied
//! inside it, so adding an area updates the shares in time proportional to the places the
//! area serves, and a candidate can be scored without committing it.
//!
//! The search follows the max-p heuristic: many randomised constructions (grow a group from
//! a seed by adding neighbours until its floors are met; areas of groups that cannot be
//! completed become enclaves, later joined to a neighbouring group that stays within its
//! floors), keep the one with the most groups (then fewest groups failing a floor, then the
//! lowest travel cost), then a local search moves border areas between groups while both
//! keep their floors and stay contiguous, as long as the demand-weighted travel to the
//! group's providers falls.

use rand_core::{Rng, SeedableRng};
use rand_pcg::Pcg64Mcg;
use rayon::prelude::*;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};

/// Rounds in a row without a better partition after which the search stops.
const PATIENCE: usize = 1;

/// Growth rules the constructions cycle through (see [`construct`]).
const VARIANTS: usize = 4;

/// A region label meaning "no region".
const NONE: u32 = u32::MAX;

/// Floors every group must meet.
#[derive(Debug, Clone, PartialEq)]
pub struct Floors {
    pub min_demand: f64,
    pub min_providers: u32,
    /// Roles whose providers inside the group must number at least `min_providers`.
    pub provider_roles: u64,
    pub min_share: f64,
    /// Functions with a share floor: their required roles as a mask (index = the function's
    /// position in [`Unit::functions`]).
    pub share_functions: Vec<u64>,
}

/// One class of places of an area (see `supply`), with hosts as unit-local indexes.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitClass {
    pub area: u32,
    pub demand: f64,
    /// Per role, a range into [`Unit::hosts`].
    pub roles: Vec<Range<u32>>,
}

/// A class of places another area serves: the roles (of those a share floor needs) the
/// hosting area has within reach of the class's places.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Hosted {
    class: u32,
    /// The class's own area.
    area: u32,
    roles: u64,
}

/// The problem: areas, their links, demand, providers and classes of places.
#[derive(Debug, Clone)]
pub struct Unit {
    pub neighbours: Vec<Vec<u32>>,
    pub demand: Vec<f64>,
    pub roles: usize,
    /// `providers[a * roles + r]`.
    pub providers: Vec<u32>,
    pub classes: Vec<UnitClass>,
    pub class_ranges: Vec<Range<usize>>,
    pub hosts: Vec<u32>,
    /// Distance between areas (demand centres), km: `dist[a * n + b]`.
    pub dist: Vec<f32>,
    pub floors: Floors,
    /// Per area: (class, roles the area hosts for that class) for every class of another
    /// area it serves, roles limited to those a share floor needs.
    hosted_by: Vec<Vec<Hosted>>,
    /// Per area, its `hosted_by` list in runs of one served area each (classes are numbered
    /// area by area): (that area, the run's end), so that a group's classes are found by
    /// looking at each served area once.
    hosted_runs: Vec<Vec<(u32, u32)>>,
    /// Per class: the roles its own area hosts (satisfied whenever the class counts).
    own: Vec<u64>,
    /// Per class, a range into `class_hosts`: the other areas hosting some role a share
    /// floor needs for the class, ascending, each with those roles.
    host_ranges: Vec<Range<u32>>,
    class_hosts: Vec<(u32, u64)>,
    /// In a unit of at most 64 areas, per class a range into `host_sets`: for each role a
    /// share floor needs that the class's own area does not host, the role's bit and the
    /// other areas hosting it as a set of area bits (empty in larger units).
    set_ranges: Vec<Range<u32>>,
    host_sets: Vec<(u64, u64)>,
    /// Per class, its demand (as in `classes`, side by side for the scoring loops).
    class_demand: Vec<f64>,
    /// Whether every class's demand is a whole number and all of them add up to at most
    /// 2^53 (head counts): then every partial sum of shares is exact, in any order, and an
    /// area's classes may be summed in two parts, `fixed` and `open`.
    exact: bool,
    /// With `exact`, whether every area's demand is a whole number too, all adding up to at
    /// most 2^53: then a group's figures are the same whatever order its areas join in.
    exact_areas: bool,
    /// With `exact`, per area and share function (`a * functions + s`): the demand of the
    /// area's classes whose own area hosts every role the function needs.
    fixed: Vec<f64>,
    /// With `exact`, per area a range into `open`: its classes whose own area misses a role
    /// of some share function, each with those functions as bits.
    open_ranges: Vec<Range<u32>>,
    open: Vec<(u32, u64)>,
    /// Roles some share floor needs.
    relevant: u64,
    /// Per area: the roles (of the first 64) it has a provider of, as bits.
    provides: Vec<u64>,
}

impl Unit {
    /// A unit; `hosts` of each class are unit-local area indexes.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        neighbours: Vec<Vec<u32>>,
        demand: Vec<f64>,
        roles: usize,
        providers: Vec<u32>,
        classes: Vec<UnitClass>,
        hosts: Vec<u32>,
        dist: Vec<f32>,
        floors: Floors,
    ) -> Unit {
        let n = demand.len();
        let mut class_ranges = vec![0..0; n];
        let mut start = 0;
        while start < classes.len() {
            let a = classes[start].area as usize;
            let end = start + classes[start..].iter().take_while(|c| c.area as usize == a).count();
            class_ranges[a] = start..end;
            start = end;
        }
        let relevant = floors.share_functions.iter().fold(0u64, |m, &f| m | f);
        let mut hosted_by: Vec<Vec<Hosted>> = vec![Vec::new(); n];
        let mut own = vec![0u64; classes.len()];
        let mut host_ranges = Vec::with_capacity(classes.len());
        // Per class, its hosts (other than its own area) ascending, each with the roles it
        // hosts: the roles gathered per area in `gathered`, the areas met listed once and
        // sorted (a few dozen, where the roles' lists together run to hundreds).
        let mut class_hosts: Vec<(u32, u64)> = Vec::new();
        let mut gathered = vec![0u64; n];
        let mut met: Vec<u32> = Vec::new();
        // Each host's list of the classes it hosts roles for follows, class after class.
        for (c, class) in classes.iter().enumerate() {
            let start = class_hosts.len();
            met.clear();
            for (r, range) in class.roles.iter().enumerate() {
                if relevant & (1 << r) != 0 {
                    for &h in &hosts[range.start as usize..range.end as usize] {
                        if h == class.area {
                            own[c] |= 1 << r;
                        } else {
                            if gathered[h as usize] == 0 {
                                met.push(h);
                            }
                            gathered[h as usize] |= 1u64 << r;
                        }
                    }
                }
            }
            met.sort_unstable();
            for &h in &met {
                let roles = std::mem::take(&mut gathered[h as usize]);
                class_hosts.push((h, roles));
                hosted_by[h as usize].push(Hosted {
                    class: c as u32,
                    area: class.area,
                    roles,
                });
            }
            host_ranges.push(start as u32..class_hosts.len() as u32);
        }
        let mut set_ranges = Vec::new();
        let mut host_sets: Vec<(u64, u64)> = Vec::new();
        if n <= 64 {
            for (c, range) in host_ranges.iter().enumerate() {
                let start = host_sets.len() as u32;
                let list = &class_hosts[range.start as usize..range.end as usize];
                for r in (0..roles).filter(|&r| relevant & !own[c] & (1 << r) != 0) {
                    let areas = list
                        .iter()
                        .filter(|&&(_, roles)| roles & (1 << r) != 0)
                        .fold(0u64, |set, &(h, _)| set | 1 << h);
                    if areas != 0 {
                        host_sets.push((1 << r, areas));
                    }
                }
                set_ranges.push(start..host_sets.len() as u32);
            }
        }
        let class_demand: Vec<f64> = classes.iter().map(|c| c.demand).collect();
        let functions = &floors.share_functions;
        let exact = functions.len() <= 64
            && class_demand
                .iter()
                .all(|d| d.is_finite() && *d >= 0.0 && d.fract() == 0.0)
            && class_demand.iter().sum::<f64>() <= 9_007_199_254_740_992.0;
        let exact_areas = exact
            && demand.iter().all(|d| d.is_finite() && *d >= 0.0 && d.fract() == 0.0)
            && demand.iter().sum::<f64>() <= 9_007_199_254_740_992.0;
        let (mut fixed, mut open_ranges, mut open) = (Vec::new(), Vec::new(), Vec::new());
        if exact {
            fixed = vec![0.0; n * functions.len()];
            for (a, range) in class_ranges.iter().enumerate() {
                let start = open.len() as u32;
                for c in range.clone() {
                    let mut missing = 0u64;
                    for (f, &req) in functions.iter().enumerate() {
                        if own[c] & req == req {
                            fixed[a * functions.len() + f] += class_demand[c];
                        } else {
                            missing |= 1 << f;
                        }
                    }
                    if missing != 0 {
                        open.push((c as u32, missing));
                    }
                }
                open_ranges.push(start..open.len() as u32);
            }
        }
        let hosted_runs = hosted_by
            .iter()
            .map(|list| {
                let mut runs: Vec<(u32, u32)> = Vec::new();
                for (i, h) in list.iter().enumerate() {
                    match runs.last_mut() {
                        Some(run) if run.0 == h.area => run.1 = i as u32 + 1,
                        _ => runs.push((h.area, i as u32 + 1)),
                    }
                }
                runs
            })
            .collect();
        let provides = (0..n)
            .map(|a| {
                (0..roles.min(64))
                    .filter(|&r| providers[a * roles + r] > 0)
                    .fold(0u64, |bits, r| bits | 1 << r)
            })
            .collect();
        Unit {
            neighbours,
            demand,
            roles,
            providers,
            classes,
            class_ranges,
            hosts,
            dist,
            floors,
            hosted_by,
            hosted_runs,
            own,
            host_ranges,
            class_hosts,
            set_ranges,
            host_sets,
            class_demand,
            exact,
            exact_areas,
            fixed,
            open_ranges,
            open,
            relevant,
            provides,
        }
    }

    /// An upper bound on the number of groups any partition meeting every floor can have,
    /// from the floors alone: at most `total demand / min_demand` groups; for a role with a
    /// provider floor, at most as many groups as areas hosting the role and as its providers
    /// over the floor; for a role a share floor needs, at most as many groups with demand as
    /// areas hosting it (plus the areas without demand, which could stand alone).
    pub fn upper_bound(&self) -> usize {
        self.bound_of(|_| true).max(1)
    }

    /// [`Unit::upper_bound`] for the areas `inside` says (any partition of them into groups
    /// meeting every floor has at most this many groups); 0 when they hold no area.
    pub fn bound_of(&self, inside: impl Fn(usize) -> bool) -> usize {
        let sums = AreaSums::of(self, inside);
        // A relative tolerance, as the floors' checks have.
        sums.bound(self, sums.demand * (1.0 + 1e-12))
    }

    pub fn len(&self) -> usize {
        self.demand.len()
    }

    pub fn is_empty(&self) -> bool {
        self.demand.is_empty()
    }

    /// Roles some share floor needs, as a mask.
    pub fn share_roles(&self) -> u64 {
        self.relevant
    }

    /// Roles (of those a share floor needs) class `c` finds inside a group that holds its
    /// own area, where `members` are the group's areas and `inside` says whether an area is
    /// one of them (the class's own area may be left out of both).
    fn satisfied(&self, c: usize, members: &[u32], inside: impl Fn(u32) -> bool) -> u64 {
        let mut mask = self.own[c];
        if mask == self.relevant {
            return mask;
        }
        if !self.set_ranges.is_empty() {
            let set = members.iter().fold(0u64, |set, &m| set | 1 << m);
            return self.satisfied_in_set(c, set);
        }
        let range = &self.host_ranges[c];
        let list = &self.class_hosts[range.start as usize..range.end as usize];
        // Whichever is shorter: the group's areas looked up among the hosts, or the hosts
        // looked up in the group. Either way the union of the same roles.
        if members.len() * 8 < list.len() {
            for m in members {
                if let Ok(i) = list.binary_search_by_key(m, |e| e.0) {
                    mask |= list[i].1;
                    if mask == self.relevant {
                        break;
                    }
                }
            }
        } else {
            for &(h, roles) in list {
                if inside(h) {
                    mask |= roles;
                    if mask == self.relevant {
                        break;
                    }
                }
            }
        }
        mask
    }

    /// The classes area `a` hosts roles for (as [`Hosted`]), of the served areas `keep`
    /// accepts: each served area's classes are one run of `hosted_by`, so an area left out
    /// is skipped whole.
    fn hosted_for(&self, a: usize, keep: impl Fn(u32) -> bool) -> impl Iterator<Item = &Hosted> {
        let hosted = &self.hosted_by[a];
        let mut start = 0;
        self.hosted_runs[a].iter().flat_map(move |&(area, end)| {
            let run = &hosted[start..end as usize];
            start = end as usize;
            if keep(area) {
                run
            } else {
                &[]
            }
        })
    }

    /// [`Self::satisfied`] in a unit of at most 64 areas, the group given as area bits: the
    /// same roles, one test per role.
    fn satisfied_in_set(&self, c: usize, set: u64) -> u64 {
        let range = &self.set_ranges[c];
        self.host_sets[range.start as usize..range.end as usize]
            .iter()
            .fold(
                self.own[c],
                |mask, &(role, areas)| {
                    if areas & set != 0 {
                        mask | role
                    } else {
                        mask
                    }
                },
            )
    }

    /// Figures of a group of areas, from scratch.
    pub fn figures(&self, members: &[u32]) -> Acc {
        let mut inside = vec![false; self.len()];
        for &m in members {
            inside[m as usize] = true;
        }
        self.figures_of(members, |h| inside[h as usize])
    }

    /// [`Self::figures`] of the areas of a set given as bits (at most 64 areas), lowest
    /// first: the same sums in the same order.
    pub fn figures_of_set(&self, set: u64, members: &mut Vec<u32>) -> Acc {
        members.clear();
        let mut rest = set;
        while rest != 0 {
            members.push(rest.trailing_zeros());
            rest &= rest - 1;
        }
        let mut acc = Acc::empty(self);
        for &m in members.iter() {
            acc.add_area(self, m as usize);
            if self.relevant == 0 {
                continue;
            }
            if self.set_ranges.is_empty() {
                self.add_classes(&mut acc, m as usize, |c| {
                    self.satisfied(c, members, |h| set >> h & 1 == 1)
                });
            } else {
                self.add_classes(&mut acc, m as usize, |c| self.satisfied_in_set(c, set));
            }
        }
        acc
    }

    /// Whether sets' figures may be grown one area at a time ([`Self::add_to_set`]): at most
    /// 64 areas, and whole-number demand (the same sums in any order).
    pub fn sets_add_up(&self) -> bool {
        self.exact_areas && (self.relevant == 0 || !self.set_ranges.is_empty())
    }

    /// Makes `acc`, the figures of the areas of `set` (as bits), those of `set` with area `v`
    /// added, exactly [`Self::figures_of_set`]'s when [`Self::sets_add_up`]. `masks` holds
    /// each class's satisfied roles inside `set` for the classes of its areas (every role for
    /// a class its own area serves for every function): `v`'s are written, the others' gains
    /// logged in `undo` (class, mask before) and written.
    pub fn add_to_set(&self, acc: &mut Acc, set: u64, v: usize, masks: &mut [u64], undo: &mut Vec<(u32, u64)>) {
        acc.add_area(self, v);
        if self.relevant == 0 {
            return;
        }
        let with = set | 1 << v;
        if self.exact {
            // Only the classes their own area leaves short of a function can gain: the others
            // count as meeting every role.
            for c in self.class_ranges[v].clone() {
                masks[c] = u64::MAX;
            }
            let range = &self.open_ranges[v];
            for &(c, _) in &self.open[range.start as usize..range.end as usize] {
                masks[c as usize] = self.satisfied_in_set(c as usize, with);
            }
        } else {
            for c in self.class_ranges[v].clone() {
                masks[c] = self.satisfied_in_set(c, with);
            }
        }
        self.add_classes(acc, v, |c| masks[c]);
        for &Hosted { class: c, roles, .. } in self.hosted_for(v, |area| set >> area & 1 == 1) {
            let old = masks[c as usize];
            if old | roles != old {
                acc.add_gain(self, old, old | roles, self.class_demand[c as usize]);
                undo.push((c, old));
                masks[c as usize] = old | roles;
            }
        }
    }

    /// [`Self::figures_of_set`] of one area, writing its classes' masks as
    /// [`Self::add_to_set`] does.
    pub fn figures_of_area(&self, v: usize, masks: &mut [u64]) -> Acc {
        let mut acc = Acc::empty(self);
        self.add_to_set(&mut acc, 0, v, masks, &mut Vec::new());
        acc
    }

    /// Classes of places, across all areas.
    pub fn class_count(&self) -> usize {
        self.classes.len()
    }

    /// Figures of `members`, `inside` saying whether an area is one of them.
    fn figures_of(&self, members: &[u32], inside: impl Fn(u32) -> bool + Copy) -> Acc {
        let mut acc = Acc::empty(self);
        for &m in members {
            acc.add_area(self, m as usize);
            if self.relevant == 0 {
                continue;
            }
            self.add_classes(&mut acc, m as usize, |c| self.satisfied(c, members, inside));
        }
        acc
    }

    /// Adds the classes of area `a` to the shares of `acc`, `mask` giving each class's
    /// satisfied roles. With exact sums, the classes whose own area meets a function count
    /// for it at once, and only the others' masks are asked for.
    fn add_classes(&self, acc: &mut Acc, a: usize, mask: impl Fn(usize) -> u64) {
        if !self.exact {
            for c in self.class_ranges[a].clone() {
                acc.add_class(self, mask(c), self.class_demand[c]);
            }
            return;
        }
        let functions = &self.floors.share_functions;
        let fixed = &self.fixed[a * functions.len()..(a + 1) * functions.len()];
        for (covered, &d) in acc.covered.iter_mut().zip(fixed) {
            *covered += d;
        }
        let range = &self.open_ranges[a];
        for &(c, missing) in &self.open[range.start as usize..range.end as usize] {
            let mask = mask(c as usize);
            let demand = self.class_demand[c as usize];
            let mut rest = missing;
            while rest != 0 {
                let f = rest.trailing_zeros() as usize;
                rest &= rest - 1;
                if mask & functions[f] == functions[f] {
                    acc.covered[f] += demand;
                }
            }
        }
    }

    /// The travel area `j` itself would add to a group (its demand times its mean distance
    /// to the group's nearest host of each floor role, itself included): the group's other
    /// members are left as they are, which keeps joining an enclave cheap to score.
    pub fn joining_cost(&self, members: &[u32], j: u32) -> f64 {
        let n = self.len();
        let roles: Vec<usize> = (0..self.roles)
            .filter(|r| self.floors.provider_roles & (1 << r) != 0)
            .collect();
        let d = |a: u32, b: u32| f64::from(self.dist[a as usize * n + b as usize]);
        if roles.is_empty() {
            let nearest = members.iter().map(|&m| d(j, m)).fold(f64::INFINITY, f64::min);
            return self.demand[j as usize] * nearest;
        }
        let sum: f64 = roles
            .iter()
            .map(|&r| {
                members
                    .iter()
                    .chain(std::iter::once(&j))
                    .filter(|&&h| self.providers[h as usize * self.roles + r] > 0)
                    .map(|&h| d(j, h))
                    .fold(1e4, f64::min)
            })
            .sum();
        self.demand[j as usize] * sum / roles.len() as f64
    }

    /// Demand-weighted travel of a group: for each member, the mean over the floor's roles
    /// of the distance to the nearest member hosting the role (or, with no role floor, the
    /// distance to the group's demand-weighted medoid), weighted by the member's demand.
    pub fn cost(&self, members: &[u32]) -> f64 {
        let n = self.len();
        let roles = self.floor_roles();
        if roles == 0 {
            return members
                .iter()
                .map(|&c| {
                    members
                        .iter()
                        .map(|&m| self.demand[m as usize] * f64::from(self.dist[c as usize * n + m as usize]))
                        .sum::<f64>()
                })
                .fold(f64::INFINITY, f64::min);
        }
        let count = f64::from(roles.count_ones());
        let mut total = 0.0;
        // Per role, the nearest member providing it: each member's distance read once for
        // all the roles it provides (the same minima, summed in the same order of roles).
        let mut nearest = [f64::INFINITY; 64];
        for &m in members {
            let row = &self.dist[m as usize * n..(m as usize + 1) * n];
            nearest.fill(f64::INFINITY);
            for &h in members {
                let mut has = self.provides[h as usize] & roles;
                if has == 0 {
                    continue;
                }
                let d = f64::from(row[h as usize]);
                while has != 0 {
                    let r = has.trailing_zeros() as usize;
                    has &= has - 1;
                    nearest[r] = nearest[r].min(d);
                }
            }
            let mut sum = 0.0;
            let mut rest = roles;
            while rest != 0 {
                let r = rest.trailing_zeros() as usize;
                rest &= rest - 1;
                // A role missing from the group: charge the largest distance in the unit.
                sum += if nearest[r].is_finite() { nearest[r] } else { 1e4 };
            }
            total += self.demand[m as usize] * sum / count;
        }
        total
    }

    /// The roles with a provider floor, as bits (only roles the unit has).
    fn floor_roles(&self) -> u64 {
        let all = if self.roles >= 64 {
            u64::MAX
        } else {
            (1u64 << self.roles) - 1
        };
        self.floors.provider_roles & all
    }
}

/// Running figures of a group.
#[derive(Debug, Clone, PartialEq)]
pub struct Acc {
    pub demand: f64,
    pub providers: Vec<u32>,
    /// Per share function.
    pub covered: Vec<f64>,
}

impl Acc {
    fn empty(unit: &Unit) -> Acc {
        Acc {
            demand: 0.0,
            providers: vec![0; unit.roles],
            covered: vec![0.0; unit.floors.share_functions.len()],
        }
    }

    fn add_area(&mut self, unit: &Unit, a: usize) {
        self.demand += unit.demand[a];
        for r in 0..unit.roles {
            self.providers[r] += unit.providers[a * unit.roles + r];
        }
    }

    fn add_class(&mut self, unit: &Unit, mask: u64, demand: f64) {
        // Adding 0.0 leaves a sum as it is (a sum that starts at +0.0 is never -0.0), so the
        // figures are those of adding only where the class counts, without a branch per
        // function that the processor mispredicts.
        for (covered, &req) in self.covered.iter_mut().zip(&unit.floors.share_functions) {
            *covered += if mask & req == req { demand } else { 0.0 };
        }
    }

    /// Adds a class's `demand` to every share function its roles meet with the mask `new`
    /// but not with `old`.
    fn add_gain(&mut self, unit: &Unit, old: u64, new: u64, demand: f64) {
        for (covered, &req) in self.covered.iter_mut().zip(&unit.floors.share_functions) {
            if old & req != req && new & req == req {
                *covered += demand;
            }
        }
    }

    /// Whether every floor is met.
    pub fn feasible(&self, floors: &Floors) -> bool {
        self.deficit(floors) == 0.0
    }

    /// How far the group is from its floors: missing providers count 1 each (scaled by the
    /// floor), the demand and share shortfalls as fractions.
    pub fn deficit(&self, floors: &Floors) -> f64 {
        let mut d = 0.0;
        if floors.min_demand > 0.0 && self.demand < floors.min_demand {
            d += (floors.min_demand - self.demand) / floors.min_demand;
        }
        if floors.min_providers > 0 {
            for (r, &p) in self.providers.iter().enumerate() {
                if floors.provider_roles & (1 << r) != 0 && p < floors.min_providers {
                    d += f64::from(floors.min_providers - p) / f64::from(floors.min_providers);
                }
            }
        }
        if floors.min_share > 0.0 {
            for &c in &self.covered {
                // A relative tolerance: sums of many cells differ in the last bits.
                let need = floors.min_share * self.demand * (1.0 - 1e-12);
                if c < need && self.demand > 0.0 {
                    d += (need - c) / self.demand;
                }
            }
        }
        d
    }
}

/// A partition of a unit.
#[derive(Debug, Clone, PartialEq)]
pub struct Partition {
    /// Group of each area, 0-based.
    pub labels: Vec<u32>,
    pub groups: usize,
    /// Groups that do not meet their floors (an enclave had to join them, or the unit as a
    /// whole cannot meet them).
    pub failing: usize,
    pub cost: f64,
    /// Constructions tried.
    pub iterations: usize,
    /// No partition meeting every floor has more groups ([`Unit::upper_bound`]).
    pub upper_bound: usize,
}

/// Search settings. `iterations` constructions first, then rounds of half as many while a
/// round finds a better partition (fewer groups failing, or more groups): the search stops
/// at the first round that brings none, when a partition meets every floor with the upper
/// bound's number of groups, or at `max_iterations`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    pub iterations: usize,
    pub max_iterations: usize,
    pub seed: u64,
    /// Passes of the local search (0: none).
    pub local_passes: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            iterations: 100,
            max_iterations: 2_000,
            seed: 0,
            local_passes: 20,
        }
    }
}

/// Adds `roles` to class `c`'s entry in `pending` (a [`State`]'s), listing the class in
/// `touched` when it had none.
fn note_pending(pending: &mut [u64], touched: &mut Vec<u32>, c: u32, roles: u64) {
    if pending[c as usize] == 0 {
        touched.push(c);
    }
    pending[c as usize] |= roles;
}

/// A partition being built.
struct State<'u> {
    unit: &'u Unit,
    label: Vec<u32>,
    /// Per class: roles satisfied inside the class's group.
    mask: Vec<u64>,
    accs: Vec<Acc>,
    members: Vec<Vec<u32>>,
    /// The group a construction is growing ([`NONE`] when none), and per class the roles
    /// (of those a share floor needs) satisfied for it inside that group: a class of an area
    /// joining it finds them here without looking at the members. Kept for the classes of
    /// the areas in `watched` only: they are worked out when an area is first scored as a
    /// candidate, and then updated as members join (most areas a member serves are never
    /// candidates of its group). [`Self::union_figures`] uses `pending` with `touched` while
    /// no group grows.
    growing: u32,
    pending: Vec<u64>,
    /// Per area, whether its classes' entries in `pending` are kept; and those areas.
    watched: Vec<bool>,
    watched_list: Vec<u32>,
    /// Classes with a non-zero entry in `pending` (in [`Self::union_figures`]).
    touched: Vec<u32>,
    /// Storage for the class masks an added area changes.
    changes: Vec<(u32, u64)>,
}

impl<'u> State<'u> {
    fn new(unit: &'u Unit) -> Self {
        State {
            unit,
            label: vec![NONE; unit.len()],
            mask: vec![0; unit.classes.len()],
            accs: Vec::new(),
            members: Vec::new(),
            growing: NONE,
            pending: vec![0; unit.classes.len()],
            watched: vec![false; unit.len()],
            watched_list: Vec::new(),
            touched: Vec::new(),
            changes: Vec::new(),
        }
    }

    /// Group `k` is the one growing from now on (the roles it satisfies for the classes of
    /// its candidates are kept in `pending`; see [`Self::watch`]).
    fn grow(&mut self, k: u32) {
        self.stop_growing();
        self.growing = k;
    }

    /// Keeps, from now until the group stops growing, the roles the growing group satisfies
    /// for the classes of free area `j` in `pending`: worked out from the members now, then
    /// updated by [`Self::add`]. Call before scoring `j` for the growing group.
    fn watch(&mut self, j: usize) {
        if self.watched[j] || self.growing == NONE {
            return;
        }
        let (unit, k) = (self.unit, self.growing);
        if unit.relevant != 0 {
            let (members, label) = (&self.members[k as usize], &self.label);
            for c in unit.class_ranges[j].clone() {
                self.pending[c] = unit.satisfied(c, members, |h| label[h as usize] == k);
            }
        }
        self.watched[j] = true;
        self.watched_list.push(j as u32);
    }

    fn stop_growing(&mut self) {
        for &c in &self.touched {
            self.pending[c as usize] = 0;
        }
        self.touched.clear();
        for &a in &self.watched_list {
            self.watched[a as usize] = false;
            for c in self.unit.class_ranges[a as usize].clone() {
                self.pending[c] = 0;
            }
        }
        self.watched_list.clear();
        self.growing = NONE;
    }

    fn open(&mut self) -> u32 {
        self.accs.push(Acc::empty(self.unit));
        self.members.push(Vec::new());
        (self.accs.len() - 1) as u32
    }

    /// Figures of group `k` with area `j` added, and the new masks (class, mask) it implies.
    fn with(&self, k: u32, j: usize, changes: Option<&mut Vec<(u32, u64)>>) -> Acc {
        let mut acc = self.accs[k as usize].clone();
        self.with_into(k, j, changes, &mut acc);
        acc
    }

    /// [`Self::with`] into `acc`, reusing its storage.
    fn with_into(&self, k: u32, j: usize, changes: Option<&mut Vec<(u32, u64)>>, acc: &mut Acc) {
        let unit = self.unit;
        acc.clone_from(&self.accs[k as usize]);
        acc.add_area(unit, j);
        if unit.relevant == 0 {
            return;
        }
        let label = &self.label;
        let mut changes = changes;
        // Areas not watched (none in the constructions) are looked up among the members.
        let growing = k == self.growing && self.watched[j];
        let members = &self.members[k as usize];
        let mask = |c: usize| {
            if growing {
                unit.own[c] | self.pending[c]
            } else {
                unit.satisfied(c, members, |h| label[h as usize] == k)
            }
        };
        match changes.as_deref_mut() {
            // Scoring only: the sums, not each class's mask.
            None => unit.add_classes(acc, j, mask),
            Some(ch) => {
                for c in unit.class_ranges[j].clone() {
                    let mask = mask(c);
                    acc.add_class(unit, mask, unit.class_demand[c]);
                    ch.push((c as u32, mask));
                }
            }
        }
        for &Hosted { class: c, roles, .. } in unit.hosted_for(j, |area| label[area as usize] == k) {
            let old = self.mask[c as usize];
            let new = old | roles;
            if new != old {
                acc.add_gain(unit, old, new, unit.class_demand[c as usize]);
                if let Some(ch) = changes.as_deref_mut() {
                    ch.push((c, new));
                }
            }
        }
    }

    fn add(&mut self, k: u32, j: usize) {
        if k == self.growing {
            self.watch(j);
        }
        let mut changes = std::mem::take(&mut self.changes);
        changes.clear();
        let acc = self.with(k, j, Some(&mut changes));
        for &(c, m) in &changes {
            self.mask[c as usize] = m;
        }
        self.changes = changes;
        self.accs[k as usize] = acc;
        self.label[j] = k;
        self.members[k as usize].push(j as u32);
        if k == self.growing {
            // Only the classes of the free areas watched: no other area can join the group
            // while it grows, and `pending` is read for areas about to join only.
            let unit = self.unit;
            let (watched, label) = (&self.watched, &self.label);
            for &Hosted { class: c, roles, .. } in
                unit.hosted_for(j, |area| watched[area as usize] && label[area as usize] == NONE)
            {
                self.pending[c as usize] |= roles;
            }
        }
    }

    /// Figures of groups `t` and `k` taken together, as [`Unit::figures`] gives them for
    /// `t`'s members followed by `k`'s (the same sums in the same order), from the classes'
    /// masks: a class of one group gains only the roles the other group's areas host for it.
    /// With exact sums the shares are the two groups' own plus the demand of the classes
    /// that gain a function (whole numbers: the same sums in any order), so only the classes
    /// the other group serves are looked at.
    fn union_figures(&mut self, t: u32, k: u32) -> Acc {
        debug_assert_eq!(self.growing, NONE, "no group grows while unions are scored");
        let unit = self.unit;
        if unit.relevant != 0 {
            for (side, other) in [(t, k), (k, t)] {
                for &a in &self.members[side as usize] {
                    for &Hosted { class: c, roles, .. } in
                        unit.hosted_for(a as usize, |area| self.label[area as usize] == other)
                    {
                        note_pending(&mut self.pending, &mut self.touched, c, roles);
                    }
                }
            }
        }
        let mut acc = Acc::empty(unit);
        if unit.exact && unit.relevant != 0 {
            for &m in self.members[t as usize].iter().chain(&self.members[k as usize]) {
                acc.add_area(unit, m as usize);
            }
            let (own_t, own_k) = (&self.accs[t as usize].covered, &self.accs[k as usize].covered);
            for ((covered, a), b) in acc.covered.iter_mut().zip(own_t).zip(own_k) {
                *covered = a + b;
            }
            for &c in &self.touched {
                let old = self.mask[c as usize];
                acc.add_gain(unit, old, old | self.pending[c as usize], unit.class_demand[c as usize]);
            }
            self.stop_growing();
            return acc;
        }
        for &m in self.members[t as usize].iter().chain(&self.members[k as usize]) {
            acc.add_area(unit, m as usize);
            if unit.relevant == 0 {
                continue;
            }
            for c in unit.class_ranges[m as usize].clone() {
                acc.add_class(unit, self.mask[c] | self.pending[c], unit.class_demand[c]);
            }
        }
        self.stop_growing();
        acc
    }

    /// Recomputes group `k` from its members (after a removal).
    fn rebuild(&mut self, k: u32) {
        let unit = self.unit;
        let mut acc = Acc::empty(unit);
        for &m in &self.members[k as usize] {
            acc.add_area(unit, m as usize);
        }
        for &m in &self.members[k as usize] {
            if unit.relevant == 0 {
                break;
            }
            for c in unit.class_ranges[m as usize].clone() {
                let mask = unit.satisfied(c, &self.members[k as usize], |h| self.label[h as usize] == k);
                self.mask[c] = mask;
                acc.add_class(unit, mask, unit.class_demand[c]);
            }
        }
        self.accs[k as usize] = acc;
    }

    /// Unassigned neighbours of group `k`, ascending, with their links into the group, into
    /// `out` (its storage reused).
    fn frontier(&self, k: u32, out: &mut Vec<(u32, u32)>) {
        out.clear();
        for &m in &self.members[k as usize] {
            for &b in &self.unit.neighbours[m as usize] {
                if self.label[b as usize] == NONE {
                    out.push((b, 1));
                }
            }
        }
        out.sort_unstable();
        out.dedup_by(|x, y| {
            if x.0 == y.0 {
                y.1 += x.1;
                true
            } else {
                false
            }
        });
    }
}

fn random_unit(rng: &mut Pcg64Mcg) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

fn shuffle(v: &mut [u32], rng: &mut Pcg64Mcg) {
    for i in (1..v.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
}

/// One randomised construction. `variant` 0 scores candidates by how much of the deficit
/// they close, 1 by their links into the group first, 2 adds noise to the first, 3 picks
/// them at random (a candidate that completes the group first).
fn construct<'u>(unit: &'u Unit, rng: &mut Pcg64Mcg, variant: usize) -> State<'u> {
    match construct_to_beat(unit, rng, variant, None) {
        Ok(st) => st,
        // Never given up without a count to beat.
        Err(_) => State::new(unit),
    }
}

/// A construction given up: `growing` while it grew groups (by the bound of the areas
/// left), else once it had grown them (by the groups kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct GaveUp {
    growing: bool,
}

/// [`construct`], given up as soon as it cannot end with as many groups as `beat` holds
/// (read at each check; 0: none to beat yet): when the groups it has kept, plus
/// [`Left::bound`] of the areas still free, fall short. Later steps only join and merge
/// groups, so a construction never ends with more groups than it kept while growing them
/// (or one, when it kept none).
fn construct_to_beat<'u>(
    unit: &'u Unit,
    rng: &mut Pcg64Mcg,
    variant: usize,
    beat: Option<&AtomicUsize>,
) -> Result<State<'u>, GaveUp> {
    let beat = beat.map(|b| move || b.load(AtomicOrdering::Relaxed));
    let n = unit.len();
    let floors = &unit.floors;
    let mut st = State::new(unit);
    let mut enclave = vec![false; n];
    let mut order: Vec<u32> = (0..n as u32).collect();
    shuffle(&mut order, rng);
    let mut scratch = Acc::empty(unit);
    let mut frontier = Vec::new();
    let mut left = beat.map(|_| Left::of(unit));
    for &seed in &order {
        if st.label[seed as usize] != NONE || enclave[seed as usize] {
            continue;
        }
        if let (Some(beat), Some(left)) = (&beat, &mut left) {
            for k in left.seen..st.members.len() {
                for &m in &st.members[k] {
                    left.take(unit, m as usize);
                }
            }
            left.seen = st.members.len();
            if (st.members.len() + left.bound(unit)).max(1) < beat() {
                return Err(GaveUp { growing: true });
            }
        }
        let k = st.open();
        st.grow(k);
        st.add(k, seed as usize);
        let mut ok = st.accs[k as usize].feasible(floors);
        while !ok {
            st.frontier(k, &mut frontier);
            if frontier.is_empty() {
                break;
            }
            let before = st.accs[k as usize].deficit(floors);
            // (completes, key1, key2, random) - larger is better.
            let mut best: Option<(u32, (bool, f64, f64, f64))> = None;
            for &(j, links) in &frontier {
                st.watch(j as usize);
                st.with_into(k, j as usize, None, &mut scratch);
                let after = scratch.deficit(floors);
                let completes = after == 0.0;
                let gain = before - after;
                let noise = random_unit(rng);
                let key = if variant == 3 {
                    // Random growth, as the original max-p heuristic grows regions.
                    (completes, noise, 0.0, 0.0)
                } else if completes {
                    // Close the group with as little demand as possible, compactly.
                    (true, -unit.demand[j as usize], f64::from(links), noise)
                } else {
                    match variant {
                        1 => (false, f64::from(links), gain, noise),
                        2 => (false, gain * (0.8 + 0.4 * noise), f64::from(links), noise),
                        _ => (false, gain, f64::from(links), noise),
                    }
                };
                let better = match &best {
                    None => true,
                    Some((_, b)) => key.partial_cmp(b) == Some(std::cmp::Ordering::Greater),
                };
                if better {
                    best = Some((j, key));
                }
            }
            // The frontier was checked to be non-empty above.
            let Some((j, _)) = best else { break };
            st.add(k, j as usize);
            ok = st.accs[k as usize].feasible(floors);
        }
        st.stop_growing();
        if !ok {
            // Give the areas back as enclaves; the group is dropped.
            let members = st.members.pop().unwrap_or_default();
            st.accs.pop();
            for m in members {
                st.label[m as usize] = NONE;
                enclave[m as usize] = true;
            }
        }
    }
    if let Some(beat) = &beat {
        if st.members.len().max(1) < beat() {
            return Err(GaveUp { growing: false });
        }
    }
    assign_enclaves(&mut st);
    repair(&mut st);
    Ok(st)
}

/// The sums of some areas that [`Unit::bound_of`] bounds their groups by.
struct AreaSums {
    areas: usize,
    demand: f64,
    /// Per role: providers, and areas with a provider.
    providers: Vec<u64>,
    hosts: Vec<usize>,
    /// Areas without demand.
    empty: usize,
}

impl AreaSums {
    /// The sums of the areas `inside` says, added in the areas' order.
    fn of(unit: &Unit, inside: impl Fn(usize) -> bool) -> AreaSums {
        let mut sums = AreaSums {
            areas: 0,
            demand: 0.0,
            providers: vec![0; unit.roles],
            hosts: vec![0; unit.roles],
            empty: 0,
        };
        for a in (0..unit.len()).filter(|&a| inside(a)) {
            sums.areas += 1;
            sums.demand += unit.demand[a];
            sums.empty += usize::from(unit.demand[a] <= 0.0);
            for r in 0..unit.roles {
                let p = unit.providers[a * unit.roles + r];
                sums.providers[r] += u64::from(p);
                sums.hosts[r] += usize::from(p > 0);
            }
        }
        sums
    }

    /// Takes area `a` (one of the areas summed) away.
    fn take(&mut self, unit: &Unit, a: usize) {
        self.areas -= 1;
        self.demand -= unit.demand[a];
        self.empty -= usize::from(unit.demand[a] <= 0.0);
        for r in 0..unit.roles {
            let p = unit.providers[a * unit.roles + r];
            self.providers[r] -= u64::from(p);
            self.hosts[r] -= usize::from(p > 0);
        }
    }

    /// The bound of [`Unit::bound_of`], with `demand` (the areas' demand with the caller's
    /// tolerance) for the demand floor: at most `demand / min_demand` groups; for a role with
    /// a provider floor, at most as many as areas hosting the role and as its providers over
    /// the floor; for a role a share floor needs, at most as many groups with demand as areas
    /// hosting it, plus the areas without demand. It takes an area that hosts a role for a
    /// class to have a provider of the role, as the supply model's hosts do.
    fn bound(&self, unit: &Unit, demand: f64) -> usize {
        let f = &unit.floors;
        let mut bound = self.areas;
        if f.min_demand > 0.0 {
            bound = bound.min((demand / f.min_demand).floor() as usize);
        }
        if f.min_providers > 0 {
            for r in (0..unit.roles).filter(|&r| f.provider_roles & (1 << r) != 0) {
                bound = bound
                    .min(self.hosts[r])
                    .min((self.providers[r] / u64::from(f.min_providers)) as usize);
            }
        }
        if f.min_share > 0.0 {
            for r in (0..unit.roles).filter(|&r| unit.relevant & (1 << r) != 0) {
                bound = bound.min(self.hosts[r] + self.empty);
            }
        }
        bound
    }
}

/// The areas outside the groups a construction has kept (enclaves among them: a later
/// group may still grow into one), as their [`AreaSums`], kept as areas join groups.
struct Left {
    sums: AreaSums,
    /// Groups whose members have left already.
    seen: usize,
    /// A slack on the demand, which loses its last bits as areas are taken away.
    slack: f64,
}

impl Left {
    fn of(unit: &Unit) -> Left {
        let sums = AreaSums::of(unit, |_| true);
        let slack = sums.demand.abs() * 1e-9;
        Left { sums, seen: 0, slack }
    }

    fn take(&mut self, unit: &Unit, a: usize) {
        self.sums.take(unit, a);
    }

    /// [`Unit::bound_of`] the areas left, or more (by the slack on the demand).
    fn bound(&self, unit: &Unit) -> usize {
        self.sums.bound(unit, (self.sums.demand + self.slack).max(0.0))
    }
}

/// Merges every group that misses its floors with the neighbouring group that leaves the
/// union nearest its floors (then the least travel), until none misses them or no merge
/// helps. The unit as a whole meets its floors, so merging ends there at worst.
fn repair(st: &mut State) {
    let unit = st.unit;
    let floors = &unit.floors;
    loop {
        let Some(k) = (0..st.accs.len()).find(|&k| !st.accs[k].feasible(floors)) else {
            return;
        };
        let mut targets: Vec<u32> = st.members[k]
            .iter()
            .flat_map(|&m| unit.neighbours[m as usize].iter().map(|&b| st.label[b as usize]))
            .filter(|&l| l != k as u32 && l != NONE)
            .collect();
        targets.sort_unstable();
        targets.dedup();
        let deficits: Vec<f64> = targets
            .iter()
            .map(|&t| st.union_figures(t, k as u32).deficit(floors))
            .collect();
        let union = |t: u32| {
            let mut union = st.members[t as usize].clone();
            union.extend(&st.members[k]);
            union
        };
        let Some(least) = deficits.iter().copied().reduce(f64::min) else {
            return;
        };
        // The travel only breaks ties (the first of the lowest wins): a single union
        // nearest its floors needs none.
        let tied: Vec<u32> = targets
            .iter()
            .zip(&deficits)
            .filter(|&(_, &d)| d == least)
            .map(|(&t, _)| t)
            .collect();
        let t = if tied.len() == 1 {
            tied[0]
        } else {
            let mut best: Option<(f64, u32)> = None;
            for &t in &tied {
                let cost = unit.cost(&union(t));
                if best.is_none_or(|b| cost < b.0) {
                    best = Some((cost, t));
                }
            }
            match best {
                Some((_, t)) => t,
                None => return,
            }
        };
        // Move k's areas into t, then drop k (the last group takes its number).
        let moved = std::mem::take(&mut st.members[k]);
        for &m in &moved {
            st.label[m as usize] = t;
        }
        st.members[t as usize].extend(moved);
        st.rebuild(t);
        let last = st.accs.len() - 1;
        st.members.swap_remove(k);
        st.accs.swap_remove(k);
        if k != last {
            for &m in &st.members[k] {
                st.label[m as usize] = k as u32;
            }
        }
    }
}

/// Joins every area left without a group to a neighbouring group: one that keeps its floors
/// (the least added travel) where possible, else the one left closest to its floors. With no
/// group at all, the whole unit becomes one.
fn assign_enclaves(st: &mut State) {
    let unit = st.unit;
    let n = unit.len();
    if st.accs.is_empty() {
        let k = st.open();
        for j in 0..n {
            st.add(k, j);
        }
        return;
    }
    let mut strict = true;
    loop {
        let left: Vec<usize> = (0..n).filter(|&j| st.label[j] == NONE).collect();
        if left.is_empty() {
            return;
        }
        let mut progress = false;
        for j in left {
            let mut groups: Vec<u32> = unit.neighbours[j]
                .iter()
                .map(|&b| st.label[b as usize])
                .filter(|&l| l != NONE)
                .collect();
            groups.sort_unstable();
            groups.dedup();
            // (deficit after, added travel, group)
            let mut best: Option<(f64, f64, u32)> = None;
            for &k in &groups {
                let acc = st.with(k, j, None);
                let deficit = acc.deficit(&unit.floors);
                if strict && deficit > st.accs[k as usize].deficit(&unit.floors) {
                    continue;
                }
                let added = unit.joining_cost(&st.members[k as usize], j as u32);
                let key = (deficit, added, k);
                if best.is_none_or(|b| key.0 < b.0 || (key.0 == b.0 && (key.1 < b.1 || (key.1 == b.1 && key.2 < b.2))))
                {
                    best = Some(key);
                }
            }
            if let Some((_, _, k)) = best {
                st.add(k, j);
                progress = true;
            }
        }
        if !progress {
            if !strict {
                // Unreachable in a connected unit; join what is left to group 0 rather than
                // lose areas.
                for j in 0..n {
                    if st.label[j] == NONE {
                        st.add(0, j);
                    }
                }
                return;
            }
            strict = false;
        } else {
            strict = true;
        }
    }
}

/// Splits one group in two where it can: from each member in turn, grows a part inside
/// the group (closing the deficit greedily, as the constructions do) until it meets the
/// floors, and keeps the split when the rest is connected and meets them too. Returns
/// whether a group was split.
fn split(st: &mut State) -> bool {
    let unit = st.unit;
    let floors = &unit.floors;
    for k in 0..st.members.len() {
        if !st.accs[k].feasible(floors) || st.members[k].len() < 2 {
            continue;
        }
        let mut members = st.members[k].clone();
        members.sort_unstable();
        for &seed in &members {
            let mut part = vec![seed];
            let mut acc = unit.figures(&part);
            while !acc.feasible(floors) {
                let mut best: Option<(u32, (bool, f64, usize), Acc)> = None;
                for &m in &members {
                    if part.contains(&m) {
                        continue;
                    }
                    let links = unit.neighbours[m as usize].iter().filter(|b| part.contains(b)).count();
                    if links == 0 {
                        continue;
                    }
                    let mut with = part.clone();
                    with.push(m);
                    let a = unit.figures(&with);
                    let after = a.deficit(floors);
                    let key = (after == 0.0, -after, links);
                    if best
                        .as_ref()
                        .is_none_or(|b| key.partial_cmp(&b.1) == Some(std::cmp::Ordering::Greater))
                    {
                        best = Some((m, key, a));
                    }
                }
                let Some((m, _, a)) = best else {
                    break;
                };
                part.push(m);
                acc = a;
            }
            if !acc.feasible(floors) || part.len() == members.len() {
                continue;
            }
            let rest: Vec<u32> = members.iter().copied().filter(|m| !part.contains(m)).collect();
            if !unit.figures(&rest).feasible(floors) || !connected(unit, &rest) {
                continue;
            }
            st.members[k] = rest;
            for &m in &part {
                st.label[m as usize] = NONE;
            }
            st.rebuild(k as u32);
            let new = st.open();
            for m in part {
                st.add(new, m as usize);
            }
            return true;
        }
    }
    false
}

/// Whether `members` form one connected group.
fn connected(unit: &Unit, members: &[u32]) -> bool {
    let Some(&start) = members.first() else {
        return false;
    };
    let mut seen = vec![start];
    let mut stack = vec![start];
    while let Some(m) = stack.pop() {
        for &b in &unit.neighbours[m as usize] {
            if members.contains(&b) && !seen.contains(&b) {
                seen.push(b);
                stack.push(b);
            }
        }
    }
    seen.len() == members.len()
}

/// Whether group `k` stays connected without area `j`.
fn connected_without(st: &State, k: u32, j: u32) -> bool {
    let members = &st.members[k as usize];
    let Some(&start) = members.iter().find(|&&m| m != j) else {
        return false;
    };
    let mut seen = vec![start];
    let mut stack = vec![start];
    while let Some(m) = stack.pop() {
        for &b in &st.unit.neighbours[m as usize] {
            if b != j && st.label[b as usize] == k && !seen.contains(&b) {
                seen.push(b);
                stack.push(b);
            }
        }
    }
    seen.len() == members.len() - 1
}

/// Moves border areas between groups while the total travel cost falls, every group
/// affected keeps its floors (or, if failing, gets no further from them) and stays
/// connected.
fn local_search(st: &mut State, passes: usize) {
    let unit = st.unit;
    let floors = &unit.floors;
    let mut cost: Vec<f64> = st.members.iter().map(|m| unit.cost(m)).collect();
    for _ in 0..passes {
        let mut moved = false;
        for j in 0..unit.len() as u32 {
            let from = st.label[j as usize];
            if st.members[from as usize].len() <= 1 {
                continue;
            }
            let mut targets: Vec<u32> = unit.neighbours[j as usize]
                .iter()
                .map(|&b| st.label[b as usize])
                .filter(|&l| l != from)
                .collect();
            targets.sort_unstable();
            targets.dedup();
            if targets.is_empty() || !connected_without(st, from, j) {
                continue;
            }
            let rest: Vec<u32> = st.members[from as usize].iter().copied().filter(|&m| m != j).collect();
            let rest_acc = unit.figures(&rest);
            if rest_acc.deficit(floors) > st.accs[from as usize].deficit(floors) {
                continue;
            }
            let rest_cost = unit.cost(&rest);
            let mut best: Option<(f64, u32)> = None;
            for &to in &targets {
                let acc = st.with(to, j as usize, None);
                if acc.deficit(floors) > st.accs[to as usize].deficit(floors) {
                    continue;
                }
                let mut with = st.members[to as usize].clone();
                with.push(j);
                let delta = rest_cost + unit.cost(&with) - cost[from as usize] - cost[to as usize];
                if delta < -1e-9 * (1.0 + cost[from as usize] + cost[to as usize]) && best.is_none_or(|b| delta < b.0) {
                    best = Some((delta, to));
                }
            }
            if let Some((_, to)) = best {
                st.members[from as usize].retain(|&m| m != j);
                st.label[j as usize] = NONE;
                st.rebuild(from);
                st.add(to, j as usize);
                cost[from as usize] = unit.cost(&st.members[from as usize]);
                cost[to as usize] = unit.cost(&st.members[to as usize]);
                moved = true;
            }
        }
        if !moved {
            break;
        }
    }
}

fn summarise(st: &State, iterations: usize) -> Partition {
    let unit = st.unit;
    // Number groups by their smallest area, so labels do not depend on construction order.
    let mut firsts: Vec<(u32, usize)> = st
        .members
        .iter()
        .enumerate()
        .map(|(k, m)| (m.iter().min().copied().unwrap_or(u32::MAX), k))
        .collect();
    firsts.sort_unstable();
    let mut renumber = vec![0u32; st.members.len()];
    for (new, &(_, old)) in firsts.iter().enumerate() {
        renumber[old] = new as u32;
    }
    Partition {
        labels: st.label.iter().map(|&l| renumber[l as usize]).collect(),
        groups: st.members.len(),
        failing: st.accs.iter().filter(|a| !a.feasible(&unit.floors)).count(),
        cost: st.members.iter().map(|m| unit.cost(m)).sum(),
        iterations,
        upper_bound: unit.upper_bound(),
    }
}

/// Solves one unit. The unit's link graph must be connected.
pub fn solve(unit: &Unit, settings: &Settings) -> Partition {
    let n = unit.len();
    if n == 0 {
        return Partition {
            labels: Vec::new(),
            groups: 0,
            failing: 0,
            cost: 0.0,
            iterations: 0,
            upper_bound: 0,
        };
    }
    // Each construction has its own random stream, so they run in parallel and the answer
    // does not depend on the number of threads.
    let rng = |it: usize| Pcg64Mcg::seed_from_u64(settings.seed.rotate_left(32) ^ it as u64);
    let round = settings.iterations.max(1);
    let most = settings.max_iterations.max(round);
    let bound = unit.upper_bound();
    // The most groups of a finished construction that fails nowhere: a construction that
    // cannot reach as many gives up, since it would lose to that one whatever it fails (with
    // as many it may still win on cost), and gets a key that loses to every other. The
    // best partition never gives up, so it, and each round's, is the same as with every
    // construction finished, whichever gave up first on whichever thread.
    let beat = AtomicUsize::new(0);
    let evaluate = |it: usize| match construct_to_beat(unit, &mut rng(it), it % VARIANTS, Some(&beat)) {
        Ok(st) => {
            let failing = st.accs.iter().filter(|a| !a.feasible(&unit.floors)).count();
            if failing == 0 {
                beat.fetch_max(st.members.len(), AtomicOrdering::Relaxed);
            }
            let cost: f64 = st.members.iter().map(|m| unit.cost(m)).sum();
            (failing, st.members.len(), cost)
        }
        Err(_) => (usize::MAX, 0, f64::INFINITY),
    };
    // Fewer failing groups first, then more groups, then lower cost, then the earliest.
    let order = |keys: &[(usize, usize, f64)], x: usize, y: usize| {
        let (a, b) = (keys[x], keys[y]);
        a.0.cmp(&b.0)
            .then(b.1.cmp(&a.1))
            .then(a.2.total_cmp(&b.2))
            .then(x.cmp(&y))
    };
    let mut keys: Vec<(usize, usize, f64)> = Vec::new();
    let mut best = 0;
    let mut stale = 0;
    loop {
        let start = keys.len();
        let size = if start == 0 { round } else { round.div_ceil(2) };
        let end = (start + size).min(most);
        let new: Vec<(usize, usize, f64)> = (start..end).into_par_iter().map(evaluate).collect();
        keys.extend(new);
        let previous = (start > 0).then(|| (keys[best].0, keys[best].1));
        best = (0..keys.len()).min_by(|&x, &y| order(&keys, x, y)).unwrap_or(0);
        let now = (keys[best].0, keys[best].1);
        // A round is evidence of progress when it found fewer failing groups or more groups.
        let improved = previous.is_none_or(|(f, g)| now.0 < f || (now.0 == f && now.1 > g));
        let at_bound = now.0 == 0 && now.1 >= bound;
        stale = if improved { 0 } else { stale + 1 };
        if at_bound || stale >= PATIENCE || keys.len() >= most {
            break;
        }
    }
    let tried = keys.len();
    let mut st = construct(unit, &mut rng(best), best % VARIANTS);
    while split(&mut st) {}
    local_search(&mut st, settings.local_passes);
    summarise(&st, tried)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `w` x `w` grid of areas, each with 1 to 3 classes of places whose hosts of each of
    /// three roles are random areas within two steps (the class's own area among them or not).
    fn random_unit(w: usize, rng: &mut Pcg64Mcg) -> Unit {
        random_unit_of(w, rng, false)
    }

    /// [`random_unit`], the classes' demand whole numbers when `whole`.
    fn random_unit_of(w: usize, rng: &mut Pcg64Mcg, whole: bool) -> Unit {
        random_unit_with(w, rng, whole, false)
    }

    /// [`random_unit_of`]; with `supplied`, an area hosts a role for a class only where it
    /// has a provider of the role, as in the supply model (which [`Unit::bound_of`] takes
    /// for granted), else hosts and providers are drawn apart.
    fn random_unit_with(w: usize, rng: &mut Pcg64Mcg, whole: bool, supplied: bool) -> Unit {
        let n = w * w;
        let roles = 3;
        let mut neighbours = vec![Vec::new(); n];
        for i in 0..n {
            let (x, y) = (i % w, i / w);
            if x + 1 < w {
                neighbours[i].push((i + 1) as u32);
                neighbours[i + 1].push(i as u32);
            }
            if y + 1 < w {
                neighbours[i].push((i + w) as u32);
                neighbours[i + w].push(i as u32);
            }
        }
        for list in &mut neighbours {
            list.sort_unstable();
        }
        let mut classes = Vec::new();
        let mut hosts = Vec::new();
        for a in 0..n {
            let (ax, ay) = ((a % w) as i64, (a / w) as i64);
            let near: Vec<u32> = (0..n)
                .filter(|&b| ((b % w) as i64 - ax).abs() + ((b / w) as i64 - ay).abs() <= 2)
                .map(|b| b as u32)
                .collect();
            for _ in 0..1 + rng.next_u64() % 3 {
                let mut ranges = Vec::new();
                for _ in 0..roles {
                    let start = hosts.len() as u32;
                    hosts.extend(near.iter().copied().filter(|_| rng.next_u64().is_multiple_of(4)));
                    ranges.push(start..hosts.len() as u32);
                }
                classes.push(UnitClass {
                    area: a as u32,
                    demand: (1 + rng.next_u64() % 1000) as f64 / if whole { 1.0 } else { 7.0 },
                    roles: ranges,
                });
            }
        }
        let providers: Vec<u32> = (0..n * roles).map(|_| (rng.next_u64() % 2) as u32).collect();
        if supplied {
            let mut kept = Vec::new();
            for class in &mut classes {
                for (r, range) in class.roles.iter_mut().enumerate() {
                    let start = kept.len() as u32;
                    kept.extend(
                        hosts[range.start as usize..range.end as usize]
                            .iter()
                            .filter(|&&h| providers[h as usize * roles + r] > 0),
                    );
                    *range = start..kept.len() as u32;
                }
            }
            hosts = kept;
        }
        // Supplied units have areas without demand too (about one in ten).
        let demand = (0..n)
            .map(|_| match rng.next_u64() % 100 {
                k if supplied && k < 10 => 0.0,
                k => (1 + k) as f64 / 3.0,
            })
            .collect();
        let dist = (0..n * n).map(|k| ((k / n) as f32 - (k % n) as f32).abs()).collect();
        let floors = Floors {
            min_demand: 60.0,
            min_providers: 1,
            provider_roles: 0b011,
            min_share: 0.6,
            share_functions: vec![0b011, 0b110, 0b101],
        };
        Unit::new(neighbours, demand, roles, providers, classes, hosts, dist, floors)
    }

    /// A group's travel is its definition: per member, the mean over the floor's roles of
    /// the distance to the nearest member providing the role (1e4 where none does),
    /// weighted by the member's demand; bit for bit, on random units and groups.
    #[test]
    fn travel_cost_is_its_definition() {
        let mut missing = 0;
        for seed in 0..30u64 {
            let mut rng = Pcg64Mcg::seed_from_u64(seed);
            let unit = random_unit(3 + (seed % 5) as usize, &mut rng);
            let n = unit.len();
            for _ in 0..20 {
                let members: Vec<u32> = (0..n as u32).filter(|_| rng.next_u64() % 3 == 0).collect();
                let mut want = 0.0;
                for &m in &members {
                    let mut sum = 0.0;
                    // The floor's roles: 0 and 1 (`provider_roles` 0b011), in that order.
                    for r in 0..2 {
                        let near = members
                            .iter()
                            .filter(|&&h| unit.providers[h as usize * unit.roles + r] > 0)
                            .map(|&h| f64::from(unit.dist[m as usize * n + h as usize]))
                            .fold(f64::INFINITY, f64::min);
                        if near.is_infinite() {
                            missing += 1;
                        }
                        sum += if near.is_finite() { near } else { 1e4 };
                    }
                    want += unit.demand[m as usize] * sum / 2.0;
                }
                assert_eq!(
                    unit.cost(&members).to_bits(),
                    want.to_bits(),
                    "seed {seed}, {members:?}"
                );
            }
        }
        // Groups missing a role were among them.
        assert!(missing > 0);
    }

    /// The exact search's bound of a set ([`crate::catchments::exact::SetBound::of`]) is
    /// [`Unit::bound_of`] of its areas, with floors of one, two and three providers and
    /// areas holding up to three providers of a role.
    #[test]
    fn set_bounds_are_the_units_bounds() {
        use crate::catchments::exact::SetBound;
        for seed in 0..24u64 {
            let mut rng = Pcg64Mcg::seed_from_u64(seed);
            let drawn = random_unit(3 + (seed % 6) as usize, &mut rng);
            let providers: Vec<u32> = drawn
                .providers
                .iter()
                .map(|&p| p * (1 + (rng.next_u64() % 3) as u32))
                .collect();
            for min_providers in [1, 2, 3] {
                let mut floors = drawn.floors.clone();
                floors.min_providers = min_providers;
                let unit = Unit::new(
                    drawn.neighbours.clone(),
                    drawn.demand.clone(),
                    drawn.roles,
                    providers.clone(),
                    drawn.classes.clone(),
                    drawn.hosts.clone(),
                    drawn.dist.clone(),
                    floors,
                );
                let bound = SetBound::new(&unit);
                let all = if unit.len() == 64 {
                    u64::MAX
                } else {
                    (1u64 << unit.len()) - 1
                };
                for _ in 0..50 {
                    let set = rng.next_u64() & all;
                    assert_eq!(
                        bound.of(set),
                        unit.bound_of(|a| set >> a & 1 == 1),
                        "seed {seed}, floor {min_providers}, set {set:b}"
                    );
                }
            }
        }
    }

    /// Sets grown one area at a time ([`Unit::add_to_set`]), and shrunk again by undoing the
    /// masks, have the figures [`Unit::figures_of_set`] works out from scratch, bit for bit,
    /// in units whose sets add up; units with fractional demand do not claim to.
    #[test]
    fn sets_grown_one_area_at_a_time_add_up() {
        let mut checked = 0;
        for seed in 0..24u64 {
            let mut rng = Pcg64Mcg::seed_from_u64(seed);
            let whole = seed % 3 != 0;
            let drawn = random_unit_of(3 + (seed % 6) as usize, &mut rng, whole);
            assert!(!drawn.sets_add_up(), "areas' demand in thirds");
            // The same unit with its areas' demand as whole numbers.
            let unit = Unit::new(
                drawn.neighbours.clone(),
                drawn.demand.iter().map(|d| (d * 3.0).round()).collect(),
                drawn.roles,
                drawn.providers.clone(),
                drawn.classes.clone(),
                drawn.hosts.clone(),
                drawn.dist.clone(),
                drawn.floors.clone(),
            );
            assert_eq!(unit.sets_add_up(), whole, "seed {seed}");
            if !whole {
                continue;
            }
            let n = unit.len();
            let (mut members, mut masks, mut undo) = (Vec::new(), vec![0; unit.class_count()], Vec::new());
            for _ in 0..30 {
                // Areas in a random order, each added to those before it; then the last few
                // taken off again (their gains undone) and others added instead.
                let mut order: Vec<u32> = (0..n as u32).collect();
                shuffle(&mut order, &mut rng);
                let first = order[0] as usize;
                let mut stack = vec![(1u64 << first, unit.figures_of_area(first, &mut masks), 0)];
                for &v in order.iter().skip(1) {
                    if rng.next_u64() % 3 == 0 && stack.len() > 1 {
                        let (_, _, mark) = stack.pop().unwrap();
                        while undo.len() > mark {
                            let (c, m): (u32, u64) = undo.pop().unwrap();
                            masks[c as usize] = m;
                        }
                    }
                    let (set, acc, _) = stack.last().unwrap();
                    let (set, mut acc, mark) = (*set, acc.clone(), undo.len());
                    unit.add_to_set(&mut acc, set, v as usize, &mut masks, &mut undo);
                    assert_eq!(acc, unit.figures_of_set(set | 1 << v, &mut members), "seed {seed}");
                    stack.push((set | 1 << v, acc, mark));
                    checked += 1;
                }
            }
        }
        assert!(checked > 1_000, "only {checked} sets checked");
    }

    /// A growing group scores its candidates from the roles kept for the areas it watches:
    /// the figures are those of the members and the candidate worked out from scratch
    /// (whole-number demand: the same sums in any order), and those of looking the candidate's
    /// classes up among the members (any demand), as members join one by one.
    #[test]
    fn a_growing_group_scores_candidates_as_from_scratch() {
        let mut scored = 0;
        for seed in 0..60u64 {
            let mut rng = Pcg64Mcg::seed_from_u64(seed);
            let whole = seed % 2 == 0;
            let unit = random_unit_of(3 + (seed % 7) as usize, &mut rng, whole);
            let mut st = State::new(&unit);
            let k = st.open();
            st.grow(k);
            st.add(k, (rng.next_u64() % unit.len() as u64) as usize);
            let mut frontier = Vec::new();
            loop {
                if whole {
                    assert_eq!(
                        st.accs[k as usize],
                        unit.figures(&st.members[k as usize]),
                        "seed {seed}"
                    );
                }
                st.frontier(k, &mut frontier);
                if frontier.is_empty() {
                    break;
                }
                for (i, &(j, _)) in frontier.iter().enumerate() {
                    let looked_up = st.with(k, j as usize, None);
                    // Every other candidate watched: those scored both ways.
                    if i % 2 == 0 {
                        st.watch(j as usize);
                        assert!(st.watched[j as usize]);
                    }
                    let scored_now = st.with(k, j as usize, None);
                    assert_eq!(scored_now, looked_up, "seed {seed}, candidate {j}");
                    let mut with = st.members[k as usize].clone();
                    with.push(j);
                    if whole {
                        assert_eq!(scored_now, unit.figures(&with), "seed {seed}, candidate {j}");
                    }
                    scored += 1;
                }
                let pick = frontier[(rng.next_u64() % frontier.len() as u64) as usize].0;
                st.add(k, pick as usize);
            }
            st.stop_growing();
            assert!(st.pending.iter().all(|&p| p == 0) && st.watched.iter().all(|&w| !w));
        }
        assert!(scored > 1_000, "only {scored} candidates scored");
    }

    /// A construction given a count to beat gives up only when it would have ended with
    /// fewer groups, and otherwise ends as it would have without one; it gives up both
    /// while it grows groups (the bound of the areas left) and after (the groups kept).
    #[test]
    fn a_construction_gives_up_only_when_it_cannot_beat_the_count() {
        let (mut early, mut late, mut finished) = (0, 0, 0);
        for seed in 0..300u64 {
            let mut rng = Pcg64Mcg::seed_from_u64(seed);
            let unit = random_unit_with(3 + (seed % 6) as usize, &mut rng, seed % 2 == 0, true);
            let variant = (seed % VARIANTS as u64) as usize;
            let full = construct(&unit, &mut Pcg64Mcg::seed_from_u64(seed ^ 7), variant);
            let groups = full.members.len();
            for beat in groups.saturating_sub(1)..groups + 4 {
                let run = construct_to_beat(
                    &unit,
                    &mut Pcg64Mcg::seed_from_u64(seed ^ 7),
                    variant,
                    Some(&AtomicUsize::new(beat)),
                );
                match run {
                    Ok(st) => {
                        assert_eq!((&st.label, &st.members), (&full.label, &full.members), "seed {seed}");
                        finished += usize::from(beat > groups);
                    }
                    Err(gave_up) => {
                        assert!(groups < beat, "seed {seed}: gave up on {groups} groups against {beat}");
                        if gave_up.growing {
                            early += 1;
                        } else {
                            late += 1;
                        }
                    }
                }
            }
        }
        assert!(early > 50 && late > 50, "gave up early {early}, late {late} times");
        // Some could not be told from the bound alone.
        assert!(finished > 0, "never finished a construction that could not win");
        // A unit whose floors no group meets ends as one group, which beats 1.
        let mut unit = random_unit_with(4, &mut Pcg64Mcg::seed_from_u64(1), false, true);
        unit.floors.min_demand = 1e12;
        assert_eq!(unit.bound_of(|_| true), 0);
        for variant in 0..VARIANTS {
            let run = construct_to_beat(
                &unit,
                &mut Pcg64Mcg::seed_from_u64(3),
                variant,
                Some(&AtomicUsize::new(1)),
            );
            assert_eq!(run.map(|st| st.members.len()), Ok(1), "variant {variant}");
        }
    }

    /// The areas left of a construction have [`Unit::bound_of`] as their bound, as areas are
    /// taken one by one.
    #[test]
    fn the_bound_of_the_areas_left_is_that_of_the_unit() {
        let (mut below, mut empty) = (0, 0);
        for seed in 0..60u64 {
            let mut rng = Pcg64Mcg::seed_from_u64(seed);
            let mut unit = random_unit_with(3 + (seed % 6) as usize, &mut rng, seed % 2 == 1, true);
            if seed % 5 == 0 {
                // No floors: every area could stand alone.
                unit.floors.min_demand = 0.0;
                unit.floors.min_providers = 0;
                unit.floors.min_share = 0.0;
            }
            let mut order: Vec<u32> = (0..unit.len() as u32).collect();
            shuffle(&mut order, &mut rng);
            let mut left = Left::of(&unit);
            let mut taken = vec![false; unit.len()];
            assert_eq!(left.bound(&unit), unit.bound_of(|_| true), "seed {seed}");
            for &a in &order {
                left.take(&unit, a as usize);
                taken[a as usize] = true;
                let want = unit.bound_of(|b| !taken[b]);
                assert_eq!(left.bound(&unit), want, "seed {seed}");
                below += usize::from(want < unit.len() - taken.iter().filter(|&&t| t).count());
            }
            empty += unit.demand.iter().filter(|&&d| d <= 0.0).count();
        }
        assert!(
            below > 100,
            "the floors bound the count below the areas only {below} times"
        );
        assert!(empty > 20, "only {empty} areas without demand");
    }

    #[test]
    fn union_figures_equal_the_figures_of_the_union() {
        let mut compared = 0;
        for seed in 0..40u64 {
            let mut rng = Pcg64Mcg::seed_from_u64(seed);
            // Whole-number demand (the exact sums' shortcut) in every other unit.
            let whole = (seed / 4) % 2 == 0;
            let unit = random_unit_of(3 + (seed % 4) as usize, &mut rng, whole);
            assert_eq!(unit.exact, whole);
            let mut st = construct(&unit, &mut rng, (seed % VARIANTS as u64) as usize);
            let groups = st.members.len() as u32;
            for t in 0..groups {
                for k in 0..groups {
                    if t == k {
                        continue;
                    }
                    let mut union = st.members[t as usize].clone();
                    union.extend(&st.members[k as usize]);
                    assert_eq!(
                        st.union_figures(t, k),
                        unit.figures(&union),
                        "seed {seed}, groups {t} and {k}"
                    );
                    compared += 1;
                }
            }
            assert!(st.pending.iter().all(|&p| p == 0) && st.touched.is_empty());
        }
        assert!(compared > 100, "only {compared} unions compared");
    }

    /// The shortcuts (groups as area bits in units of up to 64 areas; whole-number demand
    /// summed in two parts) give exactly what the plain paths give: the same figures of any
    /// set and the same partitions.
    #[test]
    fn shortcuts_give_what_the_plain_paths_give() {
        let mut exact_units = 0;
        let mut set_units = 0;
        for seed in 0..32u64 {
            let mut rng = Pcg64Mcg::seed_from_u64(seed);
            let whole = seed % 2 == 0;
            // 3x3 to 9x9 areas: up to 64 with area bits, 81 without.
            let unit = random_unit_of(3 + (seed % 7) as usize, &mut rng, whole);
            assert_eq!(unit.exact, whole, "seed {seed}");
            assert_eq!(!unit.set_ranges.is_empty(), unit.len() <= 64, "seed {seed}");
            exact_units += usize::from(unit.exact);
            set_units += usize::from(!unit.set_ranges.is_empty());
            let mut plain = unit.clone();
            plain.exact = false;
            plain.set_ranges.clear();
            plain.host_sets.clear();
            let n = unit.len() as u32;
            for _ in 0..50 {
                let members: Vec<u32> = (0..n).filter(|_| rng.next_u64().is_multiple_of(3)).collect();
                assert_eq!(unit.figures(&members), plain.figures(&members), "seed {seed}");
                if n <= 64 {
                    let set = members.iter().fold(0u64, |s, &m| s | 1 << m);
                    let mut buffer = Vec::new();
                    assert_eq!(
                        unit.figures_of_set(set, &mut buffer),
                        plain.figures(&members),
                        "seed {seed}"
                    );
                }
            }
            let settings = Settings {
                iterations: 8,
                seed,
                ..Settings::default()
            };
            assert_eq!(solve(&unit, &settings), solve(&plain, &settings), "seed {seed}");
        }
        assert!(exact_units >= 10 && (10..32).contains(&set_units));
    }
}
