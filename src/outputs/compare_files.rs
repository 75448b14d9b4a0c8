//! The files of `zaitaku compare`: diff.csv, diff.geojson, compare_summary.json.

use crate::compare::{Diff, Side};
use crate::error::Result;
use crate::outputs::geojson_out::{num, num_full, write_area_layer};
use crate::outputs::tables::write_csv;
use crate::outputs::{fmt_full, fmt_num, round, OutDir};
use serde_json::{json, Map, Value};

/// Writes every file of a comparison.
pub fn write_compare(out: &mut OutDir, base: &Side, alt: &Side, diff: &Diff, min_share: f64) -> Result<()> {
    let header = [
        "municipality_code",
        "municipality",
        "prefecture",
        "function",
        "base_demand",
        "alt_demand",
        "base_share",
        "alt_share",
        "delta",
        "base_uncovered",
        "alt_uncovered",
    ];
    write_csv(
        out,
        "diff.csv",
        &header,
        diff.rows.iter().map(|r| {
            let m = &base.municipalities[r.municipality];
            vec![
                m.code.clone(),
                m.name.clone(),
                m.prefecture.clone(),
                diff.functions[r.function].clone(),
                fmt_full(Some(r.base.0)),
                fmt_full(Some(r.alt.0)),
                fmt_num(r.base_share(), 6),
                fmt_num(r.alt_share(), 6),
                fmt_num(r.delta(), 6),
                fmt_full(Some(r.base.0 - r.base.1)),
                fmt_full(Some(r.alt.0 - r.alt.1)),
            ]
        }),
    )?;
    let nf = diff.functions.len();
    let areas = base
        .municipalities
        .iter()
        .map(|m| (m.code.as_str(), m.name.as_str(), m.prefecture.as_str(), &m.geometry));
    write_area_layer(out, "diff.geojson", areas, |m, p| {
        for (f, id) in diff.functions.iter().enumerate() {
            let r = &diff.rows[m * nf + f];
            p.insert(format!("{id}_base_share"), num(r.base_share(), 6));
            p.insert(format!("{id}_alt_share"), num(r.alt_share(), 6));
            p.insert(format!("{id}_delta"), num(r.delta(), 6));
            p.insert(
                format!("{id}_uncovered_change"),
                num_full(Some((r.alt.0 - r.alt.1) - (r.base.0 - r.base.1))),
            );
        }
    })?;
    let bytes = serde_json::to_vec_pretty(&summary_json(base, alt, diff, min_share))
        .map_err(|e| crate::error::Error::Internal(e.to_string()))?;
    out.write_bytes("compare_summary.json", &bytes)
}

/// The comparison in numbers.
pub fn summary_json(base: &Side, alt: &Side, diff: &Diff, min_share: f64) -> Value {
    let codes = |v: &[usize]| {
        v.iter()
            .map(|&m| base.municipalities[m].code.clone())
            .collect::<Vec<_>>()
    };
    let functions: Map<String, Value> = diff
        .functions
        .iter()
        .zip(&diff.changes)
        .map(|(f, c)| {
            let share = |cov: f64, d: f64| (d > 0.0).then(|| round(cov / d, 6));
            (
                f.clone(),
                json!({
                    "base_share": share(c.base_covered, c.base_demand),
                    "alt_share": share(c.alt_covered, c.alt_demand),
                    "gained": round(c.gained, 3),
                    "lost": round(c.lost, 3),
                    "net": round(c.alt_covered - c.base_covered, 3),
                    "fell_below_min_share": codes(&c.fell_below),
                    "rose_to_min_share": codes(&c.rose_above),
                }),
            )
        })
        .collect();
    json!({
        "zaitaku_version": env!("CARGO_PKG_VERSION"),
        "command": "compare",
        "base": base.label,
        "alt": alt.label,
        "min_share": min_share,
        "municipalities": base.municipalities.len(),
        "functions": functions,
        "functions_not_compared": diff.unmatched_functions,
        "catchments": diff.layouts.as_ref().map(|(ari, moved)| json!({
            "adjusted_rand_index": round(*ari, 6),
            "moved_municipalities": codes(moved),
        })),
    })
}
