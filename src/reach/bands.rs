//! Counting providers within a distance, fast where they are dense.
//!
//! Enumerating every provider within 16 km of a cell is the cost of reach in cities (tens of
//! thousands of pharmacies around central Tokyo). Here providers are kept in latitude bands,
//! sorted by longitude within each band. For one query disc (a spherical cap) and one band,
//! two longitude intervals follow from spherical trigonometry: one that lies inside the
//! cap's inner radius for every latitude of the band, counted with two binary searches, and
//! one that covers the cap's outer radius, whose remaining slivers are tested point by point.
//! The inner and outer radii bound the ellipsoidal distance (see [`super::straight`]), so
//! the count is exact; only the thin slivers at the cap's edge are measured.

use super::EARTH_RADIUS_M;

/// Height of a band, degrees of latitude (about 560 m).
const BAND_DEG: f64 = 0.005;

/// Providers of one role by latitude band, each band sorted by longitude.
#[derive(Clone)]
pub struct Bands {
    south: f64,
    /// Per band, a range into the arrays below.
    starts: Vec<usize>,
    lon: Vec<f64>,
    /// Sine and cosine of each point's latitude.
    sin_lat: Vec<f64>,
    cos_lat: Vec<f64>,
    /// Sine and cosine of each band edge's latitude (bands + 1 edges).
    edge_sin: Vec<f64>,
    edge_cos: Vec<f64>,
    /// The provider's index in the caller's list.
    id: Vec<u32>,
    /// Running sum of the weights in sorted order (length n + 1).
    prefix: Vec<f64>,
}

impl Bands {
    /// Indexes points given as (lon, lat) in degrees, each of weight 1.
    pub fn new(points: &[(f64, f64)]) -> Self {
        Bands::with_weights(points, &vec![1.0; points.len()])
    }

    /// Indexes points with a weight each, for [`Self::sum`].
    pub fn with_weights(points: &[(f64, f64)], weights: &[f64]) -> Self {
        let south = points.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
        let south = if south.is_finite() { south } else { 0.0 };
        let band_of = |lat: f64| ((lat - south) / BAND_DEG).floor().max(0.0) as usize;
        let count = points.iter().map(|p| band_of(p.1) + 1).max().unwrap_or(0);
        let mut order: Vec<u32> = (0..points.len() as u32).collect();
        order.sort_by(|&a, &b| {
            let (pa, pb) = (points[a as usize], points[b as usize]);
            band_of(pa.1)
                .cmp(&band_of(pb.1))
                .then(pa.0.total_cmp(&pb.0))
                .then(a.cmp(&b))
        });
        let mut starts = vec![0; count + 1];
        for &i in &order {
            starts[band_of(points[i as usize].1) + 1] += 1;
        }
        for b in 0..count {
            starts[b + 1] += starts[b];
        }
        let edges: Vec<f64> = (0..=count)
            .map(|b| (south + b as f64 * BAND_DEG).to_radians())
            .collect();
        Bands {
            south,
            starts,
            lon: order.iter().map(|&i| points[i as usize].0).collect(),
            sin_lat: order.iter().map(|&i| points[i as usize].1.to_radians().sin()).collect(),
            cos_lat: order.iter().map(|&i| points[i as usize].1.to_radians().cos()).collect(),
            edge_sin: edges.iter().map(|e| e.sin()).collect(),
            edge_cos: edges.iter().map(|e| e.cos()).collect(),
            prefix: std::iter::once(0.0)
                .chain(order.iter().scan(0.0, |acc, &i| {
                    *acc += weights[i as usize];
                    Some(*acc)
                }))
                .collect(),
            id: order,
        }
    }

    /// The same bands with other weights (`weights[i]` for point `i`): the prefix sums as
    /// [`Self::with_weights`] makes them for these points.
    pub fn reweighted(&self, weights: &[f64]) -> Bands {
        Bands {
            prefix: std::iter::once(0.0)
                .chain(self.id.iter().scan(0.0, |acc, &i| {
                    *acc += weights[i as usize];
                    Some(*acc)
                }))
                .collect(),
            ..self.clone()
        }
    }

    /// Number of points within the cap around `at` whose angular radius lies between
    /// `inner_m` and `outer_m` (metres on the mean sphere): points surely inside the inner
    /// radius are counted, points beyond the outer radius are not, and for the others
    /// `decide(id)` says.
    pub fn count(&self, at: (f64, f64), inner_m: f64, outer_m: f64, decide: impl FnMut(u32) -> bool) -> u32 {
        let mut count = 0;
        self.visit(at, inner_m, outer_m, decide, |lo, hi| count += (hi - lo) as u32);
        count
    }

