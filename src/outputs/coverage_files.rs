//! The files of `zaitaku coverage` (SPEC.md, "Outputs of coverage").

use crate::coverage::{missing_roles, municipality_ranges, Coverage, Stats};
use crate::error::{Error, Result};
use crate::outputs::geojson_out::{
    num, num_full, write_feature_collection, write_municipality_layer, OutFeature, OutGeometry,
};
use crate::outputs::tables::{write_csv, write_parquet, TableColumn};
use crate::outputs::{fmt_full, fmt_num, OutDir};
use crate::reach::ReachTable;
use crate::study::Study;
use geo::orient::{Direction, Orient};
use serde_json::{json, Map, Value};

/// Decimal places of shares and distances in text outputs (other numbers: full precision).
const SHARE_DP: i32 = 6;
const DIST_DP: i32 = 3;

/// Writes every coverage output into `out`. `summary` is the run's summary.json content.
pub fn write_coverage(
    out: &mut OutDir,
    study: &Study,
    reach: &ReachTable,
    cov: &Coverage,
    summary: &Value,
) -> Result<()> {
    write_coverage_with(out, study, reach, cov, summary, &|_, _| {})
}

/// [`write_coverage`] with more properties for municipality `m` in coverage.geojson.
pub fn write_coverage_with(
    out: &mut OutDir,
    study: &Study,
    reach: &ReachTable,
    cov: &Coverage,
    summary: &Value,
    extra: &(dyn Fn(usize, &mut serde_json::Map<String, Value>) + Sync),
) -> Result<()> {
    let unit = reach.unit;
    let suffix = unit.suffix();
    let d = |x: Option<f64>| x.map(|v| unit.to_output(v));
    let rules = &study.rules;
    let munis = &study.municipalities;
    let ranges = municipality_ranges(&study.demand, munis.len());
    let basis = study.demand.basis.describe();

    // coverage.geojson
    let municipality_layer = |out: &mut OutDir| {
        write_municipality_layer(out, "coverage.geojson", study, |m, p| {
            let cells = &study.demand.cells[ranges[m].clone()];
            p.insert(
                "population".into(),
                num_full(Some(cells.iter().map(|c| c.population).sum())),
            );
            p.insert("demand".into(), num_full(Some(cells.iter().map(|c| c.demand).sum())));
            p.insert("demand_basis".into(), json!(basis));
            for (f, function) in rules.functions.iter().enumerate() {
                let s = &cov.municipalities[m][f];
                p.insert(format!("{}_share", function.id), num(s.share, SHARE_DP));
                p.insert(format!("{}_uncovered", function.id), num_full(Some(s.uncovered())));
                p.insert(format!("{}_p90_{suffix}", function.id), num(d(s.p90), DIST_DP));
            }
            extra(m, p);
        })
    };

    // coverage.csv and coverage.parquet: the long table; roles.csv.
    let tables = |out: &mut OutDir| {
        let mean_col = format!("mean_{suffix}");
        let p90_col = format!("p90_{suffix}");
        let max_col = format!("max_{suffix}");
        let long: Vec<(usize, usize, &Stats)> = (0..munis.len())
            .flat_map(|m| (0..rules.functions.len()).map(move |f| (m, f)))
            .map(|(m, f)| (m, f, &cov.municipalities[m][f]))
            .collect();
        write_csv(
            out,
            "coverage.csv",
            &[
                "municipality_code",
                "municipality",
                "prefecture",
                "function",
                "demand",
                "covered",
                "share",
                &mean_col,
                &p90_col,
                &max_col,
            ],
            long.iter().map(|&(m, f, s)| {
                vec![
                    munis[m].code.clone(),
                    munis[m].name.clone(),
                    munis[m].prefecture.clone(),
                    rules.functions[f].id.clone(),
                    fmt_full(Some(s.demand)),
                    fmt_full(Some(s.covered)),
                    fmt_num(s.share, SHARE_DP),
                    fmt_num(d(s.mean), DIST_DP),
                    fmt_num(d(s.p90), DIST_DP),
                    fmt_num(d(s.max), DIST_DP),
                ]
            }),
        )?;
        let text = |get: &dyn Fn(usize, usize) -> String| long.iter().map(|&(m, f, _)| get(m, f)).collect::<Vec<_>>();
        let float = |get: &dyn Fn(&Stats) -> Option<f64>| long.iter().map(|&(_, _, s)| get(s)).collect::<Vec<_>>();
        write_parquet(
            out,
            "coverage.parquet",
            long.len(),
            vec![
                TableColumn::Text("municipality_code", text(&|m, _| munis[m].code.clone())),
                TableColumn::Text("municipality", text(&|m, _| munis[m].name.clone())),
                TableColumn::Text("prefecture", text(&|m, _| munis[m].prefecture.clone())),
                TableColumn::Text("function", text(&|_, f| rules.functions[f].id.clone())),
                TableColumn::Float("demand".into(), float(&|s| Some(s.demand))),
                TableColumn::Float("covered".into(), float(&|s| Some(s.covered))),
                TableColumn::Float("share".into(), float(&|s| s.share)),
                TableColumn::Float(mean_col.clone(), float(&|s| d(s.mean))),
                TableColumn::Float(p90_col.clone(), float(&|s| d(s.p90))),
                TableColumn::Float(max_col.clone(), float(&|s| d(s.max))),
            ],
        )?;
        let role_rows = munis.iter().enumerate().flat_map(|(m, muni)| {
            rules.functions.iter().enumerate().flat_map(move |(f, function)| {
                function.roles.iter().enumerate().map(move |(k, u)| {
                    let s = &cov.roles[m][f][k];
                    vec![
                        muni.code.clone(),
                        function.id.clone(),
                        rules.roles[u.role].id.clone(),
                        fmt_full(Some(s.demand)),
                        fmt_full(Some(s.covered)),
                        fmt_num(s.share, SHARE_DP),
                        fmt_num(d(s.mean), DIST_DP),
                        fmt_num(d(s.p90), DIST_DP),
                        fmt_num(d(s.max), DIST_DP),
                        fmt_num(s.providers_mean, DIST_DP),
                        u.required.to_string(),
                    ]
                })
            })
        });
        write_csv(
            out,
            "roles.csv",
            &[
                "municipality_code",
                "function",
                "role",
                "demand",
                "covered",
                "share",
                &mean_col,
                &p90_col,
                &max_col,
                "providers_mean",
                "required",
            ],
            role_rows,
        )
    };

    // cells.parquet
    let cells = &study.demand.cells;
    let cell_table = |out: &mut OutDir| {
        // The mesh codes written into one text and borrowed from it, the municipalities' codes
        // borrowed: no string per cell.
        let mut codes = String::with_capacity(cells.len() * 10);
        let mut ends = Vec::with_capacity(cells.len());
        for c in cells {
            use std::fmt::Write as _;
            write!(codes, "{}", c.mesh).map_err(|e| Error::Internal(format!("writing cells.parquet: {e}")))?;
            ends.push(codes.len());
        }
        let mesh_codes: Vec<&str> = std::iter::once(0)
            .chain(ends.iter().copied())
            .zip(&ends)
            .map(|(start, &end)| &codes[start..end])
            .collect();
        let mut columns = vec![
            TableColumn::Str("mesh_code", mesh_codes),
            TableColumn::Str(
                "municipality_code",
                cells.iter().map(|c| munis[c.municipality].code.as_str()).collect(),
            ),
            TableColumn::Float("lon".into(), cells.iter().map(|c| Some(c.lon)).collect()),
            TableColumn::Float("lat".into(), cells.iter().map(|c| Some(c.lat)).collect()),
            TableColumn::Float("demand".into(), cells.iter().map(|c| Some(c.demand)).collect()),
            TableColumn::Float("population".into(), cells.iter().map(|c| Some(c.population)).collect()),
            TableColumn::Float(
                "population_65plus".into(),
                cells.iter().map(|c| Some(c.population_65plus)).collect(),
            ),
        ];
        for (f, function) in rules.functions.iter().enumerate() {
            columns.push(TableColumn::Bool(
                format!("{}_covered", function.id),
                cov.functions[f].covered.clone(),
            ));
        }
        for (r, role) in rules.roles.iter().enumerate() {
            let values = reach.roles[r]
                .nearest
                .iter()
                .map(|&v| v.is_finite().then(|| unit.to_output(v)))
                .collect();
            columns.push(TableColumn::Float(format!("{}_{suffix}", role.id), values));
        }
        write_parquet(out, "cells.parquet", cells.len(), columns)
    };

    // gaps.geojson: uncovered demand, one mesh square per function and cell; then
    // rejects.csv and summary.json.
    let gaps_and_summary = |out: &mut OutDir| {
        let gaps = rules.functions.iter().enumerate().flat_map(|(f, function)| {
            cells
                .iter()
                .enumerate()
                .filter(move |&(i, c)| !cov.functions[f].covered[i] && c.demand > 0.0)
                .map(move |(i, c)| {
                    let mut p = Map::new();
                    p.insert("mesh_code".into(), json!(c.mesh.code()));
                    p.insert("municipality_code".into(), json!(munis[c.municipality].code));
                    p.insert("function".into(), json!(function.id));
                    p.insert("demand".into(), num_full(Some(c.demand)));
                    p.insert(
                        "missing_roles".into(),
                        json!(missing_roles(rules, reach, f, i).join(",")),
                    );
                    OutFeature {
                        geometry: OutGeometry::Polygon(c.mesh.square().to_polygon().orient(Direction::Default)),
                        properties: p,
                    }
                })
        });
        write_feature_collection(out, "gaps.geojson", gaps.collect())?;
        write_rejects(out, study)?;
        let json = serde_json::to_vec_pretty(summary).map_err(|e| Error::Internal(format!("summary.json: {e}")))?;
        out.write_bytes("summary.json", &json)
    };

    // Side by side, each thread taking the next; listed as written in this order.
    out.side_by_side(vec![
        Box::new(municipality_layer),
        Box::new(tables),
        Box::new(cell_table),
        Box::new(gaps_and_summary),
    ])
}

