//! Demand places: population mesh cells placed in municipalities, or, without population,
//! a 500 m grid inside each municipality weighted by area.
//!
//! A cell belongs to the municipality containing its centre. A centre in no polygon (a
//! coastal cell) goes to the nearest municipality within 1 km; farther ones are rejected.

use crate::error::{Error, Location, Reject, Result};
use crate::inputs::mesh::{Level, Mesh};
use crate::inputs::municipalities::Municipality;
use crate::inputs::population::PopulationCell;
use crate::inputs::rules::DemandColumn;
use crate::progress::Progress;
use geo::{Coord, InteriorPoint};
use rayon::prelude::*;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{RTree, AABB};
use serde::Serialize;

/// How far a coastal cell's centre may lie outside every polygon and still be placed, metres.
pub const COAST_SNAP_M: f64 = 1000.0;

/// One place where demand sits.
#[derive(Debug, Clone, PartialEq)]
pub struct DemandCell {
    pub mesh: Mesh,
    /// Index into the municipalities.
    pub municipality: usize,
    pub lon: f64,
    pub lat: f64,
    pub population: f64,
    pub population_65plus: f64,
    pub population_75plus: Option<f64>,
    pub population_0_14: Option<f64>,
    /// The rules' demand column (or the area in km² on a synthetic grid).
    pub demand: f64,
}

/// What demand stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "basis", rename_all = "snake_case")]
pub enum DemandBasis {
    /// People, from population files, in the rules' demand column.
    Population { column: DemandColumn },
    /// No population was given: a 500 m grid (JIS half mesh) inside each municipality,
    /// each point weighted by its area in km².
    AreaGrid,
}

impl DemandBasis {
    pub fn describe(&self) -> String {
        match self {
            DemandBasis::Population { column } => column.as_str().to_string(),
            DemandBasis::AreaGrid => "area_km2 (no population given: 500 m grid weighted by area)".into(),
        }
    }
}

/// Demand places, sorted by municipality then mesh code.
#[derive(Debug, Clone)]
pub struct Demand {
    pub cells: Vec<DemandCell>,
    pub basis: DemandBasis,
    /// Cells placed by the 1 km coastal rule.
    pub snapped_to_coast: usize,
}

impl Demand {
    pub fn places(&self) -> Vec<(f64, f64)> {
        self.cells.iter().map(|c| (c.lon, c.lat)).collect()
    }
}

/// A multipolygon's boundary segments in horizontal bands, for point-in-polygon tests:
/// the answers of geo's `IntervalTreeMultiPolygon` (the same winding-number test with the
/// same robust predicates, on the segments whose y range holds the point's y), built in
/// linear time where the interval tree sorts its segments (the build was most of the cost
/// of placing the national cells). It holds no coordinates: the queries take the rings it
/// was built from ([`Rings`]), which the municipality holds anyway.
pub struct PolygonIndex {
    y0: f64,
    /// Band height, degrees.
    height: f64,
    /// Per band, a range into `segments`: `starts[b]..starts[b + 1]`.
    starts: Vec<u32>,
    /// Each segment once in every band its y range meets, as its ring (in the order of
    /// [`rings_of`]) and the position of its first end there (the second end follows it). A
    /// segment meets one to a few bands; as two coordinates in every band the national
    /// boundaries' indexes took 320 MB, as positions with a copy of the points 140 MB, as
    /// positions in the municipalities' own rings 70 MB.
    segments: Vec<(u32, u32)>,
}

/// The rings of a multipolygon, each polygon's exterior then its holes: what a
/// [`PolygonIndex`] built from it reads its segments from.
pub type Rings<'a> = [&'a [Coord<f64>]];

/// The rings of `mp` in a [`PolygonIndex`]'s order.
pub fn rings_of(mp: &geo::MultiPolygon<f64>) -> Vec<&[Coord<f64>]> {
    mp.0.iter()
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
        .map(|r| r.0.as_slice())
        .collect()
}

