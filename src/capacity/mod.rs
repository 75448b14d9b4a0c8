//! Capacity: how much of the need for home care providers can serve within reach when each
//! takes only so many patients a month.
//!
//! Need at a place, for a function: its demand times the function's need rate (the rules'
//! `[capacity]` table). Supply: each provider's `capacity` (patients a month), or its kind's
//! default from the rules where the row has none. For every role a function needs, the
//! served need is a maximum flow from places to the role's providers over the pairs within
//! the role's reach ([`flow::max_flow`]): the most need that can be served with nobody
//! assigned beyond reach and no provider above its capacity. A role shared by functions of
//! one need rate is solved once; problems are independent and solved in parallel.
//!
//! A function's served need at a place is the least over its required roles (each role is
//! solved at that function's rate, so their needs at the place are equal). Areas sum their
//! places.

pub mod flow;

use crate::coverage::municipality_ranges;
use crate::inputs::institutions::Kind;
use crate::progress::Progress;
use crate::reach::pairs::Travel;
use crate::reach::straight::{NearestProviders, OpenSites, ProviderIndex};
use crate::reach::{ReachTable, ReachUnit};
use crate::study::Study;
use flow::{Flow, ListPairs, Open, Pairs};
use rayon::prelude::*;

/// Steps in which a role's contested need is served: every contested place up to 90 % of
/// their average share first, then the whole need ([`flow::max_flow_shared`]), so that a
/// shortfall is shared out.
pub const SHARE_TIERS: [f64; 1] = [0.9];

/// The order of AccessMod's facility-by-facility fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Largest capacity first (ties in input order).
    Capacity,
    /// By institution id.
    Id,
}

impl Order {
    pub fn as_str(self) -> &'static str {
        match self {
            Order::Capacity => "capacity",
            Order::Id => "id",
        }
    }
}

/// One role at one need rate, solved.
#[derive(Debug, Clone)]
pub struct Problem {
    pub role: usize,
    pub rate: f64,
    /// The functions (indexes) whose figures use this assignment.
    pub functions: Vec<usize>,
    /// The roles (indexes) whose served need this assignment serves first (lined up with
    /// them within one function); empty for a role solved on its own.
    pub after: Vec<usize>,
    /// The role's providers (institution indexes, ascending).
    pub providers: Vec<usize>,
    /// Their capacity, units.
    pub capacity: Vec<i64>,
    /// Need per place, units.
    pub need: Vec<i64>,
    /// The maximum flow.
    pub flow: Flow,
    /// AccessMod's fill in the chosen order, when asked for.
    pub fill: Option<Flow>,
}

impl Problem {
    /// Providers with capacity whose assignment reaches it.
    pub fn providers_full(&self) -> usize {
        self.flow
            .assigned
            .iter()
            .zip(&self.capacity)
            .filter(|(a, c)| **c > 0 && a >= c)
            .count()
    }
}

/// Where an institution's capacity came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapacitySource {
    Row,
    KindDefault,
}

/// Everything `zaitaku capacity` computes.
#[derive(Debug, Clone)]
pub struct Capacity {
    pub problems: Vec<Problem>,
    /// Per function, per role of the function (rules order): the assignment its figures use
    /// (required roles lined up with each other, see [`compute`]).
    pub function_problems: Vec<Vec<usize>>,
    /// Per function, per role: the role solved on its own at the function's rate (AccessMod's
    /// fill is there).
    pub independent: Vec<Vec<usize>>,
    /// Per function: the need rate used.
    pub need_rate: Vec<f64>,
    /// Per function: `rules`, `built-in` or `--need-rate`.
    pub need_rate_source: Vec<&'static str>,
    /// Per institution: its capacity in patients a month and where it came from.
    pub institution_capacity: Vec<(f64, CapacitySource)>,
    pub order: Option<Order>,
}

