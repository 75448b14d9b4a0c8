//! Tables: CSV through the csv crate, Parquet through polars.

use crate::error::{Error, Result};
use crate::outputs::OutDir;
use polars::prelude::*;
use rayon::prelude::*;
use std::io::Write;

/// A column of a table to be written as Parquet.
pub enum TableColumn<'a> {
    Text(&'static str, Vec<String>),
    /// Text borrowed (no string per row: the many repeats of a few ids).
    Str(&'static str, Vec<&'a str>),
    Float(String, Vec<Option<f64>>),
    Bool(String, Vec<bool>),
}

impl TableColumn<'_> {
    fn into_column(self) -> Column {
        match self {
            TableColumn::Text(n, v) => Column::new(n.into(), v),
            TableColumn::Str(n, v) => Column::new(n.into(), v),
            TableColumn::Float(n, v) => Column::new(n.into(), v),
            TableColumn::Bool(n, v) => Column::new(n.into(), v),
        }
    }
}

/// Every Parquet file's writer: Zstandard at its default level.
fn parquet_writer<W: std::io::Write>(w: W) -> ParquetWriter<W> {
    ParquetWriter::new(w).with_compression(PARQUET_COMPRESSION)
}

/// Zstandard at its default level.
const PARQUET_COMPRESSION: ParquetCompression = ParquetCompression::Zstd(None);

/// Writes a Parquet file from columns of equal length.
pub fn write_parquet(out: &mut OutDir, name: &str, height: usize, columns: Vec<TableColumn<'_>>) -> Result<()> {
    let columns: Vec<Column> = columns.into_iter().map(TableColumn::into_column).collect();
    let df = DataFrame::new(height, columns).map_err(|e| Error::Internal(format!("building {name}: {e}")))?;
    let err = |e: PolarsError| Error::Internal(format!("writing {name}: {e}"));
    out.write(name, |w| {
        // The row groups polars' `ParquetWriter::finish` cuts, each written by `write_group`.
        let mut writer = parquet_writer(w).batched(df.schema()).map_err(err)?;
        for rows in row_groups(height) {
            write_group(&mut writer, &df.slice(rows.start as i64, rows.len())).map_err(err)?;
        }
        writer.finish().map(|_| ()).map_err(err)
    })
}

/// Rows per row group of a Parquet file: polars' default (its `ParquetWriter::finish`
/// cuts a frame of `height` rows into `height / ROW_GROUP` groups of equal size, the last
/// taking the remainder).
const ROW_GROUP: usize = 512 * 512;

/// The row groups polars' `ParquetWriter::finish` makes of `height` rows (polars-core's
/// `chunk_df_for_writing` and `split_impl`): one group up to twice [`ROW_GROUP`] rows,
/// else `height / ROW_GROUP` groups of `height / groups` rows, the last taking the rest.
fn row_groups(height: usize) -> Vec<std::ops::Range<usize>> {
    let groups = height / ROW_GROUP;
    if groups <= 1 {
        return std::iter::once(0..height).collect();
    }
    let size = height / groups;
    (0..groups)
        .map(|g| g * size..if g + 1 == groups { height } else { (g + 1) * size })
        .collect()
}

/// Writes a large Parquet file row group by row group: `columns(rows)` gives the columns of
/// those rows, so that only one group's columns are ever in memory. The file is the one
/// [`write_parquet`] writes from the whole table (the same row groups).
pub fn write_parquet_groups<'a>(
    out: &mut OutDir,
    name: &str,
    height: usize,
    columns: impl Fn(std::ops::Range<usize>) -> Vec<TableColumn<'a>>,
) -> Result<()> {
    let groups = row_groups(height);
    if groups.len() == 1 {
        return write_parquet(out, name, height, columns(0..height));
    }
    let err = |e: PolarsError| Error::Internal(format!("writing {name}: {e}"));
    let frame = |rows: std::ops::Range<usize>| -> Result<DataFrame> {
        let n = rows.len();
        DataFrame::new(n, columns(rows).into_iter().map(TableColumn::into_column).collect())
            .map_err(|e| Error::Internal(format!("building {name}: {e}")))
    };
    out.write(name, |w| {
        // The schema comes with the first group's frame.
        let first = frame(groups[0].clone())?;
        let mut writer = parquet_writer(w).batched(first.schema()).map_err(err)?;
        write_group(&mut writer, &first).map_err(err)?;
        drop(first);
        for rows in &groups[1..] {
            write_group(&mut writer, &frame(rows.clone())?).map_err(err)?;
        }
        writer.finish().map(|_| ()).map_err(err)
    })
}

