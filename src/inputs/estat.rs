//! e-Stat census mesh files as downloaded (地域メッシュ統計, 国勢調査 人口等基本集計).
//!
//! One text file per 1st-order mesh, `tbl<table><level><mesh>.txt` (level `S` 1 km, `H`
//! 500 m, `Q` 250 m), CP932, CRLF, unquoted, with two header rows: the column codes
//! (`KEY_CODE, HTKSYORI, HTKSAKI, GASSAN, T000847001, ...`), then the Japanese labels (empty
//! over the four key columns). Table codes and the order of the value columns differ by
//! census and mesh level (2015 500 m: aged 65+ is `T000847016`; 2020 500 m: `T001101019`),
//! so the measures are chosen by their label, never by a code suffix or position. Sources
//! are named in `docs/DATA_SOURCES.md`.
//!
//! Secrecy (秘匿処理): the total population is never suppressed (秘匿対象外), so every row
//! keeps its own total. A small cell's detail columns are `*` (`HTKSYORI` 2) and counted in
//! the cell its `HTKSAKI` names (`HTKSYORI` 1, which lists the cells folded into it in
//! `GASSAN`). [`share_suppressed`] shares the receiving cell's age detail over its group in
//! proportion to total population, in whole people, keeping every sum exact.

// Raw input text is parsed here: no indexing that could panic.
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

use crate::error::{Error, Location, Reject, Result};
use crate::inputs::csv_table::CsvTable;
use crate::inputs::mesh::Mesh;
use crate::inputs::population::{new_cell, PopulationCell, PopulationRead};
use crate::inputs::source::Source;
use serde::Serialize;
use std::collections::HashSet;
use unicode_normalization::UnicodeNormalization;

/// What a value column counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    #[serde(rename = "population")]
    Total,
    #[serde(rename = "population_65plus")]
    Aged65,
    #[serde(rename = "population_75plus")]
    Aged75,
    #[serde(rename = "population_0_14")]
    Aged0To14,
}

impl Measure {
    pub const ALL: [Measure; 4] = [Measure::Total, Measure::Aged65, Measure::Aged75, Measure::Aged0To14];

    pub fn describe(self) -> &'static str {
        match self {
            Measure::Total => "total population",
            Measure::Aged65 => "aged 65+",
            Measure::Aged75 => "aged 75+",
            Measure::Aged0To14 => "aged 0-14",
        }
    }

    fn key(self) -> &'static str {
        match self {
            Measure::Total => "total",
            Measure::Aged65 => "aged65",
            Measure::Aged75 => "aged75",
            Measure::Aged0To14 => "aged0_14",
        }
    }
}

/// A label in comparable form: NFKC (full-width digits, letters and brackets to ASCII, the
/// full-width space to a space), whitespace removed, every wave dash or tilde as `~`.
pub fn normalise_label(label: &str) -> String {
    label
        .nfkc()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '〜' | '～' | '∼' | '~' => '~',
            c => c,
        })
        .collect()
}

/// The measure a label names, if it is one zaitaku reads. Accepts the spellings of every
/// census: `人口総数` (2010, 2015), `人口（総数）` (2020), `総数`, `総人口`; `６５歳以上人口　総数`
/// (2020), `６５歳以上人口総数` (2015), `うち６５歳以上`, `（再掲）７５歳以上人口`; `０～１４歳人口`
/// or `１５歳未満人口`. Labels naming a sex (`男`, `女`) or anything else are not measures.
pub fn measure_of(label: &str) -> Option<Measure> {
    let mut s = normalise_label(label);
    for prefix in ["(再掲)", "再掲", "うち"] {
        if let Some(rest) = s.strip_prefix(prefix) {
            s = rest.to_string();
        }
    }
    let s = s.replace("人口", "");
    let s = ["(総数)", "総数", "計"]
        .iter()
        .find_map(|t| s.strip_suffix(t))
        .unwrap_or(&s);
    match s {
        "" | "総" => Some(Measure::Total),
        "65歳以上" => Some(Measure::Aged65),
        "75歳以上" => Some(Measure::Aged75),
        "0~14歳" | "0歳~14歳" | "15歳未満" => Some(Measure::Aged0To14),
        _ => None,
    }
}

