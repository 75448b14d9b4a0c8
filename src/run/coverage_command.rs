//! `zaitaku coverage` (and `--years`): reach, coverage and their files; reach measured as the study says (straight line, road graph, OD matrix).

#[allow(unused_imports)]
use super::*;

/// What a coverage run produced.
pub struct CoverageRun {
    pub study: Study,
    pub reach: ReachTable,
    /// Each place's nearest provider of every role, where reach was a straight line
    /// (capacity's nearest-first start uses it).
    pub nearest: Option<crate::reach::straight::NearestProviders>,
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
    let (reach, road, nearest) = measure_reach_with_nearest(&study, progress)?;
    let reach_s = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let cov = coverage::compute(&study.demand, &study.municipalities, &study.rules, &reach);
    let coverage_s = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let mut out = OutDir::create(out_dir)?;
    if keep {
        out.keep_layers("zaitaku.gpkg")?;
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
            nearest,
            coverage: cov,
            timings,
            written,
        },
        out,
    ))
}

/// [`measure_reach`], with each place's nearest provider of every role where reach is a
/// straight line.
pub fn measure_reach_with_nearest(
    study: &Study,
    progress: Progress,
) -> Result<(
    ReachTable,
    Option<crate::reach::network::Snapping>,
    Option<crate::reach::straight::NearestProviders>,
)> {
    if study.od.is_none() && study.network.is_none() {
        let places = study.demand.places();
        let (table, nearest) = crate::reach::straight::straight_line_reach_with_nearest(
            &places,
            &study.institutions,
            &study.rules,
            progress,
        );
        return Ok((table, None, Some(nearest)));
    }
    let (table, road) = measure_reach(study, progress)?;
    Ok((table, road, None))
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
pub(crate) fn add_network_summary(summary: &mut Value, study: &Study, road: Option<&crate::reach::network::Snapping>) {
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
pub(crate) fn write_unsnapped(
    out: &mut OutDir,
    study: &Study,
    road: Option<&crate::reach::network::Snapping>,
) -> Result<()> {
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
            nearest: None,
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
