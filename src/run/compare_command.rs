//! `zaitaku compare`: two scenarios or result folders side by side, and their files.

#[allow(unused_imports)]
use super::*;

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
pub(crate) fn same_inputs(a: &InputSources, b: &InputSources) -> bool {
    let same = |x: &inputs::Source, y: &inputs::Source| x.bytes[..] == y.bytes[..];
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
pub(crate) fn edited_coverage(
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
pub(crate) fn compare_sides(
    base: crate::compare::Side,
    alt: crate::compare::Side,
    how: Vec<String>,
    out_dir: &Path,
    min_share: f64,
) -> Result<CompareRun> {
    let diff = crate::compare::compare(&base, &alt, min_share)?;
    let mut out = OutDir::create(out_dir)?;
    // The diff layer also goes into a GeoPackage with its diverging styles.
    out.keep_layers("zaitaku.gpkg")?;
    crate::outputs::compare_files::write_compare(&mut out, &base, &alt, &diff, min_share)?;
    out.write_geopackage()?;
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
