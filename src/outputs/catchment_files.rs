//! The files of `zaitaku catchments` (SPEC.md, "Outputs of the other commands").

use crate::catchments::{AreaCheck, Catchments, Params};
use crate::coverage::Served;
use crate::error::Result;
use crate::outputs::geojson_out::{num, num_full, write_feature_collection, OutFeature, OutGeometry};
use crate::outputs::tables::write_csv;
use crate::outputs::{fmt_full, fmt_num, round, OutDir};
use crate::study::Study;
use geo::winding_order::WindingOrder;
use geo::{Area, MultiPolygon};
use i_overlay::core::fill_rule::FillRule;
use i_overlay::core::overlay_rule::OverlayRule;
use i_overlay::core::solver::Solver;
use i_overlay::float::overlay::{FloatOverlay, OverlayOptions};
use serde_json::{json, Map, Value};

/// Grid that outlines are snapped to before they are dissolved, degrees (about 1 cm):
/// neighbouring polygons whose shared vertices differ by float noise then union cleanly.
const SNAP_DEG: f64 = 1e-7;

/// Holes narrower than this after dissolving (mean width: twice the area over the
/// perimeter) are seams between members, not enclaves, degrees (about 1 m).
const SEAM_DEG: f64 = 1e-5;

/// Unions of up to this many segments are split by i_overlay's own choice (a plain list of
/// segments); larger ones by its fragment solver. The fragment solver cuts every segment at
/// the columns of a grid it lays over the union: on a few long segments (the real N03 file,
/// simplified: about 50 segments per union) that was almost all of the dissolving, and
/// the list gives the same outlines in a tenth of the time or less.
const LIST_SEGMENTS: usize = 4_000;

/// The dissolved outline of some municipalities, exterior rings counter-clockwise: members
/// snapped to a 1 cm grid, united, and seams left between them (holes under about 1 m
/// wide) removed.
///
/// The union is geo's `unary_union` (the same options, fill rule and conversions), called on
/// i_overlay directly for its fragment solver on large unions ([`LIST_SEGMENTS`]): on the
/// national synthetic outlines it finds the same crossings as the automatic choice (an
/// interval tree for most outlines) in 10-15 % less time, and the members' rings are snapped
/// straight into its paths.
pub fn dissolve(study: &Study, members: &[usize]) -> MultiPolygon<f64> {
    union_of(members.iter().map(|&m| &study.municipalities[m].geometry))
}

/// [`dissolve`] of the given outlines.
fn union_of<'a>(outlines: impl Iterator<Item = &'a MultiPolygon<f64>>) -> MultiPolygon<f64> {
    let snap = |c: &geo::Coord<f64>| {
        [
            nearest_whole(c.x / SNAP_DEG) * SNAP_DEG,
            nearest_whole(c.y / SNAP_DEG) * SNAP_DEG,
        ]
    };
    let mut winding: Option<WindingOrder> = None;
    let subject: Vec<Vec<[f64; 2]>> = outlines
        .flat_map(|g| g.0.iter())
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
        .map(|ring| {
            if winding.is_none() {
                let snapped: Vec<geo::Coord<f64>> = ring
                    .0
                    .iter()
                    .map(|c| {
                        let [x, y] = snap(c);
                        geo::Coord { x, y }
                    })
                    .collect();
                winding = winding_of(&snapped);
            }
            match ring.0.split_last() {
                Some((_, open)) => open.iter().map(snap).collect(),
                None => Vec::new(),
            }
        })
        .collect();
    let fill = if winding == Some(WindingOrder::CounterClockwise) {
        FillRule::Positive
    } else {
        FillRule::Negative
    };
    let segments: usize = subject.iter().map(Vec::len).sum();
    // Serial sorts: i_overlay's parallel sorts split their work by the machine's processors
    // (not the run's threads), and the unions already run side by side.
    let solver = Solver {
        multithreading: None,
        ..if segments > LIST_SEGMENTS {
            Solver::FRAG
        } else {
            Solver::AUTO
        }
    };
    let shapes =
        FloatOverlay::with_subj_custom(&subject, OverlayOptions::ogc(), solver).overlay(OverlayRule::Subject, fill);
    let united = MultiPolygon::new(
        shapes
            .into_iter()
            .map(|shape| {
                let mut rings = shape.into_iter().map(|path| {
                    let mut ring: geo::LineString<f64> = path.into_iter().map(|[x, y]| geo::Coord { x, y }).collect();
                    ring.close();
                    ring
                });
                let exterior = rings.next().unwrap_or_else(|| geo::LineString::new(vec![]));
                geo::Polygon::new(exterior, rings.collect())
            })
            .collect(),
    );
    let cleaned = united
        .0
        .into_iter()
        .map(|p| {
            let (mut exterior, holes) = p.into_inner();
            let mut holes: Vec<geo::LineString<f64>> = holes
                .into_iter()
                .filter(|h| {
                    let perimeter = h.lines().map(|l| l.dx().hypot(l.dy())).sum::<f64>();
                    let area = geo::Polygon::new(h.clone(), vec![]).unsigned_area();
                    perimeter > 0.0 && 2.0 * area / perimeter >= SEAM_DEG
                })
                .collect();
            // geo's `orient(Direction::Default)` (exteriors counter-clockwise, holes
            // clockwise) done in place, where it copies every ring.
            if winding_of(&exterior.0) == Some(WindingOrder::Clockwise) {
                exterior.0.reverse();
            }
            for hole in &mut holes {
                if winding_of(&hole.0) == Some(WindingOrder::CounterClockwise) {
                    hole.0.reverse();
                }
            }
            geo::Polygon::new(exterior, holes)
        })
        .collect::<Vec<_>>();
    MultiPolygon::new(cleaned)
}

