//! Straight-line reach on the WGS84 ellipsoid.
//!
//! Providers of a role go into an R-tree of points on a sphere (earth-centred x, y, z in
//! metres), where the straight chord between two points orders them exactly as the
//! great-circle distance does. The sphere finds candidates; the ellipsoid decides: in Japan
//! (lat 20-46) the WGS84 distance lies within 0.45 % of the great-circle distance on the
//! mean-radius sphere, so only pairs in that band around the reach (or near the best
//! candidate) are measured on the ellipsoid; at the latitudes of a few places the band is
//! about half as wide ([`SphereBand`]). Measured distances use the mid-latitude
//! ellipsoidal formula below 50 km (under 0.2 m from Karney's geodesic) and Karney's
//! algorithm beyond; a pair within 0.25 m of a reach limit is always decided by Karney's
//! algorithm, so counts are exactly those of the geodesic.

use super::bands::{Bands, Density};
use super::{ReachTable, ReachUnit, RoleReach, EARTH_RADIUS_M};
use crate::inputs::institutions::Institution;
use crate::inputs::rules::Rules;
use crate::progress::Progress;
use geo::{Distance, Geodesic, Point};
use rayon::prelude::*;
use rstar::primitives::GeomWithData;
use rstar::{RTree, RTreeNode};

/// Lower bound of geodesic / spherical distance for points in lat 20-46 (the meridian radius
/// of curvature at lat 20 is 6,342.9 km against the mean radius 6,371.0 km: 0.9956), with a
/// margin.
const SPHERE_LOW: f64 = 0.994;
/// Upper bound of geodesic / spherical distance in lat 20-46 (the prime-vertical radius at
/// lat 46 is 6,389.2 km: 1.0029), with a margin.
const SPHERE_HIGH: f64 = 1.004;

type Site = GeomWithData<[f64; 3], u32>;

/// Above this many providers around a place (by the coarse density grid), counting by
/// latitude bands beats visiting every provider in the R-tree (measured on the national
/// benchmark).
const DENSE: u32 = 1000;

/// Earth-centred coordinates on the mean-radius sphere, metres.
pub fn to_xyz(lon: f64, lat: f64) -> [f64; 3] {
    let (lon, lat) = (lon.to_radians(), lat.to_radians());
    [
        EARTH_RADIUS_M * lat.cos() * lon.cos(),
        EARTH_RADIUS_M * lat.cos() * lon.sin(),
        EARTH_RADIUS_M * lat.sin(),
    ]
}

/// Great-circle distance for a chord length, metres.
pub fn arc_from_chord(chord: f64) -> f64 {
    2.0 * EARTH_RADIUS_M * (chord / (2.0 * EARTH_RADIUS_M)).min(1.0).asin()
}

/// Chord length for a great-circle distance, metres.
pub fn chord_from_arc(arc: f64) -> f64 {
    2.0 * EARTH_RADIUS_M * (arc / (2.0 * EARTH_RADIUS_M)).min(std::f64::consts::FRAC_PI_2).sin()
}

pub fn dist2(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)
}

/// Geodesic distance between two (lon, lat) points on WGS84, metres (Karney's algorithm).
pub fn geodesic_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    Geodesic.distance(Point::new(a.0, a.1), Point::new(b.0, b.1))
}

/// Below this distance the mid-latitude ellipsoidal formula stands in for Karney's
/// algorithm: its error is under 0.2 m at 50 km and 2 cm at 20 km (checked against
/// geographiclib on 20,000 random pairs in Japan).
const SHORT_M: f64 = 50_000.0;

/// WGS84 semi-major axis and first eccentricity squared.
const WGS84_A: f64 = 6_378_137.0;
const WGS84_E2: f64 = 0.006_694_379_990_141_316;

/// Distance on WGS84, metres: below 50 km the plane tangent at the mid-latitude with the
/// ellipsoid's meridian and prime-vertical radii (error under 0.2 m at 50 km, 2 cm at
/// 20 km, against geographiclib), otherwise Karney's geodesic.
pub fn ellipsoid_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    let phi = (0.5 * (a.1 + b.1)).to_radians();
    let (sin, cos) = phi.sin_cos();
    let w = 1.0 - WGS84_E2 * sin * sin;
    let n = WGS84_A / w.sqrt();
    let m = WGS84_A * (1.0 - WGS84_E2) / (w * w.sqrt());
    let d = (m * (b.1 - a.1).to_radians()).hypot(n * cos * (b.0 - a.0).to_radians());
    if d < SHORT_M {
        d
    } else {
        geodesic_m(a, b)
    }
}

/// Whether `b` is within `reach_m` of `a` on WGS84: the short formula, and Karney's
/// algorithm when that is within 0.25 m of the limit (the decision every reach count uses).
pub fn within_m(a: (f64, f64), b: (f64, f64), reach_m: f64) -> bool {
    within_at(ellipsoid_m(a, b), a, b, reach_m)
}

/// [`within_m`]'s decision when `d`, the [`ellipsoid_m`] distance from `a` to `b`, is known.
pub(crate) fn within_at(d: f64, a: (f64, f64), b: (f64, f64), reach_m: f64) -> bool {
    if (d - reach_m).abs() < 0.25 {
        geodesic_m(a, b) <= reach_m
    } else {
        d <= reach_m
    }
}

/// Metres per degree of latitude and of longitude at latitude `lat` on WGS84 (the meridian
/// and prime-vertical radii of curvature), for local planar approximations.
pub fn metres_per_degree(lat: f64) -> (f64, f64) {
    let phi = lat.to_radians();
    let (sin, cos) = phi.sin_cos();
    let w = 1.0 - WGS84_E2 * sin * sin;
    let n = WGS84_A / w.sqrt();
    let m = WGS84_A * (1.0 - WGS84_E2) / (w * w.sqrt());
    (m.to_radians(), (n * cos).to_radians())
}

/// Reaches up to this many metres take the sphere's bounds at their own latitudes
/// ([`SphereBand::near`]); longer ones the bounds for all of Japan. Up to here the mean
/// sphere's and the mid-latitude plane's distances part by under 3e-5 of the distance (the
/// square of the angle), well inside [`LOCAL_MARGIN`].
const LOCAL_MAX_M: f64 = 30_000.0;

/// Relative margin of the bounds at one latitude.
const LOCAL_MARGIN: f64 = 1e-4;

/// What the mean sphere settles for one reach around some places: a provider within the
/// squared chord `inner2` of a place is surely within reach on WGS84, one beyond `outer2`
/// surely not, and between them the ellipsoid decides. Every WGS84 distance looked at
/// from the places lies between `low` and `high` times the great-circle distance.
///
/// At latitude φ the ratio of the WGS84 distance to the great-circle distance lies between
/// the meridian radius M(φ) and the prime-vertical radius N(φ) over the mean radius (the
/// mid-latitude formula of [`ellipsoid_m`] weighs the two by the pair's bearing). Both
/// grow with |φ|, so over the latitudes a pair can span, M at the lowest |φ| and N at the
/// highest bound it: at 35° about [0.9977, 1.0023], against [0.994, 1.004] for all of
/// Japan. The bounds are widened by [`LOCAL_MARGIN`] and, at the reach, by 0.5 m, so a pair
/// they settle is at least 0.5 m from the limit, beyond the 0.25 m where Karney's geodesic
/// would decide ([`within_at`]): every decision is the one [`within_m`] makes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SphereBand {
    pub inner2: f64,
    pub outer2: f64,
    /// Great-circle distances (metres) of `inner2` and `outer2`.
    pub inner_m: f64,
    pub outer_m: f64,
    pub low: f64,
    pub high: f64,
}

impl SphereBand {
    /// The bounds for any places in Japan (lat 20-46).
    pub fn global(reach_m: f64) -> SphereBand {
        let (inner_m, outer_m) = (reach_m / SPHERE_HIGH, reach_m / SPHERE_LOW);
        SphereBand {
            inner2: chord_from_arc(inner_m).powi(2),
            outer2: chord_from_arc(outer_m).powi(2),
            inner_m,
            outer_m,
            low: SPHERE_LOW,
            high: SPHERE_HIGH,
        }
    }

    /// [`Self::near`] at the latitudes of the places `members` (indexes into `places`).
    pub fn of_places(reach_m: f64, places: &[(f64, f64)], members: &[u32]) -> SphereBand {
        let (lat_lo, lat_hi) = members.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &i| {
            let lat = places[i as usize].1;
            (lo.min(lat), hi.max(lat))
        });
        SphereBand::near(reach_m, lat_lo, lat_hi)
    }

    /// The bounds for places between latitudes `lat_lo` and `lat_hi` (degrees), never wider
    /// than [`Self::global`]'s: the latitudes a pair can span are those of the places give
    /// or take the largest distance looked at (the reach, widened for the nearest's second
    /// look in [`ProviderIndex::reach_block`]).
    pub fn near(reach_m: f64, lat_lo: f64, lat_hi: f64) -> SphereBand {
        let global = SphereBand::global(reach_m);
        // (NaN reaches and latitudes fail the test too.)
        let usable = reach_m <= LOCAL_MAX_M && lat_lo <= lat_hi;
        if !usable {
            return global;
        }
        let widest = reach_m / SPHERE_LOW * SPHERE_HIGH / SPHERE_LOW;
        // A great-circle distance s spans at most s / R radians of latitude.
        let reach_deg = (1.01 * widest / EARTH_RADIUS_M).to_degrees();
        let (lo, hi) = (lat_lo - reach_deg, lat_hi + reach_deg);
        if lo < -60.0 || hi > 60.0 {
            return global;
        }
        let least = if lo <= 0.0 && hi >= 0.0 {
            0.0
        } else {
            lo.abs().min(hi.abs())
        };
        let most = lo.abs().max(hi.abs());
        let radii = |lat: f64| {
            let sin = lat.to_radians().sin();
            let w = 1.0 - WGS84_E2 * sin * sin;
            (WGS84_A * (1.0 - WGS84_E2) / (w * w.sqrt()), WGS84_A / w.sqrt())
        };
        let low = (radii(least).0 / EARTH_RADIUS_M * (1.0 - LOCAL_MARGIN)).max(SPHERE_LOW);
        let high = (radii(most).1 / EARTH_RADIUS_M * (1.0 + LOCAL_MARGIN)).min(SPHERE_HIGH);
        let inner_m = ((reach_m - 0.5) / high).max(global.inner_m);
        let outer_m = ((reach_m + 0.5) / low).min(global.outer_m);
        SphereBand {
            inner2: chord_from_arc(inner_m).powi(2),
            outer2: chord_from_arc(outer_m).powi(2),
            inner_m,
            outer_m,
            low,
            high,
        }
    }
}

