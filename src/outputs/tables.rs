//! Tables: CSV through the csv crate, Parquet through polars.

use crate::error::{Error, Result};
use crate::outputs::OutDir;
use polars::prelude::*;

/// A column of a table to be written as Parquet.
pub enum TableColumn {
    Text(&'static str, Vec<String>),
    Float(String, Vec<Option<f64>>),
    Bool(String, Vec<bool>),
}

/// Writes a Parquet file from columns of equal length.
pub fn write_parquet(out: &mut OutDir, name: &str, height: usize, columns: Vec<TableColumn>) -> Result<()> {
    let columns: Vec<Column> = columns
        .into_iter()
        .map(|c| match c {
            TableColumn::Text(n, v) => Column::new(n.into(), v),
            TableColumn::Float(n, v) => Column::new(n.into(), v),
            TableColumn::Bool(n, v) => Column::new(n.into(), v),
        })
        .collect();
    let mut df = DataFrame::new(height, columns).map_err(|e| Error::Internal(format!("building {name}: {e}")))?;
    out.write(name, |w| {
        ParquetWriter::new(w)
            .with_compression(ParquetCompression::Zstd(None))
            .finish(&mut df)
            .map(|_| ())
            .map_err(|e| Error::Internal(format!("writing {name}: {e}")))
    })
}

/// Writes a CSV file: a header and rows of already formatted fields.
pub fn write_csv(out: &mut OutDir, name: &str, header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> Result<()> {
    out.write(name, |w| {
        let mut csv = csv::Writer::from_writer(w);
        let err = |e: csv::Error| Error::Internal(format!("writing {name}: {e}"));
        csv.write_record(header).map_err(err)?;
        for row in rows {
            csv.write_record(&row).map_err(err)?;
        }
        csv.flush().map_err(|e| Error::io(format!("writing {name}"), e))
    })
}
