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

/// Places are taken in tiles of this many degrees of longitude and latitude (about 4 km):
/// a tile decides once, for all its places, the provider groups surely within or surely out
/// of reach, and leaves its places to test only the groups near the edge of their reach.
const TILE_DEG: f64 = 0.04;

/// Relative slack on a tile's bounds, far above the rounding of a place's own test, so a
/// tile decides only what every place of it would decide the same way.
const SLACK: f64 = 1e-9;

/// The reach of a role in the tangent plane of a place: `reach_m` itself, and the squared
/// radii within which every pair is within reach and beyond which none is.
#[derive(Clone, Copy, Debug)]
struct Radii {
    reach_m: f64,
    /// Beyond this no pair is within reach (metres).
    sure_out: f64,
    in2: f64,
    out2: f64,
}

impl Radii {
    /// The plane's error grows with distance: a 1 % margin to 30 km, in proportion beyond.
    fn of(reach_km: f64) -> Radii {
        let reach_m = reach_km * 1000.0;
        let margin = 0.01 * (reach_m / 30_000.0).max(1.0);
        let (sure_in, sure_out) = (reach_m * (1.0 - margin), reach_m * (1.0 + margin));
        Radii {
            reach_m,
            sure_out,
            in2: sure_in * sure_in,
            out2: sure_out * sure_out,
        }
    }

    /// [`Self::of`] for places between latitudes `lat_lo` and `lat_hi` (degrees), never
    /// wider. The plane of a place at latitude φ0 takes the ellipsoid's radii at φ0, the
    /// distance of [`within_m`] those at the pair's mid-latitude φm (the same formula
    /// otherwise), so the two distances differ by at most the larger change, from φ0 to φm,
    /// of the metres per radian along each axis: in logarithms, tan |φ| + 0.0034 per radian
    /// along a parallel (N cos φ) and 0.0102 along a meridian (M), with |φm - φ0| half the
    /// pair's span of latitude. Sure in and out are then set 0.5 m beyond that from the
    /// reach, so a pair they settle is never one Karney's geodesic would decide
    /// ([`crate::reach::straight::within_at`]). At 35° and 16 km the plane decides all but
    /// a band of about ±15 m (±160 m with [`Self::of`]'s 1 %).
    fn near(reach_km: f64, lat_lo: f64, lat_hi: f64) -> Radii {
        let wide = Radii::of(reach_km);
        // A pair within the plane's `sure_out` spans at most that over the least metres per
        // radian of latitude (the meridian radius at the equator, 6,335 km).
        let span = wide.sure_out / 6_300_000.0;
        let most = lat_lo.abs().max(lat_hi.abs()) + span.to_degrees();
        // Pairs beyond 50 km are measured by Karney's geodesic, not the mid-latitude
        // formula this bound is about: the plane must stay well short of them. (NaN
        // latitudes fail the test too.)
        let usable = wide.sure_out < 45_000.0 && most < 80.0 && lat_lo <= lat_hi;
        if !usable {
            return wide;
        }
        let m = ((most.to_radians().tan() + 0.0102) * 0.5 * span).exp() - 1.0 + 1e-6;
        let reach_m = wide.reach_m;
        let sure_in = ((reach_m - 0.5) / (1.0 + m)).max(0.0);
        let sure_out = ((reach_m + 0.5) / (1.0 - m)).min(wide.sure_out);
        Radii {
            reach_m,
            sure_out,
            in2: (sure_in * sure_in).max(wide.in2),
            out2: sure_out * sure_out,
        }
    }
}

/// Whether the place `at` has a provider of the group `(lo, hi, points)` within reach:
/// distances first in the plane tangent at the place (within 0.5 % of the ellipsoid up to
/// 30 km at lat 46), only pairs near the reach measured on the ellipsoid.
fn place_reaches(at: (f64, f64), lo: [f64; 2], hi: [f64; 2], points: &[(f64, f64)], radii: Radii) -> bool {
    let (ky, kx) = metres_per_degree(at.1);
    let plane2 = |p: (f64, f64)| ((p.0 - at.0) * kx).powi(2) + ((p.1 - at.1) * ky).powi(2);
    let nearest = (at.0.clamp(lo[0], hi[0]), at.1.clamp(lo[1], hi[1]));
    if plane2(nearest) > radii.out2 {
        return false;
    }
    let farthest = (
        if at.0 - lo[0] > hi[0] - at.0 { lo[0] } else { hi[0] },
        if at.1 - lo[1] > hi[1] - at.1 { lo[1] } else { hi[1] },
    );
    // Every provider of the group is within reach when the farthest corner of its box is.
    plane2(farthest) < radii.in2
        || points.iter().any(|&p| {
            let d2 = plane2(p);
            d2 < radii.in2 || (d2 <= radii.out2 && within_m(at, p, radii.reach_m))
        })
}