/// Calls `f(site, squared chord)` for every site within the squared chord `max2` of `q`,
/// in the order of rstar's `locate_within_distance` iterator (depth first, children last to
/// first), so sums over the sites add in the same order, without the iterator's stack of
/// nodes. The squared chord is rstar's own (the same sum of squares).
fn for_within(tree: &RTree<Site>, q: &[f64; 3], max2: f64, mut f: impl FnMut(&Site, f64)) {
    fn inner(children: &[RTreeNode<Site>], q: &[f64; 3], max2: f64, f: &mut impl FnMut(&Site, f64)) {
        for node in children.iter().rev() {
            match node {
                RTreeNode::Leaf(site) => {
                    let d2 = dist2(q, site.geom());
                    if d2 <= max2 {
                        f(site, d2);
                    }
                }
                RTreeNode::Parent(parent) => {
                    if parent.envelope().distance_2(q) <= max2 {
                        inner(parent.children(), q, max2, f);
                    }
                }
            }
        }
    }
    let root = tree.root();
    if !root.children().is_empty() && root.envelope().distance_2(q) <= max2 {
        inner(root.children(), q, max2, &mut f);
    }
}

/// The indexes of `points` sorted along the Z-order of their longitude and latitude on a
/// 2^16 grid (about 0.6 km), ties by index: neighbours come one after another.
pub fn z_order(points: &[(f64, f64)]) -> Vec<u32> {
    let key = |&(lon, lat): &(f64, f64)| -> u64 {
        let q = |v: f64, lo: f64, span: f64| (((v - lo) / span).clamp(0.0, 1.0) * 65535.0) as u64;
        let spread = |mut v: u64| {
            v = (v | (v << 8)) & 0x00ff_00ff;
            v = (v | (v << 4)) & 0x0f0f_0f0f;
            v = (v | (v << 2)) & 0x3333_3333;
            (v | (v << 1)) & 0x5555_5555
        };
        spread(q(lon, -180.0, 360.0)) | (spread(q(lat, -90.0, 180.0)) << 1)
    };
    let mut keyed: Vec<(u64, u32)> = points.iter().enumerate().map(|(i, p)| (key(p), i as u32)).collect();
    keyed.par_sort_unstable();
    keyed.into_iter().map(|(_, i)| i).collect()
}

/// `f` of every point, computed in parallel along the points' [`z_order`] (a spatial
/// index's nodes then stay in cache from one point to the next), in the points' order.
pub fn map_in_z_order<T: Send + Clone + Default>(points: &[(f64, f64)], f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let order = z_order(points);
    let found: Vec<T> = order.par_iter().map(|&i| f(i as usize)).collect();
    let mut out = vec![T::default(); points.len()];
    for (&i, v) in order.iter().zip(found) {
        out[i as usize] = v;
    }
    out
}

/// Query points taken in blocks of neighbours: sorted along the Z-order of their longitude
/// and latitude, cut into runs of at most [`BLOCK`] points whose chord radius around their
/// centroid is at most `max_radius_m` (a run that is wider is halved until it is not). One
/// R-tree visit gathers the sites near a whole block ([`Candidates`]); each point then
/// scans that short list instead of walking the tree.
pub struct Blocks {
    /// Point indexes in Z-order.
    pub order: Vec<u32>,
    /// Runs of `order`, with their centroid and chord radius (metres).
    pub runs: Vec<(std::ops::Range<usize>, [f64; 3], f64)>,
    /// Earth-centred coordinates of every point, in the points' own order.
    pub xyz: Vec<[f64; 3]>,
}

/// Points per block at most (measured on the national benchmark: 16 to 64 differ little).
const BLOCK: usize = 32;

impl Blocks {
    pub fn new(points: &[(f64, f64)], max_radius_m: f64) -> Blocks {
        let xyz: Vec<[f64; 3]> = points.par_iter().map(|&(lon, lat)| to_xyz(lon, lat)).collect();
        let order = z_order(points);
        // Each run of BLOCK points is halved, depth first, until its parts are narrow
        // enough; the runs side by side, their parts in the order of the points.
        let starts: Vec<usize> = (0..order.len()).step_by(BLOCK).collect();
        let runs: Vec<(std::ops::Range<usize>, [f64; 3], f64)> = starts
            .par_iter()
            .with_min_len(64)
            .flat_map_iter(|&s| {
                let mut parts = Vec::new();
                let mut todo = Vec::with_capacity(8);
                todo.push(s..(s + BLOCK).min(order.len()));
                while let Some(run) = todo.pop() {
                    let members = &order[run.clone()];
                    let n = members.len() as f64;
                    let mut c = [0.0; 3];
                    for &i in members {
                        for (a, v) in c.iter_mut().zip(xyz[i as usize]) {
                            *a += v / n;
                        }
                    }
                    let radius = members
                        .iter()
                        .map(|&i| dist2(&c, &xyz[i as usize]))
                        .fold(0.0, f64::max)
                        .sqrt();
                    if radius > max_radius_m && run.len() > 1 {
                        let mid = run.start + run.len() / 2;
                        todo.push(mid..run.end);
                        todo.push(run.start..mid);
                    } else {
                        parts.push((run, c, radius));
                    }
                }
                parts
            })
            .collect();
        Blocks { order, runs, xyz }
    }

    /// Calls `f(k, run's point indexes)` for every run in parallel and gathers one result
    /// per point, in the points' order.
    pub fn map<T: Send + Clone + Default>(
        &self,
        f: impl Fn(usize, &[u32]) -> Vec<T> + Sync + Send,
        done: &(dyn Fn(usize) + Sync),
    ) -> Vec<T> {
        let per_run: Vec<Vec<T>> = self
            .runs
            .par_iter()
            .enumerate()
            .map(|(k, (run, _, _))| {
                let out = f(k, &self.order[run.clone()]);
                done(run.len());
                out
            })
            .collect();
        let mut out = vec![T::default(); self.order.len()];
        for ((run, _, _), values) in self.runs.iter().zip(per_run) {
            for (&i, v) in self.order[run.clone()].iter().zip(values) {
                out[i as usize] = v;
            }
        }
        out
    }
}

/// The sites of a tree near one block of query points, in [`for_within`]'s order.
#[derive(Default)]
pub struct Candidates {
    x: Vec<f64>,
    y: Vec<f64>,
    z: Vec<f64>,
    id: Vec<u32>,
    /// Squared chords from the last point scanned.
    d2: Vec<f64>,
    /// Every site within this squared chord of any point of the block is a candidate.
    pub max2: f64,
}

impl Candidates {
    /// Gathers every site within the chord `sqrt(max2)` of some point of a block with
    /// centroid `c` and radius `radius` (the triangle inequality, with a margin for
    /// rounding).
    pub fn gather(&mut self, tree: &RTree<Site>, c: &[f64; 3], radius: f64, max2: f64) {
        self.x.clear();
        self.y.clear();
        self.z.clear();
        self.id.clear();
        self.max2 = max2;
        let r = (max2.sqrt() + radius) * (1.0 + 1e-9) + 1e-3;
        for_within(tree, c, r * r, |site, _| {
            let p = site.geom();
            self.x.push(p[0]);
            self.y.push(p[1]);
            self.z.push(p[2]);
            self.id.push(site.data);
        });
    }

    /// Squared chords from `q` to every candidate (as [`dist2`] computes them), kept for
    /// [`Self::for_within`].
    fn scan(&mut self, q: &[f64; 3]) {
        let n = self.id.len();
        self.d2.resize(n, 0.0);
        let (x, y, z) = (&self.x[..n], &self.y[..n], &self.z[..n]);
        for (((d, &a), &b), &c) in self.d2.iter_mut().zip(x).zip(y).zip(z) {
            *d = (q[0] - a).powi(2) + (q[1] - b).powi(2) + (q[2] - c).powi(2);
        }
    }

    /// As [`for_within`] from the point last scanned, a point of the block, for `max2` at
    /// most the gathered one: the same sites, in the same order, with the same squared
    /// chords.
    fn for_within(&self, max2: f64, mut f: impl FnMut(u32, f64)) {
        debug_assert!(max2 <= self.max2);
        for (&d2, &id) in self.d2.iter().zip(&self.id) {
            if d2 <= max2 {
                f(id, d2);
            }
        }
    }
}

