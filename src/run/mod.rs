//! Commands as library functions: read the inputs, compute, write the outputs. The binary
//! only parses arguments and calls these.

mod criticality;

pub use criticality::{criticality, criticality_on, criticality_table};

use crate::access::Decay;
use crate::coverage::{self, Coverage};
use crate::error::Result;
use crate::inputs::{self, Source};
use crate::outputs::coverage_files::{stats_json, write_coverage};
use crate::outputs::OutDir;
use crate::progress::Progress;
use crate::reach::{straight::straight_line_reach, ReachTable};
use crate::study::{self, InputSources, Study};
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

/// Writes `scenario.lock.json` when the study came from a scenario.
pub fn write_lock(out: &mut OutDir, study: &Study) -> Result<()> {
    let Some(applied) = &study.scenario else {
        return Ok(());
    };
    let bytes = serde_json::to_vec_pretty(&applied.lock_json(&study.rules))
        .map_err(|e| crate::error::Error::Internal(e.to_string()))?;
    out.write_bytes("scenario.lock.json", &bytes)
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
    coverage_keeping(sources, out_dir, progress, false, &|_| Ok(())).map(|(run, _)| run)
}

/// [`coverage`], returning the output folder too. With `keep`, the folder keeps every layer
/// written for a GeoPackage (see [`report_into`]) and is returned uncommitted: the caller
/// writes the rest of its run into it and commits once, so the whole run replaces the
/// folder's previous content in one step. `check` runs on the study once read, before
/// anything is computed or written.
pub fn coverage_keeping(
    sources: &InputSources,
    out_dir: &Path,
    progress: Progress,
    keep: bool,
    check: &dyn Fn(&Study) -> Result<()>,
) -> Result<(CoverageRun, OutDir)> {
    let t = Instant::now();
    let spinner = progress.spinner("reading");
    spinner.set_message("municipalities, institutions, population");
    let study = study::load(sources, progress);
    spinner.finish_and_clear();
    let study = study?;
    check(&study)?;
    let read_s = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let (reach, road) = measure_reach(&study, progress)?;
    let reach_s = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let cov = coverage::compute(&study.demand, &study.municipalities, &study.rules, &reach);
    let coverage_s = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let mut out = OutDir::create(out_dir)?;
    if keep {
        out.keep_layers();
    }
    let mut summary = summary_json(&study, &reach, &cov);
    add_network_summary(&mut summary, &study, road.as_ref());
    let spinner = progress.spinner("writing");
    spinner.set_message(out_dir.display().to_string());
    let written = write_coverage(&mut out, &study, &reach, &cov, &summary)
        .and_then(|_| write_unsnapped(&mut out, &study, road.as_ref()))
        .and_then(|_| write_lock(&mut out, &study));
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
    if !keep {
        out.commit()?;
    }
    let written = out.written().to_vec();
    Ok((
        CoverageRun {
            study,
            reach,
            coverage: cov,
            timings,
            written,
        },
        out,
    ))
}

/// Reach of a study: travel time on its road graph when it has one (`--network`), else
/// straight-line distance. With a graph, also what could not be placed on it; a graph that
/// misses most of the study's demand is an error naming the places.
pub fn measure_reach(
    study: &Study,
    progress: Progress,
) -> Result<(ReachTable, Option<crate::reach::network::Snapping>)> {
    let places = study.demand.places();
    if let Some((_, od)) = &study.od {
        return Ok((
            crate::reach::od::od_reach(&places, &study.institutions, &study.rules, od)?,
            None,
        ));
    }
    let Some((name, graph)) = &study.network else {
        return Ok((
            straight_line_reach(&places, &study.institutions, &study.rules, progress),
            None,
        ));
    };
    let (table, road) =
        crate::reach::network::network_reach(&places, &study.institutions, &study.rules, graph, progress)?;
    let total: f64 = study.demand.cells.iter().map(|c| c.demand).sum();
    let off: f64 = road
        .unsnapped_places
        .iter()
        .map(|&(i, _)| study.demand.cells[i].demand)
        .sum();
    if !road.unsnapped_places.is_empty() && (total <= 0.0 || off > 0.5 * total) {
        let examples: Vec<String> = road
            .unsnapped_places
            .iter()
            .take(3)
            .map(|&(i, m)| {
                let c = &study.demand.cells[i];
                format!(
                    "mesh {} ({:.5}, {:.5}) {:.1} km from the nearest road node",
                    c.mesh,
                    c.lat,
                    c.lon,
                    m / 1000.0
                )
            })
            .collect();
        return Err(crate::error::Error::input(
            name,
            crate::error::Location::File,
            format!(
                "the road network does not cover the study area: {} of {} demand places ({:.0} % of demand) are farther \
                 than snap_limit_m {} m from every road node, e.g. {}",
                road.unsnapped_places.len(),
                places.len(),
                100.0 * off / total.max(f64::MIN_POSITIVE),
                study.rules.network.snap_limit_m,
                examples.join("; ")
            ),
        ));
    }
    Ok((table, Some(road)))
}

/// summary.json's `network`: the graph, the snapping rules and what did not snap.
fn add_network_summary(summary: &mut Value, study: &Study, road: Option<&crate::reach::network::Snapping>) {
    let (Some((name, graph)), Some(road), Value::Object(o)) = (&study.network, road, summary) else {
        return;
    };
    let net = &study.rules.network;
    o.insert(
        "network".into(),
        json!({
            "file": name,
            "built_from": graph.info.source,
            "built_from_sha256": graph.info.source_sha256,
            "nodes": graph.nodes(),
            "edges": graph.edges(),
            "offroad_kmh": net.offroad_kmh,
            "snap_limit_m": net.snap_limit_m,
            "places_not_on_network": road.unsnapped_places.len(),
            "institutions_not_on_network": road.unsnapped_institutions.len(),
            "mean_snap_m": crate::outputs::round(road.place_snap_m.0, 1),
            "max_snap_m": crate::outputs::round(road.place_snap_m.1, 1),
            "reach": "a provider counts when it is within reach_min by road and within reach_km in a straight line",
        }),
    );
}

/// unsnapped.csv (travel-time mode): demand places and institutions farther than the snap
/// limit from every road node: not reached by road, and listed rather than dropped.
fn write_unsnapped(out: &mut OutDir, study: &Study, road: Option<&crate::reach::network::Snapping>) -> Result<()> {
    let Some(road) = road else { return Ok(()) };
    let places = road.unsnapped_places.iter().map(|&(i, m)| {
        let c = &study.demand.cells[i];
        vec![
            "place".to_string(),
            c.mesh.to_string(),
            study.municipalities[c.municipality].code.clone(),
            format!("{:.6}", c.lat),
            format!("{:.6}", c.lon),
            crate::outputs::fmt_num(Some(m), 1),
            crate::outputs::fmt_full(Some(c.demand)),
        ]
    });
    let institutions = road.unsnapped_institutions.iter().map(|&(k, m)| {
        let inst = &study.institutions[k];
        vec![
            "institution".to_string(),
            inst.id.clone(),
            String::new(),
            format!("{:.6}", inst.lat),
            format!("{:.6}", inst.lon),
            crate::outputs::fmt_num(Some(m), 1),
            String::new(),
        ]
    });
    crate::outputs::tables::write_csv(
        out,
        "unsnapped.csv",
        &["kind", "id", "municipality_code", "lat", "lon", "snap_m", "demand"],
        places.chain(institutions),
    )
}

/// What an access run produced.
pub struct AccessRun {
    /// Per role, in rules order.
    pub roles: Vec<crate::access::RoleAccess>,
    pub seconds: f64,
    pub written: Vec<std::path::PathBuf>,
}