/// Writes a frame of one chunk as one row group, as polars' `BatchedWriter::write_batch`
/// writes it (its columns' pages made by polars-parquet's `array_to_columns` with the
/// encodings polars chooses, then compressed), but with every column's pages encoded and
/// compressed in parallel: polars compresses the pages one column after another on the
/// thread that writes the file.
fn write_group<W: Write>(
    writer: &mut polars::io::parquet::write::BatchedWriter<W>,
    frame: &DataFrame,
) -> PolarsResult<()> {
    use polars_parquet::write::{array_to_columns, compress, CompressionOptions, Version, WriteOptions};
    // Those of `parquet_writer`, as polars' `ParquetWriter` turns them into page options.
    let options = WriteOptions {
        statistics: StatisticsOptions::default(),
        compression: CompressionOptions::from(PARQUET_COMPRESSION),
        version: Version::V1,
        data_page_size: None,
    };
    let fields = writer.parquet_schema().fields().to_vec();
    for batch in frame.iter_chunks(CompatLevel::newest(), false) {
        if batch.is_empty() {
            continue;
        }
        let columns = batch
            .columns()
            .par_iter()
            .zip(&fields)
            .map(|(array, field)| {
                let encoding = polars_parquet::arrow::write::get_dtype_encoding(array.dtype());
                let leaves = array_to_columns(array, field.clone(), options, &encoding)?;
                leaves
                    .into_iter()
                    .map(|pages| {
                        pages
                            .map(|page| Ok(compress(page?, Vec::new(), options.compression)?))
                            .collect::<PolarsResult<Vec<_>>>()
                    })
                    .collect::<PolarsResult<Vec<_>>>()
            })
            .collect::<PolarsResult<Vec<_>>>()?;
        let columns: Vec<Vec<_>> = columns.into_iter().flatten().collect();
        writer.write_row_group(batch.len() as u64, &columns)?;
    }
    Ok(())
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

/// The fields of one CSV row, written straight into the block's text (no string per field):
/// numbers as [`crate::outputs::fmt_full`] and [`crate::outputs::fmt_num`] format them, text as
/// the `csv` crate's writer writes it with its defaults (quoted where it holds a comma, a
/// quote, a carriage return or a line feed, quotes doubled; records ended by a line feed; a
/// record of one empty field as `""`; every record as many fields as the first).
pub struct Fields<'w> {
    out: &'w mut Vec<u8>,
    full: crate::outputs::FullText,
    /// Storage for a rounded number's text.
    text: String,
    /// Fields in this record so far, its first byte's place, and the first record's count.
    fields: usize,
    record_start: usize,
    first_count: Option<usize>,
}

impl Fields<'_> {
    fn new(out: &mut Vec<u8>) -> Fields<'_> {
        Fields {
            out,
            full: Default::default(),
            text: String::new(),
            fields: 0,
            record_start: 0,
            first_count: None,
        }
    }

    /// Starts a field: the comma before every field but the record's first.
    fn start(&mut self) {
        if self.fields > 0 {
            self.out.push(b',');
        }
        self.fields += 1;
    }

    /// A field whose bytes need no quotes (numbers).
    fn plain(&mut self, bytes: &[u8]) {
        self.start();
        self.out.extend_from_slice(bytes);
    }

    pub fn text(&mut self, s: &str) {
        let bytes = s.as_bytes();
        if !bytes.iter().any(|&b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
            self.plain(bytes);
            return;
        }
        self.start();
        self.out.push(b'"');
        for &b in bytes {
            if b == b'"' {
                self.out.push(b'"');
            }
            self.out.push(b);
        }
        self.out.push(b'"');
    }

    /// A number at full precision (the text of [`crate::outputs::fmt_full`]).
    pub fn full(&mut self, x: Option<f64>) {
        self.start();
        let text = self.full.format(x);
        self.out.extend_from_slice(text.as_bytes());
    }

    /// A rounded number (the text of [`crate::outputs::fmt_num`]).
    pub fn num(&mut self, x: Option<f64>, decimals: i32) {
        self.text.clear();
        crate::outputs::push_num(&mut self.text, x, decimals);
        let text = std::mem::take(&mut self.text);
        self.plain(text.as_bytes());
        self.text = text;
    }

    /// Ends the record; an error when it has another number of fields than the first.
    fn end(&mut self) -> std::result::Result<(), String> {
        if self.out.len() == self.record_start {
            // One empty field (or none): written as `""`, so that the line is not blank.
            self.out.extend_from_slice(b"\"\"");
        }
        self.out.push(b'\n');
        let count = self.fields;
        self.fields = 0;
        self.record_start = self.out.len();
        match *self.first_count.get_or_insert(count) {
            first if first == count => Ok(()),
            first => Err(format!(
                "found record with {count} fields, but the previous record has {first} fields"
            )),
        }
    }
}

