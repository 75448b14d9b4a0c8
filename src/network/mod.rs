//! Road networks for travel-time reach: a compact directed graph (CSR arrays, travel time
//! per edge in tenths of a second), built from OpenStreetMap ([`osm`]), stored in one
//! versioned binary file, and searched with Dijkstra ([`route`]).
//!
//! File layout (little-endian): the magic `ZAITAKU-GRAPH\0\0\0`, the format version (u32),
//! the length of a JSON block (u32) and the block ([`GraphInfo`]: source, counts, speeds),
//! the node and edge counts (u64 each), then the arrays: latitude and longitude of every node
//! (i32, 1e-7 degrees), `first_out` (u32, nodes + 1), `head` (u32, edges), `time` (u32,
//! edges). Version 2 adds the contraction hierarchy ([`ch::Hierarchy`]): its up and down
//! edge counts (u64 each), the rank of every node (u32), then `up_first`, `up_head`,
//! `up_time`, `down_first`, `down_head`, `down_time` (u32). Loading checks the sizes, that
//! offsets never decrease, that every head is a node (and, in the hierarchy, of a higher rank
//! up and a lower rank down) and that the ranks are a permutation, so a truncated or foreign
//! file is an error, never a wrong graph. Version 1 files (no hierarchy) are still read.

pub mod ch;
pub mod lattice;
pub mod osm;
pub mod route;

use crate::error::{Error, Location, Result};
use crate::inputs::source::Source;
use serde::{Deserialize, Serialize};

/// The first bytes of a graph file.
pub const MAGIC: &[u8; 16] = b"ZAITAKU-GRAPH\0\0\0";

/// The format version this build writes (it reads 1 as well: a graph without a hierarchy).
pub const FORMAT_VERSION: u32 = 2;

/// What a graph was built from and what it holds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GraphInfo {
    /// The OpenStreetMap file's name and SHA-256.
    pub source: String,
    pub source_sha256: String,
    pub zaitaku_version: String,
    /// Speed of each driven highway class, km/h.
    pub speeds_kmh: Vec<(String, f64)>,
    /// Ways kept, per highway class.
    pub ways_by_class: Vec<(String, u64)>,
    /// Ways left out, with the reason.
    pub ways_left_out: Vec<(String, u64)>,
    /// Nodes and directed edges before keeping the largest strongly connected component.
    pub nodes_before: u64,
    pub edges_before: u64,
    /// Strongly connected components dropped, and their nodes.
    pub components_dropped: u64,
    pub nodes_dropped: u64,
}

/// A directed road graph in compressed sparse row form.
#[derive(Debug, Clone, PartialEq)]
pub struct Graph {
    pub info: GraphInfo,
    /// Node latitude and longitude, 1e-7 degrees.
    pub lat: Vec<i32>,
    pub lon: Vec<i32>,
    /// Edges leaving node `v` are `first_out[v]..first_out[v + 1]`.
    pub first_out: Vec<u32>,
    /// Target node of each edge.
    pub head: Vec<u32>,
    /// Travel time of each edge, tenths of a second (at least 1).
    pub time: Vec<u32>,
    /// The contraction hierarchy, when the graph was built with one.
    pub hierarchy: Option<ch::Hierarchy>,
}

impl Graph {
    pub fn nodes(&self) -> usize {
        self.lat.len()
    }

    pub fn edges(&self) -> usize {
        self.head.len()
    }

    /// Node `v` as (lon, lat) degrees.
    pub fn coord(&self, v: usize) -> (f64, f64) {
        (f64::from(self.lon[v]) * 1e-7, f64::from(self.lat[v]) * 1e-7)
    }

