//! Where to add providers: the maximal covering location problem (Church and ReVelle 1974)
//! for one role of one function. Demand that a new provider of the role would cover is the
//! demand left uncovered for the function only because the role is out of reach (every
//! other required role is within reach). Candidates are existing institutions of the
//! role's kinds that lack its designations (they could take it on), and the centres of
//! that demand's cells (a new site). Sites are chosen greedily with lazy evaluation, which
//! is within 1 - 1/e of the optimum (Nemhauser, Wolsey and Fisher 1978) and exact for one
//! site. In travel-time mode a candidate covers the places it reaches within the role's
//! `reach_min` by road (or as an OD matrix lists them; new sites then need a road graph)
//! and within its `reach_km`.

use crate::coverage::Coverage;
use crate::error::{Error, Result};
use crate::inputs::institutions::Institution;
use crate::reach::pairs::Travel;
use crate::reach::straight::ProviderIndex;
use crate::reach::ReachTable;
use crate::study::Study;
use rayon::prelude::*;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Which candidates to consider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Candidates {
    Institutions,
    Cells,
    Both,
}

/// A candidate site.
#[derive(Debug, Clone, PartialEq)]
pub enum Site {
    /// An existing institution (index) that would take on the role.
    Existing(usize),
    /// A new provider at the centre of a demand cell (index).
    New(usize),
}

/// One chosen site.
#[derive(Debug, Clone, PartialEq)]
pub struct Pick {
    pub site: Site,
    pub lon: f64,
    pub lat: f64,
    /// Demand newly covered by this site, given the sites before it.
    pub added: f64,
}

/// The answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    pub function: usize,
    pub role: usize,
    /// Demand uncovered for the function.
    pub uncovered: f64,
    /// Of it, demand only this role keeps uncovered (what sites can win).
    pub coverable: f64,
    pub candidates: usize,
    pub picks: Vec<Pick>,
}

#[derive(PartialEq)]
struct Entry {
    gain: f64,
    candidate: usize,
    round: usize,
}

impl Eq for Entry {}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        self.gain
            .total_cmp(&other.gain)
            .then(other.candidate.cmp(&self.candidate))
    }
}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The role of `function` that keeps the most demand uncovered on its own (ties: the first).
pub fn blocking_role(study: &Study, reach: &ReachTable, cov: &Coverage, f: usize) -> Option<usize> {
    let required: Vec<usize> = study.rules.functions[f].required_roles().collect();
    let mut best: Option<(f64, usize)> = None;
    for &r in &required {
        let d: f64 = coverable_cells(study, reach, cov, f, r)
            .iter()
            .map(|&i| study.demand.cells[i].demand)
            .sum();
        if best.is_none_or(|b| d > b.0) {
            best = Some((d, r));
        }
    }
    best.map(|b| b.1)
}

/// Cells uncovered for `f` where `r` is the only required role out of reach.
fn coverable_cells(study: &Study, reach: &ReachTable, cov: &Coverage, f: usize, r: usize) -> Vec<usize> {
    let required: Vec<usize> = study.rules.functions[f].required_roles().collect();
    (0..study.demand.cells.len())
        .filter(|&i| {
            study.demand.cells[i].demand > 0.0
                && !cov.functions[f].covered[i]
                && reach.roles[r].in_reach[i] == 0
                && required.iter().all(|&q| q == r || reach.roles[q].in_reach[i] > 0)
        })
        .collect()
}

