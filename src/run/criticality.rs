//! `zaitaku criticality`: each institution's unique contribution per function, and its
//! terminal table.

use super::{scenario_run, write_lock};
use crate::coverage::Coverage;
use crate::criticality::{self, Criticality, RoleSlot};
use crate::error::Result;
use crate::outputs::criticality_files::{ranked, write_criticality};
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

/// Per function: the demand some single closure could uncover, and the `top` institutions
/// whose closure alone would uncover the most.
pub fn criticality_table(study: &Study, c: &Criticality, top: usize) -> String {
    let mut out = String::new();
    for (f, entries) in c.functions.iter().enumerate() {
        let function = &study.rules.functions[f];
        out.push_str(&format!(
            "{}: {:.0} demand covered, {:.0} of it would lose coverage if one institution closed\n",
            function.id, c.covered[f], c.fragile[f]
        ));
        let all: Vec<_> = ranked(entries)
            .into_iter()
            .filter(|e| e.role == RoleSlot::All && e.unique_demand > 0.0)
            .take(top)
            .collect();
        if all.is_empty() {
            out.push_str("  no institution is the only provider in reach of any covered place\n\n");
            continue;
        }
        out.push_str(&format!(
            "  {:>4} {:<22} {:<22} {:>12}\n",
            "rank", "id", "kind", "unique"
        ));
        for (n, e) in all.iter().enumerate() {
            let inst = &study.institutions[e.institution];
            out.push_str(&format!(
                "  {:>4} {:<22} {:<22} {:>12.0}\n",
                n + 1,
                inst.id,
                inst.kind.as_str(),
                e.unique_demand
            ));
        }
        out.push('\n');
    }
    out
}
