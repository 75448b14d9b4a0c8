//! GeoJSON writing (RFC 7946): WGS84 lon/lat, exterior rings counter-clockwise, one
//! FeatureCollection per file, properties in a fixed order.

use crate::error::{Error, Result};
use crate::outputs::{gpkg, styles, OutDir};
use geo::{LineString, MultiPolygon, Polygon};
use rayon::prelude::*;
use serde_json::{Map, Value};
use std::io::Write;

/// The geometry of a feature to write: borrowed from the study where it lives there.
pub enum OutGeometry<'a> {
    MultiPolygon(&'a MultiPolygon<f64>),
    Polygon(Polygon<f64>),
    /// lon, lat.
    Point(f64, f64),
}

/// A feature to write: its geometry and its properties in order.
pub struct OutFeature<'a> {
    pub geometry: OutGeometry<'a>,
    pub properties: Map<String, Value>,
}

/// A number as serde_json writes an `f64`: Żmij's shortest text when finite (serde_json's
/// own formatter calls it), else `null`; without serde_json's writer around each number
/// (the outlines' coordinates are millions).
fn push_f64(buf: &mut Vec<u8>, digits: &mut zmij::Buffer, x: f64) {
    if x.is_finite() {
        buf.extend_from_slice(digits.format_finite(x).as_bytes());
    } else {
        buf.extend_from_slice(b"null");
    }
}

/// Writes `{"type":"Feature","geometry":...,"properties":` straight from geo's types,
/// numbers formatted as serde_json formats them; the properties and the closing brace follow.
fn write_feature_start(buf: &mut Vec<u8>, geometry: &OutGeometry) -> serde_json::Result<()> {
    fn ring(buf: &mut Vec<u8>, ring: &LineString<f64>) -> serde_json::Result<()> {
        let mut digits = zmij::Buffer::new();
        buf.push(b'[');
        for (i, c) in ring.0.iter().enumerate() {
            if i > 0 {
                buf.push(b',');
            }
            buf.push(b'[');
            push_f64(buf, &mut digits, c.x);
            buf.push(b',');
            push_f64(buf, &mut digits, c.y);
            buf.push(b']');
        }
        buf.push(b']');
        Ok(())
    }
    fn polygon(buf: &mut Vec<u8>, p: &Polygon<f64>) -> serde_json::Result<()> {
        buf.push(b'[');
        ring(buf, p.exterior())?;
        for hole in p.interiors() {
            buf.push(b',');
            ring(buf, hole)?;
        }
        buf.push(b']');
        Ok(())
    }
    buf.extend_from_slice(b"{\"type\":\"Feature\",\"geometry\":");
    match geometry {
        OutGeometry::Point(x, y) => {
            buf.extend_from_slice(b"{\"type\":\"Point\",\"coordinates\":[");
            serde_json::to_writer(&mut *buf, x)?;
            buf.push(b',');
            serde_json::to_writer(&mut *buf, y)?;
            buf.push(b']');
        }
        OutGeometry::Polygon(p) => {
            buf.extend_from_slice(b"{\"type\":\"Polygon\",\"coordinates\":");
            polygon(buf, p)?;
        }
        OutGeometry::MultiPolygon(mp) => {
            buf.extend_from_slice(b"{\"type\":\"MultiPolygon\",\"coordinates\":[");
            for (i, p) in mp.0.iter().enumerate() {
                if i > 0 {
                    buf.push(b',');
                }
                polygon(buf, p)?;
            }
            buf.push(b']');
        }
    }
    buf.extend_from_slice(b"},\"properties\":");
    Ok(())
}

/// A number property at full precision (the shortest text that reads back as the same
/// `f64`); `null` for `None` or a non-finite value.
pub fn num_full(x: Option<f64>) -> Value {
    match x {
        Some(v) if v.is_finite() => serde_json::Number::from_f64(if v == 0.0 { 0.0 } else { v })
            .map(Value::Number)
            .unwrap_or(Value::Null),
        _ => Value::Null,
    }
}

/// A number property, rounded; `null` for `None` or a non-finite value.
pub fn num(x: Option<f64>, decimals: i32) -> Value {
    match x {
        Some(v) if v.is_finite() => serde_json::Number::from_f64(crate::outputs::round(v, decimals))
            .map(Value::Number)
            .unwrap_or(Value::Null),
        _ => Value::Null,
    }
}

/// The properties of a layer's features: each feature's own map, or one list of keys and
/// each feature's values in that order (the same text, without a map per feature).
pub enum Properties {
    Maps(Vec<Map<String, Value>>),
    Table { keys: Vec<String>, rows: Vec<Vec<Value>> },
}

