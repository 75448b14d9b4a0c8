//! `zaitaku report`: coverage, catchments, capacity and the presentation (GeoPackage, maps,
//! page) in one folder.

#[allow(unused_imports)]
use super::*;

/// What a report run produced.
pub struct ReportRun {
    pub coverage: CoverageRun,
    pub catchments: Option<CatchmentsRun>,
    pub capacity: crate::capacity::Capacity,
    /// Seconds per stage of the presentation: institutions layer, maps, page, GeoPackage.
    pub stages: Vec<(&'static str, f64)>,
    pub written: Vec<std::path::PathBuf>,
}

/// `zaitaku report`: coverage, the region check and proposed catchments, capacity (with
/// AccessMod's fill in capacity order beside it), then [`report_into`].
pub fn report(
    sources: &mut InputSources,
    out_dir: &Path,
    progress: Progress,
    params: &crate::catchments::Params,
    allow_partial: bool,
) -> Result<ReportRun> {
    let (coverage, mut out) = coverage_keeping(sources, out_dir, progress, true, &|study| {
        check_regions_complete(study, allow_partial)
    })?;
    // The boundaries' text is read: a national file's quarter of a gigabyte goes back before
    // the layers and the page are made.
    sources.municipalities.bytes = Default::default();
    let study = &coverage.study;
    let catchments = {
        let values = match sources.year {
            Some(_) => Some(study::projection_values(sources)?),
            None => None,
        };
        let years = sources.year.zip(values.as_ref());
        Some(catchments_into(
            study,
            &crate::coverage::Served::of(&coverage.reach, &coverage.coverage),
            Some(&mut out),
            out_dir,
            progress,
            params,
            years,
            None,
        )?)
    };
    let located = catchments.as_ref().map(|c| c.located.as_slice());
    let (capacity, capacity_written) = capacity_into(
        study,
        None,
        Some(crate::capacity::Order::Capacity),
        located,
        coverage.nearest.as_ref().map(|n| (&coverage.reach, n)),
        &mut out,
        progress,
    )?;
    let (stages, written) = report_into(&coverage, catchments.as_ref(), Some(&capacity), &mut out, progress)?;
    let mut all = coverage.written.clone();
    if let Some(c) = &catchments {
        all.extend(c.written.iter().cloned());
    }
    all.extend(capacity_written);
    all.extend(written);
    Ok(ReportRun {
        coverage,
        catchments,
        capacity,
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
    capacity: Option<&crate::capacity::Capacity>,
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
        let located = match catchments {
            Some(c) => std::borrow::Cow::Borrowed(c.located.as_slice()),
            None => std::borrow::Cow::Owned(crate::indicators::institution_municipalities(study)),
        };
        institution_files::write_institutions(out, study, &located)?;
        stages.push(("institutions", t.elapsed().as_secs_f64()));

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
            capacity,
            maps: pngs,
        };
        let html = report_html::report_html(&inputs);
        out.write_bytes("report.html", html.as_bytes())?;
        stages.push(("page", t.elapsed().as_secs_f64()));

        // The GeoPackage has been written beside the run, layer by layer; the maps and the
        // page gave it time for the last layers.
        let t = Instant::now();
        spinner.set_message("GeoPackage");
        out.write_geopackage()?;
        out.commit()?;
        stages.push(("geopackage", t.elapsed().as_secs_f64()));
        Ok(())
    })();
    spinner.finish_and_clear();
    result?;
    Ok((stages, out.written()[before..].to_vec()))
}