/// How `--estat-columns` names one column: by code (`016`, a suffix, or `T000847016`) or
/// by label (`６５歳以上人口総数`, compared after [`normalise_label`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnName {
    Code(String),
    Label(String),
}

impl ColumnName {
    fn parse(text: &str) -> std::result::Result<ColumnName, String> {
        let t = text.trim();
        if t.is_empty() {
            return Err("an empty column name".into());
        }
        if t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            Ok(ColumnName::Code(t.to_ascii_lowercase()))
        } else {
            Ok(ColumnName::Label(normalise_label(t)))
        }
    }

    fn describe(&self) -> String {
        match self {
            ColumnName::Code(c) => format!("code {}", c.to_ascii_uppercase()),
            ColumnName::Label(l) => format!("label '{l}'"),
        }
    }
}

/// Columns named on the command line (`--estat-columns`), overriding the choice by label
/// for the measures they name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EstatColumns {
    pub named: Vec<(Measure, ColumnName)>,
}

impl EstatColumns {
    /// Parses `TOTAL,AGED65[,AGED75[,AGED0_14]]` (positional) or `total=..,aged65=..,
    /// aged75=..,aged0_14=..` (any of them). Each is a code suffix (`016`), a whole code
    /// (`T000847016`) or a label (`６５歳以上人口総数`).
    pub fn parse(text: &str) -> std::result::Result<EstatColumns, String> {
        let usage = "expected TOTAL,AGED65[,AGED75[,AGED0_14]] or total=..,aged65=..,aged75=..,aged0_14=.., each a column code (016, T000847016) or label (６５歳以上人口総数)";
        let parts: Vec<&str> = text.split(',').collect();
        let mut named = Vec::new();
        if parts.iter().any(|p| p.contains('=')) {
            for p in &parts {
                let (k, v) = p
                    .split_once('=')
                    .ok_or_else(|| format!("'{text}': '{p}' has no '='; {usage}"))?;
                let measure = Measure::ALL
                    .into_iter()
                    .find(|m| m.key() == k.trim().to_ascii_lowercase())
                    .ok_or_else(|| format!("'{text}': unknown measure '{}'; {usage}", k.trim()))?;
                if named.iter().any(|(m, _)| *m == measure) {
                    return Err(format!("'{text}': {} is named twice", k.trim()));
                }
                named.push((
                    measure,
                    ColumnName::parse(v).map_err(|e| format!("'{text}': {e}; {usage}"))?,
                ));
            }
        } else {
            if !(2..=4).contains(&parts.len()) {
                return Err(format!("'{text}': {usage}"));
            }
            for (m, p) in Measure::ALL.into_iter().zip(&parts) {
                named.push((m, ColumnName::parse(p).map_err(|e| format!("'{text}': {e}; {usage}"))?));
            }
        }
        Ok(EstatColumns { named })
    }
}

/// The column a measure was read from, for the summary and `zaitaku inspect`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ColumnChoice {
    pub measure: Measure,
    /// The column code as in the file (`T000847016`).
    pub column: String,
    /// Its label as in the file, trimmed.
    pub label: String,
    /// `label` (recognised by its label) or `--estat-columns`.
    pub chosen_by: &'static str,
}

impl ColumnChoice {
    pub fn describe(&self) -> String {
        format!("{} = {} 「{}」", self.measure.describe(), self.column, self.label)
    }
}

/// Secrecy links of one file, resolved by [`share_suppressed`] once every file is read.
#[derive(Debug, Clone, Default)]
pub struct SecrecyLinks {
    /// Cells whose detail is suppressed (HTKSYORI 2): index into the file's cells and the
    /// receiving cell (`None` when HTKSAKI is empty).
    pub suppressed: Vec<(usize, Option<Mesh>)>,
    /// Receiving cells (HTKSYORI 1): index and the cells their GASSAN lists.
    pub receivers: Vec<(usize, Vec<Mesh>)>,
}

