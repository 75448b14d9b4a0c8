//! Outputs: every file zaitaku writes, each written atomically (a temporary file in the
//! output folder, then a rename), so a reader never sees half a file.
//!
//! Polars appears only here, for Parquet tables.

pub mod access_files;
pub mod catchment_files;
pub mod compare_files;
pub mod coverage_files;
pub mod geojson_out;
pub mod gpkg;
pub mod indicator_files;
pub mod institution_files;
pub mod maps;
pub mod report_html;
pub mod styles;
pub mod suggest_files;
pub mod tables;

use crate::error::{Error, Result};
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// The output folder of one run.
#[derive(Debug)]
pub struct OutDir {
    dir: PathBuf,
    written: Vec<PathBuf>,
    /// Every GeoJSON layer written so far, encoded for a GeoPackage, when asked for.
    layers: Option<Vec<gpkg::Layer>>,
}

impl OutDir {
    /// Creates the folder if missing.
    pub fn create(dir: &Path) -> Result<Self> {
        fs::create_dir_all(dir).map_err(|e| Error::io(format!("cannot create output folder {}", dir.display()), e))?;
        Ok(OutDir {
            dir: dir.to_path_buf(),
            written: Vec::new(),
            layers: None,
        })
    }

    /// From now on every GeoJSON layer written is also kept for [`OutDir::write_geopackage`].
    pub fn keep_layers(&mut self) {
        if self.layers.is_none() {
            self.layers = Some(Vec::new());
        }
    }

    /// Whether layers are being kept.
    pub fn keeps_layers(&self) -> bool {
        self.layers.is_some()
    }

    /// Counts files written through another folder (a subfolder) as written by this run.
    pub fn record(&mut self, files: &[PathBuf]) {
        self.written.extend(files.iter().cloned());
    }

    /// Keeps a layer for the GeoPackage (replacing one of the same name).
    pub fn keep_layer(&mut self, layer: gpkg::Layer) {
        if let Some(layers) = &mut self.layers {
            layers.retain(|l| l.table != layer.table);
            layers.push(layer);
        }
    }

    /// Writes the kept layers, with their styles, as one GeoPackage `name`.
    pub fn write_geopackage(&mut self, name: &str) -> Result<()> {
        let layers = self.layers.take().unwrap_or_default();
        let result = self.write_path(name, |path| gpkg::write(path, &layers));
        self.layers = Some(layers);
        result
    }

    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Files written so far, in order.
    pub fn written(&self) -> &[PathBuf] {
        &self.written
    }

    /// Writes `name` atomically: `fill` writes into a temporary file in the same folder,
    /// which replaces `name` only once complete.
    pub fn write(&mut self, name: &str, fill: impl FnOnce(&mut BufWriter<fs::File>) -> Result<()>) -> Result<()> {
        let target = self.dir.join(name);
        let context = || format!("cannot write {}", target.display());
        let prefix = format!(".{name}.");
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(".tmp");
        // Outputs are ordinary files (rw-r--r-- under the usual umask), not private ones.
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
        let tmp = builder.tempfile_in(&self.dir).map_err(|e| Error::io(context(), e))?;
        let (file, tmp_path) = tmp.into_parts();
        let mut w = BufWriter::with_capacity(1 << 20, file);
        fill(&mut w)?;
        w.into_inner().map_err(|e| Error::io(context(), e.into_error()))?;
        tmp_path.persist(&target).map_err(|e| Error::io(context(), e.error))?;
        self.written.push(target);
        Ok(())
    }

    /// Writes `name` atomically through a path: `fill` creates the file at the temporary path
    /// it is given (for writers that open files themselves, such as SQLite), which replaces
    /// `name` only once `fill` succeeds.
    pub fn write_path(&mut self, name: &str, fill: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
        let target = self.dir.join(name);
        let context = || format!("cannot write {}", target.display());
        let prefix = format!(".{name}.");
        let tmp = tempfile::Builder::new()
            .prefix(&prefix)
            .suffix(".tmp")
            .tempfile_in(&self.dir)
            .map_err(|e| Error::io(context(), e))?;
        let tmp_path = tmp.into_temp_path();
        fill(&tmp_path)?;
        #[cfg(unix)]
        fs::set_permissions(&tmp_path, std::os::unix::fs::PermissionsExt::from_mode(0o644))
            .map_err(|e| Error::io(context(), e))?;
        tmp_path.persist(&target).map_err(|e| Error::io(context(), e.error))?;
        self.written.push(target);
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

/// Formats a number for CSV: rounded, without trailing zeros; empty for `None`.
pub fn fmt_num(x: Option<f64>, decimals: i32) -> String {
    match x {
        Some(v) if v.is_finite() => {
            let s = format!("{:.*}", decimals.max(0) as usize, round(v, decimals));
            if s.contains('.') {
                s.trim_end_matches('0').trim_end_matches('.').to_string()
            } else {
                s
            }
        }
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_formatted_plainly() {
        assert_eq!(fmt_num(Some(1234.0), 4), "1234");
        assert_eq!(fmt_num(Some(0.1234567), 6), "0.123457");
        assert_eq!(fmt_num(Some(-0.0000001), 3), "0");
        assert_eq!(fmt_num(None, 3), "");
        assert_eq!(fmt_num(Some(f64::INFINITY), 3), "");
    }

    #[test]
    fn write_replaces_whole_files_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let mut out = OutDir::create(&dir.path().join("o")).unwrap();
        out.write_bytes("a.txt", b"old").unwrap();
        out.write_bytes("a.txt", b"new").unwrap();
        assert_eq!(std::fs::read(dir.path().join("o/a.txt")).unwrap(), b"new");
        let names: Vec<_> = std::fs::read_dir(dir.path().join("o"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1);
        // A failing writer leaves the old file in place.
        let err = out.write("a.txt", |_| Err(Error::Internal("stop".into())));
        assert!(err.is_err());
        assert_eq!(std::fs::read(dir.path().join("o/a.txt")).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(dir.path().join("o")).unwrap().count(), 1);
    }
}
