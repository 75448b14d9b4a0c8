//! A road [`Graph`] from an OpenStreetMap PBF file (the `osmpbf` crate, blocks decoded in
//! parallel).
//!
//! Two passes: the ways (drivable `highway` classes of the rules' `[network]` table, access
//! and one-way tags, `maxspeed`), then the coordinates of the nodes they use. Each pair of
//! consecutive nodes of a way becomes an edge in each direction it may be driven, its time the
//! ellipsoidal length at the way's speed. Only the largest strongly connected component is
//! kept (every node reaches every other), so a search never strands in a car park; what is
//! dropped is counted in [`GraphInfo`].

use super::{Graph, GraphInfo};
use crate::error::{Error, Location, Result};
use crate::inputs::rules::NetworkRules;
use crate::inputs::source::Source;
use crate::progress::Progress;
use crate::reach::straight::ellipsoid_m;
use osmpbf::{BlobDecode, BlobReader, Element};
use rayon::iter::{ParallelBridge, ParallelIterator};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// A way kept for driving.
#[derive(Debug, Clone)]
struct Way {
    id: i64,
    class: u16,
    /// 1 forward only, -1 backward only, 0 both.
    oneway: i8,
    /// Speed, km/h.
    kmh: f64,
    refs: Vec<i64>,
}

/// Why a way is left out, or the way.
enum Verdict {
    Keep(Way),
    Skip(String),
    NotRoad,
}

/// Parses an OpenStreetMap `maxspeed` value to km/h: `50`, `50 km/h`, `30 mph`; `None` for
/// values that are not a number (`signals`, `none`, zone codes such as `JP:urban`).
pub fn parse_maxspeed(value: &str) -> Option<f64> {
    let v = value.split(';').next()?.trim();
    let (number, mph) = match v.strip_suffix("mph") {
        Some(n) => (n.trim(), true),
        None => (
            v.trim_end_matches("km/h")
                .trim_end_matches("kmh")
                .trim_end_matches("kph")
                .trim(),
            false,
        ),
    };
    let x: f64 = number.parse().ok()?;
    if !(x.is_finite() && x > 0.0 && x <= 300.0) {
        return None;
    }
    Some(if mph { x * 1.609_344 } else { x })
}

/// The verdict on one way from its tags.
fn judge<'a>(
    id: i64,
    tags: impl Iterator<Item = (&'a str, &'a str)>,
    refs: Vec<i64>,
    classes: &[(String, f64)],
) -> Verdict {
    let mut highway = None;
    let (mut access, mut vehicle, mut motor_vehicle, mut motorcar) = (None, None, None, None);
    let (mut oneway, mut junction, mut maxspeed, mut area) = (None, None, None, None);
    for (k, v) in tags {
        match k {
            "highway" => highway = Some(v),
            "access" => access = Some(v),
            "vehicle" => vehicle = Some(v),
            "motor_vehicle" => motor_vehicle = Some(v),
            "motorcar" => motorcar = Some(v),
            "oneway" => oneway = Some(v),
            "junction" => junction = Some(v),
            "maxspeed" => maxspeed = Some(v),
            "area" => area = Some(v),
            _ => {}
        }
    }
    let Some(highway) = highway else {
        return Verdict::NotRoad;
    };
    let Some(class) = classes.iter().position(|c| c.0 == highway) else {
        return Verdict::Skip(format!("highway={highway} (not driven)"));
    };
    if area == Some("yes") {
        return Verdict::Skip("area=yes".into());
    }
    // The most specific access tag decides.
    if let Some(a) = motorcar.or(motor_vehicle).or(vehicle).or(access) {
        if matches!(a, "no" | "private") {
            return Verdict::Skip(format!("access {a}"));
        }
    }
    let oneway = match oneway {
        Some("yes" | "true" | "1") => 1,
        Some("-1" | "reverse") => -1,
        Some("no" | "false" | "0") => 0,
        Some(other @ ("reversible" | "alternating")) => return Verdict::Skip(format!("oneway={other}")),
        _ if matches!(junction, Some("roundabout" | "circular")) || highway == "motorway" => 1,
        _ => 0,
    };
    if refs.len() < 2 {
        return Verdict::Skip("fewer than two nodes".into());
    }
    let kmh = maxspeed.and_then(parse_maxspeed).unwrap_or(classes[class].1);
    Verdict::Keep(Way {
        id,
        class: class as u16,
        oneway,
        kmh,
        refs,
    })
}