/// Population read and rejected in one file, before placement.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Tally {
    pub read: f64,
    pub rejected: f64,
}

/// Picks the column of every measure. Overrides first; then labels. The total is
/// required: without it the file stops, listing its labels. The others may be absent (the
/// 2010 census's main mesh table has totals only): a measure the rules need is checked when
/// the cells are placed.
fn choose_columns(
    source: &Source,
    codes: &[String],
    labels: &[String],
    named: Option<&EstatColumns>,
) -> Result<Vec<ColumnChoice>> {
    let values: Vec<usize> = (0..codes.len())
        .filter(|&i| {
            !matches!(
                codes.get(i).map(String::as_str),
                Some("key_code" | "htksyori" | "htksaki" | "gassan")
            )
        })
        .collect();
    let label_of = |i: usize| labels.get(i).map(|l| l.trim().to_string()).unwrap_or_default();
    let code_of = |i: usize| codes.get(i).map(|c| c.to_ascii_uppercase()).unwrap_or_default();
    let listing = || {
        let list: Vec<String> = values
            .iter()
            .map(|&i| format!("{} 「{}」", code_of(i), label_of(i)))
            .collect();
        list.join(", ")
    };
    let mut out = Vec::new();
    for measure in Measure::ALL {
        let override_name = named.and_then(|n| n.named.iter().find(|(m, _)| *m == measure).map(|(_, c)| c));
        let found: Vec<usize> = match override_name {
            Some(ColumnName::Code(c)) => values
                .iter()
                .copied()
                .filter(|&i| {
                    let code = codes.get(i).map(String::as_str).unwrap_or("");
                    code == c
                        || (c.len() == 3 && code.len() == 10 && code.starts_with('t') && code.ends_with(c.as_str()))
                })
                .collect(),
            Some(ColumnName::Label(l)) => values
                .iter()
                .copied()
                .filter(|&i| normalise_label(&label_of(i)) == *l)
                .collect(),
            None => values
                .iter()
                .copied()
                .filter(|&i| measure_of(&label_of(i)) == Some(measure))
                .collect(),
        };
        match (found.as_slice(), override_name) {
            ([i], _) => out.push(ColumnChoice {
                measure,
                column: code_of(*i),
                label: label_of(*i),
                chosen_by: if override_name.is_some() { "--estat-columns" } else { "label" },
            }),
            ([], Some(name)) => {
                return Err(Error::input(
                    &source.name,
                    Location::Line(1),
                    format!(
                        "--estat-columns names {} for {}, which this file does not have; its value columns are: {}",
                        name.describe(),
                        measure.describe(),
                        listing()
                    ),
                ))
            }
            ([], None) if measure == Measure::Total => {
                return Err(Error::input(
                    &source.name,
                    Location::Line(2),
                    format!(
                        "no column is labelled as {} (人口総数, 人口（総数）, 総数 or 総人口); name it with --estat-columns. The labels found are: {}",
                        measure.describe(),
                        listing()
                    ),
                ))
            }
            ([], None) => {}
            (many, _) => {
                let list: Vec<String> = many
                    .iter()
                    .map(|&i| format!("{} 「{}」", code_of(i), label_of(i)))
                    .collect();
                return Err(Error::input(
                    &source.name,
                    Location::Line(2),
                    format!(
                        "{} columns could be {}: {}; choose one with --estat-columns",
                        many.len(),
                        measure.describe(),
                        list.join(", ")
                    ),
                ));
            }
        }
    }
    Ok(out)
}

