//! Per-function coverage: which demand is within reach of every required role, and how far
//! the farthest of those roles is.
//!
//! At a place, a role is covered when at least one matching provider is within the role's
//! reach; a function is covered when all its required roles are. The distance of a place for
//! a function is its farthest required role's nearest provider. Aggregates are weighted by
//! demand; the 90th percentile is the smallest distance below which at least 90 % of the
//! demand lies.

use crate::demand::Demand;
use crate::inputs::municipalities::Municipality;
use crate::inputs::rules::Rules;
use crate::reach::ReachTable;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::ops::Range;

/// Coverage of one function at every demand place.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionCells {
    pub covered: Vec<bool>,
    /// Farthest required role's nearest provider (reach unit); infinite when a required role
    /// has no provider.
    pub distance: Vec<f64>,
}

/// Demand-weighted figures for one area and one function or role.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Stats {
    pub demand: f64,
    pub covered: f64,
    /// Covered / demand; `None` when the area has no demand.
    pub share: Option<f64>,
    /// Demand-weighted mean distance; `None` without demand or when some demand has no
    /// provider at all.
    pub mean: Option<f64>,
    /// Demand-weighted 90th percentile distance.
    pub p90: Option<f64>,
    /// Largest distance of a place with demand.
    pub max: Option<f64>,
    /// Demand-weighted mean number of providers within reach (roles only).
    pub providers_mean: Option<f64>,
}

impl Stats {
    pub fn uncovered(&self) -> f64 {
        self.demand - self.covered
    }

    /// Figures over places given as (demand, covered, distance, providers in reach).
    pub fn over(places: impl Iterator<Item = (f64, bool, f64, f64)>) -> Stats {
        let mut demand = 0.0;
        let mut covered = 0.0;
        let mut weighted = 0.0;
        let mut providers = 0.0;
        let mut max = f64::NEG_INFINITY;
        let mut dist: Vec<(f64, f64)> = Vec::new();
        for (w, is_covered, d, n) in places {
            if w <= 0.0 {
                continue;
            }
            demand += w;
            if is_covered {
                covered += w;
            }
            weighted += w * d;
            providers += w * n;
            max = max.max(d);
            dist.push((d, w));
        }
        if demand <= 0.0 {
            return Stats::default();
        }
        dist.sort_by(|a, b| a.0.total_cmp(&b.0));
        let target = 0.9 * demand;
        let mut cumulative = 0.0;
        let mut p90 = f64::INFINITY;
        for (d, w) in &dist {
            cumulative += w;
            if cumulative >= target - 1e-9 * demand {
                p90 = *d;
                break;
            }
        }
        let finite = |x: f64| x.is_finite().then_some(x);
        Stats {
            demand,
            covered,
            share: Some((covered / demand).clamp(0.0, 1.0)),
            mean: finite(weighted / demand),
            p90: finite(p90),
            max: finite(max),
            providers_mean: Some(providers / demand),
        }
    }
}

/// Everything coverage computes.
#[derive(Debug, Clone, PartialEq)]
pub struct Coverage {
    /// Per function (rules order), per place.
    pub functions: Vec<FunctionCells>,
    /// Per municipality, per function.
    pub municipalities: Vec<Vec<Stats>>,
    /// Per municipality, per function, per role of the function (rules order).
    pub roles: Vec<Vec<Vec<Stats>>>,
    /// Per prefecture name, per function.
    pub prefectures: BTreeMap<String, Vec<Stats>>,
    /// The whole input, per function.
    pub total: Vec<Stats>,
}

/// Computes coverage from reach. Places must be sorted by municipality (as [`Demand`] is).
pub fn compute(demand: &Demand, municipalities: &[Municipality], rules: &Rules, reach: &ReachTable) -> Coverage {
    let n = demand.cells.len();
    let functions: Vec<FunctionCells> = rules
        .functions
        .iter()
        .map(|f| {
            let required: Vec<usize> = f.required_roles().collect();
            let (covered, distance) = (0..n)
                .into_par_iter()
                .map(|i| {
                    let covered = required.iter().all(|&r| reach.roles[r].in_reach[i] > 0);
                    let distance = required
                        .iter()
                        .map(|&r| reach.roles[r].nearest[i])
                        .fold(f64::NEG_INFINITY, f64::max);
                    (covered, distance)
                })
                .unzip();
            FunctionCells { covered, distance }
        })
        .collect();

    let ranges = municipality_ranges(demand, municipalities.len());
    let cells = &demand.cells;
    let function_stats = |range: Range<usize>| -> Vec<Stats> {
        functions
            .iter()
            .map(|fc| {
                Stats::over(
                    range
                        .clone()
                        .map(|i| (cells[i].demand, fc.covered[i], fc.distance[i], 0.0)),
                )
            })
            .map(|s| Stats {
                providers_mean: None,
                ..s
            })
            .collect()
    };
    let municipality_stats: Vec<Vec<Stats>> = ranges.par_iter().map(|r| function_stats(r.clone())).collect();
    let role_stats: Vec<Vec<Vec<Stats>>> = ranges
        .par_iter()
        .map(|range| {
            rules
                .functions
                .iter()
                .map(|f| {
                    f.roles
                        .iter()
                        .map(|u| {
                            let rr = &reach.roles[u.role];
                            Stats::over(range.clone().map(|i| {
                                (
                                    cells[i].demand,
                                    rr.in_reach[i] > 0,
                                    rr.nearest[i],
                                    f64::from(rr.in_reach[i]),
                                )
                            }))
                        })
                        .collect()
                })
                .collect()
        })
        .collect();

    // Prefectures and the whole input: over all their places, in place order.
    let mut by_prefecture: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (m, muni) in municipalities.iter().enumerate() {
        by_prefecture.entry(muni.prefecture.clone()).or_default().push(m);
    }
    let prefectures = by_prefecture
        .into_iter()
        .map(|(name, ms)| {
            let stats = functions
                .iter()
                .map(|fc| {
                    let places = ms.iter().flat_map(|&m| ranges[m].clone());
                    let s = Stats::over(places.map(|i| (cells[i].demand, fc.covered[i], fc.distance[i], 0.0)));
                    Stats {
                        providers_mean: None,
                        ..s
                    }
                })
                .collect();
            (name, stats)
        })
        .collect();
    let total = function_stats(0..n);

    Coverage {
        functions,
        municipalities: municipality_stats,
        roles: role_stats,
        prefectures,
        total,
    }
}

