//! The planning workbench's state: a study read once, and the edits a meeting tries on it
//! (close or reopen an institution, add one, close everything inside a drawn area, change a
//! role's reach or whether a function requires it), with undo and redo.
//!
//! The edits are kept as a scenario file's text: every change writes the scenario of the
//! current state (`remove` of the closed base institutions, `add` of the new ones,
//! `[[rule_edits]]`), reads it back with the scenario reader and applies it to the study, as
//! `zaitaku compare BASE that.toml` does. So what the page shows and the file it downloads
//! are the same edits read by the same code. Reach is updated from the base's for the
//! institutions that differ (straight line; roles whose rules changed are measured afresh;
//! by travel time every role is measured afresh), coverage recomputed, and the comparison
//! with the base made by `compare::compare`.

use crate::compare::{self, Diff};
use crate::coverage::{self, Coverage};
use crate::criticality::{self, Criticality};
use crate::error::{Error, Result};
use crate::inputs::institutions::{Flag, Kind};
use crate::inputs::scenario::{edits_from_str, sha256_hex, RuleEdit};
use crate::progress::Progress;
use crate::reach::straight::{straight_line_reach, update_reach};
use crate::reach::ReachTable;
use crate::study::edits::{apply_edits, apply_rule_edits};
use crate::study::Study;
use geo::{Contains, LineString, Point, Polygon};
use std::collections::BTreeSet;
use std::time::Instant;

/// A new institution placed on the map.
#[derive(Debug, Clone, PartialEq)]
pub struct NewInstitution {
    pub id: String,
    pub name: String,
    pub kind: Kind,
    pub lat: f64,
    pub lon: f64,
    pub flags: Vec<Flag>,
    pub capacity: Option<f64>,
    pub beds: Option<f64>,
}

/// One edit as the page made it.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Close institutions (one clicked, or those inside a drawn area).
    Close {
        ids: Vec<String>,
        area: bool,
    },
    /// Reopen institutions closed before.
    Reopen {
        ids: Vec<String>,
    },
    Add(NewInstitution),
    Rule(RuleEdit),
}

impl Change {
    /// A line for the page's list of edits.
    pub fn describe(&self) -> String {
        match self {
            Change::Close { ids, area: false } => format!("close {}", ids.join(", ")),
            Change::Close { ids, area: true } => format!("close the {} institutions inside the area drawn", ids.len()),
            Change::Reopen { ids } => format!("reopen {}", ids.join(", ")),
            Change::Add(n) => format!("add {} ({}) at {:.5}, {:.5}", n.id, n.kind.as_str(), n.lat, n.lon),
            Change::Rule(r) => {
                let mut parts = Vec::new();
                if let Some(km) = r.reach_km {
                    parts.push(format!("reach_km {km}"));
                }
                if let Some(min) = r.reach_min {
                    parts.push(format!("reach_min {min}"));
                }
                if let Some(req) = r.required {
                    parts.push(if req { "required".into() } else { "optional".to_string() });
                }
                format!("{}/{}: {}", r.function, r.role, parts.join(", "))
            }
        }
    }
}

/// The study after the active edits.
pub struct State {
    pub study: Study,
    pub reach: ReachTable,
    pub coverage: Coverage,
    pub diff: Diff,
    /// The scenario text these edits are.
    pub scenario: String,
    /// Seconds the last change took to measure.
    pub seconds: f64,
}

/// The workbench: the base study and the edits.
pub struct Workbench {
    pub base: Study,
    pub base_reach: ReachTable,
    pub base_coverage: Coverage,
    pub min_share: f64,
    /// Lines that open the scenario file: its name and where its inputs come from.
    header: String,
    changes: Vec<Change>,
    /// `changes[..active]` are applied; the rest can be redone.
    active: usize,
    /// `states[k]`: the study after `changes[..k]`; the base (0) and the active state are
    /// always kept, at most [`KEPT_STATES`] others (the rest are measured again if needed).
    states: Vec<Option<State>>,
    /// The state of no edits (`states[0]` stays empty).
    base_state: State,
    /// Places in mesh code order (the order `compare` adds cells up in).
    code_order: Vec<u32>,
    /// Places of each municipality.
    ranges: Vec<std::ops::Range<usize>>,
}

