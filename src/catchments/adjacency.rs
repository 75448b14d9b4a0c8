//! Contiguity of municipalities: which share an edge (rook), which only touch at points
//! (queen), and links added so that islands and other disconnected parts join the rest
//! (island links).
//!
//! Candidate pairs come from an R-tree of bounding boxes widened by the snapping tolerance.
//! For a pair, each side's boundary vertices are tested against the other's boundary
//! segments (an R-tree of segments in a local plane, metres): a vertex within the tolerance
//! of the other boundary touches it. The pair is queen-contiguous when any vertex touches;
//! rook-contiguous when segments whose ends and middle all touch add up to more than ten
//! times the tolerance. Testing vertices against segments, not against vertices, finds
//! borders drawn with different vertices on each side (T-junctions, densified or slightly
//! shifted lines), the usual reason contiguity tools miss a neighbour.

use crate::demand::{PolygonIndex, Rings};
use crate::inputs::municipalities::{box_of, Municipality};
use crate::reach::straight::metres_per_degree;
use geo::line_intersection::{line_intersection, LineIntersection};
use geo::{BoundingRect, Coord, Distance, Euclidean, Line, LineString, MultiPolygon, Point, Rect};
use rayon::prelude::*;
use rstar::primitives::{CachedEnvelope, GeomWithData, Rectangle};
use rstar::{RTree, RTreeObject, AABB};
use serde::Serialize;

/// How two municipalities are linked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LinkKind {
    /// They share a stretch of border.
    Rook,
    /// They touch only at points.
    Queen,
    /// They do not touch; added to join a disconnected part (an island) to the rest.
    IslandLink,
}

impl LinkKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkKind::Rook => "rook",
            LinkKind::Queen => "queen",
            LinkKind::IslandLink => "island-link",
        }
    }
}

/// One link, `a < b` (indexes into the municipalities).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Link {
    pub a: usize,
    pub b: usize,
    pub kind: LinkKind,
    /// Length of shared border, metres (rook); 0 otherwise.
    pub shared_m: f64,
    /// Gap bridged by an island link, metres; 0 otherwise.
    pub gap_m: f64,
}

/// Links and the resulting neighbour lists.
#[derive(Debug, Clone, PartialEq)]
pub struct Adjacency {
    /// Sorted by (a, b).
    pub links: Vec<Link>,
    /// Per municipality, its linked municipalities (every kind), ascending.
    pub neighbours: Vec<Vec<usize>>,
}

impl Adjacency {
    pub fn new(count: usize, mut links: Vec<Link>) -> Adjacency {
        links.sort_by_key(|l| (l.a, l.b));
        let mut neighbours = vec![Vec::new(); count];
        for l in &links {
            neighbours[l.a].push(l.b);
            neighbours[l.b].push(l.a);
        }
        for n in &mut neighbours {
            n.sort_unstable();
            n.dedup();
        }
        Adjacency { links, neighbours }
    }

    pub fn count(&self, kind: LinkKind) -> usize {
        self.links.iter().filter(|l| l.kind == kind).count()
    }
}

/// A local plane around a latitude: metres east and north of (0, 0) in degrees.
#[derive(Clone, Copy)]
struct Plane {
    kx: f64,
    ky: f64,
}

impl Plane {
    fn at(lat: f64) -> Plane {
        let (ky, kx) = metres_per_degree(lat);
        Plane { kx, ky }
    }

    fn lines(&self, raw: &[Line<f64>]) -> Vec<Line<f64>> {
        raw.iter()
            .map(|l| Line::new(self.project(l.start), self.project(l.end)))
            .collect()
    }

    fn project(&self, c: Coord<f64>) -> Coord<f64> {
        Coord {
            x: c.x * self.kx,
            y: c.y * self.ky,
        }
    }
}

fn rings(mp: &MultiPolygon<f64>) -> impl Iterator<Item = &LineString<f64>> {
    mp.0.iter()
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
}

fn widen(r: Rect<f64>, dx: f64, dy: f64) -> Rect<f64> {
    Rect::new(
        Coord {
            x: r.min().x - dx,
            y: r.min().y - dy,
        },
        Coord {
            x: r.max().x + dx,
            y: r.max().y + dy,
        },
    )
}

fn overlaps(a: &Rect<f64>, b: &Rect<f64>) -> bool {
    a.min().x <= b.max().x && b.min().x <= a.max().x && a.min().y <= b.max().y && b.min().y <= a.max().y
}

/// A municipality's boundary segments in runs of at most [`CHUNK`] (within one ring) with
/// the box of each run, so that the segments near a neighbour are found without visiting
/// all of them. The segments are read from the municipality's rings: as lines of their own
/// the national boundaries took 197 MB more, which the system had to clear before use.
struct Outline<'a> {
    rings: Vec<&'a [Coord<f64>]>,
    /// Per run: its ring, its first segment, and the box of its points.
    chunks: Vec<(u32, u32, Rect<f64>)>,
}

const CHUNK: usize = 32;

impl<'a> Outline<'a> {
    fn new(mp: &'a MultiPolygon<f64>) -> Outline<'a> {
        let rings = crate::demand::rings_of(mp);
        let mut chunks = Vec::new();
        for (i, ring) in rings.iter().enumerate() {
            let segments = ring.len().saturating_sub(1);
            for first in (0..segments).step_by(CHUNK) {
                let points = &ring[first..=(first + CHUNK).min(segments)];
                chunks.push((i as u32, first as u32, box_of(points.iter().copied())));
            }
        }
        Outline { rings, chunks }
    }

    /// Every segment, ring after ring.
    fn lines(&self) -> impl Iterator<Item = Line<f64>> + '_ {
        self.rings
            .iter()
            .flat_map(|ring| ring.windows(2).map(|w| Line::new(w[0], w[1])))
    }