/// `x.round()` (half away from zero), without the library call it compiles to on a
/// processor without a rounding instruction (a tenth of the dissolving outside i_overlay):
/// below 2^52 the integer part is exact in an `i64` and the fraction exact in the
/// difference; larger values, NaN and infinities are left to `round`.
fn nearest_whole(x: f64) -> f64 {
    const EXACT: f64 = 4_503_599_627_370_496.0; // 2^52
    if x.is_nan() || x.abs() >= EXACT {
        return x.round();
    }
    let whole = (x as i64) as f64;
    let fraction = x - whole;
    // `whole` keeps the sign of zero for -0.0 and for small negative values, as `round`.
    let rounded = if fraction >= 0.5 {
        whole + 1.0
    } else if fraction <= -0.5 {
        whole - 1.0
    } else {
        whole
    };
    rounded.copysign(x)
}

/// geo's `winding_order` of a ring: the same steps (fewer than four points or an open ring
/// have none; else its lexicographically least point, the nearest distinct points before
/// and after it, and their robust orientation), with the least point found by a plain
/// loop, where geo compares each point through a closure (about as long as the rest of the
/// dissolving outside i_overlay). For rings without NaN, which geo's search would not take.
fn winding_of(ring: &[geo::Coord<f64>]) -> Option<WindingOrder> {
    use geo::kernels::{Kernel, Orientation, RobustKernel};
    let n = ring.len();
    if n < 4 || ring[0] != ring[n - 1] {
        return None;
    }
    // The first of the least points, as `min_by` keeps.
    let mut i = 0;
    for (k, c) in ring.iter().enumerate().skip(1) {
        let least = ring[i];
        if c.x < least.x || (c.x == least.x && c.y < least.y) {
            i = k;
        }
    }
    let mut next = (i + 1) % n;
    while ring[next] == ring[i] {
        if next == i {
            return None;
        }
        next = (next + 1) % n;
    }
    let mut prev = if i == 0 { n - 1 } else { i - 1 };
    while ring[prev] == ring[i] {
        prev = if prev == 0 { n - 1 } else { prev - 1 };
    }
    match RobustKernel::orient2d(ring[prev], ring[i], ring[next]) {
        Orientation::CounterClockwise => Some(WindingOrder::CounterClockwise),
        Orientation::Clockwise => Some(WindingOrder::Clockwise),
        Orientation::Collinear => None,
    }
}

/// Share of the demand of `members` covered with every provider counted (the coverage
/// engine's answer, wherever the providers lie).
fn share_any(served: &Served, members: &[usize], f: usize) -> Option<f64> {
    let (d, c) = members.iter().fold((0.0, 0.0), |(d, c), &m| {
        let s = served.municipalities[m][f];
        (d + s.0, c + s.1)
    });
    (d > 0.0).then(|| c / d)
}

