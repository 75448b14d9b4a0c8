//! Who serves whom inside an area. A place is covered *in an area* for a function when every
//! required role has a provider within reach that is located in one of the area's
//! municipalities. For each demand place and role this module records the municipalities
//! hosting such a provider ("hosts"); places of one municipality with the same hosts for
//! every role are merged into a class, so an area's in-area coverage is a sum over a few
//! classes per municipality, whatever the layout. In travel-time mode "within reach" is by
//! road (or an OD matrix) within the role's `reach_min` and `reach_km`, as coverage counts it;
//! contiguity stays that of the polygons.

use crate::demand::Demand;
use crate::inputs::institutions::Institution;
use crate::inputs::rules::Rules;
use crate::reach::pairs::Travel;
use crate::reach::straight::{metres_per_degree, within_m};
use crate::study::Study;
use rayon::prelude::*;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};
use std::ops::Range;

/// Most roles an area model follows (role sets are `u64` masks).
pub const MAX_ROLES: usize = 64;

/// Demand places of one municipality that share their hosts for every role.
#[derive(Debug, Clone, PartialEq)]
pub struct Class {
    /// Index of the municipality the places lie in.
    pub municipality: u32,
    pub demand: f64,
    /// Per role, a range into [`Supply::hosts`]: the municipalities hosting a provider of
    /// the role within reach of these places (ascending).
    pub roles: Vec<Range<u32>>,
}

/// The in-area supply model of a study.
#[derive(Debug, Clone, PartialEq)]
pub struct Supply {
    /// Demand per municipality.
    pub demand: Vec<f64>,
    /// Providers located in each municipality, per role: `providers[m * roles + r]`.
    pub providers: Vec<u32>,
    pub roles: usize,
    /// Classes, grouped by municipality in municipality order.
    pub classes: Vec<Class>,
    /// The classes of each municipality.
    pub class_ranges: Vec<Range<usize>>,
    pub hosts: Vec<u32>,
    /// Required roles of each function, as masks over roles.
    pub required: Vec<u64>,
    /// Demand of every class in other years (projected population): `year_demand[k][c]`.
    /// Empty for a single year.
    pub year_demand: Vec<Vec<f64>>,
}

impl Supply {
    /// The same model with the demand of year `k` of [`Supply::year_demand`]: who serves
    /// whom does not depend on demand, so only the class and municipality totals change.
    pub fn for_year(&self, k: usize) -> Supply {
        let mut out = Supply {
            demand: vec![0.0; self.demand.len()],
            providers: self.providers.clone(),
            roles: self.roles,
            classes: self.classes.clone(),
            class_ranges: self.class_ranges.clone(),
            hosts: self.hosts.clone(),
            required: self.required.clone(),
            year_demand: Vec::new(),
        };
        for (class, &d) in out.classes.iter_mut().zip(&self.year_demand[k]) {
            class.demand = d;
            out.demand[class.municipality as usize] += d;
        }
        out
    }

    /// Providers of role `r` located in municipality `m`.
    pub fn providers_in(&self, m: usize, r: usize) -> u32 {
        self.providers[m * self.roles + r]
    }

    /// Hosts of role `r` for a class.
    pub fn hosts_of(&self, class: &Class, r: usize) -> &[u32] {
        let range = &class.roles[r];
        &self.hosts[range.start as usize..range.end as usize]
    }

    /// Roles of a class with a host for which `inside` holds.
    pub fn satisfied(&self, class: &Class, inside: impl Fn(u32) -> bool) -> u64 {
        let mut mask = 0;
        for r in 0..self.roles {
            if self.hosts_of(class, r).iter().any(|&h| inside(h)) {
                mask |= 1 << r;
            }
        }
        mask
    }

