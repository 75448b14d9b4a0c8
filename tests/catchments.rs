//! Catchments: contiguity on hand-made polygons, and max-p against an exhaustive search on
//! grids small enough to enumerate every partition into connected groups.

use geo::{BoundingRect, LineString, MultiPolygon, Polygon};
use proptest::prelude::*;
use zaitaku::catchments::adjacency::{adjacency, adjacency_with, LinkKind};
use zaitaku::catchments::maxp::{self, Floors, Settings, Unit, UnitClass};
use zaitaku::inputs::municipalities::Municipality;

fn muni(code: &str, prefecture: &str, rings: Vec<Vec<(f64, f64)>>) -> Municipality {
    let geometry = MultiPolygon::new(
        rings
            .into_iter()
            .map(|r| Polygon::new(LineString::from(r), vec![]))
            .collect(),
    );
    let bbox = geometry.bounding_rect().unwrap();
    Municipality {
        code: code.into(),
        name: code.into(),
        prefecture: prefecture.into(),
        geometry,
        bbox,
    }
}

fn square(x: f64, y: f64, w: f64) -> Vec<(f64, f64)> {
    vec![(x, y), (x + w, y), (x + w, y + w), (x, y + w), (x, y)]
}

/// The links found, as code pairs and kinds; the same whether contiguity builds its
/// point-in-polygon indexes itself or takes a locator's (`m` not empty).
fn kinds(m: &[Municipality], snap_m: f64) -> Vec<(String, String, LinkKind)> {
    let named = |adj: zaitaku::catchments::adjacency::Adjacency| -> Vec<(String, String, LinkKind)> {
        adj.links
            .iter()
            .map(|l| (m[l.a].code.clone(), m[l.b].code.clone(), l.kind))
            .collect()
    };
    let own = named(adjacency(m, snap_m));
    let locator = zaitaku::demand::MunicipalityLocator::new(m);
    assert_eq!(named(adjacency_with(m, snap_m, Some(locator.shapes()))), own);
    // Indexes of other municipalities (one fewer) are not taken.
    let fewer = zaitaku::demand::MunicipalityLocator::new(&m[..m.len() - 1]);
    assert_eq!(named(adjacency_with(m, snap_m, Some(fewer.shapes()))), own);
    own
}

#[test]
fn grid_corners_are_queen_edges_rook() {
    // 3x3 squares of 0.1 degree, codes 1..9 row by row.
    let mut m = Vec::new();
    for r in 0..3 {
        for c in 0..3 {
            m.push(muni(
                &format!("{}", r * 3 + c + 1),
                "p",
                vec![square(138.0 + 0.1 * c as f64, 36.0 + 0.1 * r as f64, 0.1)],
            ));
        }
    }
    let links = kinds(&m, 1.0);
    let rook: Vec<_> = links.iter().filter(|l| l.2 == LinkKind::Rook).collect();
    let queen: Vec<(&str, &str)> = links
        .iter()
        .filter(|l| l.2 == LinkKind::Queen)
        .map(|l| (l.0.as_str(), l.1.as_str()))
        .collect();
    assert_eq!(rook.len(), 12, "{links:?}");
    assert_eq!(
        queen,
        vec![
            ("1", "5"),
            ("2", "4"),
            ("2", "6"),
            ("3", "5"),
            ("4", "8"),
            ("5", "7"),
            ("5", "9"),
            ("6", "8")
        ]
    );
    assert!(links.iter().all(|l| l.2 != LinkKind::IslandLink));
}

/// Metres per degree of longitude at lat 36 (WGS84 prime vertical): 90,163 m.
const LON_M: f64 = 90_163.0;

