//! The point the report's page puts a municipality's label and marker at: geo's
//! `InteriorPoint` of its multipolygon, the same point, found faster.
//!
//! geo (0.33) takes, per polygon, a horizontal scan line through the middle of its box
//! (moved off any vertex), finds where the scan line crosses the polygon's segments with a
//! sweep over all of them, pairs the crossings along the line, and returns the middle of the
//! longest pair that lies in the polygon, checked by `relate`; of a multipolygon's polygons
//! the one with the longest such pair wins. The sweep tests the scan line against every
//! segment (its box spans the polygon's), calling `line_intersection` with the segment that
//! sorts first by its smallest x: the segment when that x is the box's left edge (the scan
//! line is inserted last and the sort is stable), the scan line otherwise. Here the same
//! calls are made directly, and the test for the middle is the coordinate position that
//! `relate` itself takes for a point against a polygon. Only the crossings' x values enter
//! the result, so the order in which they are found does not matter. A polygon with a
//! segment lying on the scan line itself (which the sweep would also pair with other
//! segments) is left to geo.

use geo::coordinate_position::CoordPos;
use geo::line_intersection::{line_intersection, LineIntersection};
use geo::{BoundingRect, CoordinatePosition, CoordsIter, InteriorPoint, Line, LinesIter};
use geo::{Coord, MultiPolygon, Point, Polygon};
use std::cmp::Ordering;

/// geo's `InteriorPoint` of `mp`.
pub fn label_point(mp: &MultiPolygon<f64>) -> Option<Point<f64>> {
    let mut found = Vec::with_capacity(mp.0.len());
    for polygon in mp {
        match polygon_point(polygon) {
            Found::Point(p) => found.push(p),
            Found::Nothing => {}
            Found::LeftToGeo => return mp.interior_point(),
        }
    }
    found
        .into_iter()
        .min_by(|a, b| b.1.partial_cmp(&a.1).unwrap_or(Ordering::Less))
        .map(|(point, _)| point)
}

enum Found {
    /// The interior point and the length of its pair of crossings (0 for a point on the
    /// boundary or a fallback vertex).
    Point((Point<f64>, f64)),
    /// No point (an empty polygon).
    Nothing,
    /// A segment lies on the scan line.
    LeftToGeo,
}

