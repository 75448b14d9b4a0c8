//! Scenario files: the inputs of a study and the edits a planner makes to them ("if this
//! hospital stops night calls", "if these clinics start home visits"), in TOML, optionally
//! extending a base scenario. See SPEC.md, "Scenario file".
//!
//! Paths are relative to the file that names them. A scenario's `[inputs]` override its
//! base's key by key; the base's edits apply before the scenario's own.

use crate::error::{Error, Location, Result};
use crate::inputs::institutions::{read_institutions, Flag, Institution, Kind};
use crate::inputs::municipalities::parse_feature_collection;
use crate::inputs::rules::Rules;
use crate::inputs::source::Source;
use crate::inputs::Study;
use geo::{Contains, MultiPolygon, Point};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileToml {
    name: String,
    base: Option<String>,
    /// Year of projected population files.
    year: Option<u16>,
    #[serde(default)]
    inputs: InputsToml,
    #[serde(default)]
    edits: Vec<EditToml>,
    #[serde(default)]
    rule_edits: Vec<RuleEdit>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct InputsToml {
    municipalities: Option<String>,
    population: Option<Vec<String>>,
    institutions: Option<Vec<String>>,
    regions: Option<String>,
    rules: Option<String>,
    network: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EditToml {
    action: String,
    ids: Option<Vec<String>>,
    institutions: Option<Vec<toml::Table>>,
    #[serde(rename = "where")]
    filter: Option<WhereToml>,
    within: Option<String>,
    values: Option<toml::Table>,
}

#[derive(Debug, Default, Deserialize, Serialize, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
struct WhereToml {
    kind: Option<String>,
    municipality_code: Option<String>,
    within: Option<String>,
}

/// A change to the rules: a role's reach (for every function that uses the role, as a role
/// id means one definition), or whether a function requires it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RuleEdit {
    pub function: String,
    pub role: String,
    pub reach_km: Option<f64>,
    pub reach_min: Option<f64>,
    pub required: Option<bool>,
}

/// Which institutions a `set` edit changes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Selector {
    pub ids: Option<Vec<String>>,
    pub kind: Option<String>,
    pub municipality_code: Option<String>,
    /// Polygons (GeoJSON) the institution must lie in.
    pub within: Option<PathBuf>,
}

/// One edit of the institutions.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum EditAction {
    Remove {
        selector: Selector,
    },
    /// The rows as CSV text (header and rows), read by the institutions reader.
    Add {
        csv: String,
    },
    Set {
        selector: Selector,
        values: Vec<(String, String)>,
    },
}

/// An edit and where it was written.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Edit {
    pub file: String,
    /// 1-based position among the file's `[[edits]]`.
    pub number: usize,
    #[serde(flatten)]
    pub action: EditAction,
}

/// A scenario with its base chain resolved.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Scenario {
    pub name: String,
    /// The chain of files, the base first.
    pub files: Vec<PathBuf>,
    pub municipalities: Option<PathBuf>,
    pub population: Vec<PathBuf>,
    pub institutions: Vec<PathBuf>,
    pub regions: Option<PathBuf>,
    pub rules: Option<PathBuf>,
    pub network: Option<PathBuf>,
    /// Year of projected population files.
    pub year: Option<u16>,
    pub edits: Vec<Edit>,
    pub rule_edits: Vec<RuleEdit>,
}

fn toml_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => f.to_string(),
        toml::Value::Boolean(b) => if *b { "1" } else { "0" }.to_string(),
        other => other.to_string(),
    }
}

/// Paths of a population entry: a file, or a glob pattern (`mesh/*.txt`), sorted.
fn expand(dir: &Path, entry: &str, file: &str) -> Result<Vec<PathBuf>> {
    let joined = dir.join(entry);
    let text = joined.to_string_lossy().into_owned();
    if !entry.contains(['*', '?', '[']) {
        return Ok(vec![joined]);
    }
    let mut out: Vec<PathBuf> = glob::glob(&text)
        .map_err(|e| Error::input(file, Location::File, format!("population pattern '{entry}': {e}")))?
        .filter_map(|p| p.ok())
        .collect();
    out.sort();
    if out.is_empty() {
        return Err(Error::input(
            file,
            Location::File,
            format!("population pattern '{entry}' matches no file"),
        ));
    }
    Ok(out)
}

/// Reads a scenario file and its bases.
pub fn load_scenario(path: &Path) -> Result<Scenario> {
    let mut chain: Vec<(PathBuf, PathBuf)> = Vec::new();
    let mut scenario = Scenario::default();
    load_into(path, &mut chain, &mut scenario)?;
    scenario.files = chain.into_iter().rev().map(|(_, shown)| shown).collect();
    Ok(scenario)
}

/// The edits and rule edits of a scenario given as text (its `base` and `[inputs]` are not
/// followed): how the workbench reads back the scenario it writes, so that its state and
/// the downloaded file are the same edits read by the same code.
pub fn edits_from_str(text: &str, name: &str) -> Result<(Vec<Edit>, Vec<RuleEdit>)> {
    let file: FileToml = toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|s| text[..s.start].matches('\n').count() as u64 + 1)
            .unwrap_or(0);
        Error::input(name, Location::Line(line), e.message().to_string())
    })?;
    let edits = file
        .edits
        .iter()
        .enumerate()
        .map(|(k, e)| edit(e, k + 1, name, Path::new(".")))
        .collect::<Result<Vec<_>>>()?;
    Ok((edits, file.rule_edits))
}

