//! Commands as library functions: read the inputs, compute, write the outputs. The binary
//! only parses arguments and calls these.

use crate::coverage::{self, Coverage};
use crate::error::Result;
use crate::inputs::{self, InputSources, Study};
use crate::outputs::coverage_files::{stats_json, write_coverage};
use crate::outputs::OutDir;
use crate::progress::Progress;
use crate::reach::{straight::straight_line_reach, ReachTable};
use serde_json::{json, Map, Value};
use std::path::Path;
use std::time::Instant;

/// Wall-clock seconds of each stage of a run.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Timings {
    pub read_s: f64,
    pub reach_s: f64,
    pub coverage_s: f64,
    pub write_s: f64,
    pub threads: usize,
}

/// What a coverage run produced.
pub struct CoverageRun {
    pub study: Study,
    pub reach: ReachTable,
    pub coverage: Coverage,
    pub timings: Timings,
    pub written: Vec<std::path::PathBuf>,
}

/// `zaitaku coverage`: per-function coverage with straight-line reach.
pub fn coverage(sources: &InputSources, out_dir: &Path, progress: Progress) -> Result<CoverageRun> {
    let t = Instant::now();
    let spinner = progress.spinner("reading");
    spinner.set_message("municipalities, institutions, population");
    let study = inputs::load(sources, progress);
    spinner.finish_and_clear();
    let study = study?;
    let read_s = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let reach = straight_line_reach(&study.demand.places(), &study.institutions, &study.rules, progress);
    let reach_s = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let cov = coverage::compute(&study.demand, &study.municipalities, &study.rules, &reach);
    let coverage_s = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let mut out = OutDir::create(out_dir)?;
    let summary = summary_json(&study, &reach, &cov);
    let spinner = progress.spinner("writing");
    spinner.set_message(out_dir.display().to_string());
    let written = write_coverage(&mut out, &study, &reach, &cov, &summary);
    spinner.finish_and_clear();
    written?;
    let mut timings = Timings {
        read_s,
        reach_s,
        coverage_s,
        write_s: 0.0,
        threads: rayon::current_num_threads(),
    };
    timings.write_s = t.elapsed().as_secs_f64();
    // Timings vary run to run, so they live apart from the deterministic outputs.
    let timing_bytes = serde_json::to_vec_pretty(&timings).map_err(|e| crate::error::Error::Internal(e.to_string()))?;
    out.write_bytes("timings.json", &timing_bytes)?;
    Ok(CoverageRun {
        study,
        reach,
        coverage: cov,
        timings,
        written: out.written().to_vec(),
    })
}

/// summary.json: inputs read and rejected, parameters, totals per function for the whole
/// input and per prefecture. Deterministic: no times, no thread count.
pub fn summary_json(study: &Study, reach: &ReachTable, cov: &Coverage) -> Value {
    let per_function = |stats: &[coverage::Stats]| -> Value {
        let mut m = Map::new();
        for (f, function) in study.rules.functions.iter().enumerate() {
            m.insert(function.id.clone(), stats_json(&stats[f], reach));
        }
        Value::Object(m)
    };
    let prefectures: Map<String, Value> = cov
        .prefectures
        .iter()
        .map(|(name, stats)| (name.clone(), per_function(stats)))
        .collect();
    let providers: Map<String, Value> = study
        .rules
        .roles
        .iter()
        .zip(&reach.roles)
        .map(|(role, r)| (role.id.clone(), json!(r.providers)))
        .collect();
    json!({
        "zaitaku_version": env!("CARGO_PKG_VERSION"),
        "command": "coverage",
        "inputs": study.files,
        "rejected_total": study.rejects.len(),
        "municipalities": study.municipalities.len(),
        "institutions": study.institutions.len(),
        "demand": {
            "basis": study.demand.basis,
            "description": study.demand.basis.describe(),
            "places": study.demand.cells.len(),
            "placed_by_coastal_rule": study.demand.snapped_to_coast,
            "coastal_rule_m": crate::demand::COAST_SNAP_M,
        },
        "parameters": {
            "reach": "straight_line",
            "distance": "geodesic on WGS84 (Karney), metres; shown in km",
            "rules": study.rules_source,
            "rules_applied": study.rules,
        },
        "providers_per_role": providers,
        "total": per_function(&cov.total),
        "prefectures": prefectures,
    })
}

/// The human summary printed after a coverage run: one line per function.
pub fn coverage_table(run: &CoverageRun) -> String {
    let mut s = String::new();
    let basis = run.study.demand.basis.describe();
    let unit = run.reach.unit;
    s.push_str(&format!(
        "{} municipalities, {} demand places, {} institutions; demand = {basis}\n\n",
        run.study.municipalities.len(),
        run.study.demand.cells.len(),
        run.study.institutions.len()
    ));
    s.push_str(&format!(
        "{:<12} {:<30} {:>8} {:>14} {:>10}\n",
        "function",
        "",
        "covered",
        "uncovered",
        format!("p90 {}", unit.suffix())
    ));
    for (f, function) in run.study.rules.functions.iter().enumerate() {
        let t = &run.coverage.total[f];
        s.push_str(&format!(
            "{:<12} {} {:>7.1}% {:>14.0} {:>10}\n",
            function.id,
            pad_label(&function.label, 30),
            t.share.unwrap_or(0.0) * 100.0,
            t.uncovered(),
            t.p90
                .map(|v| format!("{:.1}", unit.to_output(v)))
                .unwrap_or_else(|| "-".into())
        ));
    }
    let rejected = run.study.rejects.len();
    if rejected > 0 {
        s.push_str(&format!("\n{rejected} rows or features rejected: see rejects.csv\n"));
    }
    s
}

/// Pads a label that may hold wide (CJK) characters to a display width.
fn pad_label(label: &str, width: usize) -> String {
    let mut out = String::new();
    let mut w = 0;
    for ch in label.chars() {
        let cw = if ch.is_ascii() { 1 } else { 2 };
        if w + cw > width {
            break;
        }
        out.push(ch);
        w += cw;
    }
    out.push_str(&" ".repeat(width - w));
    out
}