/// region_check.csv and catchment_check.csv: one row per area and function.
fn write_check(out: &mut OutDir, name: &str, study: &Study, served: &Served, areas: &[AreaCheck]) -> Result<()> {
    let rules = &study.rules;
    let role_cols: Vec<String> = rules.roles.iter().map(|r| format!("n_{}", r.id)).collect();
    let mut header: Vec<&str> = vec![
        "area_code",
        "area_name",
        "function",
        "municipalities",
        "demand",
        "covered_in_area",
        "share",
        "share_all_providers",
        "self_sufficient",
        "short_roles",
        "meets_floors",
        "failing",
    ];
    header.extend(role_cols.iter().map(String::as_str));
    let rows = areas.iter().flat_map(|a| {
        rules.functions.iter().enumerate().map(move |(f, func)| {
            let fc = &a.functions[f];
            let required: Vec<usize> = func.required_roles().collect();
            let mut row = vec![
                a.code.clone(),
                a.name.clone(),
                func.id.clone(),
                a.members.len().to_string(),
                fmt_full(Some(a.figures.demand)),
                fmt_full(Some(a.figures.covered[f])),
                fmt_num(fc.share, 6),
                fmt_num(share_any(served, &a.members, f), 6),
                fc.self_sufficient.to_string(),
                fc.short_roles
                    .iter()
                    .map(|&(r, _)| rules.roles[r].id.as_str())
                    .collect::<Vec<_>>()
                    .join(";"),
                a.failing.is_empty().to_string(),
                a.failing.join("; "),
            ];
            row.extend((0..rules.roles.len()).map(|r| {
                if required.contains(&r) {
                    a.figures.providers[r].to_string()
                } else {
                    String::new()
                }
            }));
            row
        })
    });
    write_csv(out, name, &header, rows)
}

/// A layer of dissolved areas with their figures per function.
fn write_area_layer(
    out: &mut OutDir,
    name: &str,
    study: &Study,
    areas: &[AreaCheck],
    outlines: Vec<MultiPolygon<f64>>,
    extra: impl Fn(usize, &mut Map<String, Value>) + Sync,
) -> Result<Vec<MultiPolygon<f64>>> {
    let features = areas
        .iter()
        .zip(&outlines)
        .enumerate()
        .map(|(k, (a, outline))| {
            let mut p = Map::new();
            p.insert("area_code".into(), Value::from(a.code.clone()));
            p.insert("area_name".into(), Value::from(a.name.clone()));
            p.insert("municipalities".into(), Value::from(a.members.len()));
            p.insert(
                "members".into(),
                Value::from(
                    a.members
                        .iter()
                        .map(|&m| study.municipalities[m].code.as_str())
                        .collect::<Vec<_>>()
                        .join(";"),
                ),
            );
            p.insert("demand".into(), num_full(Some(a.figures.demand)));
            for (f, func) in study.rules.functions.iter().enumerate() {
                p.insert(format!("{}_share", func.id), num(a.functions[f].share, 6));
                p.insert(
                    format!("{}_self_sufficient", func.id),
                    Value::from(a.functions[f].self_sufficient),
                );
            }
            p.insert("meets_floors".into(), Value::from(a.failing.is_empty()));
            p.insert("failing".into(), Value::from(a.failing.join("; ")));
            extra(k, &mut p);
            OutFeature {
                geometry: OutGeometry::MultiPolygon(outline),
                properties: p,
            }
        })
        .collect::<Vec<_>>();
    write_feature_collection(out, name, features)?;
    Ok(outlines)
}

/// The dissolved outline of every group of `groups`, largest first: each thread takes the
/// next group left, so that the longest unions start first and none runs alone at the end
/// (each outline depends on its group only, so the order changes nothing else).
fn dissolve_all(study: &Study, groups: &[&[usize]]) -> Vec<MultiPolygon<f64>> {
    let size = |g: &[usize]| -> usize {
        g.iter()
            .flat_map(|&m| study.municipalities[m].geometry.0.iter())
            .map(|p| p.exterior().0.len() + p.interiors().iter().map(|r| r.0.len()).sum::<usize>())
            .sum()
    };
    let mut order: Vec<(usize, usize)> = groups.iter().enumerate().map(|(k, g)| (size(g), k)).collect();
    order.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let order: Vec<usize> = order.into_iter().map(|(_, k)| k).collect();
    crate::tasks::in_order_of(&order, |k| dissolve(study, groups[k]))
}

