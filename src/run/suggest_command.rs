//! `zaitaku suggest`: sites for a role of a function, and their files.

#[allow(unused_imports)]
use super::*;

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
                study.rules.function_ids()
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