#[test]
fn borders_drawn_with_different_vertices_still_touch() {
    // A's east edge is one segment; B's west edge has three vertices, the middle one 0.3 m
    // off the line (and none at A's vertices' heights but the ends).
    let off = 0.3 / LON_M;
    let a = muni("A", "p", vec![square(138.0, 36.0, 0.1)]);
    let b = muni(
        "B",
        "p",
        vec![vec![
            (138.1, 36.0),
            (138.2, 36.0),
            (138.2, 36.1),
            (138.1, 36.1),
            (138.1 + off, 36.05),
            (138.1, 36.0),
        ]],
    );
    let m = vec![a.clone(), b.clone()];
    assert_eq!(kinds(&m, 1.0), vec![("A".into(), "B".into(), LinkKind::Rook)]);
    // A T-junction: A's east edge has an extra vertex B does not have.
    let a2 = muni(
        "A",
        "p",
        vec![vec![
            (138.0, 36.0),
            (138.1, 36.0),
            (138.1, 36.037),
            (138.1, 36.1),
            (138.0, 36.1),
            (138.0, 36.0),
        ]],
    );
    assert_eq!(
        kinds(&[a2, muni("B", "p", vec![square(138.1, 36.0, 0.1)])], 1.0)[0].2,
        LinkKind::Rook
    );
    // Whole border shifted 5 m apart: not touching at 1 m, so an island link bridges 5 m.
    let gap = 5.0 / LON_M;
    let b5 = muni("B", "p", vec![square(138.1 + gap, 36.0, 0.1)]);
    let adj = adjacency(&[a.clone(), b5.clone()], 1.0);
    assert_eq!(adj.links.len(), 1);
    assert_eq!(adj.links[0].kind, LinkKind::IslandLink);
    assert!((adj.links[0].gap_m - 5.0).abs() < 0.05, "{:?}", adj.links[0]);
    // ... and touching at 10 m tolerance.
    assert_eq!(kinds(&[a, b5], 10.0)[0].2, LinkKind::Rook);
}

#[test]
fn overlapping_and_nested_polygons_are_neighbours() {
    let a = muni("A", "p", vec![square(138.0, 36.0, 0.1)]);
    // Overlaps A by 0.01 degree.
    let b = muni("B", "p", vec![square(138.09, 36.0, 0.1)]);
    assert_eq!(kinds(&[a.clone(), b], 1.0)[0].2, LinkKind::Rook);
    // Lies inside A without touching its boundary.
    let c = muni("C", "p", vec![square(138.03, 36.03, 0.02)]);
    assert_eq!(kinds(&[a.clone(), c.clone()], 1.0)[0].2, LinkKind::Rook);
    // The same with the outer one second (its point-in-polygon index is the second one).
    assert_eq!(kinds(&[c, a], 1.0)[0].2, LinkKind::Rook);
}

#[test]
fn islands_link_to_the_nearest_municipality() {
    // Two mainland squares, an island 0.05 degree (4.5 km) east of the second, and a second
    // prefecture's square far north: the island links within its prefecture first, then
    // the prefectures are joined.
    let m = vec![
        muni("01", "p", vec![square(138.0, 36.0, 0.1)]),
        muni("02", "p", vec![square(138.1, 36.0, 0.1)]),
        muni("03", "p", vec![square(138.25, 36.02, 0.02)]),
        muni("04", "q", vec![square(138.0, 36.5, 0.1)]),
    ];
    let adj = adjacency(&m, 1.0);
    let links: Vec<(usize, usize, LinkKind)> = adj.links.iter().map(|l| (l.a, l.b, l.kind)).collect();
    assert_eq!(
        links,
        vec![
            (0, 1, LinkKind::Rook),
            (0, 3, LinkKind::IslandLink),
            (1, 2, LinkKind::IslandLink)
        ]
    );
    let island = adj.links.iter().find(|l| (l.a, l.b) == (1, 2)).unwrap();
    // 0.05 degree of longitude at lat 36.02-36.04 is 4,507 m on WGS84.
    assert!((island.gap_m - 0.05 * LON_M).abs() < 10.0, "{island:?}");
    let north = adj.links.iter().find(|l| (l.a, l.b) == (0, 3)).unwrap();
    // 0.4 degree of latitude at lat 36.3: 44,390 m (meridian arc).
    assert!((north.gap_m - 44_390.0).abs() < 100.0, "{north:?}");
}

