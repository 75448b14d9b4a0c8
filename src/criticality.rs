//! Criticality: what each institution alone holds up. For every function, the demand that
//! loses coverage if that one institution closes and nothing else changes: the places the
//! function covers where, for some required role the institution fills, it is the only
//! provider within reach.
//!
//! One pass, not one run per institution: a place where a role has exactly one provider
//! within reach (its `in_reach` count is 1) is that provider's alone, and no other place
//! can be lost by one closure. So per role the sole provider of each such place is found,
//! in a straight line by one query of the role's providers around the place (the same
//! decisions on the ellipsoid as the count), by travel time from the pairs within reach.
//! Then, per function, a covered place's demand goes to each institution that is the sole
//! provider of one of its required roles: per role (`role` rows) and once per institution
//! over all of them (the `all` row, which equals the fall in covered demand of an actual
//! single-closure run).

use crate::coverage::Coverage;
use crate::reach::pairs::{limit_groups, Travel};
use crate::reach::straight::ProviderIndex;
use crate::reach::ReachTable;
use crate::study::Study;
use rayon::prelude::*;
use std::collections::BTreeMap;

/// Which of a function's roles a figure is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RoleSlot {
    /// Every required role the institution fills: the demand a closure uncovers.
    All,
    /// One required role (index into the rules' roles).
    Role(usize),
}

/// One institution's unique contribution to one function (and role).
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub institution: usize,
    pub function: usize,
    pub role: RoleSlot,
    /// Demand covered for the function that only this institution keeps covered.
    pub unique_demand: f64,
}

/// Every institution's unique contribution, per function.
#[derive(Debug, Clone, PartialEq)]
pub struct Criticality {
    /// Per function, an entry per institution filling one of its required roles and per
    /// such role (`All` first), in institution order.
    pub functions: Vec<Vec<Entry>>,
    /// Per function, the demand it covers over the whole input.
    pub covered: Vec<f64>,
    /// Per function, the covered demand that some single closure would uncover (where a
    /// required role has only one provider within reach).
    pub fragile: Vec<f64>,
}

/// The sole provider (institution index) of `role` at every place that has exactly one
/// within reach; `u32::MAX` elsewhere.
fn sole_providers(study: &Study, reach: &ReachTable, role: usize, travel: Option<&Travel>) -> Vec<u32> {
    let counts = &reach.roles[role].in_reach;
    let mut sole = vec![u32::MAX; counts.len()];
    let rule = &study.rules.roles[role];
    let providers: Vec<usize> = (0..study.institutions.len())
        .filter(|&k| rule.matches(&study.institutions[k]))
        .collect();
    match travel {
        None => {
            let points: Vec<(f64, f64)> = providers
                .iter()
                .map(|&k| (study.institutions[k].lon, study.institutions[k].lat))
                .collect();
            let index = ProviderIndex::new(&points);
            let places = study.demand.places();
            let reach_m = rule.reach_km * 1000.0;
            sole.par_iter_mut().enumerate().for_each(|(i, s)| {
                if counts[i] == 1 {
                    if let [(p, _)] = index.pairs_within(places[i], reach_m)[..] {
                        *s = providers[p as usize] as u32;
                    }
                }
            });
        }
        Some(travel) => {
            let reach_min = rule.reach_min.unwrap_or(0.0);
            let pairs = travel.institutions_within(study, &providers, reach_min, rule.reach_km);
            for (&k, list) in providers.iter().zip(&pairs) {
                for &(i, _) in list {
                    if counts[i as usize] == 1 {
                        sole[i as usize] = k as u32;
                    }
                }
            }
        }
    }
    sole
}