impl PolygonIndex {
    pub fn new(mp: &geo::MultiPolygon<f64>) -> PolygonIndex {
        let rings = rings_of(mp);
        // The y range of the segments' ends (every point of a ring of two or more) and
        // their number.
        let (mut lo, mut hi, mut n) = (f64::INFINITY, f64::NEG_INFINITY, 0usize);
        for r in rings.iter().filter(|r| r.len() >= 2) {
            n += r.len() - 1;
            for c in r.iter() {
                lo = lo.min(c.y);
                hi = hi.max(c.y);
            }
        }
        let bands = (n / 4).clamp(1, 1 << 16);
        let height = if hi > lo { (hi - lo) / bands as f64 } else { 1.0 };
        let mut index = PolygonIndex {
            y0: lo,
            height,
            starts: vec![0; bands + 1],
            segments: Vec::new(),
        };
        // Each segment's bands, found once: counted, then filled in the same order.
        let mut spans: Vec<((u32, u32), u32, u32)> = Vec::with_capacity(n);
        for (i, r) in rings.iter().enumerate().filter(|(_, r)| r.len() >= 2) {
            for (k, w) in r.windows(2).enumerate() {
                let range = index.bands_of(w[0].y, w[1].y);
                let (a, b) = (*range.start(), *range.end());
                for count in &mut index.starts[a + 1..=b + 1] {
                    *count += 1;
                }
                spans.push(((i as u32, k as u32), a as u32, b as u32));
            }
        }
        for b in 1..index.starts.len() {
            index.starts[b] += index.starts[b - 1];
        }
        let mut fill = index.starts.clone();
        index.segments = vec![(0, 0); index.starts[bands] as usize];
        for &(at, first, last) in &spans {
            for f in &mut fill[first as usize..=last as usize] {
                index.segments[*f as usize] = at;
                *f += 1;
            }
        }
        index
    }

    /// The ends of the segment at `at` of `rings`.
    fn ends(rings: &Rings, (ring, k): (u32, u32)) -> (Coord<f64>, Coord<f64>) {
        let ring = rings[ring as usize];
        (ring[k as usize], ring[k as usize + 1])
    }

    /// The band of a y, clamped to the bands (monotone in y, so a segment whose y range
    /// holds a point's y is in the point's band).
    fn band(&self, y: f64) -> usize {
        let last = self.starts.len() - 2;
        (((y - self.y0) / self.height).max(0.0) as usize).min(last)
    }

    fn bands_of(&self, a: f64, b: f64) -> std::ops::RangeInclusive<usize> {
        let (lo, hi) = if a.total_cmp(&b).is_le() { (a, b) } else { (b, a) };
        self.band(lo)..=self.band(hi)
    }

    /// [`boundary_distance_m`] of the point, looking only at the segments of the bands
    /// within `limit_m` of it: the same distance when it is at most `limit_m`, else some
    /// distance above `limit_m` (infinite when no segment is near). A segment within the
    /// limit has a point less than the limit north or south of the point: it is in those
    /// bands.
    pub fn boundary_distance_within_m(&self, rings: &Rings, lon: f64, lat: f64, limit_m: f64) -> f64 {
        if self.segments.is_empty() {
            return f64::INFINITY;
        }
        let ky = crate::reach::EARTH_RADIUS_M.to_radians();
        let kx = ky * lat.to_radians().cos();
        // A hair wider than the limit, for the rounding of the projection.
        let dlat = limit_m / ky * (1.0 + 1e-9) + 1e-12;
        let (first, last) = (self.band(lat - dlat), self.band(lat + dlat));
        let mut best = f64::INFINITY;
        for &at in &self.segments[self.starts[first] as usize..self.starts[last + 1] as usize] {
            let (p, q) = Self::ends(rings, at);
            best = best.min(segment_distance_m(p, q, lon, lat, kx, ky));
        }
        best
    }