// ---------------------------------------------------------------------------------------
// Max-p on small grids.

/// A `w` x `h` grid unit (rook links) with demand per area, `roles` provider counts per
/// area, and one class per area whose hosts for every role are the area itself and its
/// right-hand neighbour (providers reach one area east).
fn grid_unit(w: usize, h: usize, demand: &[f64], providers: &[u32], roles: usize, floors: Floors) -> Unit {
    let n = w * h;
    let mut neighbours = vec![Vec::new(); n];
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            if x + 1 < w {
                neighbours[i].push((i + 1) as u32);
                neighbours[i + 1].push(i as u32);
            }
            if y + 1 < h {
                neighbours[i].push((i + w) as u32);
                neighbours[i + w].push(i as u32);
            }
        }
    }
    for n in &mut neighbours {
        n.sort_unstable();
    }
    let mut classes = Vec::new();
    let mut hosts = Vec::new();
    for (i, &d) in demand.iter().enumerate() {
        let mut ranges = Vec::new();
        for r in 0..roles {
            let start = hosts.len() as u32;
            for h in [i, i + 1] {
                let same_row = h / w == i / w;
                if h < n && same_row && providers[h * roles + r] > 0 {
                    hosts.push(h as u32);
                }
            }
            ranges.push(start..hosts.len() as u32);
        }
        classes.push(UnitClass {
            area: i as u32,
            demand: d,
            roles: ranges,
        });
    }
    let dist = (0..n * n)
        .map(|k| {
            let (a, b) = (k / n, k % n);
            let (ax, ay, bx, by) = ((a % w) as f32, (a / w) as f32, (b % w) as f32, (b / w) as f32);
            ((ax - bx).powi(2) + (ay - by).powi(2)).sqrt()
        })
        .collect();
    Unit::new(
        neighbours,
        demand.to_vec(),
        roles,
        providers.to_vec(),
        classes,
        hosts,
        dist,
        floors,
    )
}

/// The largest number of connected groups that all meet their floors, by exhaustive search
/// (0 when no partition meets them).
fn best_count(unit: &Unit) -> usize {
    fn connected_sets(unit: &Unit, free: u32, start: u32) -> Vec<u32> {
        // Every connected subset of `free` containing `start`, as bit sets.
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut stack = vec![1u32 << start];
        while let Some(set) = stack.pop() {
            if !seen.insert(set) {
                continue;
            }
            out.push(set);
            for a in 0..unit.len() {
                if set & (1 << a) == 0 {
                    continue;
                }
                for &b in &unit.neighbours[a] {
                    if free & (1 << b) != 0 && set & (1 << b) == 0 {
                        stack.push(set | (1 << b));
                    }
                }
            }
        }
        out
    }
    fn go(unit: &Unit, free: u32, memo: &mut std::collections::HashMap<u32, Option<usize>>) -> Option<usize> {
        if free == 0 {
            return Some(0);
        }
        if let Some(&v) = memo.get(&free) {
            return v;
        }
        let start = free.trailing_zeros();
        let mut best = None;
        for set in connected_sets(unit, free, start) {
            let members: Vec<u32> = (0..unit.len() as u32).filter(|a| set & (1 << a) != 0).collect();
            if !unit.figures(&members).feasible(&unit.floors) {
                continue;
            }
            if let Some(rest) = go(unit, free & !set, memo) {
                best = best.max(Some(rest + 1));
            }
        }
        memo.insert(free, best);
        best
    }
    let all = (1u32 << unit.len()) - 1;
    go(unit, all, &mut Default::default()).unwrap_or(0)
}

fn groups_connected(unit: &Unit, labels: &[u32]) -> bool {
    let groups = labels.iter().max().map_or(0, |&m| m as usize + 1);
    (0..groups as u32).all(|g| {
        let members: Vec<usize> = (0..labels.len()).filter(|&a| labels[a] == g).collect();
        let mut seen = vec![members[0]];
        let mut stack = vec![members[0]];
        while let Some(a) = stack.pop() {
            for &b in &unit.neighbours[a] {
                let b = b as usize;
                if labels[b] == g && !seen.contains(&b) {
                    seen.push(b);
                    stack.push(b);
                }
            }
        }
        seen.len() == members.len()
    })
}

