//! `zaitaku indicators`: the guideline's indicators per area, and their files.

#[allow(unused_imports)]
use super::*;

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