thread_local! {
    /// Each thread's candidate lists, kept from block to block so that they grow once.
    static CANDIDATES: std::cell::RefCell<Candidates> = std::cell::RefCell::new(Candidates::default());
}

/// Runs `f` with this thread's [`Candidates`] (fresh ones if they are in use further up).
fn with_candidates<R>(f: impl FnOnce(&mut Candidates) -> R) -> R {
    let mut cand = CANDIDATES.with(|c| {
        c.try_borrow_mut()
            .map(|mut c| std::mem::take(&mut *c))
            .unwrap_or_default()
    });
    let out = f(&mut cand);
    CANDIDATES.with(|c| {
        if let Ok(mut c) = c.try_borrow_mut() {
            *c = cand;
        }
    });
    out
}

/// Per radius (metres): the squared chords below which a point is surely within it, and
/// above which surely not.
fn disc_bounds(radii: &[f64]) -> Vec<(f64, f64)> {
    radii
        .iter()
        .map(|&r| {
            (
                chord_from_arc(r / SPHERE_HIGH).powi(2),
                chord_from_arc(r / SPHERE_LOW).powi(2),
            )
        })
        .collect()
}

/// Distance on WGS84 from `at` to the nearest point of `tree` (sites numbering `lonlat`).
fn nearest_in(tree: &RTree<Site>, lonlat: &[(f64, f64)], at: (f64, f64)) -> f64 {
    nearest_with_id(tree, lonlat, at).0
}

/// [`nearest_in`] with the nearest point's index (the lowest of those equally near;
/// [`NO_SITE`] when the tree is empty).
fn nearest_with_id(tree: &RTree<Site>, lonlat: &[(f64, f64)], at: (f64, f64)) -> (f64, u32) {
    let q = to_xyz(at.0, at.1);
    let mut best = Nearest::NONE;
    // Candidates come in chord order; none can beat `best` once its sphere distance
    // times the smallest ellipsoid/sphere ratio exceeds it (points equally near have equal
    // chords: all of them are seen).
    let mut stop2 = f64::INFINITY;
    for (site, d2) in tree.nearest_neighbor_iter_with_distance_2(&q) {
        if d2 > stop2 {
            break;
        }
        if best.offer(ellipsoid_m(at, lonlat[site.data as usize]), site.data) {
            stop2 = chord_from_arc(best.0 / SPHERE_LOW).powi(2);
        }
    }
    (best.0, best.1)
}

/// No point: the index of the nearest where there is none.
pub const NO_SITE: u32 = u32::MAX;

/// The nearest point seen so far: (distance, index), the lower index among equal distances.
#[derive(Clone, Copy)]
struct Nearest(f64, u32);

impl Nearest {
    const NONE: Nearest = Nearest(f64::INFINITY, NO_SITE);

    /// Takes `(d, id)` if it is nearer (or as near with a lower index); true if taken. The
    /// distance kept is the minimum, as `f64::min` over the same distances gives it.
    fn offer(&mut self, d: f64, id: u32) -> bool {
        if d < self.0 || (d == self.0 && id < self.1) {
            *self = Nearest(d, id);
            true
        } else {
            false
        }
    }
}

/// Points indexed for the nearest only (no counting bands): cheaper to build where a few
/// places need their nearest provider again.
pub struct NearestIndex {
    tree: RTree<Site>,
    lonlat: Vec<(f64, f64)>,
}

impl NearestIndex {
    pub fn new(points: &[(f64, f64)]) -> Self {
        let sites = points
            .iter()
            .enumerate()
            .map(|(i, &(lon, lat))| Site::new(to_xyz(lon, lat), i as u32))
            .collect();
        NearestIndex {
            tree: RTree::bulk_load(sites),
            lonlat: points.to_vec(),
        }
    }

    /// As [`ProviderIndex::nearest_m`].
    pub fn nearest_m(&self, at: (f64, f64)) -> f64 {
        nearest_in(&self.tree, &self.lonlat, at)
    }
}

/// Points that can be taken out one by one, visited nearest first: the providers that still
/// have room while a capacity assignment fills them.
#[derive(Clone)]
pub struct OpenSites {
    tree: super::open_tree::OpenTree,
    lonlat: Vec<(f64, f64)>,
    /// Points fetched but not yet handed out: (distance bits, index), kept from visit to
    /// visit for its storage.
    ready: std::collections::BinaryHeap<std::cmp::Reverse<(u64, u32)>>,
}

impl OpenSites {
    pub fn new(points: &[(f64, f64)]) -> Self {
        let xyz: Vec<[f64; 3]> = points.iter().map(|&(lon, lat)| to_xyz(lon, lat)).collect();
        OpenSites {
            tree: super::open_tree::OpenTree::new(xyz),
            lonlat: points.to_vec(),
            ready: Default::default(),
        }
    }

    /// The points still open within `reach_m` of `at` on WGS84 (decided as
    /// [`ProviderIndex::count_within`] decides), nearest first on the ellipsoid (ties by
    /// index), with their distance, until `take` returns false. The tree gives points in
    /// order on the sphere; a point is handed out once no point not yet fetched can be
    /// nearer on the ellipsoid (the two differ by under 0.6 % in Japan's latitudes).
    pub fn visit_nearest(&mut self, at: (f64, f64), reach_m: f64, take: &mut dyn FnMut(u32, f64) -> bool) {
        use std::cmp::Reverse;
        let q = to_xyz(at.0, at.1);
        let outer2 = chord_from_arc(reach_m / SPHERE_LOW).powi(2);
        let lonlat = &self.lonlat;
        let mut sites = self.tree.visit(q, outer2);
        // (distance bits, index): non-negative floats order as their bits do.
        let ready = &mut self.ready;
        ready.clear();
        loop {
            let bound = match sites.peek() {
                Some(d2) => arc_from_chord(d2.sqrt()) * SPHERE_LOW,
                None => f64::INFINITY,
            };
            match ready.peek() {
                Some(&Reverse((bits, i))) if f64::from_bits(bits) < bound => {
                    ready.pop();
                    if !take(i, f64::from_bits(bits)) {
                        return;
                    }
                }
                _ if bound.is_finite() => {
                    if let Some((i, _)) = sites.next_point() {
                        let b = lonlat[i as usize];
                        let d = ellipsoid_m(at, b);
                        if within_at(d, at, b, reach_m) {
                            ready.push(Reverse((d.max(0.0).to_bits(), i)));
                        }
                    }
                }
                _ => return,
            }
        }
    }

    /// Takes point `i` out.
    pub fn remove(&mut self, i: u32) {
        self.tree.remove(i);
    }
}

/// The providers of one role, indexed for nearest and within-distance queries.
#[derive(Clone)]
pub struct ProviderIndex {
    tree: RTree<Site>,
    bands: Bands,
    density: Density,
    lonlat: Vec<(f64, f64)>,
    weights: Vec<f64>,
}

impl ProviderIndex {
    pub fn new(points: &[(f64, f64)]) -> Self {
        ProviderIndex::with_weights(points, &vec![1.0; points.len()])
    }

    /// Points with a weight each, for [`Self::sum_within`].
    pub fn with_weights(points: &[(f64, f64)], weights: &[f64]) -> Self {
        // The tree, the bands and the density grid side by side (each on its own: the
        // places' index of a national access run took a tenth of a second on one core).
        let (tree, (bands, density)) = rayon::join(
            || {
                let sites = points
                    .iter()
                    .enumerate()
                    .map(|(i, &(lon, lat))| Site::new(to_xyz(lon, lat), i as u32))
                    .collect();
                RTree::bulk_load(sites)
            },
            || rayon::join(|| Bands::with_weights(points, weights), || Density::new(points)),
        );
        ProviderIndex {
            tree,
            bands,
            density,
            lonlat: points.to_vec(),
            weights: weights.to_vec(),
        }
    }

    /// The same points with other weights (the same tree and bands, so sums visit the
    /// points in the same order as an index built afresh with these weights).
    pub fn reweighted(&self, weights: &[f64]) -> Self {
        ProviderIndex {
            tree: self.tree.clone(),
            bands: self.bands.reweighted(weights),
            density: self.density.clone(),
            lonlat: self.lonlat.clone(),
            weights: weights.to_vec(),
        }
    }

    pub fn len(&self) -> usize {
        self.lonlat.len()
    }

    /// The weight of point `i`.
    pub fn weight(&self, i: u32) -> f64 {
        self.weights[i as usize]
    }

    pub fn is_empty(&self) -> bool {
        self.lonlat.is_empty()
    }

    /// Distance on WGS84 to the nearest provider, metres; infinite when there is none.
    pub fn nearest_m(&self, at: (f64, f64)) -> f64 {
        nearest_in(&self.tree, &self.lonlat, at)
    }

