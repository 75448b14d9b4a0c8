//! Input sources: the bytes of a file together with the name used in messages.
//!
//! Readers take a [`Source`] rather than a path, so the same code reads files on disk and
//! the demo data compiled into the binary.

// Raw input bytes are parsed here: no indexing that could panic.
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

use crate::error::{Error, Location, Result};
use std::borrow::Cow;
use std::path::Path;

/// The bytes of one input and the name that messages use for it.
#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    pub bytes: Bytes,
}

/// An input's bytes: held in memory, or, for a large file, the file mapped into memory
/// (read as the readers reach it, with no copy: a quarter of a second less for the 250 MB
/// of a national boundary file).
#[derive(Debug, Clone)]
pub enum Bytes {
    Held(Vec<u8>),
    Mapped(std::sync::Arc<memmap2::Mmap>),
}

impl Default for Bytes {
    fn default() -> Self {
        Bytes::Held(Vec::new())
    }
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Held(v) => v,
            Bytes::Mapped(m) => m,
        }
    }
}

/// Files from this size on are mapped rather than copied into memory.
const MAP_FROM_BYTES: u64 = 16 << 20;

impl Source {
    pub fn new(name: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Self {
        Source {
            name: name.into(),
            bytes: Bytes::Held(bytes.into()),
        }
    }

    /// Reads a whole file. A missing or unreadable file is an input error (exit 2); an empty
    /// file is one too, since no reader can use it; so is a file too large for the memory
    /// available (see [`check_memory`]), before any of it is read.
    /// A file of 16 MB or more is mapped into memory rather than copied; like any program
    /// that maps its input, a run can then fail if the file is cut short while it reads it.
    pub fn read(path: &Path) -> Result<Self> {
        let name = path.display().to_string();
        let cannot = |e: std::io::Error| {
            let problem = match e.kind() {
                std::io::ErrorKind::NotFound => "file not found".to_string(),
                _ => format!("cannot read file: {e}"),
            };
            Error::input(&name, Location::File, problem)
        };
        let meta = std::fs::metadata(path);
        if let Ok(meta) = &meta {
            check_memory(&name, meta.len(), available_memory()?)?;
        }
        let bytes = match meta {
            Ok(meta) if meta.is_file() && meta.len() >= MAP_FROM_BYTES => {
                let file = std::fs::File::open(path).map_err(cannot)?;
                // SAFETY: the map is only read; the file is the user's input, which zaitaku
                // never writes (a file changed by another program meanwhile is the risk that
                // every program mapping its input takes).
                match unsafe { memmap2::Mmap::map(&file) } {
                    Ok(map) => Bytes::Mapped(std::sync::Arc::new(map)),
                    Err(_) => Bytes::Held(std::fs::read(path).map_err(cannot)?),
                }
            }
            _ => Bytes::Held(std::fs::read(path).map_err(cannot)?),
        };
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            return Err(Error::input(&name, Location::File, "file is empty"));
        }
        Ok(Source { name, bytes })
    }

    /// Reads a table that may be given as a Shapefile: `x.shp` stands for its attribute
    /// table `x.dbf` (or `x.DBF`), which is read instead; other paths are read as they are.
    pub fn read_table(path: &Path) -> Result<Self> {
        let is_shp = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("shp"));
        if !is_shp {
            return Source::read(path);
        }
        let lower = path.with_extension("dbf");
        let upper = path.with_extension("DBF");
        if !lower.exists() && upper.exists() {
            return Source::read(&upper);
        }
        if !lower.exists() {
            return Err(Error::input(
                &path.display().to_string(),
                Location::File,
                format!(
                    "a Shapefile's attributes are read from {}, which is missing",
                    lower.display()
                ),
            ));
        }
        Source::read(&lower)
    }
}

impl Source {
    /// A zip archive as downloaded (e-Stat's and the health ministry's files come zipped)
    /// stands for the one table it holds: its single `.csv` or `.txt` member, named
    /// `archive.zip:member`. Other bytes are returned as they are. An archive without such a
    /// member, or with several, is an input error naming them.
    pub fn unzipped(&self) -> Result<Cow<'_, Source>> {
        if !self.bytes.starts_with(b"PK\x03\x04") {
            return Ok(Cow::Borrowed(self));
        }
        let bad = |problem: String| Error::input(&self.name, Location::File, problem);
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(&self.bytes[..]))
            .map_err(|e| bad(format!("not a readable zip archive: {e}")))?;
        let names: Vec<String> = archive
            .file_names()
            .map(|n| n.map(|n| n.into_owned()))
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| bad(format!("cannot list the zip archive: {e}")))?;
        let tables: Vec<&String> = names
            .iter()
            .filter(|n| {
                let l = n.to_ascii_lowercase();
                (l.ends_with(".csv") || l.ends_with(".txt")) && !l.starts_with("__macosx/")
            })
            .collect();
        let [member] = tables.as_slice() else {
            return Err(bad(format!(
                "a zip archive must hold one .csv or .txt table; this one holds {}",
                if names.is_empty() {
                    "nothing".to_string()
                } else {
                    names.join(", ")
                }
            )));
        };
        let mut file = archive
            .by_name(member)
            .map_err(|e| bad(format!("cannot read {member} in the archive: {e}")))?;
        let mut bytes = Vec::with_capacity(usize::try_from(file.size()).unwrap_or(0));
        std::io::Read::read_to_end(&mut file, &mut bytes).map_err(|e| bad(format!("cannot unpack {member}: {e}")))?;
        Ok(Cow::Owned(Source {
            name: format!("{}:{member}", self.name),
            bytes: Bytes::Held(bytes),
        }))
    }
}