    /// Whether the point lies inside (not on the boundary), as geo's
    /// `IntervalTreeMultiPolygon::contains` says; `rings` are those the index was built from.
    pub fn contains(&self, rings: &Rings, c: &Coord<f64>) -> bool {
        use geo::kernels::{Kernel, Orientation, RobustKernel};
        let between = |v: f64, a: f64, b: f64| if a < b { v >= a && v <= b } else { v >= b && v <= a };
        if self.segments.is_empty() {
            return false;
        }
        let b = self.band(c.y);
        let mut winding = 0i64;
        for &at in &self.segments[self.starts[b] as usize..self.starts[b + 1] as usize] {
            let (p, q) = Self::ends(rings, at);
            // The interval tree's visit: y_min <= y <= y_max in the total order; then its
            // test of the largest x.
            let (y_min, y_max) = if p.y.total_cmp(&q.y).is_le() {
                (p.y, q.y)
            } else {
                (q.y, p.y)
            };
            let x_max = if p.x.total_cmp(&q.x).is_ge() { p.x } else { q.x };
            if y_min.total_cmp(&c.y).is_gt() || c.y.total_cmp(&y_max).is_gt() || x_max < c.x {
                continue;
            }
            if p.y <= c.y {
                if q.y >= c.y {
                    let o = RobustKernel::orient2d(p, q, *c);
                    if o == Orientation::CounterClockwise && q.y != c.y {
                        winding += 1;
                    } else if o == Orientation::Collinear && between(c.x, p.x, q.x) {
                        return false;
                    }
                }
            } else {
                let o = RobustKernel::orient2d(p, q, *c);
                if o == Orientation::Clockwise {
                    winding -= 1;
                } else if o == Orientation::Collinear && between(c.x, p.x, q.x) {
                    return false;
                }
            }
        }
        winding != 0
    }
}

/// Finds the municipality of a point.
pub struct MunicipalityLocator<'a> {
    municipalities: &'a [Municipality],
    tree: RTree<GeomWithData<Rectangle<[f64; 2]>, usize>>,
    shapes: Vec<PolygonIndex>,
    /// Each municipality's rings, which its index reads.
    rings: Vec<Vec<&'a [Coord<f64>]>>,
}

impl<'a> MunicipalityLocator<'a> {
    pub fn new(municipalities: &'a [Municipality]) -> Self {
        Self::with_shapes(municipalities, None)
    }

    /// A locator with the point-in-polygon indexes of an earlier one of the same
    /// municipalities ([`MunicipalityLocator::into_shapes`]); built anew when `shapes` is
    /// `None` or holds another number of municipalities.
    pub fn with_shapes(municipalities: &'a [Municipality], shapes: Option<Vec<PolygonIndex>>) -> Self {
        let boxes = municipalities
            .iter()
            .enumerate()
            .map(|(i, m)| {
                GeomWithData::new(
                    Rectangle::from_corners([m.bbox.min().x, m.bbox.min().y], [m.bbox.max().x, m.bbox.max().y]),
                    i,
                )
            })
            .collect();
        let shapes = match shapes {
            Some(shapes) if shapes.len() == municipalities.len() => shapes,
            _ => municipalities
                .par_iter()
                .with_max_len(4)
                .map(|m| PolygonIndex::new(&m.geometry))
                .collect(),
        };
        MunicipalityLocator {
            municipalities,
            tree: RTree::bulk_load(boxes),
            shapes,
            rings: municipalities.iter().map(|m| rings_of(&m.geometry)).collect(),
        }
    }

    /// The point-in-polygon index of each municipality, in their order.
    pub fn shapes(&self) -> &[PolygonIndex] {
        &self.shapes
    }