impl Properties {
    fn len(&self) -> usize {
        match self {
            Properties::Maps(maps) => maps.len(),
            Properties::Table { rows, .. } => rows.len(),
        }
    }

    /// Writes feature `i`'s properties as serde_json writes a map: `{"key":value,...}`.
    /// `keys` holds the table's keys already written as JSON strings.
    fn write(&self, i: usize, keys: &[Vec<u8>], buf: &mut Vec<u8>) -> serde_json::Result<()> {
        match self {
            Properties::Maps(maps) => serde_json::to_writer(&mut *buf, &maps[i]),
            Properties::Table { rows, .. } => {
                buf.push(b'{');
                for (k, (key, value)) in keys.iter().zip(&rows[i]).enumerate() {
                    if k > 0 {
                        buf.push(b',');
                    }
                    buf.extend_from_slice(key);
                    buf.push(b':');
                    serde_json::to_writer(&mut *buf, value)?;
                }
                buf.push(b'}');
                Ok(())
            }
        }
    }

    /// The value of `column` for every feature that has it.
    fn column<'p>(&'p self, column: &str) -> Box<dyn Iterator<Item = &'p Value> + 'p> {
        match self {
            Properties::Maps(maps) => {
                let column = column.to_string();
                Box::new(maps.iter().filter_map(move |m| m.get(&column)))
            }
            Properties::Table { keys, rows } => match keys.iter().position(|k| k == column) {
                Some(c) => Box::new(rows.iter().map(move |r| &r[c])),
                None => Box::new(std::iter::empty()),
            },
        }
    }

    /// The layer's columns: every key in first-seen order, typed by its values.
    fn columns(&self) -> Vec<(String, gpkg::ColumnType)> {
        match self {
            Properties::Maps(maps) => gpkg::columns_of(maps.iter()),
            Properties::Table { keys, rows } => {
                let types = (0..keys.len()).map(|c| gpkg::column_type(rows.iter().map(|r| &r[c])));
                keys.iter().cloned().zip(types).collect()
            }
        }
    }

    /// Each feature's values in column order.
    fn into_values(self, columns: &[(String, gpkg::ColumnType)]) -> Vec<Vec<Value>> {
        match self {
            Properties::Maps(maps) => maps.into_par_iter().map(|m| gpkg::take_values(m, columns)).collect(),
            Properties::Table { rows, .. } => rows,
        }
    }
}

/// Features encoded at a time, at most.
const BATCH: usize = 16_384;

/// Coordinates encoded at a time, about: a batch closes once its features hold this many.
const BATCH_POINTS: usize = 1 << 19;

/// The points of a geometry, every ring's closing point counted.
fn points(g: &OutGeometry) -> usize {
    let rings = |p: &Polygon<f64>| p.exterior().0.len() + p.interiors().iter().map(|r| r.0.len()).sum::<usize>();
    match g {
        OutGeometry::MultiPolygon(mp) => mp.0.iter().map(rings).sum(),
        OutGeometry::Polygon(p) => rings(p),
        OutGeometry::Point(..) => 1,
    }
}

/// Bytes a feature's line is made in at first. A point, `[x,y],`, takes at most 42 bytes
/// at full precision (17 significant digits, a sign and a decimal point on each side), and
/// about 25 on outlines snapped to 1e-7 degrees; properties take a few hundred. Grown from
/// nothing by doubling, a large outline's line was copied again at every doubling.
fn line_capacity(g: &OutGeometry) -> usize {
    points(g) * 40 + 512
}

/// The features in batches of consecutive indexes, each of at most [`BATCH`] features and
/// about [`BATCH_POINTS`] coordinates (a few large outlines make a batch of their own).
fn batches(geometries: &[OutGeometry]) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let (mut start, mut sum) = (0, 0);
    for (i, g) in geometries.iter().enumerate() {
        sum += points(g);
        if sum >= BATCH_POINTS || i + 1 - start >= BATCH {
            out.push(start..i + 1);
            (start, sum) = (i + 1, 0);
        }
    }
    if start < geometries.len() {
        out.push(start..geometries.len());
    }
    out
}

/// Writes a FeatureCollection, one feature per line so that large files stream and diff
/// well. Features are serialised in parallel, in order, and written in order. A layer with a
/// style of its own gets `<layer>.qml` beside it (QGIS loads it as the default style), and
/// when `out` keeps layers the features also go into its GeoPackage.
pub fn write_feature_collection(out: &mut OutDir, name: &str, features: Vec<OutFeature>) -> Result<()> {
    let (geometries, maps) = features.into_iter().map(|f| (f.geometry, f.properties)).unzip();
    write_layer(out, name, geometries, Properties::Maps(maps))
}

