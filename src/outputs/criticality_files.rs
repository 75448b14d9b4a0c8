//! The files of `zaitaku criticality`: criticality.csv (a row per institution, function and
//! required role it fills, plus its `all` row, ranked), criticality.geojson (the
//! institutions with each function's unique demand and their largest, styled) and
//! criticality_summary.json.

use crate::criticality::{Criticality, Entry, RoleSlot};
use crate::error::Result;
use crate::outputs::geojson_out::{num_full, write_feature_collection, OutFeature, OutGeometry};
use crate::outputs::tables::write_csv;
use crate::outputs::{fmt_full, fmt_num, round, OutDir};
use crate::study::Study;
use serde_json::{json, Map, Value};

/// The column header of criticality.csv.
pub const HEADER: [&str; 9] = [
    "id",
    "name",
    "kind",
    "municipality_code",
    "function",
    "role",
    "unique_demand",
    "unique_share",
    "rank",
];

/// The role column of an entry.
fn role_name(study: &Study, slot: RoleSlot) -> &str {
    match slot {
        RoleSlot::All => "all",
        RoleSlot::Role(r) => &study.rules.roles[r].id,
    }
}

/// A function's entries ranked: by role (`all` first, then the rules' order), then unique
/// demand, largest first, then institution order.
pub fn ranked(entries: &[Entry]) -> Vec<&Entry> {
    let mut out: Vec<&Entry> = entries.iter().collect();
    out.sort_by(|a, b| {
        a.role
            .cmp(&b.role)
            .then(b.unique_demand.total_cmp(&a.unique_demand))
            .then(a.institution.cmp(&b.institution))
    });
    out
}

/// Writes every file of a criticality run.
pub fn write_criticality(out: &mut OutDir, study: &Study, c: &Criticality) -> Result<()> {
    let munis = crate::indicators::institution_municipalities(study);
    let muni_code = |k: usize| munis[k].map_or_else(String::new, |m| study.municipalities[m].code.clone());
    let mut rows: Vec<Vec<String>> = Vec::new();
    for (f, entries) in c.functions.iter().enumerate() {
        let function = &study.rules.functions[f];
        let covered = c.covered[f];
        let mut rank = 0;
        let mut slot = None;
        for e in ranked(entries) {
            if slot != Some(e.role) {
                slot = Some(e.role);
                rank = 0;
            }
            rank += 1;
            let inst = &study.institutions[e.institution];
            rows.push(vec![
                inst.id.clone(),
                inst.name.clone(),
                inst.kind.as_str().into(),
                muni_code(e.institution),
                function.id.clone(),
                role_name(study, e.role).into(),
                fmt_full(Some(e.unique_demand)),
                fmt_num((covered > 0.0).then(|| e.unique_demand / covered), 9),
                rank.to_string(),
            ]);
        }
    }
    write_csv(out, "criticality.csv", &HEADER, rows.into_iter())?;

    // Per institution: each function's `all` figure and the largest.
    let nf = study.rules.functions.len();
    let mut per: Vec<Vec<Option<f64>>> = vec![vec![None; nf]; study.institutions.len()];
    for (f, entries) in c.functions.iter().enumerate() {
        for e in entries.iter().filter(|e| e.role == RoleSlot::All) {
            per[e.institution][f] = Some(e.unique_demand);
        }
    }
    let features: Vec<OutFeature> = per
        .iter()
        .enumerate()
        .filter(|(_, v)| v.iter().any(Option::is_some))
        .map(|(k, v)| {
            let inst = &study.institutions[k];
            let mut m = Map::new();
            m.insert("id".into(), Value::from(inst.id.clone()));
            m.insert("name".into(), Value::from(inst.name.clone()));
            m.insert("kind".into(), Value::from(inst.kind.as_str()));
            m.insert("municipality_code".into(), Value::from(muni_code(k)));
            for (f, x) in v.iter().enumerate() {
                m.insert(format!("{}_unique", study.rules.functions[f].id), num_full(*x));
            }
            // The largest; ties go to the first function.
            let largest = v.iter().enumerate().filter_map(|(f, x)| x.map(|x| (f, x))).fold(
                None,
                |best: Option<(usize, f64)>, (f, x)| match best {
                    Some((_, b)) if b >= x => best,
                    _ => Some((f, x)),
                },
            );
            m.insert("largest_unique".into(), num_full(largest.map(|l| l.1)));
            m.insert(
                "largest_function".into(),
                Value::from(largest.map_or(String::new(), |l| study.rules.functions[l.0].id.clone())),
            );
            OutFeature {
                geometry: OutGeometry::Point(inst.lon, inst.lat),
                properties: m,
            }
        })
        .collect();
    write_feature_collection(out, "criticality.geojson", features)?;

    let functions: Vec<Value> = c
        .functions
        .iter()
        .enumerate()
        .map(|(f, entries)| {
            let all: Vec<&Entry> = ranked(entries)
                .into_iter()
                .filter(|e| e.role == RoleSlot::All)
                .collect();
            let top: Vec<Value> = all
                .iter()
                .take(10)
                .filter(|e| e.unique_demand > 0.0)
                .map(|e| {
                    let inst = &study.institutions[e.institution];
                    json!({"id": inst.id, "name": inst.name, "kind": inst.kind.as_str(), "unique_demand": round(e.unique_demand, 3)})
                })
                .collect();
            json!({
                "function": study.rules.functions[f].id,
                "covered_demand": round(c.covered[f], 3),
                "demand_a_single_closure_could_uncover": round(c.fragile[f], 3),
                "institutions": all.len(),
                "institutions_with_unique_demand": all.iter().filter(|e| e.unique_demand > 0.0).count(),
                "most_critical": top,
            })
        })
        .collect();
    let summary = json!({
        "zaitaku_version": env!("CARGO_PKG_VERSION"),
        "command": "criticality",
        "demand": study.demand.basis.describe(),
        "inputs": study.files,
        "reach": match (&study.network, &study.od) {
            (Some((name, _)), _) => format!(
                "by road travel time on {name}: a provider is within reach within the role's reach_min by road and its reach_km in a straight line"
            ),
            (None, Some((name, _))) => format!(
                "by the travel times of the OD matrix {name}, within reach_min, and reach_km in a straight line"
            ),
            (None, None) => "within each role's reach_km in a straight line".to_string(),
        },
        "method": "one pass: a covered place where a required role has exactly one provider within reach is that provider's alone; unique_demand sums the demand of such places per institution, function and role, and over all the roles it fills (role `all`, the demand its closure alone would uncover); unique_share = unique_demand / the function's covered demand over the whole input",
        "functions": functions,
    });
    let bytes = serde_json::to_vec_pretty(&summary).map_err(|e| crate::error::Error::Internal(e.to_string()))?;
    out.write_bytes("criticality_summary.json", &bytes)
}
