//! Applying a scenario's edits to a study: institutions removed, added or changed, rules
//! edited, and the lock that records what was applied.

use crate::error::{Error, Location, Result};
use crate::inputs::institutions::{read_institutions, Flag, Institution, Kind};
use crate::inputs::municipalities::parse_feature_collection;
use crate::inputs::rules::Rules;
use crate::inputs::scenario::{sha256_hex, Edit, EditAction, RuleEdit, Scenario, Selector};
use crate::inputs::source::Source;
use crate::study::Study;
use geo::{Contains, MultiPolygon, Point};
use serde::Serialize;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// What the edits did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EditReport {
    pub file: String,
    pub number: usize,
    pub action: &'static str,
    /// Institutions removed, added or changed.
    pub institutions: usize,
}

fn polygons_of(path: &Path) -> Result<Vec<MultiPolygon<f64>>> {
    let source = Source::read(path)?;
    let text = String::from_utf8_lossy(&source.bytes).into_owned();
    let fc = parse_feature_collection(&source, &text)?;
    let mut out = Vec::new();
    for (k, f) in fc.features.iter().enumerate() {
        let Some(g) = &f.geometry else { continue };
        let geom: geo::Geometry<f64> = g
            .clone()
            .try_into()
            .map_err(|e| Error::input(&source.name, Location::Feature(k + 1, None), format!("geometry: {e}")))?;
        match geom {
            geo::Geometry::Polygon(p) => out.push(MultiPolygon::new(vec![p])),
            geo::Geometry::MultiPolygon(mp) => out.push(mp),
            _ => {
                return Err(Error::input(
                    &source.name,
                    Location::Feature(k + 1, None),
                    "within needs Polygon or MultiPolygon features",
                ))
            }
        }
    }
    Ok(out)
}

/// Applies the edits to the study's institutions, in order. Unknown ids, a row an `add`
/// cannot use, or a selector matching nothing stop with a message naming the edit.
pub fn apply_edits(study: &mut Study, edits: &[Edit]) -> Result<Vec<EditReport>> {
    let mut reports = Vec::new();
    // Institutions are placed in municipalities only when a selector asks for one.
    let by_municipality = edits.iter().any(|e| match &e.action {
        EditAction::Remove { selector } | EditAction::Set { selector, .. } => selector.municipality_code.is_some(),
        EditAction::Add { .. } => false,
    });
    let mut municipality: Vec<Option<String>> = if by_municipality {
        crate::indicators::institution_municipalities(study)
            .iter()
            .map(|m| m.and_then(|m| study.municipalities.get(m)).map(|m| m.code.clone()))
            .collect()
    } else {
        vec![None; study.institutions.len()]
    };
    for e in edits {
        let bad = |m: String| Error::input(&e.file, Location::File, format!("[[edits]] {}: {m}", e.number));
        let (action, count) = match &e.action {
            EditAction::Remove { selector } => {
                let hit = select(study, &municipality, selector).map_err(&bad)?;
                let mut k = hit.iter();
                study.institutions.retain(|_| !*k.next().unwrap_or(&false));
                let mut k = hit.iter();
                municipality.retain(|_| !*k.next().unwrap_or(&false));
                ("remove", hit.iter().filter(|&&h| h).count())
            }
            EditAction::Add { csv } => {
                let source = Source::new(format!("{} [[edits]] {}", e.file, e.number), csv.as_bytes());
                // The rows are read twice: first for their ids, then with the study's ids
                // among them taken, so that a clash is a reject as across files (and the
                // study's ids are not all copied for a few rows).
                let ids: HashSet<String> = read_institutions(&source, &mut Default::default())?
                    .institutions
                    .into_iter()
                    .map(|i| i.id)
                    .collect();
                let mut seen: crate::inputs::institutions::Ids = study
                    .institutions
                    .iter()
                    .filter(|i| ids.contains(&i.id))
                    .map(|i| i.id.clone())
                    .collect();
                let read = read_institutions(&source, &mut seen)?;
                if let Some(r) = read.rejects.first() {
                    return Err(bad(format!("row {}: {}", r.location, r.reason)));
                }
                let n = read.institutions.len();
                let locator = by_municipality.then(|| crate::demand::MunicipalityLocator::new(&study.municipalities));
                for i in &read.institutions {
                    let m = locator.as_ref().and_then(|l| l.holding_or_near(i.lon, i.lat));
                    municipality.push(m.and_then(|m| study.municipalities.get(m)).map(|m| m.code.clone()));
                }
                study.institutions.extend(read.institutions);
                ("add", n)
            }
            EditAction::Set { selector, values } => {
                let hit = select(study, &municipality, selector).map_err(&bad)?;
                for (inst, _) in study.institutions.iter_mut().zip(&hit).filter(|(_, &h)| h) {
                    set_values(inst, values).map_err(&bad)?;
                }
                ("set", hit.iter().filter(|&&h| h).count())
            }
        };
        reports.push(EditReport {
            file: e.file.clone(),
            number: e.number,
            action,
            institutions: count,
        });
    }
    Ok(reports)
}

