//! Road networks: building graphs from OpenStreetMap, Dijkstra against a plain reference and
//! networkx, travel-time coverage on the hand-made grid network, and bad inputs.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use zaitaku::inputs::Source;
use zaitaku::network::route::{multi_source, UNREACHED};
use zaitaku::network::Graph;

fn fixture(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(p)
}

fn zaitaku(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zaitaku")).args(args).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `zaitaku coverage` on the grid with the travel-time rules, `extra` naming the times
/// (`--network G` or `--od-matrix F`), into `out`.
fn grid_roads_coverage(extra: &[&str], out: &Path) -> Output {
    grid_roads("coverage", extra, out)
}

/// `command` on the grid fixture with the road rules.
fn grid_roads(command: &str, extra: &[&str], out: &Path) -> Output {
    grid_with_rules(command, &fixture("grid/rules_roads.toml"), extra, out)
}

/// `command` on the grid fixture with the rules file `r`.
fn grid_with_rules(command: &str, r: &Path, extra: &[&str], out: &Path) -> Output {
    let (m, i, p) = (
        fixture("grid/municipalities.geojson"),
        fixture("grid/institutions.csv"),
        fixture("grid/population.csv"),
    );
    let mut args = vec![
        command,
        "--quiet",
        "--municipalities",
        m.to_str().unwrap(),
        "--institutions",
        i.to_str().unwrap(),
        "--population",
        p.to_str().unwrap(),
        "--rules",
        r.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    zaitaku(&args)
}

/// Builds a graph with the CLI and loads it.
fn build(pbf: &Path, dir: &Path, extra: &[&str]) -> (PathBuf, Graph) {
    let out = dir.join("g.graph");
    let mut args = vec![
        "network",
        "build",
        "--pbf",
        pbf.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let o = zaitaku(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    let g = Graph::from_source(&Source::read(&out).unwrap()).unwrap();
    (out, g)
}

/// Dijkstra as in a textbook: the unsettled node of least time, found by a scan.
fn reference_dijkstra(g: &Graph, source: usize) -> Vec<u32> {
    let n = g.nodes();
    let mut dist = vec![u64::MAX; n];
    let mut done = vec![false; n];
    dist[source] = 0;
    while let Some(v) = (0..n)
        .filter(|&v| !done[v] && dist[v] != u64::MAX)
        .min_by_key(|&v| dist[v])
    {
        done[v] = true;
        for e in g.first_out[v] as usize..g.first_out[v + 1] as usize {
            let w = g.head[e] as usize;
            dist[w] = dist[w].min(dist[v] + u64::from(g.time[e]));
        }
    }
    dist.into_iter()
        .map(|d| if d == u64::MAX { UNREACHED } else { d as u32 })
        .collect()
}

#[test]
fn helsinki_graph_matches_an_independent_build() {
    let dir = tempfile::tempdir().unwrap();
    let (_, g) = build(&fixture("osm/helsinki.osm.pbf"), dir.path(), &[]);
    // pyosmium + geographiclib + networkx with the same rules (scripts/check_network.py):
    // 1,885 nodes and 2,891 edges before, 1,649 and 2,580 in the largest strongly
    // connected component; every edge and time equal.
    assert_eq!((g.info.nodes_before, g.info.edges_before), (1885, 2891));
    assert_eq!((g.nodes(), g.edges()), (1649, 2580));
    // networkx's Dijkstra on this graph from three nodes: (nodes reached, farthest, sum).
    for (source, reached, farthest, sum) in [
        (663usize, 1649usize, 5345u32, 2_053_963u64),
        (308, 1649, 5236, 1_716_736),
        (808, 1649, 6104, 2_139_428),
    ] {
        let d = multi_source(&g, &[(source as u32, 0)]);
        assert_eq!(d.iter().filter(|&&t| t != UNREACHED).count(), reached);
        assert_eq!(*d.iter().max().unwrap(), farthest);
        assert_eq!(d.iter().map(|&t| u64::from(t)).sum::<u64>(), sum);
    }
    // Random sources: the heap search equals the textbook one.
    let mut x = 12345u64;
    for _ in 0..20 {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let s = (x >> 33) as usize % g.nodes();
        assert_eq!(
            multi_source(&g, &[(s as u32, 0)]),
            reference_dijkstra(&g, s),
            "source {s}"
        );
    }
    // One-way streets: some edge u -> v has no v -> u, and there the times differ.
    let mut oneway = 0;
    let mut differ = 0;
    for u in 0..g.nodes() {
        for (v, _) in g.out(u) {
            if !g.out(v as usize).any(|(w, _)| w as usize == u) {
                oneway += 1;
                let there = multi_source(&g, &[(u as u32, 0)])[v as usize];
                let back = multi_source(&g, &[(v, 0)])[u];
                if there != back {
                    differ += 1;
                }
            }
        }
    }
    assert!(oneway > 50, "{oneway} one-way edges");
    assert_eq!(differ, oneway);
    // The hierarchy's sweeps give networkx's figures too, and every node's time from 30
    // sources within 10 minutes, as the textbook search does.
    let h = g
        .hierarchy
        .as_ref()
        .expect("network build stores a contraction hierarchy");
    for (source, farthest, sum) in [
        (663u32, 5345u32, 2_053_963u64),
        (308, 5236, 1_716_736),
        (808, 6104, 2_139_428),
    ] {
        let d = h.nearest(&[(source, 0)]);
        assert_eq!(
            (*d.iter().max().unwrap(), d.iter().map(|&t| u64::from(t)).sum::<u64>()),
            (farthest, sum)
        );
    }
    let mut sweeper = zaitaku::network::ch::Sweeper::new(h);
    let all: Vec<u32> = (0..g.nodes() as u32).collect();
    sweeper.targets(h, &all);
    let sources: Vec<(u32, u32)> = (0..30u32).map(|i| (i * 53 % g.nodes() as u32, i % 5 * 20)).collect();
    for batch in sources.chunks(zaitaku::network::ch::LANES) {
        let mut got = vec![Vec::new(); batch.len()];
        sweeper.run(h, batch, 6000, |lane, v, t| got[lane].push((v, t)));
        for (lane, &(s, start)) in batch.iter().enumerate() {
            let want: Vec<(u32, u32)> = reference_dijkstra(&g, s as usize)
                .into_iter()
                .enumerate()
                .filter(|&(_, t)| t != UNREACHED && t + start <= 6000)
                .map(|(v, t)| (v as u32, t + start))
                .collect();
            assert_eq!(got[lane], want, "source {s}");
        }
    }
    // The same bytes whatever the thread count.
    let a = std::fs::read(dir.path().join("g.graph")).unwrap();
    for threads in ["1", "2", "8"] {
        let out2 = dir.path().join(format!("g{threads}.graph"));
        let o = zaitaku(&[
            "--threads",
            threads,
            "network",
            "build",
            "--pbf",
            fixture("osm/helsinki.osm.pbf").to_str().unwrap(),
            "--out",
            out2.to_str().unwrap(),
        ]);
        assert!(o.status.success());
        assert_eq!(a, std::fs::read(out2).unwrap(), "--threads {threads}");
    }
}

#[test]
fn travel_time_coverage_on_the_hand_made_grid_network() {
    // fixtures/grid/roads.osm.pbf: a primary road (60 km/h) through every cell's column, one
    // way westbound east of clinic C1, a 10 km/h detour as the only way east, spurs at 30
    // km/h (scripts/make_grid_network.py). Expected times from networkx and geographiclib.
    let dir = tempfile::tempdir().unwrap();
    let (graph, g) = build(&fixture("grid/roads.osm.pbf"), dir.path(), &[]);
    let expected: Value = serde_json::from_slice(&std::fs::read(fixture("grid/roads_expected.json")).unwrap()).unwrap();
    assert_eq!(g.nodes() as u64, expected["graph"]["nodes"].as_u64().unwrap());
    assert_eq!(g.edges() as u64, expected["graph"]["edges"].as_u64().unwrap());
    // The footway and the private road are not driven.
    assert!(g
        .info
        .ways_left_out
        .iter()
        .any(|(why, n)| why.contains("footway") && *n == 1));
    assert!(g
        .info
        .ways_left_out
        .iter()
        .any(|(why, n)| why == "access private" && *n == 1));

    let out = dir.path().join("out");
    let o = grid_roads_coverage(&["--network", graph.to_str().unwrap()], &out);
    assert!(o.status.success(), "{}", stderr(&o));
    use polars::prelude::*;
    let df = ParquetReader::new(std::fs::File::open(out.join("cells.parquet")).unwrap())
        .finish()
        .unwrap();
    let codes = df.column("mesh_code").unwrap().str().unwrap().clone();
    let doctor = df.column("doctor_min").unwrap().f64().unwrap().clone();
    let nurse = df.column("nurse_min").unwrap().f64().unwrap().clone();
    let visit = df.column("visit_covered").unwrap().bool().unwrap().clone();
    let team = df.column("team_covered").unwrap().bool().unwrap().clone();
    let (mut km_only_fails, mut oneway_far) = (0, 0);
    for e in expected["cells"].as_array().unwrap() {
        let i = (0..df.height())
            .find(|&i| codes.get(i) == e["mesh_code"].as_str())
            .unwrap();
        let (dm, nm) = (e["doctor_min"].as_f64().unwrap(), e["nurse_min"].as_f64().unwrap());
        let (dk, nk) = (e["doctor_km"].as_f64().unwrap(), e["nurse_km"].as_f64().unwrap());
        assert!((doctor.get(i).unwrap() - dm).abs() < 1e-9, "{e}");
        assert!((nurse.get(i).unwrap() - nm).abs() < 1e-9, "{e}");
        // Both limits: 20 minutes and 16 km for the doctor, 15 minutes and 16 km for the nurse.
        let d_ok = dm <= 20.0 && dk <= 16.0;
        let n_ok = nm <= 15.0 && nk <= 16.0;
        assert_eq!(visit.get(i).unwrap(), d_ok, "{e}");
        assert_eq!(team.get(i).unwrap(), d_ok && n_ok, "{e}");
        if dm <= 20.0 && dk > 16.0 {
            km_only_fails += 1;
        }
        if dk < 5.0 && dm > 200.0 {
            oneway_far += 1;
        }
    }
    // The fixture exercises both: a cell within 20 minutes but beyond 16 km, and cells a few
    // km east of the clinic that the one-way road puts hours away.
    assert!(km_only_fails >= 1 && oneway_far >= 1, "{km_only_fails} {oneway_far}");
    let summary: Value = serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["network"]["places_not_on_network"], 0);
    // The same bytes at 1, 2 and 8 threads.
    for threads in ["1", "2", "8"] {
        let again = dir.path().join(format!("t{threads}"));
        let o = grid_roads_coverage(&["--network", graph.to_str().unwrap(), "--threads", threads], &again);
        assert!(o.status.success());
        for f in [
            "cells.parquet",
            "coverage.csv",
            "roles.csv",
            "coverage.geojson",
            "summary.json",
            "unsnapped.csv",
        ] {
            assert_eq!(
                std::fs::read(out.join(f)).unwrap(),
                std::fs::read(again.join(f)).unwrap(),
                "{f}"
            );
        }
    }
    assert!(std::fs::read_to_string(out.join("coverage.csv"))
        .unwrap()
        .contains("p90_min"));
}

#[test]
fn bad_network_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let o = zaitaku(args);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        stderr(&o)
    };
    let out = dir.path().join("g.graph");
    let out_s = out.to_str().unwrap();
    // Not a PBF.
    let text = dir.path().join("roads.osm.pbf");
    std::fs::write(&text, "id,name\n1,road\n").unwrap();
    let e = run(&["network", "build", "--pbf", text.to_str().unwrap(), "--out", out_s]);
    assert!(e.contains("roads.osm.pbf: not an OpenStreetMap PBF file"), "{e}");
    // Truncated.
    let bytes = std::fs::read(fixture("osm/helsinki.osm.pbf")).unwrap();
    let cut = dir.path().join("cut.osm.pbf");
    std::fs::write(&cut, &bytes[..300_000]).unwrap();
    let e = run(&["network", "build", "--pbf", cut.to_str().unwrap(), "--out", out_s]);
    assert!(e.contains("cut.osm.pbf: truncated or damaged PBF"), "{e}");
    // No roads of the rules' classes (central Helsinki has no motorway).
    let rules = dir.path().join("motorways.toml");
    std::fs::write(
        &rules,
        "[network]\nspeeds_kmh = { motorway = 90.0 }\n[[functions]]\nid = \"a\"\n[[functions.roles]]\nid = \"r\"\nkinds = [\"clinic\"]\nreach_km = 16.0\n",
    )
    .unwrap();
    let e = run(&[
        "network",
        "build",
        "--pbf",
        fixture("osm/helsinki.osm.pbf").to_str().unwrap(),
        "--out",
        out_s,
        "--rules",
        rules.to_str().unwrap(),
    ]);
    assert!(e.contains("no drivable roads: no way with highway = motorway"), "{e}");
    assert!(!out.exists(), "nothing written");

    // A graph of another format version, and a damaged one.
    let (graph, _) = build(&fixture("grid/roads.osm.pbf"), dir.path(), &[]);
    let good = std::fs::read(&graph).unwrap();
    let coverage = |g: &Path, out: &Path| {
        vec![
            "coverage".to_string(),
            "--quiet".into(),
            "--municipalities".into(),
            fixture("grid/municipalities.geojson").to_str().unwrap().into(),
            "--institutions".into(),
            fixture("grid/institutions.csv").to_str().unwrap().into(),
            "--population".into(),
            fixture("grid/population.csv").to_str().unwrap().into(),
            "--rules".into(),
            fixture("grid/rules_roads.toml").to_str().unwrap().into(),
            "--network".into(),
            g.to_str().unwrap().into(),
            "--out".into(),
            out.to_str().unwrap().into(),
        ]
    };
    let results = dir.path().join("results");
    let mut other = good.clone();
    other[16] = 7;
    let v7 = dir.path().join("v7.graph");
    std::fs::write(&v7, &other).unwrap();
    let args = coverage(&v7, &results);
    let e = run(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(
        e.contains("v7.graph: road graph format version 7; this zaitaku reads versions 1 to 2"),
        "{e}"
    );
    let short = dir.path().join("short.graph");
    std::fs::write(&short, &good[..good.len() - 10]).unwrap();
    let args = coverage(&short, &results);
    let e = run(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(
        e.contains("short.graph: road graph of 47 nodes, 82 edges and a hierarchy of 57 + 56 edges should be")
            && e.contains("(truncated or damaged)"),
        "{e}"
    );
    // A network that does not cover the study area: Helsinki's roads for Nagano's cells.
    let (helsinki, _) = build(&fixture("osm/helsinki.osm.pbf"), dir.path(), &[]);
    let args = coverage(&helsinki, &results);
    let e = run(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(
        e.contains("the road network does not cover the study area: 20 of 20 demand places"),
        "{e}"
    );
    assert!(e.contains("mesh 54383061"), "{e}");
    assert!(!results.exists(), "nothing written");
}

#[test]
fn travel_times_from_an_od_matrix() {
    // Times from elsewhere: C1 (the visiting clinic) and N1 (the nurse station) to three
    // cells, by hand. 54383166 is 15.2 km from C1 and 0.7 km from N1; 54383163 is 18.5 km
    // from C1 (beyond the 16 km of both roles' reach_km); 54383268 is 1.7 km from C1.
    let dir = tempfile::tempdir().unwrap();
    let od = dir.path().join("od.csv");
    std::fs::write(
        &od,
        "origin_id,destination_id,minutes\n\
         C1,54383166,12.5\n\
         N1,54383166,3\n\
         C1,54383163,10\n\
         N1,54383163,4\n\
         C1,54383268,25\n\
         N1,54383268,14\n\
         C1,54383268,5\n\
         X9,54383268,1\n\
         C2,54384000,1\n\
         N1,54383061,soon\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let o = grid_roads_coverage(&["--od-matrix", od.to_str().unwrap()], &out);
    assert!(o.status.success(), "{}", stderr(&o));
    use polars::prelude::*;
    let df = ParquetReader::new(std::fs::File::open(out.join("cells.parquet")).unwrap())
        .finish()
        .unwrap();
    let codes = df.column("mesh_code").unwrap().str().unwrap().clone();
    let doctor = df.column("doctor_min").unwrap().f64().unwrap().clone();
    let visit = df.column("visit_covered").unwrap().bool().unwrap().clone();
    let team = df.column("team_covered").unwrap().bool().unwrap().clone();
    let at = |code: &str| (0..df.height()).find(|&i| codes.get(i) == Some(code)).unwrap();
    // 54383166: doctor 12.5 min (<= 20) and 15.2 km: covered; nurse 3 min: team covered.
    let i = at("54383166");
    assert_eq!(
        (doctor.get(i), visit.get(i), team.get(i)),
        (Some(12.5), Some(true), Some(true))
    );
    // 54383163: 10 minutes but 18.5 km: not within the doctor's reach_km.
    let i = at("54383163");
    assert_eq!((doctor.get(i), visit.get(i)), (Some(10.0), Some(false)));
    // 54383268: the pair given twice keeps the first (25 min): beyond 20 minutes.
    let i = at("54383268");
    assert_eq!((doctor.get(i), visit.get(i)), (Some(25.0), Some(false)));
    // Cells the matrix does not list are not reached.
    assert_eq!(doctor.get(at("54383061")), None);
    // Rejected rows, with reasons; read = accepted + rejected in summary.json.
    let rejects = std::fs::read_to_string(out.join("rejects.csv")).unwrap();
    for reason in [
        "the pair C1 -> 54383268 appears again",
        "origin_id 'X9' is not an institution of the study",
        "destination_id 54384000 is not a demand cell of the study",
        "minutes 'soon' is not a non-negative number",
    ] {
        assert!(rejects.contains(reason), "{reason}: {rejects}");
    }
    let summary: Value = serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let file = summary["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["role"] == "od_matrix")
        .unwrap()
        .clone();
    assert_eq!(
        (
            file["read"].as_u64(),
            file["accepted"].as_u64(),
            file["rejected"].as_u64()
        ),
        (Some(10), Some(6), Some(4))
    );
}

/// The grid cells covered for `visit` by road, from networkx's times (roads_expected.json):
/// within 20 minutes of the doctor and 16 km of it. Returns (mesh code, aged 65+) pairs.
fn visit_by_road() -> Vec<(String, f64)> {
    let expected: Value = serde_json::from_slice(&std::fs::read(fixture("grid/roads_expected.json")).unwrap()).unwrap();
    let pop: std::collections::HashMap<String, f64> = csv::Reader::from_path(fixture("grid/population.csv"))
        .unwrap()
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].to_string(), r[2].parse().unwrap())
        })
        .collect();
    expected["cells"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["doctor_min"].as_f64().unwrap() <= 20.0 && e["doctor_km"].as_f64().unwrap() <= 16.0)
        .map(|e| {
            let code = e["mesh_code"].as_str().unwrap().to_string();
            let p = pop[&code];
            (code, p)
        })
        .collect()
}

#[test]
fn every_analysis_by_road_on_the_hand_made_grid_network() {
    let dir = tempfile::tempdir().unwrap();
    let (graph, _) = build(&fixture("grid/roads.osm.pbf"), dir.path(), &[]);
    let net = ["--network", graph.to_str().unwrap()];
    let covered = visit_by_road();
    let covered_demand: f64 = covered.iter().map(|c| c.1).sum();
    // networkx puts 400 of the 2,100 aged 65+ within the doctor's reach by road (the one-way
    // road cuts off the east); in a straight line half of them are.
    assert_eq!(covered_demand, 400.0);

    // Access: one doctor of supply 1, so 2SFCA = 1 / (demand it reaches) wherever it reaches.
    let out = dir.path().join("access");
    let o = grid_roads("access", &net, &out);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut reader = csv::Reader::from_path(out.join("access.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (mut cells, mut reached) = (0, 0);
    for rec in reader.records() {
        let rec = rec.unwrap();
        if &rec[col("level")] != "cell" || &rec[col("role")] != "doctor" || &rec[col("function")] != "visit" {
            continue;
        }
        cells += 1;
        let a: f64 = rec[col("a_2sfca")].parse().unwrap();
        if covered.iter().any(|c| c.0 == rec[col("area_code")]) {
            reached += 1;
            assert!((a - 1.0 / covered_demand).abs() < 1e-15, "{a}");
        } else {
            assert_eq!(a, 0.0);
        }
    }
    assert_eq!((cells, reached), (20, covered.len()));
    let summary: Value = serde_json::from_slice(&std::fs::read(out.join("access_summary.json")).unwrap()).unwrap();
    assert!(summary["method"]["distance_unit"]
        .as_str()
        .unwrap()
        .starts_with("minutes"));

    // Catchments: the in-area supply by road. With the share floor left out (no grouping can
    // reach 90 %), the one catchment covers in-area exactly what networkx covers.
    let out = dir.path().join("catchments");
    let o = grid_roads("catchments", &net, &out);
    assert!(o.status.success(), "{}", stderr(&o));
    let check = std::fs::read_to_string(out.join("catchment_check.csv")).unwrap();
    let visit: Vec<&str> = check
        .lines()
        .find(|l| l.contains(",visit,"))
        .unwrap()
        .split(',')
        .collect();
    assert_eq!((visit[4], visit[5]), ("2100", "400"), "{check}");
    let summary: Value = serde_json::from_slice(&std::fs::read(out.join("catchments_summary.json")).unwrap()).unwrap();
    assert!(summary["reach"]
        .as_str()
        .unwrap()
        .starts_with("in-area service by road"));

    // Suggest: the sites' added demand is what coverage by road gains with them added.
    let out = dir.path().join("suggest");
    let mut args = net.to_vec();
    args.extend(["--function", "visit", "--sites", "2"]);
    let o = grid_roads("suggest", &args, &out);
    assert!(o.status.success(), "{}", stderr(&o));
    let mut added = 0.0;
    let mut institutions = std::fs::read_to_string(fixture("grid/institutions.csv")).unwrap();
    for rec in csv::Reader::from_path(out.join("suggestions.csv")).unwrap().records() {
        let rec = rec.unwrap();
        added += rec[8].parse::<f64>().unwrap();
        institutions.push_str(&format!("{},site,clinic,{},{},1\n", &rec[2], &rec[5], &rec[6]));
    }
    assert!(added > 0.0);
    let with_sites = dir.path().join("with_sites.csv");
    std::fs::write(&with_sites, institutions).unwrap();
    let cov = dir.path().join("cov");
    let mut args = vec![
        "coverage".to_string(),
        "--quiet".into(),
        "--municipalities".into(),
        fixture("grid/municipalities.geojson").display().to_string(),
        "--institutions".into(),
        with_sites.display().to_string(),
        "--population".into(),
        fixture("grid/population.csv").display().to_string(),
        "--rules".into(),
        fixture("grid/rules_roads.toml").display().to_string(),
        "--out".into(),
        cov.display().to_string(),
    ];
    args.extend(net.iter().map(|s| s.to_string()));
    let o = zaitaku(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.status.success(), "{}", stderr(&o));
    let summary: Value = serde_json::from_slice(&std::fs::read(cov.join("summary.json")).unwrap()).unwrap();
    assert_eq!(
        summary["total"]["visit"]["covered"].as_f64().unwrap(),
        covered_demand + added
    );
}

#[test]
fn report_by_road_has_coverage_and_catchments_in_minutes() {
    let dir = tempfile::tempdir().unwrap();
    let (graph, _) = build(&fixture("grid/roads.osm.pbf"), dir.path(), &[]);
    let out = dir.path().join("report");
    let o = grid_roads("report", &["--network", graph.to_str().unwrap()], &out);
    assert!(o.status.success(), "{}", stderr(&o));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("reach measured as road travel time"));
    assert!(out.join("catchments.geojson").exists());
    // The same coverage as the coverage command by road.
    let cov = dir.path().join("cov");
    assert!(grid_roads_coverage(&["--network", graph.to_str().unwrap()], &cov)
        .status
        .success());
    assert_eq!(
        std::fs::read(out.join("coverage.csv")).unwrap(),
        std::fs::read(cov.join("coverage.csv")).unwrap()
    );
    let db = rusqlite::Connection::open(out.join("zaitaku.gpkg")).unwrap();
    let layers: Vec<String> = db
        .prepare("SELECT table_name FROM gpkg_contents WHERE data_type = 'features' ORDER BY table_name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        layers,
        vec!["capacity", "catchments", "coverage", "gaps", "institutions"]
    );
    // Capacity by road too: its providers' travel in minutes.
    let providers = std::fs::read_to_string(out.join("capacity_providers.csv")).unwrap();
    assert!(providers.lines().next().unwrap().contains(",mean_travel_min,"));
    assert!(html.contains("id=\"capacity\""));
}

/// Every analysis by road gives the same bytes from a graph with its contraction hierarchy
/// (swept) and from the same graph without it (a version 1 file, searched with Dijkstra).
#[test]
fn the_hierarchy_changes_no_output() {
    let dir = tempfile::tempdir().unwrap();
    let (with, g) = build(&fixture("grid/roads.osm.pbf"), dir.path(), &[]);
    assert!(g.hierarchy.is_some());
    let plain_dir = dir.path().join("plain");
    std::fs::create_dir_all(&plain_dir).unwrap();
    let without = plain_dir.join("g.graph");
    let mut stripped = g.clone();
    stripped.hierarchy = None;
    let bytes = stripped.to_bytes();
    assert_eq!(u32::from_le_bytes(bytes[16..20].try_into().unwrap()), 1);
    std::fs::write(&without, bytes).unwrap();
    for command in ["coverage", "access", "catchments", "capacity", "criticality"] {
        let mut outputs = Vec::new();
        for (name, graph) in [("with", &with), ("without", &without)] {
            let out = dir.path().join(format!("{command}-{name}"));
            let o = grid_roads(command, &["--network", graph.to_str().unwrap()], &out);
            assert!(o.status.success(), "{command}: {}", stderr(&o));
            outputs.push(out);
        }
        let mut files: Vec<_> = std::fs::read_dir(&outputs[0])
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        files.sort();
        assert!(files.len() > 3, "{command}: {files:?}");
        for f in files {
            let name = f.to_string_lossy();
            if name == "timings.json" {
                continue;
            }
            let (a, b) = (
                std::fs::read(outputs[0].join(&f)).unwrap(),
                std::fs::read(outputs[1].join(&f)).unwrap(),
            );
            // Only the graph's path differs (in the summaries).
            let b = match String::from_utf8(b) {
                Ok(text) => text
                    .replace(&without.display().to_string(), &with.display().to_string())
                    .into_bytes(),
                Err(e) => e.into_bytes(),
            };
            assert!(a == b, "{command}: {name} differs");
        }
    }
    // A limit beyond what the sweeps take (2^30 tenths of a second) is searched on the
    // graph: the run succeeds, and with such a limit every place the network joins is
    // reached as without a hierarchy.
    let rules = std::fs::read_to_string(fixture("grid/rules_roads.toml"))
        .unwrap()
        .replace("reach_min = 20.0", "reach_min = 3000000.0");
    let long = dir.path().join("long.toml");
    std::fs::write(&long, rules).unwrap();
    let mut csvs = Vec::new();
    for (name, graph) in [("with", &with), ("without", &without)] {
        let out = dir.path().join(format!("long-{name}"));
        let o = grid_with_rules("coverage", &long, &["--network", graph.to_str().unwrap()], &out);
        assert!(o.status.success(), "{}", stderr(&o));
        csvs.push(std::fs::read(out.join("coverage.csv")).unwrap());
    }
    assert!(csvs[0] == csvs[1]);
}