    /// The segments whose boxes meet `window`, in degrees, in the order of [`Self::lines`].
    fn near_raw(&self, window: &Rect<f64>) -> Vec<Line<f64>> {
        let mut out = Vec::new();
        for &(ring, first, bbox) in &self.chunks {
            if !overlaps(&bbox, window) {
                continue;
            }
            let ring = self.rings[ring as usize];
            let first = first as usize;
            let points = &ring[first..=(first + CHUNK).min(ring.len() - 1)];
            out.extend(
                points
                    .windows(2)
                    .map(|w| Line::new(w[0], w[1]))
                    .filter(|l| overlaps(&l.bounding_rect(), window)),
            );
        }
        out
    }

    /// The segments whose boxes meet `window`, projected.
    fn near(&self, window: &Rect<f64>, plane: Plane) -> Vec<Line<f64>> {
        plane.lines(&self.near_raw(window))
    }
}

/// One side's segments of a pair, bucketed in a uniform grid over their bounding box: the
/// segments near a point are those of the cells its search square meets. Built in linear
/// time (a per-pair R-tree's bulk load sorts, and was most of the contiguity's time); the
/// tests on the segments found are rstar's own, so the answers are an R-tree's.
struct SegmentGrid<'a> {
    lines: &'a [Line<f64>],
    x0: f64,
    y0: f64,
    /// The segments' greatest x and y: with `x0` and `y0` the box of them all.
    x1: f64,
    y1: f64,
    /// The inverse of the cells' side.
    per_cell: f64,
    nx: usize,
    ny: usize,
    /// Per cell (row-major), a range into `items`: `starts[k]..starts[k + 1]`.
    starts: Vec<u32>,
    items: Vec<u32>,
}