/// Writes a large CSV whose row `n` is written by `row(n, fields)`: rows are formatted in
/// parallel in blocks, and the blocks written in order.
pub fn write_csv_rows(
    out: &mut OutDir,
    name: &str,
    header: &[&str],
    height: usize,
    row: impl Fn(usize, &mut Fields) + Sync,
) -> Result<()> {
    const BLOCK: usize = 65_536;
    let err = |e: csv::Error| Error::Internal(format!("writing {name}: {e}"));
    out.write(name, |w| {
        let mut head = csv::Writer::from_writer(Vec::new());
        head.write_record(header).map_err(err)?;
        w.write_all(&head.into_inner().map_err(|e| Error::Internal(e.to_string()))?)
            .map_err(|e| Error::io(format!("writing {name}"), e))?;
        let io = |e: std::io::Error| Error::io(format!("writing {name}"), e);
        // Batches of blocks formatted in parallel while the batch before is written.
        let mut pending: Vec<Vec<u8>> = Vec::new();
        for start in (0..height).step_by(BLOCK * 8) {
            let format = || -> Result<Vec<Vec<u8>>> {
                (start..(start + BLOCK * 8).min(height))
                    .step_by(BLOCK)
                    .collect::<Vec<_>>()
                    .into_par_iter()
                    .map(|b| -> Result<Vec<u8>> {
                        let mut text = Vec::new();
                        let mut fields = Fields::new(&mut text);
                        for n in b..(b + BLOCK).min(height) {
                            row(n, &mut fields);
                            fields
                                .end()
                                .map_err(|e| Error::Internal(format!("writing {name}: {e}")))?;
                        }
                        Ok(text)
                    })
                    .collect::<Result<_>>()
            };
            let previous = std::mem::take(&mut pending);
            let (written, blocks) = rayon::join(|| previous.iter().try_for_each(|b| w.write_all(b)), format);
            written.map_err(io)?;
            pending = blocks?;
        }
        pending.iter().try_for_each(|b| w.write_all(b)).map_err(io)
    })
}

/// Text, number and true/false columns read from a Parquet file.
pub type ParquetColumns = (Vec<Vec<String>>, Vec<Vec<f64>>, Vec<Vec<bool>>);