/// `zaitaku access`: reads the study, measures reach, then [`access_on`].
/// `decay`: from the command line; `None` takes the rules' `[access]`, else the default.
pub fn access(
    sources: &InputSources,
    out_dir: &Path,
    progress: Progress,
    decay: Option<&Decay>,
) -> Result<(Study, AccessRun)> {
    let spinner = progress.spinner("reading");
    let study = study::load(sources, progress);
    spinner.finish_and_clear();
    let study = study?;
    let (reach, road) = measure_reach(&study, progress)?;
    let run = access_on(&study, &reach, road.as_ref(), out_dir, progress, decay)?;
    Ok((study, run))
}

/// 2SFCA and E2SFCA for every role of a study whose reach is known; writes access.csv,
/// access.parquet, access.geojson and access_summary.json.
pub fn access_on(
    study: &Study,
    reach: &ReachTable,
    road: Option<&crate::reach::network::Snapping>,
    out_dir: &Path,
    progress: Progress,
    decay: Option<&Decay>,
) -> Result<AccessRun> {
    let default = Decay::default();
    let decay = decay.or(study.rules.access.as_ref()).unwrap_or(&default);
    // Travel-time mode: the same numbers are minutes (the decay is held in metres).
    let travel = crate::reach::pairs::Travel::of(study);
    let decay = match travel {
        Some(_) => decay.scaled(1e-3),
        None => decay.clone(),
    };
    let t = Instant::now();
    let places = study.demand.places();
    let demand: Vec<f64> = study.demand.cells.iter().map(|c| c.demand).collect();
    let roles: Vec<crate::access::RoleAccess> = match &travel {
        Some(travel) => {
            let spinner = progress.spinner("access by travel time");
            let roles = crate::access::access_by_travel(study, travel, &decay);
            spinner.finish_and_clear();
            roles
        }
        None => {
            let bar = progress.bar(study.rules.roles.len() as u64, "access");
            let roles = study
                .rules
                .roles
                .iter()
                .map(|role| {
                    bar.set_message(role.id.clone());
                    let providers: Vec<&crate::inputs::institutions::Institution> =
                        study.institutions.iter().filter(|i| role.matches(i)).collect();
                    let points: Vec<(f64, f64)> = providers.iter().map(|i| (i.lon, i.lat)).collect();
                    let supply: Vec<f64> = providers.iter().map(|i| i.capacity.unwrap_or(1.0)).collect();
                    let r =
                        crate::access::role_access(&places, &demand, &points, &supply, role.reach_km * 1000.0, &decay);
                    bar.inc(1);
                    r
                })
                .collect();
            bar.finish_and_clear();
            roles
        }
    };
    let seconds = t.elapsed().as_secs_f64();
    let mut out = OutDir::create(out_dir)?;
    let spinner = progress.spinner("writing");
    let written = crate::outputs::access_files::write_access(&mut out, study, reach, &roles)
        .and_then(|()| crate::outputs::coverage_files::write_rejects(&mut out, study))
        .and_then(|()| write_unsnapped(&mut out, study, road))
        .and_then(|()| write_lock(&mut out, study));
    spinner.finish_and_clear();
    written?;
    let per_role: Map<String, Value> = study
        .rules
        .roles
        .iter()
        .zip(&roles)
        .map(|(role, r)| {
            let supply: f64 = study
                .institutions
                .iter()
                .filter(|i| role.matches(i))
                .map(|i| i.capacity.unwrap_or(1.0))
                .sum();
            (
                role.id.clone(),
                json!({
                    "providers": r.providers,
                    "supply": supply,
                    "supply_allocated_2sfca": r.supply_allocated.0,
                    "supply_allocated_e2sfca": r.supply_allocated.1,
                    "note": if r.providers == 0 { "no provider in the input: access is 0 everywhere" } else { "" },
                }),
            )
        })
        .collect();
    let summary = json!({
        "zaitaku_version": env!("CARGO_PKG_VERSION"),
        "command": "access",
        "inputs": study.files,
        "rejected_total": study.rejects.len(),
        "regions": study.regions.len(),
        "demand": study.demand.basis.describe(),
        "supply": "capacity column, 1 per provider where absent",
        "method": {
            "a_2sfca": "two-step floating catchment area, binary weights within the role's reach (Luo and Wang 2003)",
            "a_e2sfca": "enhanced 2SFCA, decay in both steps, cut at the role's reach (Luo and Qi 2009)",
            "decay": decay,
            "distance_unit": if reach.unit == crate::reach::ReachUnit::Minutes {
                "minutes (steps and sigma; reach: each role's reach_min by road, capped by reach_km in a straight line)"
            } else {
                "metres (steps and sigma)"
            },
            "gini": "demand-weighted Gini coefficient of a_2sfca over the municipality's places",
        },
        "roles": per_role,
    });
    let mut summary = summary;
    add_network_summary(&mut summary, study, road);
    let bytes = serde_json::to_vec_pretty(&summary).map_err(|e| crate::error::Error::Internal(e.to_string()))?;
    out.write_bytes("access_summary.json", &bytes)?;
    out.commit()?;
    Ok(AccessRun {
        roles,
        seconds,
        written: out.written().to_vec(),
    })
}

/// The human summary of an access run: per role, providers, the mean supply per 1,000
/// demand (the same for 2SFCA and E2SFCA when all supply is allocated: both share out the
/// same supply), the spread of E2SFCA across places, and the demand with no access.
pub fn access_table(study: &Study, run: &AccessRun) -> String {
    let cells = &study.demand.cells;
    let total: f64 = cells.iter().map(|c| c.demand).sum();
    let mut s = format!(
        "{:<24} {:>9} {:>14} {:>14} {:>14} {:>10}\n",
        "role", "providers", "mean per 1000", "E2SFCA p10", "E2SFCA p90", "no access"
    );
    for (role, r) in study.rules.roles.iter().zip(&run.roles) {
        let mean = r.a_2sfca.iter().zip(cells).map(|(x, c)| x * c.demand).sum::<f64>() / total * 1000.0;
        let zero: f64 = r
            .a_2sfca
            .iter()
            .zip(cells)
            .filter(|(x, _)| **x <= 0.0)
            .map(|(_, c)| c.demand)
            .sum();
        let mut sorted: Vec<(f64, f64)> = r.a_e2sfca.iter().zip(cells).map(|(x, c)| (*x, c.demand)).collect();
        sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
        let quantile = |q: f64| {
            let mut acc = 0.0;
            sorted
                .iter()
                .find(|p| {
                    acc += p.1;
                    acc >= q * total
                })
                .map_or(0.0, |p| p.0 * 1000.0)
        };
        s.push_str(&format!(
            "{:<24} {:>9} {:>14.3} {:>14.3} {:>14.3} {:>9.1}%\n",
            role.id,
            r.providers,
            mean,
            quantile(0.1),
            quantile(0.9),
            zero / total * 100.0
        ));
    }
    s
}

/// What an indicators run produced.
pub struct IndicatorsRun {
    pub areas: Vec<crate::indicators::Area>,
    pub rows: Vec<crate::indicators::IndicatorRow>,
    /// Targets not met (or not measurable), described for people.
    pub not_met: Vec<String>,
    pub written: Vec<std::path::PathBuf>,
}

