//! `institutions.geojson`: every institution the study accepted, with its kind, flags, and
//! the roles and functions it carries under the rules, so that each function's institutions
//! are explicit (as the guideline asks).

use crate::error::Result;
use crate::inputs::institutions::Flag;
use crate::outputs::geojson_out::{num_full, write_feature_collection, OutFeature, OutGeometry};
use crate::outputs::OutDir;
use crate::study::Study;
use rayon::prelude::*;
use serde_json::{json, Map, Value};

/// Writes institutions.geojson. `located[i]` is the municipality holding institution `i`.
pub fn write_institutions(out: &mut OutDir, study: &Study, located: &[Option<usize>]) -> Result<()> {
    let rules = &study.rules;
    let features = study
        .institutions
        .par_iter()
        .enumerate()
        .map(|(i, inst)| {
            let mut p = Map::new();
            p.insert("id".into(), json!(inst.id));
            p.insert("name".into(), json!(inst.name));
            p.insert("kind".into(), json!(inst.kind.as_str()));
            p.insert("kind_ja".into(), json!(inst.kind.japanese()));
            let muni = located
                .get(i)
                .copied()
                .flatten()
                .and_then(|m| study.municipalities.get(m));
            p.insert("municipality_code".into(), muni.map_or(Value::Null, |m| json!(m.code)));
            p.insert("beds".into(), num_full(inst.beds));
            p.insert("capacity".into(), num_full(inst.capacity));
            for flag in Flag::ALL {
                p.insert(flag.as_str().into(), json!(inst.flags.contains(flag)));
            }
            p.insert(
                "support_type".into(),
                inst.support_type.map_or(Value::Null, |t| json!(t)),
            );
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
            p.insert("roles".into(), json!(roles.join(",")));
            p.insert("functions".into(), json!(functions.join(",")));
            OutFeature {
                geometry: OutGeometry::Point(inst.lon, inst.lat),
                properties: p,
            }
        })
        .collect();
    write_feature_collection(out, "institutions.geojson", features)
}