/// The label row (the file's second line), split like the header.
fn label_row(text: &str) -> Vec<String> {
    let Some(line) = text.lines().nth(1) else {
        return Vec::new();
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(line.as_bytes());
    reader
        .records()
        .next()
        .and_then(|r| r.ok())
        .map(|r| r.iter().map(str::to_string).collect())
        .unwrap_or_default()
}

/// A row read: its cell, HTKSYORI, the HTKSAKI of a suppressed row (`Some(None)` when
/// empty) and the GASSAN of a receiving row.
type EstatRow = (PopulationCell, u8, Option<Option<Mesh>>, Vec<Mesh>);

/// Reads an e-Stat census mesh file (`table` opened on `text`, whose header has KEY_CODE).
pub fn read_estat(
    source: &Source,
    text: &str,
    table: CsvTable,
    seen: &mut HashSet<Mesh>,
    named: Option<&EstatColumns>,
) -> Result<PopulationRead> {
    let c_key = table.require("key_code", "KEY_CODE, HTKSYORI, HTKSAKI, GASSAN")?;
    // The 2010 census's files have no secrecy columns (totals are never suppressed).
    let c_secrecy = table.column("htksyori");
    let c_receiver = table.column("htksaki");
    let c_gassan = table.column("gassan");
    let labels = label_row(text);
    let has_label_row = labels.get(c_key).is_some_and(|k| k.trim().is_empty());
    if !has_label_row && named.is_none_or(|n| n.named.iter().any(|(_, c)| matches!(c, ColumnName::Label(_)))) {
        return Err(Error::input(
            &source.name,
            Location::Line(2),
            "the second line is not the label row (empty under KEY_CODE, the Japanese labels above the values) that e-Stat mesh files carry; name the columns by code with --estat-columns",
        ));
    }
    let choices = choose_columns(source, &table.headers, &labels, named)?;
    let column = |m: Measure| {
        choices
            .iter()
            .find(|c| c.measure == m)
            .and_then(|c| table.headers.iter().position(|h| h.eq_ignore_ascii_case(&c.column)))
    };
    let Some(c_total) = column(Measure::Total) else {
        return Err(Error::Internal("e-Stat columns chosen but not found".into()));
    };
    let c_65 = column(Measure::Aged65);
    let c_75 = column(Measure::Aged75);
    let c_014 = column(Measure::Aged0To14);
    let mut out = PopulationRead {
        has_65plus: c_65.is_some(),
        has_75plus: c_75.is_some(),
        has_0_14: c_014.is_some(),
        layout: "e-Stat",
        columns: choices.clone(),
        labels: (0..table.headers.len())
            .filter(|&i| i != c_key && Some(i) != c_secrecy && Some(i) != c_receiver && Some(i) != c_gassan)
            .map(|i| {
                let code = table.headers.get(i).map(|c| c.to_ascii_uppercase()).unwrap_or_default();
                format!("{code} 「{}」", labels.get(i).map(|l| l.trim()).unwrap_or(""))
            })
            .collect(),
        ..Default::default()
    };
    // Room for every row at once (see `population::read_population_with`).
    out.cells.reserve(table.records_at_most());
    seen.reserve(table.records_at_most());
    let mut rejects = Vec::new();
    let mut skipped_header = 0;
    let mut extra_header = None;
    let mut total = Tally::default();
    let mut aged65 = Tally::default();
    let name = source.name.clone();
    let rows_read = table.for_each(&mut rejects, |location, record| {
        let field = |i: usize| record.get(i).unwrap_or("").trim();
        if has_label_row && location == Location::Line(2) {
            skipped_header += 1;
            return;
        }
        // Another row of labels (no digit in the code or any count) right after them: a
        // header row too many, which would otherwise be read as a data row.
        let looks_like_labels = !field(c_key).bytes().any(|b| b.is_ascii_digit())
            && [Some(c_total), c_65]
                .iter()
                .flatten()
                .all(|&c| !field(c).bytes().any(|b| b.is_ascii_digit()) && !matches!(field(c), "" | "*" | "-"));
        if location == Location::Line(2 + skipped_header as u64) && looks_like_labels {
            extra_header = Some(location.clone());
            return;
        }
        let number = |i: usize| -> Option<f64> { parse_count(field(i)).ok().flatten() };
        let row_total = number(c_total);
        let row_65 = c_65.and_then(number);
        total.read += row_total.unwrap_or(0.0);
        aged65.read += row_65.unwrap_or(0.0);
        let row = (|| -> std::result::Result<EstatRow, String> {
            let mesh = Mesh::parse(field(c_key)).map_err(|e| e.to_string())?;
            let secrecy = match c_secrecy.map(field).unwrap_or("") {
                "" | "0" => 0u8,
                "1" => 1,
                "2" => 2,
                s => return Err(format!("HTKSYORI '{s}' is not 0, 1 or 2")),
            };
            let value = |i: usize, what: &str| -> std::result::Result<Option<f64>, String> {
                parse_count(field(i)).map_err(|s| format!("{what} '{s}' is not a count"))
            };
            let population = match value(c_total, "total population")? {
                Some(v) => v,
                None => {
                    return Err(
                        "total population is suppressed (*), which e-Stat never does (the total is 秘匿対象外)".into(),
                    )
                }
            };
            let detail = |i: usize, what: &str| -> std::result::Result<Option<f64>, String> {
                match value(i, what)? {
                    None if secrecy != 2 => Err(format!(
                        "{what} is suppressed (*) in a cell that is not marked HTKSYORI 2"
                    )),
                    v => Ok(v),
                }
            };
            let p65 = c_65.map(|c| detail(c, "aged 65+")).transpose()?.flatten();
            let p75 = c_75.map(|c| detail(c, "aged 75+")).transpose()?.flatten();
            let p014 = c_014.map(|c| detail(c, "aged 0-14")).transpose()?.flatten();
            // A receiving cell's detail covers its whole group, so only a plain cell's
            // detail must fit inside its own total.
            if secrecy == 0 {
                if let Some(a) = p65.filter(|a| *a > population) {
                    return Err(format!("aged 65+ {a} exceeds the total population {population}"));
                }
                if let (Some(a), Some(b)) = (p75, p65) {
                    if a > b {
                        return Err(format!("aged 75+ {a} exceeds aged 65+ {b}"));
                    }
                }
            }
            let receiver = if secrecy == 2 {
                let text = c_receiver.map(field).unwrap_or("");
                Some(if text.is_empty() {
                    None
                } else {
                    Some(Mesh::parse(text).map_err(|e| format!("HTKSAKI: {e}"))?)
                })
            } else {
                None
            };
            let gassan = if secrecy == 1 {
                c_gassan
                    .map(field)
                    .unwrap_or("")
                    .split(';')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| Mesh::parse(s).map_err(|e| format!("GASSAN: {e}")))
                    .collect::<std::result::Result<Vec<_>, _>>()?
            } else {
                Vec::new()
            };
            let mut cell = new_cell(seen, &location, mesh, population, p65.unwrap_or(0.0), p75)?;
            cell.population_0_14 = if secrecy == 2 { c_014.map(|_| 0.0) } else { p014 };
            if secrecy == 2 && c_75.is_some() {
                cell.population_75plus = Some(0.0);
            }
            Ok((cell, secrecy, receiver, gassan))
        })();
        match row {
            Ok((cell, secrecy, receiver, gassan)) => {
                let index = out.cells.len();
                out.cells.push(cell);
                if secrecy == 2 {
                    out.suppressed += 1;
                    out.secrecy.suppressed.push((index, receiver.flatten()));
                } else if secrecy == 1 {
                    out.secrecy.receivers.push((index, gassan));
                }
            }
            Err(reason) => {
                total.rejected += row_total.unwrap_or(0.0);
                aged65.rejected += row_65.unwrap_or(0.0);
                out.rejects.push(Reject::new(&name, location.clone(), reason));
            }
        }
    });
    if let Some(location) = extra_header {
        return Err(Error::input(
            &source.name,
            location,
            "a third header row: e-Stat mesh files have two (the codes, then the Japanese labels); remove the extra one",
        ));
    }
    out.tally = Some([total, aged65]);
    crate::inputs::population::finish(source, out, rows_read - skipped_header, rejects)
}

