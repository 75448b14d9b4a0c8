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

use crate::compare::{self, Diff, Side};
use crate::coverage::{self, Coverage};
use crate::criticality::{self, Criticality};
use crate::error::{Error, Result};
use crate::inputs::institutions::{Flag, Kind};
use crate::inputs::scenario::{apply_edits, apply_rule_edits, edits_from_str, sha256_hex, RuleEdit};
use crate::inputs::Study;
use crate::progress::Progress;
use crate::reach::straight::{straight_line_reach, update_reach};
use crate::reach::ReachTable;
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
    base_side: Side,
    pub min_share: f64,
    /// Lines that open the scenario file: its name and where its inputs come from.
    header: String,
    changes: Vec<Change>,
    /// `changes[..active]` are applied; the rest can be redone.
    active: usize,
    pub state: State,
}

/// Figures of a side without its geometry (the comparison does not draw).
fn side(
    label: &str,
    study: &Study,
    municipalities: &[crate::inputs::municipalities::Municipality],
    cov: &Coverage,
) -> Side {
    let empty = geo::MultiPolygon::new(Vec::new());
    Side {
        label: label.to_string(),
        functions: study.rules.functions.iter().map(|f| f.id.clone()).collect(),
        municipalities: municipalities
            .iter()
            .enumerate()
            .map(|(m, muni)| compare::SideMunicipality {
                code: muni.code.clone(),
                name: muni.name.clone(),
                prefecture: muni.prefecture.clone(),
                geometry: empty.clone(),
                figures: cov.municipalities[m].iter().map(|s| (s.demand, s.covered)).collect(),
            })
            .collect(),
        cells: study
            .demand
            .cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                (
                    c.mesh.code(),
                    (c.demand, cov.functions.iter().map(|f| f.covered[i]).collect()),
                )
            })
            .collect(),
        catchments: None,
    }
}

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
        let base_side = side("base", &study, &study.municipalities, &cov);
        let diff = compare::compare(&base_side, &base_side, min_share)?;
        let state = State {
            study: light(&study),
            reach: reach.clone(),
            coverage: cov.clone(),
            diff,
            scenario: header.clone(),
            seconds: 0.0,
        };
        Ok(Workbench {
            base: study,
            base_reach: reach,
            base_coverage: cov,
            base_side,
            min_share,
            header,
            changes: Vec::new(),
            active: 0,
            state,
        })
    }

    /// The edits applied, in order, and those that can be redone.
    pub fn changes(&self) -> (&[Change], &[Change]) {
        (&self.changes[..self.active], &self.changes[self.active..])
    }

    /// Checks an edit against the current state and applies it (later edits that were
    /// undone are dropped).
    pub fn apply(&mut self, change: Change) -> Result<()> {
        let usage = |m: String| Error::Usage(m);
        let open: BTreeSet<&str> = self.state.study.institutions.iter().map(|i| i.id.as_str()).collect();
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
        let state = self.measure(&changes)?;
        self.changes = changes;
        self.active = self.changes.len();
        self.state = state;
        Ok(())
    }

    /// Undoes the last edit; false when there is none.
    pub fn undo(&mut self) -> Result<bool> {
        if self.active == 0 {
            return Ok(false);
        }
        self.state = self.measure(&self.changes[..self.active - 1])?;
        self.active -= 1;
        Ok(true)
    }

    /// Redoes the last edit undone; false when there is none.
    pub fn redo(&mut self) -> Result<bool> {
        if self.active == self.changes.len() {
            return Ok(false);
        }
        self.state = self.measure(&self.changes[..self.active + 1])?;
        self.active += 1;
        Ok(true)
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
        self.state
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

    /// The state after `changes`: their scenario read back and applied to the base.
    fn measure(&self, changes: &[Change]) -> Result<State> {
        let t = Instant::now();
        let scenario = self.scenario_text(changes);
        let (edits, rule_edits) = edits_from_str(&scenario, "workbench scenario")?;
        let mut alt = light(&self.base);
        apply_rule_edits(&mut alt.rules, &rule_edits, "workbench scenario")?;
        apply_edits(&mut alt, &edits)?;
        let reach = if alt.network.is_some() || alt.od.is_some() {
            crate::run::measure_reach(&alt, Progress::Quiet)?.0
        } else {
            let places = self.base.demand.places();
            let mut reach = update_reach(
                &places,
                &self.base_reach,
                &self.base.institutions,
                &alt.institutions,
                &alt.rules,
            );
            // Roles whose own rules changed are measured afresh.
            for (r, role) in alt.rules.roles.iter().enumerate() {
                if Some(role) != self.base.rules.roles.get(r) {
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
        let cov = coverage::compute(&self.base.demand, &self.base.municipalities, &alt.rules, &reach);
        let alt_side = side("workbench", &alt, &self.base.municipalities, &cov);
        let diff = compare::compare(&self.base_side, &alt_side, self.min_share)?;
        Ok(State {
            study: alt,
            reach,
            coverage: cov,
            diff,
            scenario,
            seconds: t.elapsed().as_secs_f64(),
        })
    }

    /// Criticality of the current state.
    pub fn criticality(&self) -> Criticality {
        let travel = crate::reach::pairs::Travel::of(&self.state.study);
        criticality::compute(
            &self.state.study,
            &self.state.reach,
            &self.state.coverage,
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
        let (edits, rule_edits) = edits_from_str(&self.state.scenario, "workbench scenario").unwrap_or_default();
        serde_json::json!({
            "zaitaku_version": env!("CARGO_PKG_VERSION"),
            "scenario_sha256": sha256_hex(self.state.scenario.as_bytes()),
            "base": base,
            "edits": edits,
            "rule_edits": rule_edits,
            "rules_applied": self.state.study.rules,
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