    /// Nearest provider (metres) and number within `reach_m`. Where few providers are
    /// around, one R-tree pass counts them and finds the nearest on the sphere, and a narrow
    /// second query settles the nearest on the ellipsoid. Where many are (a city), counting
    /// by latitude bands ([`Bands`]) is cheaper than visiting each, and the nearest comes
    /// from a nearest-neighbour search.
    pub fn reach_at(&self, at: (f64, f64), reach_m: f64) -> (f64, u32) {
        if self.dense_at(at, reach_m) {
            return (self.nearest_m(at), self.count_within(at, reach_m));
        }
        let q = to_xyz(at.0, at.1);
        let outer = chord_from_arc(reach_m / SPHERE_LOW);
        let inner2 = chord_from_arc(reach_m / SPHERE_HIGH).powi(2);
        let mut count = 0;
        let mut min2 = f64::INFINITY;
        for_within(&self.tree, &q, outer * outer, |site, d2| {
            min2 = min2.min(d2);
            let within = d2 <= inner2 || self.within_exactly(at, site.data, reach_m);
            count += u32::from(within);
        });
        if min2.is_infinite() {
            return (self.nearest_m(at), 0);
        }
        // Every provider whose ellipsoid distance could beat the sphere-nearest one.
        let limit = chord_from_arc(arc_from_chord(min2.sqrt()) * SPHERE_HIGH / SPHERE_LOW);
        let mut nearest = f64::INFINITY;
        for_within(&self.tree, &q, limit * limit, |site, _| {
            nearest = nearest.min(ellipsoid_m(at, self.lonlat[site.data as usize]));
        });
        (nearest, count)
    }

    /// [`Self::reach_at`] for every point of run `k` of `blocks` (places' coordinates
    /// `places`): the same figures, the sparse points' sites gathered once for the run; with
    /// each point's nearest provider (the lowest index among those equally near, [`NO_SITE`]
    /// where there is none).
    pub fn reach_block(&self, places: &[(f64, f64)], blocks: &Blocks, k: usize, reach_m: f64) -> Vec<(f64, u32, u32)> {
        let (run, centre, radius) = &blocks.runs[k];
        let members = &blocks.order[run.clone()];
        let dense: Vec<bool> = members
            .iter()
            .map(|&i| self.dense_at(places[i as usize], reach_m))
            .collect();
        let band = SphereBand::of_places(reach_m, places, members);
        with_candidates(|cand| {
            if dense.contains(&false) {
                // Wide enough for the nearest's second look too (see below).
                let wide = chord_from_arc(reach_m / SPHERE_LOW * SPHERE_HIGH / SPHERE_LOW);
                cand.gather(&self.tree, centre, *radius, wide * wide);
            }
            let outer = chord_from_arc(reach_m / SPHERE_LOW);
            members
                .iter()
                .zip(dense)
                .map(|(&i, dense)| {
                    let at = places[i as usize];
                    if dense {
                        let (d, id) = nearest_with_id(&self.tree, &self.lonlat, at);
                        return (d, self.count_in_band(at, reach_m, &band), id);
                    }
                    let q = &blocks.xyz[i as usize];
                    let mut count = 0;
                    let mut min2 = f64::INFINITY;
                    cand.scan(q);
                    cand.for_within(outer * outer, |id, d2| {
                        min2 = min2.min(d2);
                        let within = d2 <= band.inner2 || (d2 <= band.outer2 && self.within_exactly(at, id, reach_m));
                        count += u32::from(within);
                    });
                    if min2.is_infinite() {
                        let (d, id) = nearest_with_id(&self.tree, &self.lonlat, at);
                        return (d, 0, id);
                    }
                    // The chord of the sphere-nearest arc times high / low, bounded without
                    // working out the arc: chord(k arc(c)) <= k c for k >= 1, the sine being
                    // concave (a wider chord only takes in sites that cannot be nearer).
                    let limit = min2.sqrt() * (band.high / band.low) * (1.0 + 1e-12);
                    let mut nearest = Nearest::NONE;
                    if limit * limit <= cand.max2 {
                        cand.for_within(limit * limit, |id, _| {
                            nearest.offer(ellipsoid_m(at, self.lonlat[id as usize]), id);
                        });
                    } else {
                        for_within(&self.tree, q, limit * limit, |site, _| {
                            nearest.offer(ellipsoid_m(at, self.lonlat[site.data as usize]), site.data);
                        });
                    }
                    (nearest.0, count, nearest.1)
                })
                .collect()
        })
    }

    /// Sum of the weights of the points within `reach_m` metres on WGS84 (decided as in
    /// [`Self::count_within`]).
    pub fn sum_within(&self, at: (f64, f64), reach_m: f64) -> f64 {
        self.sums_within(at, &[reach_m])[0]
    }

    /// Sums of the weights within each of several radii (metres, ascending), in one pass
    /// over the points within the largest.
    pub fn sums_within(&self, at: (f64, f64), radii: &[f64]) -> Vec<f64> {
        let Some(&largest) = radii.last() else {
            return Vec::new();
        };
        if self.dense_at(at, largest) {
            return radii
                .iter()
                .map(|&r| {
                    self.bands
                        .sum(at, r / SPHERE_HIGH, r / SPHERE_LOW, |i| self.within_exactly(at, i, r))
                })
                .collect();
        }
        let q = to_xyz(at.0, at.1);
        let outer = chord_from_arc(largest / SPHERE_LOW);
        // Per radius: squared chords below which a point is surely inside, above which surely out.
        let bounds = disc_bounds(radii);
        let mut sums = vec![0.0; radii.len()];
        for_within(&self.tree, &q, outer * outer, |site, d2| {
            let w = self.weights[site.data as usize];
            for (k, &(inner2, outer2)) in bounds.iter().enumerate() {
                if d2 <= inner2 || (d2 <= outer2 && self.within_exactly(at, site.data, radii[k])) {
                    sums[k] += w;
                }
            }
        });
        sums
    }

    /// [`Self::sums_within`] for every point of run `k` of `blocks` (coordinates `points`),
    /// the sparse points' sites gathered once for the run. With `also` (these points
    /// reweighted, [`Self::reweighted`]) and radii ending at `reach_m`, each point also gets
    /// `also.sum_within(at, reach_m)` from the same pass; otherwise 0. With `count`, each
    /// point also gets the number of points within the largest radius (as
    /// [`Self::count_within`] gives it); otherwise 0.
    pub fn sums_block(
        &self,
        points: &[(f64, f64)],
        blocks: &Blocks,
        k: usize,
        radii: &[f64],
        also: Option<(&ProviderIndex, f64)>,
        count: bool,
    ) -> Vec<(Vec<f64>, f64, u32)> {
        let (run, centre, radius) = &blocks.runs[k];
        let members = &blocks.order[run.clone()];
        let Some(&largest) = radii.last() else {
            return vec![(Vec::new(), 0.0, 0); members.len()];
        };
        // The pass serves `also` only where it asks for the same disc.
        let shared = also.filter(|&(_, r)| r == largest).map(|(a, _)| a);
        let dense: Vec<bool> = members
            .iter()
            .map(|&i| self.dense_at(points[i as usize], largest))
            .collect();
        let outer = chord_from_arc(largest / SPHERE_LOW);
        with_candidates(|cand| {
            if dense.contains(&false) {
                cand.gather(&self.tree, centre, *radius, outer * outer);
            }
            let bounds = disc_bounds(radii);
            let last = radii.len() - 1;
            members
                .iter()
                .zip(dense)
                .map(|(&i, dense)| {
                    let at = points[i as usize];
                    let other = |a: &ProviderIndex, r: f64| a.sum_within(at, r);
                    if dense {
                        if let Some(a) = shared {
                            // The largest disc visited once for both sums and the count
                            // (`a` has the same bands, density and points).
                            let mut sums: Vec<f64> = radii[..last]
                                .iter()
                                .map(|&r| {
                                    self.bands
                                        .sum(at, r / SPHERE_HIGH, r / SPHERE_LOW, |i| self.within_exactly(at, i, r))
                                })
                                .collect();
                            let (sum, extra, n) = self.bands.sum_both_count(
                                &a.bands,
                                at,
                                largest / SPHERE_HIGH,
                                largest / SPHERE_LOW,
                                |i| self.within_exactly(at, i, largest),
                            );
                            sums.push(sum);
                            return (sums, extra, if count { n } else { 0 });
                        }
                        let extra = also.map_or(0.0, |(a, r)| other(a, r));
                        let n = if count { self.count_within(at, largest) } else { 0 };
                        return (self.sums_within(at, radii), extra, n);
                    }
                    let mut sums = vec![0.0; radii.len()];
                    let mut extra = 0.0;
                    let mut n = 0;
                    cand.scan(&blocks.xyz[i as usize]);
                    cand.for_within(outer * outer, |id, d2| {
                        let w = self.weights[id as usize];
                        for (k, &(inner2, outer2)) in bounds.iter().enumerate() {
                            if d2 <= inner2 || (d2 <= outer2 && self.within_exactly(at, id, radii[k])) {
                                sums[k] += w;
                                if k == last {
                                    n += 1;
                                    if let Some(a) = shared {
                                        extra += a.weights[id as usize];
                                    }
                                }
                            }
                        }
                    });
                    if shared.is_none() {
                        extra = also.map_or(0.0, |(a, r)| other(a, r));
                    }
                    (sums, extra, if count { n } else { 0 })
                })
                .collect()
        })
    }

    /// Every point within `reach_m` metres on WGS84 with its distance, in index order.
    pub fn pairs_within(&self, at: (f64, f64), reach_m: f64) -> Vec<(u32, f64)> {
        let q = to_xyz(at.0, at.1);
        let outer = chord_from_arc(reach_m / SPHERE_LOW);
        let mut pairs: Vec<(u32, f64)> = Vec::new();
        for_within(&self.tree, &q, outer * outer, |site, _| {
            if self.within_exactly(at, site.data, reach_m) {
                pairs.push((site.data, ellipsoid_m(at, self.lonlat[site.data as usize])));
            }
        });
        pairs.sort_by_key(|p| p.0);
        pairs
    }