/// A count as e-Stat writes it: digits, `-` or empty for zero, `*` suppressed (`None`).
/// The error holds the text.
fn parse_count(s: &str) -> std::result::Result<Option<f64>, String> {
    match s {
        "-" | "" => Ok(Some(0.0)),
        "*" => Ok(None),
        s => match s.parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 => Ok(Some(v)),
            _ => Err(s.to_string()),
        },
    }
}

/// What [`share_suppressed`] did, for `summary.json` and the printed summary.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SecrecyReport {
    /// Groups whose receiving cell's detail was shared over it (receiver + suppressed cells).
    pub groups: usize,
    /// Suppressed cells that received a share.
    pub cells_shared: usize,
    /// People aged 65+ moved from receiving cells to the suppressed cells of their group.
    pub aged65_shared: f64,
    pub aged75_shared: f64,
    pub aged0_14_shared: f64,
    /// Suppressed cells whose HTKSAKI names a cell not in the inputs (or none): their age
    /// detail is in that cell's figures, which were not read; they keep aged counts of 0.
    pub receiver_missing: usize,
    /// Cells listed in a receiver's GASSAN that are not in the inputs: their detail stays
    /// at the receiver.
    pub listed_missing: usize,
}

impl SecrecyReport {
    /// The sentence for the printed summary, `None` when no file had suppressed cells.
    pub fn sentence(&self) -> Option<String> {
        if self.groups == 0 && self.receiver_missing == 0 && self.listed_missing == 0 {
            return None;
        }
        let mut s = format!(
            "secrecy (秘匿): the age detail of {} suppressed cells, published in their HTKSAKI cells, was shared over {} groups by total population ({} aged 65+ moved)",
            self.cells_shared, self.groups, fmt_people(self.aged65_shared)
        );
        if self.receiver_missing > 0 {
            s.push_str(&format!(
                "; {} suppressed cells name an HTKSAKI cell not in the inputs and keep no age detail",
                self.receiver_missing
            ));
        }
        if self.listed_missing > 0 {
            s.push_str(&format!(
                "; {} cells listed in GASSAN are not in the inputs (their detail stays at the receiver)",
                self.listed_missing
            ));
        }
        Some(s)
    }
}

