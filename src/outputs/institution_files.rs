//! `institutions.geojson`: every institution the study accepted, with its kind, flags, and
//! the roles and functions it carries under the rules, so that each function's institutions
//! are explicit (as the guideline asks).

use crate::error::Result;
use crate::inputs::institutions::Flag;
use crate::outputs::geojson_out::{num_full, write_feature_table, OutGeometry};
use crate::outputs::OutDir;
use crate::study::Study;
use rayon::prelude::*;
use serde_json::{json, Value};

/// Writes institutions.geojson. `located[i]` is the municipality holding institution `i`.
pub fn write_institutions(out: &mut OutDir, study: &Study, located: &[Option<usize>]) -> Result<()> {
    let rules = &study.rules;
    let mut keys: Vec<String> = ["id", "name", "kind", "kind_ja", "municipality_code", "beds", "capacity"]
        .map(String::from)
        .to_vec();
    keys.extend(Flag::ALL.iter().map(|f| f.as_str().to_string()));
    keys.extend(["support_type", "roles", "functions"].map(String::from));
    let features = study
        .institutions
        .par_iter()
        .enumerate()
        .map(|(i, inst)| {
            let mut p = Vec::with_capacity(keys.len());
            p.push(json!(inst.id));
            p.push(json!(inst.name));
            p.push(json!(inst.kind.as_str()));
            p.push(json!(inst.kind.japanese()));
            let muni = located
                .get(i)
                .copied()
                .flatten()
                .and_then(|m| study.municipalities.get(m));
            p.push(muni.map_or(Value::Null, |m| json!(m.code)));
            p.push(num_full(inst.beds));
            p.push(num_full(inst.capacity));
            for flag in Flag::ALL {
                p.push(json!(inst.flags.contains(flag)));
            }
            p.push(inst.support_type.map_or(Value::Null, |t| json!(t)));
            let roles: Vec<&str> = rules
                .roles
                .iter()
                .filter(|r| r.matches(inst))
                .map(|r| r.id.as_str())
                .collect();
            let functions: Vec<&str> = rules
                .functions
                .iter()
                .filter(|f| f.roles.iter().any(|u| rules.roles[u.role].matches(inst)))
                .map(|f| f.id.as_str())
                .collect();
            p.push(json!(roles.join(",")));
            p.push(json!(functions.join(",")));
            (OutGeometry::Point(inst.lon, inst.lat), p)
        })
        .collect();
    write_feature_table(out, "institutions.geojson", keys, features)
}
