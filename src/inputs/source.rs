//! Input sources: the bytes of a file together with the name used in messages.
//!
//! Readers take a [`Source`] rather than a path, so the same code reads files on disk and
//! the demo data compiled into the binary.

use crate::error::{Error, Location, Result};
use std::borrow::Cow;
use std::path::Path;

/// The bytes of one input and the name that messages use for it.
#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    pub bytes: Vec<u8>,
}

impl Source {
    pub fn new(name: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Self {
        Source {
            name: name.into(),
            bytes: bytes.into(),
        }
    }

    /// Reads a whole file. A missing or unreadable file is an input error (exit 2); an empty
    /// file is one too, since no reader can use it.
    pub fn read(path: &Path) -> Result<Self> {
        let name = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| {
            let problem = match e.kind() {
                std::io::ErrorKind::NotFound => "file not found".to_string(),
                _ => format!("cannot read file: {e}"),
            };
            Error::input(&name, Location::File, problem)
        })?;
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
                let line = 1 + bytes[..utf8_error.valid_up_to()]
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
