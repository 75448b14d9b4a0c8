//! Outputs: every file zaitaku writes. A run writes into a staging folder beside the output
//! folder (a hidden sibling holding hard links to the files already there), and
//! [`OutDir::commit`] swaps the two in one step (Linux `renameat2` with `RENAME_EXCHANGE`),
//! so the output folder holds either the previous run's files or this run's, never a mix,
//! however the run ends. Where the exchange is not available the staged files are moved in
//! one by one (each file still whole). Each file is itself written to a temporary file and
//! renamed, so no reader sees half a file.
//!
//! Polars appears only here, for Parquet tables.

pub mod access_files;
pub mod capacity_files;
pub mod catchment_files;
pub mod compare_files;
pub mod coverage_files;
pub mod criticality_files;
pub mod geojson_out;
pub mod gpkg;
pub mod indicator_files;
pub mod institution_files;
pub mod label_point;
pub mod maps;
pub mod report_html;
pub mod styles;
pub mod suggest_files;
pub mod tables;

use crate::error::{Error, Result};
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// The output folder of one run.
#[derive(Debug)]
pub struct OutDir {
    /// The folder as the user named it (written paths are reported under it).
    dir: PathBuf,
    /// What the commit swaps: `dir`, or the folder it links to when `dir` is a symbolic
    /// link (the link stays; its folder gets the new content).
    target: PathBuf,
    /// Where files are written until [`OutDir::commit`]: a hidden sibling of `dir`, or `dir`
    /// itself where staging is not possible.
    stage: PathBuf,
    staged: bool,
    /// Whether this folder is staged at all ([`OutDir::create_unstaged`]: not).
    staging: bool,
    written: Vec<PathBuf>,
    /// The GeoPackage every GeoJSON layer written goes into, when asked for.
    package: Option<StreamedPackage>,
    /// In a share of [`OutDir::side_by_side`] when its folder keeps layers: the layers
    /// written, handed to the folder's GeoPackage after the shares, in their order.
    held_layers: Option<Vec<gpkg::Layer>>,
}

/// One job of [`OutDir::side_by_side`]: writes files through its share of the folder.
pub type Job<'a> = Box<dyn FnOnce(&mut OutDir) -> Result<()> + Send + 'a>;

/// The shares of [`OutDir::side_by_side`] as they finish, passed into the folder in order.
struct Passing<'o> {
    folder: &'o mut OutDir,
    /// The first job not passed yet.
    next: usize,
    done: Vec<Option<Result<OutDir>>>,
}

impl Passing<'_> {
    /// Passes every finished share from `next` on until a job still running or failed.
    fn pass_on(&mut self) {
        while let Some(slot) = self.done.get_mut(self.next) {
            // Still running (None) or failed: left as it is.
            if !matches!(slot, Some(Ok(_))) {
                break;
            }
            let Some(Ok(mut share)) = slot.take() else { break };
            self.folder.written.append(&mut share.written);
            for layer in share.held_layers.take().unwrap_or_default() {
                if let Err(e) = self.folder.keep_layer(layer) {
                    *slot = Some(Err(e));
                    return;
                }
            }
            self.next += 1;
        }
    }
}

/// A GeoPackage being written beside a run ([`OutDir::keep_layers`]).
#[derive(Debug)]
struct StreamedPackage {
    name: String,
    /// Taken when the package is completed.
    stream: Option<gpkg::Stream>,
    tmp: Option<tempfile::TempPath>,
    /// The folder of its own that holds `tmp` (with anything SQLite adds beside it), when
    /// the run is staged; removed with the package.
    folder: Option<PathBuf>,
    _tracked: Tracked,
    /// Tables sent so far.
    tables: Vec<String>,
}

impl Drop for StreamedPackage {
    fn drop(&mut self) {
        if let Some(folder) = &self.folder {
            let _ = fs::remove_dir_all(folder);
        }
    }
}

/// The marker in staging folders' names: `.<folder>.zaitaku-<pid>-<n>`.
const STAGE_MARK: &str = ".zaitaku-";

/// This process's staging folders not yet committed or dropped, and temporary files being
/// written. Opening, committing and dropping a stage hold the lock, so an interrupt waits
/// for a commit under way to finish.
static LIVE_PATHS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

fn live_paths() -> MutexGuard<'static, Vec<PathBuf>> {
    LIVE_PATHS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A temporary file listed among the paths an interrupt removes, for as long as it lives.
#[derive(Debug)]
struct Tracked(PathBuf);

impl Tracked {
    fn new(path: &Path) -> Self {
        live_paths().push(path.to_path_buf());
        Tracked(path.to_path_buf())
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        live_paths().retain(|s| *s != self.0);
    }
}

