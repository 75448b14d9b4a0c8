//! Catchment areas (圏域): test a given layout of municipalities (the secondary medical
//! regions, 二次医療圏) and propose contiguous catchments in which every function is
//! self-sufficient.
//!
//! - [`adjacency`]: rook and queen contiguity with a snapping tolerance, and island links.
//! - [`supply`]: which municipalities' providers reach each demand place, so that an area's
//!   in-area coverage (only providers located inside it count) is cheap for any layout.
//! - [`maxp`]: max-p regionalization with demand, provider and in-area share floors.
//! - [`compare`]: adjusted Rand index and moved municipalities between two layouts.

pub mod adjacency;
pub mod compare;
pub mod exact;
pub mod maxp;
pub mod supply;

use crate::inputs::rules::Rules;
use crate::reach::straight::ellipsoid_m;
use crate::study::Study;
use adjacency::Adjacency;
use maxp::{Floors, Partition, Settings, Unit, UnitClass};
use rayon::prelude::*;
use supply::{AreaFigures, Supply};

/// Settings of `zaitaku catchments`.
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// Providers of each required role an area must hold.
    pub min_providers: u32,
    /// In-area covered share each function must reach.
    pub min_share: f64,
    /// Demand an area must hold.
    pub min_demand: f64,
    /// Let catchments cross prefecture borders.
    pub cross_prefecture: bool,
    pub seed: u64,
    /// Boundaries closer than this touch, metres.
    pub snap_m: f64,
    /// Randomised constructions per unit before the search looks for evidence to stop.
    pub iterations: usize,
    /// Most randomised constructions per unit.
    pub max_iterations: usize,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            min_providers: 1,
            min_share: 0.9,
            min_demand: 0.0,
            cross_prefecture: false,
            seed: 0,
            snap_m: 1.0,
            iterations: 100,
            max_iterations: 2_000,
        }
    }
}

/// Proves a unit's partition optimal, or improves it: at the upper bound it is; otherwise, for
/// a unit of at most [`exact::ATTEMPT_MAX_AREAS`] areas, the branch and bound of
/// [`exact::maximum`] either proves the count, finds a partition with more groups, or runs out
/// of its budget ([`exact::budget_for`]).
fn prove(unit: &maxp::Unit, partition: Partition) -> (Partition, Option<bool>) {
    if partition.failing == 0 && partition.groups >= partition.upper_bound {
        return (partition, Some(true));
    }
    let Some(budget) = exact::budget_for(unit.len()) else {
        return (partition, None);
    };
    let known = if partition.failing == 0 { partition.groups } else { 0 };
    match exact::maximum(unit, known, budget) {
        exact::Exact::Optimal {
            labels: Some(labels),
            groups,
        } => {
            let members: Vec<Vec<u32>> = (0..groups as u32)
                .map(|g| (0..labels.len() as u32).filter(|&a| labels[a as usize] == g).collect())
                .collect();
            let better = Partition {
                cost: members.iter().map(|m| unit.cost(m)).sum(),
                labels,
                groups,
                failing: 0,
                ..partition
            };
            (better, Some(true))
        }
        exact::Exact::Optimal { labels: None, .. } => (partition, Some(true)),
        exact::Exact::Unknown => (partition, Some(false)),
    }
}

/// Which floors apply to an area: a function may be left out where no grouping can meet it.
#[derive(Debug, Clone, PartialEq)]
pub struct AreaFloors {
    pub demand: bool,
    /// Per function: the provider floor applies.
    pub providers: Vec<bool>,
    /// Per function: the share floor applies.
    pub share: Vec<bool>,
}

/// One function in one area.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionCheck {
    /// In-area covered share; `None` without demand.
    pub share: Option<f64>,
    /// Required roles below the provider floor, with their count inside.
    pub short_roles: Vec<(usize, u32)>,
    /// Every required role has its providers inside and the share is met.
    pub self_sufficient: bool,
}

/// An area (a given region or a proposed catchment) and how it fares.
#[derive(Debug, Clone, PartialEq)]
pub struct AreaCheck {
    pub code: String,
    pub name: String,
    /// Municipality indexes, ascending.
    pub members: Vec<usize>,
    pub figures: AreaFigures,
    /// Per function (rules order).
    pub functions: Vec<FunctionCheck>,
    /// Floors the area misses, in words; empty when it meets them all.
    pub failing: Vec<String>,
}