/// Reading a file takes at most about this many times its size in memory: the bytes, the
/// decoded text, the parsed rows or geometries and the work on them (measured on the
/// national inputs: municipalities 3.8 times, projected population 4.3 times).
pub const MEMORY_PER_INPUT_BYTE: u64 = 5;

/// Memory available for reading, in bytes: `ZAITAKU_MEMORY_LIMIT` when set (`8G`, `512M`,
/// or bytes), else the system's available memory (Linux `MemAvailable`); `None` when
/// unknown (no check).
pub fn available_memory() -> Result<Option<u64>> {
    if let Ok(limit) = std::env::var("ZAITAKU_MEMORY_LIMIT") {
        return parse_size(&limit).map(Some).ok_or_else(|| {
            Error::Usage(format!(
                "ZAITAKU_MEMORY_LIMIT={limit}: expected a size such as 8G, 512M or a number of bytes"
            ))
        });
    }
    let Ok(info) = std::fs::read_to_string("/proc/meminfo") else {
        return Ok(None);
    };
    Ok(info
        .lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb * 1024))
}

/// `8G`, `512M`, `64K` or plain bytes.
fn parse_size(text: &str) -> Option<u64> {
    let t = text.trim();
    let (digits, unit) = match t.char_indices().find(|(_, c)| !c.is_ascii_digit() && *c != '.') {
        Some((i, _)) => t.split_at(i),
        None => (t, ""),
    };
    let value: f64 = digits.parse().ok()?;
    let scale = match unit.trim().to_ascii_uppercase().trim_end_matches('B') {
        "" => 1.0,
        "K" => 1024.0,
        "M" => 1024.0 * 1024.0,
        "G" => 1024.0 * 1024.0 * 1024.0,
        "T" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    (value.is_finite() && value >= 0.0).then_some((value * scale) as u64)
}

fn human(bytes: u64) -> String {
    let gb = bytes as f64 / (1024.0 * 1024.0 * 1024.0);
    if gb >= 1.0 {
        format!("{gb:.1} GB")
    } else {
        format!("{:.0} MB", bytes as f64 / (1024.0 * 1024.0))
    }
}

/// Stops before reading a file whose reading would not fit in `available` bytes, rather
/// than exhausting memory partway: zaitaku holds each input whole while it reads it.
pub fn check_memory(name: &str, size: u64, available: Option<u64>) -> Result<()> {
    let Some(available) = available else {
        return Ok(());
    };
    let need = size.saturating_mul(MEMORY_PER_INPUT_BYTE);
    if need <= available {
        return Ok(());
    }
    Err(Error::input(
        name,
        Location::File,
        format!(
            "the file is {} and reading it takes up to {} of memory, more than the {} available; \
             split it (for example by prefecture, or a population file by first-level mesh) and pass the parts, \
             or run on a machine with more memory (ZAITAKU_MEMORY_LIMIT sets the limit)",
            human(size),
            human(need),
            human(available)
        ),
    ))
}

/// The text encoding a file was read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum TextEncoding {
    #[serde(rename = "UTF-8")]
    Utf8,
    /// Shift_JIS as Windows writes it (code page 932), the encoding of older Japanese
    /// government downloads.
    #[serde(rename = "CP932")]
    Cp932,
}

/// Decodes text as UTF-8 (a byte-order mark is dropped) or, failing that, CP932.
/// Bytes that are neither are a file-level error naming the first bad line.
pub fn decode_text(source: &Source) -> Result<(Cow<'_, str>, TextEncoding)> {
    let bytes = source.bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&source.bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok((Cow::Borrowed(text), TextEncoding::Utf8)),
        Err(utf8_error) => {
            let (text, had_errors) = encoding_rs::SHIFT_JIS.decode_without_bom_handling(bytes);
            if had_errors {
                let line = 1 + bytes
                    .get(..utf8_error.valid_up_to())
                    .unwrap_or(bytes)
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count() as u64;
                return Err(Error::input(
                    &source.name,
                    Location::Line(line),
                    "text is neither UTF-8 nor CP932 (Shift_JIS)",
                ));
            }
            Ok((Cow::Owned(text.into_owned()), TextEncoding::Cp932))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_the_memory_check() {
        assert_eq!(parse_size("8G"), Some(8 << 30));
        assert_eq!(parse_size("512m"), Some(512 << 20));
        assert_eq!(parse_size("1.5GB"), Some(3 << 29));
        assert_eq!(parse_size("1000"), Some(1000));
        assert_eq!(parse_size("lots"), None);
        assert!(check_memory("f", 100, Some(500)).is_ok());
        assert!(check_memory("f", 101, Some(500)).is_err());
        assert!(check_memory("f", u64::MAX, None).is_ok());
    }

    #[test]
    fn decodes_cp932_and_utf8() {
        // 長野 in CP932
        let cp932 = Source::new("a.csv", vec![0x92, 0xB7, 0x96, 0xEC]);
        assert_eq!(
            decode_text(&cp932).unwrap(),
            (Cow::Owned("長野".to_string()), TextEncoding::Cp932)
        );
        let utf8 = Source::new("b.csv", "\u{feff}長野".as_bytes());
        assert_eq!(decode_text(&utf8).unwrap(), (Cow::Borrowed("長野"), TextEncoding::Utf8));
    }

    #[test]
    fn rejects_bytes_that_are_neither() {
        let bad = Source::new("c.csv", vec![b'a', b'\n', 0xFF, 0xFF, 0xFF]);
        let err = decode_text(&bad).unwrap_err().to_string();
        assert_eq!(err, "c.csv: line 2: text is neither UTF-8 nor CP932 (Shift_JIS)");
    }
}
