//! A synthetic national road network, and timings of graph loading and Dijkstra.
//!
//!   cargo run --release --example roads -- synth --population bench-data/population.csv \
//!       --out bench-data/roads.graph [--per-cell 4]
//!   cargo run --release --example roads -- bench --graph bench-data/roads.graph [--sources 20000]
//!
//! `synth` lays a lattice of K x K road nodes in every populated 1 km mesh cell of the
//! population file (about 250 m apart with K = 4) and joins lattice neighbours: every eighth
//! line of nodes is a primary road (50 km/h), the others residential (25 km/h), and every
//! fifth residential east-west line is one-way eastbound. With the national benchmark's
//! 226,595 cells and K = 4 that is 3.6 million nodes and about 14 million directed edges;
//! cells on separate islands stay separate parts. Nodes are numbered along a Z-order curve,
//! as `zaitaku network build` numbers them. SYNTHETIC.
//!
//! `bench` times loading the file, then one multi-source Dijkstra over the whole graph from
//! N random nodes (a role's providers) and the same from the contraction hierarchy's sweeps,
//! and bounded 30-minute searches from 1,000 random nodes, on one thread.
//!
//! `ch --graph F [--first N]` contracts the graph (or its first N nodes) anew and prints
//! the time, the hierarchy's size and a check of its sweeps against Dijkstra.

use std::time::Instant;
use zaitaku::inputs::Source;
use zaitaku::network::route::{multi_source, Search, UNREACHED};
use zaitaku::network::Graph;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    match args.get(1).map(String::as_str) {
        Some("synth") => synth(
            &arg("--population").expect("--population F"),
            &arg("--out").expect("--out F"),
            arg("--per-cell").map(|k| k.parse().expect("--per-cell K")).unwrap_or(4),
        ),
        Some("bench") => bench(
            &arg("--graph").expect("--graph F"),
            arg("--sources")
                .map(|k| k.parse().expect("--sources N"))
                .unwrap_or(20_000),
        ),
        Some("ch") => ch(
            &arg("--graph").expect("--graph F"),
            arg("--first").map(|k| k.parse().expect("--first N")),
        ),
        _ => panic!("usage: roads synth|bench|ch ..."),
    }
}

fn synth(population: &str, out: &str, k: i64) {
    let text = std::fs::read_to_string(population).expect("population file");
    let codes = text.lines().skip(1).map(|line| line.split(',').next().unwrap_or(""));
    let graph = zaitaku::network::lattice::lattice(codes, k, population);
    std::fs::write(out, graph.to_bytes()).expect("write graph");
    println!("{out}: {} nodes, {} directed edges", graph.nodes(), graph.edges());
    if let Some(h) = &graph.hierarchy {
        println!(
            "contraction hierarchy: {} upward and {} downward edges",
            h.up_head.len(),
            h.down_head.len()
        );
    }
}

fn bench(path: &str, sources: usize) {
    let t = Instant::now();
    let source = Source::read(std::path::Path::new(path)).expect("graph file");
    let read_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let g = Graph::from_source(&source).expect("graph");
    let parse_s = t.elapsed().as_secs_f64();
    println!(
        "{path}: {} nodes, {} edges, {:.0} MB; read {read_s:.3} s, parse and check {parse_s:.3} s",
        g.nodes(),
        g.edges(),
        source.bytes.len() as f64 / 1e6
    );
    drop(source);
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut next = |n: usize| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % n as u64) as u32
    };
    for round in 0..3 {
        let seeds: Vec<(u32, u32)> = (0..sources).map(|_| (next(g.nodes()), 0)).collect();
        let t = Instant::now();
        let d = multi_source(&g, &seeds);
        let s = t.elapsed().as_secs_f64();
        let reached = d.iter().filter(|&&v| v != UNREACHED).count();
        println!("round {round}: multi-source Dijkstra from {sources} nodes: {s:.3} s, {reached} nodes reached");
        if let Some(h) = &g.hierarchy {
            let t = Instant::now();
            let swept = h.nearest(&seeds);
            let s = t.elapsed().as_secs_f64();
            println!(
                "         the hierarchy's sweeps (PHAST): {s:.3} s, equal: {}",
                swept == d
            );
        }
    }
    let mut search = Search::new(&g);
    let t = Instant::now();
    let mut settled = 0u64;
    for _ in 0..1000 {
        let s = next(g.nodes());
        search.run_bounded(&g, &[(s, 0)], 30 * 600, |_, _| settled += 1);
    }
    let s = t.elapsed().as_secs_f64();
    println!(
        "1000 searches bounded at 30 minutes, bucket queue: {s:.3} s, {:.0} nodes settled each, {:.2} ms each",
        settled as f64 / 1000.0,
        s
    );
    let t = Instant::now();
    for _ in 0..1000 {
        let s = next(g.nodes());
        search.run(&g, &[(s, 0)], 30 * 600, |_, _| {});
    }
    let s = t.elapsed().as_secs_f64();
    println!("the same with the binary heap: {s:.3} s, {:.2} ms each", s);
}

fn ch(path: &str, first: Option<usize>) {
    let source = Source::read(std::path::Path::new(path)).expect("graph file");
    let mut g = Graph::from_source(&source).expect("graph");
    if let Some(k) = first {
        let k = k.min(g.nodes());
        let mut first_out = vec![0u32];
        let (mut head, mut time) = (Vec::new(), Vec::new());
        for v in 0..k {
            for (w, t) in g.out(v) {
                if (w as usize) < k {
                    head.push(w);
                    time.push(t);
                }
            }
            first_out.push(head.len() as u32);
        }
        g.lat.truncate(k);
        g.lon.truncate(k);
        g.first_out = first_out;
        g.head = head;
        g.time = time;
    }
    let t = Instant::now();
    let mut last = Instant::now();
    let h = zaitaku::network::ch::Hierarchy::build(&g, |done| {
        if last.elapsed().as_secs_f64() > 10.0 {
            eprintln!("  {done} of {} at {:.1} s", g.nodes(), t.elapsed().as_secs_f64());
            last = Instant::now();
        }
    });
    let build = t.elapsed().as_secs_f64();
    let maxdeg = (0..g.nodes())
        .map(|r| h.up_first[r + 1] - h.up_first[r])
        .max()
        .unwrap_or(0);
    println!(
        "{} nodes, {} edges: contracted in {build:.1} s; {} up edges, {} down edges, max up degree {maxdeg}",
        g.nodes(),
        g.edges(),
        h.up_head.len(),
        h.down_head.len()
    );
    let seeds: Vec<(u32, u32)> = (0..20_000u32).map(|i| (i * 7919 % g.nodes() as u32, 0)).collect();
    let t = Instant::now();
    let d = h.nearest(&seeds);
    let ph = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let want = multi_source(&g, &seeds);
    let dj = t.elapsed().as_secs_f64();
    let same = d.iter().zip(&want).all(|(a, b)| a == b);
    println!("nearest of 20,000 sources: sweeps {ph:.3} s, Dijkstra {dj:.3} s, equal: {same}");
}