/// Which institutions a selector matches (all its conditions), or why it cannot be used:
/// ids the study does not have, an unknown kind, an unreadable polygon file, no match.
fn select(
    study: &Study,
    municipality: &[Option<String>],
    selector: &Selector,
) -> std::result::Result<Vec<bool>, String> {
    if let Some(ids) = &selector.ids {
        let have: HashSet<&str> = study.institutions.iter().map(|i| i.id.as_str()).collect();
        let unknown: Vec<&str> = ids.iter().map(String::as_str).filter(|id| !have.contains(id)).collect();
        if !unknown.is_empty() {
            return Err(format!("unknown institution ids: {}", unknown.join(", ")));
        }
    }
    let kind = match &selector.kind {
        Some(k) => Some(Kind::parse(k).ok_or_else(|| format!("unknown kind '{k}'"))?),
        None => None,
    };
    let areas = match &selector.within {
        Some(p) => Some(polygons_of(p).map_err(|e| e.to_string())?),
        None => None,
    };
    let ids: Option<HashSet<&str>> = selector.ids.as_ref().map(|v| v.iter().map(String::as_str).collect());
    let hit: Vec<bool> = study
        .institutions
        .iter()
        .zip(municipality)
        .map(|(inst, code)| {
            ids.as_ref().is_none_or(|ids| ids.contains(inst.id.as_str()))
                && kind.is_none_or(|k| inst.kind == k)
                && selector
                    .municipality_code
                    .as_ref()
                    .is_none_or(|c| code.as_deref() == Some(c.as_str()))
                && areas
                    .as_ref()
                    .is_none_or(|a| a.iter().any(|mp| mp.contains(&Point::new(inst.lon, inst.lat))))
        })
        .collect();
    if !hit.contains(&true) {
        return Err("the selector matches no institution".into());
    }
    Ok(hit)
}

fn set_values(inst: &mut Institution, values: &[(String, String)]) -> std::result::Result<(), String> {
    for (k, v) in values {
        if let Some(flag) = Flag::parse(k) {
            let on = crate::inputs::institutions::parse_flag(v)
                .ok_or_else(|| format!("'{v}' is not a flag value for {k}"))?;
            inst.flags.set(flag, on);
        } else {
            let x: f64 = v.parse().map_err(|_| format!("'{v}' is not a number for {k}"))?;
            if !(x >= 0.0 && x.is_finite()) {
                return Err(format!("{k} must be a number of at least 0, not {v}"));
            }
            if k == "capacity" {
                inst.capacity = Some(x);
            } else {
                inst.beds = Some(x);
            }
        }
    }
    Ok(())
}