/// `zaitaku indicators`: the catalogue's indicators (built-in when `catalogue` is `None`),
/// the `tables` for process and outcome indicators, and coverage's shares, per area.
pub fn indicators(
    sources: &InputSources,
    catalogue: Option<&crate::inputs::Source>,
    tables: &[crate::inputs::Source],
    targets: Option<&crate::inputs::Source>,
    out_dir: &Path,
    progress: Progress,
) -> Result<IndicatorsRun> {
    let catalogue = match catalogue {
        Some(src) => crate::inputs::catalogue::parse_catalogue(src)?,
        None => crate::inputs::catalogue::builtin_catalogue(),
    };
    let spinner = progress.spinner("reading");
    let study = study::load(sources, progress);
    spinner.finish_and_clear();
    let mut study = study?;
    let mut values = crate::indicators::TableValues::new();
    for src in tables {
        let (read, rejects) = crate::inputs::tables::read_table(src, &study.municipalities, &mut values)?;
        study.files.push(crate::study::FileReport {
            file: src.name.clone(),
            role: "table",
            read,
            accepted: read - rejects.len(),
            rejected: rejects.len(),
            encoding: None,
            notes: Vec::new(),
            ..Default::default()
        });
        study.rejects.extend(rejects);
    }
    let mut target_list = Vec::new();
    if let Some(src) = targets {
        let (t, read, rejects) = crate::inputs::tables::read_targets(src)?;
        study.files.push(crate::study::FileReport {
            file: src.name.clone(),
            role: "targets",
            read,
            accepted: t.len(),
            rejected: rejects.len(),
            encoding: None,
            notes: Vec::new(),
            ..Default::default()
        });
        study.rejects.extend(rejects);
        target_list = t;
    }
    let (reach, _) = measure_reach(&study, progress)?;
    let cov = coverage::compute(&study.demand, &study.municipalities, &study.rules, &reach);
    indicators_on(&study, &catalogue, &values, &target_list, &cov, out_dir)
}

/// Indicators of a study whose coverage is known; writes indicators.csv, .parquet, .geojson
/// and indicators_summary.json.
pub fn indicators_on(
    study: &Study,
    catalogue: &[crate::inputs::catalogue::Indicator],
    tables: &crate::indicators::TableValues,
    targets: &[crate::inputs::tables::Target],
    cov: &Coverage,
    out_dir: &Path,
) -> Result<IndicatorsRun> {
    let (areas, mut rows) = crate::indicators::compute(study, catalogue, tables, Some(cov));
    let unmatched_targets = crate::indicators::apply_targets(&areas, &mut rows, targets);
    let not_met: Vec<String> = rows
        .iter()
        .filter_map(|r| {
            let t = r.target.as_ref()?;
            (t.met != Some(true)).then(|| {
                format!(
                    "{} in {} {}: target {} ({}), value {}",
                    r.indicator,
                    areas[r.area].level,
                    areas[r.area].code,
                    t.target,
                    t.measure,
                    t.gap
                        .map(|g| format!("short by {:.4}", -g).replace("short by -", "over by "))
                        .unwrap_or_else(|| "not available".into())
                )
            })
        })
        .collect();
    let mut out = OutDir::create(out_dir)?;
    crate::outputs::indicator_files::write_indicators(&mut out, study, &areas, &rows)?;
    crate::outputs::coverage_files::write_rejects(&mut out, study)?;
    write_lock(&mut out, study)?;
    let not_available: Vec<&str> = catalogue
        .iter()
        .filter(|i| {
            rows.iter()
                .any(|r| r.indicator == i.id && r.count.is_none() && r.share.is_none())
        })
        .map(|i| i.id.as_str())
        .collect();
    let outside = crate::indicators::institution_municipalities(study)
        .iter()
        .filter(|h| h.is_none())
        .count();
    let summary = json!({
        "zaitaku_version": env!("CARGO_PKG_VERSION"),
        "command": "indicators",
        "inputs": study.files,
        "rejected_total": study.rejects.len(),
        "indicators": catalogue.len(),
        "not_available": not_available,
        "targets_not_met": not_met,
        "targets_matching_no_row": unmatched_targets,
        "institutions_outside_every_municipality": outside,
        "rates": "per 100,000 population and per 100,000 aged 65+ from the population mesh; empty without population",
    });
    let bytes = serde_json::to_vec_pretty(&summary).map_err(|e| crate::error::Error::Internal(e.to_string()))?;
    out.write_bytes("indicators_summary.json", &bytes)?;
    out.commit()?;
    Ok(IndicatorsRun {
        areas,
        rows,
        not_met,
        written: out.written().to_vec(),
    })
}