    /// Demand, in-area covered demand per function and providers per role of the area made
    /// of `members`, where `inside(m)` says whether municipality `m` belongs to it.
    pub fn figures(&self, members: &[usize], inside: impl Fn(u32) -> bool + Copy) -> AreaFigures {
        let mut out = AreaFigures {
            demand: 0.0,
            covered: vec![0.0; self.required.len()],
            providers: vec![0; self.roles],
        };
        for &m in members {
            out.demand += self.demand[m];
            for r in 0..self.roles {
                out.providers[r] += self.providers_in(m, r);
            }
            for class in &self.classes[self.class_ranges[m].clone()] {
                let mask = self.satisfied(class, inside);
                for (f, &req) in self.required.iter().enumerate() {
                    if mask & req == req {
                        out.covered[f] += class.demand;
                    }
                }
            }
        }
        out
    }
}

/// What an area holds.
#[derive(Debug, Clone, PartialEq)]
pub struct AreaFigures {
    pub demand: f64,
    /// Per function: demand covered by providers located in the area.
    pub covered: Vec<f64>,
    /// Per role: providers located in the area.
    pub providers: Vec<u32>,
}

impl AreaFigures {
    /// In-area covered share of function `f`; `None` without demand.
    pub fn share(&self, f: usize) -> Option<f64> {
        (self.demand > 0.0).then(|| self.covered[f] / self.demand)
    }
}

/// A provider group near some places: its municipality and the corners of its box.
type Candidate = (u32, [f64; 2], [f64; 2]);

/// Boxes of the provider groups of one role, with their municipality.
type GroupTree = RTree<GeomWithData<Rectangle<[f64; 2]>, u32>>;

/// The providers of one role located in one municipality.
struct Group {
    points: Vec<(f64, f64)>,
}

/// Per role and place, the municipalities hosting a provider of the role within reach by
/// travel time (`travel`: a road graph or an OD matrix), sorted: the hosts [`build`] takes
/// in travel-time mode. A provider outside every polygon hosts nothing. Roles with the same
/// two limits share their searches (each institution is searched once for all of them),
/// in blocks of institutions so that the pairs in memory stay bounded.
pub fn travel_hosts(study: &Study, located: &[Option<usize>], travel: &Travel) -> Vec<Vec<Vec<u32>>> {
    const BLOCK: usize = 16_384;
    let places = study.demand.cells.len();
    let roles = &study.rules.roles;
    let mut hosts: Vec<Vec<Vec<u32>>> = vec![vec![Vec::new(); places]; roles.len()];
    for ((reach_min, reach_km), sources) in crate::reach::pairs::limit_groups(study, |k| located[k].is_some()) {
        let group: Vec<usize> = (0..roles.len())
            .filter(|&r| roles[r].reach_min.unwrap_or(0.0) == reach_min && roles[r].reach_km == reach_km)
            .collect();
        for block in sources.chunks(BLOCK) {
            let ids: Vec<usize> = block.iter().map(|s| s.0).collect();
            let pairs = travel.institutions_within(study, &ids, reach_min, reach_km);
            for ((k, fills), list) in block.iter().zip(&pairs) {
                let m = located[*k].unwrap_or(0) as u32;
                for &r in fills {
                    for &(i, _) in list {
                        let h = &mut hosts[r][i as usize];
                        if h.last() != Some(&m) {
                            h.push(m);
                        }
                    }
                }
            }
            for &r in &group {
                hosts[r].par_iter_mut().for_each(|h| {
                    h.sort_unstable();
                    h.dedup();
                });
            }
        }
    }
    hosts
}

