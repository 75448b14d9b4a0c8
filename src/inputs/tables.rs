//! Process and outcome tables (`--table`): per municipality, numeric columns such as
//! patients visited or deaths at home, read as given.

use crate::error::{Reject, Result};
use crate::inputs::csv_table::CsvTable;
use crate::inputs::municipalities::{normalise_code, Municipality};
use crate::inputs::source::{decode_text, Source};
use std::collections::HashMap;

/// Table values per municipality (index) and column.
pub type TableValues = std::collections::HashMap<usize, std::collections::HashMap<String, f64>>;

/// Reads a table `municipality_code,<column>,...` into `values`. Rows of unknown
/// municipalities, bad codes or non-numeric values are rejected; an empty cell is no value.
/// Returns the rows read and the rejects.
pub fn read_table(
    source: &Source,
    municipalities: &[Municipality],
    values: &mut TableValues,
) -> Result<(usize, Vec<Reject>)> {
    let (text, _) = decode_text(source)?;
    let table = CsvTable::open(&source.name, &text)?;
    let c_code = table.require("municipality_code", "municipality_code and numeric columns")?;
    let columns: Vec<(usize, String)> = table
        .headers
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != c_code)
        .map(|(i, h)| (i, h.clone()))
        .collect();
    let index: HashMap<&str, usize> = municipalities
        .iter()
        .enumerate()
        .map(|(i, m)| (m.code.as_str(), i))
        .collect();
    let mut rejects = Vec::new();
    let mut row_rejects = Vec::new();
    let mut accepted = Vec::new();
    let read = table.for_each(&mut rejects, |location, record| {
        let row = (|| -> std::result::Result<(usize, Vec<(String, f64)>), String> {
            let code = normalise_code(record.get(c_code).unwrap_or(""))?;
            let m = *index
                .get(code.as_str())
                .ok_or_else(|| format!("municipality {code} is not in the municipalities file"))?;
            let mut vals = Vec::new();
            for (i, name) in &columns {
                let s = record.get(*i).unwrap_or("").trim();
                if s.is_empty() {
                    continue;
                }
                let v: f64 = s.parse().map_err(|_| format!("{name} '{s}' is not a number"))?;
                if !v.is_finite() {
                    return Err(format!("{name} '{s}' is not a finite number"));
                }
                vals.push((name.clone(), v));
            }
            Ok((m, vals))
        })();
        match row {
            Ok(r) => accepted.push(r),
            Err(reason) => row_rejects.push(Reject::new(&source.name, location, reason)),
        }
    });
    for (m, vals) in accepted {
        let entry = values.entry(m).or_default();
        for (name, v) in vals {
            *entry.entry(name).or_insert(0.0) += v;
        }
    }
    rejects.extend(row_rejects);
    rejects.sort_by(|a, b| a.location.cmp(&b.location));
    Ok((read, rejects))
}

/// A numerical target (数値目標) for an indicator in an area.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub indicator: String,
    pub area_code: String,
    pub value: f64,
    /// `true`: the value must be at least the target; `false`: at most.
    pub at_least: bool,
    /// Which figure is compared: count, per_100k, per_100k_65plus or share.
    pub measure: String,
}

/// Reads targets `indicator,area_code,target,direction[,measure]`: direction `at_least`
/// (or `>=`) or `at_most` (`<=`); measure `count` (default; `share` for coverage
/// indicators), `per_100k`, `per_100k_65plus` or `share`.
pub fn read_targets(source: &Source) -> Result<(Vec<Target>, usize, Vec<Reject>)> {
    let (text, _) = decode_text(source)?;
    let table = CsvTable::open(&source.name, &text)?;
    let expected = "indicator,area_code,target,direction[,measure]";
    let (c_i, c_a, c_t, c_d) = (
        table.require("indicator", expected)?,
        table.require("area_code", expected)?,
        table.require("target", expected)?,
        table.require("direction", expected)?,
    );
    let c_m = table.column("measure");
    let mut rejects = Vec::new();
    let mut row_rejects = Vec::new();
    let mut targets = Vec::new();
    let read = table.for_each(&mut rejects, |location, record| {
        let field = |i: usize| record.get(i).unwrap_or("").trim().to_string();
        let row = (|| -> std::result::Result<Target, String> {
            let indicator = field(c_i);
            let value: f64 = field(c_t)
                .parse()
                .map_err(|_| format!("target '{}' is not a number", field(c_t)))?;
            let at_least = match field(c_d).as_str() {
                "at_least" | ">=" => true,
                "at_most" | "<=" => false,
                other => return Err(format!("direction '{other}': expected at_least or at_most")),
            };
            let measure = match c_m.map(field).filter(|m| !m.is_empty()) {
                Some(m) if ["count", "per_100k", "per_100k_65plus", "share"].contains(&m.as_str()) => m,
                Some(m) => {
                    return Err(format!(
                        "measure '{m}': expected count, per_100k, per_100k_65plus or share"
                    ))
                }
                None if indicator.starts_with("coverage_") => "share".into(),
                None => "count".into(),
            };
            Ok(Target {
                indicator,
                area_code: field(c_a),
                value,
                at_least,
                measure,
            })
        })();
        match row {
            Ok(t) => targets.push(t),
            Err(reason) => row_rejects.push(Reject::new(&source.name, location, reason)),
        }
    });
    rejects.extend(row_rejects);
    rejects.sort_by(|a, b| a.location.cmp(&b.location));
    Ok((targets, read, rejects))
}