/// `chain`: (canonical, as named) of the files being read, to find cycles.
fn load_into(path: &Path, chain: &mut Vec<(PathBuf, PathBuf)>, out: &mut Scenario) -> Result<()> {
    let name = path.display().to_string();
    let canonical = path
        .canonicalize()
        .map_err(|e| Error::io(format!("cannot read scenario {name}"), e))?;
    if chain.iter().any(|(c, _)| *c == canonical) {
        let cycle: Vec<String> = chain
            .iter()
            .map(|(_, shown)| shown.display().to_string())
            .chain(std::iter::once(name.clone()))
            .collect();
        return Err(Error::input(
            &name,
            Location::File,
            format!("scenarios extend each other in a cycle: {}", cycle.join(" -> ")),
        ));
    }
    let source = Source::read(path)?;
    let text = std::str::from_utf8(&source.bytes)
        .map_err(|_| Error::input(&name, Location::File, "a scenario file must be UTF-8 text"))?;
    let file: FileToml = toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|s| text[..s.start].matches('\n').count() as u64 + 1)
            .unwrap_or(0);
        Error::input(&name, Location::Line(line), e.message().to_string())
    })?;
    let dir = path.parent().unwrap_or(Path::new("."));
    chain.push((canonical, path.to_path_buf()));
    // The base first: its inputs are overridden and its edits come before these.
    if let Some(base) = &file.base {
        load_into(&dir.join(base), chain, out)?;
    }
    out.name = file.name.clone();
    if file.year.is_some() {
        out.year = file.year;
    }
    let i = &file.inputs;
    if let Some(m) = &i.municipalities {
        out.municipalities = Some(dir.join(m));
    }
    if let Some(p) = &i.population {
        out.population = p
            .iter()
            .map(|e| expand(dir, e, &name))
            .collect::<Result<Vec<_>>>()?
            .concat();
    }
    if let Some(v) = &i.institutions {
        out.institutions = v.iter().map(|e| dir.join(e)).collect();
    }
    if let Some(r) = &i.regions {
        out.regions = Some(dir.join(r));
    }
    if let Some(r) = &i.rules {
        out.rules = Some(dir.join(r));
    }
    if let Some(n) = &i.network {
        out.network = Some(dir.join(n));
    }
    for (k, e) in file.edits.iter().enumerate() {
        out.edits.push(edit(e, k + 1, &name, dir)?);
    }
    out.rule_edits.extend(file.rule_edits.iter().cloned());
    Ok(())
}

/// The selector of a `remove` or `set` edit; `None` when it names nothing.
fn selector(e: &EditToml, dir: &Path) -> Option<Selector> {
    let filter = e.filter.clone().unwrap_or_default();
    let within = e.within.as_ref().or(filter.within.as_ref()).map(|w| dir.join(w));
    let s = Selector {
        ids: e.ids.clone(),
        kind: filter.kind.clone(),
        municipality_code: filter.municipality_code.clone(),
        within,
    };
    (s.ids.is_some() || s.kind.is_some() || s.municipality_code.is_some() || s.within.is_some()).then_some(s)
}

fn edit(e: &EditToml, number: usize, file: &str, dir: &Path) -> Result<Edit> {
    let bad = |m: String| Error::input(file, Location::File, format!("[[edits]] {number}: {m}"));
    let action = match e.action.as_str() {
        "remove" => EditAction::Remove {
            selector: selector(e, dir).ok_or_else(|| {
                bad("remove needs ids = [...], where = { kind, municipality_code }, or within = \"F.geojson\"".into())
            })?,
        },
        "add" => {
            let rows = e
                .institutions
                .as_ref()
                .ok_or_else(|| bad("add needs institutions = [{ id = ..., ... }]".into()))?;
            let mut header: Vec<String> = vec!["id", "name", "kind", "lat", "lon"]
                .into_iter()
                .map(String::from)
                .collect();
            for row in rows {
                for key in row.keys() {
                    if !header.contains(key) {
                        header.push(key.clone());
                    }
                }
            }
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record(&header).map_err(|e| bad(e.to_string()))?;
            for row in rows {
                let fields: Vec<String> = header
                    .iter()
                    .map(|h| row.get(h).map(toml_text).unwrap_or_default())
                    .collect();
                w.write_record(&fields).map_err(|e| bad(e.to_string()))?;
            }
            let csv =
                String::from_utf8(w.into_inner().map_err(|e| bad(e.to_string()))?).map_err(|e| bad(e.to_string()))?;
            EditAction::Add { csv }
        }
        "set" => {
            let selector = selector(e, dir).ok_or_else(|| {
                bad("set needs ids = [...], where = { kind, municipality_code }, or within = \"F.geojson\"".into())
            })?;
            let values = e
                .values
                .as_ref()
                .ok_or_else(|| bad("set needs values = { flag = 1, capacity = N, ... }".into()))?;
            let mut out = Vec::new();
            for (k, v) in values {
                if Flag::parse(k).is_none() && k != "capacity" && k != "beds" {
                    return Err(bad(format!(
                        "cannot set '{k}': values are flags ({}), capacity or beds",
                        Flag::ALL.map(Flag::as_str).join(", ")
                    )));
                }
                out.push((k.clone(), toml_text(v)));
            }
            EditAction::Set { selector, values: out }
        }
        other => return Err(bad(format!("unknown action '{other}' (remove, add or set)"))),
    };
    Ok(Edit {
        file: file.to_string(),
        number,
        action,
    })
}

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
                let mut seen: HashSet<String> = study.institutions.iter().map(|i| i.id.clone()).collect();
                let source = Source::new(format!("{} [[edits]] {}", e.file, e.number), csv.as_bytes());
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

/// SHA-256 of a file's bytes, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The input files a scenario names, read; the municipality keys are N03's.
pub fn sources(s: &Scenario) -> Result<crate::inputs::InputSources> {
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
    Ok(crate::inputs::InputSources {
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