/// Builds the model. `located[i]` is the municipality of institution `i` (`None` outside
/// every polygon: such a provider serves no area). Places where the role has nothing within
/// reach (`present[r][i]` false) are skipped without a search. `years[k][i]` is the demand of place
/// `i` in another year (empty for a single year): classes then also carry those years'
/// demand, and places with demand in any year are kept. `by_travel`: per role and place the
/// hosts by travel time ([`travel_hosts`]), used instead of straight-line reach.
#[allow(clippy::too_many_arguments)]
pub fn build(
    demand: &Demand,
    municipalities: usize,
    institutions: &[Institution],
    located: &[Option<usize>],
    rules: &Rules,
    present: &[Vec<bool>],
    years: &[Vec<f64>],
    by_travel: Option<&[Vec<Vec<u32>>]>,
) -> Supply {
    let roles = rules.roles.len();
    assert!(roles <= MAX_ROLES, "at most {MAX_ROLES} roles");
    let mut providers = vec![0u32; municipalities * roles];
    // Per role, side by side: groups by municipality, and an R-tree of the groups' bounding
    // boxes.
    let indexes: Vec<(Vec<Group>, GroupTree)> = rules
        .roles
        .par_iter()
        .map(|role| {
            let mut by_muni: Vec<Vec<(f64, f64)>> = vec![Vec::new(); municipalities];
            for (inst, m) in institutions.iter().zip(located) {
                if let Some(m) = *m {
                    if role.matches(inst) {
                        by_muni[m].push((inst.lon, inst.lat));
                    }
                }
            }
            let mut groups = Vec::new();
            let mut boxes = Vec::new();
            for (m, points) in by_muni.into_iter().enumerate() {
                if points.is_empty() {
                    continue;
                }
                let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
                for &(x, y) in &points {
                    lo = [lo[0].min(x), lo[1].min(y)];
                    hi = [hi[0].max(x), hi[1].max(y)];
                }
                boxes.push(GeomWithData::new(Rectangle::from_corners(lo, hi), m as u32));
                groups.push((m, Group { points }));
            }
            let mut dense: Vec<Group> = (0..municipalities).map(|_| Group { points: Vec::new() }).collect();
            for (m, g) in groups {
                dense[m] = g;
            }
            (dense, RTree::bulk_load(boxes))
        })
        .collect();
    for (r, (groups, _)) in indexes.iter().enumerate() {
        for (m, g) in groups.iter().enumerate() {
            providers[m * roles + r] = g.points.len() as u32;
        }
    }

    let cells = &demand.cells;
    // Per place: per role, the sorted hosts. Distances are first taken in the plane tangent
    // at the place (within 0.5 % of the ellipsoid up to 30 km at lat 46); only pairs near
    // the reach are measured on the ellipsoid.
    // The sure-inside and sure-outside radii of each role: the plane's error grows with
    // distance, so a 1 % margin to 30 km, in proportion beyond.
    let radii: Vec<(f64, f64, f64)> = rules
        .roles
        .iter()
        .map(|role| {
            let reach_m = role.reach_km * 1000.0;
            let margin = 0.01 * (reach_m / 30_000.0).max(1.0);
            (reach_m, reach_m * (1.0 - margin), reach_m * (1.0 + margin))
        })
        .collect();
    // Candidate groups of each role for a box of places (one R-tree query per
    // municipality and role, not per place).
    let candidates = |lo: [f64; 2], hi: [f64; 2], r: usize| -> Vec<Candidate> {
        let (_, _, sure_out) = radii[r];
        let (ky, _) = metres_per_degree(lo[1].abs().min(hi[1].abs()));
        let dlat = sure_out / ky;
        let (_, kx_far) = metres_per_degree(lo[1].abs().max(hi[1].abs()) + dlat);
        let dlon = sure_out / kx_far;
        let query = AABB::from_corners([lo[0] - dlon, lo[1] - dlat], [hi[0] + dlon, hi[1] + dlat]);
        indexes[r]
            .1
            .locate_in_envelope_intersecting(&query)
            .map(|g| (g.data, g.geom().lower(), g.geom().upper()))
            .collect()
    };
    // A place's hosts, role after role, each role's list sorted and closed by `END`: one
    // buffer per municipality, and a class's key.
    const END: u32 = u32::MAX;
    let place_hosts = |i: usize, cands: &[Vec<Candidate>], key: &mut Vec<u32>| {
        key.clear();
        if let Some(hosts) = by_travel {
            for h in hosts {
                key.extend_from_slice(&h[i]);
                key.push(END);
            }
            return;
        }
        let c = &cells[i];
        let at = (c.lon, c.lat);
        let (ky, kx) = metres_per_degree(at.1);
        let plane2 = |p: (f64, f64)| ((p.0 - at.0) * kx).powi(2) + ((p.1 - at.1) * ky).powi(2);
        for r in 0..roles {
            if present[r][i] {
                let (reach_m, sure_in, sure_out) = radii[r];
                let (in2, out2) = (sure_in * sure_in, sure_out * sure_out);
                let groups = &indexes[r].0;
                let start = key.len();
                key.extend(
                    cands[r]
                        .iter()
                        .filter(|&&(m, lo, hi)| {
                            let nearest = (at.0.clamp(lo[0], hi[0]), at.1.clamp(lo[1], hi[1]));
                            if plane2(nearest) > out2 {
                                return false;
                            }
                            let farthest = (
                                if at.0 - lo[0] > hi[0] - at.0 { lo[0] } else { hi[0] },
                                if at.1 - lo[1] > hi[1] - at.1 { lo[1] } else { hi[1] },
                            );
                            // Every provider of the group is within reach when the farthest
                            // corner of its box is.
                            plane2(farthest) < in2
                                || groups[m as usize].points.iter().any(|&p| {
                                    let d2 = plane2(p);
                                    d2 < in2 || (d2 <= out2 && within_m(at, p, reach_m))
                                })
                        })
                        .map(|g| g.0),
                );
                key[start..].sort_unstable();
            }
            key.push(END);
        }
    };

    let ranges = crate::coverage::municipality_ranges(demand, municipalities);
    // Per municipality: per class its demand in this year and the other years, and its key.
    type Classes = Vec<(f64, Vec<f64>, Vec<u32>)>;
    let per_muni: Vec<Classes> = ranges
        .par_iter()
        .map(|range| {
            let mut index: rustc_hash::FxHashMap<Vec<u32>, usize> = Default::default();
            let mut classes: Classes = Vec::new();
            if range.is_empty() {
                return classes;
            }
            let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
            for c in &cells[range.clone()] {
                lo = [lo[0].min(c.lon), lo[1].min(c.lat)];
                hi = [hi[0].max(c.lon), hi[1].max(c.lat)];
            }
            let cands: Vec<Vec<Candidate>> = match by_travel {
                Some(_) => Vec::new(),
                None => (0..roles).map(|r| candidates(lo, hi, r)).collect(),
            };
            let mut key = Vec::new();
            for i in range.clone() {
                let d = cells[i].demand;
                if d <= 0.0 && years.iter().all(|y| y[i] <= 0.0) {
                    continue;
                }
                place_hosts(i, &cands, &mut key);
                let k = match index.get(key.as_slice()) {
                    Some(&k) => k,
                    None => {
                        index.insert(key.clone(), classes.len());
                        classes.push((0.0, vec![0.0; years.len()], key.clone()));
                        classes.len() - 1
                    }
                };
                classes[k].0 += d.max(0.0);
                for (sum, y) in classes[k].1.iter_mut().zip(years) {
                    *sum += y[i].max(0.0);
                }
            }
            classes
        })
        .collect();

    let mut supply = Supply {
        demand: vec![0.0; municipalities],
        providers,
        roles,
        classes: Vec::new(),
        class_ranges: Vec::with_capacity(municipalities),
        hosts: Vec::new(),
        required: rules
            .functions
            .iter()
            .map(|f| f.required_roles().fold(0u64, |m, r| m | (1 << r)))
            .collect(),
        year_demand: vec![Vec::new(); years.len()],
    };
    for (m, classes) in per_muni.into_iter().enumerate() {
        let start = supply.classes.len();
        for (d, other, hosts) in classes {
            supply.demand[m] += d;
            for (y, v) in supply.year_demand.iter_mut().zip(other) {
                y.push(v);
            }
            let roles = hosts
                .split(|&h| h == END)
                .take(roles)
                .map(|h| {
                    let s = supply.hosts.len() as u32;
                    supply.hosts.extend_from_slice(h);
                    s..supply.hosts.len() as u32
                })
                .collect();
            supply.classes.push(Class {
                municipality: m as u32,
                demand: d,
                roles,
            });
        }
        supply.class_ranges.push(start..supply.classes.len());
    }
    supply
}