/// On Ctrl-C (SIGINT) or SIGTERM, removes this process's staging folders and temporary
/// files, so that an interrupted run leaves its output folder as it was and nothing beside
/// it (a run without a stage, such as `network build`, no half file), then ends the
/// process as the signal would have. Call once, early in `main`.
pub fn clean_up_on_interrupt() -> Result<()> {
    #[cfg(unix)]
    {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let context = || "cannot watch for interrupts".to_string();
        let mut signals =
            signal_hook::iterator::Signals::new([SIGINT, SIGTERM]).map_err(|e| Error::io(context(), e))?;
        std::thread::Builder::new()
            .name("interrupt".into())
            .spawn(move || {
                if let Some(signal) = signals.forever().next() {
                    let mut stages = live_paths();
                    for path in stages.drain(..) {
                        if path.is_dir() {
                            remove_stage(&path);
                        } else {
                            let _ = fs::remove_file(path);
                        }
                    }
                    let _ = signal_hook::low_level::emulate_default_handler(signal);
                    std::process::exit(128 + signal);
                }
            })
            .map_err(|e| Error::io(context(), e))?;
    }
    Ok(())
}

/// Removes a staging folder while other threads of the run may still be writing into it:
/// renamed first (still marked as a stage, so a later run would sweep it), so that no new
/// file can appear in it (they are created by the old path), then removed, a few times over
/// if a file created just before the rename made the removal fail.
fn remove_stage(path: &Path) {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push("-interrupted");
    let trash = path.with_file_name(name);
    let target = if fs::rename(path, &trash).is_ok() {
        trash
    } else {
        path.to_path_buf()
    };
    for _ in 0..20 {
        if fs::remove_dir_all(&target).is_ok() || !target.exists() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

impl OutDir {
    /// Creates the folder if missing, removes staging folders that runs killed before their
    /// commit left beside it, and opens a staging folder for this run.
    pub fn create(dir: &Path) -> Result<Self> {
        create_folder(dir)?;
        sweep_stale_stages(dir);
        let is_link = fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink());
        let target = match is_link {
            true => {
                fs::canonicalize(dir).map_err(|e| Error::io(format!("cannot follow the link {}", dir.display()), e))?
            }
            false => dir.to_path_buf(),
        };
        Ok(OutDir {
            dir: dir.to_path_buf(),
            target,
            stage: dir.to_path_buf(),
            staged: false,
            staging: true,
            written: Vec::new(),
            package: None,
            held_layers: None,
        })
    }

    /// A folder written file by file (each file whole), without staging: for one file
    /// placed among the user's own, such as a road graph.
    pub fn create_unstaged(dir: &Path) -> Result<Self> {
        create_folder(dir)?;
        Ok(OutDir {
            dir: dir.to_path_buf(),
            target: dir.to_path_buf(),
            stage: dir.to_path_buf(),
            staged: false,
            staging: false,
            written: Vec::new(),
            package: None,
            held_layers: None,
        })
    }

    /// Opens the staging folder at the first write after creation or a commit, so that it
    /// starts from the folder as it is then (other runs may have committed meanwhile).
    fn ensure_stage(&mut self) -> Result<()> {
        if self.staging && !self.staged {
            self.open_stage()?;
        }
        Ok(())
    }

    /// A fresh staging folder holding hard links to everything in the output folder.
    fn open_stage(&mut self) -> Result<()> {
        static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let Some(stage) = stage_path(&self.dir, COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)) else {
            return Ok(());
        };
        let mut budget = MAX_STAGED_FILES;
        let mut live = live_paths();
        live.push(stage.clone());
        // The stage becomes the folder: it takes the folder's permissions.
        let staged = fs::create_dir(&stage).is_ok()
            && fs::metadata(&self.dir)
                .and_then(|m| fs::set_permissions(&stage, m.permissions()))
                .is_ok()
            && link_tree(&self.dir, &stage, &mut budget).is_ok();
        if staged {
            self.stage = stage;
            self.staged = true;
        } else {
            // No staging here (no hard links on this file system, say): files go straight
            // into the folder, each still written whole.
            let _ = fs::remove_dir_all(&stage);
            live.retain(|s| *s != stage);
            self.stage = self.dir.clone();
            self.staged = false;
        }
        Ok(())
    }

    /// Makes everything written so far the folder's content in one step; anything written
    /// after goes to a new stage. Until then, the folder keeps its previous files.
    pub fn commit(&mut self) -> Result<()> {
        if !self.staged {
            return Ok(());
        }
        let context = || format!("cannot replace the output folder {}", self.dir.display());
        let mut live = live_paths();
        // A shell whose working folder is the output folder (or inside it) would be left in
        // the swapped-out, deleted one: there the files are moved in instead.
        let holds_cwd = std::env::current_dir()
            .and_then(fs::canonicalize)
            .ok()
            .zip(fs::canonicalize(&self.target).ok())
            .is_some_and(|(cwd, target)| cwd.starts_with(target));
        let exchanged = if holds_cwd {
            Err(std::io::Error::other("the working folder is inside the output folder"))
        } else {
            exchange(&self.stage, &self.target)
        };
        match exchanged {
            Ok(()) => {
                // The stage now holds the previous content.
                let _ = fs::remove_dir_all(&self.stage);
            }
            Err(_) => {
                // No exchange here (or not wanted): the files are moved in one by one, each
                // still whole.
                move_tree(&self.stage, &self.target).map_err(|e| Error::io(context(), e))?;
                let _ = fs::remove_dir_all(&self.stage);
            }
        }
        live.retain(|s| *s != self.stage);
        self.staged = false;
        self.stage = self.dir.clone();
        Ok(())
    }

    /// The folder the user named.
    pub fn final_path(&self) -> &Path {
        &self.dir
    }

    /// From now on every GeoJSON layer written also goes into the GeoPackage `name`,
    /// written on a thread of its own as the layers come and completed by
    /// [`OutDir::write_geopackage`].
    pub fn keep_layers(&mut self, name: &str) -> Result<()> {
        if self.keeps_layers() {
            return Ok(());
        }
        self.ensure_stage()?;
        let context = || format!("cannot write {}", self.dir.join(name).display());
        // Beside the staging folder, not in it: the package outlives the commits a run
        // may make before it is complete. Its own folder is named as a stage, so that an
        // interrupt removes it as one and a killed run's is swept.
        let folder = match (self.staged, self.stage.parent(), self.stage.file_name()) {
            (true, Some(parent), Some(stage)) => {
                let folder = parent.join(format!("{}-package", stage.to_string_lossy()));
                let mut live = live_paths();
                fs::create_dir(&folder).map_err(|e| Error::io(context(), e))?;
                live.push(folder.clone());
                Some(folder)
            }
            _ => None,
        };
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".tmp")
            .tempfile_in(folder.as_ref().unwrap_or(&self.stage))
            .map_err(|e| {
                if let Some(folder) = &folder {
                    let _ = fs::remove_dir(folder);
                    live_paths().retain(|s| s != folder);
                }
                Error::io(context(), e)
            })?
            .into_temp_path();
        let tracked = match &folder {
            // Listed above, as it was made.
            Some(folder) => Tracked(folder.clone()),
            None => Tracked::new(&tmp),
        };
        let stream = gpkg::Stream::start(&tmp)?;
        self.package = Some(StreamedPackage {
            name: name.to_string(),
            stream: Some(stream),
            tmp: Some(tmp),
            folder,
            _tracked: tracked,
            tables: Vec::new(),
        });
        Ok(())
    }

    /// Whether layers are being kept.
    pub fn keeps_layers(&self) -> bool {
        self.package.is_some() || self.held_layers.is_some()
    }

    /// Runs `jobs` side by side, each thread taking the next job left, each job writing
    /// through a share of this folder (same stage, same atomic writes). A job's files count
    /// as written, and its layers go to the GeoPackage, as soon as it and every job before
    /// it are done: in the order of the jobs, as if they had run one after the other. The
    /// first failing job's error (in that order) is returned.
    pub fn side_by_side(&mut self, jobs: Vec<Job<'_>>) -> Result<()> {
        self.ensure_stage()?;
        let n = jobs.len();
        let slots: Vec<Mutex<Option<Job<'_>>>> = jobs.into_iter().map(|j| Mutex::new(Some(j))).collect();
        let order: Vec<usize> = (0..n).collect();
        let (dir, target, stage, keeps) = (
            self.dir.clone(),
            self.target.clone(),
            self.stage.clone(),
            self.keeps_layers(),
        );
        let passing = Mutex::new(Passing {
            folder: self,
            next: 0,
            done: (0..n).map(|_| None).collect(),
        });
        crate::tasks::in_order_of(&order, |k| {
            let result = (|| {
                let job = slots[k].lock().ok().and_then(|mut slot| slot.take());
                let job = job.ok_or_else(|| Error::Internal(format!("output job {k} taken twice")))?;
                let mut share = OutDir {
                    dir: dir.clone(),
                    target: target.clone(),
                    stage: stage.clone(),
                    // The share neither opens, commits nor removes the stage: this folder does.
                    staged: false,
                    staging: false,
                    written: Vec::new(),
                    package: None,
                    held_layers: keeps.then(Vec::new),
                };
                job(&mut share)?;
                Ok(share)
            })();
            if let Ok(mut passing) = passing.lock() {
                passing.done[k] = Some(result);
                passing.pass_on();
            }
        });
        let passing = passing
            .into_inner()
            .map_err(|_| Error::Internal("an output job failed to report".into()))?;
        match passing.done.into_iter().nth(passing.next) {
            None => Ok(()),
            Some(Some(Err(e))) => Err(e),
            Some(_) => Err(Error::Internal("an output job did not finish".into())),
        }
    }

    /// Counts files written through another folder (a subfolder of [`OutDir::path`],
    /// committed into it) as written by this run.
    pub fn record(&mut self, files: &[PathBuf]) {
        for f in files {
            let under = f
                .strip_prefix(&self.stage)
                .map_or_else(|_| f.clone(), |rel| self.dir.join(rel));
            self.written.push(under);
        }
    }

    /// Sends a layer to the GeoPackage. A run writes each layer once.
    pub fn keep_layer(&mut self, layer: gpkg::Layer) -> Result<()> {
        if let Some(held) = &mut self.held_layers {
            held.push(layer);
            return Ok(());
        }
        let Some(package) = &mut self.package else {
            return Ok(());
        };
        if package.tables.contains(&layer.table) {
            return Err(Error::Internal(format!(
                "layer {} written twice into {}",
                layer.table, package.name
            )));
        }
        package.tables.push(layer.table.clone());
        if let Some(stream) = &mut package.stream {
            stream.add(layer);
        }
        Ok(())
    }

    /// Completes the GeoPackage of the kept layers, with their styles; layers written after
    /// this are not kept.
    pub fn write_geopackage(&mut self) -> Result<()> {
        let Some(mut package) = self.package.take() else {
            return Ok(());
        };
        let name = package.name.clone();
        let (Some(stream), Some(tmp)) = (package.stream.take(), package.tmp.take()) else {
            return Ok(());
        };
        stream.finish()?;
        self.ensure_stage()?;
        let context = || format!("cannot write {}", self.dir.join(&name).display());
        #[cfg(unix)]
        fs::set_permissions(&tmp, std::os::unix::fs::PermissionsExt::from_mode(0o644))
            .map_err(|e| Error::io(context(), e))?;
        tmp.persist(self.stage.join(&name))
            .map_err(|e| Error::io(context(), e.error))?;
        self.written.push(self.dir.join(&name));
        Ok(())
    }

    /// Where this run's files are written now (the staging folder until the commit).
    pub fn path(&mut self) -> Result<PathBuf> {
        self.ensure_stage()?;
        Ok(self.stage.clone())
    }

    /// Files written so far, in order.
    pub fn written(&self) -> &[PathBuf] {
        &self.written
    }

    /// Writes `name` atomically: `fill` writes into a temporary file in the same folder,
    /// which replaces `name` only once complete.
    pub fn write(&mut self, name: &str, fill: impl FnOnce(&mut BufWriter<fs::File>) -> Result<()>) -> Result<()> {
        self.ensure_stage()?;
        let target = self.stage.join(name);
        let context = || format!("cannot write {}", self.dir.join(name).display());
        let prefix = format!(".{name}.");
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(".tmp");
        // Outputs are ordinary files (rw-r--r-- under the usual umask), not private ones.
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
        let tmp = builder.tempfile_in(&self.stage).map_err(|e| Error::io(context(), e))?;
        let (file, tmp_path) = tmp.into_parts();
        let _tracked = Tracked::new(&tmp_path);
        let mut w = BufWriter::with_capacity(1 << 20, file);
        fill(&mut w)?;
        w.into_inner().map_err(|e| Error::io(context(), e.into_error()))?;
        tmp_path.persist(&target).map_err(|e| Error::io(context(), e.error))?;
        self.written.push(self.dir.join(name));
        Ok(())
    }

    /// Writes `name` atomically through a path: `fill` creates the file at the temporary path
    /// it is given (for writers that open files themselves, such as SQLite), which replaces
    /// `name` only once `fill` succeeds.
    pub fn write_path(&mut self, name: &str, fill: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
        self.ensure_stage()?;
        let target = self.stage.join(name);
        let context = || format!("cannot write {}", self.dir.join(name).display());
        let prefix = format!(".{name}.");
        let tmp = tempfile::Builder::new()
            .prefix(&prefix)
            .suffix(".tmp")
            .tempfile_in(&self.stage)
            .map_err(|e| Error::io(context(), e))?;
        let tmp_path = tmp.into_temp_path();
        let _tracked = Tracked::new(&tmp_path);
        fill(&tmp_path)?;
        #[cfg(unix)]
        fs::set_permissions(&tmp_path, std::os::unix::fs::PermissionsExt::from_mode(0o644))
            .map_err(|e| Error::io(context(), e))?;
        tmp_path.persist(&target).map_err(|e| Error::io(context(), e.error))?;
        self.written.push(self.dir.join(name));
        Ok(())
    }

    /// Writes a whole byte buffer atomically.
    pub fn write_bytes(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        self.write(name, |w| {
            w.write_all(bytes)
                .map_err(|e| Error::io(format!("cannot write {name}"), e))
        })
    }
}

