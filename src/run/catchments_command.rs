//! `zaitaku catchments`: the region check and the proposed catchments, and their files.

#[allow(unused_imports)]
use super::*;

/// What a catchments run produced.
pub struct CatchmentsRun {
    pub result: crate::catchments::Catchments,
    /// The dissolved outlines written.
    pub outlines: crate::outputs::catchment_files::Outlines,
    /// Seconds per stage: adjacency, supply, proposal (with the region check), writing.
    pub stages: Vec<(&'static str, f64)>,
    pub written: Vec<std::path::PathBuf>,
    /// The municipality holding each institution (as the in-area supply placed them).
    pub located: Vec<Option<usize>>,
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
    // The municipalities' point-in-polygon indexes built to place the population serve
    // contiguity and the institutions' homes too.
    let study = study::load_keeping_index(sources, progress, true);
    spinner.finish_and_clear();
    let (study, index) = study?;
    check_regions_complete(&study, allow_partial)?;
    let served = served_by(&study, progress)?;
    // A layout proposed for one year of a projection is also checked in every other year.
    let values = match sources.year {
        Some(_) => Some(study::projection_values(sources)?),
        None => None,
    };
    let years = sources.year.zip(values.as_ref());
    let run = catchments_into(&study, &served, None, out_dir, progress, params, years, index)?;
    Ok((study, run))
}

/// What catchments need of reach and coverage. In a straight line only whether each role
/// has a provider within reach of each place is looked for (no counts, no nearest); by
/// travel time, reach and coverage are measured as `zaitaku coverage` measures them.
pub fn served_by(study: &Study, progress: Progress) -> Result<coverage::Served> {
    if study.od.is_none() && study.network.is_none() {
        let present = crate::reach::straight::straight_line_presence(
            &study.demand.places(),
            &study.institutions,
            &study.rules,
            progress,
        );
        return Ok(coverage::Served::from_presence(
            &study.demand,
            study.municipalities.len(),
            &study.rules,
            present,
        ));
    }
    let (reach, _) = measure_reach(study, progress)?;
    let cov = coverage::compute(&study.demand, &study.municipalities, &study.rules, &reach);
    Ok(coverage::Served::of(&reach, &cov))
}

/// Contiguity, the region check and the proposal for a study whose reach and coverage are
/// known; writes adjacency.csv, region_check.csv, regions.geojson, catchment_check.csv,
/// catchments.geojson, catchment_assignment.csv and catchments_summary.json. With `years`
/// (the study's year of a projection and every year's values) both layouts are also checked
/// in the projection's other years, in catchment_years.csv.
pub fn catchments_on(
    study: &Study,
    served: &coverage::Served,
    out_dir: &Path,
    progress: Progress,
    params: &crate::catchments::Params,
    years: Option<(u16, &study::YearValues)>,
) -> Result<CatchmentsRun> {
    catchments_into(study, served, None, out_dir, progress, params, years, None)
}

/// [`catchments_on`] writing into `out` when given (so that its layers join a report's
/// GeoPackage; the caller commits), else into a new folder `out_dir` (committed here);
/// `index`: the municipalities' point-in-polygon indexes, when already built
/// ([`study::load_keeping_index`]).
#[allow(clippy::too_many_arguments)]
pub fn catchments_into(
    study: &Study,
    served: &coverage::Served,
    out: Option<&mut OutDir>,
    out_dir: &Path,
    progress: Progress,
    params: &crate::catchments::Params,
    years: Option<(u16, &study::YearValues)>,
    index: Option<Vec<crate::demand::PolygonIndex>>,
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
    // One set of point-in-polygon indexes serves contiguity and the institutions' homes.
    let locator = crate::demand::MunicipalityLocator::with_shapes(&study.municipalities, index);
    let adj = adjacency::adjacency_with(&study.municipalities, params.snap_m, Some(locator.shapes()));
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
    let located = crate::indicators::institution_municipalities_with(study, &locator);
    drop(locator);
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
        &served.present,
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
    let written = crate::outputs::catchment_files::write_catchments(out, study, served, &result, params)
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
        located,
    })
}