/// The dissolved outlines of the catchments and of the regions, as written.
#[derive(Debug, Default)]
pub struct Outlines {
    pub catchments: Vec<MultiPolygon<f64>>,
    pub regions: Vec<MultiPolygon<f64>>,
}

/// Writes every file of `zaitaku catchments`; returns the outlines drawn.
pub fn write_catchments(
    out: &mut OutDir,
    study: &Study,
    served: &Served,
    result: &Catchments,
    params: &Params,
) -> Result<Outlines> {
    let mut outlines = Outlines::default();
    let munis = &study.municipalities;
    write_csv(
        out,
        "adjacency.csv",
        &["code_a", "code_b", "kind", "shared_m", "gap_m"],
        result.adjacency.links.iter().map(|l| {
            vec![
                munis[l.a].code.clone(),
                munis[l.b].code.clone(),
                l.kind.as_str().to_string(),
                fmt_num(Some(l.shared_m), 1),
                fmt_num(Some(l.gap_m), 1),
            ]
        }),
    )?;
    let region_code = |m: usize| {
        result.region_of[m]
            .map(|r| result.regions[r].code.clone())
            .unwrap_or_default()
    };
    let main_region = |k: usize| {
        result
            .comparison
            .as_ref()
            .and_then(|c| c.main_region[k])
            .map(|r| result.regions[r].code.clone())
            .unwrap_or_default()
    };
    let moved = |m: usize| {
        result
            .comparison
            .as_ref()
            .map(|c| c.moved.binary_search(&m).is_ok().to_string())
            .unwrap_or_default()
    };
    write_csv(
        out,
        "catchment_assignment.csv",
        &[
            "municipality_code",
            "catchment_id",
            "region_code",
            "municipality",
            "main_region",
            "moved",
        ],
        (0..munis.len()).map(|m| {
            let k = result.catchment_of[m];
            vec![
                munis[m].code.clone(),
                result.catchments[k].code.clone(),
                region_code(m),
                munis[m].name.clone(),
                main_region(k),
                moved(m),
            ]
        }),
    )?;
    write_check(out, "catchment_check.csv", study, served, &result.catchments)?;
    // Both layers' outlines at once, so that the largest unions of either start first.
    let groups: Vec<&[usize]> = result
        .catchments
        .iter()
        .chain(&result.regions)
        .map(|a| a.members.as_slice())
        .collect();
    let mut dissolved = dissolve_all(study, &groups);
    let region_outlines = dissolved.split_off(result.catchments.len());
    outlines.catchments = write_area_layer(
        out,
        "catchments.geojson",
        study,
        &result.catchments,
        dissolved,
        |k, p| {
            let mut spanned: Vec<String> = result.catchments[k]
                .members
                .iter()
                .map(|&m| region_code(m))
                .filter(|c| !c.is_empty())
                .collect();
            spanned.sort();
            spanned.dedup();
            p.insert("regions".into(), Value::from(spanned.join(";")));
            p.insert("main_region".into(), Value::from(main_region(k)));
            years_properties(result, |y| &y.catchments[k], p);
        },
    )?;
    if !result.regions.is_empty() {
        write_check(out, "region_check.csv", study, served, &result.regions)?;
        outlines.regions = write_area_layer(
            out,
            "regions.geojson",
            study,
            &result.regions,
            region_outlines,
            |k, p| {
                let mut spanned: Vec<String> = result.regions[k]
                    .members
                    .iter()
                    .map(|&m| result.catchments[result.catchment_of[m]].code.clone())
                    .collect();
                spanned.sort();
                spanned.dedup();
                p.insert("catchments".into(), Value::from(spanned.join(";")));
                years_properties(result, |y| &y.regions[k], p);
            },
        )?;
    }
    if !result.years.is_empty() {
        write_years(out, study, result)?;
    }
    let summary = summary_json(study, result, params);
    let bytes = serde_json::to_vec_pretty(&summary).map_err(|e| crate::error::Error::Internal(e.to_string()))?;
    out.write_bytes("catchments_summary.json", &bytes)?;
    Ok(outlines)
}