/// How a unit (a prefecture, or the whole input with `--cross-prefecture`) was solved.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitReport {
    pub name: String,
    pub municipalities: usize,
    pub catchments: usize,
    pub failing: usize,
    /// No layout meeting every floor has more catchments (from the floors alone).
    pub upper_bound: usize,
    /// Randomised constructions the search tried.
    pub constructions: usize,
    /// `Some(true)`: the count is proven the maximum (it reaches the upper bound, or the exact
    /// search finished); `Some(false)`: the exact search ran out of budget; `None`: the unit
    /// has more than 64 municipalities, too many for it.
    pub exact: Option<bool>,
    /// Floors that no grouping of the unit can meet, left out there, in words.
    pub dropped: Vec<String>,
}

/// The comparison of the given regions with the proposal.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub adjusted_rand: f64,
    /// Per catchment: the region holding most of its demand (index into the regions).
    pub main_region: Vec<Option<usize>>,
    /// Municipalities whose catchment's main region is not their own region.
    pub moved: Vec<usize>,
}

/// Everything `zaitaku catchments` computes.
#[derive(Debug, Clone)]
pub struct Catchments {
    pub adjacency: Adjacency,
    pub supply: Supply,
    /// Functions with no provider of some required role anywhere in the input: left out of
    /// the floors.
    pub absent_functions: Vec<usize>,
    /// The given regions, checked; empty without `--regions`.
    pub regions: Vec<AreaCheck>,
    /// Region of each municipality (index into `regions`).
    pub region_of: Vec<Option<usize>>,
    pub catchments: Vec<AreaCheck>,
    /// Catchment of each municipality.
    pub catchment_of: Vec<usize>,
    pub units: Vec<UnitReport>,
    pub comparison: Option<Comparison>,
    /// The floors each catchment was held to.
    pub catchment_floors: Vec<AreaFloors>,
    /// The floors the regions are held to.
    pub region_floors: AreaFloors,
    /// Both layouts checked in every year of a projection (the layout's own year included),
    /// ascending; empty for a single year. See [`Catchments::check_years`].
    pub years: Vec<YearCheck>,
}

/// The same layouts checked against another year's demand.
#[derive(Debug, Clone, PartialEq)]
pub struct YearCheck {
    pub year: u16,
    pub catchments: Vec<AreaCheck>,
    pub regions: Vec<AreaCheck>,
}

impl Catchments {
    /// Checks the proposed catchments and the given regions, unchanged, against the demand
    /// of every other year of a projection: `other[k]` is the year of
    /// [`Supply::year_demand`]`[k]`, `year` the one the layout was proposed for. Floors are
    /// those each area was held to; the provider floor does not change with the year, the
    /// demand and share floors may.
    pub fn check_years(&mut self, rules: &Rules, params: &Params, year: u16, other: &[u16]) {
        let catchment_of: Vec<Option<usize>> = self.catchment_of.iter().map(|&k| Some(k)).collect();
        let mut years: Vec<YearCheck> = other
            .par_iter()
            .enumerate()
            .map(|(k, &y)| {
                let supply = self.supply.for_year(k);
                let check = |areas: &[AreaCheck], of: &[Option<usize>], floors: &dyn Fn(usize) -> AreaFloors| {
                    areas
                        .iter()
                        .enumerate()
                        .map(|(i, a)| {
                            check_area(
                                &supply,
                                rules,
                                params,
                                a.code.clone(),
                                a.name.clone(),
                                a.members.clone(),
                                of,
                                i,
                                &floors(i),
                            )
                        })
                        .collect::<Vec<_>>()
                };
                YearCheck {
                    year: y,
                    catchments: check(&self.catchments, &catchment_of, &|i| self.catchment_floors[i].clone()),
                    regions: check(&self.regions, &self.region_of, &|_| self.region_floors.clone()),
                }
            })
            .collect();
        years.push(YearCheck {
            year,
            catchments: self.catchments.clone(),
            regions: self.regions.clone(),
        });
        years.sort_by_key(|y| y.year);
        self.years = years;
    }
}

