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
    /// Byte offsets of the line breaks, to number lines from byte positions (the csv
    /// crate's own line count is one short in CRLF files, as e-Stat and Windows write them).
    breaks: Vec<u64>,
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
        let breaks = text
            .bytes()
            .enumerate()
            .filter(|(_, b)| *b == b'\n')
            .map(|(i, _)| i as u64)
            .collect();
        Ok(CsvTable {
            name,
            headers,
            reader,
            breaks,
        })
    }

    /// The 1-based line of a record's start. In a CRLF file the csv crate puts the start on
    /// the preceding line's `\n`, so a break at the start itself counts.
    fn line(&self, position: Option<&csv::Position>) -> Location {
        let byte = position.map_or(0, |p| p.byte());
        Location::Line(1 + self.breaks.partition_point(|&b| b <= byte) as u64)
    }

    /// The records the table holds at most: its lines after the header (a quoted field
    /// can span lines, so fewer records is possible).
    pub fn records_at_most(&self) -> usize {
        self.breaks.len()
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
        let mut reader = std::mem::replace(&mut self.reader, csv::Reader::from_reader(&[][..]));
        for record in reader.records() {
            read += 1;
            match record {
                Err(e) => {
                    let location = self.line(e.position());
                    rejects.push(Reject::new(self.name, location, format!("unreadable CSV row: {e}")));
                }
                Ok(record) => {
                    let location = self.line(record.position());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_count_the_same_with_crlf() {
        for text in ["a,b\r\nx,1\r\ny\r\n", "a,b\nx,1\ny\n"] {
            let mut rejects = Vec::new();
            let mut lines = Vec::new();
            let read = CsvTable::open("t.csv", text)
                .unwrap()
                .for_each(&mut rejects, |l, _| lines.push(l));
            assert_eq!((read, lines), (2, vec![Location::Line(2)]));
            assert_eq!(rejects[0].location, Location::Line(3), "{text:?}");
        }
    }
}