/// The printed summary of indicators: the whole input's counts and rates.
pub fn indicators_table(run: &IndicatorsRun) -> String {
    let mut s = format!(
        "{:<34} {:>10} {:>12} {:>14}\n",
        "indicator (whole input)", "count", "per 100k", "per 100k 65+"
    );
    let all = run.areas.len() - 1;
    for r in run.rows.iter().filter(|r| r.area == all) {
        let f = |x: Option<f64>, d: usize| x.map(|v| format!("{v:.d$}")).unwrap_or_else(|| "n/a".into());
        match r.share {
            Some(share) => s.push_str(&format!(
                "{:<34} {:>10} {:>11.1}% {:>14}\n",
                r.indicator,
                "",
                share * 100.0,
                ""
            )),
            None => s.push_str(&format!(
                "{:<34} {:>10} {:>12} {:>14}\n",
                r.indicator,
                f(r.count, 0),
                f(r.per_100k, 2),
                f(r.per_100k_65plus, 2)
            )),
        }
    }
    if !run.not_met.is_empty() {
        s.push_str(&format!("\nTargets not met ({}):\n", run.not_met.len()));
        for t in &run.not_met {
            s.push_str(&format!("  {t}\n"));
        }
    }
    s
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
            "secrecy": study.secrecy,
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
    s.push_str(&population_lines(&run.study));
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

/// What the population files were read as: for e-Stat files, the column of each measure
/// (one line per distinct choice, with the number of files), measures not available, and
/// what secrecy sharing did. Empty without e-Stat files.
pub fn population_lines(study: &Study) -> String {
    let mut seen: Vec<(String, usize)> = Vec::new();
    for f in study
        .files
        .iter()
        .filter(|f| f.role == "population" && !f.columns.is_empty())
    {
        let mut line: Vec<String> = f.columns.iter().map(|c| c.describe()).collect();
        line.extend(
            f.notes
                .iter()
                .filter(|n| n.ends_with("not available from this file"))
                .cloned(),
        );
        let line = line.join("; ");
        match seen.iter_mut().find(|(l, _)| *l == line) {
            Some((_, n)) => *n += 1,
            None => seen.push((line, 1)),
        }
    }
    let mut s = String::new();
    for (line, n) in &seen {
        let files = if *n == 1 {
            "1 e-Stat file".to_string()
        } else {
            format!("{n} e-Stat files")
        };
        s.push_str(&format!("{files}: {line}\n"));
    }
    if let Some(sentence) = study.secrecy.sentence() {
        s.push_str(&sentence);
        s.push('\n');
    }
    if !s.is_empty() {
        s.push('\n');
    }
    s
}

/// How far from the best the proposal could be: catchments found against the upper bound
/// the floors allow (no layout meeting every floor has more), per unit when there are few.
pub fn bound_line(r: &crate::catchments::Catchments) -> String {
    let found: usize = r.units.iter().map(|u| u.catchments).sum();
    let bound: usize = r.units.iter().map(|u| u.upper_bound).sum();
    let at = r.units.iter().filter(|u| u.catchments >= u.upper_bound).count();
    let tried: usize = r.units.iter().map(|u| u.constructions).sum();
    let proven = r.units.iter().filter(|u| u.exact == Some(true)).count();
    let mut s = format!(
        "found {found} of at most {bound} (upper bound from the floors); at the bound in {at} of {} units; \
         the maximum proven in {proven} (at the bound, or by exact search: units of up to {} municipalities, and up to {} with a smaller budget); {tried} constructions\n",
        r.units.len(),
        crate::catchments::exact::EXACT_MAX_AREAS,
        crate::catchments::exact::ATTEMPT_MAX_AREAS
    );
    if r.units.len() <= 3 {
        for u in &r.units {
            s.push_str(&format!(
                "  {}: {} found, at most {}, {}, {} constructions\n",
                u.name,
                u.catchments,
                u.upper_bound,
                exact_words(u.exact),
                u.constructions
            ));
        }
    }
    s
}

/// Whether a unit's count is proven the maximum, in words.
pub fn exact_words(exact: Option<bool>) -> &'static str {
    match exact {
        Some(true) => "the maximum (proven)",
        Some(false) => "not proven (exact search out of budget)",
        None => "not proven (too many municipalities for the exact search)",
    }
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

/// What a catchments run produced.
pub struct CatchmentsRun {
    pub result: crate::catchments::Catchments,
    /// The dissolved outlines written.
    pub outlines: crate::outputs::catchment_files::Outlines,
    /// Seconds per stage: adjacency, supply, proposal (with the region check), writing.
    pub stages: Vec<(&'static str, f64)>,
    pub written: Vec<std::path::PathBuf>,
}

/// Stops when the regions file names municipalities the study does not have, or leaves some
/// of the study's municipalities out, unless `allow_partial`.
pub fn check_regions_complete(study: &Study, allow_partial: bool) -> Result<()> {
    let Some(file) = study.files.iter().find(|f| f.role == "regions") else {
        return Ok(());
    };
    if allow_partial {
        return Ok(());
    }
    let rejects: Vec<String> = study
        .rejects
        .iter()
        .filter(|r| r.file == file.file)
        .map(|r| format!("{}: {}", r.location, r.reason))
        .collect();
    let mut listed = vec![false; study.municipalities.len()];
    for r in &study.regions {
        for &m in &r.members {
            listed[m] = true;
        }
    }
    let missing: Vec<String> = study
        .municipalities
        .iter()
        .zip(&listed)
        .filter(|(_, &l)| !l)
        .map(|(m, _)| format!("{} {}", m.code, m.name))
        .collect();
    if rejects.is_empty() && missing.is_empty() {
        return Ok(());
    }
    let show = |v: &[String]| {
        let mut s = v.iter().take(10).cloned().collect::<Vec<_>>().join(", ");
        if v.len() > 10 {
            s.push_str(&format!(" and {} more", v.len() - 10));
        }
        s
    };
    let mut problem = String::new();
    if !rejects.is_empty() {
        problem.push_str(&format!("{} rows cannot be used ({})", rejects.len(), show(&rejects)));
    }
    if !missing.is_empty() {
        if !problem.is_empty() {
            problem.push_str("; ");
        }
        problem.push_str(&format!(
            "{} municipalities are in no region ({})",
            missing.len(),
            show(&missing)
        ));
    }
    problem.push_str("; pass --allow-partial to check the regions as they are");
    Err(crate::error::Error::input(
        &file.file,
        crate::error::Location::File,
        problem,
    ))
}

/// `zaitaku catchments`: reads the study, measures reach and coverage, then
/// [`catchments_on`].
pub fn catchments(
    sources: &InputSources,
    out_dir: &Path,
    progress: Progress,
    params: &crate::catchments::Params,
    allow_partial: bool,
) -> Result<(Study, CatchmentsRun)> {
    let spinner = progress.spinner("reading");
    let study = study::load(sources, progress);
    spinner.finish_and_clear();
    let study = study?;
    check_regions_complete(&study, allow_partial)?;
    let (reach, _) = measure_reach(&study, progress)?;
    let cov = coverage::compute(&study.demand, &study.municipalities, &study.rules, &reach);
    // A layout proposed for one year of a projection is also checked in every other year.
    let values = match sources.year {
        Some(_) => Some(study::projection_values(sources)?),
        None => None,
    };
    let years = sources.year.zip(values.as_ref());
    let run = catchments_on(&study, &reach, &cov, out_dir, progress, params, years)?;
    Ok((study, run))
}

/// Contiguity, the region check and the proposal for a study whose reach and coverage are
/// known; writes adjacency.csv, region_check.csv, regions.geojson, catchment_check.csv,
/// catchments.geojson, catchment_assignment.csv and catchments_summary.json. With `years`
/// (the study's year of a projection and every year's values) both layouts are also checked
/// in the projection's other years, in catchment_years.csv.
pub fn catchments_on(
    study: &Study,
    reach: &ReachTable,
    cov: &Coverage,
    out_dir: &Path,
    progress: Progress,
    params: &crate::catchments::Params,
    years: Option<(u16, &study::YearValues)>,
) -> Result<CatchmentsRun> {
    catchments_into(study, reach, cov, None, out_dir, progress, params, years)
}

/// [`catchments_on`] writing into `out` when given (so that its layers join a report's
/// GeoPackage; the caller commits), else into a new folder `out_dir` (committed here).
#[allow(clippy::too_many_arguments)]
pub fn catchments_into(
    study: &Study,
    reach: &ReachTable,
    cov: &Coverage,
    out: Option<&mut OutDir>,
    out_dir: &Path,
    progress: Progress,
    params: &crate::catchments::Params,
    years: Option<(u16, &study::YearValues)>,
) -> Result<CatchmentsRun> {
    use crate::catchments::{adjacency, supply};
    if study.rules.roles.len() > supply::MAX_ROLES {
        return Err(crate::error::Error::Usage(format!(
            "catchments follow at most {} roles; the rules have {}",
            supply::MAX_ROLES,
            study.rules.roles.len()
        )));
    }
    let spinner = progress.spinner("catchments");
    let mut stages = Vec::new();
    let t = Instant::now();
    spinner.set_message("contiguity");
    let adj = adjacency::adjacency(&study.municipalities, params.snap_m);
    if study.municipalities.len() > 1
        && adj.count(adjacency::LinkKind::Rook) + adj.count(adjacency::LinkKind::Queen) == 0
    {
        spinner.finish_and_clear();
        return Err(crate::error::Error::input(
            &study.files[0].file,
            crate::error::Location::File,
            format!(
                "no two of the {} municipalities share a boundary (within --snap-m {} m): catchments need neighbouring \
                 polygons from one boundary set; if the boundaries were simplified one by one, raise --snap-m",
                study.municipalities.len(),
                params.snap_m
            ),
        ));
    }
    stages.push(("adjacency", t.elapsed().as_secs_f64()));
    let t = Instant::now();
    spinner.set_message("in-area supply");
    let located = crate::indicators::institution_municipalities(study);
    let other: Vec<(u16, Vec<f64>)> = years
        .map(|(target, values)| {
            values
                .0
                .iter()
                .enumerate()
                .filter(|&(_, &y)| y != target)
                .map(|(k, &y)| {
                    let demand = study::demand_for_year(study, values, k);
                    (y, demand.cells.iter().map(|c| c.demand).collect())
                })
                .collect()
        })
        .unwrap_or_default();
    let other_demand: Vec<Vec<f64>> = other.iter().map(|o| o.1.clone()).collect();
    let by_travel = crate::reach::pairs::Travel::of(study).map(|travel| supply::travel_hosts(study, &located, &travel));
    let model = supply::build(
        &study.demand,
        study.municipalities.len(),
        &study.institutions,
        &located,
        &study.rules,
        reach,
        &other_demand,
        by_travel.as_deref(),
    );
    drop(by_travel);
    drop(other_demand);
    stages.push(("supply", t.elapsed().as_secs_f64()));
    let t = Instant::now();
    spinner.set_message("proposal");
    let mut result = crate::catchments::analyse(study, model, adj, params);
    stages.push(("proposal", t.elapsed().as_secs_f64()));
    if let Some((target, _)) = years {
        let t = Instant::now();
        spinner.set_message("other years");
        let other_years: Vec<u16> = other.iter().map(|o| o.0).collect();
        result.check_years(&study.rules, params, target, &other_years);
        stages.push(("other years", t.elapsed().as_secs_f64()));
    }
    let t = Instant::now();
    spinner.set_message("writing");
    let mut own;
    let commit = out.is_none();
    let out = match out {
        Some(out) => out,
        None => {
            own = OutDir::create(out_dir)?;
            &mut own
        }
    };
    let before = out.written().len();
    let written = crate::outputs::catchment_files::write_catchments(out, study, cov, &result, params)
        .and_then(|outlines| write_lock(out, study).map(|_| outlines));
    spinner.finish_and_clear();
    let outlines = written?;
    if commit {
        out.commit()?;
    }
    stages.push(("writing", t.elapsed().as_secs_f64()));
    Ok(CatchmentsRun {
        result,
        stages,
        written: out.written()[before..].to_vec(),
        outlines,
    })
}

/// The human summary of a catchments run.
pub fn catchments_table(study: &Study, run: &CatchmentsRun) -> String {
    use crate::catchments::adjacency::LinkKind;
    let r = &run.result;
    let mut s = String::new();
    s.push_str(&format!(
        "{} municipalities: {} rook, {} queen and {} island links\n\n",
        study.municipalities.len(),
        r.adjacency.count(LinkKind::Rook),
        r.adjacency.count(LinkKind::Queen),
        r.adjacency.count(LinkKind::IslandLink)
    ));
    let fails = |areas: &[crate::catchments::AreaCheck], f: usize| {
        areas.iter().filter(|a| !a.functions[f].self_sufficient).count()
    };
    s.push_str(&format!("{:<12} {:>12} {:>12}\n", "not self-", "regions", "catchments"));
    s.push_str(&format!(
        "{:<12} {:>12} {:>12}\n",
        "sufficient",
        if r.regions.is_empty() {
            "-".to_string()
        } else {
            format!("of {}", r.regions.len())
        },
        format!("of {}", r.catchments.len())
    ));
    for (f, func) in study.rules.functions.iter().enumerate() {
        s.push_str(&format!(
            "{:<12} {:>12} {:>12}\n",
            func.id,
            if r.regions.is_empty() {
                "-".to_string()
            } else {
                fails(&r.regions, f).to_string()
            },
            fails(&r.catchments, f)
        ));
    }
    let meeting = r.catchments.iter().filter(|c| c.failing.is_empty()).count();
    s.push_str(&format!(
        "\n{} catchments proposed, {} meeting every floor",
        r.catchments.len(),
        meeting
    ));
    if let Some(c) = &r.comparison {
        s.push_str(&format!(
            "; against the {} regions: adjusted Rand index {:.3}, {} municipalities move",
            r.regions.len(),
            c.adjusted_rand,
            c.moved.len()
        ));
    }
    s.push('\n');
    s.push_str(&bound_line(r));
    for f in &r.absent_functions {
        s.push_str(&format!(
            "{}: no provider of a required role anywhere in the input; left out of the floors\n",
            study.rules.functions[*f].id
        ));
    }
    for u in &r.units {
        for d in &u.dropped {
            s.push_str(&format!("{}: {d}\n", u.name));
        }
    }
    let by_year = crate::outputs::catchment_files::failing_by_year(r);
    if !by_year.is_empty() {
        s.push_str(&format!(
            "\nthe same layouts in every year (areas missing a floor):\n{:<6} {:>12} {:>12}\n",
            "year", "catchments", "regions"
        ));
        for (y, c, g) in by_year {
            let regions = if r.regions.is_empty() {
                "-".to_string()
            } else {
                format!("{g} of {}", r.regions.len())
            };
            s.push_str(&format!(
                "{y:<6} {:>12} {regions:>12}\n",
                format!("{c} of {}", r.catchments.len())
            ));
        }
    }
    let stages: Vec<String> = run.stages.iter().map(|(n, t)| format!("{n} {t:.2} s")).collect();
    s.push_str(&format!("time: {}\n", stages.join(", ")));
    s
}

/// What a comparison produced.
pub struct CompareRun {
    pub base: crate::compare::Side,
    pub alt: crate::compare::Side,
    pub diff: crate::compare::Diff,
    /// How each side was obtained, in words (read, computed, or updated from the base).
    pub how: Vec<String>,
    pub written: Vec<std::path::PathBuf>,
}

/// A scenario's study, reach and coverage.
pub(crate) fn scenario_run(sources: &InputSources, progress: Progress) -> Result<(Study, ReachTable, Coverage)> {
    let study = study::load(sources, progress)?;
    let (reach, _) = measure_reach(&study, progress)?;
    let cov = coverage::compute(&study.demand, &study.municipalities, &study.rules, &reach);
    Ok((study, reach, cov))
}

/// Whether two sources read the same files (and year) apart from the scenario edits.
fn same_inputs(a: &InputSources, b: &InputSources) -> bool {
    let same = |x: &inputs::Source, y: &inputs::Source| x.bytes == y.bytes;
    let same_all =
        |x: &[inputs::Source], y: &[inputs::Source]| x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q));
    let same_opt = |x: &Option<inputs::Source>, y: &Option<inputs::Source>| match (x, y) {
        (None, None) => true,
        (Some(p), Some(q)) => same(p, q),
        _ => false,
    };
    a.year == b.year
        && same(&a.municipalities, &b.municipalities)
        && same_all(&a.population, &b.population)
        && same_all(&a.institutions, &b.institutions)
        && same_opt(&a.rules, &b.rules)
        && same_opt(&a.regions, &b.regions)
}