fn fmt_people(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

/// Shares whole `units` over members with the given weights and capacities (largest
/// remainder; ties to the earlier member). Returns one share per member; the shares sum to
/// `units` exactly. When `units` exceeds the capacities (inconsistent input), the rest goes
/// to the members by weight, uncapped.
pub fn apportion(units: f64, weights: &[f64], caps: &[f64]) -> Vec<f64> {
    let n = weights.len();
    let total_weight: f64 = weights.iter().sum();
    let mut shares = vec![0.0; n];
    if n == 0 || units <= 0.0 {
        return shares;
    }
    if total_weight <= 0.0 {
        // No one lives in the group by the totals: the detail stays with the first member.
        if let Some(s) = shares.first_mut() {
            *s = units;
        }
        return shares;
    }
    let whole = units.fract() == 0.0;
    let quota: Vec<f64> = weights.iter().map(|w| units * w / total_weight).collect();
    if !whole {
        // Fractional counts (not e-Stat's): shares in proportion, the last takes the rest.
        let mut given = 0.0;
        for (i, q) in quota.iter().enumerate() {
            let v = if i + 1 == n { units - given } else { *q };
            if let Some(s) = shares.get_mut(i) {
                *s = v;
            }
            given += v;
        }
        return shares;
    }
    let mut given = 0.0;
    for ((s, q), cap) in shares.iter_mut().zip(&quota).zip(caps) {
        *s = q.floor().min(*cap).max(0.0);
        given += *s;
    }
    let mut left = units - given;
    while left > 0.0 {
        // The member furthest below its quota with room left; else the one furthest below.
        let pick = |capped: bool| {
            (0..n)
                .filter(|&i| !capped || shares.get(i) < caps.get(i))
                .max_by(|&a, &b| {
                    let da = quota.get(a).copied().unwrap_or(0.0) - shares.get(a).copied().unwrap_or(0.0);
                    let db = quota.get(b).copied().unwrap_or(0.0) - shares.get(b).copied().unwrap_or(0.0);
                    da.total_cmp(&db).then(b.cmp(&a))
                })
        };
        let Some(i) = pick(true).or_else(|| pick(false)) else {
            break;
        };
        if let Some(s) = shares.get_mut(i) {
            *s += 1.0;
        }
        left -= 1.0;
    }
    shares
}

/// One population file's cells and secrecy links, as [`share_suppressed`] takes them.
pub struct FileCells<'a> {
    pub cells: &'a mut [PopulationCell],
    pub links: &'a SecrecyLinks,
}

