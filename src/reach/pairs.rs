//! Pairs within reach in travel-time mode: for a list of sources (a role's providers, or
//! candidate sites), every demand place each one reaches with its travel time, for the
//! analyses that need more than counts (accessibility, the in-area supply of catchments,
//! site suggestions).
//!
//! By road, sources and places are snapped as [`super::network`] snaps them (nearest node,
//! off-road legs at `offroad_kmh`, nothing beyond `snap_limit_m`), and one search bounded by
//! the limit runs from each road node holding sources, shared by the sources there. From an
//! OD matrix the pairs are its rows. Either way a pair counts only within both limits: the
//! role's `reach_min` and, in a straight line, its `reach_km`, as [`super::network`] counts
//! providers; so the number of pairs of a place equals its `in_reach` count.
//!
//! Each source's pairs are in place order; the output does not depend on the thread count.

use super::network::{at_nodes, leg, limit_tenths, targets_near, NodeTree, Reach, TILE};
use super::straight::within_m;
use super::straight::{dist2, to_xyz};
use crate::inputs::od_matrix::OdMatrix;
use crate::inputs::rules::NetworkRules;
use crate::network::ch::{Sweeper, LANES, MAX_LIMIT};
use crate::network::route::Search;
use crate::network::Graph;
use crate::study::Study;
use rayon::prelude::*;
use rstar::primitives::GeomWithData;
use rstar::RTree;
use std::collections::BTreeMap;

/// One source's (place, minutes) within reach, in place order.
pub type Pair = Vec<(u32, f64)>;

/// Per source: its [`Pair`] list.
pub type Pairs = Vec<Pair>;

/// Demand places on a road graph: where each joined it.
pub struct RoadPlaces<'g> {
    graph: &'g Graph,
    tree: NodeTree,
    /// With a hierarchy: the snapped places on the sphere, with their node.
    place_tree: Option<RTree<GeomWithData<[f64; 3], u32>>>,
    place_xyz: Vec<[f64; 3]>,
    places: Vec<(f64, f64)>,
    /// Places at each node (CSR over nodes).
    first: Vec<u32>,
    at_node: Vec<u32>,
    /// Off-road leg of each place, tenths of a second.
    leg: Vec<u32>,
    offroad_kmh: f64,
    snap_limit_m: f64,
}