fn demand_floor(min_demand: f64) -> Floors {
    Floors {
        min_demand,
        min_providers: 0,
        provider_roles: 0,
        min_share: 0.0,
        share_functions: vec![],
    }
}

#[test]
fn maxp_finds_the_optimum_count_on_a_4x3_grid() {
    // Demand floor only (the classic max-p problem).
    let demand = [5.0, 3.0, 8.0, 2.0, 7.0, 1.0, 4.0, 6.0, 3.0, 5.0, 2.0, 9.0];
    let unit = grid_unit(4, 3, &demand, &[0; 12], 0, demand_floor(12.0));
    let best = best_count(&unit);
    let p = maxp::solve(&unit, &Settings::default());
    assert_eq!(best, 4, "exhaustive search");
    // Upper bound by hand: total demand 55 over the floor 12 = 4.58, so at most 4 groups.
    assert_eq!(p.upper_bound, 4);
    assert_eq!(p.groups, best);
    assert_eq!(p.failing, 0);
    assert!(groups_connected(&unit, &p.labels));
}

#[test]
fn maxp_with_provider_and_share_floors_finds_the_optimum() {
    // Two roles; a function needs both; providers reach their own area and the area to the
    // west of them (see grid_unit), so shares depend on which areas group together.
    let demand = [4.0, 6.0, 5.0, 3.0, 2.0, 7.0, 5.0, 4.0, 6.0, 3.0, 8.0, 2.0];
    #[rustfmt::skip]
    let providers = [
        1, 0,  0, 1,  1, 1,  0, 0,
        0, 1,  1, 0,  0, 0,  1, 1,
        1, 1,  0, 0,  1, 0,  0, 1,
    ];
    let floors = Floors {
        min_demand: 0.0,
        min_providers: 1,
        provider_roles: 0b11,
        min_share: 0.6,
        share_functions: vec![0b11],
    };
    let unit = grid_unit(4, 3, &demand, &providers, 2, floors);
    let best = best_count(&unit);
    let p = maxp::solve(&unit, &Settings::default());
    assert!(best >= 2, "the instance should allow a split: {best}");
    assert_eq!(p.groups, best);
    assert_eq!(p.failing, 0);
    assert!(groups_connected(&unit, &p.labels));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(60))]

    #[test]
    fn maxp_groups_are_connected_and_meet_floors_or_are_reported(
        demand in proptest::collection::vec(1u32..20, 12),
        providers in proptest::collection::vec(0u32..2, 24),
        floor in 5u32..40,
        seed in 0u64..1000,
    ) {
        let demand: Vec<f64> = demand.into_iter().map(f64::from).collect();
        let floors = Floors {
            min_demand: f64::from(floor),
            min_providers: 1,
            provider_roles: 0b11,
            min_share: 0.5,
            share_functions: vec![0b11],
        };
        let unit = grid_unit(4, 3, &demand, &providers, 2, floors);
        let p = maxp::solve(&unit, &Settings { seed, iterations: 30, ..Settings::default() });
        prop_assert_eq!(p.labels.len(), 12);
        prop_assert!(groups_connected(&unit, &p.labels));
        // Every group meets its floors, or the search says how many do not.
        let failing = (0..p.groups as u32)
            .filter(|&g| {
                let members: Vec<u32> = (0..12u32).filter(|&a| p.labels[a as usize] == g).collect();
                !unit.figures(&members).feasible(&unit.floors)
            })
            .count();
        prop_assert_eq!(failing, p.failing);
        // A failing group only when no partition meets the floors, and then just one.
        let whole: Vec<u32> = (0..12).collect();
        if unit.figures(&whole).feasible(&unit.floors) {
            prop_assert_eq!(p.failing, 0);
        } else {
            prop_assert_eq!(p.groups, 1);
        }
    }
}

