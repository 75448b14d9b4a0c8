//! Travel-time reach on a road [`Graph`].
//!
//! Every demand place and every institution is snapped to its nearest road node (an R-tree
//! of nodes on the sphere); the leg off the road costs its straight-line length at the rules'
//! `offroad_kmh`. A place or institution farther than `snap_limit_m` from every node is not
//! on the network: it is listed in [`Snapping`], a place counts as reached by nothing, an
//! institution serves nobody by road.
//!
//! Per role, one multi-source Dijkstra from all its providers gives every place the minutes
//! to the nearest; a search per provider, bounded by the role's `reach_min`, counts the
//! providers within reach. A provider counts only if it meets both limits: within
//! `reach_min` by road and within `reach_km` in a straight line (the 16 km fee rule and a
//! 30-minute response together). Times are whole tenths of a second, so counts are exact and
//! do not depend on the thread count.

use super::straight::{arc_from_chord, chord_from_arc, dist2, to_xyz, within_m};
use super::{ReachTable, ReachUnit, RoleReach};
use crate::error::{Error, Result};
use crate::inputs::institutions::Institution;
use crate::inputs::rules::Rules;
use crate::network::ch::{Sweeper, LANES, MAX_LIMIT};
use crate::network::route::{multi_source, Search, UNREACHED};
use crate::network::Graph;
use crate::progress::Progress;
use rayon::prelude::*;
use rstar::primitives::GeomWithData;
use rstar::RTree;

/// Where a point joins the road network.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Snap {
    pub node: u32,
    /// Straight-line distance to the node (great circle), metres.
    pub metres: f64,
}

/// The graph's nodes in an R-tree on the sphere, for snapping.
pub struct NodeTree(RTree<GeomWithData<[f64; 3], u32>>);

impl NodeTree {
    pub fn new(graph: &Graph) -> NodeTree {
        let nodes: Vec<GeomWithData<[f64; 3], u32>> = (0..graph.nodes())
            .into_par_iter()
            .map(|v| {
                let (lon, lat) = graph.coord(v);
                GeomWithData::new(to_xyz(lon, lat), v as u32)
            })
            .collect();
        NodeTree(RTree::bulk_load(nodes))
    }

    /// Snaps points (lon, lat) to their nearest graph node.
    pub fn snap(&self, points: &[(f64, f64)]) -> Vec<Snap> {
        points
            .par_iter()
            .map(|&(lon, lat)| {
                let p = to_xyz(lon, lat);
                match self.0.nearest_neighbor(&p) {
                    Some(n) => {
                        let g = n.geom();
                        let chord = ((g[0] - p[0]).powi(2) + (g[1] - p[1]).powi(2) + (g[2] - p[2]).powi(2)).sqrt();
                        Snap {
                            node: n.data,
                            metres: arc_from_chord(chord),
                        }
                    }
                    None => Snap {
                        node: u32::MAX,
                        metres: f64::INFINITY,
                    },
                }
            })
            .collect()
    }
}

/// How places and institutions joined the road network, and which could not.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapping {
    /// Demand places farther than the snap limit from every road node: (place, metres).
    pub unsnapped_places: Vec<(usize, f64)>,
    /// Institutions farther than the snap limit: (institution, metres).
    pub unsnapped_institutions: Vec<(usize, f64)>,
    /// Off-road legs of the places that did snap, metres: (mean, max).
    pub place_snap_m: (f64, f64),
}

/// A limit in minutes as whole tenths of a second: the most tenths not above it (a time of
/// whole tenths is within `minutes` exactly when it is within this), with a millionth of a
/// tenth for the rounding of the product.
pub(crate) fn limit_tenths(minutes: f64) -> u32 {
    (minutes * 600.0 + 1e-6).floor() as u32
}

/// Travel time of an off-road leg, tenths of a second.
pub(crate) fn leg(metres: f64, kmh: f64) -> u32 {
    (metres / (kmh / 3.6) * 10.0).round() as u32
}