impl Capacity {
    /// Served need of function `f` at every place, units: the least over its required roles
    /// (`fill`: from AccessMod's fill instead of the maximum flow).
    pub fn function_served(&self, f: usize, study: &Study, fill: bool) -> Vec<i64> {
        let function = &study.rules.functions[f];
        let mut out: Option<Vec<i64>> = None;
        for (k, (u, &p)) in function.roles.iter().zip(&self.function_problems[f]).enumerate() {
            if !u.required {
                continue;
            }
            let flow = if fill {
                let own = &self.problems[self.independent[f][k]];
                own.fill.as_ref().unwrap_or(&own.flow)
            } else {
                &self.problems[p].flow
            };
            out = Some(match out {
                None => flow.served.clone(),
                Some(v) => v.iter().zip(&flow.served).map(|(a, b)| *a.min(b)).collect(),
            });
        }
        out.unwrap_or_default()
    }

    /// Need of function `f` at every place, units.
    pub fn function_need(&self, f: usize) -> &[i64] {
        &self.problems[self.function_problems[f][0]].need
    }
}

/// Need and served summed over an area, people.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Served {
    pub need: f64,
    pub served: f64,
}

impl Served {
    pub fn share(&self) -> Option<f64> {
        (self.need > 0.0).then(|| self.served / self.need)
    }

    pub fn unserved(&self) -> f64 {
        self.need - self.served
    }

    /// Sums over places (units), in place order.
    pub fn over(need: &[i64], served: &[i64], places: impl Iterator<Item = usize>) -> Served {
        let (mut n, mut s) = (0i64, 0i64);
        for i in places {
            n += need[i];
            s += served[i];
        }
        Served {
            need: n as f64 / flow::UNIT,
            served: s as f64 / flow::UNIT,
        }
    }
}

/// Straight-line pairs of one role: providers and places in R-trees, queried when needed.
struct StraightPairs<'a> {
    places: &'a [(f64, f64)],
    /// The places as open sites, built once for every role (AccessMod's fill visits them).
    place_sites: Option<&'a OpenSites>,
    providers: Vec<(f64, f64)>,
    index: ProviderIndex,
    reach_m: f64,
    /// Each place's nearest provider and its distance, when the run measured them
    /// (coverage's reach).
    nearest: Option<(&'a [u32], &'a [f64])>,
}

/// One side in an R-tree, visited from points of the other.
struct StraightOpen<'a> {
    from: &'a [(f64, f64)],
    sites: OpenSites,
    reach_m: f64,
}

impl Open for StraightOpen<'_> {
    fn visit(&mut self, from: usize, take: &mut dyn FnMut(u32, f64) -> bool) {
        self.sites.visit_nearest(self.from[from], self.reach_m, take);
    }

    fn close(&mut self, member: u32) {
        self.sites.remove(member);
    }
}

impl Pairs for StraightPairs<'_> {
    fn places(&self) -> usize {
        self.places.len()
    }

    fn providers(&self) -> usize {
        self.providers.len()
    }

    fn degree(&self, place: usize) -> u32 {
        self.index.estimate_within(self.places[place], self.reach_m)
    }

    fn providers_of(&self, place: usize, out: &mut Vec<u32>) {
        self.index.ids_within(self.places[place], self.reach_m, out);
    }

    fn cost(&self, place: usize, provider: usize) -> f64 {
        crate::reach::straight::ellipsoid_m(self.places[place], self.providers[provider])
    }

    fn nearest(&self, place: usize) -> Option<(u32, f64)> {
        use crate::reach::straight::{within_at, NO_SITE};
        let (ids, distances) = self.nearest?;
        let j = ids[place];
        if j == NO_SITE {
            return None;
        }
        // The distance (reach measured it as the visit does, `ellipsoid_m`) and the test of
        // reach as the visit takes them.
        let (at, b, d) = (self.places[place], self.providers[j as usize], distances[place]);
        within_at(d, at, b, self.reach_m).then_some((j, d.max(0.0)))
    }

    fn open_providers(&self) -> Box<dyn Open + '_> {
        Box::new(StraightOpen {
            from: self.places,
            sites: OpenSites::new(&self.providers),
            reach_m: self.reach_m,
        })
    }

    fn open_places(&self) -> Box<dyn Open + '_> {
        Box::new(StraightOpen {
            from: &self.providers,
            sites: self
                .place_sites
                .map_or_else(|| OpenSites::new(self.places), OpenSites::clone),
            reach_m: self.reach_m,
        })
    }
}