    /// Like [`Self::count`], but sums the points' weights (given to [`Self::with_weights`]).
    pub fn sum(&self, at: (f64, f64), inner_m: f64, outer_m: f64, decide: impl FnMut(u32) -> bool) -> f64 {
        let mut sum = 0.0;
        self.visit(at, inner_m, outer_m, decide, |lo, hi| {
            sum += self.prefix[hi] - self.prefix[lo]
        });
        sum
    }

    /// [`Self::sum`] of these weights and of `other`'s (the same bands reweighted,
    /// [`Self::reweighted`]) and [`Self::count`], in one visit: the same three figures.
    pub fn sum_both_count(
        &self,
        other: &Bands,
        at: (f64, f64),
        inner_m: f64,
        outer_m: f64,
        decide: impl FnMut(u32) -> bool,
    ) -> (f64, f64, u32) {
        debug_assert_eq!(self.prefix.len(), other.prefix.len());
        let (mut sum, mut sum_other, mut count) = (0.0, 0.0, 0);
        self.visit(at, inner_m, outer_m, decide, |lo, hi| {
            sum += self.prefix[hi] - self.prefix[lo];
            sum_other += other.prefix[hi] - other.prefix[lo];
            count += (hi - lo) as u32;
        });
        (sum, sum_other, count)
    }

    /// Calls `range(lo, hi)` for runs of sorted points surely inside, and `range(i, i + 1)`
    /// for each other point found inside.
    fn visit(
        &self,
        at: (f64, f64),
        inner_m: f64,
        outer_m: f64,
        mut decide: impl FnMut(u32) -> bool,
        mut range: impl FnMut(usize, usize),
    ) {
        if self.id.is_empty() {
            return;
        }
        let (lon0, lat0) = at;
        let phi0 = lat0.to_radians();
        let (sin0, cos0) = phi0.sin_cos();
        let rho_in = inner_m / EARTH_RADIUS_M;
        let rho_out = outer_m / EARTH_RADIUS_M;
        let (cos_in, cos_out) = (rho_in.cos(), rho_out.cos());
        // Half-width in longitude of a cap with cosine of radius `cos_r` at band edge `e`.
        let width = |cos_r: f64, e: usize| half_width(sin0, cos0, cos_r, self.edge_sin[e], self.edge_cos[e]);
        let reach_deg = rho_out.to_degrees();
        let bands = self.starts.len() - 1;
        let first = ((lat0 - reach_deg - self.south) / BAND_DEG).floor();
        let last = ((lat0 + reach_deg - self.south) / BAND_DEG).floor();
        if last < 0.0 || first >= bands as f64 {
            return;
        }
        let (first, last) = (first.max(0.0) as usize, (last as usize).min(bands - 1));
        // Latitude where the outer cap is widest in longitude.
        let widest = (phi0.sin() / rho_out.cos()).clamp(-1.0, 1.0).asin();
        let mut inside = |i: usize| self.check(i, (sin0, cos0, lon0), (cos_in, cos_out), &mut decide);
        // The widths at a band's northern edge are those at the next band's southern edge:
        // each edge's pair (outer, inner) is worked out once, when first needed.
        let mut edge: Option<(usize, (f64, f64))> = None;
        let mut widths = |e: usize| match edge {
            Some((at, w)) if at == e => w,
            _ => {
                let w = (width(cos_out, e), width(cos_in, e));
                edge = Some((e, w));
                w
            }
        };
        for b in first..=last {
            let (s, e) = (self.starts[b], self.starts[b + 1]);
            if s == e {
                continue;
            }
            let (south_out, south_in) = widths(b);
            let (north_out, north_in) = widths(b + 1);
            let south = (self.south + b as f64 * BAND_DEG).to_radians();
            let north = (self.south + (b + 1) as f64 * BAND_DEG).to_radians();
            let w_out = if (south..=north).contains(&widest) {
                half_width(sin0, cos0, cos_out, widest.sin(), widest.cos())
            } else {
                south_out.max(north_out)
            };
            if w_out < 0.0 {
                continue;
            }
            // Inside for every latitude of the band: the narrower end (the width is unimodal).
            let w_in = south_in.min(north_in);
            let lon = &self.lon[s..e];
            let at_least = |x: f64| s + lon.partition_point(|&v| v < x);
            let out_lo = at_least(lon0 - w_out.to_degrees() - 1e-9);
            let out_hi = at_least(lon0 + w_out.to_degrees() + 1e-9);
            if w_in > 0.0 {
                // The inner cap is narrower than the outer one, so the inner interval's ends
                // lie between the outer one's: searched there only (the whole band should
                // rounding ever make the inner width the larger).
                let (lo, hi) = if w_in <= w_out { (out_lo, out_hi) } else { (s, e) };
                let within = &self.lon[lo..hi];
                let between = |x: f64| lo + within.partition_point(|&v| v < x);
                let in_lo = between(lon0 - w_in.to_degrees() + 1e-9);
                let in_hi = between(lon0 + w_in.to_degrees() - 1e-9).max(in_lo);
                range(in_lo, in_hi);
                for i in (out_lo..in_lo).chain(in_hi..out_hi) {
                    if inside(i) {
                        range(i, i + 1);
                    }
                }
            } else {
                for i in out_lo..out_hi {
                    if inside(i) {
                        range(i, i + 1);
                    }
                }
            }
        }
    }