/// Checks an area against the floors of `params` that `floors` says apply.
#[allow(clippy::too_many_arguments)]
fn check_area(
    supply: &Supply,
    rules: &Rules,
    params: &Params,
    code: String,
    name: String,
    members: Vec<usize>,
    of: &[Option<usize>],
    id: usize,
    floors: &AreaFloors,
) -> AreaCheck {
    let figures = supply.figures(&members, |h| of[h as usize] == Some(id));
    let mut failing = Vec::new();
    if floors.demand && figures.demand < params.min_demand {
        failing.push(format!("demand {:.0} < {}", figures.demand, params.min_demand));
    }
    let functions: Vec<FunctionCheck> = rules
        .functions
        .iter()
        .enumerate()
        .map(|(f, func)| {
            let short_roles: Vec<(usize, u32)> = func
                .required_roles()
                .filter(|&r| figures.providers[r] < params.min_providers)
                .map(|r| (r, figures.providers[r]))
                .collect();
            let share = figures.share(f);
            let share_ok = share.is_none_or(|s| s >= params.min_share * (1.0 - 1e-12));
            if floors.providers[f] {
                for &(r, n) in &short_roles {
                    failing.push(format!(
                        "{}: {} {} < {}",
                        func.id, rules.roles[r].id, n, params.min_providers
                    ));
                }
            }
            if floors.share[f] && !share_ok {
                failing.push(format!(
                    "{}: share {:.3} < {}",
                    func.id,
                    share.unwrap_or(0.0),
                    params.min_share
                ));
            }
            FunctionCheck {
                share,
                self_sufficient: short_roles.is_empty() && share_ok,
                short_roles,
            }
        })
        .collect();
    AreaCheck {
        code,
        name,
        members,
        figures,
        functions,
        failing,
    }
}

/// Demand-weighted centre of each municipality's places (the centre of its bounding box
/// when it has no demand).
fn demand_centres(study: &Study) -> Vec<(f64, f64)> {
    let n = study.municipalities.len();
    let mut sum = vec![(0.0, 0.0, 0.0); n];
    for c in &study.demand.cells {
        let s = &mut sum[c.municipality];
        s.0 += c.demand * c.lon;
        s.1 += c.demand * c.lat;
        s.2 += c.demand;
    }
    sum.iter()
        .zip(&study.municipalities)
        .map(|(&(x, y, w), m)| {
            if w > 0.0 {
                (x / w, y / w)
            } else {
                let b = m.bbox;
                (0.5 * (b.min().x + b.max().x), 0.5 * (b.min().y + b.max().y))
            }
        })
        .collect()
}

