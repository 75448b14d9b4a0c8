//! `zaitaku criticality`: each institution's unique contribution per function, and its
//! files.

use super::{scenario_run, write_lock};
use crate::coverage::Coverage;
use crate::criticality::{self, Criticality};
use crate::error::Result;
use crate::outputs::criticality_files::write_criticality;
use crate::outputs::OutDir;
use crate::progress::Progress;
use crate::reach::ReachTable;
use crate::study::{InputSources, Study};
use std::path::{Path, PathBuf};

/// Reads the study, measures reach and coverage, and writes the criticality files.
pub fn criticality(
    sources: &InputSources,
    out_dir: &Path,
    progress: Progress,
) -> Result<(Study, Criticality, Vec<PathBuf>)> {
    let (study, reach, cov) = scenario_run(sources, progress)?;
    let (c, written) = criticality_on(&study, &reach, &cov, out_dir)?;
    Ok((study, c, written))
}

/// [`criticality`] for a study whose reach and coverage are known (as the demo runs it).
pub fn criticality_on(
    study: &Study,
    reach: &ReachTable,
    cov: &Coverage,
    out_dir: &Path,
) -> Result<(Criticality, Vec<PathBuf>)> {
    let travel = crate::reach::pairs::Travel::of(study);
    let c = criticality::compute(study, reach, cov, travel.as_ref());
    let mut out = OutDir::create(out_dir)?;
    write_criticality(&mut out, study, &c)?;
    write_lock(&mut out, study)?;
    out.commit()?;
    let written = out.written().to_vec();
    Ok((c, written))
}
