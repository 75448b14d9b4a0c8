//! Travel times computed elsewhere (`--od-matrix`): a CSV `origin_id,destination_id,minutes`
//! with institutions as origins (their `id`) and demand places as destinations (the mesh
//! code of the population cell), as exported from OSRM's or Valhalla's table service or any
//! routing tool. Times are used as given; a pair that is not listed is not reachable.
//!
//! A row naming an unknown institution or cell, a time that is not a non-negative number, or
//! a pair given twice (the first is kept) is rejected with the reason.

use crate::error::{Error, Reject, Result};
use crate::inputs::csv_table::CsvTable;
use crate::inputs::mesh::Mesh;
use crate::inputs::source::{decode_text, Source};
use std::collections::HashMap;

/// Travel times from institutions to places, minutes.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OdMatrix {
    /// Per demand place: (institution index, minutes), sorted by institution.
    pub to_place: Vec<Vec<(u32, f64)>>,
    pub rows_read: usize,
    pub accepted: usize,
}

/// Reads an OD matrix for the given institutions (by id) and demand places (by mesh code).
pub fn read_od_matrix(
    source: &Source,
    institution_ids: &[&str],
    place_meshes: &[Mesh],
    rejects: &mut Vec<Reject>,
) -> Result<OdMatrix> {
    let (text, _) = decode_text(source)?;
    let table = CsvTable::open(&source.name, &text)?;
    let expected = "origin_id,destination_id,minutes";
    let c_o = table.require("origin_id", expected)?;
    let c_d = table.require("destination_id", expected)?;
    let c_m = table.require("minutes", expected)?;
    let inst: HashMap<&str, u32> = institution_ids
        .iter()
        .enumerate()
        .map(|(k, &id)| (id, k as u32))
        .collect();
    let place: HashMap<Mesh, u32> = place_meshes.iter().enumerate().map(|(i, &m)| (m, i as u32)).collect();
    let mut out = OdMatrix {
        to_place: vec![Vec::new(); place_meshes.len()],
        ..Default::default()
    };
    let mut local = Vec::new();
    let mut row_rejects = Vec::new();
    let mut seen: std::collections::HashSet<(u32, u32)> = Default::default();
    out.rows_read = table.for_each(&mut local, |location, record| {
        let field = |i: usize| record.get(i).unwrap_or("").trim();
        let row = (|| -> std::result::Result<(u32, u32, f64), String> {
            let o = *inst
                .get(field(c_o))
                .ok_or_else(|| format!("origin_id '{}' is not an institution of the study", field(c_o)))?;
            let mesh = Mesh::parse(field(c_d)).map_err(|e| format!("destination_id: {e}"))?;
            let d = *place
                .get(&mesh)
                .ok_or_else(|| format!("destination_id {mesh} is not a demand cell of the study"))?;
            let m: f64 = field(c_m)
                .parse()
                .ok()
                .filter(|m: &f64| m.is_finite() && *m >= 0.0)
                .ok_or_else(|| format!("minutes '{}' is not a non-negative number", field(c_m)))?;
            if !seen.insert((o, d)) {
                return Err(format!(
                    "the pair {} -> {mesh} appears again (the first is kept)",
                    field(c_o)
                ));
            }
            Ok((o, d, m))
        })();
        match row {
            Ok((o, d, m)) => {
                if let Some(place) = out.to_place.get_mut(d as usize) {
                    place.push((o, m));
                    out.accepted += 1;
                }
            }
            Err(reason) => row_rejects.push(Reject::new(&source.name, location, reason)),
        }
    });
    local.extend(row_rejects);
    if out.accepted == 0 {
        return Err(Error::no_usable_row(
            &source.name,
            "origin-destination pair",
            out.rows_read,
            &local,
        ));
    }
    for v in &mut out.to_place {
        v.sort_unstable_by_key(|p| p.0);
    }
    local.sort_by(|a, b| a.location.cmp(&b.location));
    rejects.extend(local);
    Ok(out)
}
