//! Scenario files: the inputs of a study and the edits a planner makes to them ("if this
//! hospital stops night calls", "if these clinics start home visits"), in TOML, optionally
//! extending a base scenario. See SPEC.md, "Scenario file".
//!
//! Paths are relative to the file that names them. A scenario's `[inputs]` override its
//! base's key by key; the base's edits apply before the scenario's own.

use crate::error::{Error, Location, Result};
use crate::inputs::institutions::Flag;
use crate::inputs::source::Source;
use serde::{Deserialize, Serialize};
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

/// SHA-256 of a file's bytes, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}
