//! Outputs: every file zaitaku writes, each written atomically (a temporary file in the
//! output folder, then a rename), so a reader never sees half a file.
//!
//! Polars appears only here, for Parquet tables.

pub mod access_files;
pub mod catchment_files;
pub mod compare_files;
pub mod coverage_files;
pub mod geojson_out;
pub mod indicator_files;
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
}

impl OutDir {
    /// Creates the folder if missing.
    pub fn create(dir: &Path) -> Result<Self> {
        fs::create_dir_all(dir).map_err(|e| Error::io(format!("cannot create output folder {}", dir.display()), e))?;
        Ok(OutDir {
            dir: dir.to_path_buf(),
            written: Vec::new(),
        })
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
