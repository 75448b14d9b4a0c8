//! Regions: a layout of municipalities into areas (the secondary medical regions, 二次医療圏,
//! or any other), CSV `municipality_code,region_code,region_name`.

use crate::error::{Error, Reject, Result};
use crate::inputs::csv_table::CsvTable;
use crate::inputs::municipalities::{normalise_code, Municipality};
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
    let table = CsvTable::open(&source.name, &text)?;
    let expected = "municipality_code,region_code,region_name";
    let (c_m, c_r, c_n) = (
        table.require("municipality_code", expected)?,
        table.require("region_code", expected)?,
        table.require("region_name", expected)?,
    );
    let index: HashMap<&str, usize> = municipalities
        .iter()
        .enumerate()
        .map(|(i, m)| (m.code.as_str(), i))
        .collect();
    let mut out = RegionsRead::default();
    let mut seen = vec![false; municipalities.len()];
    let mut by_code: std::collections::BTreeMap<String, Region> = Default::default();
    let mut rejects = Vec::new();
    let rows_read = table.for_each(&mut rejects, |location, record| {
        let field = |i: usize| record.get(i).unwrap_or("").trim().to_string();
        let row = (|| -> std::result::Result<(usize, String, String), String> {
            let code = normalise_code(&field(c_m))?;
            let m = *index
                .get(code.as_str())
                .ok_or_else(|| format!("municipality {code} is not in the municipalities file"))?;
            if seen[m] {
                return Err(format!("municipality {code} is listed again (the first row is kept)"));
            }
            let region = field(c_r);
            if region.is_empty() {
                return Err("region_code is empty".into());
            }
            seen[m] = true;
            Ok((m, region, field(c_n)))
        })();
        match row {
            Ok((m, code, name)) => by_code
                .entry(code.clone())
                .or_insert_with(|| Region {
                    code,
                    name,
                    members: Vec::new(),
                })
                .members
                .push(m),
            Err(reason) => out.rejects.push(Reject::new(&source.name, location, reason)),
        }
    });
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