/// What catchments take of reach and coverage: per role and place whether a provider of
/// the role is within reach, and per municipality and function the demand and the demand
/// covered, summed as [`Coverage::municipalities`] sums them.
#[derive(Debug, Clone, PartialEq)]
pub struct Served {
    /// Per role (rules order), per place.
    pub present: Vec<Vec<bool>>,
    /// Per municipality, per function: (demand, covered).
    pub municipalities: Vec<Vec<(f64, f64)>>,
}

impl Served {
    /// From a measured reach table and its coverage.
    pub fn of(reach: &ReachTable, coverage: &Coverage) -> Served {
        Served {
            present: reach
                .roles
                .iter()
                .map(|r| r.in_reach.iter().map(|&n| n > 0).collect())
                .collect(),
            municipalities: coverage
                .municipalities
                .iter()
                .map(|m| m.iter().map(|s| (s.demand, s.covered)).collect())
                .collect(),
        }
    }

    /// From presence alone (`present[r][i]`): a place is covered for a function when every
    /// required role is present, and sums over places with demand run in place order, as
    /// [`Stats::over`] adds them.
    pub fn from_presence(demand: &Demand, municipalities: usize, rules: &Rules, present: Vec<Vec<bool>>) -> Served {
        let required: Vec<Vec<usize>> = rules.functions.iter().map(|f| f.required_roles().collect()).collect();
        let cells = &demand.cells;
        let sums = municipality_ranges(demand, municipalities)
            .into_par_iter()
            .map(|range| {
                required
                    .iter()
                    .map(|roles| {
                        let (mut d, mut c) = (0.0, 0.0);
                        for i in range.clone() {
                            let w = cells[i].demand;
                            if w <= 0.0 {
                                continue;
                            }
                            d += w;
                            if roles.iter().all(|&r| present[r][i]) {
                                c += w;
                            }
                        }
                        (d, c)
                    })
                    .collect()
            })
            .collect();
        Served {
            present,
            municipalities: sums,
        }
    }
}

/// The range of places of each municipality (empty for one without places).
pub fn municipality_ranges(demand: &Demand, count: usize) -> Vec<Range<usize>> {
    let mut ranges = vec![0..0; count];
    let cells = &demand.cells;
    let mut start = 0;
    while start < cells.len() {
        let m = cells[start].municipality;
        let end = start + cells[start..].iter().take_while(|c| c.municipality == m).count();
        ranges[m] = start..end;
        start = end;
    }
    ranges
}

/// The required roles of function `f` that have no provider within reach at place `i`.
pub fn missing_roles<'r>(rules: &'r Rules, reach: &ReachTable, f: usize, i: usize) -> Vec<&'r str> {
    rules.functions[f]
        .required_roles()
        .filter(|&r| reach.roles[r].in_reach[i] == 0)
        .map(|r| rules.roles[r].id.as_str())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_stats_by_hand() {
        // Demand 1, 2, 3, 4 at distances 10, 20, 30, 40; covered when distance <= 25.
        let s = Stats::over(
            [
                (1.0, true, 10.0, 1.0),
                (2.0, true, 20.0, 2.0),
                (3.0, false, 30.0, 0.0),
                (4.0, false, 40.0, 0.0),
            ]
            .into_iter(),
        );
        assert_eq!(s.demand, 10.0);
        assert_eq!(s.covered, 3.0);
        assert_eq!(s.share, Some(0.3));
        assert_eq!(s.mean, Some(30.0)); // (10 + 40 + 90 + 160) / 10
        assert_eq!(s.p90, Some(40.0)); // 1+2+3 = 6 < 9, so the last one
        assert_eq!(s.max, Some(40.0));
        assert_eq!(s.providers_mean, Some(0.5)); // (1 + 4) / 10
    }

    #[test]
    fn zero_demand_has_no_share() {
        let s = Stats::over([(0.0, true, 5.0, 1.0)].into_iter());
        assert_eq!(s.share, None);
        assert_eq!(s.demand, 0.0);
    }

    #[test]
    fn no_provider_means_no_distance() {
        let s = Stats::over([(1.0, false, f64::INFINITY, 0.0), (9.0, true, 1.0, 1.0)].into_iter());
        assert_eq!(s.mean, None);
        assert_eq!(s.max, None);
        assert_eq!(s.p90, Some(1.0));
        assert_eq!(s.share, Some(0.9));
    }
}