/// What the first pass collects.
#[derive(Default)]
struct WayPass {
    ways: Vec<Way>,
    skipped: BTreeMap<String, u64>,
}

impl WayPass {
    fn merge(mut self, other: WayPass) -> WayPass {
        self.ways.extend(other.ways);
        for (k, v) in other.skipped {
            *self.skipped.entry(k).or_insert(0) += v;
        }
        self
    }
}

/// Decodes every data block of the file in parallel and folds its elements with `map`.
fn each_block<T: Send>(
    source: &Source,
    stage: &str,
    progress: Progress,
    identity: impl Fn() -> T + Sync + Send,
    map: impl Fn(&mut T, Element<'_>) + Sync + Send,
    merge: impl Fn(T, T) -> T + Sync + Send,
) -> Result<(T, u64)> {
    let bar = progress.spinner(stage);
    let blocks = AtomicU64::new(0);
    let reader = BlobReader::new(std::io::Cursor::new(&source.bytes[..]));
    let result = reader
        .enumerate()
        .par_bridge()
        .map(|(k, blob)| -> std::result::Result<T, (usize, String)> {
            let mut acc = identity();
            let blob = blob.map_err(|e| (k, e.to_string()))?;
            match blob.decode().map_err(|e| (k, e.to_string()))? {
                BlobDecode::OsmData(block) => {
                    for element in block.elements() {
                        map(&mut acc, element);
                    }
                    let done = blocks.fetch_add(1, Ordering::Relaxed) + 1;
                    if done.is_multiple_of(64) {
                        bar.set_message(format!("{done} blocks"));
                    }
                }
                BlobDecode::OsmHeader(_) => {}
                BlobDecode::Unknown(kind) => return Err((k, format!("unknown block type '{kind}'"))),
            }
            Ok(acc)
        })
        .reduce(
            || Ok(identity()),
            |a, b| match (a, b) {
                (Ok(x), Ok(y)) => Ok(merge(x, y)),
                (Err(e), Ok(_)) | (Ok(_), Err(e)) => Err(e),
                (Err(e), Err(f)) => Err(if e.0 <= f.0 { e } else { f }),
            },
        );
    bar.finish_and_clear();
    let blocks = blocks.into_inner();
    match result {
        Ok(t) => Ok((t, blocks)),
        Err((0, e)) => Err(Error::input(
            &source.name,
            Location::File,
            format!("not an OpenStreetMap PBF file: {e}"),
        )),
        Err((k, e)) => Err(Error::input(
            &source.name,
            Location::File,
            format!("truncated or damaged PBF: block {} of the file: {e}", k + 1),
        )),
    }
}

/// Builds the road graph of an OpenStreetMap PBF file with the rules' speeds.
pub fn build(source: &Source, rules: &NetworkRules, progress: Progress) -> Result<Graph> {
    let classes = &rules.speeds_kmh;
    let (pass, blocks) = each_block(
        source,
        "ways",
        progress,
        WayPass::default,
        |acc, element| {
            if let Element::Way(w) = element {
                match judge(w.id(), w.tags(), w.refs().collect(), classes) {
                    Verdict::Keep(way) => acc.ways.push(way),
                    Verdict::Skip(reason) => *acc.skipped.entry(reason).or_insert(0) += 1,
                    Verdict::NotRoad => {}
                }
            }
        },
        WayPass::merge,
    )?;
    if blocks == 0 {
        return Err(Error::input(
            &source.name,
            Location::File,
            "not an OpenStreetMap PBF file: no data blocks",
        ));
    }
    let WayPass { mut ways, skipped } = pass;
    if ways.is_empty() {
        return Err(Error::input(
            &source.name,
            Location::File,
            format!(
                "no drivable roads: no way with highway = {} (the classes of the rules' [network] speeds_kmh)",
                classes.iter().map(|c| c.0.as_str()).collect::<Vec<_>>().join(", ")
            ),
        ));
    }
    ways.sort_unstable_by_key(|w| w.id);
    let mut needed: Vec<i64> = ways.iter().flat_map(|w| w.refs.iter().copied()).collect();
    needed.sort_unstable();
    needed.dedup();

    // Second pass: the coordinates of the nodes the ways use.
    let (mut coords, _) = each_block(
        source,
        "nodes",
        progress,
        Vec::<(i64, i32, i32)>::new,
        |acc, element| {
            let (id, lat, lon) = match element {
                Element::DenseNode(n) => (n.id(), n.decimicro_lat(), n.decimicro_lon()),
                Element::Node(n) => (n.id(), n.decimicro_lat(), n.decimicro_lon()),
                _ => return,
            };
            if needed.binary_search(&id).is_ok() {
                acc.push((id, lat, lon));
            }
        },
        |mut a, b| {
            a.extend(b);
            a
        },
    )?;
    coords.sort_unstable_by_key(|c| c.0);
    coords.dedup_by_key(|c| c.0);

    // Edges between consecutive nodes with coordinates.
    let node_of = |id: i64| coords.binary_search_by_key(&id, |c| c.0).ok().map(|i| i as u32);
    let mut edges: Vec<(u32, u32, u32)> = Vec::new();
    let mut missing_segments = 0u64;
    let mut by_class = vec![0u64; classes.len()];
    for w in &ways {
        by_class[w.class as usize] += 1;
        let speed = w.kmh / 3.6;
        for pair in w.refs.windows(2) {
            let (Some(a), Some(b)) = (node_of(pair[0]), node_of(pair[1])) else {
                missing_segments += 1;
                continue;
            };
            if a == b {
                continue;
            }
            let (ca, cb) = (coords[a as usize], coords[b as usize]);
            let pa = (f64::from(ca.2) * 1e-7, f64::from(ca.1) * 1e-7);
            let pb = (f64::from(cb.2) * 1e-7, f64::from(cb.1) * 1e-7);
            let tenths = (ellipsoid_m(pa, pb) / speed * 10.0).round().max(1.0) as u32;
            if w.oneway >= 0 {
                edges.push((a, b, tenths));
            }
            if w.oneway <= 0 {
                edges.push((b, a, tenths));
            }
        }
    }
    edges.sort_unstable();
    edges.dedup_by_key(|e| (e.0, e.1));

    // Nodes with an edge, numbered in OSM id order.
    let mut used = vec![false; coords.len()];
    for e in &edges {
        used[e.0 as usize] = true;
        used[e.1 as usize] = true;
    }
    let nodes_before = used.iter().filter(|&&u| u).count() as u64;
    let edges_before = edges.len() as u64;
    let (first_out, head) = csr(coords.len(), &edges);
    let component = largest_component(coords.len(), &first_out, &head, &used);
    let (components, in_components) = component.1;
    let keep = component.0;
    let mut index = vec![u32::MAX; coords.len()];
    let mut lat = Vec::new();
    let mut lon = Vec::new();
    for (v, c) in coords.iter().enumerate() {
        if keep[v] {
            index[v] = lat.len() as u32;
            lat.push(c.1);
            lon.push(c.2);
        }
    }
    let kept: Vec<(u32, u32, u32)> = edges
        .iter()
        .filter(|e| keep[e.0 as usize] && keep[e.1 as usize])
        .map(|e| (index[e.0 as usize], index[e.1 as usize], e.2))
        .collect();
    let (first_out, head) = csr(lat.len(), &kept);
    let time = kept.iter().map(|e| e.2).collect();
    let mut ways_left_out: Vec<(String, u64)> = skipped.into_iter().collect();
    if missing_segments > 0 {
        ways_left_out.push(("segments with a node missing from the file".into(), missing_segments));
    }
    let graph = Graph {
        info: GraphInfo {
            source: source.name.clone(),
            source_sha256: crate::inputs::scenario::sha256_hex(&source.bytes),
            zaitaku_version: env!("CARGO_PKG_VERSION").to_string(),
            speeds_kmh: classes.clone(),
            ways_by_class: classes
                .iter()
                .zip(&by_class)
                .filter(|(_, &n)| n > 0)
                .map(|(c, &n)| (c.0.clone(), n))
                .collect(),
            ways_left_out,
            nodes_before,
            edges_before,
            components_dropped: components.saturating_sub(1),
            nodes_dropped: in_components.saturating_sub(lat.len() as u64),
        },
        lat,
        lon,
        first_out,
        head,
        time,
        hierarchy: None,
    }
    .reordered();
    let bar = progress.bar(graph.nodes() as u64, "contraction hierarchy");
    let graph = graph.with_hierarchy(|done| {
        if done % 4096 == 0 {
            bar.set_position(done as u64);
        }
    });
    bar.finish_and_clear();
    Ok(graph)
}

/// CSR offsets and heads of edges sorted by tail.
fn csr(nodes: usize, edges: &[(u32, u32, u32)]) -> (Vec<u32>, Vec<u32>) {
    let mut first_out = vec![0u32; nodes + 1];
    for e in edges {
        first_out[e.0 as usize + 1] += 1;
    }
    for v in 0..nodes {
        first_out[v + 1] += first_out[v];
    }
    (first_out, edges.iter().map(|e| e.1).collect())
}

/// The largest strongly connected component among the `used` nodes (Tarjan's algorithm,
/// iterative): membership per node, and (components, nodes in them).
#[allow(clippy::type_complexity)]
fn largest_component(n: usize, first_out: &[u32], head: &[u32], used: &[bool]) -> (Vec<bool>, (u64, u64)) {
    const UNSET: u32 = u32::MAX;
    let mut index = vec![UNSET; n];
    let mut low = vec![0u32; n];
    let mut on_stack = vec![false; n];
    let mut stack: Vec<u32> = Vec::new();
    let mut calls: Vec<(u32, u32)> = Vec::new();
    let mut component = vec![UNSET; n];
    let mut sizes: Vec<u64> = Vec::new();
    let mut counter = 0u32;
    for s in 0..n {
        if index[s] != UNSET || !used[s] {
            continue;
        }
        index[s] = counter;
        low[s] = counter;
        counter += 1;
        stack.push(s as u32);
        on_stack[s] = true;
        calls.push((s as u32, first_out[s]));
        while let Some(&mut (v, ref mut e)) = calls.last_mut() {
            let v = v as usize;
            if *e < first_out[v + 1] {
                let w = head[*e as usize] as usize;
                *e += 1;
                if index[w] == UNSET {
                    index[w] = counter;
                    low[w] = counter;
                    counter += 1;
                    stack.push(w as u32);
                    on_stack[w] = true;
                    calls.push((w as u32, first_out[w]));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
            } else {
                calls.pop();
                if let Some(&(u, _)) = calls.last() {
                    low[u as usize] = low[u as usize].min(low[v]);
                }
                if low[v] == index[v] {
                    let c = sizes.len() as u32;
                    let mut size = 0;
                    while let Some(w) = stack.pop() {
                        on_stack[w as usize] = false;
                        component[w as usize] = c;
                        size += 1;
                        if w as usize == v {
                            break;
                        }
                    }
                    sizes.push(size);
                }
            }
        }
    }
    // The largest; among equals the first found.
    let best = sizes
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(&a.0)))
        .map(|(c, _)| c as u32);
    let keep = component.iter().map(|&c| Some(c) == best && c != UNSET).collect();
    (keep, (sizes.len() as u64, sizes.iter().sum()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maxspeed_values() {
        assert_eq!(parse_maxspeed("50"), Some(50.0));
        assert_eq!(parse_maxspeed("40 km/h"), Some(40.0));
        assert!((parse_maxspeed("30 mph").unwrap() - 48.28032).abs() < 1e-9);
        assert_eq!(parse_maxspeed("60;40"), Some(60.0));
        assert_eq!(parse_maxspeed("JP:urban"), None);
        assert_eq!(parse_maxspeed("signals"), None);
        assert_eq!(parse_maxspeed("0"), None);
    }

    #[test]
    fn components_of_a_small_graph() {
        // 0 <-> 1 <-> 2 (a component of 3), 2 -> 3 (3 alone), 4 unused.
        let edges = vec![(0, 1, 1), (1, 0, 1), (1, 2, 1), (2, 1, 1), (2, 3, 1)];
        let (first_out, head) = csr(5, &edges);
        let used = vec![true, true, true, true, false];
        let (keep, (components, nodes)) = largest_component(5, &first_out, &head, &used);
        assert_eq!(keep, vec![true, true, true, false, false]);
        assert_eq!((components, nodes), (2, 4));
    }
}
