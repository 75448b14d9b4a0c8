//! Population on the standard grid mesh, simple form:
//! `mesh_code,population,population_65plus[,population_75plus][,population_0_14]`; e-Stat
//! census files ([`estat`]); projections of the national land data.
//!
//! Codes of every JIS X 0410 level are accepted. A row with a bad code, a value that is not
//! a non-negative number, more aged 65+ than people, or a code already read is rejected with
//! the reason.

use crate::error::{Error, Location, Reject, Result};
use crate::inputs::csv_table::CsvTable;
use crate::inputs::estat;
pub use crate::inputs::estat::EstatColumns;
use crate::inputs::mesh::Mesh;
use crate::inputs::source::{decode_text, Source};
use std::collections::HashSet;

/// People in one mesh cell.
#[derive(Debug, Clone, PartialEq)]
pub struct PopulationCell {
    /// The line of the file it was read from.
    pub line: u64,
    pub mesh: Mesh,
    pub population: f64,
    pub population_65plus: f64,
    /// `None` when the file has no such column.
    pub population_75plus: Option<f64>,
    /// Aged 0-14; `None` when the file has no such column.
    pub population_0_14: Option<f64>,
}

#[derive(Debug, Default)]
pub struct PopulationRead {
    pub cells: Vec<PopulationCell>,
    pub rows_read: usize,
    pub rejects: Vec<Reject>,
    pub has_65plus: bool,
    pub has_75plus: bool,
    pub has_0_14: bool,
    /// e-Stat: every value column, `CODE 「label」`, for messages.
    pub labels: Vec<String>,
    /// e-Stat cells whose age detail is suppressed for secrecy (秘匿, HTKSYORI 2): their
    /// total is their own; their age detail is in the cell named by HTKSAKI, shared out by
    /// [`estat::share_suppressed`] once every file is read.
    pub suppressed: usize,
    /// e-Stat: the column each measure was read from.
    pub columns: Vec<estat::ColumnChoice>,
    /// e-Stat: the secrecy links of the cells read.
    pub secrecy: estat::SecrecyLinks,
    /// Total population and aged 65+ read and rejected at reading (`None`: not counted).
    pub tally: Option<[estat::Tally; 2]>,
    /// `e-Stat`, `simple` or `projection`.
    pub layout: &'static str,
    /// Years a projection file holds (empty for the other layouts).
    pub years: Vec<u16>,
}

impl PopulationRead {
    /// The measures an e-Stat file has no column for (aged 65+, 75+, 0-14); none for the
    /// other layouts, whose columns are named.
    pub fn missing_measures(&self) -> Vec<&'static str> {
        if self.layout != "e-Stat" {
            return Vec::new();
        }
        [
            (self.has_65plus, "aged 65+"),
            (self.has_75plus, "aged 75+"),
            (self.has_0_14, "aged 0-14"),
        ]
        .into_iter()
        .filter(|(present, _)| !present)
        .map(|(_, what)| what)
        .collect()
    }
}

/// Reads one population file. `seen` holds the codes of files read before. `year` picks
/// the year of a projection file (国土数値情報 将来推計人口メッシュ, GeoJSON); the other layouts
/// hold one year and refuse it.
pub fn read_population(source: &Source, seen: &mut HashSet<Mesh>, year: Option<u16>) -> Result<PopulationRead> {
    read_population_with(source, seen, year, None)
}