/// What a tile of places knows of a provider group before looking at any one place.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Verdict {
    /// Within reach of every place of the tile.
    In,
    /// Out of reach of every place of the tile.
    Out,
    /// To be tested place by place.
    Each,
}

/// The verdict of [`place_reaches`] for every place in the box `tile` (lower and upper
/// corners), where it is the same for all: the plane's metres per degree bounded over the
/// tile's latitudes (both monotone in the absolute latitude), the gaps and spans between the
/// tile and the group bounded over the tile, with [`SLACK`] to spare.
fn tile_verdict(
    tile: ([f64; 2], [f64; 2]),
    lo: [f64; 2],
    hi: [f64; 2],
    points: &[(f64, f64)],
    radii: Radii,
) -> Verdict {
    let (tlo, thi) = tile;
    let (a, b) = (tlo[1].abs(), thi[1].abs());
    let near_pole = a.max(b);
    let near_equator = if tlo[1] <= 0.0 && thi[1] >= 0.0 { 0.0 } else { a.min(b) };
    let (ky_low, kx_high) = metres_per_degree(near_equator);
    let (ky_high, kx_low) = metres_per_degree(near_pole);
    // No place is nearer a box [a, b] along axis `d` than the gap between it and the tile.
    let gap = |d: usize, a: f64, b: f64| (a - thi[d]).max(tlo[d] - b).max(0.0);
    let beyond = |x: f64, y: f64| (x * kx_low).powi(2) + (y * ky_low).powi(2) > radii.out2 * (1.0 + SLACK);
    if beyond(gap(0, lo[0], hi[0]), gap(1, lo[1], hi[1])) {
        return Verdict::Out;
    }
    // The farthest any place of the tile lies from a coordinate `v` along axis `d`.
    let span = |d: usize, v: f64| (v - tlo[d]).abs().max((thi[d] - v).abs());
    let most2 = |x: f64, y: f64| (x * kx_high).powi(2) + (y * ky_high).powi(2);
    let farthest2 = most2(span(0, lo[0]).max(span(0, hi[0])), span(1, lo[1]).max(span(1, hi[1])));
    if farthest2 * (1.0 + SLACK) < radii.in2 {
        return Verdict::In;
    }
    // A provider near every place, or every provider far from all.
    let mut all_out = true;
    for &p in points {
        if most2(span(0, p.0), span(1, p.1)) * (1.0 + SLACK) < radii.in2 {
            return Verdict::In;
        }
        all_out = all_out && beyond(gap(0, p.0, p.0), gap(1, p.1, p.1));
    }
    if all_out {
        Verdict::Out
    } else {
        Verdict::Each
    }
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
    // Each institution's roles found once, not once per role (at most 64 roles, checked
    // above, so the masks are there).
    let masks = rules.role_masks(institutions);
    let fills = |k: usize, r: usize| match &masks {
        Some(masks) => masks[k] >> r & 1 == 1,
        None => rules.roles[r].matches(&institutions[k]),
    };
    // Per role, side by side: groups by municipality, and an R-tree of the groups' bounding
    // boxes.
    let indexes: Vec<(Vec<Group>, GroupTree)> = (0..roles)
        .into_par_iter()
        .map(|r| {
            let mut by_muni: Vec<Vec<(f64, f64)>> = vec![Vec::new(); municipalities];
            for (k, (inst, m)) in institutions.iter().zip(located).enumerate() {
                if let Some(m) = *m {
                    if fills(k, r) {
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
    let radii: Vec<Radii> = rules.roles.iter().map(|role| Radii::of(role.reach_km)).collect();
    // Candidate groups of each role for a box of places (one R-tree query per
    // municipality and role, not per place).
    let candidates = |lo: [f64; 2], hi: [f64; 2], r: usize| -> Vec<Candidate> {
        let sure_out = radii[r].sure_out;
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
    // Per tile and role: the groups within reach of all its places, those to test, and the
    // radii at the tile's latitudes.
    type TileLists = Vec<(Vec<u32>, Vec<Candidate>, Radii)>;
    let tile_lists = |tile: ([f64; 2], [f64; 2]), cands: &[Vec<Candidate>]| -> TileLists {
        cands
            .iter()
            .enumerate()
            .map(|(r, list)| {
                let groups = &indexes[r].0;
                let radii = Radii::near(rules.roles[r].reach_km, tile.0[1], tile.1[1]);
                let (mut sure, mut each) = (Vec::new(), Vec::new());
                for &(m, lo, hi) in list {
                    match tile_verdict(tile, lo, hi, &groups[m as usize].points, radii) {
                        Verdict::In => sure.push(m),
                        Verdict::Out => {}
                        Verdict::Each => each.push((m, lo, hi)),
                    }
                }
                // Both ascending, once per tile: a place's list is then the two merged.
                sure.sort_unstable();
                each.sort_unstable_by_key(|e| e.0);
                (sure, each, radii)
            })
            .collect()
    };
    // A place's hosts, role after role, each role's list sorted and closed by `END`: one
    // buffer per municipality, and a class's key.
    const END: u32 = u32::MAX;
    let place_hosts = |i: usize, lists: &TileLists, key: &mut Vec<u32>| {
        key.clear();
        if let Some(hosts) = by_travel {
            for h in hosts {
                key.extend_from_slice(&h[i]);
                key.push(END);
            }
            return;
        }
        let at = (cells[i].lon, cells[i].lat);
        for (r, (sure, each, radii)) in lists.iter().enumerate() {
            if present[r][i] {
                // The groups surely within reach and those that reach this place, merged in
                // ascending order (a group is in one list or the other).
                let groups = &indexes[r].0;
                let mut sure = sure.iter().copied().peekable();
                for &(m, lo, hi) in each {
                    if place_reaches(at, lo, hi, &groups[m as usize].points, *radii) {
                        while let Some(s) = sure.next_if(|&s| s < m) {
                            key.push(s);
                        }
                        key.push(m);
                    }
                }
                key.extend(sure);
            }
            key.push(END);
        }
    };

    let ranges = crate::coverage::municipality_ranges(demand, municipalities);
    // Per municipality: per class its demand in this year and the other years, and its
    // key: the number of each role's list of hosts among the municipality's distinct lists
    // of that role. Classes differ in one role or a few: their lists are kept once (the
    // nation's classes named 19.5 million hosts, 7.2 million in distinct lists), as are
    // their keys, once in the index (a copy of every host list in each before).
    type Classes = Vec<(f64, Vec<f64>, Vec<u32>)>;
    type Lists = Vec<Vec<Vec<u32>>>;
    let per_muni: Vec<(Classes, Lists)> = ranges
        .par_iter()
        .with_max_len(4)
        .map(|range| {
            let mut index: rustc_hash::FxHashMap<Vec<u32>, usize> = Default::default();
            let mut classes: Classes = Vec::new();
            let mut distinct: Vec<rustc_hash::FxHashMap<Vec<u32>, u32>> = vec![Default::default(); roles];
            if range.is_empty() {
                return (classes, Vec::new());
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
            // The places' tiles, numbered in order of first place; each tile's box.
            let mut tile_of: rustc_hash::FxHashMap<(i64, i64), usize> = Default::default();
            let mut tiles: Vec<([f64; 2], [f64; 2])> = Vec::new();
            let place_tile: Vec<usize> = cells[range.clone()]
                .iter()
                .map(|c| {
                    let at = [c.lon, c.lat];
                    let key = ((c.lon / TILE_DEG).floor() as i64, (c.lat / TILE_DEG).floor() as i64);
                    let t = *tile_of.entry(key).or_insert_with(|| {
                        tiles.push((at, at));
                        tiles.len() - 1
                    });
                    let (tlo, thi) = &mut tiles[t];
                    *tlo = [tlo[0].min(at[0]), tlo[1].min(at[1])];
                    *thi = [thi[0].max(at[0]), thi[1].max(at[1])];
                    t
                })
                .collect();
            let mut lists: Vec<Option<TileLists>> = vec![None; tiles.len()];
            let (mut hosts, mut key) = (Vec::new(), Vec::new());
            for i in range.clone() {
                let d = cells[i].demand;
                if d <= 0.0 && years.iter().all(|y| y[i] <= 0.0) {
                    continue;
                }
                let t = place_tile[i - range.start];
                let lists = lists[t].get_or_insert_with(|| tile_lists(tiles[t], &cands));
                place_hosts(i, lists, &mut hosts);
                key.clear();
                for (list, lists) in hosts.split(|&h| h == END).zip(&mut distinct) {
                    let next = lists.len() as u32;
                    key.push(match lists.get(list) {
                        Some(&id) => id,
                        None => *lists.entry(list.to_vec()).or_insert(next),
                    });
                }
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
            // Each role's lists in the order of their numbers.
            let lists = distinct
                .into_iter()
                .map(|lists| {
                    let mut numbered: Vec<(u32, Vec<u32>)> = lists.into_iter().map(|(l, id)| (id, l)).collect();
                    numbered.sort_unstable_by_key(|e| e.0);
                    numbered.into_iter().map(|e| e.1).collect()
                })
                .collect();
            (classes, lists)
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
    // Each municipality's classes and distinct host lists laid out side by side, at
    // offsets summed first: assembled by one thread, the host list (grown, then copied at
    // each doubling) kept the other waiting.
    let counts: Vec<(usize, usize)> = per_muni
        .iter()
        .map(|(classes, lists)| (classes.len(), lists.iter().flatten().map(Vec::len).sum()))
        .collect();
    let mut hosts = vec![0u32; counts.iter().map(|c| c.1).sum()];
    let mut slices = Vec::with_capacity(counts.len());
    let mut rest = hosts.as_mut_slice();
    let mut offset = 0usize;
    for &(_, n) in &counts {
        let (slice, tail) = rest.split_at_mut(n);
        slices.push((slice, offset));
        rest = tail;
        offset += n;
    }
    type Built = (f64, Vec<Class>, Vec<Vec<f64>>);
    let built: Vec<Built> = per_muni
        .into_par_iter()
        .zip(slices)
        .enumerate()
        .map(|(m, ((classes, lists), (slice, offset)))| {
            let mut demand = 0.0;
            let mut other_years = vec![Vec::with_capacity(classes.len()); years.len()];
            let mut at = 0usize;
            let placed: Vec<Vec<Range<u32>>> = lists
                .iter()
                .map(|lists| {
                    lists
                        .iter()
                        .map(|h| {
                            let s = at;
                            slice[at..at + h.len()].copy_from_slice(h);
                            at += h.len();
                            (offset + s) as u32..(offset + at) as u32
                        })
                        .collect()
                })
                .collect();
            let out = classes
                .into_iter()
                .map(|(d, other, key)| {
                    demand += d;
                    for (y, v) in other_years.iter_mut().zip(other) {
                        y.push(v);
                    }
                    let roles = key.iter().zip(&placed).map(|(&id, r)| r[id as usize].clone()).collect();
                    Class {
                        municipality: m as u32,
                        demand: d,
                        roles,
                    }
                })
                .collect();
            (demand, out, other_years)
        })
        .collect();
    supply.hosts = hosts;
    supply.classes.reserve_exact(counts.iter().map(|c| c.0).sum());
    for (m, (demand, classes, other_years)) in built.into_iter().enumerate() {
        let start = supply.classes.len();
        supply.demand[m] += demand;
        for (y, v) in supply.year_demand.iter_mut().zip(other_years) {
            y.extend(v);
        }
        supply.classes.extend(classes);
        supply.class_ranges.push(start..supply.classes.len());
    }
    supply
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Every place's class holds, per role, exactly the place's hosts, and its demand is
        /// the sum of its places': hosts given per role and place (as by travel time), drawn
        /// from a few lists so that classes share some roles' lists and not others.
        #[test]
        fn classes_hold_their_places_hosts(
            places in prop::collection::vec((0usize..4, 1u32..50, prop::collection::vec(0usize..4, 14)), 1..60),
        ) {
            use crate::demand::{DemandBasis, DemandCell};
            use crate::inputs::mesh::{Level, Mesh};
            let rules = Rules::builtin();
            let roles = rules.roles.len();
            prop_assume!(roles == 14);
            // The lists a role's hosts are drawn from.
            let pool: [Vec<u32>; 4] = [vec![], vec![0], vec![1, 2], vec![0, 2, 3]];
            let mut sorted = places.clone();
            sorted.sort_by_key(|p| p.0);
            let cells: Vec<DemandCell> = sorted
                .iter()
                .enumerate()
                .map(|(i, &(m, d, _))| {
                    let (lon, lat) = (139.0 + i as f64 * 0.01, 35.0);
                    DemandCell {
                        mesh: Mesh::containing(lon, lat, Level::Half).unwrap(),
                        municipality: m,
                        lon,
                        lat,
                        population: f64::from(d),
                        population_65plus: f64::from(d),
                        population_75plus: None,
                        population_0_14: None,
                        demand: f64::from(d),
                    }
                })
                .collect();
            let demand = Demand { cells, basis: DemandBasis::AreaGrid, snapped_to_coast: 0 };
            let hosts: Vec<Vec<Vec<u32>>> = (0..roles)
                .map(|r| sorted.iter().map(|p| pool[p.2[r]].clone()).collect())
                .collect();
            let present = vec![vec![true; sorted.len()]; roles];
            let supply = build(&demand, 4, &[], &[], &rules, &present, &[], Some(&hosts));
            let mut demand_of = vec![0.0; supply.classes.len()];
            for (i, cell) in demand.cells.iter().enumerate() {
                let m = cell.municipality;
                let range = supply.class_ranges[m].clone();
                let found: Vec<usize> = range
                    .filter(|&c| (0..roles).all(|r| supply.hosts_of(&supply.classes[c], r) == hosts[r][i].as_slice()))
                    .collect();
                prop_assert_eq!(found.len(), 1, "place {} in {} classes", i, found.len());
                demand_of[found[0]] += cell.demand;
            }
            for (class, d) in supply.classes.iter().zip(&demand_of) {
                prop_assert_eq!(class.demand, *d);
            }
        }
    }

    /// The box of some points, as a group's box is made.
    fn box_of(points: &[(f64, f64)]) -> ([f64; 2], [f64; 2]) {
        points
            .iter()
            .fold(([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]), |(lo, hi), &(x, y)| {
                ([lo[0].min(x), lo[1].min(y)], [hi[0].max(x), hi[1].max(y)])
            })
    }

    /// A tile of about 3.6 by 2.2 km in central Tokyo and one provider: at its middle,
    /// 50 km east, and 16 km east of the middle (the tile's places lie 14.0 to 17.6 km from
    /// it, on both sides of a 16 km reach).
    #[test]
    fn a_tile_decides_what_is_plainly_in_or_out() {
        let tile = ([139.70, 35.68], [139.74, 35.70]);
        let radii = Radii::of(16.0);
        let verdict = |p: (f64, f64)| {
            let (lo, hi) = box_of(&[p]);
            tile_verdict(tile, lo, hi, &[p], radii)
        };
        assert_eq!(verdict((139.72, 35.69)), Verdict::In);
        assert_eq!(verdict((140.27, 35.69)), Verdict::Out);
        // 1 degree of longitude at 35.69 N is 90.6 km on the ellipsoid.
        assert_eq!(verdict((139.72 + 16.0 / 90.6, 35.69)), Verdict::Each);
        // Two providers, one near: in, whatever the other.
        let points = [(140.27, 35.69), (139.73, 35.69)];
        let (lo, hi) = box_of(&points);
        assert_eq!(tile_verdict(tile, lo, hi, &points, radii), Verdict::In);
    }

    /// Tiles at 35.00-35.04° N, 16 km, worked out by hand: pairs span at most 16,160 m over
    /// 6,300 km (0.0025651 rad) of latitude, the largest |φ| is 35.187°, and the two
    /// distances part by at most exp((tan 35.187° + 0.0102) x 0.0012825) - 1 + 1e-6 =
    /// 0.0009188: the plane settles all but 15,984.81 to 16,015.21 m.
    #[test]
    fn radii_at_35_degrees() {
        let radii = Radii::near(16.0, 35.0, 35.04);
        assert!((radii.in2.sqrt() - 15_984.81).abs() < 0.01, "{radii:?}");
        assert!((radii.sure_out - 16_015.21).abs() < 0.01, "{radii:?}");
        assert!((radii.out2.sqrt() - 16_015.21).abs() < 0.01, "{radii:?}");
        // At 50 km the pairs reach Karney's geodesic: the 1 % margin, as before.
        let far = Radii::near(50.0, 35.0, 35.04);
        assert_eq!((far.in2, far.out2), (Radii::of(50.0).in2, Radii::of(50.0).out2));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// With the radii at a tile's latitudes, a place's answer is the ellipsoid's
        /// (`within_m`) for providers about one reach away in every direction, from 60 S
        /// to 60 N, reaches of 1 to 60 km; and those radii are never wider than the 1 %.
        #[test]
        fn radii_at_a_latitude_answer_as_the_ellipsoid(
            lat in -60.0f64..60.0,
            h in 0.0f64..0.2,
            reach_km in 1.0f64..60.0,
            providers in proptest::collection::vec((0.0f64..=1.0, 0.0f64..360.0, 0.98f64..1.02), 1..30),
        ) {
            use geo::{Destination, Geodesic, Point};
            let radii = Radii::near(reach_km, lat, lat + h);
            let wide = Radii::of(reach_km);
            prop_assert!(radii.in2 >= wide.in2 && radii.out2 <= wide.out2 && radii.sure_out <= wide.sure_out);
            for &(f, bearing, scale) in &providers {
                let at = (140.0, lat + f * h);
                let p = Geodesic.destination(Point::new(at.0, at.1), bearing, reach_km * 1000.0 * scale);
                let p = (p.x(), p.y());
                let (lo, hi) = box_of(&[p]);
                prop_assert_eq!(
                    place_reaches(at, lo, hi, &[p], radii),
                    within_m(at, p, reach_km * 1000.0),
                    "{:?} -> {:?}", at, p
                );
            }
        }

        /// A tile's verdict, where it gives one, is every one of its places' own answer:
        /// the corners and edges of the tile and places inside it; tiles of any size up to
        /// 0.2 degrees, from 60 S to 60 N, reaches of 1 to 40 km.
        #[test]
        fn tile_verdicts_are_every_places_answer(
            lon in 120.0f64..150.0,
            lat in -60.0f64..60.0,
            w in 0.0f64..0.2,
            h in 0.0f64..0.2,
            offsets in proptest::collection::vec((-0.5f64..0.5, -0.5f64..0.5), 0..6),
            rim in proptest::collection::vec((0.0f64..std::f64::consts::TAU, 0.97f64..1.03, 0usize..4), 0..4),
            inside in proptest::collection::vec((0.0f64..=1.0, 0.0f64..=1.0), 0..12),
            reach_km in 1.0f64..40.0,
        ) {
            prop_assume!(!offsets.is_empty() || !rim.is_empty());
            let tile = ([lon, lat], [lon + w, lat + h]);
            // Providers anywhere near, and providers about one reach from a corner of the
            // tile (where the verdict is closest to being wrong).
            let (ky, kx) = metres_per_degree(lat);
            let mut points: Vec<(f64, f64)> = offsets.iter().map(|&(dx, dy)| (lon + w / 2.0 + dx, lat + h / 2.0 + dy)).collect();
            points.extend(rim.iter().map(|&(angle, f, corner)| {
                let (cx, cy) = (lon + w * (corner % 2) as f64, lat + h * (corner / 2) as f64);
                let d = f * reach_km * 1000.0;
                (cx + d * angle.cos() / kx, cy + d * angle.sin() / ky)
            }));
            let (lo, hi) = box_of(&points);
            let radii = Radii::near(reach_km, lat, lat + h);
            let verdict = tile_verdict(tile, lo, hi, &points, radii);
            let corners = [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0), (0.5, 0.0), (0.0, 0.5)];
            for &(fx, fy) in corners.iter().chain(&inside) {
                let at = ((lon + fx * w).min(lon + w), (lat + fy * h).min(lat + h));
                let reaches = place_reaches(at, lo, hi, &points, radii);
                match verdict {
                    Verdict::In => prop_assert!(reaches, "{at:?} said in"),
                    Verdict::Out => prop_assert!(!reaches, "{at:?} said out"),
                    Verdict::Each => {}
                }
            }
        }
    }
}