    /// A quick upper estimate of the points within `reach_m`: those in the coarse density
    /// grid's cells that overlap the bounding box of the disc.
    pub fn estimate_within(&self, at: (f64, f64), reach_m: f64) -> u32 {
        let outer_deg = (reach_m / SPHERE_LOW / EARTH_RADIUS_M).to_degrees();
        let dlon = outer_deg / at.1.to_radians().cos();
        self.density.estimate(at, dlon, outer_deg)
    }

    /// The points within `reach_m` metres on WGS84 (decided as [`Self::count_within`]
    /// decides), without their distances, in the tree's order (fixed for a given input).
    pub fn ids_within(&self, at: (f64, f64), reach_m: f64, out: &mut Vec<u32>) {
        out.clear();
        let q = to_xyz(at.0, at.1);
        let outer2 = chord_from_arc(reach_m / SPHERE_LOW).powi(2);
        let inner2 = chord_from_arc(reach_m / SPHERE_HIGH).powi(2);
        for_within(&self.tree, &q, outer2, |site, d2| {
            if d2 <= inner2 || self.within_exactly(at, site.data, reach_m) {
                out.push(site.data);
            }
        });
    }

    /// Whether so many providers may lie within `reach_m` of `at` ([`Self::estimate_within`])
    /// that the latitude bands count them faster than a visit of each.
    fn dense_at(&self, at: (f64, f64), reach_m: f64) -> bool {
        self.estimate_within(at, reach_m) > DENSE
    }

    /// Whether provider `i` is within `reach_m` on the ellipsoid (Karney's algorithm when
    /// the short formula is within 0.25 m of the limit).
    fn within_exactly(&self, at: (f64, f64), i: u32, reach_m: f64) -> bool {
        within_m(at, self.lonlat[i as usize], reach_m)
    }

    /// Number of providers within `reach_m` metres on WGS84. The sphere settles most
    /// pairs (see [`Bands`]); pairs it cannot are measured on the ellipsoid, and pairs
    /// within 0.25 m of the limit are decided by Karney's geodesic.
    pub fn count_within(&self, at: (f64, f64), reach_m: f64) -> u32 {
        self.count_in_band(at, reach_m, &SphereBand::global(reach_m))
    }

    /// [`Self::count_within`] with the sphere's bounds `band` (valid at `at`).
    fn count_in_band(&self, at: (f64, f64), reach_m: f64, band: &SphereBand) -> u32 {
        self.bands
            .count(at, band.inner_m, band.outer_m, |i| self.within_exactly(at, i, reach_m))
    }
}

/// The (lon, lat) of the institutions that fill `role`, in input order.
pub fn role_points(institutions: &[Institution], role: &crate::inputs::rules::Role) -> Vec<(f64, f64)> {
    institutions
        .iter()
        .filter(|i| role.matches(i))
        .map(|i| (i.lon, i.lat))
        .collect()
}

/// [`role_points`] of every role of `rules`, in their order: one pass over the institutions
/// for all roles (each institution's roles found while it is at hand), where there are at
/// most 64 of them.
pub fn roles_points(institutions: &[Institution], rules: &Rules) -> Vec<Vec<(f64, f64)>> {
    let Some(masks) = rules.role_masks(institutions) else {
        return rules
            .roles
            .par_iter()
            .map(|role| role_points(institutions, role))
            .collect();
    };
    let mut points = vec![Vec::new(); rules.roles.len()];
    for (inst, &mask) in institutions.iter().zip(&masks) {
        let mut rest = mask;
        while rest != 0 {
            let r = rest.trailing_zeros() as usize;
            rest &= rest - 1;
            points[r].push((inst.lon, inst.lat));
        }
    }
    points
}

/// Reach of one role's providers at every place, block by block in parallel, with each
/// place's nearest provider (see [`NearestProviders`]); `done(n)` after each block of `n`
/// places.
fn role_reach(
    places: &[(f64, f64)],
    blocks: &Blocks,
    index: &ProviderIndex,
    reach_m: f64,
    done: &(dyn Fn(usize) + Sync),
) -> (RoleReach, Vec<u32>) {
    let all = blocks.map(|k, _| index.reach_block(places, blocks, k, reach_m), done);
    let mut nearest = Vec::with_capacity(all.len());
    let mut in_reach = Vec::with_capacity(all.len());
    let mut ids = Vec::with_capacity(all.len());
    for (d, n, id) in all {
        nearest.push(d);
        in_reach.push(n);
        ids.push(id);
    }
    (
        RoleReach {
            nearest,
            in_reach,
            providers: index.len(),
        },
        ids,
    )
}

/// Per role (rules order), per place: the index of the nearest provider on WGS84 among the
/// role's providers in input order (the lowest index among those equally near), or
/// [`NO_SITE`]. Capacity's nearest-first start serves a place from it without a search
/// while it has room.
pub type NearestProviders = Vec<Vec<u32>>;

/// Blocks of places narrow enough for reach `reach_m` (a quarter of it across).
pub fn blocks_for(places: &[(f64, f64)], reach_m: f64) -> Blocks {
    Blocks::new(places, 0.25 * reach_m)
}

/// Straight-line reach of every role of `rules` at every place (lon, lat).
pub fn straight_line_reach(
    places: &[(f64, f64)],
    institutions: &[Institution],
    rules: &Rules,
    progress: Progress,
) -> ReachTable {
    straight_line_reach_with_nearest(places, institutions, rules, progress).0
}

/// [`straight_line_reach`] with every place's nearest provider of each role.
pub fn straight_line_reach_with_nearest(
    places: &[(f64, f64)],
    institutions: &[Institution],
    rules: &Rules,
    progress: Progress,
) -> (ReachTable, NearestProviders) {
    let bar = progress.bar((places.len() * rules.roles.len()) as u64, "reach");
    let shortest = rules.roles.iter().map(|r| r.reach_km).fold(f64::INFINITY, f64::min);
    let blocks = blocks_for(places, shortest.min(1e4) * 1000.0);
    // The roles' indexes are built side by side, then each role's places in parallel.
    let indexes: Vec<ProviderIndex> = roles_points(institutions, rules)
        .par_iter()
        .map(|points| ProviderIndex::new(points))
        .collect();
    let (roles, nearest): (Vec<RoleReach>, NearestProviders) = rules
        .roles
        .iter()
        .zip(&indexes)
        .map(|(role, index)| {
            bar.set_message(role.id.clone());
            role_reach(places, &blocks, index, role.reach_km * 1000.0, &|n| bar.inc(n as u64))
        })
        .unzip();
    bar.finish_and_clear();
    (
        ReachTable {
            unit: ReachUnit::Metres,
            roles,
        },
        nearest,
    )
}

/// Whether some site of `tree` within the squared chord `max2` of `q` passes `pred(site,
/// squared chord)`: a walk of the nodes as [`for_within`] takes them, stopping at the first.
fn any_site(tree: &RTree<Site>, q: &[f64; 3], max2: f64, mut pred: impl FnMut(&Site, f64) -> bool) -> bool {
    fn inner(children: &[RTreeNode<Site>], q: &[f64; 3], max2: f64, pred: &mut impl FnMut(&Site, f64) -> bool) -> bool {
        children.iter().rev().any(|node| match node {
            RTreeNode::Leaf(site) => {
                let d2 = dist2(q, site.geom());
                d2 <= max2 && pred(site, d2)
            }
            RTreeNode::Parent(parent) => {
                parent.envelope().distance_2(q) <= max2 && inner(parent.children(), q, max2, pred)
            }
        })
    }
    let root = tree.root();
    !root.children().is_empty() && root.envelope().distance_2(q) <= max2 && inner(root.children(), q, max2, &mut pred)
}

/// The providers of one role, indexed only to say whether one is within reach.
pub struct PresenceIndex {
    tree: RTree<Site>,
    lonlat: Vec<(f64, f64)>,
}

impl PresenceIndex {
    pub fn new(points: &[(f64, f64)]) -> Self {
        let sites = points
            .iter()
            .enumerate()
            .map(|(i, &(lon, lat))| Site::new(to_xyz(lon, lat), i as u32))
            .collect();
        PresenceIndex {
            tree: RTree::bulk_load(sites),
            lonlat: points.to_vec(),
        }
    }

    /// Whether a provider lies within `reach_m` metres on WGS84 of `at` (earth-centred `q`):
    /// [`ProviderIndex::count_within`] above 0, decided the same way (the sphere where it is
    /// sure, the ellipsoid in the band between), stopping at the first provider found. The
    /// sure disc is looked at first, so that a town's place stops at its nearest provider.
    /// `band` holds the sphere's bounds for the reach at `at` ([`SphereBand::near`]).
    pub fn any_within(&self, at: (f64, f64), q: &[f64; 3], reach_m: f64, band: &SphereBand) -> bool {
        let SphereBand { inner2, outer2, .. } = *band;
        any_site(&self.tree, q, inner2, |_, _| true)
            || any_site(&self.tree, q, outer2, |site, d2| {
                d2 > inner2 && within_m(at, self.lonlat[site.data as usize], reach_m)
            })
    }

