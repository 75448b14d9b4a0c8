//! The files of `zaitaku suggest`: suggestions.csv, suggestions.geojson, a scenario file
//! that adds the sites (suggested_scenario.toml) and suggest_summary.json.

use crate::error::Result;
use crate::outputs::geojson_out::{num_full, write_feature_collection, OutFeature, OutGeometry};
use crate::outputs::tables::write_csv;
use crate::outputs::{fmt_full, fmt_num, round, OutDir};
use crate::study::Study;
use crate::suggest::{Site, Suggestion};
use serde_json::{json, Map, Value};

/// The kind of a new site: a clinic where the role takes one, else its first kind.
fn new_kind(role: &crate::inputs::rules::Role) -> &'static str {
    use crate::inputs::institutions::Kind;
    if role.kinds.contains(Kind::Clinic) {
        Kind::Clinic.as_str()
    } else {
        role.kinds.iter().next().map(|k| k.as_str()).unwrap_or("clinic")
    }
}

/// Writes every file of a suggestion.
pub fn write_suggest(out: &mut OutDir, study: &Study, s: &Suggestion) -> Result<()> {
    let role = &study.rules.roles[s.role];
    let function = &study.rules.functions[s.function];
    let total: f64 = study.demand.cells.iter().map(|c| c.demand).sum();
    // The municipality of an existing institution: the polygon holding it, else the
    // nearest within the coastal snap (as the institutions layer places it).
    let locator = crate::demand::MunicipalityLocator::new(&study.municipalities);
    let describe = |site: &Site| -> (String, String, String, String, String) {
        match site {
            Site::Existing(k) => {
                let i = &study.institutions[*k];
                let muni = locator
                    .holding_or_near(i.lon, i.lat)
                    .map_or_else(String::new, |m| study.municipalities[m].code.clone());
                (
                    "existing".into(),
                    i.id.clone(),
                    i.name.clone(),
                    i.kind.as_str().into(),
                    muni,
                )
            }
            Site::New(c) => {
                let cell = &study.demand.cells[*c];
                (
                    "new".into(),
                    format!("NEW-{}", cell.mesh.code()),
                    String::new(),
                    new_kind(role).into(),
                    study.municipalities[cell.municipality].code.clone(),
                )
            }
        }
    };
    let mut cumulative = 0.0;
    let rows: Vec<Vec<String>> = s
        .picks
        .iter()
        .enumerate()
        .map(|(n, p)| {
            cumulative += p.added;
            let (kind_of_site, id, name, kind, muni) = describe(&p.site);
            vec![
                (n + 1).to_string(),
                kind_of_site,
                id,
                name,
                kind,
                fmt_num(Some(p.lat), 6),
                fmt_num(Some(p.lon), 6),
                muni,
                fmt_full(Some(p.added)),
                fmt_full(Some(cumulative)),
                fmt_num((total > 0.0).then(|| cumulative / total), 6),
            ]
        })
        .collect();
    write_csv(
        out,
        "suggestions.csv",
        &[
            "rank",
            "site",
            "id",
            "name",
            "kind",
            "lat",
            "lon",
            "municipality_code",
            "added_demand",
            "cumulative_demand",
            "cumulative_share_of_demand",
        ],
        rows.clone().into_iter(),
    )?;
    let features = s
        .picks
        .iter()
        .zip(&rows)
        .map(|(p, row)| {
            let mut m = Map::new();
            m.insert("rank".into(), Value::from(row[0].parse::<u64>().unwrap_or(0)));
            m.insert("site".into(), Value::from(row[1].clone()));
            m.insert("id".into(), Value::from(row[2].clone()));
            m.insert("kind".into(), Value::from(row[4].clone()));
            m.insert("added_demand".into(), num_full(Some(p.added)));
            OutFeature {
                geometry: OutGeometry::Point(p.lon, p.lat),
                properties: m,
            }
        })
        .collect();
    write_feature_collection(out, "suggestions.geojson", features)?;

    // A scenario that adds the sites, to run and compare.
    let flags: Vec<&str> = role.flags.iter().map(|f| f.as_str()).collect();
    let mut toml = format!(
        "# Sites suggested by zaitaku suggest for role '{}' of function '{}'.\n# Run `zaitaku compare BASE this.toml --out DIR` to see what they change.\nname = \"suggested-{}-{}\"\n",
        role.id, function.id, function.id, role.id
    );
    // The study's own scenario as the base, when it came from one.
    match study
        .scenario
        .as_ref()
        .and_then(|a| a.scenario.files.last())
        .map(|p| p.canonicalize())
    {
        Some(Ok(base)) => toml.push_str(&format!("base = {}\n", toml_string(&base.display().to_string()))),
        _ => toml.push_str("# base = \"the scenario of the study these were computed on\"\n"),
    }
    let values = flags.iter().map(|f| format!("{f} = 1")).collect::<Vec<_>>().join(", ");
    for p in &s.picks {
        match &p.site {
            Site::Existing(k) => toml.push_str(&format!(
                "\n[[edits]]\naction = \"set\"\nids = [\"{}\"]\nvalues = {{ {values} }}\n",
                study.institutions[*k].id
            )),
            Site::New(_) => {
                let (_, id, _, kind, _) = describe(&p.site);
                let mut fields = vec![
                    format!("id = \"{id}\""),
                    format!("name = \"suggested {}\"", role.id),
                    format!("kind = \"{kind}\""),
                    format!("lat = {}", p.lat),
                    format!("lon = {}", p.lon),
                ];
                if role.min_beds > 0.0 {
                    fields.push(format!("beds = {}", role.min_beds));
                }
                fields.extend(flags.iter().map(|f| format!("{f} = 1")));
                toml.push_str(&format!(
                    "\n[[edits]]\naction = \"add\"\ninstitutions = [{{ {} }}]\n",
                    fields.join(", ")
                ));
            }
        }
    }
    out.write_bytes("suggested_scenario.toml", toml.as_bytes())?;
    let summary = json!({
        "zaitaku_version": env!("CARGO_PKG_VERSION"),
        "command": "suggest",
        "function": function.id,
        "role": role.id,
        "method": "maximal covering location, greedy with lazy evaluation (within 1 - 1/e of the optimum)",
        "demand_uncovered_for_function": round(s.uncovered, 3),
        "demand_only_this_role_leaves_uncovered": round(s.coverable, 3),
        "candidates": s.candidates,
        "sites": s.picks.len(),
        "demand_added": round(s.picks.iter().map(|p| p.added).sum::<f64>(), 3),
    });
    let bytes = serde_json::to_vec_pretty(&summary).map_err(|e| crate::error::Error::Internal(e.to_string()))?;
    out.write_bytes("suggest_summary.json", &bytes)
}

/// A TOML basic string.
fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}