impl<'a> SegmentGrid<'a> {
    /// Cells about as many as segments, no narrower than the segments' mean extent, so that
    /// a segment falls in a few cells.
    fn new(lines: &'a [Line<f64>]) -> SegmentGrid<'a> {
        let (mut lo, mut hi) = ([f64::INFINITY; 2], [f64::NEG_INFINITY; 2]);
        let mut extent = 0.0;
        for l in lines {
            lo = [lo[0].min(l.start.x).min(l.end.x), lo[1].min(l.start.y).min(l.end.y)];
            hi = [hi[0].max(l.start.x).max(l.end.x), hi[1].max(l.start.y).max(l.end.y)];
            extent += (l.end.x - l.start.x).abs().max((l.end.y - l.start.y).abs());
        }
        let m = lines.len().max(1) as f64;
        let (w, h) = ((hi[0] - lo[0]).max(0.0), (hi[1] - lo[1]).max(0.0));
        let cell = (w * h / m).sqrt().max(extent / m).max(1e-6);
        let (nx, ny) = if lines.is_empty() {
            (1, 1)
        } else {
            (((w / cell) as usize + 1).min(4096), ((h / cell) as usize + 1).min(4096))
        };
        let mut grid = SegmentGrid {
            lines,
            x0: lo[0],
            y0: lo[1],
            x1: hi[0],
            y1: hi[1],
            per_cell: 1.0 / cell,
            nx,
            ny,
            starts: vec![0; nx * ny + 1],
            items: Vec::new(),
        };
        // Counts, then offsets, then the segments in place (their cells found once: at most
        // 4096 columns and rows, so two bytes each).
        let spans: Vec<[u16; 4]> = lines
            .iter()
            .map(|l| {
                let (xs, ys) = grid.segment_cells(l);
                [xs.start, xs.end, ys.start, ys.end].map(|v| v as u16)
            })
            .collect();
        for &[x0, x1, y0, y1] in &spans {
            for y in y0 as usize..y1 as usize {
                for x in x0 as usize..x1 as usize {
                    grid.starts[y * nx + x + 1] += 1;
                }
            }
        }
        for k in 1..grid.starts.len() {
            grid.starts[k] += grid.starts[k - 1];
        }
        let mut fill = grid.starts.clone();
        grid.items = vec![0; grid.starts[nx * ny] as usize];
        for (i, &[x0, x1, y0, y1]) in spans.iter().enumerate() {
            for y in y0 as usize..y1 as usize {
                for x in x0 as usize..x1 as usize {
                    let k = y * nx + x;
                    grid.items[fill[k] as usize] = i as u32;
                    fill[k] += 1;
                }
            }
        }
        grid
    }

    /// The columns and rows of the cells a box meets (clamped to the grid: every segment
    /// lies inside it). Monotone in the box's sides, so any box meeting a segment's box
    /// shares a cell with it.
    fn cells(&self, x_lo: f64, x_hi: f64, y_lo: f64, y_hi: f64) -> (std::ops::Range<usize>, std::ops::Range<usize>) {
        // Truncation is the floor of a value made non-negative (and sends NaN to 0). Times
        // the inverse of the cell's side, not divided by it: the columns move by a unit in
        // the last place, but stay monotone in the value, which is all the search needs.
        let at = |v: f64, o: f64, n: usize| (((v - o) * self.per_cell).max(0.0) as usize).min(n - 1);
        (
            at(x_lo, self.x0, self.nx)..at(x_hi, self.x0, self.nx) + 1,
            at(y_lo, self.y0, self.ny)..at(y_hi, self.y0, self.ny) + 1,
        )
    }

    /// The columns and rows of the cells a segment's box meets.
    fn segment_cells(&self, l: &Line<f64>) -> (std::ops::Range<usize>, std::ops::Range<usize>) {
        self.cells(
            l.start.x.min(l.end.x),
            l.start.x.max(l.end.x),
            l.start.y.min(l.end.y),
            l.start.y.max(l.end.y),
        )
    }

    /// Whether some segment passes `test`, among those whose cells a box meets.
    fn any_near(&self, x_lo: f64, x_hi: f64, y_lo: f64, y_hi: f64, mut test: impl FnMut(&Line<f64>) -> bool) -> bool {
        // A box apart from the box of all the segments meets none of theirs (the cells at
        // the grid's edges, where such a box is clamped to, would be searched in vain).
        if self.lines.is_empty() || x_hi < self.x0 || x_lo > self.x1 || y_hi < self.y0 || y_lo > self.y1 {
            return false;
        }
        let (xs, ys) = self.cells(x_lo, x_hi, y_lo, y_hi);
        ys.into_iter().any(|y| {
            let row = y * self.nx;
            let (a, b) = (self.starts[row + xs.start] as usize, self.starts[row + xs.end] as usize);
            self.items[a..b].iter().any(|&i| test(&self.lines[i as usize]))
        })
    }

    /// Whether a segment lies within the squared distance `max2` of `p`, by rstar's test
    /// (`PointDistance::distance_2_if_less_or_equal` of a line).
    fn any_within(&self, p: Point<f64>, max2: f64) -> bool {
        use rstar::PointDistance;
        // A segment within the distance has its box within it on each axis; a hair wider
        // for the rounding of the square root.
        let r = max2.sqrt() * (1.0 + 1e-9) + 1e-9;
        self.any_near(p.x() - r, p.x() + r, p.y() - r, p.y() + r, |line| {
            // A segment whose box is farther than `r` on an axis is farther than the
            // distance (both tests below would say so), found without their divisions.
            let (a, b) = (line.start, line.end);
            if p.x() - a.x.max(b.x) > r
                || a.x.min(b.x) - p.x() > r
                || p.y() - a.y.max(b.y) > r
                || a.y.min(b.y) - p.y() > r
            {
                return false;
            }
            match squared_distance_apart(line, p, max2) {
                Some(within) => within,
                None => line.distance_2_if_less_or_equal(&p, max2).is_some(),
            }
        })
    }

    /// Whether a segment whose box meets `l`'s (as rstar's envelope query finds them)
    /// properly crosses it.
    fn any_crossing(&self, l: &Line<f64>) -> bool {
        use rstar::Envelope;
        let env = l.envelope();
        let (lo, hi) = (env.lower(), env.upper());
        self.any_near(lo.x(), hi.x(), lo.y(), hi.y(), |m| {
            env.intersects(&m.envelope())
                && matches!(
                    line_intersection(*l, *m),
                    Some(LineIntersection::SinglePoint { is_proper: true, .. })
                )
        })
    }
}

/// Whether `line` lies within the squared distance `max2` of `p`, when that is clear
/// without rstar's test: geo's distance of a point to a segment (the same branches, the
/// same quantities) squared without its square root, which lies within a few units in the
/// last place of rstar's squared distance. `None` when the two are within a millionth of a
/// millionth of `max2` of each other (rstar's test then decides), or `max2` is not positive.
fn squared_distance_apart(line: &Line<f64>, p: Point<f64>, max2: f64) -> Option<bool> {
    if max2.is_nan() || max2 <= 0.0 {
        return None;
    }
    let (a, b, c) = (line.start, line.end, p.0);
    let squared = |x: f64, y: f64| x * x + y * y;
    let d2 = if a == b {
        squared(c.x - a.x, c.y - a.y)
    } else {
        let (dx, dy) = (b.x - a.x, b.y - a.y);
        let length2 = dx * dx + dy * dy;
        let r = ((c.x - a.x) * dx + (c.y - a.y) * dy) / length2;
        if r <= 0.0 {
            squared(c.x - a.x, c.y - a.y)
        } else if r >= 1.0 {
            squared(c.x - b.x, c.y - b.y)
        } else {
            let s = ((a.y - c.y) * dx - (a.x - c.x) * dy) / length2;
            s * s * length2
        }
    };
    if d2 < max2 * (1.0 - 1e-12) {
        Some(true)
    } else if d2 > max2 * (1.0 + 1e-12) {
        Some(false)
    } else {
        None
    }
}

/// Touching vertices and shared length of `own` segments against `other`'s tree. A vertex
/// shared by consecutive segments is looked up once.
fn touch(own: &[Line<f64>], other: &SegmentGrid, snap_m: f64) -> (bool, f64) {
    let near = |c: Coord<f64>| other.any_within(Point::from(c), snap_m * snap_m);
    let mut any = false;
    let mut shared = 0.0;
    let mut previous: Option<(Coord<f64>, bool)> = None;
    for l in own {
        let s = match previous {
            Some((c, t)) if c == l.start => t,
            _ => near(l.start),
        };
        let e = near(l.end);
        previous = Some((l.end, e));
        any |= s || e;
        if s && e {
            let mid = Coord {
                x: 0.5 * (l.start.x + l.end.x),
                y: 0.5 * (l.start.y + l.end.y),
            };
            if near(mid) {
                shared += (l.end.x - l.start.x).hypot(l.end.y - l.start.y);
            }
        }
    }
    (any, shared)
}

/// Whether a segment of one side properly crosses one of the other's.
fn crossing(own: &[Line<f64>], other: &SegmentGrid) -> bool {
    own.iter().any(|l| other.any_crossing(l))
}

/// Whether a vertex or segment middle of `raw` (projected: `projected`) lies inside
/// `other` and farther than `snap_m` from its boundary (`other_tree`).
fn pokes_into(
    raw: &[Line<f64>],
    projected: &[Line<f64>],
    other: (&PolygonIndex, &Rings),
    other_grid: &SegmentGrid,
    snap_m: f64,
) -> bool {
    let mid = |l: &Line<f64>| Coord {
        x: 0.5 * (l.start.x + l.end.x),
        y: 0.5 * (l.start.y + l.end.y),
    };
    raw.iter().zip(projected).any(|(r, p)| {
        [(r.start, p.start), (mid(r), mid(p))]
            .into_iter()
            .any(|(c, q)| other.0.contains(other.1, &c) && !other_grid.any_within(Point::from(q), snap_m * snap_m))
    })
}

/// Whether a vertex of `mp` inside `window` lies inside `other` (for a part drawn wholly
/// inside another municipality, whose boundary does not reach the window).
fn inside_window(mp: &MultiPolygon<f64>, window: &Rect<f64>, other: (&PolygonIndex, &Rings)) -> bool {
    rings(mp)
        .flat_map(|r| r.0.iter())
        .filter(|c| window.min().x <= c.x && c.x <= window.max().x && window.min().y <= c.y && c.y <= window.max().y)
        .any(|c| other.0.contains(other.1, c))
}

/// Rook and queen links between municipalities whose boundaries come within `snap_m`
/// metres of each other; `given`: the municipalities' point-in-polygon indexes, if built.
fn contiguity(
    municipalities: &[Municipality],
    outlines: &[Outline],
    snap_m: f64,
    given: Option<&[PolygonIndex]>,
) -> Vec<Link> {
    // Degrees that surely cover `snap_m` anywhere in Japan (lat <= 46).
    let (ky, kx) = metres_per_degree(50.0);
    let (dx, dy) = (2.0 * snap_m / kx, 2.0 * snap_m / ky);
    let boxes: Vec<Rect<f64>> = municipalities.iter().map(|m| widen(m.bbox, dx, dy)).collect();
    let tree = RTree::bulk_load(
        boxes
            .iter()
            .enumerate()
            .map(|(i, b)| GeomWithData::new(Rectangle::from_corners(b.min().x_y().into(), b.max().x_y().into()), i))
            .collect::<Vec<GeomWithData<Rectangle<[f64; 2]>, usize>>>(),
    );
    let pairs: Vec<(usize, usize)> = (0..municipalities.len())
        .flat_map(|a| {
            let b = &boxes[a];
            tree.locate_in_envelope_intersecting(&AABB::from_corners(b.min().x_y().into(), b.max().x_y().into()))
                .map(|g| g.data)
                .filter(move |&b| b > a)
                .map(move |b| (a, b))
                .collect::<Vec<_>>()
        })
        .collect();
    let rook_min = 10.0 * snap_m;
    // Point-in-polygon indexes: those given (one per municipality), else built when a pair
    // first needs one.
    let given = given.filter(|g| g.len() == municipalities.len());
    let shapes: Vec<std::sync::OnceLock<PolygonIndex>> = match given {
        Some(_) => Vec::new(),
        None => (0..municipalities.len()).map(|_| std::sync::OnceLock::new()).collect(),
    };
    // Each index with the rings it reads: the outline's, in the index's order.
    let shape = |m: usize| {
        let index = match given {
            Some(given) => &given[m],
            None => shapes[m].get_or_init(|| PolygonIndex::new(&municipalities[m].geometry)),
        };
        (index, outlines[m].rings.as_slice())
    };
    let mut links: Vec<Link> = pairs
        .par_iter()
        .with_max_len(32)
        .filter_map(|&(a, b)| {
            let window = Rect::new(
                Coord {
                    x: boxes[a].min().x.max(boxes[b].min().x),
                    y: boxes[a].min().y.max(boxes[b].min().y),
                },
                Coord {
                    x: boxes[a].max().x.min(boxes[b].max().x),
                    y: boxes[a].max().y.min(boxes[b].max().y),
                },
            );
            let plane = Plane::at(0.5 * (window.min().y + window.max().y));
            let (ra, rb) = (outlines[a].near_raw(&window), outlines[b].near_raw(&window));
            let (sa, sb) = (plane.lines(&ra), plane.lines(&rb));
            let (ta, tb) = (SegmentGrid::new(&sa), SegmentGrid::new(&sb));
            let (any_a, shared_a) = touch(&sa, &tb, snap_m);
            let (any_b, shared_b) = touch(&sb, &ta, snap_m);
            let shared = shared_a.max(shared_b);
            // Overlapping polygons (a sliver, a drawing error, a part drawn inside another)
            // share more than a point: boundaries cross, or one's boundary runs inside the
            // other away from its boundary.
            let overlap = shared <= rook_min
                && (crossing(&sa, &tb)
                    || pokes_into(&ra, &sa, shape(b), &tb, snap_m)
                    || pokes_into(&rb, &sb, shape(a), &ta, snap_m)
                    || (ra.is_empty() && inside_window(&municipalities[b].geometry, &window, shape(a)))
                    || (rb.is_empty() && inside_window(&municipalities[a].geometry, &window, shape(b))));
            if !(any_a || any_b || overlap) {
                return None;
            }
            let kind = if shared > rook_min || overlap {
                LinkKind::Rook
            } else {
                LinkKind::Queen
            };
            Some(Link {
                a,
                b,
                kind,
                shared_m: if kind == LinkKind::Rook { shared } else { 0.0 },
                gap_m: 0.0,
            })
        })
        .collect();
    links.sort_by_key(|l| (l.a, l.b));
    links
}

/// Groups of `members` connected by `links`, each ascending, largest first (ties: lowest
/// first member).
pub fn components(members: &[usize], links: &[Link], n: usize) -> Vec<Vec<usize>> {
    let mut inside = vec![false; n];
    for &m in members {
        inside[m] = true;
    }
    let mut uf = crate::sets::DisjointSets::new(n);
    for l in links {
        if inside[l.a] && inside[l.b] {
            uf.join(l.a, l.b);
        }
    }
    let mut groups: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for &m in members {
        groups.entry(uf.root(m)).or_default().push(m);
    }
    let mut out: Vec<Vec<usize>> = groups
        .into_values()
        .map(|mut g| {
            g.sort_unstable();
            g
        })
        .collect();
    out.sort_by(|x, y| y.len().cmp(&x.len()).then(x[0].cmp(&y[0])));
    out
}

/// A municipality of a disconnected part, in the part's plane, ready for distance queries.
struct Shape {
    tree: RTree<CachedEnvelope<Line<f64>>>,
    vertices: Vec<Coord<f64>>,
    bbox: Rect<f64>,
}

impl Shape {
    fn new(outline: &Outline, bbox: Rect<f64>, plane: Plane) -> Shape {
        let lines: Vec<Line<f64>> = outline
            .lines()
            .map(|l| Line::new(plane.project(l.start), plane.project(l.end)))
            .collect();
        Shape {
            vertices: lines.iter().map(|l| l.start).collect(),
            tree: RTree::bulk_load(lines.into_iter().map(CachedEnvelope::new).collect()),
            bbox,
        }
    }