/// [`read_population`] with e-Stat value columns named (`None`: chosen by their labels).
pub fn read_population_with(
    source: &Source,
    seen: &mut HashSet<Mesh>,
    year: Option<u16>,
    columns: Option<&EstatColumns>,
) -> Result<PopulationRead> {
    if is_dbf(source) {
        return read_projection(source, seen, year);
    }
    let (text, _) = decode_text(source)?;
    if text.trim_start().starts_with('{') {
        return read_projection(source, seen, year);
    }
    if let Some(y) = year {
        return Err(Error::input(
            &source.name,
            Location::File,
            format!("--year {y}: this population file holds one census year, not projections by year"),
        ));
    }
    let table = CsvTable::open(&source.name, &text)?;
    if table.column("key_code").is_some() {
        return estat::read_estat(source, &text, table, seen, columns);
    }
    let expected = "mesh_code,population,population_65plus[,population_75plus]";
    let c_mesh = table.require("mesh_code", expected)?;
    let c_pop = table.require("population", expected)?;
    let c_65 = table.require("population_65plus", expected)?;
    let c_75 = table.column("population_75plus");
    let c_014 = table.column("population_0_14");
    let mut out = PopulationRead {
        has_65plus: true,
        has_75plus: c_75.is_some(),
        has_0_14: c_014.is_some(),
        layout: "simple",
        ..Default::default()
    };
    // Room for every row at once: grown by doubling, the cells were copied again at each
    // step into memory the system had to clear first.
    out.cells.reserve(table.records_at_most());
    seen.reserve(table.records_at_most());
    let mut rejects = Vec::new();
    let mut tally = [estat::Tally::default(); 2];
    let rows_read = table.for_each(&mut rejects, |location, record| {
        let counted = [c_pop, c_65].map(|c| {
            record
                .get(c)
                .and_then(|s| s.trim().parse::<f64>().ok())
                .filter(|v| v.is_finite() && *v >= 0.0)
                .unwrap_or(0.0)
        });
        for (t, v) in tally.iter_mut().zip(counted) {
            t.read += v;
        }
        let row = (|| -> std::result::Result<PopulationCell, String> {
            let field = |i: usize| record.get(i).unwrap_or("").trim();
            let mesh = Mesh::parse(field(c_mesh)).map_err(|e| e.to_string())?;
            let value = |i: usize, name: &str| -> std::result::Result<f64, String> {
                let s = field(i);
                match s.parse::<f64>() {
                    Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
                    Ok(v) => Err(format!("{name} {v} is negative or not finite")),
                    Err(_) if s.is_empty() => Err(format!("{name} is empty")),
                    Err(_) => Err(format!("{name} '{s}' is not a number")),
                }
            };
            let population = value(c_pop, "population")?;
            let population_65plus = value(c_65, "population_65plus")?;
            let population_75plus = c_75.map(|c| value(c, "population_75plus")).transpose()?;
            let population_0_14 = c_014.map(|c| value(c, "population_0_14")).transpose()?;
            if population_65plus > population {
                return Err(format!(
                    "population_65plus {population_65plus} exceeds population {population}"
                ));
            }
            if let Some(p75) = population_75plus {
                if p75 > population_65plus {
                    return Err(format!(
                        "population_75plus {p75} exceeds population_65plus {population_65plus}"
                    ));
                }
            }
            if let Some(p014) = population_0_14.filter(|p| p + population_65plus > population) {
                return Err(format!(
                    "population_0_14 {p014} and population_65plus {population_65plus} together exceed population {population}"
                ));
            }
            let mut cell = new_cell(seen, &location, mesh, population, population_65plus, population_75plus)?;
            cell.population_0_14 = population_0_14;
            Ok(cell)
        })();
        match row {
            Ok(cell) => out.cells.push(cell),
            Err(reason) => {
                for (t, v) in tally.iter_mut().zip(counted) {
                    t.rejected += v;
                }
                out.rejects.push(Reject::new(&source.name, location.clone(), reason))
            }
        }
    });
    out.tally = Some(tally);
    finish(source, out, rows_read, rejects)
}