/// rejects.csv: every skipped row or feature, sorted.
pub fn write_rejects(out: &mut OutDir, study: &Study) -> Result<()> {
    let mut rejects = study.rejects.clone();
    rejects.sort();
    write_csv(
        out,
        "rejects.csv",
        &["file", "location", "reason"],
        rejects
            .iter()
            .map(|r| vec![r.file.clone(), r.location.to_string(), r.reason.clone()]),
    )
}

/// Figures of one function for summary.json.
pub fn stats_json(s: &Stats, reach: &ReachTable) -> Value {
    let unit = reach.unit;
    let suffix = unit.suffix();
    let mut m = Map::new();
    m.insert("demand".into(), num_full(Some(s.demand)));
    m.insert("covered".into(), num_full(Some(s.covered)));
    m.insert("uncovered".into(), num_full(Some(s.uncovered())));
    m.insert("share".into(), num(s.share, SHARE_DP));
    m.insert(
        format!("mean_{suffix}"),
        num(s.mean.map(|v| unit.to_output(v)), DIST_DP),
    );
    m.insert(format!("p90_{suffix}"), num(s.p90.map(|v| unit.to_output(v)), DIST_DP));
    m.insert(format!("max_{suffix}"), num(s.max.map(|v| unit.to_output(v)), DIST_DP));
    Value::Object(m)
}