/// The points snapped within `limit_m`, by node (CSR over `nodes` nodes): the points at node
/// `v` are `at_node[first[v]..first[v + 1]]`, in point order.
pub(crate) fn at_nodes(nodes: usize, snaps: &[Snap], limit_m: f64) -> (Vec<u32>, Vec<u32>) {
    let on = |s: &Snap| s.metres <= limit_m;
    let mut first = vec![0u32; nodes + 1];
    for s in snaps.iter().filter(|s| on(s)) {
        first[s.node as usize + 1] += 1;
    }
    for v in 0..nodes {
        first[v + 1] += first[v];
    }
    let mut fill = first.clone();
    let mut at_node = vec![0u32; first[nodes] as usize];
    for (i, s) in snaps.iter().enumerate().filter(|(_, s)| on(s)) {
        at_node[fill[s.node as usize] as usize] = i as u32;
        fill[s.node as usize] += 1;
    }
    (first, at_node)
}

/// A straight-line limit, decided as [`within_m`] decides it, with the chord on the sphere
/// settling the pairs far from the limit (the ellipsoid's distances are within 1 % of the
/// sphere's anywhere on Earth).
pub(crate) struct Reach {
    metres: f64,
    /// Squared chords below which a pair is surely within, above which surely not.
    inside2: f64,
    outside2: f64,
}

impl Reach {
    pub(crate) fn new(metres: f64) -> Reach {
        let inside = chord_from_arc(((metres - 1.0) / 1.01).max(0.0));
        let outside = chord_from_arc(metres / 0.99 + 1.0);
        Reach {
            metres,
            inside2: inside * inside,
            outside2: outside * outside,
        }
    }

    /// Whether `b` is within the limit of `a`, given their squared chord.
    pub(crate) fn contains(&self, chord2: f64, a: (f64, f64), b: (f64, f64)) -> bool {
        if chord2 < self.inside2 {
            true
        } else if chord2 > self.outside2 {
            false
        } else {
            within_m(a, b, self.metres)
        }
    }
}

/// Starts (road nodes holding sources) swept as one tile of targets.
pub(crate) const TILE: usize = 256;

/// The road nodes of the places (an R-tree of their points on the sphere, with their node)
/// within `reach_m` in a straight line of any of `points`, at least: every place within
/// reach is among them. Sorted, each once.
pub(crate) fn targets_near(
    tree: &RTree<GeomWithData<[f64; 3], u32>>,
    points: impl Iterator<Item = (f64, f64)>,
    reach_m: f64,
) -> Vec<u32> {
    let (mut lo, mut hi) = ([f64::INFINITY; 3], [f64::NEG_INFINITY; 3]);
    for (lon, lat) in points {
        let p = to_xyz(lon, lat);
        for k in 0..3 {
            lo[k] = lo[k].min(p[k]);
            hi[k] = hi[k].max(p[k]);
        }
    }
    if lo[0] > hi[0] {
        return Vec::new();
    }
    // The ellipsoid's distances are within 1 % of the sphere's anywhere on Earth; a point
    // within arc A of the box lies within chord(A) of it along every axis.
    let pad = chord_from_arc(reach_m / 0.99 + 50.0);
    let envelope = rstar::AABB::from_corners(
        [lo[0] - pad, lo[1] - pad, lo[2] - pad],
        [hi[0] + pad, hi[1] + pad, hi[2] + pad],
    );
    let mut nodes: Vec<u32> = tree.locate_in_envelope(&envelope).map(|p| p.data).collect();
    nodes.sort_unstable();
    nodes.dedup();
    nodes
}