/// Completes a read: the row count, rejects in line order, and a file-level error when no
/// row gave a cell.
pub(crate) fn finish(
    source: &Source,
    mut out: PopulationRead,
    rows_read: usize,
    rejects: Vec<Reject>,
) -> Result<PopulationRead> {
    out.rows_read = rows_read;
    out.rejects.extend(rejects);
    out.rejects.sort_by(|a, b| a.location.cmp(&b.location));
    if out.cells.is_empty() {
        return Err(Error::no_usable_row(
            &source.name,
            "mesh cell",
            out.rows_read,
            &out.rejects,
        ));
    }
    Ok(out)
}

/// A cell read at `location`, unless its mesh was read before (the first row is kept).
pub(crate) fn new_cell(
    seen: &mut HashSet<Mesh>,
    location: &Location,
    mesh: Mesh,
    population: f64,
    population_65plus: f64,
    population_75plus: Option<f64>,
) -> std::result::Result<PopulationCell, String> {
    if !seen.insert(mesh) {
        return Err(format!("mesh code {mesh} appears again (the first row is kept)"));
    }
    Ok(PopulationCell {
        line: match location {
            Location::Line(n) => *n,
            _ => 0,
        },
        mesh,
        population,
        population_65plus,
        population_75plus,
        population_0_14: None,
    })
}

/// One feature (GeoJSON) or record (Shapefile DBF) of a projection file, as read: its
/// `MESH_ID` text and, per year, the total, aged 65+ and aged 75+ (`None` where missing or
/// not a number). Geometry and the other columns are skipped while parsing, so a national
/// file stays small in memory.
#[derive(Debug, Default)]
struct ProjectionFeature {
    mesh: Option<String>,
    /// (year, [total, 65+, 75+, 0-14]), in the order first seen.
    values: Vec<(u16, [Option<f64>; 4])>,
}

/// The value column a projection attribute names: (0 total, 1 aged 65+, 2 aged 75+, 3 aged
/// 0-14; year).
fn projection_column(key: &str) -> Option<(usize, u16)> {
    let c = ["PTN_", "PTC_", "PTD_", "PTA_"]
        .iter()
        .position(|p| key.starts_with(p))?;
    let year = key.get(4..)?.parse::<u16>().ok()?;
    Some((c, year))
}

impl ProjectionFeature {
    fn year(&self, y: u16) -> Option<&[Option<f64>; 4]> {
        self.values.iter().find(|v| v.0 == y).map(|v| &v.1)
    }

    fn set(&mut self, (c, y): (usize, u16), v: Option<f64>) {
        let k = match self.values.iter().position(|e| e.0 == y) {
            Some(k) => k,
            None => {
                self.values.push((y, [None; 4]));
                self.values.len() - 1
            }
        };
        // `c` is a column of `projection_column`: 0 (PTN), 1 (PTC), 2 (PTD) or 3 (PTA).
        if let Some(slot) = self.values.get_mut(k).and_then(|e| e.1.get_mut(c)) {
            *slot = v;
        }
    }
}

struct PropertiesVisitor;

impl<'de> serde::de::Visitor<'de> for PropertiesVisitor {
    type Value = ProjectionFeature;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object of properties")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> std::result::Result<Self::Value, A::Error> {
        let mut out = ProjectionFeature::default();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if key == "MESH_ID" {
                out.mesh = match map.next_value::<serde_json::Value>()? {
                    serde_json::Value::String(s) => Some(s),
                    serde_json::Value::Number(n) => Some(n.to_string()),
                    _ => None,
                };
            } else if let Some(column) = projection_column(&key) {
                let v = match map.next_value::<serde_json::Value>()? {
                    serde_json::Value::Number(n) => n.as_f64(),
                    serde_json::Value::String(s) => s.trim().parse().ok(),
                    _ => None,
                };
                out.set(column, v);
            } else {
                map.next_value::<serde::de::IgnoredAny>()?;
            }
        }
        Ok(out)
    }
}

impl<'de> serde::Deserialize<'de> for ProjectionFeature {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_map(PropertiesVisitor)
    }
}

#[derive(serde::Deserialize)]
struct ProjectionFile {
    features: Vec<FeatureProperties>,
}

