//! Straight-line reach, geodesic on WGS84.
//!
//! Providers of a role go into an R-tree of points on a sphere (earth-centred x, y, z in
//! metres), where the straight chord between two points orders them exactly as the
//! great-circle distance does. The sphere finds candidates; the ellipsoid decides: in Japan
//! (lat 20-46) the WGS84 geodesic distance lies within 0.45 % of the great-circle distance
//! on the mean-radius sphere, so only pairs in that narrow band around the reach (or near the
//! best candidate) are measured with Karney's geodesic. Every reported distance is
//! geodesic, and every count uses the geodesic distance.

use super::{ReachTable, ReachUnit, RoleReach, EARTH_RADIUS_M};
use crate::inputs::institutions::Institution;
use crate::inputs::rules::Rules;
use crate::progress::Progress;
use geo::{Distance, Geodesic, Point};
use rayon::prelude::*;
use rstar::primitives::GeomWithData;
use rstar::RTree;

/// Lower bound of geodesic / spherical distance for points in lat 20-46 (the meridian radius
/// of curvature at lat 20 is 6,342.9 km against the mean radius 6,371.0 km: 0.9956), with a
/// margin.
const SPHERE_LOW: f64 = 0.994;
/// Upper bound of geodesic / spherical distance in lat 20-46 (the prime-vertical radius at
/// lat 46 is 6,389.2 km: 1.0029), with a margin.
const SPHERE_HIGH: f64 = 1.004;

type Site = GeomWithData<[f64; 3], u32>;

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
fn arc_from_chord(chord: f64) -> f64 {
    2.0 * EARTH_RADIUS_M * (chord / (2.0 * EARTH_RADIUS_M)).min(1.0).asin()
}

/// Chord length for a great-circle distance, metres.
fn chord_from_arc(arc: f64) -> f64 {
    2.0 * EARTH_RADIUS_M * (arc / (2.0 * EARTH_RADIUS_M)).min(std::f64::consts::FRAC_PI_2).sin()
}

fn dist2(a: &[f64; 3], b: &[f64; 3]) -> f64 {
    (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)
}

/// Geodesic distance between two (lon, lat) points, metres.
pub fn geodesic_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    Geodesic.distance(Point::new(a.0, a.1), Point::new(b.0, b.1))
}

/// The providers of one role, indexed for nearest and within-distance queries.
pub struct ProviderIndex {
    tree: RTree<Site>,
    lonlat: Vec<(f64, f64)>,
}

impl ProviderIndex {
    pub fn new(points: &[(f64, f64)]) -> Self {
        let sites = points
            .iter()
            .enumerate()
            .map(|(i, &(lon, lat))| Site::new(to_xyz(lon, lat), i as u32))
            .collect();
        ProviderIndex {
            tree: RTree::bulk_load(sites),
            lonlat: points.to_vec(),
        }
    }

    pub fn len(&self) -> usize {
        self.lonlat.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lonlat.is_empty()
    }

    /// Geodesic distance to the nearest provider, metres; infinite when there is none.
    pub fn nearest_m(&self, at: (f64, f64)) -> f64 {
        let q = to_xyz(at.0, at.1);
        let mut best = f64::INFINITY;
        for (site, d2) in self.tree.nearest_neighbor_iter_with_distance_2(&q) {
            if arc_from_chord(d2.sqrt()) * SPHERE_LOW > best {
                break;
            }
            best = best.min(geodesic_m(at, self.lonlat[site.data as usize]));
        }
        best
    }

    /// Number of providers within `reach_m` geodesic metres.
    pub fn count_within(&self, at: (f64, f64), reach_m: f64) -> u32 {
        let q = to_xyz(at.0, at.1);
        let outer = chord_from_arc(reach_m / SPHERE_LOW);
        let mut count = 0;
        for site in self.tree.locate_within_distance(q, outer * outer) {
            let s = arc_from_chord(dist2(&q, site.geom()).sqrt());
            let within = if s * SPHERE_HIGH <= reach_m {
                true
            } else if s * SPHERE_LOW > reach_m {
                false
            } else {
                geodesic_m(at, self.lonlat[site.data as usize]) <= reach_m
            };
            count += u32::from(within);
        }
        count
    }
}

/// Straight-line reach of every role of `rules` at every place (lon, lat).
pub fn straight_line_reach(
    places: &[(f64, f64)],
    institutions: &[Institution],
    rules: &Rules,
    progress: Progress,
) -> ReachTable {
    let bar = progress.bar((places.len() * rules.roles.len()) as u64, "reach");
    let roles = rules
        .roles
        .iter()
        .map(|role| {
            bar.set_message(role.id.clone());
            let points: Vec<(f64, f64)> = institutions
                .iter()
                .filter(|i| role.matches(i))
                .map(|i| (i.lon, i.lat))
                .collect();
            let index = ProviderIndex::new(&points);
            let reach_m = role.reach_km * 1000.0;
            let (nearest, in_reach): (Vec<f64>, Vec<u32>) = places
                .par_chunks(1024)
                .flat_map_iter(|chunk| {
                    let out: Vec<(f64, u32)> = chunk
                        .iter()
                        .map(|&p| (index.nearest_m(p), index.count_within(p, reach_m)))
                        .collect();
                    bar.inc(chunk.len() as u64);
                    out
                })
                .unzip();
            RoleReach {
                nearest,
                in_reach,
                providers: index.len(),
            }
        })
        .collect();
    bar.finish_and_clear();
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
    fn empty_index_has_no_nearest() {
        let idx = ProviderIndex::new(&[]);
        assert_eq!(idx.nearest_m((138.0, 36.0)), f64::INFINITY);
        assert_eq!(idx.count_within((138.0, 36.0), 16_000.0), 0);
    }

    proptest! {
        #[test]
        fn index_equals_brute_force(
            pts in proptest::collection::vec((137.5f64..138.5, 35.5f64..36.5), 1..60),
            at in (137.5f64..138.5, 35.5f64..36.5),
            reach_km in 1.0f64..40.0,
        ) {
            let idx = ProviderIndex::new(&pts);
            let (near, count) = brute(&pts, at, reach_km * 1000.0);
            prop_assert!((idx.nearest_m(at) - near).abs() < 1e-6);
            prop_assert_eq!(idx.count_within(at, reach_km * 1000.0), count);
        }
    }
}