    /// One point of a sliver: inside the inner cap counts, beyond the outer cap does not,
    /// and between them `decide` says.
    fn check(
        &self,
        i: usize,
        (sin0, cos0, lon0): (f64, f64, f64),
        (cos_in, cos_out): (f64, f64),
        decide: &mut impl FnMut(u32) -> bool,
    ) -> bool {
        let cos_d = sin0 * self.sin_lat[i] + cos0 * self.cos_lat[i] * (self.lon[i] - lon0).to_radians().cos();
        if cos_d > cos_in + 1e-15 {
            true
        } else {
            cos_d >= cos_out - 1e-15 && decide(self.id[i])
        }
    }
}

/// Provider counts on a coarse lon/lat grid with a summed-area table: an O(1) estimate of
/// how many providers a query box holds, to choose the cheaper way to count.
#[derive(Clone)]
pub struct Density {
    west: f64,
    south: f64,
    cols: usize,
    rows: usize,
    /// (rows + 1) x (cols + 1) prefix sums.
    sums: Vec<u32>,
}

/// Cell size of the density grid, degrees.
const DENSITY_DEG: f64 = 0.1;

impl Density {
    pub fn new(points: &[(f64, f64)]) -> Self {
        let west = points.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
        let south = points.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
        let east = points.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
        let north = points.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
        if !west.is_finite() {
            return Density {
                west: 0.0,
                south: 0.0,
                cols: 0,
                rows: 0,
                sums: vec![0],
            };
        }
        let cols = ((east - west) / DENSITY_DEG).floor() as usize + 1;
        let rows = ((north - south) / DENSITY_DEG).floor() as usize + 1;
        let mut sums = vec![0u32; (rows + 1) * (cols + 1)];
        for &(lon, lat) in points {
            let c = ((lon - west) / DENSITY_DEG).floor() as usize;
            let r = ((lat - south) / DENSITY_DEG).floor() as usize;
            sums[(r + 1) * (cols + 1) + c + 1] += 1;
        }
        for r in 1..=rows {
            for c in 1..=cols {
                let i = r * (cols + 1) + c;
                sums[i] += sums[i - 1] + sums[i - cols - 1] - sums[i - cols - 2];
            }
        }
        Density {
            west,
            south,
            cols,
            rows,
            sums,
        }
    }

    /// Providers in the grid cells that overlap the box `at` ± (`dlon`, `dlat`) degrees: at
    /// least the number in the box.
    pub fn estimate(&self, at: (f64, f64), dlon: f64, dlat: f64) -> u32 {
        let col = |x: f64| {
            (((x - self.west) / DENSITY_DEG).floor().max(-1.0) as isize + 1).clamp(0, self.cols as isize) as usize
        };
        let row = |y: f64| {
            (((y - self.south) / DENSITY_DEG).floor().max(-1.0) as isize + 1).clamp(0, self.rows as isize) as usize
        };
        let (c0, c1) = (col(at.0 - dlon).saturating_sub(1), col(at.0 + dlon));
        let (r0, r1) = (row(at.1 - dlat).saturating_sub(1), row(at.1 + dlat));
        let w = self.cols + 1;
        self.sums[r1 * w + c1] + self.sums[r0 * w + c0] - self.sums[r0 * w + c1] - self.sums[r1 * w + c0]
    }
}