    /// Distance to `other`, metres, when it is below `limit` (else some value >= `limit`).
    /// Two disjoint outlines are nearest at a vertex of one of them, so vertices of each are
    /// measured against the segments of the other; only `other`'s segments within `limit` of
    /// this shape's box are looked at.
    fn distance(&self, other: &Outline, plane: Plane, limit: f64) -> f64 {
        let window = if limit.is_finite() {
            widen(self.bbox, limit / plane.kx, limit / plane.ky)
        } else {
            widen(self.bbox, 360.0, 180.0)
        };
        let near = other.near(&window, plane);
        if near.is_empty() {
            return f64::INFINITY;
        }
        let mut best = f64::INFINITY;
        // A segment's start is mostly the end of the one before it: measured once.
        let mut last: Option<Coord<f64>> = None;
        for l in &near {
            for c in [l.start, l.end] {
                if last == Some(c) {
                    continue;
                }
                last = Some(c);
                if let Some(n) = self.tree.nearest_neighbor(&Point::from(c)) {
                    best = best.min(Euclidean.distance(&**n, &Point::from(c)));
                }
            }
        }
        let tree = RTree::bulk_load(near.into_iter().map(CachedEnvelope::new).collect());
        for &v in &self.vertices {
            if let Some(n) = tree.nearest_neighbor(&Point::from(v)) {
                best = best.min(Euclidean.distance(&**n, &Point::from(v)));
            }
        }
        best
    }
}

/// Lower bound of the distance between two boxes in a plane, metres.
fn box_gap_m(a: &Rect<f64>, b: &Rect<f64>, plane: Plane) -> f64 {
    let dx = (a.min().x - b.max().x).max(b.min().x - a.max().x).max(0.0) * plane.kx;
    let dy = (a.min().y - b.max().y).max(b.min().y - a.max().y).max(0.0) * plane.ky;
    dx.hypot(dy)
}

/// Island links: within each group of `groups` (prefectures), every part that is not
/// connected to the group's largest is linked to the nearest municipality outside it,
/// round after round until the group is connected. Returns the added links. Groups are
/// disjoint and their links stay inside them, so they are linked side by side.
fn island_links(
    municipalities: &[Municipality],
    outlines: &[Outline],
    links: &[Link],
    groups: &[Vec<usize>],
) -> Vec<Link> {
    let n = municipalities.len();
    let per_group: Vec<Vec<Link>> = groups
        .par_iter()
        .map(|group| {
            let mut inside = vec![false; n];
            for &m in group {
                inside[m] = true;
            }
            let mut all: Vec<Link> = links.iter().filter(|l| inside[l.a] && inside[l.b]).copied().collect();
            let mut added = Vec::new();
            loop {
                let parts = components(group, &all, n);
                if parts.len() <= 1 {
                    break;
                }
                // Each part but the largest links to its nearest municipality outside itself.
                let new: Vec<Link> = parts[1..]
                    .par_iter()
                    .map(|part| nearest_outside(municipalities, outlines, part, group))
                    .collect();
                let mut progress = false;
                for l in new {
                    if !all.iter().any(|x| x.a == l.a && x.b == l.b) {
                        all.push(l);
                        added.push(l);
                        progress = true;
                    }
                }
                if !progress {
                    break;
                }
            }
            added
        })
        .collect();
    let mut added: Vec<Link> = per_group.concat();
    added.sort_by_key(|l| (l.a, l.b));
    added.dedup_by(|x, y| x.a == y.a && x.b == y.b);
    added
}

/// The link from `part` to the nearest municipality of `group` outside it.
fn nearest_outside(municipalities: &[Municipality], outlines: &[Outline], part: &[usize], group: &[usize]) -> Link {
    let lat = {
        let b = municipalities[part[0]].bbox;
        0.5 * (b.min().y + b.max().y)
    };
    let plane = Plane::at(lat);
    // A part's shape is built only when a candidate of it is measured: most candidates are
    // ruled out by their boxes (a large part, such as a whole island region in the national
    // round, has hundreds of municipalities of which a few face the rest).
    let shapes: Vec<std::cell::OnceCell<Shape>> = part.iter().map(|_| std::cell::OnceCell::new()).collect();
    let shape =
        |k: usize| shapes[k].get_or_init(|| Shape::new(&outlines[part[k]], municipalities[part[k]].bbox, plane));
    let mut candidates: Vec<(f64, usize, usize)> = Vec::new();
    for (k, &a) in part.iter().enumerate() {
        for &b in group {
            if part.binary_search(&b).is_err() {
                candidates.push((box_gap_m(&municipalities[a].bbox, &municipalities[b].bbox, plane), k, b));
            }
        }
    }
    let order = |x: &(f64, usize, usize), y: &(f64, usize, usize)| {
        x.0.total_cmp(&y.0).then((part[x.1], x.2).cmp(&(part[y.1], y.2)))
    };
    // The candidates are measured in order of their lower bounds until a bound exceeds the
    // best distance, which after the first is at most that first's distance: only the
    // candidates whose bound is within it are sorted (a part of a whole island region
    // faces the nation's 1,900 municipalities with each of its hundreds). The first stays
    // whatever rounding did to its bound, and leads the sorted list.
    let first = candidates
        .iter()
        .min_by(|x, y| order(x, y))
        .map(|&(_, k, b)| (k, b, shape(k).distance(&outlines[b], plane, f64::INFINITY)));
    if let Some((k0, b0, d0)) = first {
        candidates.retain(|c| c.0.partial_cmp(&d0) != Some(std::cmp::Ordering::Greater) || (c.1, c.2) == (k0, b0));
    }
    candidates.sort_by(order);
    let mut best = (f64::INFINITY, usize::MAX, usize::MAX);
    for (i, &(lower, k, b)) in candidates.iter().enumerate() {
        if lower > best.0 {
            break;
        }
        let a = part[k];
        let d = match first {
            Some((_, _, d0)) if i == 0 => d0,
            _ => shape(k).distance(&outlines[b], plane, best.0),
        };
        if d < best.0 || (d == best.0 && (a.min(b), a.max(b)) < (best.1.min(best.2), best.1.max(best.2))) {
            best = (d, a, b);
        }
    }
    let (d, a, b) = best;
    Link {
        a: a.min(b),
        b: a.max(b),
        kind: LinkKind::IslandLink,
        shared_m: 0.0,
        gap_m: d,
    }
}

/// Contiguity plus island links: first within each prefecture, then across prefectures so
/// that the whole input is one connected graph.
pub fn adjacency(municipalities: &[Municipality], snap_m: f64) -> Adjacency {
    adjacency_with(municipalities, snap_m, None)
}

/// [`adjacency`] with the municipalities' point-in-polygon indexes already built (a
/// [`crate::demand::MunicipalityLocator`]'s), in their order.
pub fn adjacency_with(municipalities: &[Municipality], snap_m: f64, shapes: Option<&[PolygonIndex]>) -> Adjacency {
    let outlines: Vec<Outline> = municipalities.par_iter().map(|m| Outline::new(&m.geometry)).collect();
    let touching = contiguity(municipalities, &outlines, snap_m, shapes);
    let mut by_prefecture: std::collections::BTreeMap<&str, Vec<usize>> = Default::default();
    for (i, m) in municipalities.iter().enumerate() {
        by_prefecture.entry(m.prefecture.as_str()).or_default().push(i);
    }
    let groups: Vec<Vec<usize>> = by_prefecture.into_values().collect();
    let mut links = touching.clone();
    links.extend(island_links(municipalities, &outlines, &touching, &groups));
    let everyone: Vec<usize> = (0..municipalities.len()).collect();
    let more = island_links(municipalities, &outlines, &links, &[everyone]);
    links.extend(more);
    Adjacency::new(municipalities.len(), links)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::Polygon;
    use proptest::prelude::*;

    /// The nearest municipality outside `part` by measuring the candidates in the order of
    /// their lower bounds, all of them sorted (the search before only those within the
    /// first one's distance were): the reference for `nearest_outside`.
    fn nearest_by_sorting_all(
        municipalities: &[Municipality],
        outlines: &[Outline],
        part: &[usize],
        group: &[usize],
    ) -> Link {
        let b = municipalities[part[0]].bbox;
        let plane = Plane::at(0.5 * (b.min().y + b.max().y));
        let mut candidates: Vec<(f64, usize, usize)> = Vec::new();
        for (k, &a) in part.iter().enumerate() {
            for &b in group.iter().filter(|b| !part.contains(b)) {
                candidates.push((box_gap_m(&municipalities[a].bbox, &municipalities[b].bbox, plane), k, b));
            }
        }
        candidates.sort_by(|x, y| x.0.total_cmp(&y.0).then((part[x.1], x.2).cmp(&(part[y.1], y.2))));
        let mut best = (f64::INFINITY, usize::MAX, usize::MAX);
        for &(lower, k, b) in &candidates {
            if lower > best.0 {
                break;
            }
            let a = part[k];
            let shape = Shape::new(&outlines[a], municipalities[a].bbox, plane);
            let d = shape.distance(&outlines[b], plane, best.0);
            if d < best.0 || (d == best.0 && (a.min(b), a.max(b)) < (best.1.min(best.2), best.1.max(best.2))) {
                best = (d, a, b);
            }
        }
        Link {
            a: best.1.min(best.2),
            b: best.1.max(best.2),
            kind: LinkKind::IslandLink,
            shared_m: 0.0,
            gap_m: best.0,
        }
    }

    proptest! {
        /// The nearest municipality outside a part is the one the search over every
        /// candidate finds: squares of 100 to 300 m scattered over 4 km (overlapping,
        /// touching, at equal distances), parts of any of them.
        #[test]
        fn nearest_outside_is_the_full_searchs(
            squares in proptest::collection::vec((0i32..40, 0i32..40, 1i32..4), 3..12),
            take in proptest::collection::vec(any::<bool>(), 12),
        ) {
            let municipalities: Vec<Municipality> = squares
                .iter()
                .enumerate()
                .map(|(i, &(x, y, size))| {
                    let (x0, y0, d) = (139.0 + f64::from(x) * 1e-3, 35.0 + f64::from(y) * 1e-3, f64::from(size) * 1e-3);
                    let ring = LineString::from(vec![(x0, y0), (x0 + d, y0), (x0 + d, y0 + d), (x0, y0 + d), (x0, y0)]);
                    Municipality::numbered(i, MultiPolygon::new(vec![Polygon::new(ring, vec![])]))
                })
                .collect();
            let outlines: Vec<Outline> = municipalities.iter().map(|m| Outline::new(&m.geometry)).collect();
            let group: Vec<usize> = (0..municipalities.len()).collect();
            let part: Vec<usize> = group.iter().copied().filter(|&i| take[i]).collect();
            prop_assume!(!part.is_empty() && part.len() < group.len());
            let got = nearest_outside(&municipalities, &outlines, &part, &group);
            let want = nearest_by_sorting_all(&municipalities, &outlines, &part, &group);
            prop_assert_eq!((got.a, got.b, got.gap_m.to_bits()), (want.a, want.b, want.gap_m.to_bits()));
        }
    }

    proptest! {
        /// A shape's distance to another outline, without a limit, is the least distance
        /// between a vertex of one and a segment of the other, measured over every pair in
        /// the plane (star-shaped rings of 3 to 12 points, apart, touching or overlapping;
        /// a second ring sharing some of the first's points).
        #[test]
        fn shape_distance_is_the_least_vertex_to_segment(
            a in proptest::collection::vec((0.0f64..1.0, 0.2f64..1.0), 3..12),
            b in proptest::collection::vec((0.0f64..1.0, 0.2f64..1.0), 3..12),
            offset in (-3.0f64..3.0, -3.0f64..3.0),
            shared in 0usize..4,
        ) {
            let star = |points: &[(f64, f64)], cx: f64, cy: f64| {
                let mut around: Vec<(f64, f64)> = points.to_vec();
                around.sort_by(|p, q| p.0.total_cmp(&q.0));
                let mut ring: Vec<(f64, f64)> = around
                    .iter()
                    .enumerate()
                    .map(|(k, &(t, r))| {
                        let angle = (k as f64 + t) / around.len() as f64 * std::f64::consts::TAU;
                        (cx + 1e-3 * r * angle.cos(), cy + 1e-3 * r * angle.sin())
                    })
                    .collect();
                ring.push(ring[0]);
                ring
            };
            let ring_a = star(&a, 139.0, 35.0);
            let mut ring_b = star(&b, 139.0 + 1e-3 * offset.0, 35.0 + 1e-3 * offset.1);
            // Points of the first ring at the start of the second: a shared stretch.
            let n = ring_b.len();
            let k = shared.min(ring_a.len() - 1).min(n - 2);
            ring_b[..k].copy_from_slice(&ring_a[..k]);
            ring_b[n - 1] = ring_b[0];
            let geometry = |ring: Vec<(f64, f64)>| MultiPolygon::new(vec![Polygon::new(LineString::from(ring), vec![])]);
            let (ga, gb) = (geometry(ring_a), geometry(ring_b));
            let (oa, ob) = (Outline::new(&ga), Outline::new(&gb));
            let plane = Plane::at(35.0);
            let shape = Shape::new(&oa, ga.bounding_rect().unwrap(), plane);
            let got = shape.distance(&ob, plane, f64::INFINITY);
            let (la, lb) = (plane.lines(&oa.lines().collect::<Vec<_>>()), plane.lines(&ob.lines().collect::<Vec<_>>()));
            let least = |vertices: &[Line<f64>], segments: &[Line<f64>]| {
                vertices
                    .iter()
                    .flat_map(|v| [v.start, v.end])
                    .flat_map(|c| segments.iter().map(move |l| Euclidean.distance(l, &Point::from(c))))
                    .fold(f64::INFINITY, f64::min)
            };
            let want = least(&la, &lb).min(least(&lb, &la));
            prop_assert!((got - want).abs() <= 1e-9 * want.max(1.0), "got {got}, want {want}");
        }
    }

    fn segments(raw: &[(f64, f64, f64, f64)]) -> Vec<Line<f64>> {
        raw.iter()
            .map(|&(x, y, dx, dy)| Line::new(Coord { x, y }, Coord { x: x + dx, y: y + dy }))
            .collect()
    }

    /// The test without a square root leaves few answers to rstar: of 10,000 points
    /// around segments, all but those within rounding of the tolerance.
    #[test]
    fn distances_without_a_root_mostly_answer() {
        let (mut answered, mut left) = (0, 0);
        let mut state = 17u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        for _ in 0..10_000 {
            let line = Line::new(
                Coord {
                    x: next() * 100.0,
                    y: next() * 100.0,
                },
                Coord {
                    x: next() * 100.0,
                    y: next() * 100.0,
                },
            );
            let p = Point::new(next() * 120.0 - 10.0, next() * 120.0 - 10.0);
            match squared_distance_apart(&line, p, 25.0) {
                Some(_) => answered += 1,
                None => left += 1,
            }
        }
        assert!(left <= 2, "{left} left to rstar, {answered} answered");
        // A point exactly at the tolerance from a segment's end is left to rstar.
        let line = Line::new(Coord { x: 0.0, y: 0.0 }, Coord { x: 10.0, y: 0.0 });
        assert_eq!(squared_distance_apart(&line, Point::new(13.0, 4.0), 25.0), None);
        assert_eq!(squared_distance_apart(&line, Point::new(5.0, 4.0), 25.0), Some(true));
        assert_eq!(squared_distance_apart(&line, Point::new(5.0, 6.0), 25.0), Some(false));
        assert_eq!(squared_distance_apart(&line, Point::new(5.0, 4.0), 0.0), None);
    }

    proptest! {
        /// The test without a square root answers as rstar's wherever it answers: points
        /// anywhere, and points at the tolerance from a segment's end or from its middle
        /// (to within a few units in the last place, where it leaves the answer to rstar).
        #[test]
        fn distances_without_a_root_answer_as_rstar(
            x in -1000.0f64..1000.0, y in -1000.0f64..1000.0,
            dx in -300.0f64..300.0, dy in -300.0f64..300.0,
            t in -0.5f64..1.5, angle in 0.0f64..std::f64::consts::TAU,
            r in 0.0f64..50.0, scale in prop::sample::select(vec![0.0, 1.0, 1.0 - 1e-15, 1.0 + 1e-15, 0.5, 3.0]),
        ) {
            use rstar::PointDistance;
            let line = Line::new(Coord { x, y }, Coord { x: x + dx, y: y + dy });
            let on = Coord { x: x + t * dx, y: y + t * dy };
            let d = r * scale;
            let probes = [
                Point::new(on.x + d * angle.cos(), on.y + d * angle.sin()),
                Point::new(on.x - dy.signum() * d, on.y + dx.signum() * d),
                Point::from(line.end),
            ];
            for p in probes {
                let want = line.distance_2_if_less_or_equal(&p, r * r).is_some();
                if let Some(within) = squared_distance_apart(&line, p, r * r) {
                    prop_assert_eq!(within, want, "{:?} {:?} {}", line, p, r);
                }
            }
        }

        /// An outline's segments are its rings' lines in order (rings of every length, runs
        /// cut at ring ends), and those near a window are the ones whose boxes meet it, in
        /// the same order.
        #[test]
        fn outline_segments_are_the_rings_lines(
            sizes in proptest::collection::vec(prop::sample::select(vec![0usize, 1, 2, 3, 31, 32, 33, 34, 64, 65, 66, 100]), 1..5),
            seed in 0u64..1000,
            windows in proptest::collection::vec((-20.0f64..120.0, -20.0f64..120.0, 0.0f64..60.0, 0.0f64..60.0), 1..8),
        ) {
            let mut state = seed;
            let mut next = || {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                (state >> 11) as f64 / (1u64 << 53) as f64 * 100.0
            };
            let mut rings: Vec<LineString<f64>> = sizes
                .iter()
                .map(|&n| (0..n).map(|_| Coord { x: next(), y: next() }).collect::<Vec<_>>().into())
                .collect();
            let exterior = rings.remove(0);
            let mp = MultiPolygon::new(vec![Polygon::new(exterior, rings)]);
            let outline = Outline::new(&mp);
            let want: Vec<Line<f64>> = super::rings(&mp).flat_map(|r| r.lines()).collect();
            let got: Vec<Line<f64>> = outline.lines().collect();
            prop_assert_eq!(&got, &want);
            for &(x, y, w, h) in &windows {
                let window = Rect::new(Coord { x, y }, Coord { x: x + w, y: y + h });
                let near: Vec<Line<f64>> = want.iter().filter(|l| overlaps(&l.bounding_rect(), &window)).copied().collect();
                prop_assert_eq!(outline.near_raw(&window), near);
            }
        }

        /// The grid answers as an R-tree of the same segments does: within a distance of a
        /// point (rstar's `locate_within_distance`), and proper crossings among the segments
        /// whose boxes meet (rstar's `locate_in_envelope_intersecting`); short and long
        /// segments, points on and off them.
        #[test]
        fn grid_answers_as_the_rtree(
            raw in proptest::collection::vec((0.0f64..1000.0, 0.0f64..1000.0, -60.0f64..60.0, -60.0f64..60.0), 0..120),
            long in proptest::collection::vec((0.0f64..1000.0, 0.0f64..1000.0, -900.0f64..900.0, -900.0f64..900.0), 0..4),
            probes in proptest::collection::vec((-50.0f64..1050.0, -50.0f64..1050.0, 0.0f64..30.0), 1..40),
            others in proptest::collection::vec((0.0f64..1000.0, 0.0f64..1000.0, -80.0f64..80.0, -80.0f64..80.0), 1..20),
        ) {
            let mut lines = segments(&raw);
            lines.extend(segments(&long));
            let tree = RTree::bulk_load(lines.iter().copied().map(CachedEnvelope::new).collect());
            let grid = SegmentGrid::new(&lines);
            for &(x, y, r) in &probes {
                let p = Point::new(x, y);
                let want = tree.locate_within_distance(p, r * r).next().is_some();
                prop_assert_eq!(grid.any_within(p, r * r), want);
                // A vertex of a segment is at distance 0 from it.
                if let Some(l) = lines.first() {
                    prop_assert!(grid.any_within(Point::from(l.end), 0.0));
                }
            }
            for l in segments(&others) {
                let want = tree.locate_in_envelope_intersecting(&l.envelope()).any(|m| {
                    matches!(line_intersection(l, **m), Some(LineIntersection::SinglePoint { is_proper: true, .. }))
                });
                prop_assert_eq!(grid.any_crossing(&l), want);
            }
        }
    }
}