/// `zaitaku compare BASE ALT`: each a scenario file or a result folder. Two scenarios on
/// the same files are read once, and the second one's reach is updated from the first's
/// for the institutions that differ.
pub fn compare(base: &Path, alt: &Path, out_dir: &Path, progress: Progress, min_share: f64) -> Result<CompareRun> {
    use crate::compare::Side;
    use crate::inputs::scenario::load_scenario;
    use crate::study::edits::sources;
    let scenario_sources = |p: &Path| -> Result<Option<InputSources>> {
        if p.is_dir() {
            Ok(None)
        } else {
            Ok(Some(sources(&load_scenario(p)?)?))
        }
    };
    let (bs, as_) = (scenario_sources(base)?, scenario_sources(alt)?);
    let mut how = Vec::new();
    let (base_side, alt_side) = match (&bs, &as_) {
        (Some(b), Some(a))
            if same_inputs(b, a)
                && b.network.is_none()
                && a.network.is_none()
                && b.od_matrix.is_none()
                && a.od_matrix.is_none() =>
        {
            let t = Instant::now();
            let raw = study::load_raw(b, progress)?;
            let mut base_study = raw.clone();
            study::apply_scenario(&mut base_study, b)?;
            let places = raw.demand.places();
            let base_reach = straight_line_reach(&places, &base_study.institutions, &base_study.rules, progress);
            let base_cov = coverage::compute(
                &base_study.demand,
                &base_study.municipalities,
                &base_study.rules,
                &base_reach,
            );
            how.push(format!("base: read and computed in {:.2} s", t.elapsed().as_secs_f64()));
            let t = Instant::now();
            let mut alt_study = raw;
            study::apply_scenario(&mut alt_study, a)?;
            let (alt_reach_how, alt_cov) = edited_coverage(&base_study, &base_reach, &alt_study, progress)?;
            how.push(format!(
                "alt: same files, {alt_reach_how} in {:.2} s",
                t.elapsed().as_secs_f64()
            ));
            (
                Side::from_study(&base.display().to_string(), &base_study, &base_cov),
                Side::from_study(&alt.display().to_string(), &alt_study, &alt_cov),
            )
        }
        _ => {
            let side = |p: &Path, s: &Option<InputSources>, what: &str, how: &mut Vec<String>| -> Result<Side> {
                let t = Instant::now();
                let side = match s {
                    Some(src) => {
                        let (study, _, cov) = scenario_run(src, progress)?;
                        Side::from_study(&p.display().to_string(), &study, &cov)
                    }
                    None => crate::compare::folder::read_result_folder(p)?,
                };
                how.push(format!(
                    "{what}: {} in {:.2} s",
                    if s.is_some() {
                        "computed"
                    } else {
                        "read from the folder"
                    },
                    t.elapsed().as_secs_f64()
                ));
                Ok(side)
            };
            let b = side(base, &bs, "base", &mut how)?;
            let a = side(alt, &as_, "alt", &mut how)?;
            (b, a)
        }
    };
    compare_sides(base_side, alt_side, how, out_dir, min_share)
}