/// [`write_feature_collection`] for features whose properties are `keys` with the values in
/// `rows` (a row per feature, in the keys' order): the same file.
pub fn write_feature_table(
    out: &mut OutDir,
    name: &str,
    keys: Vec<String>,
    features: Vec<(OutGeometry, Vec<Value>)>,
) -> Result<()> {
    let (geometries, rows) = features.into_iter().unzip();
    write_layer(out, name, geometries, Properties::Table { keys, rows })
}

fn write_layer(out: &mut OutDir, name: &str, geometries: Vec<OutGeometry>, properties: Properties) -> Result<()> {
    debug_assert_eq!(geometries.len(), properties.len());
    let keep = out.keeps_layers();
    let fail = |e: serde_json::Error| Error::Internal(format!("writing {name}: {e}"));
    let keys: Vec<Vec<u8>> = match &properties {
        Properties::Table { keys, .. } => keys
            .iter()
            .map(|k| serde_json::to_vec(k).map_err(fail))
            .collect::<Result<_>>()?,
        Properties::Maps(_) => Vec::new(),
    };
    // Features are encoded in parallel batches, each written before the next is made, so
    // that a large layer's text never sits in memory whole; the GeoPackage blobs are kept.
    type Blob = (Vec<u8>, Option<[f64; 4]>);
    let mut blobs: Vec<Blob> = Vec::new();
    out.write(name, |w| {
        let io = |e: std::io::Error| Error::io(format!("writing {name}"), e);
        w.write_all(b"{\"type\":\"FeatureCollection\",\"features\":[\n")
            .map_err(io)?;
        let encode = |range: std::ops::Range<usize>| -> Result<Vec<(Vec<u8>, Option<Blob>)>> {
            range
                .into_par_iter()
                .map(|i| {
                    let geometry = &geometries[i];
                    let mut buf = Vec::with_capacity(line_capacity(geometry));
                    if i > 0 {
                        buf.extend_from_slice(b",\n");
                    }
                    write_feature_start(&mut buf, geometry).map_err(fail)?;
                    properties.write(i, &keys, &mut buf).map_err(fail)?;
                    buf.push(b'}');
                    let blob = if keep {
                        Some(gpkg::geometry_blob(geometry)?)
                    } else {
                        None
                    };
                    Ok((buf, blob))
                })
                .collect()
        };
        // A batch's lines go to the file, its GeoPackage blobs are kept.
        let write = |w: &mut dyn Write, blobs: &mut Vec<Blob>, batch: Vec<(Vec<u8>, Option<Blob>)>| {
            batch.into_iter().try_for_each(|(line, blob)| {
                blobs.extend(blob);
                w.write_all(&line)
            })
        };
        // Each batch is encoded while the one before it is written.
        let mut pending: Vec<(Vec<u8>, Option<Blob>)> = Vec::new();
        for range in batches(&geometries) {
            let previous = std::mem::take(&mut pending);
            let (written, encoded) = rayon::join(|| write(&mut *w, &mut blobs, previous), || encode(range));
            written.map_err(io)?;
            pending = encoded?;
        }
        write(&mut *w, &mut blobs, pending).map_err(io)?;
        w.write_all(b"\n]}\n").map_err(io)
    })?;

    let table = name.strip_suffix(".geojson").unwrap_or(name);
    let columns = properties.columns();
    let distinct = |column: &str| {
        let mut seen: Vec<String> = Vec::new();
        for v in properties.column(column) {
            if let Value::String(v) = v {
                if !seen.contains(v) {
                    seen.push(v.clone());
                }
            }
        }
        seen
    };
    let max_abs = |column: &str| {
        properties
            .column(column)
            .filter_map(Value::as_f64)
            .fold(0.0f64, |m, v| m.max(v.abs()))
    };
    let values = styles::LayerValues {
        distinct: &distinct,
        max_abs: &max_abs,
    };
    let styles = styles::for_layer(table, &columns, &values);
    if let Some(default) = styles.iter().find(|s| s.default) {
        out.write_bytes(&format!("{table}.qml"), default.qml.as_bytes())?;
    }
    if keep {
        let geometry_type = gpkg::geometry_type_of(&geometries);
        // The features are not needed any more: their values move into the rows.
        let values = properties.into_values(&columns);
        let mut bbox = None;
        let mut boxes = Vec::with_capacity(values.len());
        let mut rows = Vec::with_capacity(values.len());
        for ((geometry, b), values) in blobs.into_iter().zip(values) {
            bbox = gpkg::union_bbox(bbox, b);
            boxes.push(b);
            rows.push(gpkg::Row { geometry, values });
        }
        out.keep_layer(gpkg::Layer {
            table: table.to_string(),
            geometry_type,
            columns,
            rows,
            bbox,
            boxes,
            styles,
        })?;
    }
    Ok(())
}

