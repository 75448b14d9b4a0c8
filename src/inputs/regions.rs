//! Regions: a layout of municipalities into areas (the secondary medical regions, 二次医療圏,
//! or any other), CSV `municipality_code,region_code,region_name`, or the national land
//! data's medical regions (A38, 医療圏) as GeoJSON or CSV: `A38a_001` municipality code,
//! `A38a_003` region code, `A38a_004` region name.

use crate::error::Location;
use crate::error::{Error, Reject, Result};
use crate::inputs::csv_table::CsvTable;
use crate::inputs::municipalities::{normalise_code, parse_feature_collection, Municipality};
use crate::inputs::source::{decode_text, Source};
use std::collections::HashMap;

/// One region and its member municipalities.
#[derive(Debug, Clone, PartialEq)]
pub struct Region {
    pub code: String,
    pub name: String,
    /// Indexes into the municipalities, ascending.
    pub members: Vec<usize>,
}

/// A layout read from a file.
#[derive(Debug, Default)]
pub struct RegionsRead {
    /// Sorted by code.
    pub regions: Vec<Region>,
    pub rows_read: usize,
    pub rejects: Vec<Reject>,
}

/// Reads a regions CSV against the study's municipalities. A row whose municipality is not
/// in the study, a bad code, or a municipality listed twice is rejected with the reason.
pub fn read_regions(source: &Source, municipalities: &[Municipality]) -> Result<RegionsRead> {
    let (text, _) = decode_text(source)?;
    // (location, municipality code, region code, region name) per row or feature.
    let mut rows: Vec<(Location, String, String, String)> = Vec::new();
    let mut rejects = Vec::new();
    let rows_read;
    if text.trim_start().starts_with('{') {
        let fc = parse_feature_collection(source, &text)?;
        let text_of = |v: Option<&serde_json::Value>| match v {
            Some(serde_json::Value::String(s)) => s.trim().to_string(),
            Some(serde_json::Value::Number(n)) => n.to_string(),
            _ => String::new(),
        };
        for (k, f) in fc.features.iter().enumerate() {
            let p = f.properties.as_ref();
            let get = |key: &str| text_of(p.and_then(|p| p.get(key)));
            rows.push((
                Location::Feature(k + 1, None),
                get("A38a_001"),
                get("A38a_003"),
                get("A38a_004"),
            ));
        }
        rows_read = fc.features.len();
        if !rows.is_empty() && rows.iter().all(|r| r.1.is_empty()) {
            return Err(Error::input(
                &source.name,
                Location::File,
                "a GeoJSON regions file must be the national land data's A38 layout (A38a_001, A38a_003, A38a_004)",
            ));
        }
    } else {
        let table = CsvTable::open(&source.name, &text)?;
        let a38 = table.column("a38a_001").is_some();
        let (m, r, n) = if a38 {
            ("a38a_001", "a38a_003", "a38a_004")
        } else {
            ("municipality_code", "region_code", "region_name")
        };
        let expected = "municipality_code,region_code,region_name (or A38a_001,A38a_003,A38a_004)";
        let (c_m, c_r, c_n) = (
            table.require(m, expected)?,
            table.require(r, expected)?,
            table.require(n, expected)?,
        );
        rows_read = table.for_each(&mut rejects, |location, record| {
            let field = |i: usize| record.get(i).unwrap_or("").trim().to_string();
            rows.push((location, field(c_m), field(c_r), field(c_n)));
        });
    }
    let index: HashMap<&str, usize> = municipalities
        .iter()
        .enumerate()
        .map(|(i, m)| (m.code.as_str(), i))
        .collect();
    let mut out = RegionsRead::default();
    let mut region_of: Vec<Option<String>> = vec![None; municipalities.len()];
    let mut by_code: std::collections::BTreeMap<String, Region> = Default::default();
    for (location, code, region, name) in rows {
        let row = (|| -> std::result::Result<Option<(usize, String, String)>, String> {
            let code = normalise_code(&code)?;
            let m = *index
                .get(code.as_str())
                .ok_or_else(|| format!("municipality {code} is not in the municipalities file"))?;
            if region.is_empty() {
                return Err("region_code is empty".into());
            }
            let slot = region_of
                .get_mut(m)
                .ok_or_else(|| format!("municipality {code} is not in the municipalities file"))?;
            match slot {
                // A38 has one feature per polygon part: the same pair again is no news.
                Some(r) if *r == region => Ok(None),
                Some(r) => Err(format!(
                    "municipality {code} is listed again, in region {region} after {r} (the first row is kept)"
                )),
                None => {
                    *slot = Some(region.clone());
                    Ok(Some((m, region, name)))
                }
            }
        })();
        match row {
            Ok(Some((m, code, name))) => by_code
                .entry(code.clone())
                .or_insert_with(|| Region {
                    code,
                    name,
                    members: Vec::new(),
                })
                .members
                .push(m),
            Ok(None) => {}
            Err(reason) => out.rejects.push(Reject::new(&source.name, location, reason)),
        }
    }
    out.rows_read = rows_read;
    out.rejects.extend(rejects);
    out.rejects.sort_by(|a, b| a.location.cmp(&b.location));
    out.regions = by_code
        .into_values()
        .map(|mut r| {
            r.members.sort_unstable();
            r
        })
        .collect();
    if out.regions.is_empty() {
        return Err(Error::no_usable_row(
            &source.name,
            "region row",
            out.rows_read,
            &out.rejects,
        ));
    }
    Ok(out)
}