/// Chooses up to `sites` sites for role `r` of function `f`.
pub fn suggest(
    study: &Study,
    reach: &ReachTable,
    cov: &Coverage,
    f: usize,
    r: usize,
    sites: usize,
    which: Candidates,
) -> Result<Suggestion> {
    let role = &study.rules.roles[r];
    if !study.rules.functions[f].required_roles().any(|q| q == r) {
        return Err(Error::Usage(format!(
            "role '{}' is not a required role of function '{}'",
            role.id, study.rules.functions[f].id
        )));
    }
    let cells = &study.demand.cells;
    let uncovered: f64 = (0..cells.len())
        .filter(|&i| !cov.functions[f].covered[i])
        .map(|i| cells[i].demand)
        .sum();
    let coverable = coverable_cells(study, reach, cov, f, r);
    let coverable_demand: f64 = coverable.iter().map(|&i| cells[i].demand).sum();
    let mut candidates: Vec<(Site, f64, f64)> = Vec::new();
    if which != Candidates::Cells {
        for (k, inst) in study.institutions.iter().enumerate() {
            if could_take_on(role, inst) {
                candidates.push((Site::Existing(k), inst.lon, inst.lat));
            }
        }
    }
    let travel = Travel::of(study);
    if matches!(travel, Some(Travel::Od(_))) && which == Candidates::Cells {
        return Err(Error::Usage(
            "suggest --candidates cells needs travel times from new sites: an OD matrix lists only its institutions;              use --network, or --candidates institutions"
                .into(),
        ));
    }
    if which != Candidates::Institutions && !matches!(travel, Some(Travel::Od(_))) {
        for &i in &coverable {
            candidates.push((Site::New(i), cells[i].lon, cells[i].lat));
        }
    }
    // Per candidate: the coverable cells (positions in `coverable`) within reach.
    let covers: Vec<Vec<u32>> = match &travel {
        None => {
            let points: Vec<(f64, f64)> = coverable.iter().map(|&i| (cells[i].lon, cells[i].lat)).collect();
            let index = ProviderIndex::new(&points);
            let reach_m = role.reach_km * 1000.0;
            candidates
                .par_iter()
                .map(|&(_, lon, lat)| {
                    if index.is_empty() {
                        Vec::new()
                    } else {
                        index
                            .pairs_within((lon, lat), reach_m)
                            .into_iter()
                            .map(|p| p.0)
                            .collect()
                    }
                })
                .collect()
        }
        // By travel time: each candidate's places within reach_min (and reach_km), kept
        // where coverable. Existing institutions by their own rows (an OD matrix's too), new
        // sites from their cell centres.
        Some(travel) => {
            let mut position = vec![u32::MAX; cells.len()];
            for (k, &i) in coverable.iter().enumerate() {
                position[i] = k as u32;
            }
            let reach_min = role.reach_min.unwrap_or(0.0);
            let existing: Vec<usize> = candidates
                .iter()
                .filter_map(|c| match c.0 {
                    Site::Existing(k) => Some(k),
                    Site::New(_) => None,
                })
                .collect();
            let mut pairs = travel.institutions_within(study, &existing, reach_min, role.reach_km);
            let new: Vec<(f64, f64)> = candidates
                .iter()
                .filter(|c| matches!(c.0, Site::New(_)))
                .map(|c| (c.1, c.2))
                .collect();
            if !new.is_empty() {
                pairs.extend(travel.points_within(&new, reach_min, role.reach_km).unwrap_or_default());
            }
            pairs
                .into_iter()
                .map(|list| {
                    list.into_iter()
                        .map(|(i, _)| position[i as usize])
                        .filter(|&k| k != u32::MAX)
                        .collect()
                })
                .collect()
        }
    };
    let weight = |k: u32| cells[coverable[k as usize]].demand;
    let mut taken = vec![false; coverable.len()];
    let gain = |c: usize, taken: &[bool]| -> f64 {
        covers[c]
            .iter()
            .filter(|&&k| !taken[k as usize])
            .map(|&k| weight(k))
            .sum()
    };
    let mut heap: BinaryHeap<Entry> = (0..candidates.len())
        .map(|c| Entry {
            gain: gain(c, &taken),
            candidate: c,
            round: 0,
        })
        .collect();
    let mut picks = Vec::new();
    while picks.len() < sites {
        let Some(top) = heap.pop() else { break };
        if top.round != picks.len() {
            // Stale: gains only fall as sites are chosen, so re-score and put back.
            heap.push(Entry {
                gain: gain(top.candidate, &taken),
                candidate: top.candidate,
                round: picks.len(),
            });
            continue;
        }
        if top.gain <= 0.0 {
            break;
        }
        for &k in &covers[top.candidate] {
            taken[k as usize] = true;
        }
        let (site, lon, lat) = candidates[top.candidate].clone();
        picks.push(Pick {
            site,
            lon,
            lat,
            added: top.gain,
        });
    }
    Ok(Suggestion {
        function: f,
        role: r,
        uncovered,
        coverable: coverable_demand,
        candidates: candidates.len(),
        picks,
    })
}

/// An institution of the role's kinds and beds that lacks some of its designations.
fn could_take_on(role: &crate::inputs::rules::Role, inst: &Institution) -> bool {
    role.kinds.contains(inst.kind) && inst.beds.unwrap_or(0.0) >= role.min_beds && !role.matches(inst)
}