impl<'g> RoadPlaces<'g> {
    /// Snaps the places to the graph.
    pub fn new(graph: &'g Graph, places: &[(f64, f64)], net: &NetworkRules) -> RoadPlaces<'g> {
        let tree = NodeTree::new(graph);
        let snaps = tree.snap(places);
        let (first, at_node) = at_nodes(graph.nodes(), &snaps, net.snap_limit_m);
        let place_xyz: Vec<[f64; 3]> = places.iter().map(|p| to_xyz(p.0, p.1)).collect();
        let place_tree = graph.hierarchy.as_ref().map(|_| {
            RTree::bulk_load(
                snaps
                    .iter()
                    .zip(&place_xyz)
                    .filter(|(s, _)| s.metres <= net.snap_limit_m)
                    .map(|(s, p)| GeomWithData::new(*p, s.node))
                    .collect(),
            )
        });
        RoadPlaces {
            graph,
            tree,
            place_tree,
            place_xyz,
            places: places.to_vec(),
            first,
            at_node,
            leg: snaps.iter().map(|s| leg(s.metres, net.offroad_kmh)).collect(),
            offroad_kmh: net.offroad_kmh,
            snap_limit_m: net.snap_limit_m,
        }
    }

    /// For each source (lon, lat): the places within `reach_min` by road (legs included) and
    /// within `reach_m` in a straight line, with minutes. A source beyond the snap limit
    /// reaches nothing.
    pub fn within(&self, sources: &[(f64, f64)], reach_min: f64, reach_m: f64) -> Pairs {
        let limit = limit_tenths(reach_min);
        let snaps = self.tree.snap(sources);
        let mut by_node: BTreeMap<u32, Vec<(usize, u32)>> = BTreeMap::new();
        for (k, s) in snaps.iter().enumerate() {
            if s.metres <= self.snap_limit_m {
                by_node
                    .entry(s.node)
                    .or_default()
                    .push((k, leg(s.metres, self.offroad_kmh)));
            }
        }
        let groups: Vec<(u32, Vec<(usize, u32)>)> = by_node.into_iter().collect();
        let reach = Reach::new(reach_m);
        let source_xyz: Vec<[f64; 3]> = sources.iter().map(|p| to_xyz(p.0, p.1)).collect();
        // The pairs of the sources at one node (reached at `t`, from the nearest of them)
        // with the places at node `v`.
        let pair = |lists: &mut [Vec<(u32, f64)>], members: &[(usize, u32)], min_leg: u32, v: u32, t: u32| {
            let here = &self.at_node[self.first[v as usize] as usize..self.first[v as usize + 1] as usize];
            for &i in here {
                for (list, &(k, own_leg)) in lists.iter_mut().zip(members) {
                    let total = t - min_leg + own_leg + self.leg[i as usize];
                    if total > limit {
                        continue;
                    }
                    let chord2 = dist2(&self.place_xyz[i as usize], &source_xyz[k]);
                    if reach.contains(chord2, self.places[i as usize], sources[k]) {
                        list.push((i, f64::from(total) / 600.0));
                    }
                }
            }
        };
        let min_leg = |members: &[(usize, u32)]| members.iter().map(|m| m.1).min().unwrap_or(0);
        let finish = |out: &mut Vec<(usize, Pair)>, lists: Vec<Vec<(u32, f64)>>, members: &[(usize, u32)]| {
            for (mut list, &(k, _)) in lists.into_iter().zip(members) {
                list.sort_unstable_by_key(|p| p.0);
                out.push((k, list));
            }
        };
        let chunk = groups.len().div_ceil(rayon::current_num_threads() * 8).max(1);
        let found: Vec<Vec<(usize, Pair)>> = groups
            .par_chunks(chunk)
            .map(|chunk| {
                let mut out = Vec::new();
                match (&self.graph.hierarchy, &self.place_tree) {
                    (Some(h), Some(tree)) if limit < MAX_LIMIT => {
                        let mut sweeper = Sweeper::new(h);
                        for tile in chunk.chunks(TILE) {
                            let targets = targets_near(
                                tree,
                                tile.iter().flat_map(|g| g.1.iter().map(|m| sources[m.0])),
                                reach_m,
                            );
                            sweeper.targets(h, &targets);
                            for batch in tile.chunks(LANES) {
                                let starts: Vec<(u32, u32)> =
                                    batch.iter().map(|(node, m)| (*node, min_leg(m))).collect();
                                let mut lists: Vec<Vec<Vec<(u32, f64)>>> =
                                    batch.iter().map(|(_, m)| vec![Vec::new(); m.len()]).collect();
                                sweeper.run(h, &starts, limit, |lane, v, t| {
                                    pair(&mut lists[lane], &batch[lane].1, starts[lane].1, v, t)
                                });
                                for (lists, (_, members)) in lists.into_iter().zip(batch) {
                                    finish(&mut out, lists, members);
                                }
                            }
                        }
                    }
                    _ => {
                        let mut search = Search::new(self.graph);
                        for (node, members) in chunk {
                            let min_leg = min_leg(members);
                            let mut lists: Vec<Vec<(u32, f64)>> = vec![Vec::new(); members.len()];
                            search.run_bounded(self.graph, &[(*node, min_leg)], limit, |v, t| {
                                pair(&mut lists, members, min_leg, v, t)
                            });
                            finish(&mut out, lists, members);
                        }
                    }
                }
                out
            })
            .collect();
        let mut pairs: Pairs = vec![Vec::new(); sources.len()];
        for (k, list) in found.into_iter().flatten() {
            pairs[k] = list;
        }
        pairs
    }
}

/// For institutions (indexes into the study's institutions): the places within `reach_min`
/// as the matrix lists them and within `reach_m` in a straight line.
pub fn od_within(od: &OdMatrix, study: &Study, institutions: &[usize], reach_min: f64, reach_m: f64) -> Pairs {
    let mut slot = vec![u32::MAX; study.institutions.len()];
    for (s, &k) in institutions.iter().enumerate() {
        slot[k] = s as u32;
    }
    let places = study.demand.places();
    let mut pairs: Pairs = vec![Vec::new(); institutions.len()];
    for (i, row) in od.to_place.iter().enumerate() {
        for &(k, minutes) in row {
            let s = slot[k as usize];
            if s == u32::MAX || minutes > reach_min {
                continue;
            }
            let inst = &study.institutions[k as usize];
            if within_m(places[i], (inst.lon, inst.lat), reach_m) {
                pairs[s as usize].push((i as u32, minutes));
            }
        }
    }
    pairs
}

/// How a study measures travel time, when it does.
pub enum Travel<'a> {
    Road(Box<RoadPlaces<'a>>),
    Od(&'a OdMatrix),
}

impl<'a> Travel<'a> {
    /// The study's travel-time model: its road graph (places snapped) or its OD matrix;
    /// `None` in straight-line mode.
    pub fn of(study: &'a Study) -> Option<Travel<'a>> {
        if let Some((_, od)) = &study.od {
            return Some(Travel::Od(od));
        }
        let (_, graph) = study.network.as_ref()?;
        Some(Travel::Road(Box::new(RoadPlaces::new(
            graph,
            &study.demand.places(),
            &study.rules.network,
        ))))
    }

    /// Pairs of the given institutions within `reach_min` and `reach_km`.
    pub fn institutions_within(&self, study: &Study, institutions: &[usize], reach_min: f64, reach_km: f64) -> Pairs {
        match self {
            Travel::Road(road) => {
                let points: Vec<(f64, f64)> = institutions
                    .iter()
                    .map(|&k| (study.institutions[k].lon, study.institutions[k].lat))
                    .collect();
                road.within(&points, reach_min, reach_km * 1000.0)
            }
            Travel::Od(od) => od_within(od, study, institutions, reach_min, reach_km * 1000.0),
        }
    }

    /// Pairs of arbitrary points (new sites); `None` from an OD matrix, which lists only
    /// the institutions it was computed for.
    pub fn points_within(&self, points: &[(f64, f64)], reach_min: f64, reach_km: f64) -> Option<Pairs> {
        match self {
            Travel::Road(road) => Some(road.within(points, reach_min, reach_km * 1000.0)),
            Travel::Od(_) => None,
        }
    }
}

/// Institutions that fill roles sharing both limits: per distinct (`reach_min`, `reach_km`)
/// of the rules, every institution `keep` accepts that fills a role with those limits, and
/// the roles it fills there (institutions and roles in order). Roles of one group can share
/// an institution's pairs.
pub type LimitGroup = ((f64, f64), Vec<(usize, Vec<usize>)>);

/// The study's [`LimitGroup`]s.
pub fn limit_groups(study: &Study, keep: impl Fn(usize) -> bool) -> Vec<LimitGroup> {
    let roles = &study.rules.roles;
    let limit = |r: usize| (roles[r].reach_min.unwrap_or(0.0), roles[r].reach_km);
    let mut limits: Vec<(f64, f64)> = (0..roles.len()).map(limit).collect();
    limits.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    limits.dedup();
    limits
        .into_iter()
        .map(|l| {
            let group: Vec<usize> = (0..roles.len()).filter(|&r| limit(r) == l).collect();
            let sources = (0..study.institutions.len())
                .filter(|&k| keep(k))
                .filter_map(|k| {
                    let fills: Vec<usize> = group
                        .iter()
                        .copied()
                        .filter(|&r| roles[r].matches(&study.institutions[k]))
                        .collect();
                    (!fills.is_empty()).then_some((k, fills))
                })
                .collect();
            (l, sources)
        })
        .collect()
}