/// With a projection: the first year in which an area misses a floor, and every such year.
fn years_properties<'a>(
    result: &'a Catchments,
    area: impl Fn(&'a crate::catchments::YearCheck) -> &'a AreaCheck,
    p: &mut Map<String, Value>,
) {
    if result.years.is_empty() {
        return;
    }
    let failing: Vec<u16> = result
        .years
        .iter()
        .filter(|y| !area(y).failing.is_empty())
        .map(|y| y.year)
        .collect();
    p.insert("first_failing_year".into(), json!(failing.first()));
    p.insert(
        "failing_years".into(),
        Value::from(failing.iter().map(u16::to_string).collect::<Vec<_>>().join(";")),
    );
}

/// catchment_years.csv: both layouts, unchanged, in every year of the projection; one row
/// per layout, area, year and function.
fn write_years(out: &mut OutDir, study: &Study, result: &Catchments) -> Result<()> {
    let rules = &study.rules;
    let rows = ["catchment", "region"].into_iter().flat_map(|layout| {
        let count = if layout == "catchment" {
            result.catchments.len()
        } else {
            result.regions.len()
        };
        (0..count).flat_map(move |k| {
            result.years.iter().flat_map(move |y| {
                let a = if layout == "catchment" {
                    &y.catchments[k]
                } else {
                    &y.regions[k]
                };
                rules.functions.iter().enumerate().map(move |(f, func)| {
                    vec![
                        layout.to_string(),
                        a.code.clone(),
                        a.name.clone(),
                        y.year.to_string(),
                        func.id.clone(),
                        fmt_full(Some(a.figures.demand)),
                        fmt_full(Some(a.figures.covered[f])),
                        fmt_num(a.functions[f].share, 6),
                        a.functions[f].self_sufficient.to_string(),
                        a.failing.is_empty().to_string(),
                        a.failing.join("; "),
                    ]
                })
            })
        })
    });
    write_csv(
        out,
        "catchment_years.csv",
        &[
            "layout",
            "area_code",
            "area_name",
            "year",
            "function",
            "demand",
            "covered_in_area",
            "share",
            "self_sufficient",
            "meets_floors",
            "failing",
        ],
        rows,
    )
}

/// Per year of a projection, how many areas of each layout miss a floor.
pub fn failing_by_year(result: &Catchments) -> Vec<(u16, usize, usize)> {
    let failing = |areas: &[AreaCheck]| areas.iter().filter(|a| !a.failing.is_empty()).count();
    result
        .years
        .iter()
        .map(|y| (y.year, failing(&y.catchments), failing(&y.regions)))
        .collect()
}

/// Per function, how many areas are not self-sufficient.
fn failing_per_function(study: &Study, areas: &[AreaCheck]) -> Map<String, Value> {
    study
        .rules
        .functions
        .iter()
        .enumerate()
        .map(|(f, func)| {
            (
                func.id.clone(),
                json!(areas.iter().filter(|a| !a.functions[f].self_sufficient).count()),
            )
        })
        .collect()
}