/// States kept for undo and redo besides the base and the active one (each holds the
/// institutions, reach and coverage: about 100 MB nationally).
const KEPT_STATES: usize = 8;

/// A TOML basic string.
fn quoted(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

impl Workbench {
    /// A workbench on `study` (reach and coverage measured here). `header` opens the
    /// scenario file the edits are written into (`name = ...` and `base = ...` or
    /// `[inputs]`).
    pub fn new(study: Study, header: String, min_share: f64, progress: Progress) -> Result<Workbench> {
        let (reach, _) = crate::run::measure_reach(&study, progress)?;
        let cov = coverage::compute(&study.demand, &study.municipalities, &study.rules, &reach);
        let mut code_order: Vec<u32> = (0..study.demand.cells.len() as u32).collect();
        let codes: Vec<String> = study.demand.cells.iter().map(|c| c.mesh.code()).collect();
        code_order.sort_by(|&a, &b| codes[a as usize].cmp(&codes[b as usize]));
        let ranges = coverage::municipality_ranges(&study.demand, study.municipalities.len());
        let state = State {
            study: light(&study),
            reach: reach.clone(),
            coverage: cov.clone(),
            diff: Diff {
                functions: Vec::new(),
                unmatched_functions: Vec::new(),
                rows: Vec::new(),
                changes: Vec::new(),
                layouts: None,
            },
            scenario: header.clone(),
            seconds: 0.0,
        };
        let mut bench = Workbench {
            base: study,
            base_reach: reach,
            base_coverage: cov,
            min_share,
            header,
            changes: Vec::new(),
            active: 0,
            states: vec![None],
            base_state: state,
            code_order,
            ranges,
        };
        bench.base_state.diff = bench.diff(&bench.base_coverage);
        Ok(bench)
    }

    /// The study after the active edits.
    pub fn state(&self) -> &State {
        self.states
            .get(self.active)
            .and_then(Option::as_ref)
            .unwrap_or(&self.base_state)
    }

    /// The state after `changes[..k]`, measured from the nearest kept state before it.
    fn state_at(&self, k: usize) -> Result<State> {
        let from = (1..k)
            .rev()
            .find(|&j| self.states.get(j).is_some_and(Option::is_some))
            .unwrap_or(0);
        let start = self
            .states
            .get(from)
            .and_then(Option::as_ref)
            .unwrap_or(&self.base_state);
        let mut state: Option<State> = None;
        for j in from + 1..=k {
            let prev = state.as_ref().unwrap_or(start);
            state = Some(self.measure(&self.changes[..j], Some(prev))?);
        }
        match state {
            Some(s) => Ok(s),
            None => self.measure(&self.changes[..k], None),
        }
    }

    /// Keeps the base, the active state and the [`KEPT_STATES`] nearest to it.
    fn forget_far_states(&mut self) {
        let active = self.active;
        for (k, s) in self.states.iter_mut().enumerate() {
            if k != 0 && k != active && k.abs_diff(active) > KEPT_STATES / 2 {
                *s = None;
            }
        }
    }

    /// The edits applied, in order, and those that can be redone.
    pub fn changes(&self) -> (&[Change], &[Change]) {
        (&self.changes[..self.active], &self.changes[self.active..])
    }

    /// Checks an edit against the current state and applies it (later edits that were
    /// undone are dropped).
    pub fn apply(&mut self, change: Change) -> Result<()> {
        let usage = |m: String| Error::Usage(m);
        let open: BTreeSet<&str> = self.state().study.institutions.iter().map(|i| i.id.as_str()).collect();
        match &change {
            Change::Close { ids, area } => {
                if ids.is_empty() {
                    return Err(usage(if *area {
                        "no open institution lies inside the area drawn".into()
                    } else {
                        "close: no institution named".into()
                    }));
                }
                if let Some(id) = ids.iter().find(|id| !open.contains(id.as_str())) {
                    return Err(usage(format!("close: no open institution '{id}'")));
                }
            }
            Change::Reopen { ids } => {
                let closed = self.closed();
                if let Some(id) = ids.iter().find(|id| !closed.contains(id.as_str())) {
                    return Err(usage(format!("reopen: '{id}' is not closed")));
                }
            }
            Change::Add(n) => {
                if n.id.is_empty()
                    || self.base.institutions.iter().any(|i| i.id == n.id)
                    || open.contains(n.id.as_str())
                {
                    return Err(usage(format!("add: the id '{}' is empty or taken", n.id)));
                }
                if !(-90.0..=90.0).contains(&n.lat) || !(-180.0..=180.0).contains(&n.lon) {
                    return Err(usage(format!(
                        "add: {}, {} is not a latitude and longitude",
                        n.lat, n.lon
                    )));
                }
            }
            Change::Rule(_) => {}
        }
        let mut changes = self.changes[..self.active].to_vec();
        changes.push(change);
        let state = self.measure(&changes, Some(self.state()))?;
        self.changes = changes;
        self.states.truncate(self.active + 1);
        self.states.push(Some(state));
        self.active = self.changes.len();
        self.forget_far_states();
        Ok(())
    }

    /// Undoes the last edit; false when there is none.
    pub fn undo(&mut self) -> Result<bool> {
        if self.active == 0 {
            return Ok(false);
        }
        self.move_to(self.active - 1)?;
        Ok(true)
    }

    /// Redoes the last edit undone; false when there is none.
    pub fn redo(&mut self) -> Result<bool> {
        if self.active == self.changes.len() {
            return Ok(false);
        }
        self.move_to(self.active + 1)?;
        Ok(true)
    }

    fn move_to(&mut self, k: usize) -> Result<()> {
        if k > 0 && self.states.get(k).is_none_or(Option::is_none) {
            let state = self.state_at(k)?;
            self.states.resize_with(self.states.len().max(k + 1), || None);
            self.states[k] = Some(state);
        }
        self.active = k;
        self.forget_far_states();
        Ok(())
    }

    /// Ids of base or added institutions closed by the active edits.
    fn closed(&self) -> BTreeSet<&str> {
        let mut closed = BTreeSet::new();
        for c in &self.changes[..self.active] {
            match c {
                Change::Close { ids, .. } => closed.extend(ids.iter().map(String::as_str)),
                Change::Reopen { ids } => {
                    for id in ids {
                        closed.remove(id.as_str());
                    }
                }
                _ => {}
            }
        }
        closed
    }

    /// The open institutions inside a ring of (lon, lat).
    pub fn inside(&self, ring: &[(f64, f64)]) -> Vec<String> {
        let polygon = Polygon::new(LineString::from(ring.to_vec()), Vec::new());
        self.state()
            .study
            .institutions
            .iter()
            .filter(|i| polygon.contains(&Point::new(i.lon, i.lat)))
            .map(|i| i.id.clone())
            .collect()
    }

    /// The scenario of the given edits: removals of closed base institutions (in base
    /// order), additions still open, rule edits in order.
    fn scenario_text(&self, changes: &[Change]) -> String {
        let mut closed: BTreeSet<&str> = BTreeSet::new();
        let mut added: Vec<&NewInstitution> = Vec::new();
        let mut rules: Vec<&RuleEdit> = Vec::new();
        for c in changes {
            match c {
                Change::Close { ids, .. } => closed.extend(ids.iter().map(String::as_str)),
                Change::Reopen { ids } => {
                    for id in ids {
                        closed.remove(id.as_str());
                    }
                }
                Change::Add(n) => added.push(n),
                Change::Rule(r) => rules.push(r),
            }
        }
        let mut text = self.header.clone();
        let removed: Vec<String> = self
            .base
            .institutions
            .iter()
            .filter(|i| closed.contains(i.id.as_str()))
            .map(|i| quoted(&i.id))
            .collect();
        if !removed.is_empty() {
            text.push_str(&format!(
                "\n[[edits]]\naction = \"remove\"\nids = [{}]\n",
                removed.join(", ")
            ));
        }
        let rows: Vec<String> = added
            .iter()
            .filter(|n| !closed.contains(n.id.as_str()))
            .map(|n| {
                let mut fields = vec![
                    format!("id = {}", quoted(&n.id)),
                    format!("name = {}", quoted(&n.name)),
                    format!("kind = {}", quoted(n.kind.as_str())),
                    format!("lat = {}", n.lat),
                    format!("lon = {}", n.lon),
                ];
                fields.extend(n.flags.iter().map(|f| format!("{} = 1", f.as_str())));
                if let Some(c) = n.capacity {
                    fields.push(format!("capacity = {c}"));
                }
                if let Some(b) = n.beds {
                    fields.push(format!("beds = {b}"));
                }
                format!("{{ {} }}", fields.join(", "))
            })
            .collect();
        for row in rows {
            text.push_str(&format!("\n[[edits]]\naction = \"add\"\ninstitutions = [{row}]\n"));
        }
        for r in rules {
            text.push_str(&format!(
                "\n[[rule_edits]]\nfunction = {}\nrole = {}\n",
                quoted(&r.function),
                quoted(&r.role)
            ));
            if let Some(km) = r.reach_km {
                text.push_str(&format!("reach_km = {km:?}\n"));
            }
            if let Some(min) = r.reach_min {
                text.push_str(&format!("reach_min = {min:?}\n"));
            }
            if let Some(req) = r.required {
                text.push_str(&format!("required = {req}\n"));
            }
        }
        text
    }

    /// The state after `changes`: their scenario read back and applied to the base. Reach
    /// is updated from `prev` (the state after all but the last change) or the base, for the
    /// institutions that differ; roles whose rules differ are measured afresh.
    fn measure(&self, changes: &[Change], prev: Option<&State>) -> Result<State> {
        let t = Instant::now();
        let lap = |what: &str| {
            if std::env::var_os("ZAITAKU_LAPS").is_some() {
                eprintln!("{what}: {:.3}", t.elapsed().as_secs_f64())
            }
        };
        let scenario = self.scenario_text(changes);
        let (edits, rule_edits) = edits_from_str(&scenario, "workbench scenario")?;
        let mut alt = light(&self.base);
        apply_rule_edits(&mut alt.rules, &rule_edits, "workbench scenario")?;
        apply_edits(&mut alt, &edits)?;
        lap("edits");
        let (before, before_rules, before_reach) = match prev {
            Some(p) => (&p.study.institutions, &p.study.rules, &p.reach),
            None => (&self.base.institutions, &self.base.rules, &self.base_reach),
        };
        let reach = if alt.network.is_some() || alt.od.is_some() {
            crate::run::measure_reach(&alt, Progress::Quiet)?.0
        } else {
            let places = self.base.demand.places();
            let mut reach = update_reach(&places, before_reach, before, &alt.institutions, &alt.rules);
            for (r, role) in alt.rules.roles.iter().enumerate() {
                if Some(role) != before_rules.roles.get(r) {
                    let mut one = alt.rules.clone();
                    one.roles = vec![role.clone()];
                    let table = straight_line_reach(&places, &alt.institutions, &one, Progress::Quiet);
                    if let Some(fresh) = table.roles.into_iter().next() {
                        reach.roles[r] = fresh;
                    }
                }
            }
            reach
        };
        lap("reach");
        let cov = self.light_coverage(&alt.rules, &reach);
        lap("coverage");
        let diff = self.diff(&cov);
        lap("diff");
        Ok(State {
            study: alt,
            reach,
            coverage: cov,
            diff,
            scenario,
            seconds: t.elapsed().as_secs_f64(),
        })
    }

    /// Coverage as far as the workbench shows it: per function the covered places, and the
    /// demand and covered demand of each municipality and of the whole input, summed in the
    /// order [`coverage::compute`] sums them (so the figures are equal to the last bit).
    /// Distances, role figures and prefectures are left out.
    fn light_coverage(&self, rules: &crate::inputs::rules::Rules, reach: &ReachTable) -> Coverage {
        use rayon::prelude::*;
        let cells = &self.base.demand.cells;
        let functions: Vec<coverage::FunctionCells> = rules
            .functions
            .iter()
            .map(|f| {
                let required: Vec<usize> = f.required_roles().collect();
                coverage::FunctionCells {
                    covered: (0..cells.len())
                        .into_par_iter()
                        .map(|i| required.iter().all(|&r| reach.roles[r].in_reach[i] > 0))
                        .collect(),
                    distance: Vec::new(),
                }
            })
            .collect();
        let stats = |range: std::ops::Range<usize>| -> Vec<coverage::Stats> {
            functions
                .iter()
                .map(|fc| {
                    let (mut demand, mut covered) = (0.0, 0.0);
                    for i in range.clone() {
                        let w = cells[i].demand;
                        if w <= 0.0 {
                            continue;
                        }
                        demand += w;
                        if fc.covered[i] {
                            covered += w;
                        }
                    }
                    if demand <= 0.0 {
                        return coverage::Stats::default();
                    }
                    coverage::Stats {
                        demand,
                        covered,
                        share: Some((covered / demand).clamp(0.0, 1.0)),
                        ..Default::default()
                    }
                })
                .collect()
        };
        let municipalities = self.ranges.par_iter().map(|r| stats(r.clone())).collect();
        let total = stats(0..cells.len());
        Coverage {
            functions,
            municipalities,
            roles: Vec::new(),
            prefectures: Default::default(),
            total,
        }
    }

    /// The comparison of the base with a state, as [`compare::compare`] makes it from the
    /// two sides (same municipalities and functions): municipalities in order, cells in
    /// mesh code order.
    fn diff(&self, cov: &Coverage) -> Diff {
        let base = &self.base_coverage;
        let functions: Vec<String> = self.base.rules.functions.iter().map(|f| f.id.clone()).collect();
        let mut rows = Vec::new();
        let mut changes = vec![compare::FunctionChange::default(); functions.len()];
        for m in 0..self.base.municipalities.len() {
            for (f, c) in changes.iter_mut().enumerate() {
                let (b, a) = (&base.municipalities[m][f], &cov.municipalities[m][f]);
                let row = compare::DiffRow {
                    municipality: m,
                    function: f,
                    base: (b.demand, b.covered),
                    alt: (a.demand, a.covered),
                };
                c.add_row(&row, self.min_share);
                rows.push(row);
            }
        }
        let cells = &self.base.demand.cells;
        for &i in &self.code_order {
            let i = i as usize;
            for (f, c) in changes.iter_mut().enumerate() {
                let d = cells[i].demand;
                c.add_cell((d, base.functions[f].covered[i]), (d, cov.functions[f].covered[i]));
            }
        }
        Diff {
            functions,
            unmatched_functions: Vec::new(),
            rows,
            changes,
            layouts: None,
        }
    }

    /// Criticality of the current state.
    pub fn criticality(&self) -> Criticality {
        let travel = crate::reach::pairs::Travel::of(&self.state().study);
        criticality::compute(
            &self.state().study,
            &self.state().reach,
            &self.state().coverage,
            travel.as_ref(),
        )
    }

    /// The lock of the current scenario: its text's SHA-256, the base's lock (or inputs),
    /// the edits and the rules as applied.
    pub fn lock_json(&self) -> serde_json::Value {
        let base = match &self.base.scenario {
            Some(applied) => applied.lock_json(&self.base.rules),
            None => serde_json::json!({"inputs": self.base.files}),
        };
        let st = self.state();
        let (edits, rule_edits) = edits_from_str(&st.scenario, "workbench scenario").unwrap_or_default();
        serde_json::json!({
            "zaitaku_version": env!("CARGO_PKG_VERSION"),
            "scenario_sha256": sha256_hex(st.scenario.as_bytes()),
            "base": base,
            "edits": edits,
            "rule_edits": rule_edits,
            "rules_applied": st.study.rules,
        })
    }
}

/// The study without its polygons and regions (the state's own copy: polygons stay with
/// the base).
fn light(study: &Study) -> Study {
    Study {
        municipalities: Vec::new(),
        demand: study.demand.clone(),
        institutions: study.institutions.clone(),
        rules: study.rules.clone(),
        rules_source: study.rules_source.clone(),
        regions: Vec::new(),
        rejects: Vec::new(),
        files: Vec::new(),
        scenario: None,
        network: study.network.clone(),
        od: study.od.clone(),
        secrecy: study.secrecy.clone(),
        credits: Vec::new(),
    }
}