/// Reads columns of a Parquet file this program wrote: text columns as strings, the others
/// as f64 or bool, by name. A missing column or another type is an input error.
pub fn read_parquet_columns(
    path: &std::path::Path,
    text: &[&str],
    floats: &[&str],
    bools: &[&str],
) -> Result<ParquetColumns> {
    let name = path.display().to_string();
    let bad = |m: String| Error::input(&name, crate::error::Location::File, m);
    let file = std::fs::File::open(path).map_err(|e| Error::io(format!("cannot read {name}"), e))?;
    let df = ParquetReader::new(file)
        .finish()
        .map_err(|e| bad(format!("not a readable Parquet file: {e}")))?;
    let column = |c: &str| df.column(c).map_err(|_| bad(format!("no column '{c}'")));
    let t = text
        .iter()
        .map(|c| {
            let col = column(c)?;
            let s = col.str().map_err(|_| bad(format!("column '{c}' is not text")))?;
            Ok((0..s.len()).map(|i| s.get(i).unwrap_or("").to_string()).collect())
        })
        .collect::<Result<Vec<Vec<String>>>>()?;
    let f = floats
        .iter()
        .map(|c| {
            let col = column(c)?;
            let s = col.f64().map_err(|_| bad(format!("column '{c}' is not a number")))?;
            Ok((0..s.len()).map(|i| s.get(i).unwrap_or(f64::NAN)).collect())
        })
        .collect::<Result<Vec<Vec<f64>>>>()?;
    let b = bools
        .iter()
        .map(|c| {
            let col = column(c)?;
            let s = col.bool().map_err(|_| bad(format!("column '{c}' is not true/false")))?;
            Ok((0..s.len()).map(|i| s.get(i).unwrap_or(false)).collect())
        })
        .collect::<Result<Vec<Vec<bool>>>>()?;
    Ok((t, f, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One field of a test row: text, a full-precision number or a rounded one.
    #[derive(Debug, Clone)]
    enum Field {
        Text(String),
        Full(Option<f64>),
        Num(Option<f64>, i32),
    }

    /// `rows` through [`Fields`] and through the `csv` crate's writer (fields as
    /// `fmt_full` and `fmt_num` format them).
    fn both(
        rows: &[Vec<Field>],
    ) -> (
        std::result::Result<Vec<u8>, String>,
        std::result::Result<Vec<u8>, String>,
    ) {
        let mut text = Vec::new();
        let mut fields = Fields::new(&mut text);
        let mut ours = Ok(());
        for row in rows {
            for f in row {
                match f {
                    Field::Text(s) => fields.text(s),
                    Field::Full(x) => fields.full(*x),
                    Field::Num(x, d) => fields.num(*x, *d),
                }
            }
            ours = ours.and(fields.end());
        }
        let mut csv = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
        let mut theirs = Ok(());
        for row in rows {
            let mut record = Ok(());
            for f in row {
                let text = match f {
                    Field::Text(s) => s.clone(),
                    Field::Full(x) => crate::outputs::fmt_full(*x),
                    Field::Num(x, d) => crate::outputs::fmt_num(*x, *d),
                };
                record = record.and(csv.write_field(text));
            }
            theirs = theirs.and(record).and(csv.write_record(None::<&[u8]>));
        }
        let theirs = theirs.map_err(|e| e.to_string()).map(|_| csv.into_inner().unwrap());
        (ours.map(|_| text), theirs)
    }

    #[test]
    fn fields_are_written_as_the_csv_crate_writes_them() {
        let t = |s: &str| Field::Text(s.to_string());
        let rows = vec![
            vec![
                t("cell"),
                t("5339-45-97"),
                Field::Full(Some(0.000_012_5)),
                Field::Num(Some(2.5), 1),
            ],
            vec![t("a,b"), t("say \"hi\""), Field::Full(None), Field::Num(None, 3)],
            vec![
                t("line\nbreak"),
                t("cr\rhere"),
                Field::Full(Some(-0.0)),
                Field::Num(Some(1234.5678), 2),
            ],
            vec![
                t(""),
                t("東京都"),
                Field::Full(Some(1.5e-7)),
                Field::Num(Some(-0.04), 1),
            ],
        ];
        let (ours, theirs) = both(&rows);
        assert_eq!(ours, theirs);
        assert_eq!(
            String::from_utf8(ours.unwrap()).unwrap(),
            "cell,5339-45-97,0.0000125,2.5\n\"a,b\",\"say \"\"hi\"\"\",,\n\"line\nbreak\",\"cr\rhere\",0,1234.57\n,東京都,1.5e-7,0\n"
        );
        // A record of one empty field is `""`, not a blank line.
        let (ours, theirs) = both(&[vec![t("")], vec![t("x")]]);
        assert_eq!(ours, theirs);
        assert_eq!(ours.unwrap(), b"\"\"\nx\n");
        // Records of unequal length are an error, as the csv writer's.
        let (ours, theirs) = both(&[vec![t("a"), t("b")], vec![t("c")]]);
        assert!(ours.is_err() && theirs.is_err());
    }

    proptest::proptest! {
        /// Any rows of text (with the bytes that need quotes), numbers and rounded numbers
        /// are the bytes the csv writer writes.
        #[test]
        fn fields_match_the_csv_writer(
            cells in proptest::collection::vec(
                (0u8..3, "[a-z,\"\r\n 東]{0,6}", proptest::num::f64::ANY, 0i32..7),
                1..5,
            ),
            rows in 1usize..4,
        ) {
            let row: Vec<Field> = cells
                .iter()
                .map(|(kind, text, x, d)| match kind {
                    0 => Field::Text(text.clone()),
                    1 => Field::Full(Some(*x)),
                    _ => Field::Num(Some(*x), *d),
                })
                .collect();
            let (ours, theirs) = both(&vec![row; rows]);
            proptest::prop_assert_eq!(ours, theirs);
        }
    }

    #[test]
    fn row_groups_are_those_polars_cuts() {
        // Up to twice 262,144 rows: one group.
        assert_eq!(row_groups(0), vec![0..0]);
        assert_eq!(row_groups(524_287), vec![0..524_287]);
        // 524,288 rows: two groups of 262,144.
        assert_eq!(row_groups(524_288), vec![0..262_144, 262_144..524_288]);
        // The national access table: 4,341,329 rows / 262,144 = 16 groups of 271,333 rows
        // (4,341,329 / 16, rounded down), the last taking the 271,334 left.
        let g = row_groups(4_341_329);
        assert_eq!(g.len(), 16);
        assert_eq!(g[0], 0..271_333);
        assert_eq!(g[15], 4_069_995..4_341_329);
        assert!(g.windows(2).all(|w| w[0].end == w[1].start));
    }

    /// A table written group by group is, byte for byte, the file polars writes from the
    /// whole table.
    #[test]
    fn groups_make_the_same_file_as_the_whole_table() {
        let height = 600_000;
        let names = ["alpha", "a name longer than twelve bytes", "c"];
        let columns = |rows: std::ops::Range<usize>| {
            vec![
                TableColumn::Str("name", rows.clone().map(|i| names[i % 3]).collect()),
                TableColumn::Float(
                    "value".into(),
                    rows.clone().map(|i| (i % 7 != 0).then(|| i as f64 / 3.0)).collect(),
                ),
                TableColumn::Bool("odd".into(), rows.map(|i| i % 2 == 1).collect()),
            ]
        };
        let dir = tempfile::tempdir().unwrap();
        let (whole, grouped) = (dir.path().join("whole"), dir.path().join("grouped"));
        let mut out = OutDir::create(&whole).unwrap();
        write_parquet(&mut out, "t.parquet", height, columns(0..height)).unwrap();
        out.commit().unwrap();
        let mut out = OutDir::create(&grouped).unwrap();
        write_parquet_groups(&mut out, "t.parquet", height, columns).unwrap();
        out.commit().unwrap();
        let a = std::fs::read(whole.join("t.parquet")).unwrap();
        let b = std::fs::read(grouped.join("t.parquet")).unwrap();
        assert!(a == b, "{} bytes against {} bytes", a.len(), b.len());
        // Both are the file polars' own writer makes of the whole table (its row groups, its
        // pages, compressed one column after another).
        let theirs = polars_file(height, columns(0..height));
        assert!(theirs == a, "polars: {} bytes, ours: {} bytes", theirs.len(), a.len());
        let (_, floats, _) = read_parquet_columns(&grouped.join("t.parquet"), &[], &["value"], &[]).unwrap();
        assert_eq!(floats[0].len(), height);
        assert_eq!(floats[0][599_999], 599_999.0 / 3.0);
    }

    /// The file polars' own `ParquetWriter::finish` makes of a table.
    fn polars_file(height: usize, columns: Vec<TableColumn<'_>>) -> Vec<u8> {
        let mut df = DataFrame::new(height, columns.into_iter().map(TableColumn::into_column).collect()).unwrap();
        let mut bytes = Vec::new();
        parquet_writer(&mut bytes).finish(&mut df).unwrap();
        bytes
    }

    /// Tables of one row group and none, with text, numbers, gaps and flags: the files
    /// polars' writer makes.
    #[test]
    fn small_tables_are_the_files_polars_writes() {
        for height in [0, 1, 7, 5_000] {
            let columns = || {
                vec![
                    TableColumn::Text("code", (0..height).map(|i| format!("{:05}", i * 37)).collect()),
                    TableColumn::Float(
                        "share".into(),
                        (0..height).map(|i| (i % 3 != 1).then_some(i as f64 * 0.1)).collect(),
                    ),
                    TableColumn::Bool("flag".into(), (0..height).map(|i| i % 5 == 0).collect()),
                ]
            };
            let dir = tempfile::tempdir().unwrap();
            let mut out = OutDir::create(dir.path()).unwrap();
            write_parquet(&mut out, "t.parquet", height, columns()).unwrap();
            out.commit().unwrap();
            let ours = std::fs::read(dir.path().join("t.parquet")).unwrap();
            assert!(ours == polars_file(height, columns()), "{height} rows");
        }
    }
}