/// A random 3x3 (even `k`) or 4x3 grid with demand, two provider roles and demand, provider
/// and share floors.
fn random_grid(k: usize, state: &mut u64) -> Unit {
    let w = if k.is_multiple_of(2) { 3 } else { 4 };
    random_grid_of(w, 3, 1, state)
}

/// A random `w` x `h` grid as [`random_grid`]'s, with a provider floor of `min_providers`.
fn random_grid_of(w: usize, h: usize, min_providers: u32, state: &mut u64) -> Unit {
    let demand: Vec<f64> = (0..w * h).map(|_| (1 + lcg(state) % 19) as f64).collect();
    let providers: Vec<u32> = (0..w * h * 2)
        .map(|_| (lcg(state) % (1 + min_providers as u64)) as u32)
        .collect();
    let floors = Floors {
        min_demand: (5 + lcg(state) % 35) as f64,
        min_providers,
        provider_roles: 0b11,
        min_share: 0.5,
        share_functions: vec![0b11],
    };
    grid_unit(w, h, &demand, &providers, 2, floors)
}

/// A small deterministic generator for the instances below.
fn lcg(state: &mut u64) -> u64 {
    *state = state
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    *state >> 33
}

#[test]
fn maxp_reaches_the_optimum_on_most_random_grids_and_never_beats_it() {
    // 300 random 3x3 and 4x3 instances with demand, provider and share floors: the heuristic's count
    // never exceeds the exhaustive optimum (that would be a bug) and equals it on nearly all.
    let mut state = 42u64;
    let (mut hits, mut total, mut tight) = (0, 0, 0);
    for k in 0..300 {
        let unit = random_grid(k, &mut state);
        let best = best_count(&unit);
        if best == 0 {
            continue;
        }
        let p = maxp::solve(&unit, &Settings::default());
        assert!(p.groups <= best, "more groups than the optimum: {p:?} vs {best}");
        assert_eq!(p.failing, 0);
        // The upper bound from the floors holds against the exhaustive optimum.
        assert!(
            best <= p.upper_bound,
            "optimum {best} above the bound {}",
            p.upper_bound
        );
        assert_eq!(p.upper_bound, unit.upper_bound());
        tight += usize::from(best == p.upper_bound);
        total += 1;
        hits += usize::from(p.groups == best);
    }
    eprintln!("upper bound equal to the optimum on {tight} of {total} instances");
    assert!(total > 100, "{total} feasible instances");
    assert!(hits * 100 >= total * 97, "optimum reached on {hits} of {total}");
    eprintln!("optimum reached on {hits} of {total} instances");
}

#[test]
fn exact_search_equals_the_exhaustive_optimum_on_small_grids() {
    // 200 random 3x3 and 4x3 instances with demand, provider and share floors: the branch and
    // bound, started from nothing and from the heuristic's count, finishes and gives the
    // exhaustive optimum; it never claims more than the upper bound.
    use zaitaku::catchments::exact::{maximum, Exact};
    let mut state = 7u64;
    let mut improved_or_confirmed = 0;
    for k in 0..200 {
        let unit = random_grid(k, &mut state);
        let best = best_count(&unit);
        match maximum(&unit, 0, 10_000_000) {
            Exact::Optimal { groups, labels } => {
                assert_eq!(groups, best, "instance {k}");
                assert!(groups <= unit.upper_bound(), "instance {k}");
                if let Some(labels) = labels {
                    assert!(groups_connected(&unit, &labels), "instance {k}");
                    for g in 0..groups as u32 {
                        let members: Vec<u32> = (0..labels.len() as u32).filter(|&a| labels[a as usize] == g).collect();
                        assert!(unit.figures(&members).feasible(&unit.floors), "instance {k}, group {g}");
                    }
                }
            }
            Exact::Unknown => panic!("instance {k}: the search did not finish"),
        }
        // From the heuristic's count it only looks for more, and confirms the optimum.
        let p = maxp::solve(&unit, &Settings::default());
        if p.failing == 0 {
            match maximum(&unit, p.groups, 10_000_000) {
                Exact::Optimal { groups, .. } => assert_eq!(groups, best, "instance {k}"),
                Exact::Unknown => panic!("instance {k}: the search did not finish"),
            }
            improved_or_confirmed += 1;
        }
    }
    assert!(improved_or_confirmed > 60, "{improved_or_confirmed} feasible instances");
}