/// Capacity of every institution: its row's, else its kind's default (0 for a kind the
/// rules give none).
pub fn institution_capacity(study: &Study) -> Vec<(f64, CapacitySource)> {
    study
        .institutions
        .iter()
        .map(|i| match i.capacity {
            Some(c) => (c, CapacitySource::Row),
            None => (
                study.rules.capacity.default_for(i.kind).unwrap_or(0.0),
                CapacitySource::KindDefault,
            ),
        })
        .collect()
}

/// Need rates per function and where each comes from: the rules', with `--need-rate`
/// over them: one share for every function (`0.02`) or some functions' (`daily=0.02,acute=0.01`).
pub fn need_rates(
    rules: &crate::inputs::rules::Rules,
    arg: Option<&str>,
) -> Result<(Vec<f64>, Vec<&'static str>), String> {
    let mut rates = rules.capacity.need_rate.clone();
    let mut sources = rules.capacity.need_rate_source.clone();
    let Some(arg) = arg else { return Ok((rates, sources)) };
    let share = |text: &str| -> Result<f64, String> {
        let x: f64 = text
            .trim()
            .parse()
            .map_err(|_| format!("--need-rate: '{}' is not a number", text.trim()))?;
        if x.is_finite() && (0.0..=1.0).contains(&x) {
            Ok(x)
        } else {
            Err(format!("--need-rate: {x} must lie in 0..1 (a share of the demand)"))
        }
    };
    if !arg.contains('=') {
        let x = share(arg)?;
        return Ok((vec![x; rates.len()], vec!["--need-rate"; rates.len()]));
    }
    for part in arg.split(',') {
        let (id, value) = part
            .split_once('=')
            .ok_or_else(|| format!("--need-rate: '{part}' is not FUNCTION=SHARE"))?;
        let f = rules.functions.iter().position(|f| f.id == id.trim()).ok_or_else(|| {
            format!(
                "--need-rate: no function '{}' in the rules (functions: {})",
                id.trim(),
                rules.function_ids()
            )
        })?;
        rates[f] = share(value)?;
        sources[f] = "--need-rate";
    }
    Ok((rates, sources))
}

