//! The files of `zaitaku access` (SPEC.md, "Outputs of the other commands").

use crate::access::RoleAccess;
use crate::coverage::municipality_ranges;
use crate::error::Result;
use crate::inputs::Study;
use crate::outputs::geojson_out::{num, write_feature_collection, OutFeature};
use crate::outputs::tables::{write_csv, write_parquet, TableColumn};
use crate::outputs::{fmt_num, OutDir};
use crate::reach::ReachTable;
use serde_json::{json, Map};

const ACCESS_DP: i32 = 9;

/// Figures of one area (a municipality) and role.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct AreaAccess {
    pub demand: f64,
    pub providers_in_reach: Option<f64>,
    pub a_2sfca: Option<f64>,
    pub a_e2sfca: Option<f64>,
    pub zero_access_share: Option<f64>,
    pub gini: Option<f64>,
}

/// Demand-weighted means, the share of demand with no access, and the Gini coefficient of
/// 2SFCA access over the places `range`.
pub fn area_access(
    study: &Study,
    reach: &ReachTable,
    access: &RoleAccess,
    role: usize,
    range: std::ops::Range<usize>,
) -> AreaAccess {
    let cells = &study.demand.cells[range.clone()];
    let demand: f64 = cells.iter().map(|c| c.demand).sum();
    if demand <= 0.0 {
        return AreaAccess::default();
    }
    let mean = |v: &dyn Fn(usize) -> f64| {
        Some(range.clone().map(|i| study.demand.cells[i].demand * v(i)).sum::<f64>() / demand)
    };
    let zero: f64 = range
        .clone()
        .filter(|&i| access.a_2sfca[i] <= 0.0)
        .map(|i| study.demand.cells[i].demand)
        .sum();
    let values: Vec<(f64, f64)> = range
        .clone()
        .map(|i| (access.a_2sfca[i], study.demand.cells[i].demand))
        .collect();
    AreaAccess {
        demand,
        providers_in_reach: mean(&|i| f64::from(reach.roles[role].in_reach[i])),
        a_2sfca: mean(&|i| access.a_2sfca[i]),
        a_e2sfca: mean(&|i| access.a_e2sfca[i]),
        zero_access_share: Some(zero / demand),
        gini: crate::access::gini(&values),
    }
}