/// Coverage of `alt`, the base study with a scenario's edits (the same demand): with the
/// same rules the reach is updated from the base's for the institutions that differ, else
/// measured afresh. Returns how the reach was had, in words, and the coverage.
fn edited_coverage(
    base: &Study,
    base_reach: &ReachTable,
    alt: &Study,
    progress: Progress,
) -> Result<(&'static str, Coverage)> {
    let places = base.demand.places();
    let (how, reach) = if alt.network.is_some() || alt.od.is_some() {
        ("travel time, so reach measured afresh", measure_reach(alt, progress)?.0)
    } else if alt.rules == base.rules {
        (
            "reach updated from the base's for the institutions that differ",
            crate::reach::straight::update_reach(
                &places,
                base_reach,
                &base.institutions,
                &alt.institutions,
                &alt.rules,
            ),
        )
    } else {
        (
            "other rules, so reach measured afresh",
            straight_line_reach(&places, &alt.institutions, &alt.rules, progress),
        )
    };
    Ok((
        how,
        coverage::compute(&alt.demand, &alt.municipalities, &alt.rules, &reach),
    ))
}

/// Compares two sides and writes the comparison's files into `out_dir`.
fn compare_sides(
    base: crate::compare::Side,
    alt: crate::compare::Side,
    how: Vec<String>,
    out_dir: &Path,
    min_share: f64,
) -> Result<CompareRun> {
    let diff = crate::compare::compare(&base, &alt, min_share)?;
    let mut out = OutDir::create(out_dir)?;
    // The diff layer also goes into a GeoPackage with its diverging styles.
    out.keep_layers();
    crate::outputs::compare_files::write_compare(&mut out, &base, &alt, &diff, min_share)?;
    out.write_geopackage("zaitaku.gpkg")?;
    out.commit()?;
    Ok(CompareRun {
        base,
        alt,
        diff,
        how,
        written: out.written().to_vec(),
    })
}

/// [`compare`] of a computed study (the base) with the same study after a scenario's edits
/// (`scenario`, a file such as `suggest`'s `suggested_scenario.toml`; its inputs, if any, are
/// not read): the reach is updated from the base's for the institutions that differ. As the
/// demo runs it. The labels name the two sides in the files.
pub fn compare_on(
    (base_label, alt_label): (&str, &str),
    study: &Study,
    reach: &ReachTable,
    cov: &Coverage,
    scenario: &Path,
    out_dir: &Path,
    min_share: f64,
) -> Result<CompareRun> {
    use crate::compare::Side;
    let t = Instant::now();
    let edits = crate::inputs::scenario::load_scenario(scenario)?;
    let mut alt = study.clone();
    crate::study::edits::apply_rule_edits(&mut alt.rules, &edits.rule_edits, &scenario.display().to_string())?;
    crate::study::edits::apply_edits(&mut alt, &edits.edits)?;
    let (alt_reach_how, alt_cov) = edited_coverage(study, reach, &alt, Progress::Quiet)?;
    let how = vec![format!(
        "alt: the base with the {} edits of {alt_label}, {alt_reach_how}, in {:.2} s",
        edits.edits.len() + edits.rule_edits.len(),
        t.elapsed().as_secs_f64()
    )];
    compare_sides(
        Side::from_study(base_label, study, cov),
        Side::from_study(alt_label, &alt, &alt_cov),
        how,
        out_dir,
        min_share,
    )
}