    /// [`Self::any_within`] at every point of `blocks` (places' coordinates `places`), in
    /// the places' order. A block answers for all its places at once where it can: some
    /// provider lies within the sure chord, less the block's radius, of its centre (then
    /// within the sure chord of every place: chords obey the triangle inequality), or none
    /// lies within the outer chord plus the radius. Other blocks ask place by place. The
    /// sphere's bounds are those at the block's latitudes. `done(n)` after each block of
    /// `n` places.
    pub fn presence_in_blocks(
        &self,
        places: &[(f64, f64)],
        blocks: &Blocks,
        reach_m: f64,
        done: &(dyn Fn(usize) + Sync),
    ) -> Vec<bool> {
        blocks.map(
            |k, members| {
                let (_, centre, radius) = &blocks.runs[k];
                let band = SphereBand::of_places(reach_m, places, members);
                // Margins far above the rounding of a chord (1e-9 of it, and a millimetre).
                let sure = (band.inner2.sqrt() - radius) * (1.0 - 1e-9) - 1e-3;
                if sure > 0.0 && any_site(&self.tree, centre, sure * sure, |_, _| true) {
                    return vec![true; members.len()];
                }
                let beyond = (band.outer2.sqrt() + radius) * (1.0 + 1e-9) + 1e-3;
                if !any_site(&self.tree, centre, beyond * beyond, |_, _| true) {
                    return vec![false; members.len()];
                }
                members
                    .iter()
                    .map(|&i| self.any_within(places[i as usize], &blocks.xyz[i as usize], reach_m, &band))
                    .collect()
            },
            done,
        )
    }
}

/// Per role of `rules`, per place: whether a provider of the role lies within its reach in
/// a straight line, as `in_reach > 0` of [`straight_line_reach`] says, found without
/// counting the providers or measuring the nearest (what catchments need of reach).
pub fn straight_line_presence(
    places: &[(f64, f64)],
    institutions: &[Institution],
    rules: &Rules,
    progress: Progress,
) -> Vec<Vec<bool>> {
    let bar = progress.bar((places.len() * rules.roles.len()) as u64, "reach");
    let shortest = rules.roles.iter().map(|r| r.reach_km).fold(f64::INFINITY, f64::min);
    let blocks = blocks_for(places, shortest.min(1e4) * 1000.0);
    let indexes: Vec<PresenceIndex> = roles_points(institutions, rules)
        .par_iter()
        .map(|points| PresenceIndex::new(points))
        .collect();
    let present = rules
        .roles
        .iter()
        .zip(&indexes)
        .map(|(role, index)| {
            bar.set_message(role.id.clone());
            index.presence_in_blocks(places, &blocks, role.reach_km * 1000.0, &|n| bar.inc(n as u64))
        })
        .collect();
    bar.finish_and_clear();
    present
}

/// Above this many changed providers of a role (or a quarter of its providers, if more),
/// [`update_reach`] measures the role afresh.
const INCREMENTAL_MAX: usize = 64;