    /// The municipalities it locates points in.
    pub fn municipalities(&self) -> &'a [Municipality] {
        self.municipalities
    }

    /// The point-in-polygon indexes, kept for a later locator of the same municipalities.
    pub fn into_shapes(self) -> Vec<PolygonIndex> {
        self.shapes
    }

    /// The municipality whose polygon contains the point (the lowest code if several do).
    pub fn containing(&self, lon: f64, lat: f64) -> Option<usize> {
        let c = Coord { x: lon, y: lat };
        let inside = |&i: &usize| self.shapes[i].contains(&self.rings[i], &c);
        // The boxes holding the point, lowest first, tested until one polygon holds it: a
        // point is held by one polygon, and in the boxes of a few.
        let mut boxes = [0usize; 16];
        let mut n = 0;
        for g in self.tree.locate_all_at_point(&[lon, lat]) {
            if n == boxes.len() {
                return self
                    .tree
                    .locate_all_at_point(&[lon, lat])
                    .map(|g| g.data)
                    .filter(inside)
                    .min();
            }
            boxes[n] = g.data;
            n += 1;
        }
        let boxes = &mut boxes[..n];
        boxes.sort_unstable();
        boxes.iter().copied().find(inside)
    }

    /// Where an institution at the point belongs: the municipality containing it, else the
    /// nearest within [`COAST_SNAP_M`] (a clinic on the shore beyond a simplified coastline).
    pub fn holding_or_near(&self, lon: f64, lat: f64) -> Option<usize> {
        self.containing(lon, lat)
            .or_else(|| self.nearest_within(lon, lat, COAST_SNAP_M).map(|m| m.0))
    }

    /// The municipality nearest to the point within `limit_m` metres, and the distance.
    pub fn nearest_within(&self, lon: f64, lat: f64, limit_m: f64) -> Option<(usize, f64)> {
        let dlat = limit_m / 111_000.0;
        let dlon = dlat / lat.to_radians().cos().max(0.1);
        let envelope = AABB::from_corners([lon - dlon, lat - dlat], [lon + dlon, lat + dlat]);
        self.tree
            .locate_in_envelope_intersecting(&envelope)
            .map(|g| {
                (
                    g.data,
                    self.shapes[g.data].boundary_distance_within_m(&self.rings[g.data], lon, lat, limit_m),
                )
            })
            .filter(|&(_, d)| d <= limit_m)
            .min_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)))
    }
}

/// Distance from a point to a municipality's boundary, metres, in a local equirectangular
/// projection around the point (exact enough at the 1 km scale it is used for).
pub(crate) fn boundary_distance_m(m: &Municipality, lon: f64, lat: f64) -> f64 {
    outline_distance_m(&m.geometry, lon, lat)
}

/// [`boundary_distance_m`] of a multipolygon.
fn outline_distance_m(mp: &geo::MultiPolygon<f64>, lon: f64, lat: f64) -> f64 {
    let ky = crate::reach::EARTH_RADIUS_M.to_radians();
    let kx = ky * lat.to_radians().cos();
    let mut best = f64::INFINITY;
    for poly in &mp.0 {
        for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
            for line in ring.lines() {
                best = best.min(segment_distance_m(line.start, line.end, lon, lat, kx, ky));
            }
        }
    }
    best
}