impl Drop for OutDir {
    /// A run that ends without committing (an error, a panic) leaves the folder as it was.
    fn drop(&mut self) {
        if self.staged {
            let mut live = live_paths();
            let _ = fs::remove_dir_all(&self.stage);
            live.retain(|s| *s != self.stage);
        }
    }
}

/// Creates the output folder (and its parents) when missing; an existing file of that name
/// is a usage error.
fn create_folder(dir: &Path) -> Result<()> {
    if fs::metadata(dir).is_ok_and(|m| !m.is_dir()) {
        return Err(Error::Usage(format!(
            "the output folder {} is a file; name a folder (it is created when missing)",
            dir.display()
        )));
    }
    fs::create_dir_all(dir).map_err(|e| Error::io(format!("cannot create output folder {}", dir.display()), e))
}

/// The staging folder `.<name>.zaitaku-<pid>-<n>` beside `dir`; `None` when `dir` has no
/// usable parent or name.
fn stage_path(dir: &Path, n: usize) -> Option<PathBuf> {
    let full = fs::canonicalize(dir).ok()?;
    let name = full.file_name()?.to_string_lossy().into_owned();
    let parent = full.parent()?;
    Some(parent.join(format!(".{name}{STAGE_MARK}{}-{n}", std::process::id())))
}