/// Writes a layer of the study's municipal polygons with `code, name, prefecture` and the
/// properties `fill` adds for municipality `m`.
pub fn write_municipality_layer(
    out: &mut OutDir,
    name: &str,
    study: &crate::study::Study,
    fill: impl Fn(usize, &mut Map<String, Value>),
) -> Result<()> {
    let areas = study
        .municipalities
        .iter()
        .map(|m| (m.code.as_str(), m.name.as_str(), m.prefecture.as_str(), &m.geometry));
    write_area_layer(out, name, areas, fill)
}

/// Writes a layer of polygons given as (code, name, prefecture, geometry) with those three
/// properties and the ones `fill` adds for the `k`-th.
pub fn write_area_layer<'a>(
    out: &mut OutDir,
    name: &str,
    areas: impl Iterator<Item = (&'a str, &'a str, &'a str, &'a MultiPolygon<f64>)>,
    fill: impl Fn(usize, &mut Map<String, Value>),
) -> Result<()> {
    let features = areas
        .enumerate()
        .map(|(k, (code, area_name, prefecture, geometry))| {
            let mut p = Map::new();
            p.insert("code".into(), Value::from(code));
            p.insert("name".into(), Value::from(area_name));
            p.insert("prefecture".into(), Value::from(prefecture));
            fill(k, &mut p);
            OutFeature {
                geometry: OutGeometry::MultiPolygon(geometry),
                properties: p,
            }
        })
        .collect();
    write_feature_collection(out, name, features)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Numbers written as serde_json writes an `f64`, byte for byte: every bit pattern
    /// drawn (finite or not), whole numbers, signed zeros, the extremes, and coordinates
    /// snapped to 1e-7 degrees as outlines are.
    #[test]
    fn numbers_as_serde_json_writes_them() {
        let mut values = vec![0.0, -0.0, 1.0, -1.0, 1e22, 1e-7, 5e-324, f64::MAX, f64::MIN_POSITIVE];
        values.extend([f64::NAN, f64::INFINITY, f64::NEG_INFINITY]);
        use rand_core::Rng;
        let mut rng = rand_pcg::Pcg64Mcg::new(5);
        for k in 0..200_000 {
            let state = rng.next_u64();
            values.push(f64::from_bits(state));
            values.push((state >> 11) as f64 / (1u64 << 53) as f64 * 360.0 - 180.0);
            values.push((((state >> 11) % 1_800_000_000) as f64 * 1e-7 - 90.0).round());
            values.push(((state >> 11) % 1_800_000_000) as f64 * 1e-7 + f64::from(k % 3));
        }
        let (mut digits, mut buf) = (zmij::Buffer::new(), Vec::new());
        for x in values {
            buf.clear();
            push_f64(&mut buf, &mut digits, x);
            assert_eq!(
                String::from_utf8_lossy(&buf),
                serde_json::to_string(&x).unwrap(),
                "{x:e}"
            );
        }
    }

    #[test]
    fn batches_cover_every_feature_once_in_order_within_their_limits() {
        // An outline of `n` points.
        let outline = |n: usize| {
            let ring: LineString<f64> = (0..n).map(|k| (k as f64, (k % 2) as f64)).collect();
            MultiPolygon::new(vec![Polygon::new(ring, vec![])])
        };
        let big = outline(BATCH_POINTS + 10);
        let small = outline(100);
        // Points, then one outline larger than a batch, then many small ones.
        let mut geometries: Vec<OutGeometry> = (0..BATCH + 3).map(|k| OutGeometry::Point(k as f64, 0.0)).collect();
        geometries.push(OutGeometry::MultiPolygon(&big));
        geometries.extend((0..(BATCH_POINTS / 100) + 7).map(|_| OutGeometry::MultiPolygon(&small)));
        let got = batches(&geometries);
        // In order, no gap, no overlap, every feature.
        assert_eq!(got.first().map(|r| r.start), Some(0));
        assert_eq!(got.last().map(|r| r.end), Some(geometries.len()));
        assert!(got.windows(2).all(|w| w[0].end == w[1].start));
        // The first batch closes at the feature count; the large outline closes the next.
        assert_eq!(got[0], 0..BATCH);
        assert_eq!(got[1], BATCH..BATCH + 4);
        // A batch of small outlines closes once it holds BATCH_POINTS points: 101 each (the
        // ring of 100 points closed by its first).
        assert_eq!(got[2].len(), BATCH_POINTS.div_ceil(101));
        assert!(got.iter().all(|r| !r.is_empty() && r.len() <= BATCH));
        assert_eq!(batches(&[]), Vec::<std::ops::Range<usize>>::new());
    }
}