/// Shares the age detail of every receiving cell over its group: the receiver and the
/// suppressed cells (read from any file) whose HTKSAKI names it. Aged 75+ and aged 65-74
/// are shared separately (so a cell's 75+ never exceeds its 65+), each capped by what the
/// cell's total leaves; aged 0-14 then within what remains. Every group keeps its
/// published sums exactly. Returns what was done, and per file the aged 65+ moved in
/// (positive) or out (negative) across files.
pub fn share_suppressed(files: &mut [FileCells]) -> (SecrecyReport, Vec<f64>) {
    let mut report = SecrecyReport::default();
    let mut moved = vec![0.0; files.len()];
    // Files without secrecy marks (plain tables) have nothing to share.
    if files
        .iter()
        .all(|f| f.links.suppressed.is_empty() && f.links.receivers.is_empty())
    {
        return (report, moved);
    }
    // Every cell by mesh: (file, index).
    let mut at: rustc_hash::FxHashMap<Mesh, (usize, usize)> = Default::default();
    at.reserve(files.iter().map(|f| f.cells.len()).sum());
    for (f, file) in files.iter().enumerate() {
        for (i, c) in file.cells.iter().enumerate() {
            at.entry(c.mesh).or_insert((f, i));
        }
    }
    // Groups by receiver, members in file and line order.
    let mut groups: rustc_hash::FxHashMap<(usize, usize), Vec<(usize, usize)>> = Default::default();
    let mut order: Vec<(usize, usize)> = Vec::new();
    for (f, file) in files.iter().enumerate() {
        for &(i, receiver) in &file.links.suppressed {
            match receiver.and_then(|r| at.get(&r)) {
                Some(&r) if r != (f, i) => {
                    let g = groups.entry(r).or_default();
                    if g.is_empty() {
                        order.push(r);
                    }
                    g.push((f, i));
                }
                _ => report.receiver_missing += 1,
            }
        }
        for (_, listed) in &file.links.receivers {
            report.listed_missing += listed.iter().filter(|m| !at.contains_key(m)).count();
        }
    }
    order.sort_unstable();
    for receiver in order {
        let Some(members) = groups.get(&receiver) else { continue };
        let all: Vec<(usize, usize)> = std::iter::once(receiver).chain(members.iter().copied()).collect();
        let cell = |files: &[FileCells], (f, i): (usize, usize)| -> Option<PopulationCell> {
            files.get(f).and_then(|x| x.cells.get(i)).cloned()
        };
        let cells: Vec<PopulationCell> = all.iter().filter_map(|&k| cell(files, k)).collect();
        let Some(r) = cells.first() else { continue };
        let weights: Vec<f64> = cells.iter().map(|c| c.population).collect();
        let a65 = r.population_65plus;
        let a75 = r.population_75plus;
        let s75 = a75.map(|a| apportion(a, &weights, &weights));
        let room: Vec<f64> = weights
            .iter()
            .enumerate()
            .map(|(k, w)| w - s75.as_ref().and_then(|s| s.get(k)).copied().unwrap_or(0.0))
            .collect();
        let s6574 = apportion(a65 - a75.unwrap_or(0.0), &weights, &room);
        let s65: Vec<f64> = s6574
            .iter()
            .enumerate()
            .map(|(k, v)| v + s75.as_ref().and_then(|s| s.get(k)).copied().unwrap_or(0.0))
            .collect();
        let room: Vec<f64> = weights.iter().zip(&s65).map(|(w, s)| (w - s).max(0.0)).collect();
        let s014 = r.population_0_14.map(|a| apportion(a, &weights, &room));
        report.groups += 1;
        report.cells_shared += members.len();
        for (k, &(f, i)) in all.iter().enumerate() {
            let Some(c) = files.get_mut(f).and_then(|x| x.cells.get_mut(i)) else {
                continue;
            };
            let v65 = s65.get(k).copied().unwrap_or(0.0);
            if k > 0 {
                report.aged65_shared += v65;
                report.aged75_shared += s75.as_ref().and_then(|s| s.get(k)).copied().unwrap_or(0.0);
                report.aged0_14_shared += s014.as_ref().and_then(|s| s.get(k)).copied().unwrap_or(0.0);
                if f != receiver.0 {
                    if let Some(m) = moved.get_mut(f) {
                        *m += v65;
                    }
                    if let Some(m) = moved.get_mut(receiver.0) {
                        *m -= v65;
                    }
                }
            }
            c.population_65plus = v65;
            if let Some(s) = &s75 {
                c.population_75plus = s.get(k).copied();
            }
            if let Some(s) = &s014 {
                c.population_0_14 = s.get(k).copied();
            }
        }
    }
    (report, moved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_of_every_census_name_their_measure() {
        let cases = [
            ("　人口総数", Some(Measure::Total)),
            ("　人口（総数）", Some(Measure::Total)),
            ("総数", Some(Measure::Total)),
            ("総人口", Some(Measure::Total)),
            ("　人口総数　男", None),
            ("　人口（総数）　女", None),
            ("　６５歳以上人口総数", Some(Measure::Aged65)),
            ("　６５歳以上人口　総数", Some(Measure::Aged65)),
            ("うち65歳以上", Some(Measure::Aged65)),
            ("　６５歳以上人口　男", None),
            ("　７５歳以上人口　総数", Some(Measure::Aged75)),
            ("（再掲）７５歳以上人口", Some(Measure::Aged75)),
            ("　０～１４歳人口総数", Some(Measure::Aged0To14)),
            ("　０〜１４歳人口　総数", Some(Measure::Aged0To14)),
            ("１５歳未満人口", Some(Measure::Aged0To14)),
            ("　１５～６４歳人口　総数", None),
            ("　８５歳以上人口　総数", None),
            ("　６５歳以上世帯員のいる世帯数", None),
            ("　外国人人口　総数", None),
            ("　世帯総数", None),
        ];
        for (label, want) in cases {
            assert_eq!(measure_of(label), want, "{label}");
        }
    }

    #[test]
    fn parses_column_overrides() {
        let c = EstatColumns::parse("001,016").unwrap();
        assert_eq!(
            c.named,
            vec![
                (Measure::Total, ColumnName::Code("001".into())),
                (Measure::Aged65, ColumnName::Code("016".into()))
            ]
        );
        let c = EstatColumns::parse("aged65=６５歳以上人口　総数,aged0_14=T000847004").unwrap();
        assert_eq!(
            c.named,
            vec![
                (Measure::Aged65, ColumnName::Label("65歳以上人口総数".into())),
                (Measure::Aged0To14, ColumnName::Code("t000847004".into()))
            ]
        );
        assert!(EstatColumns::parse("001").is_err());
        assert!(EstatColumns::parse("total=001,total=002").is_err());
        assert!(EstatColumns::parse("elderly=016").is_err());
    }

    /// Largest remainders by hand: 10 over weights 1, 2, 3 = quotas 1.67, 3.33, 5 -> floors
    /// 1, 3, 5 (9), the unit left to the largest remainder (0.67): 2, 3, 5.
    #[test]
    fn apportions_whole_people_exactly() {
        assert_eq!(apportion(10.0, &[1.0, 2.0, 3.0], &[10.0; 3]), vec![2.0, 3.0, 5.0]);
        // Caps bind: 3 over (1, 1) with caps (1, 5): 1 and 2.
        assert_eq!(apportion(3.0, &[1.0, 1.0], &[1.0, 5.0]), vec![1.0, 2.0]);
        // A tie goes to the earlier member.
        assert_eq!(apportion(1.0, &[1.0, 1.0], &[1.0, 1.0]), vec![1.0, 0.0]);
        // Nobody by the totals: the receiver keeps it.
        assert_eq!(apportion(4.0, &[0.0, 0.0], &[0.0, 0.0]), vec![4.0, 0.0]);
    }
}