#[derive(serde::Deserialize)]
struct FeatureProperties {
    #[serde(default)]
    properties: Option<ProjectionFeature>,
}

/// A projection file as parsed: its years, the features with where each was read, and
/// the records that could not be parsed at all (DBF only).
struct Projection {
    years: Vec<u16>,
    features: Vec<(Location, ProjectionFeature)>,
    rejects: Vec<Reject>,
}

/// True when a population source is a dBase table (a Shapefile's `.dbf`).
fn is_dbf(source: &Source) -> bool {
    source.name.to_ascii_lowercase().ends_with(".dbf")
}

/// Parses a projection file, GeoJSON or a Shapefile's DBF.
fn parse_projection(source: &Source) -> Result<Projection> {
    if is_dbf(source) {
        return parse_projection_dbf(source);
    }
    let (text, _) = decode_text(source)?;
    parse_projection_json(source, &text)
}

/// Parses a GeoJSON projection file; its years are those of `PTN_<year>` in the first
/// feature with a `MESH_ID`.
fn parse_projection_json(source: &Source, text: &str) -> Result<Projection> {
    let file: ProjectionFile = serde_json::from_str(text).map_err(|e| {
        Error::input(
            &source.name,
            Location::Line(e.line() as u64),
            format!("not a projection FeatureCollection: {e}"),
        )
    })?;
    let features: Vec<(Location, ProjectionFeature)> = file
        .features
        .into_iter()
        .enumerate()
        .map(|(k, f)| (Location::Feature(k + 1, None), f.properties.unwrap_or_default()))
        .collect();
    let mut years: Vec<u16> = features
        .iter()
        .find(|f| f.1.mesh.is_some())
        .map(|f| f.1.values.iter().map(|v| v.0).collect())
        .unwrap_or_default();
    years.sort_unstable();
    Ok(Projection {
        years,
        features,
        rejects: Vec::new(),
    })
}