/// The sole providers of every role some function requires (empty for the others). By
/// travel time, roles of equal limits share each institution's pairs.
fn all_sole_providers(study: &Study, reach: &ReachTable, travel: Option<&Travel>) -> Vec<Vec<u32>> {
    let needed: Vec<bool> = (0..study.rules.roles.len())
        .map(|r| study.rules.functions.iter().any(|f| f.required_roles().any(|x| x == r)))
        .collect();
    let Some(travel) = travel else {
        return (0..study.rules.roles.len())
            .map(|r| {
                if needed[r] {
                    sole_providers(study, reach, r, None)
                } else {
                    Vec::new()
                }
            })
            .collect();
    };
    let places = study.demand.cells.len();
    let mut sole: Vec<Vec<u32>> = needed
        .iter()
        .map(|&n| if n { vec![u32::MAX; places] } else { Vec::new() })
        .collect();
    for ((reach_min, reach_km), sources) in limit_groups(study, |_| true) {
        let sources: Vec<(usize, Vec<usize>)> = sources
            .into_iter()
            .map(|(k, fills)| (k, fills.into_iter().filter(|&r| needed[r]).collect::<Vec<_>>()))
            .filter(|(_, fills)| !fills.is_empty())
            .collect();
        for block in sources.chunks(16_384) {
            let ids: Vec<usize> = block.iter().map(|s| s.0).collect();
            let pairs = travel.institutions_within(study, &ids, reach_min, reach_km);
            for ((k, fills), list) in block.iter().zip(&pairs) {
                for &r in fills {
                    let counts = &reach.roles[r].in_reach;
                    for &(i, _) in list {
                        if counts[i as usize] == 1 {
                            sole[r][i as usize] = *k as u32;
                        }
                    }
                }
            }
        }
    }
    sole
}

/// Criticality of every institution for every function, from the study's reach and
/// coverage (`travel`: how reach was measured by travel time, `None` in a straight line).
pub fn compute(study: &Study, reach: &ReachTable, cov: &Coverage, travel: Option<&Travel>) -> Criticality {
    let sole = all_sole_providers(study, reach, travel);
    let demand: Vec<f64> = study.demand.cells.iter().map(|c| c.demand).collect();
    let functions = study
        .rules
        .functions
        .par_iter()
        .enumerate()
        .map(|(f, function)| {
            let required: Vec<usize> = function.required_roles().collect();
            // Every institution filling a required role gets an entry, even at 0.
            let mut sums: BTreeMap<(usize, RoleSlot), f64> = BTreeMap::new();
            for (k, inst) in study.institutions.iter().enumerate() {
                let fills: Vec<usize> = required
                    .iter()
                    .copied()
                    .filter(|&r| study.rules.roles[r].matches(inst))
                    .collect();
                if !fills.is_empty() {
                    sums.insert((k, RoleSlot::All), 0.0);
                    for r in fills {
                        sums.insert((k, RoleSlot::Role(r)), 0.0);
                    }
                }
            }
            let mut alone: Vec<u32> = Vec::with_capacity(required.len());
            let mut fragile = 0.0;
            for (i, &d) in demand.iter().enumerate() {
                if !cov.functions[f].covered[i] {
                    continue;
                }
                alone.clear();
                for &r in &required {
                    let k = sole[r][i];
                    if k != u32::MAX {
                        *sums.entry((k as usize, RoleSlot::Role(r))).or_insert(0.0) += d;
                        alone.push(k);
                    }
                }
                alone.sort_unstable();
                alone.dedup();
                if !alone.is_empty() {
                    fragile += d;
                }
                for &k in &alone {
                    *sums.entry((k as usize, RoleSlot::All)).or_insert(0.0) += d;
                }
            }
            let entries: Vec<Entry> = sums
                .into_iter()
                .map(|((institution, role), unique_demand)| Entry {
                    institution,
                    function: f,
                    role,
                    unique_demand,
                })
                .collect();
            (entries, fragile)
        })
        .collect::<Vec<_>>();
    let covered = cov.total.iter().map(|s| s.covered).collect();
    let fragile = functions.iter().map(|x| x.1).collect();
    Criticality {
        functions: functions.into_iter().map(|x| x.0).collect(),
        covered,
        fragile,
    }
}
