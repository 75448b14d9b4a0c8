//! Criticality against actual single-closure runs: an institution's `all` figure per
//! function must equal the fall in covered demand when that institution alone is removed
//! and reach and coverage are measured afresh; and by road on the hand-made grid network,
//! where networkx fixes the figures.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use zaitaku::coverage;
use zaitaku::criticality::{self, RoleSlot};
use zaitaku::progress::Progress;
use zaitaku::reach::straight::straight_line_reach;
use zaitaku::reach::ReachTable;
use zaitaku::study::Study;

fn fixture(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(p)
}

/// Reach in a straight line and coverage, measured afresh.
fn measure(study: &Study) -> (ReachTable, coverage::Coverage) {
    let reach = straight_line_reach(
        &study.demand.places(),
        &study.institutions,
        &study.rules,
        Progress::Quiet,
    );
    let cov = coverage::compute(&study.demand, &study.municipalities, &study.rules, &reach);
    (reach, cov)
}

fn covered_totals(study: &Study) -> Vec<f64> {
    measure(study).1.total.iter().map(|s| s.covered).collect()
}

#[test]
fn unique_demand_equals_single_closure_reruns_on_the_demo_study() {
    let study = zaitaku::study::load(&zaitaku::demo::sources(), Progress::Quiet).unwrap();
    let (reach, cov) = measure(&study);
    let c = criticality::compute(&study, &reach, &cov, None);
    let base: Vec<f64> = cov.total.iter().map(|s| s.covered).collect();
    assert_eq!(c.covered, base);

    // Per institution, per function: the `all` figure; and per role.
    let mut all: HashMap<(usize, usize), f64> = HashMap::new();
    for (f, entries) in c.functions.iter().enumerate() {
        for e in entries {
            assert_eq!(e.function, f);
            assert!(e.unique_demand >= 0.0);
            if e.role == RoleSlot::All {
                all.insert((e.institution, f), e.unique_demand);
            }
        }
        // No role's figure exceeds the institution's `all`, and `all` is at most the sum of
        // its roles' figures.
        for e in entries.iter().filter(|e| e.role != RoleSlot::All) {
            assert!(e.unique_demand <= all[&(e.institution, f)] + 1e-9);
        }
        assert!(c.fragile[f] <= base[f] + 1e-9);
    }
    // The institutions to close: the three most critical of each function, and ten with no
    // unique demand for any function.
    let mut chosen: Vec<usize> = Vec::new();
    for f in 0..study.rules.functions.len() {
        let mut ranked: Vec<(usize, f64)> = all.iter().filter(|(k, _)| k.1 == f).map(|(k, &v)| (k.0, v)).collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        chosen.extend(ranked.iter().take(3).map(|x| x.0));
    }
    let idle: Vec<usize> = (0..study.institutions.len())
        .filter(|&k| {
            let mine: Vec<f64> = all.iter().filter(|(key, _)| key.0 == k).map(|(_, &v)| v).collect();
            !mine.is_empty() && mine.iter().all(|&v| v == 0.0)
        })
        .step_by(97)
        .take(10)
        .collect();
    assert_eq!(idle.len(), 10);
    chosen.extend(idle);
    chosen.sort_unstable();
    chosen.dedup();
    let mut losses = 0;
    for &k in &chosen {
        let mut closed = study.clone();
        closed.institutions.remove(k);
        let after = covered_totals(&closed);
        for f in 0..study.rules.functions.len() {
            let lost = base[f] - after[f];
            let expected = all.get(&(k, f)).copied().unwrap_or(0.0);
            assert!(
                (lost - expected).abs() < 1e-6,
                "closing {} loses {lost} of {}, criticality says {expected}",
                study.institutions[k].id,
                study.rules.functions[f].id
            );
            if lost > 0.0 {
                losses += 1;
            }
        }
    }
    // The test closes institutions that do uncover people.
    assert!(losses >= 5, "{losses}");
}

#[test]
fn criticality_by_road_on_the_hand_made_grid_network() {
    let dir = tempfile::tempdir().unwrap();
    let graph = dir.path().join("roads.graph");
    let run = |args: &[&str]| {
        let o = Command::new(env!("CARGO_BIN_EXE_zaitaku")).args(args).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        o
    };
    run(&[
        "network",
        "build",
        "--quiet",
        "--pbf",
        fixture("grid/roads.osm.pbf").to_str().unwrap(),
        "--out",
        graph.to_str().unwrap(),
    ]);
    let (m, p, r) = (
        fixture("grid/municipalities.geojson"),
        fixture("grid/population.csv"),
        fixture("grid/rules_roads.toml"),
    );
    let analyse = |command: &str, institutions: &Path, out: &Path| {
        run(&[
            command,
            "--quiet",
            "--municipalities",
            m.to_str().unwrap(),
            "--population",
            p.to_str().unwrap(),
            "--institutions",
            institutions.to_str().unwrap(),
            "--rules",
            r.to_str().unwrap(),
            "--network",
            graph.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
    };
    let out = dir.path().join("critical");
    analyse("criticality", &fixture("grid/institutions.csv"), &out);
    let mut figures: HashMap<(String, String, String), f64> = HashMap::new();
    for rec in csv::Reader::from_path(out.join("criticality.csv")).unwrap().records() {
        let rec = rec.unwrap();
        figures.insert(
            (rec[0].to_string(), rec[4].to_string(), rec[5].to_string()),
            rec[6].parse().unwrap(),
        );
    }
    // networkx (fixtures/grid/roads_expected.json) puts 400 aged 65+ within 20 minutes of
    // the one visiting doctor, C1: every one of them is C1's alone.
    assert_eq!(figures[&("C1".into(), "visit".into(), "all".into())], 400.0);
    assert_eq!(figures[&("C1".into(), "visit".into(), "doctor".into())], 400.0);
    // C2 makes no home visits: it fills no role and has no row.
    assert!(!figures.keys().any(|k| k.0 == "C2"));

    // Every institution's `all` figure equals the fall of a coverage run without it.
    let covered = |dir: &Path| -> HashMap<String, f64> {
        let s: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("summary.json")).unwrap()).unwrap();
        s["total"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(f, v)| (f.clone(), v["covered"].as_f64().unwrap()))
            .collect()
    };
    let base_dir = dir.path().join("base");
    analyse("coverage", &fixture("grid/institutions.csv"), &base_dir);
    let base = covered(&base_dir);
    let text = std::fs::read_to_string(fixture("grid/institutions.csv")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    for (n, line) in lines.iter().enumerate().skip(1) {
        let id = line.split(',').next().unwrap();
        let without: String = lines
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != n)
            .map(|(_, l)| format!("{l}\n"))
            .collect();
        let file = dir.path().join(format!("without_{id}.csv"));
        std::fs::write(&file, without).unwrap();
        let after_dir = dir.path().join(format!("without_{id}"));
        analyse("coverage", &file, &after_dir);
        let after = covered(&after_dir);
        for (f, b) in &base {
            let expected = figures
                .get(&(id.to_string(), f.clone(), "all".into()))
                .copied()
                .unwrap_or(0.0);
            assert_eq!(b - after[f], expected, "closing {id}, function {f}");
        }
    }
}