/// The human summary of a comparison.
pub fn compare_table(run: &CompareRun, min_share: f64) -> String {
    let d = &run.diff;
    let mut s = String::new();
    s.push_str(&format!(
        "base {}\nalt  {}\n\n{:<12} {:>9} {:>9} {:>12} {:>12} {:>12}\n",
        run.base.label, run.alt.label, "function", "base", "alt", "gained", "lost", "net"
    ));
    for (f, c) in d.functions.iter().zip(&d.changes) {
        let share = |cov: f64, dem: f64| {
            if dem > 0.0 {
                format!("{:.2}%", 100.0 * cov / dem)
            } else {
                "-".into()
            }
        };
        s.push_str(&format!(
            "{:<12} {:>9} {:>9} {:>12.0} {:>12.0} {:>12.0}\n",
            f,
            share(c.base_covered, c.base_demand),
            share(c.alt_covered, c.alt_demand),
            c.gained,
            c.lost,
            c.alt_covered - c.base_covered
        ));
    }
    for (f, c) in d.functions.iter().zip(&d.changes) {
        let names = |v: &[usize]| {
            v.iter()
                .map(|&m| run.base.municipalities[m].name.clone())
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !c.fell_below.is_empty() {
            s.push_str(&format!("{f}: fell below {min_share}: {}\n", names(&c.fell_below)));
        }
        if !c.rose_above.is_empty() {
            s.push_str(&format!("{f}: rose to {min_share}: {}\n", names(&c.rose_above)));
        }
    }
    if let Some((ari, moved)) = &d.layouts {
        s.push_str(&format!(
            "catchments: adjusted Rand index {ari:.3}, {} municipalities move\n",
            moved.len()
        ));
    }
    if !d.unmatched_functions.is_empty() {
        s.push_str(&format!(
            "not compared (one side only): {}\n",
            d.unmatched_functions.join(", ")
        ));
    }
    s.push_str(&format!("{}\n", run.how.join("; ")));
    s
}

/// `zaitaku suggest`: reads the study, measures reach and coverage, and chooses up to
/// `sites` sites for a role of a function (the role that blocks the most demand when none
/// is given).
pub fn suggest(
    sources: &InputSources,
    out_dir: &Path,
    progress: Progress,
    function: &str,
    role: Option<&str>,
    sites: usize,
    candidates: crate::suggest::Candidates,
) -> Result<(Study, crate::suggest::Suggestion, Vec<std::path::PathBuf>)> {
    let (study, reach, cov) = scenario_run(sources, progress)?;
    let (s, written) = suggest_on(&study, &reach, &cov, out_dir, function, role, sites, candidates)?;
    Ok((study, s, written))
}

/// [`suggest`] for a study whose reach and coverage are known (as the demo runs it).
#[allow(clippy::too_many_arguments)]
pub fn suggest_on(
    study: &Study,
    reach: &ReachTable,
    cov: &Coverage,
    out_dir: &Path,
    function: &str,
    role: Option<&str>,
    sites: usize,
    candidates: crate::suggest::Candidates,
) -> Result<(crate::suggest::Suggestion, Vec<std::path::PathBuf>)> {
    let (study, reach, cov) = (study, reach, cov);
    let usage = |m: String| crate::error::Error::Usage(m);
    let f = study
        .rules
        .functions
        .iter()
        .position(|x| x.id == function)
        .ok_or_else(|| {
            usage(format!(
                "unknown function '{function}'; the rules have {}",
                study
                    .rules
                    .functions
                    .iter()
                    .map(|f| f.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
    let r = match role {
        Some(id) => study
            .rules
            .roles
            .iter()
            .position(|x| x.id == id)
            .ok_or_else(|| usage(format!("unknown role '{id}'")))?,
        None => crate::suggest::blocking_role(study, reach, cov, f)
            .ok_or_else(|| usage(format!("function '{function}' has no required role")))?,
    };
    let s = crate::suggest::suggest(study, reach, cov, f, r, sites, candidates)?;
    let mut out = OutDir::create(out_dir)?;
    crate::outputs::suggest_files::write_suggest(&mut out, study, &s)?;
    write_lock(&mut out, study)?;
    out.commit()?;
    let written = out.written().to_vec();
    Ok((s, written))
}

/// The human summary of a suggestion.
pub fn suggest_table(study: &Study, s: &crate::suggest::Suggestion) -> String {
    let mut out = format!(
        "function {}, role {}: {:.0} demand uncovered, {:.0} of it only for want of this role; {} candidates\n\n{:>4} {:<9} {:<22} {:>10} {:>11} {:>12}\n",
        study.rules.functions[s.function].id,
        study.rules.roles[s.role].id,
        s.uncovered,
        s.coverable,
        s.candidates,
        "rank",
        "site",
        "id",
        "lat",
        "lon",
        "added"
    );
    for (n, p) in s.picks.iter().enumerate() {
        let (site, id) = match &p.site {
            crate::suggest::Site::Existing(k) => ("existing", study.institutions[*k].id.clone()),
            crate::suggest::Site::New(c) => ("new", format!("NEW-{}", study.demand.cells[*c].mesh.code())),
        };
        out.push_str(&format!(
            "{:>4} {:<9} {:<22} {:>10.5} {:>11.5} {:>12.0}\n",
            n + 1,
            site,
            id,
            p.lat,
            p.lon,
            p.added
        ));
    }
    out
}

/// `zaitaku coverage --years`: coverage in every year of projected population files, reach
/// measured once (it does not depend on demand). The files of the first year are written as
/// a plain coverage run, coverage.geojson gains `<function>_share_<year>` for every year,
/// and trend.csv holds per municipality, function and year the demand, covered demand and
/// share (and `all` rows for the whole input).
pub fn coverage_years(
    sources: &InputSources,
    years: &[u16],
    out_dir: &Path,
    progress: Progress,
) -> Result<(CoverageRun, Vec<(u16, Coverage)>)> {
    let t = Instant::now();
    let first = *years
        .first()
        .ok_or_else(|| crate::error::Error::Usage("--years names no year".into()))?;
    let mut src = sources.clone();
    src.year = Some(first);
    let study = study::load(&src, progress)?;
    let read_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let (reach, _) = measure_reach(&study, progress)?;
    let reach_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let values = if years.len() > 1 {
        study::projection_values(sources)?
    } else {
        Default::default()
    };
    let mut per_year: Vec<(u16, Coverage)> = Vec::new();
    for &y in years {
        let cov = if y == first {
            coverage::compute(&study.demand, &study.municipalities, &study.rules, &reach)
        } else {
            let k =
                values.0.iter().position(|&x| x == y).ok_or_else(|| {
                    crate::error::Error::Usage(format!("--years: {y} is not in every population file"))
                })?;
            let demand = study::demand_for_year(&study, &values, k);
            coverage::compute(&demand, &study.municipalities, &study.rules, &reach)
        };
        per_year.push((y, cov));
    }
    let coverage_s = t.elapsed().as_secs_f64();
    let cov = per_year[0].1.clone();

    let t = Instant::now();
    let mut out = OutDir::create(out_dir)?;
    let mut summary = summary_json(&study, &reach, &cov);
    let functions = &study.rules.functions;
    let by_year: Map<String, Value> = per_year
        .iter()
        .map(|(y, c)| {
            let m: Map<String, Value> = functions
                .iter()
                .enumerate()
                .map(|(f, func)| (func.id.clone(), stats_json(&c.total[f], &reach)))
                .collect();
            (y.to_string(), Value::Object(m))
        })
        .collect();
    if let Value::Object(o) = &mut summary {
        o.insert("years".into(), json!(years));
        o.insert("total_by_year".into(), Value::Object(by_year));
    }
    let extra = |m: usize, p: &mut Map<String, Value>| {
        for (f, func) in functions.iter().enumerate() {
            for (y, c) in &per_year {
                p.insert(
                    format!("{}_share_{y}", func.id),
                    crate::outputs::geojson_out::num(c.municipalities[m][f].share, 6),
                );
            }
        }
    };
    crate::outputs::coverage_files::write_coverage_with(&mut out, &study, &reach, &cov, &summary, &extra)?;
    let mut rows: Vec<Vec<String>> = Vec::new();
    for (m, muni) in study.municipalities.iter().enumerate() {
        for (f, func) in functions.iter().enumerate() {
            for (y, c) in &per_year {
                let s = &c.municipalities[m][f];
                rows.push(vec![
                    muni.code.clone(),
                    muni.name.clone(),
                    func.id.clone(),
                    y.to_string(),
                    crate::outputs::fmt_full(Some(s.demand)),
                    crate::outputs::fmt_full(Some(s.covered)),
                    crate::outputs::fmt_num(s.share, 6),
                ]);
            }
        }
    }
    for (f, func) in functions.iter().enumerate() {
        for (y, c) in &per_year {
            let s = &c.total[f];
            rows.push(vec![
                "all".into(),
                "all".into(),
                func.id.clone(),
                y.to_string(),
                crate::outputs::fmt_full(Some(s.demand)),
                crate::outputs::fmt_full(Some(s.covered)),
                crate::outputs::fmt_num(s.share, 6),
            ]);
        }
    }
    crate::outputs::tables::write_csv(
        &mut out,
        "trend.csv",
        &[
            "municipality_code",
            "municipality",
            "function",
            "year",
            "demand",
            "covered",
            "share",
        ],
        rows.into_iter(),
    )?;
    write_lock(&mut out, &study)?;
    let timings = Timings {
        read_s,
        reach_s,
        coverage_s,
        write_s: t.elapsed().as_secs_f64(),
        threads: rayon::current_num_threads(),
    };
    let timing_bytes = serde_json::to_vec_pretty(&timings).map_err(|e| crate::error::Error::Internal(e.to_string()))?;
    out.write_bytes("timings.json", &timing_bytes)?;
    out.commit()?;
    Ok((
        CoverageRun {
            study,
            reach,
            coverage: cov,
            timings,
            written: out.written().to_vec(),
        },
        per_year,
    ))
}

/// The years of `--years`: `all` (every year of the first projection file) or a list.
pub fn parse_years(text: &str, sources: &InputSources) -> Result<Vec<u16>> {
    let available = sources
        .population
        .first()
        .and_then(crate::inputs::population::years_of)
        .ok_or_else(|| {
            crate::error::Error::Usage(
                "--years needs projected population files (national land data 将来推計人口メッシュ)".into(),
            )
        })?;
    if text.trim() == "all" {
        return Ok(available);
    }
    text.split(',')
        .map(|y| {
            let y: u16 = y
                .trim()
                .parse()
                .map_err(|_| crate::error::Error::Usage(format!("--years: '{y}' is not a year")))?;
            if available.contains(&y) {
                Ok(y)
            } else {
                Err(crate::error::Error::Usage(format!(
                    "--years: {y} is not in the projection; its years are {}",
                    available.iter().map(u16::to_string).collect::<Vec<_>>().join(", ")
                )))
            }
        })
        .collect()
}

/// The human summary of a multi-year run: the whole input's share per function and year.
pub fn years_table(study: &Study, per_year: &[(u16, Coverage)]) -> String {
    let mut s = format!("{:<12}", "function");
    for (y, _) in per_year {
        s.push_str(&format!(" {y:>8}"));
    }
    s.push('\n');
    for (f, func) in study.rules.functions.iter().enumerate() {
        s.push_str(&format!("{:<12}", func.id));
        for (_, c) in per_year {
            s.push_str(&format!(" {:>7.1}%", 100.0 * c.total[f].share.unwrap_or(0.0)));
        }
        s.push('\n');
    }
    s
}

/// `zaitaku network build`: the road graph of an OpenStreetMap PBF file, written atomically
/// to `out`.
pub fn network_build(
    pbf: &Source,
    rules: Option<&Source>,
    out: &Path,
    progress: Progress,
) -> Result<(crate::network::Graph, std::path::PathBuf)> {
    let rules = match rules {
        Some(r) => crate::inputs::rules::Rules::parse(r)?,
        None => crate::inputs::rules::Rules::builtin(),
    };
    let graph = crate::network::osm::build(pbf, &rules.network, progress)?;
    let name = out
        .file_name()
        .ok_or_else(|| crate::error::Error::Usage(format!("--out {}: not a file name", out.display())))?
        .to_string_lossy()
        .into_owned();
    let dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    // One file among the user's own: written whole, the folder not staged.
    let mut folder = OutDir::create_unstaged(&dir)?;
    folder.write_bytes(&name, &graph.to_bytes())?;
    Ok((graph, dir.join(name)))
}

/// The human summary of a road graph.
pub fn network_table(graph: &crate::network::Graph) -> String {
    let i = &graph.info;
    let mut s = format!(
        "{}: {} nodes, {} directed edges (largest strongly connected component; {} nodes in {} smaller components dropped)\n",
        i.source,
        graph.nodes(),
        graph.edges(),
        i.nodes_dropped,
        i.components_dropped
    );
    s.push_str(&format!(
        "before: {} nodes, {} directed edges\n\nways kept by class:\n",
        i.nodes_before, i.edges_before
    ));
    for (class, n) in &i.ways_by_class {
        let kmh = i.speeds_kmh.iter().find(|c| &c.0 == class).map(|c| c.1).unwrap_or(0.0);
        s.push_str(&format!("  {class:<16} {n:>9}   default {kmh} km/h\n"));
    }
    if !i.ways_left_out.is_empty() {
        s.push_str("left out:\n");
        for (why, n) in &i.ways_left_out {
            s.push_str(&format!("  {why:<40} {n:>9}\n"));
        }
    }
    s
}

/// Seconds per stage of a report's presentation, and the files it wrote.
pub type ReportWritten = (Vec<(&'static str, f64)>, Vec<std::path::PathBuf>);

/// What a report run produced.
pub struct ReportRun {
    pub coverage: CoverageRun,
    pub catchments: Option<CatchmentsRun>,
    /// Seconds per stage of the presentation: institutions layer, GeoPackage, maps, page.
    pub stages: Vec<(&'static str, f64)>,
    pub written: Vec<std::path::PathBuf>,
}

/// `zaitaku report`: coverage, the region check and proposed catchments (straight-line reach;
/// left out with a note in travel-time mode), then [`report_into`].
pub fn report(
    sources: &InputSources,
    out_dir: &Path,
    progress: Progress,
    params: &crate::catchments::Params,
    allow_partial: bool,
) -> Result<ReportRun> {
    let (coverage, mut out) = coverage_keeping(sources, out_dir, progress, true, &|study| {
        check_regions_complete(study, allow_partial)
    })?;
    let study = &coverage.study;
    let catchments = {
        let values = match sources.year {
            Some(_) => Some(study::projection_values(sources)?),
            None => None,
        };
        let years = sources.year.zip(values.as_ref());
        Some(catchments_into(
            study,
            &coverage.reach,
            &coverage.coverage,
            Some(&mut out),
            out_dir,
            progress,
            params,
            years,
        )?)
    };
    let (stages, written) = report_into(&coverage, catchments.as_ref(), &mut out, progress)?;
    let mut all = coverage.written.clone();
    if let Some(c) = &catchments {
        all.extend(c.written.iter().cloned());
    }
    all.extend(written);
    Ok(ReportRun {
        coverage,
        catchments,
        stages,
        written: all,
    })
}

/// The presentation of a coverage run (and its catchments) in `out`, a folder that kept its
/// layers: institutions.geojson, zaitaku.gpkg with every layer and its styles, maps/ with a
/// PNG and an SVG per function, and report.html. Returns the seconds per stage and the
/// files written.
pub fn report_into(
    run: &CoverageRun,
    catchments: Option<&CatchmentsRun>,
    out: &mut OutDir,
    progress: Progress,
) -> Result<ReportWritten> {
    use crate::outputs::{institution_files, maps, report_html};
    let study = &run.study;
    let before = out.written().len();
    let mut stages = Vec::new();
    let spinner = progress.spinner("report");
    let result = (|| {
        let t = Instant::now();
        spinner.set_message("institutions");
        let located = crate::indicators::institution_municipalities(study);
        institution_files::write_institutions(out, study, &located)?;
        stages.push(("institutions", t.elapsed().as_secs_f64()));

        let t = Instant::now();
        spinner.set_message("GeoPackage");
        out.write_geopackage("zaitaku.gpkg")?;
        stages.push(("geopackage", t.elapsed().as_secs_f64()));

        let t = Instant::now();
        spinner.set_message("maps");
        let outlines: &[geo::MultiPolygon<f64>] = catchments.map_or(&[], |c| &c.outlines.catchments);
        let pngs = maps::write_maps(out, study, &run.coverage, outlines)?;
        stages.push(("maps", t.elapsed().as_secs_f64()));

        let t = Instant::now();
        spinner.set_message("report.html");
        let inputs = report_html::ReportInputs {
            study,
            reach: &run.reach,
            cov: &run.coverage,
            catchments: catchments.map(|c| {
                (
                    &c.result,
                    c.outlines.catchments.as_slice(),
                    c.outlines.regions.as_slice(),
                )
            }),
            catchments_note: catchments
                .is_none()
                .then(|| "No catchments were proposed in this run.".to_string()),
            maps: pngs,
        };
        let html = report_html::report_html(&inputs);
        out.write_bytes("report.html", html.as_bytes())?;
        out.commit()?;
        stages.push(("page", t.elapsed().as_secs_f64()));
        Ok(())
    })();
    spinner.finish_and_clear();
    result?;
    Ok((stages, out.written()[before..].to_vec()))
}