/// Travel-time reach of every role at every place, and how the points joined the network.
pub fn network_reach(
    places: &[(f64, f64)],
    institutions: &[Institution],
    rules: &Rules,
    graph: &Graph,
    progress: Progress,
) -> Result<(ReachTable, Snapping)> {
    if let Some(role) = rules.roles.iter().find(|r| r.reach_min.is_none()) {
        return Err(Error::Usage(format!(
            "travel-time mode: role '{}' has no reach_min in the rules (every role needs one with --network)",
            role.id
        )));
    }
    let net = &rules.network;
    let limit = net.snap_limit_m;
    let place_xyz: Vec<[f64; 3]> = places.iter().map(|p| to_xyz(p.0, p.1)).collect();
    let inst_xyz: Vec<[f64; 3]> = institutions.iter().map(|i| to_xyz(i.lon, i.lat)).collect();
    let tree = NodeTree::new(graph);
    let place_snaps = tree.snap(places);
    let inst_points: Vec<(f64, f64)> = institutions.iter().map(|i| (i.lon, i.lat)).collect();
    let inst_snaps = tree.snap(&inst_points);
    drop(tree);
    let on = |s: &Snap| s.metres <= limit;
    let unsnapped_places: Vec<(usize, f64)> = place_snaps
        .iter()
        .enumerate()
        .filter(|(_, s)| !on(s))
        .map(|(i, s)| (i, s.metres))
        .collect();
    let unsnapped_institutions: Vec<(usize, f64)> = inst_snaps
        .iter()
        .enumerate()
        .filter(|(_, s)| !on(s))
        .map(|(i, s)| (i, s.metres))
        .collect();
    let snapped: Vec<f64> = place_snaps.iter().filter(|s| on(s)).map(|s| s.metres).collect();
    let place_snap_m = (
        snapped.iter().sum::<f64>() / snapped.len().max(1) as f64,
        snapped.iter().copied().fold(0.0, f64::max),
    );
    // Places at each node (CSR), with their off-road legs.
    let (first, at_node) = at_nodes(graph.nodes(), &place_snaps, limit);
    let place_leg: Vec<u32> = place_snaps.iter().map(|s| leg(s.metres, net.offroad_kmh)).collect();

    // The nearest provider of every role: one multi-source search per role, roles in parallel.
    let role_sources: Vec<Vec<(u32, u32)>> = rules
        .roles
        .iter()
        .map(|role| {
            institutions
                .iter()
                .enumerate()
                .filter(|(k, inst)| role.matches(inst) && on(&inst_snaps[*k]))
                .map(|(k, _)| (inst_snaps[k].node, leg(inst_snaps[k].metres, net.offroad_kmh)))
                .collect()
        })
        .collect();
    let spinner = progress.spinner("road reach");
    spinner.set_message("nearest provider of every role");
    let nearest: Vec<Vec<f64>> = role_sources
        .par_iter()
        .map(|sources| {
            let dist = match &graph.hierarchy {
                Some(h) => h.nearest(sources),
                None => multi_source(graph, sources),
            };
            place_snaps
                .iter()
                .zip(&place_leg)
                .map(|(s, &l)| {
                    if !on(s) || dist[s.node as usize] == UNREACHED {
                        f64::INFINITY
                    } else {
                        f64::from(dist[s.node as usize] + l) / 600.0
                    }
                })
                .collect()
        })
        .collect();
    spinner.finish_and_clear();

    // Providers within reach. Roles with the same reach_min share one bounded search per
    // road node holding providers (of any of them); at each node reached, each provider
    // there counts for the roles it fills whose limits it meets.
    let tenths: Vec<u32> = rules
        .roles
        .iter()
        .map(|r| limit_tenths(r.reach_min.unwrap_or(0.0)))
        .collect();
    let mut limits = tenths.clone();
    limits.sort_unstable();
    limits.dedup();
    let mut in_reach: Vec<Vec<u32>> = vec![Vec::new(); rules.roles.len()];
    let groups: Vec<(u32, Vec<usize>)> = limits
        .iter()
        .flat_map(|&l| {
            let roles: Vec<usize> = (0..rules.roles.len()).filter(|&r| tenths[r] == l).collect();
            // At most 64 roles share a mask.
            roles.chunks(64).map(|c| (l, c.to_vec())).collect::<Vec<_>>()
        })
        .collect();
    type Start = (u32, Vec<(usize, u32, u64)>);
    let starts_of = |group: &[usize]| -> Vec<Start> {
        let mut by_node: std::collections::BTreeMap<u32, Vec<(usize, u32, u64)>> = Default::default();
        for (k, inst) in institutions.iter().enumerate() {
            if !on(&inst_snaps[k]) {
                continue;
            }
            let mask = group
                .iter()
                .enumerate()
                .filter(|(_, &r)| rules.roles[r].matches(inst))
                .fold(0u64, |m, (g, _)| m | (1 << g));
            if mask != 0 {
                by_node.entry(inst_snaps[k].node).or_default().push((
                    k,
                    leg(inst_snaps[k].metres, net.offroad_kmh),
                    mask,
                ));
            }
        }
        by_node.into_iter().collect()
    };
    let all_starts: Vec<Vec<Start>> = groups.iter().map(|(_, g)| starts_of(g)).collect();
    let bar = progress.bar(all_starts.iter().map(|s| s.len() as u64).sum(), "road reach");
    // With a hierarchy, the snapped places by their road node, for choosing targets.
    let place_tree: Option<RTree<GeomWithData<[f64; 3], u32>>> = graph.hierarchy.as_ref().map(|_| {
        RTree::bulk_load(
            place_snaps
                .iter()
                .zip(places)
                .filter(|(s, _)| on(s))
                .map(|(s, p)| GeomWithData::new(to_xyz(p.0, p.1), s.node))
                .collect(),
        )
    });
    for ((limit, group), starts) in groups.iter().zip(&all_starts) {
        let limit = *limit;
        let reach_m: Vec<f64> = group.iter().map(|&r| rules.roles[r].reach_km * 1000.0).collect();
        let chunk = starts.len().div_ceil(rayon::current_num_threads() * 4).max(1);
        let reach: Vec<Reach> = reach_m.iter().map(|&r| Reach::new(r)).collect();
        // Counts the pairs of a start (its road node reached at `t`, legs included from
        // the nearest of its institutions) with the places at node `v`.
        let count = |counts: &mut Vec<Vec<u32>>, insts: &[(usize, u32, u64)], min_leg: u32, v: u32, t: u32| {
            for &i in &at_node[first[v as usize] as usize..first[v as usize + 1] as usize] {
                let i = i as usize;
                for &(k, own_leg, mask) in insts {
                    if t - min_leg + own_leg + place_leg[i] > limit {
                        continue;
                    }
                    let chord2 = dist2(&place_xyz[i], &inst_xyz[k]);
                    for (g, r) in reach.iter().enumerate() {
                        if mask >> g & 1 == 1 && r.contains(chord2, places[i], inst_points[k]) {
                            counts[g][i] += 1;
                        }
                    }
                }
            }
        };
        let min_leg = |insts: &[(usize, u32, u64)]| insts.iter().map(|x| x.1).min().unwrap_or(0);
        let counts = starts
            .par_chunks(chunk)
            .map(|chunk| {
                let mut counts = vec![vec![0u32; places.len()]; group.len()];
                match (&graph.hierarchy, &place_tree) {
                    (Some(h), Some(tree)) if limit < MAX_LIMIT => {
                        // Tiles of starts, consecutive along the nodes' Z-order: the places
                        // within the straight-line reach of the tile's institutions are the
                        // targets, and the starts run LANES at a time.
                        let mut sweeper = Sweeper::new(h);
                        let farthest = reach_m.iter().copied().fold(0.0, f64::max);
                        for tile in chunk.chunks(TILE) {
                            let targets = targets_near(
                                tree,
                                tile.iter().flat_map(|s| s.1.iter().map(|x| inst_points[x.0])),
                                farthest,
                            );
                            sweeper.targets(h, &targets);
                            for batch in tile.chunks(LANES) {
                                let sources: Vec<(u32, u32)> =
                                    batch.iter().map(|(node, insts)| (*node, min_leg(insts))).collect();
                                sweeper.run(h, &sources, limit, |lane, v, t| {
                                    count(&mut counts, &batch[lane].1, sources[lane].1, v, t)
                                });
                            }
                        }
                    }
                    _ => {
                        let mut search = Search::new(graph);
                        for (node, insts) in chunk {
                            let min_leg = min_leg(insts);
                            search.run_bounded(graph, &[(*node, min_leg)], limit, |v, t| {
                                count(&mut counts, insts, min_leg, v, t)
                            });
                        }
                    }
                }
                bar.inc(chunk.len() as u64);
                counts
            })
            .reduce(
                || vec![vec![0u32; places.len()]; group.len()],
                |mut a, b| {
                    for (x, y) in a.iter_mut().zip(b) {
                        for (p, q) in x.iter_mut().zip(y) {
                            *p += q;
                        }
                    }
                    a
                },
            );
        for (g, c) in group.iter().zip(counts) {
            in_reach[*g] = c;
        }
    }
    bar.finish_and_clear();
    let roles = nearest
        .into_iter()
        .zip(in_reach)
        .zip(&rules.roles)
        .map(|((nearest, in_reach), role)| RoleReach {
            nearest,
            in_reach,
            providers: institutions.iter().filter(|i| role.matches(i)).count(),
        })
        .collect();
    Ok((
        ReachTable {
            unit: ReachUnit::Minutes,
            roles,
        },
        Snapping {
            unsnapped_places,
            unsnapped_institutions,
            place_snap_m,
        },
    ))
}