/// The unit problem for the municipalities `members` (ascending), and the floors left out.
fn build_unit(
    supply: &Supply,
    adjacency: &Adjacency,
    centres: &[(f64, f64)],
    rules: &Rules,
    params: &Params,
    members: &[usize],
    absent: &[usize],
) -> (Unit, AreaFloors, Vec<String>) {
    let n = members.len();
    // Each municipality's index in the unit, or `u32::MAX` outside it: hosts are looked up
    // once per class and role, so a table rather than a search of the members.
    let mut index = vec![u32::MAX; supply.demand.len()];
    for (a, &g) in members.iter().enumerate() {
        index[g] = a as u32;
    }
    let local = |g: usize| Some(index[g]).filter(|&i| i != u32::MAX);
    let neighbours: Vec<Vec<u32>> = members
        .iter()
        .map(|&g| adjacency.neighbours[g].iter().filter_map(|&b| local(b)).collect())
        .collect();
    let demand: Vec<f64> = members.iter().map(|&g| supply.demand[g]).collect();
    let roles = supply.roles;
    let providers: Vec<u32> = members
        .iter()
        .flat_map(|&g| (0..roles).map(move |r| supply.providers_in(g, r)))
        .collect();
    let mut classes = Vec::new();
    let mut hosts = Vec::new();
    for (a, &g) in members.iter().enumerate() {
        for class in &supply.classes[supply.class_ranges[g].clone()] {
            let roles = (0..roles)
                .map(|r| {
                    let start = hosts.len() as u32;
                    hosts.extend(supply.hosts_of(class, r).iter().filter_map(|&h| local(h as usize)));
                    start..hosts.len() as u32
                })
                .collect();
            classes.push(UnitClass {
                area: a as u32,
                demand: class.demand,
                roles,
            });
        }
    }
    let dist: Vec<f32> = (0..n * n)
        .into_par_iter()
        .map(|k| {
            let (a, b) = (k / n, k % n);
            if a == b {
                0.0
            } else {
                (ellipsoid_m(centres[members[a]], centres[members[b]]) / 1000.0) as f32
            }
        })
        .collect();

    // Floors the unit as a whole can meet.
    let mut dropped = Vec::new();
    let mut area_floors = AreaFloors {
        demand: true,
        providers: vec![false; rules.functions.len()],
        share: vec![false; rules.functions.len()],
    };
    let mut provider_roles = 0u64;
    let mut share_functions = Vec::new();
    // The whole unit as one area: providers located in it, demand covered from inside it.
    let all = supply.figures(members, |h| index[h as usize] != u32::MAX);
    for (f, func) in rules.functions.iter().enumerate() {
        if absent.contains(&f) {
            continue;
        }
        let short: Vec<String> = func
            .required_roles()
            .filter(|&r| all.providers[r] < params.min_providers)
            .map(|r| format!("{} {}", rules.roles[r].id, all.providers[r]))
            .collect();
        if !short.is_empty() {
            dropped.push(format!(
                "{}: the whole area holds too few providers ({} < {}), so the function is left out of the floors",
                func.id,
                short.join(", "),
                params.min_providers
            ));
            continue;
        }
        provider_roles |= supply.required[f];
        area_floors.providers[f] = true;
        let share = if all.demand > 0.0 {
            all.covered[f] / all.demand
        } else {
            1.0
        };
        if params.min_share > 0.0 && share < params.min_share * (1.0 - 1e-12) {
            dropped.push(format!(
                "{}: in-area share {:.3} of the whole area is below {}, so its share floor is left out",
                func.id, share, params.min_share
            ));
        } else if params.min_share > 0.0 {
            area_floors.share[f] = true;
            share_functions.push((f, supply.required[f]));
        }
    }
    let floors = Floors {
        min_demand: params.min_demand,
        min_providers: params.min_providers,
        provider_roles: if params.min_providers > 0 { provider_roles } else { 0 },
        min_share: params.min_share,
        share_functions: share_functions.iter().map(|s| s.1).collect(),
    };
    if all.demand < params.min_demand {
        dropped.push(format!(
            "demand: the whole area holds {:.0} < {}, so it stays one catchment",
            all.demand, params.min_demand
        ));
        area_floors.demand = false;
    }
    (
        Unit::new(neighbours, demand, roles, providers, classes, hosts, dist, floors),
        area_floors,
        dropped,
    )
}