fn polygon_point(polygon: &Polygon<f64>) -> Found {
    if polygon.exterior().0.len() == 1 {
        return Found::Point((polygon.exterior().0[0].into(), 0.0));
    }
    let Some(bounds) = polygon.bounding_rect() else {
        return Found::Nothing;
    };
    let mut y_mid = (bounds.min().y + bounds.max().y) / 2.0;
    if polygon.coords_iter().any(|c| c.y == y_mid) {
        let next_closest = polygon
            .coords_iter()
            .filter(|c| c.y != y_mid)
            .map(|c| (c.y, (c.y - y_mid).abs()))
            .min_by(|a, b| a.1.partial_cmp(&b.1).unwrap_or(Ordering::Less));
        if let Some((closest, _)) = next_closest {
            y_mid = (y_mid + closest) / 2.0;
        }
    }
    let scan = Line::new(
        Coord {
            x: bounds.min().x,
            y: y_mid,
        },
        Coord {
            x: bounds.max().x,
            y: y_mid,
        },
    );
    let mut xs: Vec<f64> = Vec::new();
    for line in polygon.lines_iter() {
        if line == scan {
            return Found::LeftToGeo;
        }
        // The sweep's key: the smaller x, taken as it takes it.
        let inserted = if line.start.x < line.end.x {
            line.start.x
        } else {
            line.end.x
        };
        let first = inserted.total_cmp(&bounds.min().x) == Ordering::Equal;
        let crossing = if first {
            line_intersection(line, scan)
        } else {
            line_intersection(scan, line)
        };
        match crossing {
            Some(LineIntersection::Collinear { intersection }) => {
                xs.push(intersection.start.x);
                xs.push(intersection.end.x);
            }
            Some(LineIntersection::SinglePoint { intersection, .. }) => xs.push(intersection.x),
            None => {}
        }
    }
    xs.sort_by(|a, b| a.total_cmp(b));
    let mut segments: Vec<(Point<f64>, f64)> = xs
        .windows(2)
        .map(|w| (Point::new((w[0] + w[1]) / 2.0, y_mid), w[1] - w[0]))
        .collect();
    segments.sort_by(|a, b| b.1.total_cmp(&a.1));
    for (midpoint, length) in segments {
        match polygon.coordinate_position(&midpoint.0) {
            CoordPos::Inside => return Found::Point((midpoint, length)),
            CoordPos::OnBoundary => return Found::Point((midpoint, 0.0)),
            CoordPos::Outside => {}
        }
    }
    match polygon.coords_iter().next() {
        Some(c) => Found::Point((c.into(), 0.0)),
        None => Found::Nothing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::LineString;
    use proptest::prelude::*;

    /// A star-shaped ring around (cx, cy): radii at equal angle steps, so it never crosses
    /// itself; `snap` rounds the coordinates to a coarse grid, which puts vertices on the
    /// middle line and makes segments horizontal and collinear.
    fn ring(cx: f64, cy: f64, radii: &[f64], snap: bool) -> LineString<f64> {
        let n = radii.len();
        let mut pts: Vec<(f64, f64)> = radii
            .iter()
            .enumerate()
            .map(|(k, r)| {
                let a = std::f64::consts::TAU * k as f64 / n as f64;
                let (x, y) = (cx + r * a.cos(), cy + r * a.sin());
                if snap {
                    ((x * 4.0).round() / 4.0, (y * 4.0).round() / 4.0)
                } else {
                    (x, y)
                }
            })
            .collect();
        pts.dedup();
        pts.push(pts[0]);
        LineString::from(pts)
    }

    proptest! {
        /// The same point as geo's, bit for bit, on polygons with and without holes, parts
        /// of several sizes, and vertices snapped onto the scan line.
        #[test]
        fn same_point_as_geo(
            parts in proptest::collection::vec(
                ((-50.0f64..50.0, -50.0f64..50.0), proptest::collection::vec(2.0f64..10.0, 3..24), proptest::option::of(proptest::collection::vec(0.3f64..1.5, 3..10))),
                1..4,
            ),
            snap in any::<bool>(),
        ) {
            let polygons: Vec<Polygon<f64>> = parts
                .iter()
                .map(|((cx, cy), radii, hole)| {
                    let holes = hole.iter().map(|h| ring(*cx, *cy, h, snap)).collect();
                    Polygon::new(ring(*cx, *cy, radii, snap), holes)
                })
                .collect();
            let mp = MultiPolygon::new(polygons);
            let ours = label_point(&mp).map(|p| (p.x().to_bits(), p.y().to_bits()));
            let geos = mp.interior_point().map(|p| (p.x().to_bits(), p.y().to_bits()));
            prop_assert_eq!(ours, geos);
        }
    }

    #[test]
    fn a_square_with_a_hole() {
        // The scan line at y = 5 crosses at x = 0, 3, 7, 10: the pairs 0-3 and 7-10 are
        // inside, 3-7 is the hole; the longest inside (the first of the equal two) is 0-3.
        let outer = LineString::from(vec![(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0), (0.0, 0.0)]);
        let hole = LineString::from(vec![(3.0, 2.0), (7.0, 2.0), (7.0, 8.0), (3.0, 8.0), (3.0, 2.0)]);
        let mp = MultiPolygon::new(vec![Polygon::new(outer, vec![hole])]);
        assert_eq!(label_point(&mp), Some(Point::new(1.5, 5.0)));
        assert_eq!(label_point(&mp), mp.interior_point());
    }
}