/// Writes access.csv, access.parquet and access.geojson. `access` is per role (rules order).
pub fn write_access(out: &mut OutDir, study: &Study, reach: &ReachTable, access: &[RoleAccess]) -> Result<()> {
    let rules = &study.rules;
    let munis = &study.municipalities;
    let ranges = municipality_ranges(&study.demand, munis.len());
    // Per municipality and role.
    let areas: Vec<Vec<AreaAccess>> = ranges
        .iter()
        .map(|r| {
            (0..rules.roles.len())
                .map(|k| area_access(study, reach, &access[k], k, r.clone()))
                .collect()
        })
        .collect();

    // Rows: municipalities, then cells; each for every (function, role).
    struct Row {
        level: &'static str,
        area: String,
        function: usize,
        role: usize,
        a: AreaAccess,
    }
    let mut rows: Vec<Row> = Vec::new();
    for (m, muni) in munis.iter().enumerate() {
        for (f, function) in rules.functions.iter().enumerate() {
            for u in &function.roles {
                rows.push(Row {
                    level: "municipality",
                    area: muni.code.clone(),
                    function: f,
                    role: u.role,
                    a: areas[m][u.role],
                });
            }
        }
    }
    for (i, cell) in study.demand.cells.iter().enumerate() {
        for (f, function) in rules.functions.iter().enumerate() {
            for u in &function.roles {
                let ra = &access[u.role];
                rows.push(Row {
                    level: "cell",
                    area: cell.mesh.code(),
                    function: f,
                    role: u.role,
                    a: AreaAccess {
                        demand: cell.demand,
                        providers_in_reach: Some(f64::from(reach.roles[u.role].in_reach[i])),
                        a_2sfca: Some(ra.a_2sfca[i]),
                        a_e2sfca: Some(ra.a_e2sfca[i]),
                        zero_access_share: None,
                        gini: None,
                    },
                });
            }
        }
    }
    let header = [
        "level",
        "area_code",
        "function",
        "role",
        "demand",
        "providers_in_reach",
        "a_2sfca",
        "a_e2sfca",
        "a_2sfca_per_1000",
        "zero_access_share",
        "gini",
    ];
    write_csv(
        out,
        "access.csv",
        &header,
        rows.iter().map(|r| {
            vec![
                r.level.to_string(),
                r.area.clone(),
                rules.functions[r.function].id.clone(),
                rules.roles[r.role].id.clone(),
                fmt_num(Some(r.a.demand), 4),
                fmt_num(r.a.providers_in_reach, 4),
                fmt_num(r.a.a_2sfca, ACCESS_DP),
                fmt_num(r.a.a_e2sfca, ACCESS_DP),
                fmt_num(r.a.a_2sfca.map(|v| v * 1000.0), 6),
                fmt_num(r.a.zero_access_share, 6),
                fmt_num(r.a.gini, 6),
            ]
        }),
    )?;
    let text = |get: &dyn Fn(&Row) -> String| rows.iter().map(get).collect::<Vec<_>>();
    let float = |get: &dyn Fn(&Row) -> Option<f64>| rows.iter().map(get).collect::<Vec<_>>();
    write_parquet(
        out,
        "access.parquet",
        rows.len(),
        vec![
            TableColumn::Text("level", text(&|r| r.level.to_string())),
            TableColumn::Text("area_code", text(&|r| r.area.clone())),
            TableColumn::Text("function", text(&|r| rules.functions[r.function].id.clone())),
            TableColumn::Text("role", text(&|r| rules.roles[r.role].id.clone())),
            TableColumn::Float("demand".into(), float(&|r| Some(r.a.demand))),
            TableColumn::Float("providers_in_reach".into(), float(&|r| r.a.providers_in_reach)),
            TableColumn::Float("a_2sfca".into(), float(&|r| r.a.a_2sfca)),
            TableColumn::Float("a_e2sfca".into(), float(&|r| r.a.a_e2sfca)),
            TableColumn::Float("a_2sfca_per_1000".into(), float(&|r| r.a.a_2sfca.map(|v| v * 1000.0))),
            TableColumn::Float("zero_access_share".into(), float(&|r| r.a.zero_access_share)),
            TableColumn::Float("gini".into(), float(&|r| r.a.gini)),
        ],
    )?;

    // access.geojson: per municipality, per role.
    let features = munis
        .iter()
        .enumerate()
        .map(|(m, muni)| {
            let mut p = Map::new();
            p.insert("code".into(), json!(muni.code));
            p.insert("name".into(), json!(muni.name));
            p.insert("prefecture".into(), json!(muni.prefecture));
            p.insert(
                "demand".into(),
                num(Some(areas[m].first().map_or(0.0, |a| a.demand)), 4),
            );
            for (k, role) in rules.roles.iter().enumerate() {
                let a = &areas[m][k];
                p.insert(
                    format!("{}_a2sfca_per_1000", role.id),
                    num(a.a_2sfca.map(|v| v * 1000.0), 6),
                );
                p.insert(
                    format!("{}_ae2sfca_per_1000", role.id),
                    num(a.a_e2sfca.map(|v| v * 1000.0), 6),
                );
                p.insert(format!("{}_zero_share", role.id), num(a.zero_access_share, 6));
                p.insert(format!("{}_gini", role.id), num(a.gini, 6));
            }
            OutFeature {
                geometry: geo::Geometry::MultiPolygon(muni.geometry.clone()),
                properties: p,
            }
        })
        .collect();
    write_feature_collection(out, "access.geojson", features)
}