    /// Edges leaving `v`: (head, time).
    pub fn out(&self, v: usize) -> impl Iterator<Item = (u32, u32)> + '_ {
        let range = self.first_out[v] as usize..self.first_out[v + 1] as usize;
        self.head[range.clone()]
            .iter()
            .copied()
            .zip(self.time[range].iter().copied())
    }

    /// The same graph with its nodes renumbered along a Z-order curve of their coordinates,
    /// so that nodes near each other on the ground are near each other in memory: a search
    /// then touches few cache lines (the nodes of an OpenStreetMap file come in id order,
    /// which is the order in which they were mapped). Edges of a node stay sorted by head.
    pub fn reordered(self) -> Graph {
        let n = self.nodes();
        let spread = |x: u32| -> u64 {
            let mut x = u64::from(x);
            x = (x | (x << 16)) & 0x0000_ffff_0000_ffff;
            x = (x | (x << 8)) & 0x00ff_00ff_00ff_00ff;
            x = (x | (x << 4)) & 0x0f0f_0f0f_0f0f_0f0f;
            x = (x | (x << 2)) & 0x3333_3333_3333_3333;
            (x | (x << 1)) & 0x5555_5555_5555_5555
        };
        let key = |v: usize| {
            let x = (self.lon[v] as u32) ^ 0x8000_0000;
            let y = (self.lat[v] as u32) ^ 0x8000_0000;
            spread(x) | (spread(y) << 1)
        };
        let mut order: Vec<u32> = (0..n as u32).collect();
        order.sort_by_key(|&v| (key(v as usize), v));
        let mut new_of = vec![0u32; n];
        for (new, &old) in order.iter().enumerate() {
            new_of[old as usize] = new as u32;
        }
        let mut first_out = Vec::with_capacity(n + 1);
        let mut head = Vec::with_capacity(self.edges());
        let mut time = Vec::with_capacity(self.edges());
        first_out.push(0u32);
        let mut out: Vec<(u32, u32)> = Vec::new();
        for &old in &order {
            out.clear();
            out.extend(self.out(old as usize).map(|(w, t)| (new_of[w as usize], t)));
            out.sort_unstable();
            for &(w, t) in &out {
                head.push(w);
                time.push(t);
            }
            first_out.push(head.len() as u32);
        }
        Graph {
            lat: order.iter().map(|&v| self.lat[v as usize]).collect(),
            lon: order.iter().map(|&v| self.lon[v as usize]).collect(),
            info: self.info,
            first_out,
            head,
            time,
            hierarchy: None,
        }
    }

    /// The same graph with its contraction hierarchy built (one thread, about 30 us a node
    /// on a road lattice); `tick(done)` reports nodes contracted.
    pub fn with_hierarchy(mut self, tick: impl FnMut(usize)) -> Graph {
        self.hierarchy = Some(ch::Hierarchy::build(&self, tick));
        self
    }

    /// The file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let info = serde_json::to_vec(&self.info).unwrap_or_default();
        let n = self.nodes();
        let m = self.edges();
        let mut out = Vec::with_capacity(48 + info.len() + 12 * n + 8 * m);
        out.extend_from_slice(MAGIC);
        let version: u32 = if self.hierarchy.is_some() { FORMAT_VERSION } else { 1 };
        out.extend_from_slice(&version.to_le_bytes());
        out.extend_from_slice(&(info.len() as u32).to_le_bytes());
        out.extend_from_slice(&info);
        out.extend_from_slice(&(n as u64).to_le_bytes());
        out.extend_from_slice(&(m as u64).to_le_bytes());
        for v in &self.lat {
            out.extend_from_slice(&v.to_le_bytes());
        }
        for v in &self.lon {
            out.extend_from_slice(&v.to_le_bytes());
        }
        for arr in [&self.first_out, &self.head, &self.time] {
            for v in arr.iter() {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        if let Some(h) = &self.hierarchy {
            out.extend_from_slice(&(h.up_head.len() as u64).to_le_bytes());
            out.extend_from_slice(&(h.down_head.len() as u64).to_le_bytes());
            for arr in [
                &h.rank,
                &h.up_first,
                &h.up_head,
                &h.up_time,
                &h.down_first,
                &h.down_head,
                &h.down_time,
            ] {
                for v in arr.iter() {
                    out.extend_from_slice(&v.to_le_bytes());
                }
            }
        }
        out
    }

    /// Reads a graph file, checking its version, sizes and structure.
    #[cfg_attr(not(test), deny(clippy::indexing_slicing))]
    pub fn from_source(source: &Source) -> Result<Graph> {
        let bad = |problem: String| Error::input(&source.name, Location::File, problem);
        let bytes = &source.bytes[..];
        if bytes.len() < 24 || bytes.get(..16) != Some(&MAGIC[..]) {
            return Err(bad(
                "not a zaitaku road graph (build one with `zaitaku network build --pbf F.osm.pbf --out F.graph`)"
                    .into(),
            ));
        }
        let mut at: usize = 16;
        let mut take = |len: usize| -> Result<&[u8]> {
            let end = at.checked_add(len).filter(|&e| e <= bytes.len()).ok_or_else(|| {
                bad(format!(
                    "truncated road graph: {} bytes, more expected at byte {at}",
                    bytes.len()
                ))
            })?;
            let s = bytes.get(at..end).unwrap_or(&[]);
            at = end;
            Ok(s)
        };
        let u32_at = |s: &[u8]| <[u8; 4]>::try_from(s).map_or(0, u32::from_le_bytes);
        let version = u32_at(take(4)?);
        if version != FORMAT_VERSION && version != 1 {
            return Err(bad(format!(
                "road graph format version {version}; this zaitaku reads versions 1 to {FORMAT_VERSION}: rebuild it \
                 with `zaitaku network build`"
            )));
        }
        let info_len = u32_at(take(4)?) as usize;
        let info: GraphInfo = serde_json::from_slice(take(info_len)?)
            .map_err(|e| bad(format!("road graph: unreadable description block: {e}")))?;
        let u64_at = |s: &[u8]| <[u8; 8]>::try_from(s).map_or(0, u64::from_le_bytes);
        let n = u64_at(take(8)?);
        let m = u64_at(take(8)?);
        if n >= u64::from(u32::MAX) || m >= u64::from(u32::MAX) {
            return Err(bad(format!(
                "road graph: {n} nodes and {m} edges exceed the format's limits"
            )));
        }
        let (n, m) = (n as usize, m as usize);
        let expected = 16 + 4 + 4 + info_len + 16 + 4 * (2 * n + (n + 1) + 2 * m);
        if (version == 1 && bytes.len() != expected) || bytes.len() < expected {
            return Err(bad(format!(
                "road graph of {n} nodes and {m} edges should be {expected} bytes, the file has {} (truncated or damaged)",
                bytes.len()
            )));
        }
        let words = |s: &[u8]| -> Vec<u32> { s.chunks_exact(4).map(u32_at).collect() };
        let lat: Vec<i32> = words(take(4 * n)?).into_iter().map(|w| w as i32).collect();
        let lon: Vec<i32> = words(take(4 * n)?).into_iter().map(|w| w as i32).collect();
        let first_out = words(take(4 * (n + 1))?);
        let head = words(take(4 * m)?);
        let time = words(take(4 * m)?);
        if first_out.first() != Some(&0)
            || first_out.last().map(|&x| x as usize) != Some(m)
            || first_out.windows(2).any(|w| w.first() > w.get(1))
        {
            return Err(bad("road graph: edge offsets out of order (damaged file)".into()));
        }
        if head.iter().any(|&h| h as usize >= n) || time.contains(&0) {
            return Err(bad(
                "road graph: an edge leads to no node or takes no time (damaged file)".into(),
            ));
        }
        let in_range = |la: i32, lo: i32| {
            (-900_000_000..=900_000_000).contains(&la) && (-1_800_000_000..=1_800_000_000).contains(&lo)
        };
        if lat.iter().zip(&lon).any(|(&la, &lo)| !in_range(la, lo)) {
            return Err(bad(
                "road graph: a node lies outside -90..90, -180..180 degrees (damaged file)".into(),
            ));
        }
        let hierarchy = if version == 1 {
            None
        } else {
            let mu = u64_at(take(8)?);
            let md = u64_at(take(8)?);
            if mu >= u64::from(u32::MAX) || md >= u64::from(u32::MAX) {
                return Err(bad(format!(
                    "road graph: a hierarchy of {mu} and {md} edges exceeds the format's limits"
                )));
            }
            let (mu, md) = (mu as usize, md as usize);
            let whole = expected + 16 + 4 * (n + 2 * (n + 1) + 2 * mu + 2 * md);
            if bytes.len() != whole {
                return Err(bad(format!(
                    "road graph of {n} nodes, {m} edges and a hierarchy of {mu} + {md} edges should be {whole} bytes, \
                     the file has {} (truncated or damaged)",
                    bytes.len()
                )));
            }
            let rank = words(take(4 * n)?);
            let up = (words(take(4 * (n + 1))?), words(take(4 * mu)?), words(take(4 * mu)?));
            let down = (words(take(4 * (n + 1))?), words(take(4 * md)?), words(take(4 * md)?));
            ch::Hierarchy::check(&rank, &up, &down)
                .map_err(|problem| bad(format!("road graph: {problem} (damaged file)")))?;
            Some(ch::Hierarchy::from_parts(rank, up, down))
        };
        Ok(Graph {
            info,
            lat,
            lon,
            first_out,
            head,
            time,
            hierarchy,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Graph {
        Graph {
            info: GraphInfo {
                source: "t".into(),
                source_sha256: String::new(),
                zaitaku_version: "0".into(),
                speeds_kmh: vec![],
                ways_by_class: vec![],
                ways_left_out: vec![],
                nodes_before: 2,
                edges_before: 2,
                components_dropped: 0,
                nodes_dropped: 0,
            },
            lat: vec![360_000_000, 360_010_000],
            lon: vec![1_380_000_000, 1_380_000_000],
            first_out: vec![0, 1, 2],
            head: vec![1, 0],
            time: vec![75, 80],
            hierarchy: None,
        }
    }

    #[test]
    fn round_trip_and_damage() {
        let g = tiny();
        let bytes = g.to_bytes();
        assert_eq!(Graph::from_source(&Source::new("g", bytes.clone())).unwrap(), g);
        let cut = Graph::from_source(&Source::new("g", bytes[..bytes.len() - 3].to_vec())).unwrap_err();
        assert!(cut.to_string().contains("truncated or damaged"), "{cut}");
        let mut other = bytes.clone();
        other[16] = 9;
        let v = Graph::from_source(&Source::new("g", other)).unwrap_err();
        assert!(v.to_string().contains("format version 9"), "{v}");
        let foreign = Graph::from_source(&Source::new("g", b"PK\x03\x04 not a graph at all".to_vec())).unwrap_err();
        assert!(foreign.to_string().contains("not a zaitaku road graph"), "{foreign}");

        // With its hierarchy: version 2, read back equal; a damaged hierarchy is refused.
        let h = g.clone().with_hierarchy(|_| {});
        let bytes = h.to_bytes();
        assert_eq!(u32::from_le_bytes(bytes[16..20].try_into().unwrap()), 2);
        assert_eq!(Graph::from_source(&Source::new("g", bytes.clone())).unwrap(), h);
        let cut = Graph::from_source(&Source::new("g", bytes[..bytes.len() - 4].to_vec())).unwrap_err();
        assert!(cut.to_string().contains("truncated or damaged"), "{cut}");
        // The ranks start right after the edge counts of the hierarchy; two equal ranks.
        let ranks = bytes.len() - 4 * (2 + 2 * 3 + 2 * 2);
        let mut twice = bytes.clone();
        twice[ranks..ranks + 4].copy_from_slice(&1u32.to_le_bytes());
        twice[ranks + 4..ranks + 8].copy_from_slice(&1u32.to_le_bytes());
        let e = Graph::from_source(&Source::new("g", twice)).unwrap_err();
        assert!(e.to_string().contains("ranks are not a permutation"), "{e}");
        // The one up edge (rank 0 to rank 1) turned back to rank 0.
        let mut wrong = bytes.clone();
        let up_head = ranks + 4 * (2 + 3);
        assert_eq!(wrong[up_head..up_head + 4], 1u32.to_le_bytes());
        wrong[up_head..up_head + 4].copy_from_slice(&0u32.to_le_bytes());
        let e = Graph::from_source(&Source::new("g", wrong)).unwrap_err();
        assert!(e.to_string().contains("wrong side"), "{e}");
    }
}