/// catchments_summary.json: parameters, links, both layouts and their comparison.
pub fn summary_json(study: &Study, result: &Catchments, params: &Params) -> Value {
    use crate::catchments::adjacency::LinkKind;
    let adj = &result.adjacency;
    let layout = |areas: &[AreaCheck]| {
        json!({
            "areas": areas.len(),
            "meeting_floors": areas.iter().filter(|a| a.failing.is_empty()).count(),
            "not_self_sufficient_per_function": failing_per_function(study, areas),
        })
    };
    let units: Vec<Value> = result
        .units
        .iter()
        .map(|u| {
            json!({
                "unit": u.name,
                "municipalities": u.municipalities,
                "catchments": u.catchments,
                "upper_bound": u.upper_bound,
                "constructions": u.constructions,
                "exact": match u.exact {
                    Some(true) => "proven",
                    Some(false) => "not proven (budget)",
                    None => "not searched",
                },
                "failing": u.failing,
                "floors_left_out": u.dropped,
            })
        })
        .collect();
    let failing: Vec<Value> = result
        .catchments
        .iter()
        .filter(|c| !c.failing.is_empty())
        .map(|c| json!({"catchment_id": c.code, "failing": c.failing}))
        .collect();
    json!({
        "zaitaku_version": env!("CARGO_PKG_VERSION"),
        "command": "catchments",
        "inputs": study.files,
        "municipalities": study.municipalities.len(),
        "reach": match (&study.network, &study.od) {
            (Some((name, _)), _) => format!(
                "in-area service by road travel time on {name}: a place is served in-area when a provider located in the \
                 area is within the role's reach_min by road and its reach_km in a straight line; contiguity from the polygons"
            ),
            (None, Some((name, _))) => format!(
                "in-area service by the travel times of the OD matrix {name} (within reach_min, and reach_km in a straight \
                 line); contiguity from the polygons"
            ),
            (None, None) => "in-area service within each role's reach_km in a straight line; contiguity from the polygons".to_string(),
        },
        "parameters": {
            "min_providers": params.min_providers,
            "min_share": params.min_share,
            "min_demand": params.min_demand,
            "cross_prefecture": params.cross_prefecture,
            "seed": params.seed,
            "snap_m": params.snap_m,
            "iterations": params.iterations,
            "share": "in-area: demand covered by providers located inside the area, over the area's demand",
            "rules": study.rules_source,
        },
        "adjacency": {
            "rook": adj.count(LinkKind::Rook),
            "queen": adj.count(LinkKind::Queen),
            "island_link": adj.count(LinkKind::IslandLink),
            "isolated_before_links": (0..study.municipalities.len())
                .filter(|&m| adj.links.iter().all(|l| (l.a != m && l.b != m) || l.kind == LinkKind::IslandLink))
                .count(),
        },
        "functions_without_providers": result
            .absent_functions
            .iter()
            .map(|&f| study.rules.functions[f].id.clone())
            .collect::<Vec<_>>(),
        "regions": (!result.regions.is_empty()).then(|| layout(&result.regions)),
        "catchments": layout(&result.catchments),
        "units": units,
        "catchments_failing": failing,
        "comparison": result.comparison.as_ref().map(|c| json!({
            "adjusted_rand_index": round(c.adjusted_rand, 6),
            "moved_municipalities": c.moved.len(),
        })),
        "years": (!result.years.is_empty()).then(|| {
            failing_by_year(result)
                .into_iter()
                .map(|(y, c, r)| json!({"year": y, "catchments_failing": c, "regions_failing": r}))
                .collect::<Vec<_>>()
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::winding_order::Winding;
    use proptest::prelude::*;

    /// The rounding is `f64::round`, bit for bit: on halves and their neighbours, signed
    /// zeros, the edge of 2^52, infinities, NaN, snapped coordinates and random bit patterns.
    #[test]
    fn nearest_whole_is_std_round() {
        let mut values = vec![
            0.0,
            -0.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MAX,
            f64::MIN_POSITIVE,
        ];
        for k in -1000..1000 {
            let half = f64::from(k) + 0.5;
            values.extend([half, half.next_up(), half.next_down(), f64::from(k), f64::from(k) * 0.1]);
        }
        let edge = 4_503_599_627_370_496.0f64;
        for v in [
            edge,
            edge.next_down(),
            edge.next_up(),
            edge / 2.0 + 0.5,
            0.49999999999999994,
        ] {
            values.extend([v, -v]);
        }
        use rand_core::Rng;
        let mut rng = rand_pcg::Pcg64Mcg::new(7);
        for _ in 0..200_000 {
            let state = rng.next_u64();
            values.push(f64::from_bits(state));
            // Coordinates in degrees over the grid, as the dissolve rounds them.
            let degrees = 120.0 + 30.0 * (state >> 11) as f64 / (1u64 << 53) as f64;
            values.extend([degrees / SNAP_DEG, -degrees / SNAP_DEG]);
        }
        for v in values {
            assert_eq!(nearest_whole(v).to_bits(), v.round().to_bits(), "{v:e}");
        }
    }

    proptest! {
        /// The winding order is geo's, on rings of up to 12 points of a small grid: repeated
        /// points, collinear runs, spikes, open rings and rings of fewer than four points.
        #[test]
        fn winding_is_geos(points in prop::collection::vec((0i32..4, 0i32..4), 0..12), close in any::<bool>()) {
            let mut ring: Vec<geo::Coord<f64>> =
                points.iter().map(|&(x, y)| geo::Coord { x: f64::from(x), y: f64::from(y) }).collect();
            if close && !ring.is_empty() {
                ring.push(ring[0]);
            }
            let geos = geo::LineString::new(ring.clone()).winding_order();
            prop_assert_eq!(winding_of(&ring), geos);
        }
    }

    /// The square [x, x + 1] x [0, 1] (degrees), counter-clockwise, each side cut in `cuts`.
    fn square(x: f64, cuts: usize) -> MultiPolygon<f64> {
        let corners = [(x, 0.0), (x + 1.0, 0.0), (x + 1.0, 1.0), (x, 1.0)];
        let mut ring = Vec::new();
        for k in 0..4 {
            let (a, b) = (corners[k], corners[(k + 1) % 4]);
            for i in 0..cuts {
                let t = i as f64 / cuts as f64;
                ring.push(geo::Coord {
                    x: a.0 + t * (b.0 - a.0),
                    y: a.1 + t * (b.1 - a.1),
                });
            }
        }
        ring.push(ring[0]);
        MultiPolygon::new(vec![geo::Polygon::new(geo::LineString::new(ring), vec![])])
    }

    /// Outlines come out with exteriors counter-clockwise and holes clockwise, whichever way
    /// the members' rings turn (all the same way, as one boundary file draws them): a 3 x 3
    /// frame around a 1 x 1 hole next to a unit square, drawn both ways.
    #[test]
    fn outlines_turn_counter_clockwise_around_clockwise_holes() {
        let ring = |points: &[(f64, f64)]| geo::LineString::from(points.to_vec());
        let outer = [(0.0, -1.0), (3.0, -1.0), (3.0, 2.0), (0.0, 2.0), (0.0, -1.0)];
        let inner = [(1.0, 0.0), (2.0, 0.0), (2.0, 1.0), (1.0, 1.0), (1.0, 0.0)];
        let reversed = |points: &[(f64, f64)]| points.iter().rev().copied().collect::<Vec<_>>();
        for clockwise in [false, true] {
            let frame = if clockwise {
                geo::Polygon::new(ring(&reversed(&outer)), vec![ring(&inner)])
            } else {
                geo::Polygon::new(ring(&outer), vec![ring(&reversed(&inner))])
            };
            let frame = MultiPolygon::new(vec![frame]);
            let mut next = square(3.0, 4);
            if clockwise {
                next.0[0].exterior_mut(|r| r.0.reverse());
            }
            let united = union_of([&frame, &next].into_iter());
            assert_eq!(united.0.len(), 1, "clockwise {clockwise}");
            let polygon = &united.0[0];
            assert_eq!(polygon.exterior().winding_order(), Some(WindingOrder::CounterClockwise));
            assert_eq!(polygon.interiors().len(), 1);
            assert_eq!(polygon.interiors()[0].winding_order(), Some(WindingOrder::Clockwise));
            // 3 x 3 less the hole, and the square.
            assert!((polygon.unsigned_area() - 9.0).abs() < 1e-9, "clockwise {clockwise}");
        }
    }

    #[test]
    fn two_squares_side_by_side_unite_into_one_rectangle_by_either_solver() {
        // 2 x 4 x 4 segments go to the list; 2 x 4 x 600 (over LIST_SEGMENTS) to the
        // fragment solver. Either way: the rectangle [0, 2] x [0, 1], its shared side gone
        // and the cut points on its straight sides dropped (four corners).
        for cuts in [4, 600] {
            assert_eq!(2 * 4 * cuts > LIST_SEGMENTS, cuts == 600);
            let (a, b) = (square(0.0, cuts), square(1.0, cuts));
            let united = union_of([&a, &b].into_iter());
            assert_eq!(united.0.len(), 1, "cuts {cuts}");
            let polygon = &united.0[0];
            assert!(polygon.interiors().is_empty());
            assert!((polygon.unsigned_area() - 2.0).abs() < 1e-9, "cuts {cuts}");
            let mut corners: Vec<(f64, f64)> = polygon.exterior().0.iter().map(|c| (c.x, c.y)).collect();
            corners.pop();
            corners.sort_by(|p, q| p.partial_cmp(q).unwrap());
            assert_eq!(
                corners,
                vec![(0.0, 0.0), (0.0, 1.0), (2.0, 0.0), (2.0, 1.0)],
                "cuts {cuts}"
            );
        }
    }
}
