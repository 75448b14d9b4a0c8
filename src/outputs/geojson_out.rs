//! GeoJSON writing (RFC 7946): WGS84 lon/lat, exterior rings counter-clockwise, one
//! FeatureCollection per file, properties in a fixed order.

use crate::error::{Error, Result};
use crate::outputs::OutDir;
use rayon::prelude::*;
use serde_json::{Map, Value};
use std::io::Write;

/// A feature to write: its geometry and its properties in order.
pub struct OutFeature {
    pub geometry: geo::Geometry<f64>,
    pub properties: Map<String, Value>,
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

/// Writes a FeatureCollection, one feature per line so that large files stream and diff
/// well. Features are serialised in parallel, in order, and written in order.
pub fn write_feature_collection(out: &mut OutDir, name: &str, features: Vec<OutFeature>) -> Result<()> {
    let lines: Vec<Vec<u8>> = features
        .into_par_iter()
        .map(|f| {
            let feature = geojson::Feature {
                bbox: None,
                geometry: Some(geojson::Geometry::from(&f.geometry)),
                id: None,
                properties: Some(f.properties),
                foreign_members: None,
            };
            serde_json::to_vec(&feature).map_err(|e| Error::Internal(format!("writing {name}: {e}")))
        })
        .collect::<Result<_>>()?;
    out.write(name, |w| {
        let io = |e: std::io::Error| Error::io(format!("writing {name}"), e);
        w.write_all(b"{\"type\":\"FeatureCollection\",\"features\":[\n")
            .map_err(io)?;
        for (i, line) in lines.iter().enumerate() {
            if i > 0 {
                w.write_all(b",\n").map_err(io)?;
            }
            w.write_all(line).map_err(io)?;
        }
        w.write_all(b"\n]}\n").map_err(io)
    })
}