/// Solves every role every function needs at the given need rates (per function, with their
/// sources; see [`need_rates`]); `order`: also run AccessMod's fill in that order.
/// `nearest`: the run's straight-line reach with each place's nearest provider of every
/// role ([`crate::reach::straight::straight_line_reach_with_nearest`] on the same study):
/// the nearest-first start then searches only where that provider is full. The results are
/// the same with it or without it.
pub fn compute(
    study: &Study,
    need_rate: (Vec<f64>, Vec<&'static str>),
    order: Option<Order>,
    nearest: Option<(&ReachTable, &NearestProviders)>,
    progress: Progress,
) -> Capacity {
    let rules = &study.rules;
    let (rates, sources) = need_rate;
    // Problems: each (role, rate) once, in order of first use.
    let mut keys: Vec<(usize, u64)> = Vec::new();
    let mut functions_of: Vec<Vec<usize>> = Vec::new();
    let function_problems: Vec<Vec<usize>> = rules
        .functions
        .iter()
        .enumerate()
        .map(|(f, function)| {
            function
                .roles
                .iter()
                .map(|u| {
                    let key = (u.role, rates[f].to_bits());
                    match keys.iter().position(|k| *k == key) {
                        Some(p) => {
                            functions_of[p].push(f);
                            p
                        }
                        None => {
                            keys.push(key);
                            functions_of.push(vec![f]);
                            keys.len() - 1
                        }
                    }
                })
                .collect()
        })
        .collect();
    let caps = institution_capacity(study);
    let places = study.demand.places();
    let travel = Travel::of(study);
    // The places as open sites for AccessMod's fill, built once for every role.
    let place_sites = (order.is_some() && travel.is_none()).then(|| OpenSites::new(&places));
    // Every problem's role built up front, side by side. (Not on first use behind a lock: a
    // thread building one may take up, while it waits inside the build, another task of the
    // same role, which would then wait for the lock that thread holds.)
    let build = |role: usize| -> RoleInput {
        let rule = &rules.roles[role];
        let providers: Vec<usize> = (0..study.institutions.len())
            .filter(|&k| rule.matches(&study.institutions[k]))
            .collect();
        let capacity: Vec<i64> = providers.iter().map(|&k| flow::units(caps[k].0)).collect();
        let pairs: Box<dyn Pairs + Send + '_> = match &travel {
            None => {
                let points: Vec<(f64, f64)> = providers
                    .iter()
                    .map(|&k| (study.institutions[k].lon, study.institutions[k].lat))
                    .collect();
                Box::new(StraightPairs {
                    places: &places,
                    place_sites: place_sites.as_ref(),
                    index: ProviderIndex::new(&points),
                    providers: points,
                    reach_m: rule.reach_km * 1000.0,
                    nearest: nearest
                        .filter(|(reach, _)| reach.unit == ReachUnit::Metres)
                        .and_then(|(reach, ids)| Some((ids.get(role)?, &reach.roles.get(role)?.nearest)))
                        .filter(|(ids, d)| ids.len() == places.len() && d.len() == places.len())
                        .map(|(ids, d)| (ids.as_slice(), d.as_slice())),
                })
            }
            Some(travel) => {
                let lists = travel.institutions_within(study, &providers, rule.reach_min.unwrap_or(0.0), rule.reach_km);
                Box::new(ListPairs::new(places.len(), lists))
            }
        };
        RoleInput {
            providers,
            capacity,
            pairs,
        }
    };
    let mut slot = vec![usize::MAX; rules.roles.len()];
    let mut roles_used: Vec<usize> = keys.iter().map(|k| k.0).collect();
    roles_used.sort_unstable();
    roles_used.dedup();
    for (k, &role) in roles_used.iter().enumerate() {
        slot[role] = k;
    }
    let built: Vec<RoleInput> = roles_used.par_iter().map(|&role| build(role)).collect();
    // Only the roles of `keys` are asked for.
    let input = |role: usize| -> &RoleInput { &built[slot[role]] };
    let need_at = |rate: f64| -> Vec<i64> {
        study
            .demand
            .cells
            .iter()
            .map(|c| flow::units(c.demand * rate))
            .collect()
    };
    let aligned_count: usize = rules
        .functions
        .iter()
        .map(|f| f.required_roles().count().saturating_sub(1))
        .sum();
    let bar = progress.bar((keys.len() + aligned_count) as u64, "capacity");
    // Every role at each need rate on its own: the most it can serve; and AccessMod's fill
    // beside it when asked. The maximum flows are taken first and the fills after them, each
    // thread taking the next task left, so that the shorter fills keep a thread busy while
    // the last maximum flows run (each result depends on its task only).
    let fill_of = |role: usize, need: &[i64], o: Order| -> Flow {
        let role_input = input(role);
        let (providers, capacity, pairs) = (&role_input.providers, &role_input.capacity, &*role_input.pairs);
        let mut by: Vec<usize> = (0..providers.len()).collect();
        match o {
            Order::Capacity => by.sort_by(|&a, &b| capacity[b].cmp(&capacity[a]).then(a.cmp(&b))),
            Order::Id => by.sort_by(|&a, &b| {
                study.institutions[providers[a]]
                    .id
                    .cmp(&study.institutions[providers[b]].id)
                    .then(a.cmp(&b))
            }),
        }
        flow::fill_in_order(pairs, need, capacity, &by)
    };
    let needs: Vec<Vec<i64>> = keys
        .iter()
        .map(|&(_, rate_bits)| need_at(f64::from_bits(rate_bits)))
        .collect();
    let tasks: Vec<usize> = (0..keys.len() * if order.is_some() { 2 } else { 1 }).collect();
    let mut flows = crate::tasks::in_order_of(&tasks, |t| {
        let k = t % keys.len();
        let role_input = input(keys[k].0);
        match order.filter(|_| t >= keys.len()) {
            None => {
                let max = flow::max_flow_shared(&*role_input.pairs, &needs[k], &role_input.capacity, &SHARE_TIERS);
                bar.inc(1);
                max
            }
            Some(o) => fill_of(keys[k].0, &needs[k], o),
        }
    })
    .into_iter();
    let maxima: Vec<Flow> = flows.by_ref().take(keys.len()).collect();
    let fills = flows.map(Some).chain(std::iter::repeat_with(|| None));
    let mut problems: Vec<Problem> = keys
        .iter()
        .zip(functions_of)
        .zip(needs)
        .zip(maxima.into_iter().zip(fills))
        .map(|(((&(role, rate_bits), functions), need), (max, fill))| {
            let role_input = input(role);
            Problem {
                role,
                rate: f64::from_bits(rate_bits),
                functions,
                after: Vec::new(),
                providers: role_input.providers.clone(),
                capacity: role_input.capacity.clone(),
                need,
                flow: max,
                fill,
            }
        })
        .collect();
    // Per function, the roles lined up: the scarcest role's assignment as it is, then each
    // next role serves first what the roles before it serve everywhere.
    let share = |p: &Problem| {
        let need: i64 = p.need.iter().sum();
        if need > 0 {
            p.flow.total() as f64 / need as f64
        } else {
            1.0
        }
    };
    let aligned: Vec<Vec<(usize, Problem)>> = rules
        .functions
        .par_iter()
        .enumerate()
        .map(|(f, function)| {
            let mut required: Vec<usize> = function
                .roles
                .iter()
                .enumerate()
                .filter(|(_, u)| u.required)
                .map(|(k, _)| k)
                .collect();
            let independent = |k: usize| &problems[function_problems[f][k]];
            required.sort_by(|&a, &b| share(independent(a)).total_cmp(&share(independent(b))).then(a.cmp(&b)));
            let mut out = Vec::new();
            let Some((&head, rest)) = required.split_first() else {
                return out;
            };
            let mut served_all: Vec<i64> = independent(head).flow.served.clone();
            let mut after = vec![independent(head).role];
            for &k in rest {
                let p = independent(k);
                let role_input = input(p.role);
                let first: Vec<i64> = served_all.iter().zip(&p.need).map(|(a, n)| *a.min(n)).collect();
                // Where the role's own maximum already serves all of that, it is lined up.
                let flow = if p.flow.served.iter().zip(&first).all(|(s, f)| s >= f) {
                    p.flow.clone()
                } else {
                    flow::align(&*role_input.pairs, &p.flow, &first, &role_input.capacity)
                };
                for (a, b) in served_all.iter_mut().zip(&flow.served) {
                    *a = (*a).min(*b);
                }
                out.push((
                    k,
                    Problem {
                        role: p.role,
                        rate: p.rate,
                        functions: vec![f],
                        after: after.clone(),
                        providers: p.providers.clone(),
                        capacity: p.capacity.clone(),
                        need: p.need.clone(),
                        flow,
                        fill: p.fill.clone(),
                    },
                ));
                after.push(p.role);
                bar.inc(1);
            }
            out
        })
        .collect();
    bar.finish_and_clear();
    let independent = function_problems.clone();
    let mut function_problems = function_problems;
    for (f, list) in aligned.into_iter().enumerate() {
        for (k, problem) in list {
            // The independent problem no longer answers for this function.
            let old = function_problems[f][k];
            problems[old].functions.retain(|&g| g != f);
            function_problems[f][k] = problems.len();
            problems.push(problem);
        }
    }
    Capacity {
        problems,
        function_problems,
        independent,
        need_rate: rates,
        need_rate_source: sources,
        institution_capacity: caps,
        order,
    }
}