/// Removes staging folders of `dir` (and GeoPackages written beside them) left by runs
/// that are no longer alive (Linux: no `/proc/<pid>`); elsewhere leaves them.
fn sweep_stale_stages(dir: &Path) {
    let Ok(full) = fs::canonicalize(dir) else { return };
    let (Some(name), Some(parent)) = (full.file_name(), full.parent()) else {
        return;
    };
    let prefix = format!(".{}{STAGE_MARK}", name.to_string_lossy());
    let Ok(entries) = fs::read_dir(parent) else { return };
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = file_name.strip_prefix(&prefix) else {
            continue;
        };
        let pid = rest.split('-').next().unwrap_or("");
        let alive = !cfg!(target_os = "linux") || Path::new("/proc").join(pid).exists();
        if !alive && !pid.is_empty() {
            // A staging folder, or a GeoPackage that was being written beside one.
            let _ = match entry.file_type().is_ok_and(|t| t.is_dir()) {
                true => fs::remove_dir_all(entry.path()),
                false => fs::remove_file(entry.path()),
            };
        }
    }
}

/// A folder holding more files than this (an output folder pointed at a data folder, say)
/// is written file by file rather than staged.
const MAX_STAGED_FILES: usize = 10_000;

/// Hard-links every file under `from` into `to` (folders recreated); staging folders of
/// other runs are skipped. Fails past `budget` files.
fn link_tree(from: &Path, to: &Path, budget: &mut usize) -> std::io::Result<()> {
    for entry in fs::read_dir(from)? {
        *budget = budget
            .checked_sub(1)
            .ok_or_else(|| std::io::Error::other("too many files to stage"))?;
        let entry = entry?;
        let name = entry.file_name();
        let target = to.join(&name);
        let kind = entry.file_type()?;
        if kind.is_dir() {
            if name.to_string_lossy().contains(STAGE_MARK) {
                continue;
            }
            fs::create_dir(&target)?;
            link_tree(&entry.path(), &target, budget)?;
        } else {
            fs::hard_link(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// Moves every file of `from` into `to`, replacing files of the same name.
fn move_tree(from: &Path, to: &Path) -> std::io::Result<()> {
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            fs::create_dir_all(&target)?;
            move_tree(&entry.path(), &target)?;
        } else {
            fs::rename(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// Swaps two folders in one step.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| std::ffi::CString::new(p.as_os_str().as_bytes()).map_err(std::io::Error::other);
    let (a, b) = (c(a)?, c(b)?);
    // SAFETY: both are valid NUL-terminated paths that live across the call.
    let r = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> std::io::Result<()> {
    Err(std::io::Error::other("no atomic folder exchange here"))
}

/// Rounds to `decimals` places for text outputs (CSV, GeoJSON), so files stay readable and
/// identical across platforms.
pub fn round(x: f64, decimals: i32) -> f64 {
    let k = 10f64.powi(decimals);
    let r = (x * k).round() / k;
    if r == 0.0 {
        0.0
    } else {
        r
    }
}

/// Formats a number for CSV at full precision: the shortest text that reads back as the same
/// `f64` (Ryu's, see [`FullText`]), `-0` as `0`, no `.0` on whole numbers; empty for `None`
/// or a non-finite value.
pub fn fmt_full(x: Option<f64>) -> String {
    let mut text = FullText::default();
    text.format(x).to_string()
}

/// Storage for [`fmt_full`]'s text, reused from number to number.
///
/// The text is Ryu's shortest round trip (as `ryu::Buffer::format_finite` writes it), `.0`
/// dropped: a whole number under 2^53 is its own digits (no shorter decimal reads back as
/// it, and Ryu writes such numbers in full), written as an integer; any other number goes
/// through Żmij, which finds the same shortest digits and writes them in the same places,
/// but for its exponent (`1.5e-7` where Żmij writes `1.5e-07`, `1e22` for `1e+22`), which
/// is rewritten as Ryu's.
#[derive(Default)]
pub struct FullText {
    digits: zmij::Buffer,
    integer: itoa::Buffer,
    spare: String,
}

impl FullText {
    /// The text of [`fmt_full`] for `x`.
    pub fn format(&mut self, x: Option<f64>) -> &str {
        let Some(v) = x.filter(|v| v.is_finite()) else {
            return "";
        };
        if v.fract() == 0.0 && v.abs() < 9_007_199_254_740_992.0 {
            // -0 as 0 (the cast drops the sign).
            return self.integer.format(v as i64);
        }
        let s = self.digits.format_finite(v);
        let Some(e) = s.find('e') else {
            return s.strip_suffix(".0").unwrap_or(s);
        };
        let (mantissa, exponent) = s.split_at(e);
        let exponent = &exponent[1..];
        let (negative, digits) = match exponent.strip_prefix('-') {
            Some(d) => (true, d),
            None => (false, exponent.trim_start_matches('+')),
        };
        let spare = &mut self.spare;
        spare.clear();
        spare.push_str(mantissa);
        spare.push('e');
        if negative {
            spare.push('-');
        }
        let digits = digits.trim_start_matches('0');
        spare.push_str(if digits.is_empty() { "0" } else { digits });
        spare
    }
}

/// Formats a number for CSV: rounded, without trailing zeros; empty for `None`.
pub fn fmt_num(x: Option<f64>, decimals: i32) -> String {
    let mut s = String::new();
    push_num(&mut s, x, decimals);
    s
}

/// Appends the text of [`fmt_num`] to `out`.
///
/// [`round`] takes `k = (x * 10^d).round()` and returns `r = k / 10^d`; the text is `r`
/// written to `d` decimals. Where `|k| < 2^51` that text is `k`'s own digits with the point
/// `d` places from the right: `r` is within half an ulp of `k / 10^d`, and an ulp of a number
/// below `2^52 / 10^d` is under `10^-d`, so `k / 10^d` is the nearest number of `d`
/// decimals. Those digits are written from the integer; other numbers (and `d` outside
/// 0..=9) go through the formatter.
pub fn push_num(out: &mut String, x: Option<f64>, decimals: i32) {
    let Some(v) = x.filter(|v| v.is_finite()) else {
        return;
    };
    if (0..=9).contains(&decimals) {
        let k = (v * 10f64.powi(decimals)).round();
        if k.abs() < (1u64 << 51) as f64 {
            // `round` gives +0 for both zeros, so only a non-zero k carries a sign.
            if k < 0.0 {
                out.push('-');
            }
            let n = k.abs() as u64;
            let scale = 10u64.pow(decimals as u32);
            let (whole, mut fraction) = (n / scale, n % scale);
            out.push_str(itoa::Buffer::new().format(whole));
            if fraction != 0 {
                let mut digits = decimals as usize;
                while fraction % 10 == 0 {
                    fraction /= 10;
                    digits -= 1;
                }
                let mut buffer = itoa::Buffer::new();
                let text = buffer.format(fraction);
                out.push('.');
                out.extend(std::iter::repeat_n('0', digits - text.len()));
                out.push_str(text);
            }
            return;
        }
    }
    out.push_str(&formatted(v, decimals));
}

/// The text of a rounded number as the formatter writes it: [`round`], then `{:.d}`, then
/// trailing zeros and the point trimmed.
fn formatted(v: f64, decimals: i32) -> String {
    let s = format!("{:.*}", decimals.max(0) as usize, round(v, decimals));
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_precision_reads_back_exactly() {
        for v in [3.0e-4, 1.0 / 3.0, 0.000_123_456_789_012_345, 1234.0, 2.5e-12, 6.02e23] {
            let s = fmt_full(Some(v));
            assert_eq!(s.parse::<f64>().unwrap(), v, "{s}");
        }
        assert_eq!(fmt_full(Some(1234.0)), "1234");
        assert_eq!(fmt_full(Some(-0.0)), "0");
        assert_eq!(fmt_full(Some(0.1 + 0.2)), "0.30000000000000004");
        assert_eq!(fmt_full(None), "");
    }

    #[test]
    fn numbers_are_formatted_plainly() {
        assert_eq!(fmt_num(Some(1234.0), 4), "1234");
        assert_eq!(fmt_num(Some(0.1234567), 6), "0.123457");
        assert_eq!(fmt_num(Some(-0.0000001), 3), "0");
        assert_eq!(fmt_num(None, 3), "");
        assert_eq!(fmt_num(Some(f64::INFINITY), 3), "");
        assert_eq!(fmt_num(Some(-2.5), 0), "-3");
        assert_eq!(fmt_num(Some(0.000_05), 4), "0.0001");
        assert_eq!(fmt_num(Some(-12.300_04), 3), "-12.3");
        // Beyond the integer path: the exact value of the double nearest 1e300, as Python's
        // `'%.2f' % 1e300` writes it too.
        let big = fmt_num(Some(1e300), 2);
        assert_eq!(big.len(), 301);
        assert!(big.starts_with("10000000000000000525047602552044202487044685811081591549158541"));
    }

    /// Ryu's text with `.0` dropped, as `fmt_full` wrote it before it took Żmij's digits.
    fn ryu_text(v: f64) -> String {
        let v = if v == 0.0 { 0.0 } else { v };
        let mut buf = ryu::Buffer::new();
        let s = buf.format_finite(v);
        s.strip_suffix(".0").unwrap_or(s).to_string()
    }

    #[test]
    fn full_text_is_ryus_at_the_edges() {
        let edges = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            9_007_199_254_740_991.0,
            9_007_199_254_740_992.0,
            9_007_199_254_740_994.0,
            9_999_999_999_999_998.0,
            1e16,
            -1e16,
            1.5e16,
            1e22,
            1.7976931348623157e308,
            1e-5,
            9.99e-6,
            1.5e-7,
            -2.5e-12,
            1e-100,
            5e-324,
            0.30000000000000004,
            123456.789,
        ];
        for v in edges {
            assert_eq!(fmt_full(Some(v)), ryu_text(v), "{v:e}");
        }
        assert_eq!(fmt_full(Some(1.5e-7)), "1.5e-7");
        assert_eq!(fmt_full(Some(1e22)), "1e22");
        assert_eq!(fmt_full(Some(5e-324)), "5e-324");
        assert_eq!(fmt_full(Some(f64::NAN)), "");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(20_000))]
        /// Every finite number's text is Ryu's: any bits, whole numbers, and the small
        /// ratios of accessibility, through one reused `FullText` as the tables use it.
        #[test]
        fn full_text_is_ryus(
            bits in proptest::num::f64::NORMAL | proptest::num::f64::SUBNORMAL | proptest::num::f64::ZERO,
            whole in -20_000_000_000_000_000i64..20_000_000_000_000_000,
            small in 0.0f64..1e-3,
        ) {
            let mut text = FullText::default();
            for v in [bits, whole as f64, small, small * 1e-3] {
                let want = ryu_text(v);
                proptest::prop_assert_eq!(text.format(Some(v)), want.as_str());
            }
        }
    }

    proptest::proptest! {
        /// The integer path writes what the formatter writes, over numbers of every size
        /// (mantissa times a power of ten) and every number of decimals.
        #[test]
        fn rounded_numbers_are_those_of_the_formatter(
            mantissa in -1_000_000_000_000i64..1_000_000_000_000,
            power in -20i32..20,
            decimals in -2i32..12,
            bits in proptest::num::f64::NORMAL | proptest::num::f64::SUBNORMAL | proptest::num::f64::ZERO,
        ) {
            let v = mantissa as f64 * 10f64.powi(power);
            proptest::prop_assert_eq!(fmt_num(Some(v), decimals), formatted(v, decimals));
            proptest::prop_assert_eq!(fmt_num(Some(bits), decimals), formatted(bits, decimals));
            // Halfway cases of the rounding itself.
            let half = (mantissa as f64 + 0.5) / 10f64.powi(decimals.clamp(0, 9));
            proptest::prop_assert_eq!(fmt_num(Some(half), decimals), formatted(half, decimals));
        }
    }

    #[test]
    fn side_by_side_lists_files_in_job_order_and_returns_the_first_error() {
        let dir = tempfile::tempdir().unwrap();
        let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
        let mut out = OutDir::create(&dir.path().join("o")).unwrap();
        // The first job is the slowest: the others finish before it.
        let slow = |name: &'static str, ms: u64| -> Job<'static> {
            Box::new(move |out: &mut OutDir| {
                std::thread::sleep(std::time::Duration::from_millis(ms));
                out.write_bytes(name, name.as_bytes())
            })
        };
        pool.install(|| out.side_by_side(vec![slow("a.txt", 60), slow("b.txt", 0), slow("c.txt", 20)]))
            .unwrap();
        let names: Vec<String> = out
            .written()
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["a.txt", "b.txt", "c.txt"]);
        out.commit().unwrap();
        assert_eq!(std::fs::read(dir.path().join("o/c.txt")).unwrap(), b"c.txt");
        // Two jobs fail: the error is the earlier job's, whichever failed first; the jobs
        // before it count as written, the others not.
        let fail = |message: &'static str, ms: u64| -> Job<'static> {
            Box::new(move |_: &mut OutDir| {
                std::thread::sleep(std::time::Duration::from_millis(ms));
                Err(Error::Internal(message.into()))
            })
        };
        let err = pool
            .install(|| {
                out.side_by_side(vec![
                    slow("d.txt", 0),
                    fail("second", 60),
                    fail("third", 0),
                    slow("e.txt", 0),
                ])
            })
            .unwrap_err();
        assert!(err.to_string().contains("second"), "{err}");
        assert_eq!(out.written().len(), 4);
    }

    #[test]
    fn write_replaces_whole_files_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let mut out = OutDir::create(&dir.path().join("o")).unwrap();
        out.write_bytes("a.txt", b"old").unwrap();
        out.commit().unwrap();
        out.write_bytes("a.txt", b"new").unwrap();
        // Not yet committed: the folder still has the old file.
        assert_eq!(std::fs::read(dir.path().join("o/a.txt")).unwrap(), b"old");
        out.commit().unwrap();
        assert_eq!(std::fs::read(dir.path().join("o/a.txt")).unwrap(), b"new");
        let names: Vec<_> = std::fs::read_dir(dir.path().join("o"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1);
        // A failing writer leaves the old file in place.
        let err = out.write("a.txt", |_| Err(Error::Internal("stop".into())));
        assert!(err.is_err());
        out.commit().unwrap();
        assert_eq!(std::fs::read(dir.path().join("o/a.txt")).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(dir.path().join("o")).unwrap().count(), 1);
        // A run dropped before its commit leaves the folder as it was, and no stage behind.
        let mut abandoned = OutDir::create(&dir.path().join("o")).unwrap();
        abandoned.write_bytes("a.txt", b"half").unwrap();
        abandoned.write_bytes("b.txt", b"more").unwrap();
        drop(abandoned);
        assert_eq!(std::fs::read(dir.path().join("o/a.txt")).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        assert_eq!(std::fs::read_dir(dir.path().join("o")).unwrap().count(), 1);
        drop(out);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
        // The folder keeps its permissions through the exchange.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let o = dir.path().join("o");
            std::fs::set_permissions(&o, std::fs::Permissions::from_mode(0o750)).unwrap();
            let mut again = OutDir::create(&o).unwrap();
            again.write_bytes("c.txt", b"c").unwrap();
            again.commit().unwrap();
            assert_eq!(std::fs::metadata(&o).unwrap().permissions().mode() & 0o777, 0o750);
            assert_eq!(std::fs::read(o.join("a.txt")).unwrap(), b"new");

            // An output folder given as a symbolic link stays a link; its folder gets the
            // new content, in one step.
            let link = dir.path().join("link");
            std::os::unix::fs::symlink(&o, &link).unwrap();
            let mut linked = OutDir::create(&link).unwrap();
            linked.write_bytes("a.txt", b"through the link").unwrap();
            linked.commit().unwrap();
            assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
            assert_eq!(std::fs::read(o.join("a.txt")).unwrap(), b"through the link");
            assert_eq!(std::fs::read(o.join("c.txt")).unwrap(), b"c");
            assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
        }
    }
}