/// Reach after a change of institutions, from the reach before it: for each role, only the
/// providers that left or joined it are measured against every place (a place's count moves
/// by those within reach; its nearest is recomputed only where a provider that left was the
/// nearest). Roles untouched by the change are copied. The result equals
/// [`straight_line_reach`] on `after` exactly, with the same decisions.
pub fn update_reach(
    places: &[(f64, f64)],
    before_reach: &ReachTable,
    before: &[Institution],
    after: &[Institution],
    rules: &Rules,
) -> ReachTable {
    use std::collections::HashMap;
    let key = |i: &Institution| (i.lon.to_bits(), i.lat.to_bits());
    // The institutions that differ, found once by id: (before, after), either side absent.
    let old_by_id: HashMap<&str, &Institution> = before.iter().map(|i| (i.id.as_str(), i)).collect();
    let new_by_id: HashMap<&str, &Institution> = after.iter().map(|i| (i.id.as_str(), i)).collect();
    let mut changed: Vec<(Option<&Institution>, Option<&Institution>)> = before
        .iter()
        .filter(|i| new_by_id.get(i.id.as_str()).is_none_or(|n| *n != *i))
        .map(|i| (Some(i), new_by_id.get(i.id.as_str()).copied()))
        .collect();
    changed.extend(
        after
            .iter()
            .filter(|i| !old_by_id.contains_key(i.id.as_str()))
            .map(|i| (None, Some(i))),
    );
    let places_xyz: Vec<[f64; 3]> = places.par_iter().map(|&(lon, lat)| to_xyz(lon, lat)).collect();
    // Roles in parallel too: where many providers changed, each role rebuilds an index.
    let roles = rules
        .roles
        .par_iter()
        .enumerate()
        .map(|(r, role)| {
            // Providers that left the role (or moved), and that joined it (or moved).
            let mut left: Vec<(f64, f64)> = Vec::new();
            let mut joined: Vec<(f64, f64)> = Vec::new();
            for (old, new) in &changed {
                let old = old.filter(|i| role.matches(i));
                let new = new.filter(|i| role.matches(i));
                match (old, new) {
                    (Some(o), Some(n)) if key(o) == key(n) => {}
                    _ => {
                        left.extend(old.map(|i| (i.lon, i.lat)));
                        joined.extend(new.map(|i| (i.lon, i.lat)));
                    }
                }
            }
            left.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
            joined.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
            let base = &before_reach.roles[r];
            if left.is_empty() && joined.is_empty() {
                return base.clone();
            }
            let providers = (base.providers + joined.len()).saturating_sub(left.len());
            let points = || role_points(after, role);
            let reach_m = role.reach_km * 1000.0;
            if left.len() + joined.len() > INCREMENTAL_MAX.max(providers / 4) {
                let blocks = blocks_for(places, reach_m);
                return role_reach(places, &blocks, &ProviderIndex::new(&points()), reach_m, &|_| ()).0;
            }
            // Counts move by the changed providers within reach; a place whose nearest
            // provider left is measured again, against the providers after the change (the
            // index is built only when some place needs it). The changed providers are in
            // R-trees: a place looks only at those whose distance on the sphere, times the
            // smallest ellipsoid/sphere ratio, is within its reach or its nearest.
            let tree = |v: &[(f64, f64)]| -> RTree<Site> {
                RTree::bulk_load(
                    v.iter()
                        .enumerate()
                        .map(|(k, &(lon, lat))| Site::new(to_xyz(lon, lat), k as u32))
                        .collect(),
                )
            };
            let (left_tree, joined_tree) = (tree(&left), tree(&joined));
            let (mut nearest, (in_reach, lost)): (Vec<f64>, (Vec<u32>, Vec<bool>)) = places
                .par_iter()
                .enumerate()
                .map(|(i, &p)| {
                    let px = places_xyz[i];
                    let mut count = base.in_reach[i];
                    let mut nearest = base.nearest[i];
                    let mut lost_nearest = false;
                    let r2 = |nearest: f64| chord_from_arc(reach_m.max(nearest) / SPHERE_LOW).powi(2);
                    let radius2 = if nearest.is_finite() {
                        r2(nearest)
                    } else {
                        f64::INFINITY
                    };
                    for site in left_tree.locate_within_distance(px, radius2) {
                        let q = left[site.data as usize];
                        if within_m(p, q, reach_m) {
                            count -= 1;
                        }
                        lost_nearest |= ellipsoid_m(p, q) <= nearest;
                    }
                    for site in joined_tree.locate_within_distance(px, radius2) {
                        let q = joined[site.data as usize];
                        if within_m(p, q, reach_m) {
                            count += 1;
                        }
                        nearest = nearest.min(ellipsoid_m(p, q));
                    }
                    (nearest, (count, lost_nearest))
                })
                .unzip();
            if lost.contains(&true) {
                let index = NearestIndex::new(&points());
                nearest
                    .par_iter_mut()
                    .zip(&lost)
                    .zip(places)
                    .filter(|((_, &l), _)| l)
                    .for_each(|((n, _), &p)| *n = index.nearest_m(p));
            }
            RoleReach {
                nearest,
                in_reach,
                providers,
            }
        })
        .collect();
    ReachTable {
        unit: ReachUnit::Metres,
        roles,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Brute force: geodesic to every provider.
    fn brute(points: &[(f64, f64)], at: (f64, f64), reach_m: f64) -> (f64, u32) {
        let d: Vec<f64> = points.iter().map(|&p| geodesic_m(at, p)).collect();
        (
            d.iter().copied().fold(f64::INFINITY, f64::min),
            d.iter().filter(|&&x| x <= reach_m).count() as u32,
        )
    }

    /// Every role's points found in one pass are those found role by role (the demo's
    /// institutions and the built-in rules): the same institutions, in input order.
    #[test]
    fn roles_points_in_one_pass_are_each_roles_points() {
        use crate::inputs::source::Source;
        let source = Source::new("demo institutions", crate::demo::INSTITUTIONS);
        let institutions = crate::inputs::institutions::read_institutions(&source, &mut Default::default())
            .unwrap()
            .institutions;
        let rules = Rules::builtin();
        let all = roles_points(&institutions, &rules);
        assert_eq!(all.len(), rules.roles.len());
        let masks = rules.role_masks(&institutions).unwrap();
        for (r, role) in rules.roles.iter().enumerate() {
            assert_eq!(all[r], role_points(&institutions, role), "role {}", role.id);
            let filling = institutions.iter().filter(|i| role.matches(i)).count();
            assert_eq!(
                masks.iter().filter(|&&m| m >> r & 1 == 1).count(),
                filling,
                "role {}",
                role.id
            );
        }
        // Not a vacuous match: most roles have providers, and some institution fills several.
        assert!(all.iter().filter(|p| !p.is_empty()).count() * 2 > rules.roles.len());
        assert!(masks.iter().any(|m| m.count_ones() > 1));
    }

    #[test]
    fn sphere_bounds_hold_in_japan() {
        // Meridian and parallel pairs at the extremes of the accepted latitude range.
        for lat in [20.0, 30.0, 45.85] {
            for (dlon, dlat) in [(0.0, 0.15), (0.15, 0.0), (0.1, 0.1)] {
                let a = (140.0, lat);
                let b = (140.0 + dlon, lat + dlat);
                let g = geodesic_m(a, b);
                let s = arc_from_chord(dist2(&to_xyz(a.0, a.1), &to_xyz(b.0, b.1)).sqrt());
                let ratio = g / s;
                assert!(ratio > SPHERE_LOW && ratio < SPHERE_HIGH, "lat {lat}: {ratio}");
            }
        }
    }

    /// At 35° N and 16 km, worked out from WGS84's a and e² alone: pairs span 0.14768° of
    /// latitude either way (16 km widened for the nearest's second look, over the mean
    /// radius, 1 % to spare), so the ratio lies between the meridian radius at 34.852° and
    /// the prime-vertical radius at 35.148° over the mean radius, widened by 1e-4: 0.997587
    /// and 1.002331; the sphere settles all but great-circle distances of 15,962.28 to
    /// 16,039.20 m (0.5 m beyond the reach, over the bounds).
    #[test]
    fn sphere_band_at_35_degrees() {
        let band = SphereBand::near(16_000.0, 35.0, 35.0);
        assert!((band.low - 0.997_587_1).abs() < 1e-7, "{band:?}");
        assert!((band.high - 1.002_331_5).abs() < 1e-7, "{band:?}");
        assert!((band.inner_m - 15_962.28).abs() < 0.01, "{band:?}");
        assert!((band.outer_m - 16_039.20).abs() < 0.01, "{band:?}");
        // Beyond 30 km, or a latitude not given: the bounds for all of Japan.
        assert_eq!(SphereBand::near(31_000.0, 35.0, 35.0), SphereBand::global(31_000.0));
        assert_eq!(SphereBand::near(16_000.0, f64::NAN, 35.0), SphereBand::global(16_000.0));
    }

    #[test]
    fn known_distance() {
        // One degree of latitude at 36N on WGS84 (meridian arc, 35.5-36.5): 110,959.0097 m.
        let d = geodesic_m((138.0, 35.5), (138.0, 36.5));
        assert!((d - 110_959.009_7).abs() < 0.01, "{d}"); // geographiclib (Python) Inverse
        let idx = ProviderIndex::new(&[(138.0, 36.5)]);
        assert!((idx.nearest_m((138.0, 35.5)) - d).abs() < 1e-6);
        assert_eq!(idx.count_within((138.0, 35.5), d + 0.5), 1);
        assert_eq!(idx.count_within((138.0, 35.5), d - 0.5), 0);
    }

    #[test]
    fn short_formula_agrees_with_karney() {
        for (a, b) in [
            ((138.0, 36.0), (138.3, 36.1)),
            ((127.7, 26.2), (127.9, 26.0)),
            ((141.3, 45.3), (141.0, 45.4)),
        ] {
            let (fast, exact) = (ellipsoid_m(a, b), geodesic_m(a, b));
            assert!(exact < SHORT_M && (fast - exact).abs() < 0.05, "{fast} vs {exact}");
        }
        // Beyond 30 km it is Karney's.
        assert_eq!(
            ellipsoid_m((138.0, 35.5), (138.0, 36.5)),
            geodesic_m((138.0, 35.5), (138.0, 36.5))
        );
    }

    #[test]
    fn empty_index_has_no_nearest() {
        let idx = ProviderIndex::new(&[]);
        assert_eq!(idx.nearest_m((138.0, 36.0)), f64::INFINITY);
        assert_eq!(idx.count_within((138.0, 36.0), 16_000.0), 0);
    }

    /// Presence is decided at the edge of reach as counts are: providers 5 cm and 50 m inside
    /// and outside the reach on the geodesic, in eight directions.
    #[test]
    fn presence_at_the_edge_of_reach() {
        use geo::{Destination, Geodesic};
        let at = (139.7, 35.68);
        let reach_m = 16_000.0;
        for bearing in [0.0, 45.0, 90.0, 135.0, 180.0, 225.0, 270.0, 315.0] {
            for (off, inside) in [(-0.05, true), (0.05, false), (-50.0, true), (50.0, false)] {
                let p = Geodesic.destination(Point::new(at.0, at.1), bearing, reach_m + off);
                let pts = [(p.x(), p.y())];
                let idx = PresenceIndex::new(&pts);
                let got = idx.any_within(at, &to_xyz(at.0, at.1), reach_m, &SphereBand::near(reach_m, at.1, at.1));
                assert_eq!(got, inside, "bearing {bearing}, {off} m");
                assert_eq!(got, ProviderIndex::new(&pts).count_within(at, reach_m) > 0);
            }
        }
        assert!(!PresenceIndex::new(&[]).any_within(at, &to_xyz(at.0, at.1), reach_m, &SphereBand::global(reach_m)));
    }

    proptest! {
        /// The sphere's bounds at a latitude settle only pairs the ellipsoid decides the same
        /// way, and bound the ratio of the two distances, from the tropics to Hokkaido.
        #[test]
        fn sphere_band_settles_as_the_ellipsoid_decides(
            lat in 20.0f64..46.0,
            span in 0.0f64..0.3,
            reach_km in 1.0f64..35.0,
            pairs in proptest::collection::vec((0.0f64..1.0, 0.0f64..360.0, 0.97f64..1.03), 40),
        ) {
            use geo::{Destination, Geodesic};
            let reach_m = reach_km * 1000.0;
            let band = SphereBand::near(reach_m, lat, lat + span);
            let global = SphereBand::global(reach_m);
            prop_assert!(band.inner2 >= global.inner2 && band.outer2 <= global.outer2);
            prop_assert!(band.low >= SPHERE_LOW && band.high <= SPHERE_HIGH);
            let widest = reach_m / SPHERE_LOW * SPHERE_HIGH / SPHERE_LOW;
            for (at, bearing, scale) in pairs {
                let a = (140.0, lat + at * span);
                let b = Geodesic.destination(Point::new(a.0, a.1), bearing, (reach_m * scale).min(widest));
                let b = (b.x(), b.y());
                let d2 = dist2(&to_xyz(a.0, a.1), &to_xyz(b.0, b.1));
                let within = within_m(a, b, reach_m);
                if d2 <= band.inner2 {
                    prop_assert!(within, "settled inside at {a:?} -> {b:?}");
                }
                if d2 > band.outer2 {
                    prop_assert!(!within, "settled outside at {a:?} -> {b:?}");
                }
                let ratio = ellipsoid_m(a, b) / arc_from_chord(d2.sqrt());
                prop_assert!(ratio >= band.low && ratio <= band.high, "{ratio} not in {band:?}");
            }
        }

        #[test]
        fn index_equals_brute_force(
            pts in proptest::collection::vec((137.5f64..138.5, 35.5f64..36.5), 1..60),
            at in (137.5f64..138.5, 35.5f64..36.5),
            reach_km in 1.0f64..40.0,
        ) {
            let idx = ProviderIndex::new(&pts);
            let (near, count) = brute(&pts, at, reach_km * 1000.0);
            prop_assert!((idx.nearest_m(at) - near).abs() < 0.2);
            prop_assert_eq!(idx.count_within(at, reach_km * 1000.0), count);
            let weights: Vec<f64> = (0..pts.len()).map(|i| i as f64 + 0.5).collect();
            let widx = ProviderIndex::with_weights(&pts, &weights);
            let want: f64 = pts.iter().zip(&weights).filter(|(p, _)| geodesic_m(at, **p) <= reach_km * 1000.0).map(|(_, w)| w).sum();
            prop_assert!((widx.sum_within(at, reach_km * 1000.0) - want).abs() < 1e-9 * (1.0 + want));
            let half: f64 = pts.iter().zip(&weights).filter(|(p, _)| geodesic_m(at, **p) <= reach_km * 500.0).map(|(_, w)| w).sum();
            let both = widx.sums_within(at, &[reach_km * 500.0, reach_km * 1000.0]);
            prop_assert!((both[0] - half).abs() < 1e-9 * (1.0 + half) && (both[1] - want).abs() < 1e-9 * (1.0 + want));
            prop_assert_eq!(widx.pairs_within(at, reach_km * 1000.0).len() as u32, count);
            let (both_near, both_count) = idx.reach_at(at, reach_km * 1000.0);
            prop_assert!((both_near - near).abs() < 0.2);
            prop_assert_eq!(both_count, count);
        }

        /// Presence equals a count above 0 and the brute force on the geodesic, for one place
        /// and for a role's presence over many places.
        #[test]
        fn presence_equals_count(
            pts in proptest::collection::vec((137.5f64..138.5, 35.5f64..36.5), 0..80),
            places in proptest::collection::vec((137.3f64..138.7, 35.3f64..36.7), 1..30),
            reach_km in 1.0f64..40.0,
        ) {
            let reach_m = reach_km * 1000.0;
            let idx = ProviderIndex::new(&pts);
            let presence = PresenceIndex::new(&pts);
            for &at in &places {
                let want = brute(&pts, at, reach_m).1 > 0;
                prop_assert_eq!(presence.any_within(at, &to_xyz(at.0, at.1), reach_m, &SphereBand::near(reach_m, at.1, at.1)), want);
                prop_assert_eq!(idx.count_within(at, reach_m) > 0, want);
            }
        }

        /// Presence block by block is every place's brute-force answer on the geodesic:
        /// places in clusters (so that blocks hold several), providers near and far, so
        /// that blocks are settled whole both ways and place by place.
        #[test]
        fn presence_in_blocks_equals_brute_force(
            pts in proptest::collection::vec((137.0f64..139.0, 35.0f64..37.0), 0..60),
            centres in proptest::collection::vec((137.0f64..139.0, 35.0f64..37.0), 1..6),
            offsets in proptest::collection::vec((-0.05f64..0.05, -0.05f64..0.05, 0usize..6), 1..120),
            reach_km in 1.0f64..40.0,
        ) {
            let reach_m = reach_km * 1000.0;
            let places: Vec<(f64, f64)> = offsets
                .iter()
                .map(|&(dx, dy, c)| {
                    let (x, y) = centres[c % centres.len()];
                    (x + dx, y + dy)
                })
                .collect();
            let presence = PresenceIndex::new(&pts);
            let blocks = blocks_for(&places, reach_m);
            let got = presence.presence_in_blocks(&places, &blocks, reach_m, &|_| {});
            let want: Vec<bool> = places.iter().map(|&at| brute(&pts, at, reach_m).1 > 0).collect();
            prop_assert_eq!(got, want);
        }

        /// Open sites are handed out nearest first on the ellipsoid (ties by index): all
        /// open sites within reach, in that order, whatever was taken out before.
        #[test]
        fn open_sites_visit_in_order(
            pts in proptest::collection::vec((137.0f64..139.0, 35.0f64..37.0), 0..300),
            visits in proptest::collection::vec(((136.8f64..139.2, 34.8f64..37.2), 0usize..40), 1..20),
            reach_km in 1.0f64..40.0,
        ) {
            let reach_m = reach_km * 1000.0;
            let mut open = OpenSites::new(&pts);
            let mut closed = vec![false; pts.len()];
            for (at, take) in visits {
                let mut want: Vec<(u64, u32)> = (0..pts.len() as u32)
                    .filter(|&i| !closed[i as usize] && within_m(at, pts[i as usize], reach_m))
                    .map(|i| (ellipsoid_m(at, pts[i as usize]).max(0.0).to_bits(), i))
                    .collect();
                want.sort_unstable();
                want.truncate(take);
                let mut got = Vec::new();
                open.visit_nearest(at, reach_m, &mut |i, d| {
                    got.push((d.to_bits(), i));
                    got.len() < take
                });
                if take == 0 {
                    got.truncate(0);
                }
                prop_assert_eq!(&got, &want);
                // The sites handed out are taken out.
                for &(_, i) in &got {
                    open.remove(i);
                    closed[i as usize] = true;
                }
            }
        }

        /// Where the sites are dense (more than [`DENSE`] around a place, counted by
        /// bands), a block gives what each place gives alone too: the discs' sums, the
        /// reweighted sum of the reach disc and the number of sites within it.
        #[test]
        fn dense_blocks_equal_single_places(
            seed in 0u64..1000,
            places in proptest::collection::vec((138.95f64..139.05, 35.65f64..35.75), 1..40),
            reach_km in 8.0f64..20.0,
        ) {
            // 3,000 sites in the places' 0.1-degree square (some 9 by 11 km): every place is
            // dense for a reach of 8 km or more.
            let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let mut next = || {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                (x >> 11) as f64 / (1u64 << 53) as f64
            };
            let pts: Vec<(f64, f64)> = (0..3000).map(|_| (138.95 + 0.1 * next(), 35.65 + 0.1 * next())).collect();
            let weights: Vec<f64> = (0..pts.len()).map(|i| (i as f64 + 0.5).sqrt()).collect();
            let idx = ProviderIndex::with_weights(&pts, &weights);
            let other: Vec<f64> = weights.iter().map(|w| 1.0 / w).collect();
            let also = idx.reweighted(&other);
            let reach = reach_km * 1000.0;
            let radii = [reach / 3.0, reach * 2.0 / 3.0, reach];
            let blocks = Blocks::new(&places, 0.25 * reach);
            for k in 0..blocks.runs.len() {
                let members = &blocks.order[blocks.runs[k].0.clone()];
                let got = idx.sums_block(&places, &blocks, k, &radii, Some((&also, reach)), true);
                for (j, &i) in members.iter().enumerate() {
                    let at = places[i as usize];
                    prop_assert!(idx.dense_at(at, reach));
                    let (sums, extra, n) = &got[j];
                    let want = idx.sums_within(at, &radii);
                    prop_assert_eq!(sums.iter().map(|x| x.to_bits()).collect::<Vec<_>>(), want.iter().map(|x| x.to_bits()).collect::<Vec<_>>());
                    prop_assert_eq!(extra.to_bits(), also.sum_within(at, reach).to_bits());
                    prop_assert_eq!(*n, idx.count_within(at, reach));
                    prop_assert_eq!(*n, idx.reach_at(at, reach).1);
                }
            }
        }

        /// Blocks are the runs of [`BLOCK`] points along the Z-order, each halved (the lower
        /// half first) only while it is wider than the radius: the runs cover the order in
        /// turn, each inside one run of `BLOCK`, narrow enough or a single point, with its
        /// centroid and radius, and the run each was halved from was too wide.
        #[test]
        fn blocks_are_runs_halved_while_too_wide(
            places in proptest::collection::vec((136.8f64..139.2, 34.8f64..37.2), 0..400),
            block_km in 0.0f64..60.0,
        ) {
            let max = block_km * 1000.0;
            let blocks = Blocks::new(&places, max);
            prop_assert_eq!(&blocks.order, &z_order(&places));
            let xyz = &blocks.xyz;
            let centre_and_radius = |run: &std::ops::Range<usize>| {
                let members = &blocks.order[run.clone()];
                let n = members.len() as f64;
                let mut c = [0.0; 3];
                for &i in members {
                    for (a, v) in c.iter_mut().zip(xyz[i as usize]) {
                        *a += v / n;
                    }
                }
                let r = members.iter().map(|&i| dist2(&c, &xyz[i as usize])).fold(0.0, f64::max).sqrt();
                (c, r)
            };
            let mut next = 0;
            for (run, c, r) in &blocks.runs {
                prop_assert_eq!(run.start, next);
                prop_assert!(run.end > run.start);
                next = run.end;
                prop_assert_eq!((c.to_vec(), *r), { let (c, r) = centre_and_radius(run); (c.to_vec(), r) });
                prop_assert!(*r <= max || run.len() == 1);
                // Down from its run of BLOCK points, halving toward it: every range above it
                // was too wide.
                let base = run.start / BLOCK * BLOCK;
                let mut range = base..(base + BLOCK).min(places.len());
                while range != *run {
                    prop_assert!(range.start <= run.start && run.end <= range.end && range.len() > 1);
                    prop_assert!(centre_and_radius(&range).1 > max);
                    let mid = range.start + range.len() / 2;
                    range = if run.start < mid { range.start..mid } else { mid..range.end };
                }
            }
            prop_assert_eq!(next, places.len());
        }

        /// Places taken in blocks give exactly what each place gives alone: the same
        /// nearest, count and sums, bit for bit (the same sites, in the same order); and the
        /// nearest site is the nearest by definition (ties to the lower index).
        #[test]
        fn blocks_equal_single_places(
            pts in proptest::collection::vec((137.0f64..139.0, 35.0f64..37.0), 0..400),
            places in proptest::collection::vec((136.8f64..139.2, 34.8f64..37.2), 1..300),
            reach_km in 1.0f64..40.0,
            block_km in 0.0f64..30.0,
        ) {
            // Some sites twice (institutions at one address): the nearest is the lower index.
            let mut pts = pts;
            pts.extend(pts.iter().step_by(3).copied().collect::<Vec<_>>());
            let weights: Vec<f64> = (0..pts.len()).map(|i| (i as f64 + 0.5).sqrt()).collect();
            let idx = ProviderIndex::with_weights(&pts, &weights);
            let other: Vec<f64> = weights.iter().map(|w| 1.0 / w).collect();
            let also = idx.reweighted(&other);
            let reach = reach_km * 1000.0;
            let radii = [reach / 3.0, reach * 2.0 / 3.0, reach];
            let blocks = Blocks::new(&places, block_km * 1000.0);
            // The nearest by definition: least distance, then least index.
            let nearest_id = |at: (f64, f64)| {
                (0..pts.len())
                    .map(|i| (ellipsoid_m(at, pts[i]), i as u32))
                    .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)))
                    .map_or(NO_SITE, |m| m.1)
            };
            let mut seen = vec![false; places.len()];
            for k in 0..blocks.runs.len() {
                let members = &blocks.order[blocks.runs[k].0.clone()];
                let reach_block = idx.reach_block(&places, &blocks, k, reach);
                let sums_block = idx.sums_block(&places, &blocks, k, &radii, Some((&also, reach)), true);
                for (j, &i) in members.iter().enumerate() {
                    let at = places[i as usize];
                    seen[i as usize] = true;
                    let (near, count) = idx.reach_at(at, reach);
                    prop_assert_eq!(reach_block[j].0.to_bits(), near.to_bits());
                    prop_assert_eq!(reach_block[j].1, count);
                    prop_assert_eq!(reach_block[j].2, nearest_id(at));
                    let sums = idx.sums_within(at, &radii);
                    let (got, extra, n) = &sums_block[j];
                    prop_assert_eq!(got.iter().map(|x| x.to_bits()).collect::<Vec<_>>(), sums.iter().map(|x| x.to_bits()).collect::<Vec<_>>());
                    prop_assert_eq!(extra.to_bits(), also.sum_within(at, reach).to_bits());
                    prop_assert_eq!(*n, count);
                }
            }
            prop_assert!(seen.iter().all(|&s| s));
        }
    }
}
