//! The files of `zaitaku indicators`.

use crate::error::Result;
use crate::indicators::{Area, IndicatorRow};
use crate::outputs::geojson_out::{num, num_full, write_municipality_layer};
use crate::outputs::tables::{write_csv, write_parquet, TableColumn};
use crate::outputs::{fmt_full, fmt_num, OutDir};
use crate::study::Study;

const HEADER: [&str; 16] = [
    "level",
    "area_code",
    "area_name",
    "indicator",
    "label_ja",
    "function",
    "category",
    "status",
    "count",
    "per_100k",
    "per_100k_65plus",
    "share",
    "target",
    "target_measure",
    "gap",
    "met",
];

/// indicators.csv, indicators.parquet and indicators.geojson (one column per indicator,
/// joined to the municipal polygons).
pub fn write_indicators(out: &mut OutDir, study: &Study, areas: &[Area], rows: &[IndicatorRow]) -> Result<()> {
    let status = |r: &IndicatorRow| {
        if r.count.is_none() && r.share.is_none() {
            "not_available"
        } else {
            "ok"
        }
    };
    write_csv(
        out,
        "indicators.csv",
        &HEADER,
        rows.iter().map(|r| {
            let a = &areas[r.area];
            vec![
                a.level.to_string(),
                a.code.clone(),
                a.name.clone(),
                r.indicator.clone(),
                r.label_ja.clone(),
                r.function.clone(),
                r.category.clone(),
                status(r).to_string(),
                fmt_full(r.count),
                fmt_full(r.per_100k),
                fmt_full(r.per_100k_65plus),
                fmt_num(r.share, 6),
                fmt_full(r.target.as_ref().map(|t| t.target)),
                r.target.as_ref().map(|t| t.measure.clone()).unwrap_or_default(),
                fmt_full(r.target.as_ref().and_then(|t| t.gap)),
                r.target
                    .as_ref()
                    .and_then(|t| t.met)
                    .map(|m| m.to_string())
                    .unwrap_or_default(),
            ]
        }),
    )?;
    let text = |get: &dyn Fn(&IndicatorRow) -> String| rows.iter().map(get).collect::<Vec<_>>();
    let float = |get: &dyn Fn(&IndicatorRow) -> Option<f64>| rows.iter().map(get).collect::<Vec<_>>();
    write_parquet(
        out,
        "indicators.parquet",
        rows.len(),
        vec![
            TableColumn::Text("level", text(&|r| areas[r.area].level.to_string())),
            TableColumn::Text("area_code", text(&|r| areas[r.area].code.clone())),
            TableColumn::Text("area_name", text(&|r| areas[r.area].name.clone())),
            TableColumn::Text("indicator", text(&|r| r.indicator.clone())),
            TableColumn::Text("label_ja", text(&|r| r.label_ja.clone())),
            TableColumn::Text("function", text(&|r| r.function.clone())),
            TableColumn::Text("category", text(&|r| r.category.clone())),
            TableColumn::Text("status", text(&|r| status(r).to_string())),
            TableColumn::Float("count".into(), float(&|r| r.count)),
            TableColumn::Float("per_100k".into(), float(&|r| r.per_100k)),
            TableColumn::Float("per_100k_65plus".into(), float(&|r| r.per_100k_65plus)),
            TableColumn::Float("share".into(), float(&|r| r.share)),
            TableColumn::Float("target".into(), float(&|r| r.target.as_ref().map(|t| t.target))),
            TableColumn::Text(
                "target_measure",
                text(&|r| r.target.as_ref().map(|t| t.measure.clone()).unwrap_or_default()),
            ),
            TableColumn::Float("gap".into(), float(&|r| r.target.as_ref().and_then(|t| t.gap))),
            TableColumn::Text(
                "met",
                text(&|r| {
                    r.target
                        .as_ref()
                        .and_then(|t| t.met)
                        .map(|m| m.to_string())
                        .unwrap_or_default()
                }),
            ),
        ],
    )?;
    write_municipality_layer(out, "indicators.geojson", study, |m, p| {
        for r in rows.iter().filter(|r| r.area == m) {
            match r.share {
                Some(share) => {
                    p.insert(r.indicator.clone(), num(Some(share), 6));
                }
                None => {
                    p.insert(r.indicator.clone(), num_full(r.count));
                    p.insert(format!("{}_per_100k_65plus", r.indicator), num_full(r.per_100k_65plus));
                }
            }
        }
    })
}