/// Half-width in longitude (radians) of the cap around latitude phi0 (given by its sine and
/// cosine) whose angular radius has cosine `cos_r`, at the latitude with sine `sin_phi` and
/// cosine `cos_phi`; negative where the cap does not reach that latitude.
fn half_width(sin0: f64, cos0: f64, cos_r: f64, sin_phi: f64, cos_phi: f64) -> f64 {
    let c = (cos_r - sin0 * sin_phi) / (cos0 * cos_phi);
    if c > 1.0 {
        -1.0
    } else {
        c.max(-1.0).acos()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sphere_m(a: (f64, f64), b: (f64, f64)) -> f64 {
        let (p1, p2) = (a.1.to_radians(), b.1.to_radians());
        let dl = (b.0 - a.0).to_radians();
        let c = p1.sin() * p2.sin() + p1.cos() * p2.cos() * dl.cos();
        EARTH_RADIUS_M * c.clamp(-1.0, 1.0).acos()
    }

    #[test]
    fn density_estimate_bounds_the_box() {
        let pts: Vec<(f64, f64)> = (0..100)
            .map(|i| (138.0 + i as f64 * 0.01, 36.0 + (i % 10) as f64 * 0.02))
            .collect();
        let d = Density::new(&pts);
        assert_eq!(d.estimate((138.5, 36.1), 5.0, 5.0), 100);
        let in_box = pts
            .iter()
            .filter(|p| (p.0 - 138.2).abs() <= 0.05 && (p.1 - 36.05).abs() <= 0.05)
            .count() as u32;
        assert!(d.estimate((138.2, 36.05), 0.05, 0.05) >= in_box);
        assert_eq!(Density::new(&[]).estimate((138.0, 36.0), 1.0, 1.0), 0);
    }

    proptest! {
        /// With inner = outer, the count is the exact count on the sphere.
        #[test]
        fn equals_brute_force_on_the_sphere(
            pts in proptest::collection::vec((138.0f64..139.0, 35.6f64..36.4), 0..300),
            at in (138.0f64..139.0, 35.6f64..36.4),
            r_km in 0.5f64..40.0,
        ) {
            let bands = Bands::new(&pts);
            let r = r_km * 1000.0;
            // A decision on the boundary band: exact sphere distance.
            let got = bands.count(at, r, r, |i| sphere_m(at, pts[i as usize]) <= r);
            let want = pts.iter().filter(|&&p| sphere_m(at, p) <= r).count() as u32;
            prop_assert_eq!(got, want);
        }

        /// Weighted sums equal brute force.
        #[test]
        fn sums_equal_brute_force(
            pts in proptest::collection::vec((138.0f64..139.0, 35.6f64..36.4, 0.0f64..100.0), 0..300),
            at in (138.0f64..139.0, 35.6f64..36.4),
            r_km in 0.5f64..40.0,
        ) {
            let xy: Vec<(f64, f64)> = pts.iter().map(|p| (p.0, p.1)).collect();
            let w: Vec<f64> = pts.iter().map(|p| p.2).collect();
            let bands = Bands::with_weights(&xy, &w);
            let r = r_km * 1000.0;
            let got = bands.sum(at, r, r, |i| sphere_m(at, xy[i as usize]) <= r);
            let want: f64 = pts.iter().filter(|p| sphere_m(at, (p.0, p.1)) <= r).map(|p| p.2).sum();
            prop_assert!((got - want).abs() < 1e-9 * (1.0 + want), "got {} want {}", got, want);
        }

        /// One visit for two weightings and the count gives what three visits give, bit for
        /// bit, and the count is the brute-force count on the sphere.
        #[test]
        fn sum_both_count_equals_separate_visits(
            pts in proptest::collection::vec((138.0f64..139.0, 35.6f64..36.4, 0.0f64..100.0), 0..300),
            at in (138.0f64..139.0, 35.6f64..36.4),
            r_km in 0.5f64..40.0,
        ) {
            let xy: Vec<(f64, f64)> = pts.iter().map(|p| (p.0, p.1)).collect();
            let w: Vec<f64> = pts.iter().map(|p| p.2).collect();
            let bands = Bands::with_weights(&xy, &w);
            let other = bands.reweighted(&w.iter().map(|x| 1.0 / (1.0 + x)).collect::<Vec<_>>());
            let r = r_km * 1000.0;
            let decide = |i: u32| sphere_m(at, xy[i as usize]) <= r;
            let (a, b, n) = bands.sum_both_count(&other, at, r, r, decide);
            prop_assert_eq!(a.to_bits(), bands.sum(at, r, r, decide).to_bits());
            prop_assert_eq!(b.to_bits(), other.sum(at, r, r, decide).to_bits());
            prop_assert_eq!(n, bands.count(at, r, r, decide));
            prop_assert_eq!(n, xy.iter().filter(|&&p| sphere_m(at, p) <= r).count() as u32);
        }

        /// Points strictly between inner and outer radius are the ones asked about.
        #[test]
        fn asks_only_about_the_annulus(
            pts in proptest::collection::vec((138.0f64..139.0, 35.6f64..36.4), 0..200),
            at in (138.0f64..139.0, 35.6f64..36.4),
        ) {
            let bands = Bands::new(&pts);
            let (inner, outer) = (15_000.0, 17_000.0);
            let mut asked = Vec::new();
            let got = bands.count(at, inner, outer, |i| { asked.push(i); false });
            for &i in &asked {
                let d = sphere_m(at, pts[i as usize]);
                prop_assert!(d > inner - 1.0 && d <= outer + 1.0, "asked about {} m", d);
            }
            let sure = pts.iter().filter(|&&p| sphere_m(at, p) <= inner - 1.0).count() as u32;
            let possible = pts.iter().filter(|&&p| sphere_m(at, p) <= inner + 1.0).count() as u32;
            prop_assert!(got >= sure && got <= possible);
        }
    }
}
