//! `zaitaku capacity`: need served within reach under providers' capacities, and its files.

use super::write_lock;
use crate::capacity::{self, Capacity, Order};
use crate::error::{Error, Result};
use crate::outputs::capacity_files::write_capacity;
use crate::outputs::OutDir;
use crate::progress::Progress;
use crate::study::{self, InputSources, Study};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What a capacity run produced.
pub struct CapacityRun {
    pub study: Study,
    pub capacity: Capacity,
    pub written: Vec<PathBuf>,
    /// Wall-clock seconds: reading, solving, writing.
    pub stages: Vec<(&'static str, f64)>,
}

/// Reads the study and writes the capacity files. `need_rate`: `--need-rate` as given.
pub fn capacity(
    sources: &InputSources,
    need_rate: Option<&str>,
    order: Option<Order>,
    out_dir: &Path,
    progress: Progress,
) -> Result<CapacityRun> {
    let t = Instant::now();
    let spinner = progress.spinner("reading");
    let study = study::load(sources, progress);
    spinner.finish_and_clear();
    let study = study?;
    let read = t.elapsed().as_secs_f64();
    // A bad --need-rate stops the run before any folder is made.
    let rates = capacity::need_rates(&study.rules, need_rate).map_err(Error::Usage)?;
    let t = Instant::now();
    let cap = capacity::compute(&study, rates, order, None, progress);
    let solve = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut out = OutDir::create(out_dir)?;
    write_all(&study, &cap, None, &mut out, progress)?;
    write_lock(&mut out, &study)?;
    out.commit()?;
    let stages = vec![
        ("read", read),
        ("capacity", solve),
        ("write", t.elapsed().as_secs_f64()),
    ];
    Ok(CapacityRun {
        written: out.written().to_vec(),
        study,
        capacity: cap,
        stages,
    })
}

/// [`capacity`] for a study already read (as the demo runs it).
pub fn capacity_on(
    study: &Study,
    need_rate: Option<&str>,
    order: Option<Order>,
    out_dir: &Path,
    progress: Progress,
) -> Result<(Capacity, Vec<PathBuf>)> {
    capacity::need_rates(&study.rules, need_rate).map_err(Error::Usage)?;
    let mut out = OutDir::create(out_dir)?;
    let (cap, _) = capacity_into(study, need_rate, order, None, None, &mut out, progress)?;
    write_lock(&mut out, study)?;
    out.commit()?;
    let written = out.written().to_vec();
    Ok((cap, written))
}

/// Computes capacity and writes its files into `out` (not committed: the report adds its
/// layers to the GeoPackage); returns them with the files written. `located`: the
/// municipality of each institution when the caller has placed them already (catchments
/// have), else they are placed here. `nearest`: each place's nearest provider per role when
/// the run's reach measured it (see [`capacity::compute`]).
pub fn capacity_into(
    study: &Study,
    need_rate: Option<&str>,
    order: Option<Order>,
    located: Option<&[Option<usize>]>,
    nearest: Option<(&crate::reach::ReachTable, &crate::reach::straight::NearestProviders)>,
    out: &mut OutDir,
    progress: Progress,
) -> Result<(Capacity, Vec<PathBuf>)> {
    let rates = capacity::need_rates(&study.rules, need_rate).map_err(Error::Usage)?;
    let cap = capacity::compute(study, rates, order, nearest, progress);
    let before = out.written().len();
    write_all(study, &cap, located, out, progress)?;
    Ok((cap, out.written()[before..].to_vec()))
}

fn write_all(
    study: &Study,
    cap: &Capacity,
    located: Option<&[Option<usize>]>,
    out: &mut OutDir,
    progress: Progress,
) -> Result<()> {
    let spinner = progress.spinner("writing");
    let located = match located {
        Some(l) => std::borrow::Cow::Borrowed(l),
        None => std::borrow::Cow::Owned(crate::indicators::institution_municipalities(study)),
    };
    let written = write_capacity(out, study, cap, &located);
    spinner.finish_and_clear();
    written
}