/// A role's providers, their capacities (units) and its pairs within reach.
struct RoleInput<'a> {
    providers: Vec<usize>,
    capacity: Vec<i64>,
    pairs: Box<dyn Pairs + Send + 'a>,
}

/// A role's (or, `None`, the function's) served need, need and fill's served need per place.
type Series<'a> = (Option<usize>, &'a [i64], &'a [i64], Option<&'a [i64]>);

/// One row of capacity.csv: an area, a function, a role (`None`: every required role).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AreaRow {
    pub level: &'static str,
    pub area_code: String,
    pub function: usize,
    pub role: Option<usize>,
    pub served: Served,
    /// AccessMod's fill, when run.
    pub fill: Option<Served>,
}

/// Rows per area (municipalities, regions, prefectures, the whole input), function and
/// role, plus each function's row over its required roles (`role: None`) first.
pub fn area_rows(study: &Study, cap: &Capacity) -> Vec<AreaRow> {
    area_rows_of(study, cap, crate::indicators::areas(study))
}

/// [`area_rows`] of one level only (`all`: the whole input).
pub fn area_rows_at(study: &Study, cap: &Capacity, level: &str) -> Vec<AreaRow> {
    let areas = crate::indicators::areas(study)
        .into_iter()
        .filter(|a| a.level == level)
        .collect();
    area_rows_of(study, cap, areas)
}

