//! The shared part of every CSV reader: a lower-cased header, required columns as file-level
//! errors, and records with their line, unreadable or ragged ones rejected with the reason.

use crate::error::{Error, Location, Reject, Result};
use csv::StringRecord;

/// A CSV text opened for reading.
pub struct CsvTable<'a> {
    name: &'a str,
    /// Column names, trimmed and lower-cased.
    pub headers: Vec<String>,
    reader: csv::Reader<&'a [u8]>,
}

impl<'a> CsvTable<'a> {
    /// Reads the header of the CSV `text` of file `name`.
    pub fn open(name: &'a str, text: &'a str) -> Result<Self> {
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(text.as_bytes());
        let headers = reader
            .headers()
            .map_err(|e| Error::input(name, Location::Line(1), format!("bad CSV header: {e}")))?
            .iter()
            .map(|h| h.trim().to_ascii_lowercase())
            .collect();
        Ok(CsvTable { name, headers, reader })
    }

    pub fn column(&self, column: &str) -> Option<usize> {
        self.headers.iter().position(|h| h == column)
    }

    /// The position of a required column; a file-level error naming the columns expected
    /// (`expected`) and found when it is missing.
    pub fn require(&self, column: &str, expected: &str) -> Result<usize> {
        self.column(column).ok_or_else(|| {
            Error::input(
                self.name,
                Location::Line(1),
                format!(
                    "required column '{column}' is missing (expected {expected}; columns are: {})",
                    self.headers.join(", ")
                ),
            )
        })
    }

    /// Calls `row` for every record with as many fields as the header, with its line.
    /// Unreadable and ragged records go to `rejects`. Returns the number of records read.
    pub fn for_each(mut self, rejects: &mut Vec<Reject>, mut row: impl FnMut(Location, &StringRecord)) -> usize {
        let width = self.headers.len();
        let mut read = 0;
        for record in self.reader.records() {
            read += 1;
            match record {
                Err(e) => {
                    let line = e.position().map(|p| p.line()).unwrap_or(0);
                    rejects.push(Reject::new(
                        self.name,
                        Location::Line(line),
                        format!("unreadable CSV row: {e}"),
                    ));
                }
                Ok(record) => {
                    let location = Location::Line(record.position().map(|p| p.line()).unwrap_or(0));
                    if record.len() == width {
                        row(location, &record);
                    } else {
                        rejects.push(Reject::new(
                            self.name,
                            location,
                            format!("{} fields where the header has {width}", record.len()),
                        ));
                    }
                }
            }
        }
        read
    }
}