/// Applies rule edits; an unknown function, or a role the function does not use, stops
/// with a message.
pub fn apply_rule_edits(rules: &mut Rules, edits: &[RuleEdit], file: &str) -> Result<()> {
    for e in edits {
        let bad = |m: String| {
            Error::input(
                file,
                Location::File,
                format!("[[rule_edits]] {}/{}: {m}", e.function, e.role),
            )
        };
        let r = rules
            .roles
            .iter()
            .position(|r| r.id == e.role)
            .ok_or_else(|| bad(format!("unknown role '{}'", e.role)))?;
        let function = rules
            .functions
            .iter_mut()
            .find(|f| f.id == e.function)
            .ok_or_else(|| bad(format!("unknown function '{}'", e.function)))?;
        let used = function
            .roles
            .iter_mut()
            .find(|u| u.role == r)
            .ok_or_else(|| bad(format!("function '{}' does not use role '{}'", e.function, e.role)))?;
        if let Some(req) = e.required {
            used.required = req;
        }
        let Some(role) = rules.roles.get_mut(r) else { continue };
        if let Some(km) = e.reach_km {
            if !(km > 0.0 && km.is_finite()) {
                return Err(bad(format!("reach_km must be positive, not {km}")));
            }
            role.reach_km = km;
        }
        if let Some(min) = e.reach_min {
            if !(min > 0.0 && min.is_finite()) {
                return Err(bad(format!("reach_min must be positive, not {min}")));
            }
            role.reach_min = Some(min);
        }
    }
    Ok(())
}

/// A scenario as applied to a study, for `scenario.lock.json`.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    pub scenario: Scenario,
    pub edits: Vec<EditReport>,
    /// Every input file with its SHA-256: (role, path, hash).
    pub inputs: Vec<(&'static str, String, String)>,
}

impl Applied {
    /// The lock: everything needed to reproduce a result.
    pub fn lock_json(&self, rules: &Rules) -> serde_json::Value {
        let chain: Vec<serde_json::Value> = self
            .scenario
            .files
            .iter()
            .map(|p| {
                let hash = std::fs::read(p).map(|b| sha256_hex(&b)).unwrap_or_default();
                serde_json::json!({"file": p.display().to_string(), "sha256": hash})
            })
            .collect();
        let inputs: Vec<serde_json::Value> = self
            .inputs
            .iter()
            .map(|(role, file, hash)| serde_json::json!({"role": role, "file": file, "sha256": hash}))
            .collect();
        serde_json::json!({
            "zaitaku_version": env!("CARGO_PKG_VERSION"),
            "scenario": self.scenario.name,
            "scenario_files": chain,
            "inputs": inputs,
            "edits": self.scenario.edits,
            "edits_applied": self.edits,
            "rule_edits": self.scenario.rule_edits,
            "rules_applied": rules,
        })
    }
}

/// The input files a scenario names, read; the municipality keys are N03's.
pub fn sources(s: &Scenario) -> Result<crate::study::InputSources> {
    let file = s.files.last().map(|p| p.display().to_string()).unwrap_or_default();
    let need = |what: &str| {
        Error::input(
            &file,
            Location::File,
            format!("the scenario names no {what} ([inputs] {what} = ...)"),
        )
    };
    let read_all = |paths: &[PathBuf]| paths.iter().map(|p| Source::read(p)).collect::<Result<Vec<_>>>();
    if s.institutions.is_empty() {
        return Err(need("institutions"));
    }
    Ok(crate::study::InputSources {
        municipalities: Source::read(s.municipalities.as_deref().ok_or_else(|| need("municipalities"))?)?,
        population: s
            .population
            .iter()
            .map(|p| Source::read_table(p))
            .collect::<Result<Vec<_>>>()?,
        institutions: read_all(&s.institutions)?,
        rules: s.rules.as_deref().map(Source::read).transpose()?,
        regions: s.regions.as_deref().map(Source::read).transpose()?,
        keys: Default::default(),
        scenario: Some(s.clone()),
        year: s.year,
        network: s.network.as_deref().map(Source::read).transpose()?,
        od_matrix: None,
        notifications: Vec::new(),
        estat_columns: None,
    })
}