/// Parses the attribute table of a projection Shapefile (`.dbf`; the geometry is not
/// needed since `MESH_ID` names the cell). The dBase III layout is read directly: a 32-byte
/// header (record count, header and record lengths), 32-byte field descriptors, fixed-width
/// records. (The `dbase` crate panicked on malformed headers and fields that fuzzing found;
/// every length here is checked against the file.) A truncated table is an error rather
/// than fewer records; deleted records and records with an unreadable value are rejected
/// with their record number.
#[cfg_attr(not(test), deny(clippy::indexing_slicing))]
fn parse_projection_dbf(source: &Source) -> Result<Projection> {
    let bad = |problem: String| Error::input(&source.name, Location::File, problem);
    // The header's own length must hold the 32-byte header, the field descriptors and their
    // terminator, within the file.
    let header_len = match source.bytes.get(8..10).and_then(|b| <[u8; 2]>::try_from(b).ok()) {
        Some(b) => usize::from(u16::from_le_bytes(b)),
        None => return Err(bad("not a dBase (.dbf) table: shorter than a dBase header".into())),
    };
    if header_len < 33 || header_len > source.bytes.len() {
        return Err(bad(format!(
            "not a dBase (.dbf) table: its header claims {header_len} bytes, the file has {}",
            source.bytes.len()
        )));
    }
    let bytes = &source.bytes[..];
    let u32_at = |k: usize| {
        bytes
            .get(k..k + 4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(u32::from_le_bytes)
    };
    let u16_at = |k: usize| {
        bytes
            .get(k..k + 2)
            .and_then(|b| <[u8; 2]>::try_from(b).ok())
            .map(|b| usize::from(u16::from_le_bytes(b)))
    };
    let (Some(records), Some(start), Some(size)) = (u32_at(4), u16_at(8), u16_at(10)) else {
        return Err(bad("not a dBase (.dbf) table: shorter than a dBase header".into()));
    };
    let records = records as usize;
    // Field descriptors: 32 bytes each after the 32-byte header, up to the 0x0D terminator.
    let mut fields: Vec<DbfField> = Vec::new();
    let mut at = 32;
    while at < start && bytes.get(at) != Some(&0x0D) {
        let Some(d) = bytes.get(at..at + 32).and_then(|d| <&[u8; 32]>::try_from(d).ok()) else {
            return Err(bad("not a dBase (.dbf) table: a field descriptor is cut short".into()));
        };
        let name = d.split(|&b| b == 0).next().unwrap_or(&[]);
        let name = name.get(..11).unwrap_or(name);
        fields.push(DbfField {
            name: String::from_utf8_lossy(name).trim().to_string(),
            kind: d[11],
            len: usize::from(d[16]),
        });
        at += 32;
    }
    let widths: usize = fields.iter().map(|f| f.len).sum();
    if widths + 1 != size {
        return Err(bad(format!(
            "dBase header: records of {size} bytes but fields of {widths} bytes (plus the deletion flag)"
        )));
    }
    let held = source.bytes.len().saturating_sub(start) / size.max(1);
    if held < records {
        return Err(bad(format!(
            "truncated dBase table: the header announces {records} records, the file holds {held}"
        )));
    }
    let names: Vec<String> = fields.iter().map(|f| f.name.clone()).collect();
    let mut years: Vec<u16> = names
        .iter()
        .filter_map(|n| projection_column(n).filter(|c| c.0 == 0).map(|c| c.1))
        .collect();
    years.sort_unstable();
    years.dedup();
    if !names.iter().any(|n| n == "MESH_ID") || years.is_empty() {
        return Err(bad(format!(
            "a projection table needs MESH_ID and PTN_<year> columns; this one has {}",
            names.join(", ")
        )));
    }
    // The records are read from the bytes, only the fields needed.
    let mut layout = Vec::new();
    let mut offset = 1usize;
    for f in &fields {
        let column = if f.name == "MESH_ID" {
            Some(None)
        } else {
            projection_column(&f.name).map(Some)
        };
        if let Some(column) = column {
            layout.push((column, offset, f.len, f.kind, f.name.as_str()));
        }
        offset += f.len;
    }
    let mut rejects = Vec::new();
    let mut features = Vec::with_capacity(records);
    for i in 0..records {
        let location = Location::Record(i + 1);
        let start_of = start + i * size;
        let Some(record) = source.bytes.get(start_of..start_of + size) else {
            return Err(bad(format!(
                "dBase table: record {} lies beyond the end of the file",
                i + 1
            )));
        };
        if record.first() == Some(&b'*') {
            rejects.push(Reject::new(&source.name, location, "record marked deleted"));
            continue;
        }
        let mut feature = ProjectionFeature::default();
        let mut problem = None;
        for &(column, at, len, kind, name) in &layout {
            let Some(raw) = record.get(at..at + len) else { continue };
            match dbf_value(raw, kind) {
                Ok(DbfValue::Text(t)) if column.is_none() => feature.mesh = Some(t),
                Ok(DbfValue::Number(x)) if column.is_none() => {
                    feature.mesh = x.filter(|x| x.fract() == 0.0 && *x >= 0.0).map(|x| format!("{x:.0}"))
                }
                Ok(DbfValue::Text(t)) => {
                    if let Some(c) = column {
                        feature.set(c, t.parse().ok())
                    }
                }
                Ok(DbfValue::Number(x)) => {
                    if let Some(c) = column {
                        feature.set(c, x)
                    }
                }
                Err(p) => {
                    problem = Some(format!("{name}: {p}"));
                    break;
                }
            }
        }
        match problem {
            None => features.push((location, feature)),
            Some(p) => rejects.push(Reject::new(&source.name, location, p)),
        }
    }
    Ok(Projection {
        years,
        features,
        rejects,
    })
}

/// A field of a DBF table: name, type letter (C, N, F, I, O, ...) and width.
struct DbfField {
    name: String,
    kind: u8,
    len: usize,
}

/// A value of a DBF field.
enum DbfValue {
    Text(String),
    Number(Option<f64>),
}

/// Reads one DBF field: text fields as trimmed text, numbers (N, F: ASCII; I, O, B:
/// binary) as numbers; blanks and `*` overflow marks as no number.
#[cfg_attr(not(test), deny(clippy::indexing_slicing))]
fn dbf_value(raw: &[u8], kind: u8) -> std::result::Result<DbfValue, String> {
    let text = || {
        let t = String::from_utf8_lossy(raw);
        t.trim_matches(|c: char| c == ' ' || c == '\0').to_string()
    };
    match kind {
        b'C' => Ok(DbfValue::Text(text())),
        b'N' | b'F' => {
            let t = text();
            if t.is_empty() || t.bytes().all(|b| b == b'*') {
                return Ok(DbfValue::Number(None));
            }
            t.parse::<f64>()
                .map(|x| DbfValue::Number(Some(x)))
                .map_err(|_| format!("'{t}' is not a number"))
        }
        b'I' => match raw {
            [a, b, c, d] => Ok(DbfValue::Number(Some(f64::from(i32::from_le_bytes([*a, *b, *c, *d]))))),
            _ => Err(format!("an integer field of {} bytes (4 expected)", raw.len())),
        },
        b'O' | b'B' => match <[u8; 8]>::try_from(raw) {
            Ok(b) => Ok(DbfValue::Number(Some(f64::from_le_bytes(b)))),
            Err(_) => Err(format!("a double field of {} bytes (8 expected)", raw.len())),
        },
        _ => Ok(DbfValue::Number(None)),
    }
}

/// The years a projection file holds; `None` when the file is not one.
pub fn years_of(source: &Source) -> Option<Vec<u16>> {
    if !is_dbf(source) {
        let (text, _) = decode_text(source).ok()?;
        if !text.trim_start().starts_with('{') {
            return None;
        }
    }
    parse_projection(source).ok().map(|p| p.years).filter(|y| !y.is_empty())
}

/// Projected population on the mesh from the national land data (将来推計人口メッシュ, 2018
/// and 2024 editions), GeoJSON or the Shapefile's DBF: `MESH_ID` (mesh code), `SHICODE`,
/// and per year `PTN_<Y>` (total), `PTC_<Y>` (aged 65+), `PTD_<Y>` (aged 75+), `PTA_<Y>`
/// (aged 0-14, when present). Values stay
/// fractional. The cell is the one `MESH_ID` names; the geometry is not needed.
fn read_projection(source: &Source, seen: &mut HashSet<Mesh>, year: Option<u16>) -> Result<PopulationRead> {
    let Projection {
        years,
        features,
        mut rejects,
    } = parse_projection(source)?;
    if years.is_empty() {
        return Err(Error::input(
            &source.name,
            Location::File,
            "a GeoJSON population file must be a projection with MESH_ID and PTN_<year> properties",
        ));
    }
    let list = years.iter().map(u16::to_string).collect::<Vec<_>>().join(", ");
    let year = match year {
        Some(y) if years.contains(&y) => y,
        Some(y) => {
            return Err(Error::input(
                &source.name,
                Location::File,
                format!("--year {y} is not in this projection; its years are {list}"),
            ))
        }
        None => {
            return Err(Error::input(
                &source.name,
                Location::File,
                format!("projected population: choose a year with --year (this file has {list})"),
            ))
        }
    };
    let has_0_14 = features
        .iter()
        .any(|(_, f)| f.year(year).is_some_and(|v| v.get(3).copied().flatten().is_some()));
    let mut out = PopulationRead {
        has_65plus: true,
        has_75plus: true,
        has_0_14,
        layout: "projection",
        years: years.clone(),
        ..Default::default()
    };
    let rows = features.len() + rejects.len();
    for (location, f) in &features {
        let row = (|| -> std::result::Result<PopulationCell, String> {
            let mesh_text = f.mesh.as_deref().ok_or("MESH_ID is missing")?;
            let mesh = Mesh::parse(mesh_text.trim()).map_err(|e| e.to_string())?;
            let v = f.year(year);
            let value = |c: usize, prefix: &str| -> std::result::Result<f64, String> {
                match v.and_then(|v| v.get(c).copied().flatten()) {
                    Some(x) if x.is_finite() && x >= 0.0 => Ok(x),
                    _ => Err(format!("{prefix}_{year} is missing, negative or not a number")),
                }
            };
            let (total, p65, p75) = (value(0, "PTN")?, value(1, "PTC")?, value(2, "PTD")?);
            // Projections are rounded per column; allow a hundredth of a person of slack.
            if p65 > total + 0.01 || p75 > p65 + 0.01 {
                return Err(format!(
                    "aged 65+ {p65} or 75+ {p75} exceed the total {total} or the 65+"
                ));
            }
            let p014 = if has_0_14 { Some(value(3, "PTA")?) } else { None };
            let mut cell = new_cell(seen, location, mesh, total, p65, Some(p75))?;
            cell.population_0_14 = p014;
            Ok(cell)
        })();
        match row {
            Ok(cell) => out.cells.push(cell),
            Err(reason) => rejects.push(Reject::new(&source.name, location.clone(), reason)),
        }
    }
    finish(source, out, rows, rejects)
}

/// A cell and its (total, aged 65+, aged 75+, aged 0-14) in each year of a projection.
pub type CellYears = (Mesh, Vec<[f64; 4]>);

/// Every year of a projection file in one pass: the years, and per cell its (total, aged
/// 65+, aged 75+, aged 0-14) in each year (0 where a value is missing or unusable: the year's own read
/// reports such rows).
pub fn read_projection_years(source: &Source) -> Result<(Vec<u16>, Vec<CellYears>)> {
    let Projection { years, features, .. } = parse_projection(source)?;
    let cells = features
        .iter()
        .filter_map(|(_, f)| {
            let mesh = Mesh::parse(f.mesh.as_deref()?.trim()).ok()?;
            let values = years
                .iter()
                .map(|&y| {
                    let v = f.year(y).copied().unwrap_or([None; 4]);
                    v.map(|x| x.filter(|x| x.is_finite() && *x >= 0.0).unwrap_or(0.0))
                })
                .collect();
            Some((mesh, values))
        })
        .collect();
    Ok((years, cells))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cells_of_every_level_and_rejects_bad_rows() {
        let text = "mesh_code,population,population_65plus\n\
                    5438,10,5\n543800,10,5\n54380000,10,5\n543800001,10,5\n5438000012,10,5\n54380000123,10,5\n\
                    5438000,10,5\n2938,10,5\n54380001,ten,5\n54380002,10,20\n54380000,3,1\n";
        let r = read_population(&Source::new("pop.csv", text.as_bytes()), &mut HashSet::new(), None).unwrap();
        assert_eq!(r.rows_read, 11);
        assert_eq!(r.cells.len(), 6);
        let reasons: Vec<String> = r
            .rejects
            .iter()
            .map(|x| format!("{}: {}", x.location, x.reason))
            .collect();
        assert_eq!(
            reasons,
            [
                "line 8: mesh code '5438000' has 7 digits; expected 4, 6, 8, 9, 10 or 11",
                "line 9: mesh code '2938' lies outside Japan (1st-order mesh 2938 not within lat 20-46, lon 122-154)",
                "line 10: population 'ten' is not a number",
                "line 11: population_65plus 20 exceeds population 10",
                "line 12: mesh code 54380000 appears again (the first row is kept)",
            ]
        );
    }
}
