//! A synthetic road network over populated 1 km mesh cells, for benchmarks and for the demo
//! (SYNTHETIC: no real road is drawn). Every cell gets a lattice of K x K nodes (about
//! 1000 / K metres apart) and lattice neighbours are joined, across cell borders too: every
//! eighth line of nodes is a primary road (50 km/h), the others residential (25 km/h), and
//! every fifth residential east-west line is one-way eastbound. Cells on separate islands
//! stay separate parts. Edges are timed on the ellipsoid; nodes are numbered along a Z-order
//! curve, as `zaitaku network build` numbers them, and the contraction hierarchy is built.

use super::{Graph, GraphInfo};
use crate::reach::straight::ellipsoid_m;
use std::collections::HashMap;

/// The lattice over the 1 km cells of `codes` (8-digit mesh codes; longer codes are read by
/// their 1 km cell, other strings skipped), `k` nodes a side per cell; `source` describes it.
pub fn lattice<'a>(codes: impl IntoIterator<Item = &'a str>, k: i64, source: &str) -> Graph {
    let mut keys: Vec<(i64, i64)> = Vec::new();
    for code in codes {
        let Some(code) = code.get(..8).filter(|c| c.bytes().all(|b| b.is_ascii_digit())) else {
            continue;
        };
        let d = |a: usize, b: usize| code[a..b].parse::<i64>().unwrap_or(0);
        let (p, u, q, v, r, w) = (d(0, 2), d(2, 4), d(4, 5), d(5, 6), d(6, 7), d(7, 8));
        // Lattice coordinates in units of 1/(80k) degree of longitude and 1/(120k) of latitude.
        let (cx, cy) = (u * 80 + v * 10 + w, p * 80 + q * 10 + r);
        for i in 0..k {
            for j in 0..k {
                keys.push((cx * k + i, cy * k + j));
            }
        }
    }
    keys.sort_unstable();
    keys.dedup();
    let index: HashMap<(i64, i64), u32> = keys.iter().enumerate().map(|(n, &key)| (key, n as u32)).collect();
    let coord = |(x, y): (i64, i64)| {
        let lon = 100.0 + (x as f64 + 0.5) / (80.0 * k as f64);
        let lat = (y as f64 + 0.5) / (120.0 * k as f64);
        (lon, lat)
    };
    let mut edges: Vec<(u32, u32, u32)> = Vec::new();
    for (&(x, y), a) in keys.iter().zip(0u32..) {
        for (dx, dy) in [(1, 0), (0, 1)] {
            let Some(&b) = index.get(&(x + dx, y + dy)) else {
                continue;
            };
            // East-west edges lie on line y, north-south ones on line x.
            let line = if dx == 1 { y } else { x };
            let primary = line % 8 == 0;
            let kmh = if primary { 50.0 } else { 25.0 };
            let metres = ellipsoid_m(coord((x, y)), coord((x + dx, y + dy)));
            let t = (metres / (kmh / 3.6) * 10.0).round().max(1.0) as u32;
            edges.push((a, b, t));
            if !(dx == 1 && !primary && y % 5 == 0) {
                edges.push((b, a, t));
            }
        }
    }
    edges.sort_unstable();
    let n = keys.len();
    let mut first_out = vec![0u32; n + 1];
    for e in &edges {
        first_out[e.0 as usize + 1] += 1;
    }
    for v in 0..n {
        first_out[v + 1] += first_out[v];
    }
    let to_e7 = |x: f64| (x * 1e7).round() as i32;
    Graph {
        info: GraphInfo {
            source: format!("SYNTHETIC lattice, {k} x {k} nodes per populated 1 km cell of {source}"),
            source_sha256: String::new(),
            zaitaku_version: env!("CARGO_PKG_VERSION").to_string(),
            speeds_kmh: vec![("primary".into(), 50.0), ("residential".into(), 25.0)],
            ways_by_class: vec![],
            ways_left_out: vec![],
            nodes_before: n as u64,
            edges_before: edges.len() as u64,
            components_dropped: 0,
            nodes_dropped: 0,
        },
        lat: keys.iter().map(|&key| to_e7(coord(key).1)).collect(),
        lon: keys.iter().map(|&key| to_e7(coord(key).0)).collect(),
        first_out,
        head: edges.iter().map(|e| e.1).collect(),
        time: edges.iter().map(|e| e.2).collect(),
        hierarchy: None,
    }
    .reordered()
    .with_hierarchy(|_| {})
}
