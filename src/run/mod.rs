//! Commands as library functions: read the inputs, compute, write the outputs. The binary
//! only parses arguments and calls these.

mod access_command;
mod capacity_command;
mod catchments_command;
mod compare_command;
mod coverage_command;
mod criticality_command;
mod indicators_command;
mod network_command;
mod report_command;
mod suggest_command;
mod tables;

pub use access_command::*;
pub use catchments_command::*;
pub use compare_command::*;
pub use coverage_command::*;
pub use indicators_command::*;
pub use network_command::*;
pub use report_command::*;
pub use suggest_command::*;
pub use tables::*;

pub use capacity_command::{capacity, capacity_into, capacity_on, CapacityRun};
pub use criticality_command::{criticality, criticality_on};

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