/// Distance from the point (`lon`, `lat`) to the segment `a`-`b`, metres, in the
/// equirectangular projection of [`boundary_distance_m`] (`kx`, `ky` metres per degree).
fn segment_distance_m(a: Coord<f64>, b: Coord<f64>, lon: f64, lat: f64, kx: f64, ky: f64) -> f64 {
    let project = |c: Coord<f64>| ((c.x - lon) * kx, (c.y - lat) * ky);
    let (ax, ay) = project(a);
    let (bx, by) = project(b);
    let (dx, dy) = (bx - ax, by - ay);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (-(ax * dx + ay * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (px, py) = (ax + t * dx, ay + t * dy);
    (px * px + py * py).sqrt()
}

/// The cells of one population file, with the file's name for rejects.
pub struct PopulationInput {
    pub file: String,
    pub cells: Vec<PopulationCell>,
    pub has_65plus: bool,
    pub has_75plus: bool,
    pub has_0_14: bool,
    /// e-Stat: the file's value columns (`CODE 「label」`), named when a needed one is missing.
    pub labels: Vec<String>,
}

/// Places population cells in municipalities. Cells that fit none are returned as rejects.
pub fn place_population(
    inputs: &[PopulationInput],
    municipalities: &[Municipality],
    column: DemandColumn,
    progress: Progress,
) -> Result<(Demand, Vec<Reject>)> {
    place_population_in(inputs, &MunicipalityLocator::new(municipalities), column, progress)
}

/// [`place_population`] with a locator of the municipalities, made once for every stage
/// that locates points.
pub fn place_population_in(
    inputs: &[PopulationInput],
    locator: &MunicipalityLocator,
    column: DemandColumn,
    progress: Progress,
) -> Result<(Demand, Vec<Reject>)> {
    let missing = match column {
        DemandColumn::Population65Plus => inputs.iter().find(|p| !p.has_65plus),
        DemandColumn::Population75Plus => inputs.iter().find(|p| !p.has_75plus),
        DemandColumn::Population0To14 => inputs.iter().find(|p| !p.has_0_14),
        _ => None,
    };
    if let Some(bad) = missing {
        return Err(Error::input(
            &bad.file,
            Location::Line(1),
            if bad.labels.is_empty() {
                format!(
                    "the rules take demand from {}, but this file has no such column",
                    column.as_str()
                )
            } else {
                format!(
                    "the rules take demand from {}, but no column of this e-Stat file is labelled so (name one with --estat-columns); its value columns are: {}",
                    column.as_str(),
                    bad.labels.join(", ")
                )
            },
        ));
    }
    let all: Vec<(&str, &PopulationCell)> = inputs
        .iter()
        .flat_map(|p| p.cells.iter().map(move |c| (p.file.as_str(), c)))
        .collect();
    let bar = progress.bar(all.len() as u64, "placing");
    // Each cell's municipality, and whether it was snapped from the sea.
    let home = |cell: &PopulationCell| {
        let c = cell.mesh.centre();
        match locator.containing(c.x, c.y) {
            Some(m) => Some((m, false)),
            None => locator.nearest_within(c.x, c.y, COAST_SNAP_M).map(|(m, _)| (m, true)),
        }
    };
    // Found side by side a chunk at a time (the bar moves a chunk at a time: a step per cell
    // made every thread read the clock); then the kept cells are made side by side, each
    // straight into its place. Gathered from lists made per chunk, the nation's 230,000
    // cells had been laid out by one thread alone.
    let mut homes: Vec<Option<(usize, bool)>> = vec![None; all.len()];
    homes
        .par_chunks_mut(1024)
        .zip(all.par_chunks(1024))
        .with_max_len(1)
        .for_each(|(out, chunk)| {
            for (o, &(_, cell)) in out.iter_mut().zip(chunk) {
                *o = home(cell);
            }
            bar.inc(chunk.len() as u64);
        });
    bar.finish_and_clear();
    let kept: Vec<(usize, usize)> = homes
        .iter()
        .enumerate()
        .filter_map(|(i, h)| h.map(|(m, _)| (i, m)))
        .collect();
    let snapped_to_coast = homes.iter().filter(|h| matches!(h, Some((_, true)))).count();
    let rejects: Vec<Reject> = all
        .iter()
        .zip(&homes)
        .filter(|(_, h)| h.is_none())
        .map(|(&(file, cell), _)| {
            let c = cell.mesh.centre();
            Reject::new(
                file,
                Location::Line(cell.line),
                format!(
                    "centre of mesh {} (lon {:.5}, lat {:.5}) is in no municipality and more than 1 km from all of them",
                    cell.mesh, c.x, c.y
                ),
            )
        })
        .collect();
    let mut cells: Vec<DemandCell> = kept
        .par_iter()
        .map(|&(i, municipality)| {
            let cell = all[i].1;
            let c = cell.mesh.centre();
            let demand = match column {
                DemandColumn::Population => cell.population,
                DemandColumn::Population65Plus => cell.population_65plus,
                DemandColumn::Population75Plus => cell.population_75plus.unwrap_or(0.0),
                DemandColumn::Population0To14 => cell.population_0_14.unwrap_or(0.0),
            };
            DemandCell {
                mesh: cell.mesh,
                municipality,
                lon: c.x,
                lat: c.y,
                population: cell.population,
                population_65plus: cell.population_65plus,
                population_75plus: cell.population_75plus,
                population_0_14: cell.population_0_14,
                demand,
            }
        })
        .collect();
    // Stable, as the plain sort is: cells of one mesh keep their input order.
    cells.par_sort_by(|a, b| a.municipality.cmp(&b.municipality).then(a.mesh.cmp(&b.mesh)));
    Ok((
        Demand {
            cells,
            basis: DemandBasis::Population { column },
            snapped_to_coast,
        },
        rejects,
    ))
}

/// Without population: the centres of the 500 m (half) mesh cells inside each municipality,
/// each weighted by its area in km². A municipality too small to hold a cell centre gets one
/// point at an interior point, weighted by its whole area.
pub fn area_grid(municipalities: &[Municipality]) -> Demand {
    let level = Level::Half;
    let per_municipality: Vec<Vec<DemandCell>> = municipalities
        .par_iter()
        .enumerate()
        .map(|(i, m)| {
            let (shape, rings) = (PolygonIndex::new(&m.geometry), rings_of(&m.geometry));
            let (min, max) = (m.bbox.min(), m.bbox.max());
            let (Some(sw), Some(ne)) = (
                Mesh::containing(min.x, min.y, level),
                Mesh::containing(max.x, max.y, level),
            ) else {
                return Vec::new();
            };
            let (h, w) = (level.height_deg(), level.width_deg());
            let rows = ((ne.south_west().y - sw.south_west().y) / h).round() as i64;
            let cols = ((ne.south_west().x - sw.south_west().x) / w).round() as i64;
            let mut out = Vec::new();
            for r in 0..=rows {
                for c in 0..=cols {
                    let lat = sw.centre().y + r as f64 * h;
                    let lon = sw.centre().x + c as f64 * w;
                    if !shape.contains(&rings, &Coord { x: lon, y: lat }) {
                        continue;
                    }
                    if let Some(mesh) = Mesh::containing(lon, lat, level) {
                        out.push(grid_cell(mesh, i, lon, lat, mesh.area_km2()));
                    }
                }
            }
            if out.is_empty() {
                if let Some(p) = m.geometry.interior_point() {
                    if let Some(mesh) = Mesh::containing(p.x(), p.y(), level) {
                        out.push(grid_cell(mesh, i, p.x(), p.y(), m.area_km2()));
                    }
                }
            }
            out
        })
        .collect();
    let mut cells: Vec<DemandCell> = per_municipality.into_iter().flatten().collect();
    cells.sort_by(|a, b| a.municipality.cmp(&b.municipality).then(a.mesh.cmp(&b.mesh)));
    Demand {
        cells,
        basis: DemandBasis::AreaGrid,
        snapped_to_coast: 0,
    }
}

fn grid_cell(mesh: Mesh, municipality: usize, lon: f64, lat: f64, area: f64) -> DemandCell {
    DemandCell {
        mesh,
        municipality,
        lon,
        lat,
        population: 0.0,
        population_65plus: 0.0,
        population_75plus: None,
        population_0_14: None,
        demand: area,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Contains, LineString, MultiPolygon, Polygon};
    use proptest::prelude::*;

    fn ring(v: &[(i32, i32)]) -> LineString<f64> {
        let mut r: LineString<f64> = v
            .iter()
            .map(|&(x, y)| Coord {
                x: f64::from(x),
                y: f64::from(y),
            })
            .collect();
        r.close();
        r
    }

    /// A shell and a hole, as points on the grid.
    type Part = (Vec<(i32, i32)>, Vec<(i32, i32)>);

    /// Polygons of a shell and a hole each (a hole of fewer than three points left out),
    /// every point moved by `place`.
    fn polygons(parts: &[Part], place: impl Fn(Coord<f64>) -> Coord<f64>) -> MultiPolygon<f64> {
        let placed = |r: LineString<f64>| -> LineString<f64> { r.0.into_iter().map(&place).collect() };
        MultiPolygon::new(
            parts
                .iter()
                .map(|(shell, hole)| {
                    let holes = if hole.len() >= 3 {
                        vec![placed(ring(hole))]
                    } else {
                        vec![]
                    };
                    Polygon::new(placed(ring(shell)), holes)
                })
                .collect(),
        )
    }

    proptest! {
        /// The locator names the lowest municipality whose polygon holds a point, as geo's
        /// `contains` finds it over them all: random rings (many self-crossing), overlapping
        /// each other, with more boxes holding a point than the few tested at once first.
        #[test]
        fn located_is_the_lowest_holding_municipality(
            shells in prop::collection::vec(prop::collection::vec((0i32..12, 0i32..12), 3..8), 1..24),
            points in prop::collection::vec((0i32..25, 0i32..25), 1..40),
        ) {
            let municipalities: Vec<crate::inputs::municipalities::Municipality> = shells
                .iter()
                .enumerate()
                .map(|(i, shell)| {
                    let geometry = MultiPolygon::new(vec![Polygon::new(ring(shell), vec![])]);
                    crate::inputs::municipalities::Municipality::numbered(i, geometry)
                })
                .collect();
            let locator = MunicipalityLocator::new(&municipalities);
            for (x, y) in points {
                let c = Coord { x: f64::from(x) * 0.5, y: f64::from(y) * 0.5 };
                let want = municipalities.iter().position(|m| m.geometry.contains(&c));
                prop_assert_eq!(locator.containing(c.x, c.y), want, "{:?}", c);
            }
        }
    }

    proptest! {
        /// The banded index answers as geo's interval tree does, for points on and off the
        /// boundary (integer and half-integer points on a small grid, so that points fall on
        /// vertices, on edges and on the y of horizontal edges), over random rings (many of
        /// them self-crossing) with holes, in two parts.
        #[test]
        fn polygon_index_answers_as_geos_interval_tree(
            parts in prop::collection::vec(
                (prop::collection::vec((0i32..10, 0i32..10), 3..10), prop::collection::vec((0i32..10, 0i32..10), 0..6)),
                1..3,
            ),
            points in prop::collection::vec((0i32..21, 0i32..21), 1..40),
        ) {
            let mp = polygons(&parts, |c| c);
            let (ours, rings) = (PolygonIndex::new(&mp), rings_of(&mp));
            let geos = geo::indexed::IntervalTreeMultiPolygon::new(&mp);
            for (x, y) in points {
                let c = Coord { x: f64::from(x) * 0.5, y: f64::from(y) * 0.5 };
                prop_assert_eq!(ours.contains(&rings, &c), geos.contains(&c), "{:?}", c);
            }
        }
    }

    proptest! {
        /// The index's distance to the boundary within a limit is the whole outline's
        /// wherever that is within the limit, and above the limit elsewhere: rings of about
        /// 100 m steps near 35 N, points on and around them, limits from 10 m to 3 km.
        #[test]
        fn boundary_distance_within_a_limit_is_the_outlines(
            parts in prop::collection::vec(
                (prop::collection::vec((0i32..40, 0i32..40), 3..12), prop::collection::vec((0i32..40, 0i32..40), 0..6)),
                1..3,
            ),
            points in prop::collection::vec((-20i32..60, -20i32..60, 0.0f64..1.0), 1..40),
            limit in 10.0f64..3000.0,
        ) {
            let degrees = |(x, y): (f64, f64)| Coord { x: 139.0 + x * 1e-3, y: 35.0 + y * 1e-3 };
            let mp = polygons(&parts, |c| degrees((c.x, c.y)));
            let (index, rings) = (PolygonIndex::new(&mp), rings_of(&mp));
            for (x, y, f) in points {
                let c = degrees((f64::from(x) + f, f64::from(y) * 0.5));
                let whole = outline_distance_m(&mp, c.x, c.y);
                let near = index.boundary_distance_within_m(&rings, c.x, c.y, limit);
                if whole <= limit {
                    prop_assert_eq!(near.to_bits(), whole.to_bits(), "{:?}", c);
                } else {
                    prop_assert!(near > limit, "{:?}: {} within {}", c, near, limit);
                }
            }
        }
    }

    #[test]
    fn polygon_index_of_a_square_with_a_hole() {
        let mp = MultiPolygon::new(vec![Polygon::new(
            ring(&[(0, 0), (4, 0), (4, 4), (0, 4)]),
            vec![ring(&[(1, 1), (1, 3), (3, 3), (3, 1)])],
        )]);
        let (index, rings) = (PolygonIndex::new(&mp), rings_of(&mp));
        let at = |x: f64, y: f64| index.contains(&rings, &Coord { x, y });
        assert!(at(0.5, 0.5));
        assert!(!at(2.0, 2.0), "in the hole");
        assert!(!at(4.0, 2.0), "on the boundary");
        assert!(!at(5.0, 2.0));
        assert!(!at(2.0, -1.0), "below every band");
    }
}