fn area_rows_of(study: &Study, cap: &Capacity, areas: Vec<crate::indicators::Area>) -> Vec<AreaRow> {
    let ranges = municipality_ranges(&study.demand, study.municipalities.len());
    let mut out = Vec::new();
    for (f, function) in study.rules.functions.iter().enumerate() {
        let need = cap.function_need(f);
        let served = cap.function_served(f, study, false);
        let fill = cap.order.map(|_| cap.function_served(f, study, true));
        let mut series: Vec<Series> = vec![(None, &served[..], need, fill.as_deref())];
        for (k, (u, &p)) in function.roles.iter().zip(&cap.function_problems[f]).enumerate() {
            let problem = &cap.problems[p];
            series.push((
                Some(u.role),
                &problem.flow.served,
                &problem.need,
                cap.problems[cap.independent[f][k]].fill.as_ref().map(|x| &x.served[..]),
            ));
        }
        // Areas side by side (each row sums its own places), rows kept in area order.
        let rows: Vec<Vec<AreaRow>> = areas
            .par_iter()
            .map(|area| {
                let places: Vec<usize> = match &area.members {
                    Some(members) => members.iter().flat_map(|&m| ranges[m].clone()).collect(),
                    None => (0..study.demand.cells.len()).collect(),
                };
                series
                    .iter()
                    .map(|&(role, served, need, fill)| AreaRow {
                        level: area.level,
                        area_code: area.code.clone(),
                        function: f,
                        role,
                        served: Served::over(need, served, places.iter().copied()),
                        fill: fill.map(|x| Served::over(need, x, places.iter().copied())),
                    })
                    .collect()
            })
            .collect();
        out.extend(rows.into_iter().flatten());
    }
    out
}

/// Providers of each kind that took their kind's default capacity (kinds in order).
pub fn defaults_used(study: &Study, cap: &Capacity) -> Vec<(Kind, usize, f64)> {
    let mut used = vec![false; study.institutions.len()];
    for p in &cap.problems {
        for &k in &p.providers {
            used[k] = true;
        }
    }
    let mut out: Vec<(Kind, usize, f64)> = Vec::new();
    for (k, inst) in study.institutions.iter().enumerate() {
        if used[k] && cap.institution_capacity[k].1 == CapacitySource::KindDefault {
            match out.iter_mut().find(|e| e.0 == inst.kind) {
                Some(e) => e.1 += 1,
                None => out.push((inst.kind, 1, cap.institution_capacity[k].0)),
            }
        }
    }
    out.sort_by_key(|e| e.0);
    out
}