/// Checks the study's regions and proposes catchments.
pub fn analyse(study: &Study, supply: Supply, adjacency: Adjacency, params: &Params) -> Catchments {
    let rules = &study.rules;
    let n = study.municipalities.len();
    // Functions with a required role that has no provider anywhere.
    let absent_functions: Vec<usize> = rules
        .functions
        .iter()
        .enumerate()
        .filter(|(_, f)| {
            f.required_roles()
                .any(|r| (0..n).all(|m| supply.providers_in(m, r) == 0))
        })
        .map(|(i, _)| i)
        .collect();
    let present: Vec<bool> = (0..rules.functions.len())
        .map(|f| !absent_functions.contains(&f))
        .collect();
    let region_floors = AreaFloors {
        demand: true,
        providers: present.clone(),
        share: present,
    };
    let floors_for_regions = region_floors.clone();

    // The given regions.
    let mut region_of = vec![None; n];
    for (k, r) in study.regions.iter().enumerate() {
        for &m in &r.members {
            region_of[m] = Some(k);
        }
    }
    let regions: Vec<AreaCheck> = study
        .regions
        .par_iter()
        .enumerate()
        .map(|(k, r)| {
            check_area(
                &supply,
                rules,
                params,
                r.code.clone(),
                r.name.clone(),
                r.members.clone(),
                &region_of,
                k,
                &region_floors,
            )
        })
        .collect();

    // Units: prefectures, or every connected part of the input.
    let unit_members: Vec<(String, Vec<usize>)> = if params.cross_prefecture {
        let everyone: Vec<usize> = (0..n).collect();
        adjacency::components(&everyone, &adjacency.links, n)
            .into_iter()
            .enumerate()
            .map(|(i, c)| (format!("part {}", i + 1), c))
            .collect()
    } else {
        let mut by: std::collections::BTreeMap<String, Vec<usize>> = Default::default();
        for (i, m) in study.municipalities.iter().enumerate() {
            by.entry(m.prefecture.clone()).or_default().push(i);
        }
        by.into_iter().collect()
    };
    let centres = demand_centres(study);
    let settings = Settings {
        iterations: params.iterations,
        max_iterations: params.max_iterations,
        seed: params.seed,
        ..Settings::default()
    };
    let solved: Vec<(Partition, AreaFloors, Vec<String>, Option<bool>)> = unit_members
        .par_iter()
        .enumerate()
        .map(|(u, (_, members))| {
            let (unit, floors, dropped) =
                build_unit(&supply, &adjacency, &centres, rules, params, members, &absent_functions);
            let partition = if unit.demand.iter().sum::<f64>() < params.min_demand {
                Partition {
                    labels: vec![0; members.len()],
                    groups: 1,
                    failing: 1,
                    cost: unit.cost(&(0..members.len() as u32).collect::<Vec<_>>()),
                    iterations: 0,
                    upper_bound: unit.upper_bound(),
                }
            } else {
                let s = Settings {
                    seed: settings.seed.wrapping_add(u as u64),
                    ..settings
                };
                maxp::solve(&unit, &s)
            };
            let (partition, exact) = prove(&unit, partition);
            (partition, floors, dropped, exact)
        })
        .collect();

    // Catchments in unit order, each unit's groups by their first municipality.
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut units = Vec::new();
    let mut floors_of = Vec::new();
    for ((name, members), (partition, floors, dropped, exact)) in unit_members.iter().zip(&solved) {
        let mut local: Vec<Vec<usize>> = vec![Vec::new(); partition.groups];
        for (a, &l) in partition.labels.iter().enumerate() {
            local[l as usize].push(members[a]);
        }
        units.push(UnitReport {
            name: name.clone(),
            municipalities: members.len(),
            catchments: partition.groups,
            failing: partition.failing,
            upper_bound: partition.upper_bound,
            constructions: partition.iterations,
            exact: *exact,
            dropped: dropped.clone(),
        });
        floors_of.extend(std::iter::repeat_n(floors, partition.groups));
        groups.extend(local);
    }
    let mut catchment_of = vec![0usize; n];
    let mut seq: std::collections::BTreeMap<String, usize> = Default::default();
    let mut ids = Vec::new();
    for (k, g) in groups.iter().enumerate() {
        for &m in g {
            catchment_of[m] = k;
        }
        let prefix: String = study.municipalities[g[0]].code.chars().take(2).collect();
        let s = seq.entry(prefix.clone()).or_insert(0);
        *s += 1;
        ids.push(format!("{prefix}-{:02}", *s));
    }
    let of: Vec<Option<usize>> = catchment_of.iter().map(|&k| Some(k)).collect();
    let catchments: Vec<AreaCheck> = groups
        .into_par_iter()
        .enumerate()
        .map(|(k, members)| {
            let names: Vec<&str> = members
                .iter()
                .take(3)
                .map(|&m| study.municipalities[m].name.as_str())
                .collect();
            let more = if members.len() > 3 {
                format!(" +{}", members.len() - 3)
            } else {
                String::new()
            };
            let name = format!("{}{more}", names.join("・"));
            check_area(
                &supply,
                rules,
                params,
                ids[k].clone(),
                name,
                members,
                &of,
                k,
                floors_of[k],
            )
        })
        .collect();
    {
        let mut k = 0;
        for u in &mut units {
            u.failing = catchments[k..k + u.catchments]
                .iter()
                .filter(|c| !c.failing.is_empty())
                .count();
            k += u.catchments;
        }
    }

    let comparison = (!regions.is_empty()).then(|| {
        compare::compare(
            &region_of,
            &catchment_of,
            &supply.demand,
            regions.len(),
            catchments.len(),
        )
    });
    Catchments {
        adjacency,
        supply,
        absent_functions,
        regions,
        region_of,
        catchments,
        catchment_of,
        units,
        comparison,
        catchment_floors: floors_of.into_iter().cloned().collect(),
        region_floors: floors_for_regions,
        years: Vec::new(),
    }
}