#[test]
fn exact_search_equals_the_exhaustive_optimum_on_4x4_grids() {
    // 60 random 4x4 instances (16 areas), provider floors of 1 and 2: from the heuristic's
    // count minus one (so it must find a layout) the search gives the exhaustive optimum, and
    // the layout it returns is connected and meets every floor.
    use zaitaku::catchments::exact::{maximum, Exact};
    let mut state = 11u64;
    let mut found = 0;
    for k in 0..60 {
        let unit = random_grid_of(4, 4, 1 + (k % 2) as u32, &mut state);
        let best = best_count(&unit);
        if best == 0 {
            assert_eq!(
                maximum(&unit, 0, 10_000_000),
                Exact::Optimal {
                    groups: 0,
                    labels: None
                }
            );
            continue;
        }
        match maximum(&unit, best - 1, 10_000_000) {
            Exact::Optimal {
                groups,
                labels: Some(labels),
            } => {
                assert_eq!(groups, best, "instance {k}");
                assert!(groups_connected(&unit, &labels), "instance {k}");
                for g in 0..groups as u32 {
                    let members: Vec<u32> = (0..16).filter(|&a| labels[a as usize] == g).collect();
                    assert!(unit.figures(&members).feasible(&unit.floors), "instance {k}, group {g}");
                }
                found += 1;
            }
            other => panic!("instance {k}: {other:?}, optimum {best}"),
        }
        // Started at the optimum, it proves it and finds nothing more.
        assert_eq!(
            maximum(&unit, best, 10_000_000),
            Exact::Optimal {
                groups: best,
                labels: None
            },
            "instance {k}"
        );
    }
    assert!(found > 30, "{found} feasible instances");
}

#[test]
fn set_bound_equals_the_bound_of_the_same_areas() {
    // The bit-set bound the exact search uses is `Unit::bound_of` on 500 random subsets of
    // random 4x4 grids (floors with demand, providers and shares).
    use zaitaku::catchments::exact::SetBound;
    let mut state = 3u64;
    for k in 0..50 {
        let unit = random_grid_of(4, 4, 1 + (k % 3) as u32, &mut state);
        let fast = SetBound::new(&unit);
        for _ in 0..10 {
            let set = lcg(&mut state) & 0xffff;
            assert_eq!(
                fast.of(set),
                unit.bound_of(|a| set & (1 << a) != 0),
                "instance {k}, set {set:#x}"
            );
        }
        assert_eq!(fast.of(0xffff).max(1), unit.upper_bound());
    }
}

/// What the catchments command finds in a straight line by presence alone (no counts, no
/// nearest) equals what the report hands it from the full reach table and coverage.
#[test]
fn presence_serves_catchments_as_full_reach_does() {
    use zaitaku::coverage::{compute, Served};
    use zaitaku::progress::Progress;
    use zaitaku::reach::straight::{straight_line_presence, straight_line_reach};
    let study = zaitaku::study::load(&zaitaku::demo::sources(), Progress::Quiet).unwrap();
    let places = study.demand.places();
    let reach = straight_line_reach(&places, &study.institutions, &study.rules, Progress::Quiet);
    let cov = compute(&study.demand, &study.municipalities, &study.rules, &reach);
    let full = Served::of(&reach, &cov);
    let present = straight_line_presence(&places, &study.institutions, &study.rules, Progress::Quiet);
    let by_presence = Served::from_presence(&study.demand, study.municipalities.len(), &study.rules, present);
    // Some places lack some role and some have all, so the comparison can fail both ways.
    let all: Vec<bool> = full.present.iter().flatten().copied().collect();
    assert!(all.contains(&true) && all.contains(&false));
    assert_eq!(by_presence, full);
}
