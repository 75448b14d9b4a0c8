//! End-to-end tests: the built binary on the fixtures, as a user runs it.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(path)
}

fn zaitaku(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_zaitaku"))
        .args(args)
        .output()
        .expect("run zaitaku")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs coverage on the grid fixture (with `extra` arguments) into a fresh folder.
fn grid_run(extra: &[&str]) -> (tempfile::TempDir, PathBuf) {
    grid_command("coverage", extra)
}

/// Runs `command` on the grid fixture (with `extra` arguments) into a fresh folder.
fn grid_command(command: &str, extra: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let m = fixture("grid/municipalities.geojson");
    let i = fixture("grid/institutions.csv");
    let r = fixture("grid/rules.toml");
    let mut args = vec![
        command,
        "--quiet",
        "--municipalities",
        m.to_str().unwrap(),
        "--institutions",
        i.to_str().unwrap(),
        "--rules",
        r.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let o = zaitaku(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    (dir, out)
}

fn read_csv(path: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let headers = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            headers
                .iter()
                .map(String::from)
                .zip(rec.unwrap().iter().map(String::from))
                .collect()
        })
        .collect()
}

fn close(got: &str, want: f64, tol: f64, what: &str) {
    let g: f64 = got
        .parse()
        .unwrap_or_else(|_| panic!("{what}: '{got}' is not a number"));
    assert!((g - want).abs() <= tol, "{what}: got {g}, want {want}");
}

#[test]
fn grid_coverage_matches_geographiclib_reference() {
    let pop = fixture("grid/population.csv");
    let (_dir, out) = grid_run(&["--population", pop.to_str().unwrap()]);
    let expected: Value = serde_json::from_slice(&std::fs::read(fixture("grid/expected.json")).unwrap()).unwrap();
    let rows = read_csv(&out.join("coverage.csv"));
    assert_eq!(rows.len(), 9 * 2);
    for row in &rows {
        let code = &row["municipality_code"];
        let f = &row["function"];
        match expected["municipalities"][code].get(f) {
            Some(e) => {
                let what = format!("{code} {f}");
                close(&row["demand"], e["demand"].as_f64().unwrap(), 1e-9, &what);
                close(&row["covered"], e["covered"].as_f64().unwrap(), 1e-9, &what);
                close(&row["share"], e["share"].as_f64().unwrap(), 1e-6, &what);
                close(&row["mean_km"], e["mean_km"].as_f64().unwrap(), 1e-3, &what);
                close(&row["p90_km"], e["p90_km"].as_f64().unwrap(), 1e-3, &what);
                close(&row["max_km"], e["max_km"].as_f64().unwrap(), 1e-3, &what);
            }
            // Municipalities without people: demand 0 and no share.
            None => {
                assert_eq!(row["demand"], "0", "{code}");
                assert_eq!(row["share"], "", "{code}");
            }
        }
    }
    // Per-cell distances, from the Parquet table.
    let file = std::fs::File::open(out.join("cells.parquet")).unwrap();
    use polars::prelude::*;
    let df = ParquetReader::new(file).finish().unwrap();
    let codes = df.column("mesh_code").unwrap().str().unwrap().clone();
    let doctor = df.column("doctor_km").unwrap().f64().unwrap().clone();
    let team = df.column("team_covered").unwrap().bool().unwrap().clone();
    let cells = expected["cells"].as_array().unwrap();
    assert_eq!(df.height(), cells.len());
    for e in cells {
        let i = (0..df.height())
            .find(|&i| codes.get(i) == e["mesh_code"].as_str())
            .unwrap();
        // Within 0.2 m of geographiclib (the short-distance formula's bound).
        assert!((doctor.get(i).unwrap() - e["doctor_km"].as_f64().unwrap()).abs() < 2e-4);
        assert_eq!(team.get(i).unwrap(), e["team"].as_bool().unwrap());
    }
    // roles.csv: m5 (20005) has the one visiting clinic within reach of all its demand.
    let roles = read_csv(&out.join("roles.csv"));
    let m5 = roles
        .iter()
        .find(|r| r["municipality_code"] == "20005" && r["role"] == "doctor" && r["function"] == "visit")
        .unwrap();
    assert_eq!(m5["share"], "1");
    assert_eq!(m5["providers_mean"], "1");
}

#[test]
fn gaps_list_uncovered_cells_with_missing_roles() {
    let pop = fixture("grid/population.csv");
    let (_dir, out) = grid_run(&["--population", pop.to_str().unwrap()]);
    let expected: Value = serde_json::from_slice(&std::fs::read(fixture("grid/expected.json")).unwrap()).unwrap();
    let gaps: Value = serde_json::from_slice(&std::fs::read(out.join("gaps.geojson")).unwrap()).unwrap();
    let features = gaps["features"].as_array().unwrap();
    let cells = expected["cells"].as_array().unwrap();
    let uncovered_team = cells.iter().filter(|c| !c["team"].as_bool().unwrap()).count();
    let uncovered_visit = cells.iter().filter(|c| !c["visit"].as_bool().unwrap()).count();
    assert_eq!(features.len(), uncovered_team + uncovered_visit);
    // A cell east of the clinic, beyond the nurse's reach only, misses exactly the nurse.
    let e = cells
        .iter()
        .find(|c| c["visit"].as_bool().unwrap() && !c["team"].as_bool().unwrap())
        .unwrap();
    let f = features
        .iter()
        .find(|f| f["properties"]["mesh_code"] == e["mesh_code"] && f["properties"]["function"] == "team")
        .unwrap();
    assert_eq!(f["properties"]["missing_roles"], "nurse");
    assert_eq!(f["geometry"]["type"], "Polygon");
}

#[test]
fn without_population_demand_is_area_on_a_grid() {
    let (_dir, out) = grid_run(&[]);
    let rows = read_csv(&out.join("coverage.csv"));
    let m5 = rows
        .iter()
        .find(|r| r["municipality_code"] == "20005" && r["function"] == "visit")
        .unwrap();
    // m5 is 0.25 x 0.2 degrees at lat 36.2-36.4: 22.44 km x 22.20 km = 498 km² on the sphere;
    // its corners are 15.8 km from the clinic at its centre, so all of it is within 16 km.
    close(&m5["demand"], 498.0, 3.0, "m5 area");
    assert_eq!(m5["share"], "1");
    let summary: Value = serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["demand"]["basis"]["basis"], "area_grid");
    let geo: Value = serde_json::from_slice(&std::fs::read(out.join("coverage.geojson")).unwrap()).unwrap();
    assert!(geo["features"][0]["properties"]["demand_basis"]
        .as_str()
        .unwrap()
        .starts_with("area_km2"));
}

#[test]
fn coverage_geojson_is_rfc7946_with_ccw_exteriors() {
    let pop = fixture("grid/population.csv");
    let (_dir, out) = grid_run(&["--population", pop.to_str().unwrap()]);
    let geo: Value = serde_json::from_slice(&std::fs::read(out.join("coverage.geojson")).unwrap()).unwrap();
    let features = geo["features"].as_array().unwrap();
    assert_eq!(features.len(), 9);
    for f in features {
        assert_eq!(f["geometry"]["type"], "MultiPolygon");
        let ring = f["geometry"]["coordinates"][0][0].as_array().unwrap();
        let pts: Vec<(f64, f64)> = ring
            .iter()
            .map(|p| (p[0].as_f64().unwrap(), p[1].as_f64().unwrap()))
            .collect();
        let twice_area: f64 = pts.windows(2).map(|w| w[0].0 * w[1].1 - w[1].0 * w[0].1).sum();
        assert!(twice_area > 0.0, "exterior ring must be counter-clockwise");
        for key in [
            "code",
            "name",
            "prefecture",
            "population",
            "demand",
            "visit_share",
            "visit_uncovered",
            "visit_p90_km",
            "team_share",
        ] {
            assert!(f["properties"].get(key).is_some(), "missing {key}");
        }
    }
}

#[test]
fn summary_accounts_for_every_row() {
    let pop = fixture("grid/population.csv");
    let (_dir, out) = grid_run(&["--population", pop.to_str().unwrap()]);
    let summary: Value = serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    for f in summary["inputs"].as_array().unwrap() {
        let (read, acc, rej) = (
            f["read"].as_u64().unwrap(),
            f["accepted"].as_u64().unwrap(),
            f["rejected"].as_u64().unwrap(),
        );
        assert_eq!(read, acc + rej, "{}", f["file"]);
    }
    assert_eq!(summary["total"]["visit"]["demand"], 2100.0);
    assert_eq!(summary["providers_per_role"]["doctor"], 1);
}

#[test]
fn bad_rows_go_to_rejects_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let inst = dir.path().join("inst.csv");
    std::fs::write(
        &inst,
        "id,name,kind,lat,lon,home_visits\nC1,a,clinic,36.3,138.375,1\nC2,b,clinic,138.3,36.3,1\nC3,c,spaceport,36.3,138.3,1\nC1,d,clinic,36.3,138.3,1\nC4,e,clinic,x,138.3,1\n",
    )
    .unwrap();
    let pop = dir.path().join("pop.csv");
    std::fs::write(
        &pop,
        "mesh_code,population,population_65plus\n54383461,10,5\n5438346,10,5\n10383461,10,5\n54383462,10,5\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let o = zaitaku(&[
        "coverage",
        "--municipalities",
        fixture("grid/municipalities.geojson").to_str().unwrap(),
        "--institutions",
        inst.to_str().unwrap(),
        "--population",
        pop.to_str().unwrap(),
        "--rules",
        fixture("grid/rules.toml").to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rejects = read_csv(&out.join("rejects.csv"));
    let mut got: Vec<(String, String)> = rejects
        .iter()
        .map(|r| (r["location"].clone(), r["reason"].chars().take(30).collect()))
        .collect();
    got.sort();
    let inst_name = inst.display().to_string();
    assert!(rejects.iter().filter(|r| r["file"] == inst_name).count() == 4);
    assert_eq!(
        got,
        vec![
            ("line 3".to_string(), "lat 138.3 and lon 36.3 look sw".to_string()),
            ("line 3".to_string(), "mesh code '5438346' has 7 digi".to_string()),
            ("line 4".to_string(), "mesh code '10383461' lies outs".to_string()),
            ("line 4".to_string(), "unknown kind 'spaceport' (expe".to_string()),
            ("line 5".to_string(), "duplicate id 'C1' (the first o".to_string()),
            ("line 6".to_string(), "lat 'x' is not a number".to_string()),
        ]
    );
    let summary: Value = serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["rejected_total"], 6);
    // Every input: rows read = accepted + rejected, and the rejected ones are in rejects.csv.
    for f in summary["inputs"].as_array().unwrap() {
        let name = f["file"].as_str().unwrap();
        let (read, acc, rej) = (
            f["read"].as_u64().unwrap(),
            f["accepted"].as_u64().unwrap(),
            f["rejected"].as_u64().unwrap(),
        );
        assert_eq!(read, acc + rej, "{name}");
        let listed = rejects.iter().filter(|r| r["file"] == name).count() as u64;
        assert_eq!(listed, rej, "{name}: {rej} rejected, {listed} in rejects.csv");
    }
    assert_eq!(summary["inputs"][1]["read"], 5);
    assert_eq!(summary["inputs"][1]["accepted"], 1);
}

/// Each bad file: exit 2, one message naming the file and the place, and nothing written.
#[test]
fn bad_input_files_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    let good_m = fixture("grid/municipalities.geojson").display().to_string();
    let good_i = fixture("grid/institutions.csv").display().to_string();
    let missing = dir.path().join("nope.geojson").display().to_string();
    let cases: Vec<(&str, Vec<String>, String)> = vec![
        ("missing file", vec!["--municipalities".into(), missing.clone()], format!("{missing}: file not found")),
        ("empty file", vec!["--municipalities".into(), write("empty.geojson", "  \n")], "empty.geojson: file is empty".into()),
        ("not JSON", vec!["--municipalities".into(), write("bad.geojson", "{\"type\": \"FeatureCollection\",\n \"features\": [ oops")], "bad.geojson: line 2: not valid JSON".into()),
        (
            "not a FeatureCollection",
            vec!["--municipalities".into(), write("feature.geojson", r#"{"type":"Feature","properties":{},"geometry":null}"#)],
            "feature.geojson: a single GeoJSON Feature, not a FeatureCollection".into(),
        ),
        (
            "unrepairable ring",
            vec![
                "--municipalities".into(),
                write(
                    "ring.geojson",
                    r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"N03_007":"20001"},"geometry":{"type":"Polygon","coordinates":[[[138,36],[138.1,36.1],[138,36]]]}}]}"#,
                ),
            ],
            "ring.geojson: feature 1 (N03_007=20001): a ring has 3 positions".into(),
        ),
        (
            "CSV without a required column",
            vec!["--institutions".into(), write("nolon.csv", "id,name,kind,lat\nA,a,clinic,36\n")],
            "nolon.csv: line 1: required column 'lon' is missing".into(),
        ),
        (
            "no usable row",
            vec!["--institutions".into(), write("allbad.csv", "id,name,kind,lat,lon\nA,a,clinic,0,0\nB,b,clinic,1,1\n")],
            "allbad.csv: no usable institution among 2 rows".into(),
        ),
        (
            "population without a usable row",
            vec!["--population".into(), write("pop.csv", "mesh_code,population,population_65plus\n12,1,1\n")],
            "pop.csv: no usable mesh cell among 1 rows".into(),
        ),
        (
            "rules with an unknown key",
            vec!["--rules".into(), write("key.toml", "[[functions]]\nid = \"a\"\nreach = 3\nroles = []\n")],
            "key.toml: line 3: unknown field `reach`".into(),
        ),
        (
            "rules with an unknown kind",
            vec!["--rules".into(), write("kind.toml", "[[functions]]\nid = \"a\"\n[[functions.roles]]\nid = \"r\"\nkinds = [\"temple\"]\nreach_km = 3.0\n")],
            "kind.toml: line 5: unknown kind 'temple'".into(),
        ),
    ];
    for (what, args, message) in cases {
        let out = dir.path().join(format!("out-{}", what.replace(' ', "-")));
        let mut all: Vec<String> = vec!["coverage".into(), "--out".into(), out.display().to_string()];
        if !args.contains(&"--municipalities".to_string()) {
            all.extend(["--municipalities".into(), good_m.clone()]);
        }
        if !args.contains(&"--institutions".to_string()) {
            all.extend(["--institutions".into(), good_i.clone()]);
        }
        all.extend(args);
        let o = zaitaku(&all.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(o.status.code(), Some(2), "{what}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains(&message), "{what}: expected '{message}' in:\n{err}");
        assert_eq!(err.lines().count(), 1, "{what}: one message, got:\n{err}");
        assert!(
            !out.exists() || std::fs::read_dir(&out).unwrap().count() == 0,
            "{what}: wrote output"
        );
    }
}

#[test]
fn demo_is_deterministic_across_thread_counts() {
    let dir = tempfile::tempdir().unwrap();
    let runs: Vec<PathBuf> = ["1", "2", "8"]
        .iter()
        .map(|t| {
            let out = dir.path().join(format!("t{t}"));
            let o = zaitaku(&["demo", "--threads", t, "--out", out.to_str().unwrap()]);
            assert!(o.status.success(), "{}", stderr(&o));
            let text = String::from_utf8_lossy(&o.stdout).into_owned();
            assert!(text.contains("daily"), "{text}");
            assert!(text.contains("coverage.geojson"), "{text}");
            out
        })
        .collect();
    let mut compared = 0;
    for folder in ["", "future", "maps", "compare", "by_road"] {
        for entry in std::fs::read_dir(runs[0].join(folder)).unwrap() {
            let entry = entry.unwrap();
            let name = std::path::Path::new(folder).join(entry.file_name());
            if entry.file_type().unwrap().is_dir() || entry.file_name() == "timings.json" {
                continue;
            }
            let a = std::fs::read(runs[0].join(&name)).unwrap();
            for (run, threads) in runs[1..].iter().zip(["2", "8"]) {
                let b = std::fs::read(run.join(&name)).unwrap();
                assert!(a == b, "{name:?} differs between --threads 1 and {threads}");
            }
            compared += 1;
        }
    }
    // 45 files of the census-year study (34 of the analyses, eight QGIS styles, the
    // institutions layer, the GeoPackage and the report page), 21 of the projection
    // (coverage by year and catchments, with their four styles), 10 maps, 5 of the
    // comparison with the suggested sites, 25 by road (coverage with unsnapped.csv and two
    // styles, access, criticality and capacity with their styles, the road graph).
    assert_eq!(compared, 45 + 21 + 10 + 5 + 25);

    // The comparison's gain for the suggested function is what suggest said the sites add
    // (computed apart: suggest's greedy gains on the base's reach, compare's on the reach
    // updated with the new sites), and no function loses.
    let suggested: f64 = read_csv(&runs[0].join("suggestions.csv"))
        .iter()
        .map(|r| r["added_demand"].parse::<f64>().unwrap())
        .sum();
    let summary: Value =
        serde_json::from_slice(&std::fs::read(runs[0].join("compare/compare_summary.json")).unwrap()).unwrap();
    let functions = summary["functions"].as_object().unwrap();
    let acute = &functions["acute"];
    assert!(suggested > 1000.0, "{suggested}");
    assert!(
        (acute["gained"].as_f64().unwrap() - suggested).abs() < 0.01,
        "{acute} against {suggested}"
    );
    assert_eq!(functions.len(), 5);
    assert!(
        functions.values().all(|f| f["lost"].as_f64().unwrap() == 0.0),
        "{summary}"
    );
}

#[test]
fn access_on_the_grid_by_hand() {
    let pop = fixture("grid/population.csv");
    let (dir, out) = grid_command("access", &["--population", pop.to_str().unwrap()]);
    let f = |p: &str| fixture(p).display().to_string();
    let expected: Value = serde_json::from_slice(&std::fs::read(fixture("grid/expected.json")).unwrap()).unwrap();
    let cells = expected["cells"].as_array().unwrap();
    // One doctor (supply 1) shared by the demand within 16 km: R = 1 / that demand, and
    // every cell within reach gets R.
    let in_reach: f64 = cells
        .iter()
        .filter(|c| c["doctor_km"].as_f64().unwrap() <= 16.0)
        .map(|c| c["demand"].as_f64().unwrap())
        .sum();
    let rows = read_csv(&out.join("access.csv"));
    for c in cells {
        let row = rows
            .iter()
            .find(|r| {
                r["level"] == "cell"
                    && r["area_code"] == c["mesh_code"].as_str().unwrap()
                    && r["role"] == "doctor"
                    && r["function"] == "visit"
            })
            .unwrap();
        let want = if c["doctor_km"].as_f64().unwrap() <= 16.0 {
            1.0 / in_reach
        } else {
            0.0
        };
        close(&row["a_2sfca"], want, 1e-9, "cell a_2sfca");
    }
    // Municipality 20006: share of its demand with no doctor within reach, and the Gini of
    // two groups (one with access R, one with none).
    let m6 = rows
        .iter()
        .find(|r| r["level"] == "municipality" && r["area_code"] == "20006" && r["role"] == "doctor")
        .unwrap();
    let e6 = &expected["municipalities"]["20006"]["visit"];
    let covered_share = e6["covered"].as_f64().unwrap() / e6["demand"].as_f64().unwrap();
    close(&m6["zero_access_share"], 1.0 - covered_share, 1e-6, "zero share");
    // Gini of {R with weight c, 0 with weight 1-c} is 1 - c.
    close(&m6["gini"], 1.0 - covered_share, 1e-6, "gini");
    // Regions: R1 = 20004 + 20005 (demand 130 + 150 and 630 in 20004 and 20005; 150 of
    // it beyond the doctor's reach), a region's Gini is over all its places.
    let regions = dir.path().join("regions.csv");
    std::fs::write(
        &regions,
        "municipality_code,region_code,region_name\n20004,R1,west\n20005,R1,west\n200061,R2,bad\n",
    )
    .unwrap();
    let (_dir2, out2) = grid_command(
        "access",
        &[
            "--population",
            pop.to_str().unwrap(),
            "--regions",
            regions.to_str().unwrap(),
        ],
    );
    let rows = read_csv(&out2.join("access.csv"));
    let r1 = rows
        .iter()
        .find(|r| r["level"] == "region" && r["area_code"] == "R1" && r["function"] == "visit")
        .unwrap();
    let m = &expected["municipalities"];
    let (d4, c4) = (
        m["20004"]["visit"]["demand"].as_f64().unwrap(),
        m["20004"]["visit"]["covered"].as_f64().unwrap(),
    );
    let (d5, c5) = (
        m["20005"]["visit"]["demand"].as_f64().unwrap(),
        m["20005"]["visit"]["covered"].as_f64().unwrap(),
    );
    let covered = (c4 + c5) / (d4 + d5);
    close(&r1["demand"], d4 + d5, 1e-9, "R1 demand");
    close(&r1["a_2sfca"], covered / in_reach, 1e-9, "R1 mean");
    close(&r1["gini"], 1.0 - covered, 1e-6, "R1 gini");
    let rejects = read_csv(&out2.join("rejects.csv"));
    assert_eq!(rejects.len(), 1);
    assert!(
        rejects[0]["reason"].contains("check digit 1 but should have 9"),
        "{:?}",
        rejects[0]
    );
    // Bad steps: exit 2 naming the flag.
    let o = zaitaku(&[
        "access",
        "--municipalities",
        &f("grid/municipalities.geojson"),
        "--institutions",
        &f("grid/institutions.csv"),
        "--steps",
        "10:1,5:0.5",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--steps \"10:1,5:0.5\": step 2: bound 5 does not increase"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn indicators_on_the_grid_by_hand() {
    let pop = fixture("grid/population.csv");
    let dir = tempfile::tempdir().unwrap();
    let regions = dir.path().join("regions.csv");
    std::fs::write(
        &regions,
        "municipality_code,region_code,region_name\n20004,R1,west\n20005,R1,west\n",
    )
    .unwrap();
    let table = dir.path().join("deaths.csv");
    std::fs::write(&table, "municipality_code,home_deaths\n20004,3\n20005,2\n20099,1\n").unwrap();
    let targets = dir.path().join("targets.csv");
    std::fs::write(
        &targets,
        "indicator,area_code,target,direction,measure\nhome_visit_institutions,20005,2,at_least,count\n\
         coverage_visit,20005,0.9,at_least,\nvisiting_nurse_stations,R1,1,sideways,count\n",
    )
    .unwrap();
    let (_d, out) = grid_command(
        "indicators",
        &[
            "--population",
            pop.to_str().unwrap(),
            "--regions",
            regions.to_str().unwrap(),
            "--table",
            table.to_str().unwrap(),
            "--targets",
            targets.to_str().unwrap(),
        ],
    );
    let rows = read_csv(&out.join("indicators.csv"));
    let get = |level: &str, area: &str, ind: &str| {
        rows.iter()
            .find(|r| r["level"] == level && r["area_code"] == area && r["indicator"] == ind)
            .unwrap_or_else(|| panic!("no row {level} {area} {ind}"))
    };
    // The population file: cells k = 1..20 hold 100 k people and 10 k aged 65+; 20005 holds
    // the cells east of lon 138.25 and west of 138.5.
    let expected: Value = serde_json::from_slice(&std::fs::read(fixture("grid/expected.json")).unwrap()).unwrap();
    let p65_m5 = expected["municipalities"]["20005"]["visit"]["demand"].as_f64().unwrap();
    let m5 = get("municipality", "20005", "home_visit_institutions");
    close(&m5["count"], 1.0, 0.0, "one visiting clinic in 20005");
    close(&m5["per_100k_65plus"], 1.0 / p65_m5 * 100_000.0, 1e-4, "per 100k 65+");
    close(&m5["per_100k"], 1.0 / (10.0 * p65_m5) * 100_000.0, 1e-4, "per 100k");
    close(
        &get("municipality", "20006", "home_visit_institutions")["count"],
        0.0,
        0.0,
        "C2 does not visit",
    );
    close(
        &get("region", "R1", "visiting_nurse_stations")["count"],
        1.0,
        0.0,
        "nurse in 20004",
    );
    close(
        &get("prefecture", "20", "home_visit_institutions")["count"],
        1.0,
        0.0,
        "prefecture",
    );
    close(&get("all", "all", "home_visit_institutions")["count"], 1.0, 0.0, "all");
    // Tables are summed as given; a column no table has is not available, not zero.
    close(&get("region", "R1", "home_deaths")["count"], 5.0, 0.0, "deaths R1");
    let missing = get("all", "all", "home_visit_patients");
    assert_eq!(
        (missing["status"].as_str(), missing["count"].as_str()),
        ("not_available", "")
    );
    // Coverage next to the counts.
    let share = expected["municipalities"]["20005"]["team"]["share"].as_f64().unwrap();
    close(
        &get("municipality", "20005", "coverage_team")["share"],
        share,
        1e-6,
        "coverage share",
    );
    // Targets: one visiting clinic against a target of 2 is 1 short; full coverage meets 0.9.
    let t = get("municipality", "20005", "home_visit_institutions");
    assert_eq!(
        (t["target"].as_str(), t["gap"].as_str(), t["met"].as_str()),
        ("2", "-1", "false")
    );
    let t = get("municipality", "20005", "coverage_visit");
    assert_eq!((t["target_measure"].as_str(), t["met"].as_str()), ("share", "true"));
    let summary: Value = serde_json::from_slice(&std::fs::read(out.join("indicators_summary.json")).unwrap()).unwrap();
    assert_eq!(summary["targets_not_met"].as_array().unwrap().len(), 1);
    // The unknown municipality of the table is a reject with its line.
    let rejects = read_csv(&out.join("rejects.csv"));
    assert!(
        rejects
            .iter()
            .any(|r| r["location"] == "line 4" && r["reason"].contains("20099")),
        "{rejects:?}"
    );
}

/// Malformed e-Stat files (the published layouts are tested in tests/public_data.rs).
#[test]
fn estat_population_file() {
    let dir = tempfile::tempdir().unwrap();
    // A third header row (labels again) is a file-level error naming the line; a code with
    // letters is a rejected row naming its line.
    let third = text_with_rows(
        ",,,,人口（総数）,人口（総数）　男,６５歳以上人口　総数,７５歳以上人口　総数\r\n543830611,0,,,120,60,40,20\r\n",
    );
    let bad = dir.path().join("third.txt");
    std::fs::write(&bad, encoding_rs::SHIFT_JIS.encode(&third).0).unwrap();
    let o = zaitaku(&["inspect", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("third.txt: line 3: a third header row"),
        "{}",
        stderr(&o)
    );
    let letters = text_with_rows("54383O611,0,,,120,60,40,20\r\n543830612,0,,,10,5,4,2\r\n");
    let bad = dir.path().join("letters.txt");
    std::fs::write(&bad, encoding_rs::SHIFT_JIS.encode(&letters).0).unwrap();
    let o = zaitaku(&["inspect", bad.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8(o.stdout).unwrap();
    assert!(text.contains("2 rows, 1 accepted, 1 rejected"), "{text}");
    assert!(text.contains("line 3: "), "{text}");
}

/// An e-Stat file: the two header rows, then `rows`.
fn text_with_rows(rows: &str) -> String {
    format!(
        "KEY_CODE,HTKSYORI,HTKSAKI,GASSAN,T001141001,T001141002,T001141019,T001141022\r\n\
         ,,,,人口（総数）,人口（総数）　男,６５歳以上人口　総数,７５歳以上人口　総数\r\n{rows}"
    )
}

#[test]
fn rules_default_prints_the_builtin_file() {
    let o = zaitaku(&["rules", "--default"]);
    assert!(o.status.success());
    let text = String::from_utf8(o.stdout).unwrap();
    assert_eq!(text, zaitaku::inputs::rules::DEFAULT_RULES);
    assert!(text.contains("16 km rule"));
}

#[test]
fn bad_usage_exits_2() {
    let o = zaitaku(&["coverage", "--out", "x"]);
    assert_eq!(o.status.code(), Some(2));
    let o = zaitaku(&["--threads", "0", "demo", "--out", "/nonexistent/x"]);
    assert_eq!(o.status.code(), Some(2));
}

/// Shares by hand from the geographiclib reference: the demand of the cells of
/// `municipalities` whose nearest doctor (and nurse, for `team`) is within 16 km and lies
/// inside the area, over their demand. The doctor is in 20005 and the nurse in 20004.
fn grid_in_area_share(expected: &Value, municipalities: &[&str], team: bool) -> Option<f64> {
    let has_doctor = municipalities.contains(&"20005");
    let has_nurse = municipalities.contains(&"20004");
    let (mut demand, mut covered) = (0.0, 0.0);
    for c in expected["cells"].as_array().unwrap() {
        if !municipalities.contains(&c["municipality_code"].as_str().unwrap()) {
            continue;
        }
        let d = c["demand"].as_f64().unwrap();
        demand += d;
        let doctor = has_doctor && c["doctor_km"].as_f64().unwrap() <= 16.0;
        let nurse = has_nurse && c["nurse_km"].as_f64().unwrap() <= 16.0;
        if doctor && (!team || nurse) {
            covered += d;
        }
    }
    (demand > 0.0).then(|| covered / demand)
}

/// A region of the grid: its code and its three municipalities.
type Region = (&'static str, [&'static str; 3]);

#[test]
fn region_check_on_the_grid_by_hand() {
    let expected: Value = serde_json::from_slice(&std::fs::read(fixture("grid/expected.json")).unwrap()).unwrap();
    let pop = fixture("grid/population.csv");
    let dir = tempfile::tempdir().unwrap();
    // Columns (west, centre, east) and rows (south, middle, north).
    let layouts: [(&str, [Region; 3]); 2] = [
        (
            "columns",
            [
                ("W", ["20001", "20004", "20007"]),
                ("C", ["20002", "20005", "20008"]),
                ("E", ["20003", "20006", "20009"]),
            ],
        ),
        (
            "rows",
            [
                ("S", ["20001", "20002", "20003"]),
                ("M", ["20004", "20005", "20006"]),
                ("N", ["20007", "20008", "20009"]),
            ],
        ),
    ];
    for (name, regions) in layouts {
        let path = dir.path().join(format!("{name}.csv"));
        let mut text = String::from("municipality_code,region_code,region_name\n");
        for (code, members) in regions {
            for m in members {
                text.push_str(&format!("{m},{code},{code}\n"));
            }
        }
        std::fs::write(&path, text).unwrap();
        let (_d, out) = grid_command(
            "catchments",
            &[
                "--population",
                pop.to_str().unwrap(),
                "--regions",
                path.to_str().unwrap(),
            ],
        );
        let rows = read_csv(&out.join("region_check.csv"));
        assert_eq!(rows.len(), 3 * 2, "{name}");
        for (code, members) in regions {
            for (function, team) in [("visit", false), ("team", true)] {
                let row = rows
                    .iter()
                    .find(|r| r["area_code"] == code && r["function"] == function)
                    .unwrap();
                let what = format!("{name} {code} {function}");
                let want = grid_in_area_share(&expected, &members, team);
                match want {
                    Some(w) => close(&row["share"], w, 1e-6, &what),
                    None => assert_eq!(row["share"], "", "{what}"),
                }
                let doctor = usize::from(members.contains(&"20005"));
                let nurse = usize::from(members.contains(&"20004"));
                assert_eq!(row["n_doctor"], doctor.to_string(), "{what}");
                assert_eq!(
                    row["n_nurse"],
                    if team { nurse.to_string() } else { String::new() },
                    "{what}"
                );
                let mut short = Vec::new();
                if doctor == 0 {
                    short.push("doctor");
                }
                if team && nurse == 0 {
                    short.push("nurse");
                }
                assert_eq!(row["short_roles"], short.join(";"), "{what}");
                let sufficient = short.is_empty() && want.is_none_or(|s| s >= 0.9);
                assert_eq!(row["self_sufficient"], sufficient.to_string(), "{what}");
            }
        }
        if name == "rows" {
            // All demand lies in the middle row, which holds both providers: its in-area
            // share equals the coverage with every provider (expected.json).
            let m = rows
                .iter()
                .find(|r| r["area_code"] == "M" && r["function"] == "team")
                .unwrap();
            let (mut d, mut c) = (0.0, 0.0);
            for cell in expected["cells"].as_array().unwrap() {
                d += cell["demand"].as_f64().unwrap();
                if cell["team"].as_bool().unwrap() {
                    c += cell["demand"].as_f64().unwrap();
                }
            }
            close(&m["share"], c / d, 1e-6, "rows M team");
            close(&m["share_all_providers"], c / d, 1e-6, "rows M team, every provider");
        }
        let assignment = read_csv(&out.join("catchment_assignment.csv"));
        assert_eq!(assignment.len(), 9);
        let adjacency = read_csv(&out.join("adjacency.csv"));
        // A 3x3 grid: 12 shared edges and 8 corner contacts.
        assert_eq!(adjacency.iter().filter(|r| r["kind"] == "rook").count(), 12);
        assert_eq!(adjacency.iter().filter(|r| r["kind"] == "queen").count(), 8);
        let summary: Value =
            serde_json::from_slice(&std::fs::read(out.join("catchments_summary.json")).unwrap()).unwrap();
        assert_eq!(summary["regions"]["areas"], 3);
    }
}

#[test]
fn catchments_bad_inputs_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    let m = fixture("grid/municipalities.geojson").display().to_string();
    let i = fixture("grid/institutions.csv").display().to_string();
    let run = |muni: &str, extra: &[&str]| {
        let out = dir.path().join("out");
        let mut args = vec![
            "catchments",
            "--quiet",
            "--municipalities",
            muni,
            "--institutions",
            &i,
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        zaitaku(&args)
    };
    let all: String = (1..=9).map(|k| format!("2000{k},R,R\n")).collect();
    // A region row naming a municipality the study does not have.
    let unknown = write(
        "unknown.csv",
        &format!("municipality_code,region_code,region_name\n{all}29998,R,R\n"),
    );
    let o = run(&m, &["--regions", &unknown]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("unknown.csv") && stderr(&o).contains("29998"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("--allow-partial"), "{}", stderr(&o));
    let o = run(&m, &["--regions", &unknown, "--allow-partial"]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Municipalities left out of every region.
    let partial = write(
        "partial.csv",
        "municipality_code,region_code,region_name\n20001,R,R\n20002,R,R\n",
    );
    let o = run(&m, &["--regions", &partial]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("7 municipalities are in no region"),
        "{}",
        stderr(&o)
    );
    // Polygons that touch nowhere.
    let apart = write(
        "apart.geojson",
        r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"N03_001":"長野県","N03_004":"a","N03_007":"20001"},"geometry":{"type":"Polygon","coordinates":[[[138.0,36.0],[138.1,36.0],[138.1,36.1],[138.0,36.1],[138.0,36.0]]]}},
{"type":"Feature","properties":{"N03_001":"長野県","N03_004":"b","N03_007":"20002"},"geometry":{"type":"Polygon","coordinates":[[[138.5,36.0],[138.6,36.0],[138.6,36.1],[138.5,36.1],[138.5,36.0]]]}}]}"#,
    );
    let o = run(&apart, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("apart.geojson") && stderr(&o).contains("no two of the 2 municipalities share a boundary"),
        "{}",
        stderr(&o)
    );
    // Bad flags.
    let o = run(&m, &["--min-share", "1.5"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--min-share"), "{}", stderr(&o));
    // A demand floor no grouping meets: the best partial answer (one catchment) and a
    // clear message, exit 0.
    let pop = fixture("grid/population.csv").display().to_string();
    let o = run(&m, &["--population", &pop, "--min-demand", "1000000"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("stays one catchment"), "{text}");
    let summary: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("out/catchments_summary.json")).unwrap()).unwrap();
    assert_eq!(summary["catchments"]["areas"], 1);
}

/// Writes a scenario file into `dir` whose inputs are the grid fixture (absolute paths).
fn grid_scenario(dir: &Path, name: &str, body: &str) -> PathBuf {
    let f = |p: &str| fixture(&format!("grid/{p}")).display().to_string();
    let text = format!(
        "name = \"{name}\"\n{body}\n",
        body = body
            .replace("@M", &f("municipalities.geojson"))
            .replace("@P", &f("population.csv"))
            .replace("@I", &f("institutions.csv"))
            .replace("@R", &f("rules.toml"))
    );
    let p = dir.join(format!("{name}.toml"));
    std::fs::write(&p, text).unwrap();
    p
}

const GRID_INPUTS: &str =
    "[inputs]\nmunicipalities = \"@M\"\npopulation = [\"@P\"]\ninstitutions = [\"@I\"]\nrules = \"@R\"\n";

#[test]
fn scenarios_apply_edits_in_order_and_removing_then_adding_back_restores_the_base() {
    let dir = tempfile::tempdir().unwrap();
    let base = grid_scenario(dir.path(), "base", GRID_INPUTS);
    // Remove the nurse station, then (in a scenario extending that one) add it back.
    let removed = grid_scenario(
        dir.path(),
        "removed",
        "base = \"base.toml\"\n[[edits]]\naction = \"remove\"\nids = [\"N1\"]\n",
    );
    let restored = grid_scenario(
        dir.path(),
        "restored",
        "base = \"removed.toml\"\n[[edits]]\naction = \"add\"\ninstitutions = [{ id = \"N1\", name = \"nurse station B\", kind = \"visiting_nurse\", lat = 36.3, lon = 138.2, home_visits = 1 }]\n",
    );
    let run = |s: &Path, name: &str| {
        let out = dir.path().join(name);
        let o = zaitaku(&[
            "coverage",
            "--quiet",
            "--scenario",
            s.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        out
    };
    let (b, x, r) = (run(&base, "b"), run(&restored, "x"), run(&removed, "r"));
    for name in [
        "coverage.csv",
        "coverage.geojson",
        "roles.csv",
        "cells.parquet",
        "gaps.geojson",
    ] {
        assert_eq!(
            std::fs::read(b.join(name)).unwrap(),
            std::fs::read(x.join(name)).unwrap(),
            "{name} differs after removing and adding back"
        );
    }
    // Without the nurse, nothing is covered for `team`.
    let rows = read_csv(&r.join("coverage.csv"));
    assert!(rows
        .iter()
        .filter(|r| r["function"] == "team")
        .all(|r| r["covered"] == "0"));
    // The lock names both edits in order, with their counts, and hashes the inputs.
    let lock: Value = serde_json::from_slice(&std::fs::read(x.join("scenario.lock.json")).unwrap()).unwrap();
    let edits = lock["edits_applied"].as_array().unwrap();
    assert_eq!(edits.len(), 2);
    assert_eq!(edits[0]["action"], "remove");
    assert_eq!(edits[1]["action"], "add");
    assert_eq!(lock["scenario_files"].as_array().unwrap().len(), 3);
    assert_eq!(lock["inputs"][0]["sha256"].as_str().unwrap().len(), 64);

    // compare of a scenario with itself: every delta 0, nobody gains or loses.
    let out = dir.path().join("same");
    let o = zaitaku(&[
        "compare",
        base.to_str().unwrap(),
        base.to_str().unwrap(),
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    for row in read_csv(&out.join("diff.csv")) {
        assert!(row["delta"] == "0" || row["delta"].is_empty(), "{row:?}");
    }
    let summary: Value = serde_json::from_slice(&std::fs::read(out.join("compare_summary.json")).unwrap()).unwrap();
    assert_eq!(summary["functions"]["team"]["gained"], 0.0);
    assert_eq!(summary["functions"]["team"]["lost"], 0.0);

    // Base against the removal: the people who lose team care are the covered ones (by hand
    // from expected.json), and a scenario against a result folder gives the same numbers.
    let expected: Value = serde_json::from_slice(&std::fs::read(fixture("grid/expected.json")).unwrap()).unwrap();
    let team_covered: f64 = expected["cells"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["team"].as_bool().unwrap())
        .map(|c| c["demand"].as_f64().unwrap())
        .sum();
    for (a, name) in [
        (removed.to_str().unwrap(), "vs_scenario"),
        (r.to_str().unwrap(), "vs_folder"),
    ] {
        let out = dir.path().join(name);
        let o = zaitaku(&[
            "compare",
            base.to_str().unwrap(),
            a,
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let summary: Value = serde_json::from_slice(&std::fs::read(out.join("compare_summary.json")).unwrap()).unwrap();
        assert_eq!(
            summary["functions"]["team"]["lost"].as_f64().unwrap(),
            team_covered,
            "{name}"
        );
        assert_eq!(summary["functions"]["visit"]["lost"].as_f64().unwrap(), 0.0, "{name}");
    }
}

#[test]
fn scenario_and_compare_bad_inputs_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let cov = |s: &Path| {
        zaitaku(&[
            "coverage",
            "--quiet",
            "--scenario",
            s.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
    };
    // Unknown ids, listed.
    let s = grid_scenario(
        dir.path(),
        "unknown",
        &format!("{GRID_INPUTS}[[edits]]\naction = \"remove\"\nids = [\"C1\", \"ZZ9\", \"ZZ8\"]\n"),
    );
    let o = cov(&s);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("[[edits]] 1: unknown institution ids: ZZ9, ZZ8"),
        "{}",
        stderr(&o)
    );
    // A cycle of bases.
    grid_scenario(dir.path(), "a", "base = \"b.toml\"");
    let b = grid_scenario(dir.path(), "b", "base = \"a.toml\"");
    let o = cov(&b);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cycle"), "{}", stderr(&o));
    // Inputs that are not there.
    let s = grid_scenario(
        dir.path(),
        "missing",
        "[inputs]\nmunicipalities = \"nope.geojson\"\ninstitutions = [\"@I\"]\n",
    );
    let o = cov(&s);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("nope.geojson"), "{}", stderr(&o));
    // An unknown action and an unknown key, with the line.
    let s = grid_scenario(
        dir.path(),
        "action",
        &format!("{GRID_INPUTS}[[edits]]\naction = \"close\"\nids = [\"C1\"]\n"),
    );
    let o = cov(&s);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown action 'close'"), "{}", stderr(&o));
    let s = grid_scenario(dir.path(), "key", &format!("{GRID_INPUTS}colour = \"red\"\n"));
    let o = cov(&s);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("colour"), "{}", stderr(&o));
    // Comparing results made with different municipality sets.
    let base = grid_scenario(dir.path(), "base", GRID_INPUTS);
    let one = dir.path().join("one.geojson");
    let text = std::fs::read_to_string(fixture("grid/municipalities.geojson")).unwrap();
    let mut fc: Value = serde_json::from_str(&text).unwrap();
    fc["features"].as_array_mut().unwrap().truncate(8);
    std::fs::write(&one, fc.to_string()).unwrap();
    let fewer = grid_scenario(dir.path(), "fewer", &GRID_INPUTS.replace("@M", one.to_str().unwrap()));
    let o = zaitaku(&[
        "compare",
        base.to_str().unwrap(),
        fewer.to_str().unwrap(),
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("other municipalities"), "{}", stderr(&o));
    // A folder that is not a result.
    let o = zaitaku(&[
        "compare",
        dir.path().to_str().unwrap(),
        base.to_str().unwrap(),
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no coverage.geojson"), "{}", stderr(&o));
}

#[test]
fn suggest_finds_the_known_best_sites_and_its_scenario_delivers_them() {
    // Doctor visits on the grid leave five cells uncovered at each end of the row (expected.json):
    // west 10+20+30+40+50 = 150, east 160+170+180+190+200 = 900, each run spanning 13.5 km,
    // the ends 60 km apart. One new site covers one run: the east first, then the west.
    let dir = tempfile::tempdir().unwrap();
    let base = grid_scenario(dir.path(), "base", GRID_INPUTS);
    let out = dir.path().join("sites");
    let suggest = |extra: &[&str]| {
        let mut args = vec![
            "suggest",
            "--quiet",
            "--scenario",
            base.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        zaitaku(&args)
    };
    let o = suggest(&["--function", "visit", "--candidates", "cells", "--sites", "3"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rows = read_csv(&out.join("suggestions.csv"));
    assert_eq!(rows.len(), 2, "a third site adds nothing: {rows:?}");
    assert_eq!(rows[0]["added_demand"], "900");
    assert_eq!(rows[0]["municipality_code"], "20006");
    assert_eq!(rows[1]["added_demand"], "150");
    assert_eq!(rows[1]["municipality_code"], "20004");
    // The scenario it writes, compared with the base, covers exactly that demand.
    let cmp = dir.path().join("cmp");
    let scenario = out.join("suggested_scenario.toml");
    let o = zaitaku(&[
        "compare",
        base.to_str().unwrap(),
        scenario.to_str().unwrap(),
        "--quiet",
        "--out",
        cmp.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let summary: Value = serde_json::from_slice(&std::fs::read(cmp.join("compare_summary.json")).unwrap()).unwrap();
    assert_eq!(summary["functions"]["visit"]["gained"].as_f64().unwrap(), 1050.0);
    assert_eq!(summary["functions"]["visit"]["alt_share"].as_f64().unwrap(), 1.0);
    // Only existing institutions: the clinic that does not visit (C2, in 20006) is the one
    // candidate for doctor visits.
    let o = suggest(&["--function", "visit", "--candidates", "institutions", "--sites", "1"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let rows = read_csv(&out.join("suggestions.csv"));
    assert_eq!(rows[0]["id"], "C2");
    // An unknown function is a usage error.
    let o = suggest(&["--function", "nope"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown function 'nope'"), "{}", stderr(&o));
}

#[test]
fn projected_population_by_year() {
    // fixtures/grid/projection.geojson: six of the grid's cells in the national land data's
    // projection layout (MESH_ID, SHICODE, PTN/PTC/PTD_<year>), 2020 and 2040, fractional.
    let projection: Value =
        serde_json::from_slice(&std::fs::read(fixture("grid/projection.geojson")).unwrap()).unwrap();
    let expected: Value = serde_json::from_slice(&std::fs::read(fixture("grid/expected.json")).unwrap()).unwrap();
    let visit: std::collections::HashMap<&str, bool> = expected["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["mesh_code"].as_str().unwrap(), c["visit"].as_bool().unwrap()))
        .collect();
    let path = fixture("grid/projection.geojson");
    for year in ["2020", "2040"] {
        let (_d, out) = grid_command("coverage", &["--population", path.to_str().unwrap(), "--year", year]);
        // By hand: aged 65+ of the year, covered where the reference says the cell is.
        let (mut demand, mut covered) = (0.0, 0.0);
        for f in projection["features"].as_array().unwrap() {
            let p = &f["properties"];
            let d = p[format!("PTC_{year}")].as_f64().unwrap();
            demand += d;
            if visit[p["MESH_ID"].as_str().unwrap()] {
                covered += d;
            }
        }
        let rows = read_csv(&out.join("coverage.csv"));
        let (d, c) = rows
            .iter()
            .filter(|r| r["function"] == "visit")
            .fold((0.0, 0.0), |(d, c), r| {
                (
                    d + r["demand"].parse::<f64>().unwrap(),
                    c + r["covered"].parse::<f64>().unwrap(),
                )
            });
        assert!((d - demand).abs() < 1e-6, "{year}: demand {d} vs {demand}");
        assert!((c - covered).abs() < 1e-6, "{year}: covered {c} vs {covered}");
    }
    // A year the file does not hold, and no year at all: clear errors listing the years.
    for args in [vec!["--year", "2030"], vec![]] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("o");
        let m = fixture("grid/municipalities.geojson");
        let i = fixture("grid/institutions.csv");
        let mut a = vec![
            "coverage",
            "--quiet",
            "--municipalities",
            m.to_str().unwrap(),
            "--institutions",
            i.to_str().unwrap(),
            "--population",
            path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ];
        a.extend(args.iter());
        let o = zaitaku(&a);
        assert_eq!(o.status.code(), Some(2));
        assert!(stderr(&o).contains("2020, 2040"), "{}", stderr(&o));
        assert!(!out.exists(), "nothing is written");
    }
}

#[test]
fn every_year_of_a_projection_with_reach_measured_once() {
    let projection: Value =
        serde_json::from_slice(&std::fs::read(fixture("grid/projection.geojson")).unwrap()).unwrap();
    let expected: Value = serde_json::from_slice(&std::fs::read(fixture("grid/expected.json")).unwrap()).unwrap();
    let cell_of: std::collections::HashMap<&str, &Value> = expected["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["mesh_code"].as_str().unwrap(), c))
        .collect();
    let path = fixture("grid/projection.geojson");
    let (_d, out) = grid_command("coverage", &["--population", path.to_str().unwrap(), "--years", "all"]);
    let trend = read_csv(&out.join("trend.csv"));
    let geo: Value = serde_json::from_slice(&std::fs::read(out.join("coverage.geojson")).unwrap()).unwrap();
    let mut shares = Vec::new();
    for year in ["2020", "2040"] {
        for function in ["visit", "team"] {
            // By hand: the year's aged 65+, covered where the reference says so.
            let (mut demand, mut covered) = (0.0, 0.0);
            let mut by_muni: std::collections::BTreeMap<&str, (f64, f64)> = Default::default();
            for f in projection["features"].as_array().unwrap() {
                let p = &f["properties"];
                let d = p[format!("PTC_{year}")].as_f64().unwrap();
                let cell = cell_of[p["MESH_ID"].as_str().unwrap()];
                let c = if cell[function].as_bool().unwrap() { d } else { 0.0 };
                demand += d;
                covered += c;
                let e = by_muni.entry(cell["municipality_code"].as_str().unwrap()).or_default();
                e.0 += d;
                e.1 += c;
            }
            let all = trend
                .iter()
                .find(|r| r["municipality_code"] == "all" && r["year"] == year && r["function"] == function)
                .unwrap();
            close(&all["demand"], demand, 1e-6, "all demand");
            close(&all["covered"], covered, 1e-6, "all covered");
            shares.push(covered / demand);
            for (code, (d, c)) in by_muni {
                let row = trend
                    .iter()
                    .find(|r| r["municipality_code"] == code && r["year"] == year && r["function"] == function)
                    .unwrap();
                close(&row["share"], c / d, 1e-6, &format!("{code} {function} {year}"));
                let feature = geo["features"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|f| f["properties"]["code"] == code)
                    .unwrap();
                let field = feature["properties"][format!("{function}_share_{year}")]
                    .as_f64()
                    .unwrap();
                assert!((field - c / d).abs() < 1e-6, "{code} {function}_share_{year}");
            }
        }
    }
    // The years differ (the fixture's east shrinks more), so the test can tell them apart.
    assert!((shares[0] - shares[2]).abs() > 1e-3, "{shares:?}");
    // The first year's files are those of a single-year run.
    let (_d2, single) = grid_command("coverage", &["--population", path.to_str().unwrap(), "--year", "2020"]);
    assert_eq!(
        std::fs::read(out.join("coverage.csv")).unwrap(),
        std::fs::read(single.join("coverage.csv")).unwrap()
    );
}

#[test]
fn compare_two_years_of_one_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let path = fixture("grid/projection.geojson");
    let body = |year: u16| {
        format!(
            "year = {year}\n{}",
            GRID_INPUTS.replace(
                "population = [\"@P\"]",
                &format!("population = [{:?}]", path.to_str().unwrap())
            )
        )
    };
    let a = grid_scenario(dir.path(), "y2020", &body(2020));
    let b = grid_scenario(dir.path(), "y2040", &body(2040));
    let out = dir.path().join("cmp");
    let o = zaitaku(&[
        "compare",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Each side's demand is its own year's aged 65+ (from the fixture).
    let projection: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let total = |year: &str| -> f64 {
        projection["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["properties"][format!("PTC_{year}")].as_f64().unwrap())
            .sum()
    };
    let rows = read_csv(&out.join("diff.csv"));
    let sum = |col: &str| -> f64 {
        rows.iter()
            .filter(|r| r["function"] == "visit")
            .map(|r| r[col].parse::<f64>().unwrap())
            .sum()
    };
    assert!((sum("base_demand") - total("2020")).abs() < 1e-6);
    assert!((sum("alt_demand") - total("2040")).abs() < 1e-6);
}

#[test]
fn a38_medical_regions_read_like_the_regions_csv() {
    // The national land data's medical regions (A38): one feature per polygon part (20005
    // twice here), codes as text or numbers, 6-digit codes with their check digit.
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("regions.csv");
    let mut text = String::from("municipality_code,region_code,region_name\n");
    let region = |m: u32| if m % 3 == 1 { ("2001", "西") } else { ("2002", "東") };
    for m in 20001..=20009u32 {
        let (c, n) = region(m);
        text.push_str(&format!("{m},{c},{n}\n"));
    }
    std::fs::write(&csv, text).unwrap();
    // Check digit of a 6-digit code (JIS X 0402): 11 - (sum of digits x 6,5,4,3,2) mod 11.
    let six = |m: u32| {
        let d: Vec<u32> = m.to_string().chars().map(|c| c.to_digit(10).unwrap()).collect();
        let s: u32 = d.iter().zip([6, 5, 4, 3, 2]).map(|(a, b)| a * b).sum();
        let r = s % 11;
        let check = if r == 0 {
            1
        } else if r == 1 {
            0
        } else {
            11 - r
        };
        format!("{m}{}", check % 10)
    };
    let mut features = Vec::new();
    for m in 20001..=20009u32 {
        let (c, n) = region(m);
        let code = match m % 3 {
            0 => serde_json::json!(m),
            1 => serde_json::json!(six(m)),
            _ => serde_json::json!(m.to_string()),
        };
        let f = serde_json::json!({"type": "Feature", "properties": {"A38a_001": code, "A38a_002": "name", "A38a_003": c, "A38a_004": n}, "geometry": null});
        features.push(f.clone());
        if m == 20005 {
            features.push(f);
        }
    }
    let a38 = dir.path().join("A38-20_20.geojson");
    std::fs::write(
        &a38,
        serde_json::json!({"type": "FeatureCollection", "features": features}).to_string(),
    )
    .unwrap();
    let pop = fixture("grid/population.csv");
    let (_a, from_csv) = grid_command(
        "catchments",
        &[
            "--population",
            pop.to_str().unwrap(),
            "--regions",
            csv.to_str().unwrap(),
        ],
    );
    let (_b, from_a38) = grid_command(
        "catchments",
        &[
            "--population",
            pop.to_str().unwrap(),
            "--regions",
            a38.to_str().unwrap(),
        ],
    );
    assert_eq!(
        std::fs::read(from_csv.join("region_check.csv")).unwrap(),
        std::fs::read(from_a38.join("region_check.csv")).unwrap()
    );
    let summary: Value =
        serde_json::from_slice(&std::fs::read(from_a38.join("catchments_summary.json")).unwrap()).unwrap();
    let regions_file = summary["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["role"] == "regions")
        .unwrap();
    assert_eq!(regions_file["read"], 10);
    assert_eq!(regions_file["rejected"], 0);
}

#[test]
fn projection_as_a_shapefile() {
    // fixtures/grid/projection_shp: the same six cells written as a Shapefile by GDAL's
    // ogr2ogr (CP932 attributes, values as dBase numbers). The `.shp` is named, its `.dbf`
    // is read, and every output equals the GeoJSON run's.
    let json = fixture("grid/projection.geojson");
    let shp = fixture("grid/projection_shp/mesh1km_projection.shp");
    let (_a, from_json) = grid_command("coverage", &["--population", json.to_str().unwrap(), "--years", "all"]);
    let (_b, from_shp) = grid_command("coverage", &["--population", shp.to_str().unwrap(), "--years", "all"]);
    for file in ["coverage.csv", "trend.csv", "coverage.geojson", "cells.parquet"] {
        assert_eq!(
            std::fs::read(from_json.join(file)).unwrap(),
            std::fs::read(from_shp.join(file)).unwrap(),
            "{file}"
        );
    }
    let summary: Value = serde_json::from_slice(&std::fs::read(from_shp.join("summary.json")).unwrap()).unwrap();
    let text = summary.to_string();
    assert!(text.contains("mesh1km_projection.dbf"), "{text}");

    let dbf = std::fs::read(fixture("grid/projection_shp/mesh1km_projection.dbf")).unwrap();
    let header_len = u16::from_le_bytes([dbf[8], dbf[9]]) as usize;
    let record_len = u16::from_le_bytes([dbf[10], dbf[11]]) as usize;
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str, bytes: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let out = dir.path().join(format!("out-{name}"));
        let m = fixture("grid/municipalities.geojson");
        let i = fixture("grid/institutions.csv");
        let r = fixture("grid/rules.toml");
        let o = zaitaku(&[
            "coverage",
            "--quiet",
            "--municipalities",
            m.to_str().unwrap(),
            "--institutions",
            i.to_str().unwrap(),
            "--rules",
            r.to_str().unwrap(),
            "--population",
            path.to_str().unwrap(),
            "--year",
            "2040",
            "--out",
            out.to_str().unwrap(),
        ]);
        (o, out)
    };
    // A deleted record (flag '*') is not read: it is rejected as record 2, and the rows
    // read still add up.
    let mut deleted = dbf.clone();
    deleted[header_len + record_len] = b'*';
    let (o, out) = run("deleted.dbf", &deleted);
    assert!(o.status.success(), "{}", stderr(&o));
    let rejects = read_csv(&out.join("rejects.csv"));
    assert!(
        rejects
            .iter()
            .any(|r| r.values().any(|v| v == "record 2") && r.values().any(|v| v.contains("deleted"))),
        "{rejects:?}"
    );
    let cells = std::fs::read(out.join("coverage.csv")).unwrap();
    assert_ne!(cells, std::fs::read(from_json.join("coverage.csv")).unwrap());
    // A table marked as CP932 (language driver 0x13, as ArcGIS writes Japanese tables)
    // reads the same.
    let mut cp932 = dbf.clone();
    cp932[29] = 0x13;
    let (o, marked) = run("marked_cp932.dbf", &cp932);
    assert!(o.status.success(), "{}", stderr(&o));
    let (o, plain) = run("plain.dbf", &dbf);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read(marked.join("coverage.csv")).unwrap(),
        std::fs::read(plain.join("coverage.csv")).unwrap()
    );
    // A truncated table is an error, not fewer cells.
    let (o, out) = run("truncated.dbf", &dbf[..header_len + 3 * record_len + 10]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("truncated.dbf: truncated dBase table: the header announces 6 records, the file holds 3"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists());
    // Not a dBase table at all.
    let (o, _) = run("text.dbf", b"MESH_ID,PTN_2020\n54383061,1\n");
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("text.dbf: not a dBase (.dbf) table"),
        "{}",
        stderr(&o)
    );
    // A `.shp` without its `.dbf`.
    let lonely = dir.path().join("lonely.shp");
    std::fs::write(&lonely, b"x").unwrap();
    let o = zaitaku(&["inspect", lonely.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("lonely.dbf, which is missing"), "{}", stderr(&o));
}

#[test]
fn catchments_for_a_year_checked_in_every_year() {
    // A layout proposed for 2040 with a demand floor only, then held against 2020: each
    // area's demand is the sum of its cells' PTC_<year> (the fixture), and it misses the
    // floor exactly where that sum is below it.
    let projection: Value =
        serde_json::from_slice(&std::fs::read(fixture("grid/projection.geojson")).unwrap()).unwrap();
    let expected: Value = serde_json::from_slice(&std::fs::read(fixture("grid/expected.json")).unwrap()).unwrap();
    let municipality_of: std::collections::HashMap<&str, &str> = expected["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["mesh_code"].as_str().unwrap(),
                c["municipality_code"].as_str().unwrap(),
            )
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let regions = dir.path().join("columns.csv");
    let mut text = String::from("municipality_code,region_code,region_name\n");
    for (code, members) in [
        ("W", ["20001", "20004", "20007"]),
        ("C", ["20002", "20005", "20008"]),
        ("E", ["20003", "20006", "20009"]),
    ] {
        for m in members {
            text.push_str(&format!("{m},{code},{code}\n"));
        }
    }
    std::fs::write(&regions, text).unwrap();
    // 120: the 2040 layout holds two catchments; the west one (m1, m4: 122.1 aged 65+ in
    // 2040, 103.8 in 2020) misses it in 2020.
    let floor = 120.0;
    let path = fixture("grid/projection.geojson");
    let (_d, out) = grid_command(
        "catchments",
        &[
            "--population",
            path.to_str().unwrap(),
            "--year",
            "2040",
            "--regions",
            regions.to_str().unwrap(),
            "--min-share",
            "0",
            "--min-providers",
            "0",
            "--min-demand",
            "120",
        ],
    );
    let assignment = read_csv(&out.join("catchment_assignment.csv"));
    let years = read_csv(&out.join("catchment_years.csv"));
    let check = read_csv(&out.join("catchment_check.csv"));
    let geo: Value = serde_json::from_slice(&std::fs::read(out.join("catchments.geojson")).unwrap()).unwrap();
    let mut failing_2020 = 0;
    for (layout, column) in [("catchment", "catchment_id"), ("region", "region_code")] {
        let mut areas: Vec<&str> = assignment.iter().map(|r| r[column].as_str()).collect();
        areas.sort();
        areas.dedup();
        for area in areas {
            let members: Vec<&str> = assignment
                .iter()
                .filter(|r| r[column] == area)
                .map(|r| r["municipality_code"].as_str())
                .collect();
            let mut first_failing = None;
            for year in ["2020", "2040"] {
                let demand: f64 = projection["features"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|f| members.contains(&municipality_of[f["properties"]["MESH_ID"].as_str().unwrap()]))
                    .map(|f| f["properties"][format!("PTC_{year}")].as_f64().unwrap())
                    .sum();
                let row = years
                    .iter()
                    .find(|r| {
                        r["layout"] == layout && r["area_code"] == area && r["year"] == year && r["function"] == "visit"
                    })
                    .unwrap();
                close(&row["demand"], demand, 1e-6, &format!("{layout} {area} {year}"));
                let meets = demand >= floor;
                assert_eq!(row["meets_floors"], meets.to_string(), "{layout} {area} {year}");
                if !meets && first_failing.is_none() {
                    first_failing = Some(year.parse::<u64>().unwrap());
                }
                if layout == "catchment" {
                    if year == "2040" {
                        // The proposal meets its floor in its own year, as catchment_check says.
                        assert!(meets, "{area}");
                        let c = check
                            .iter()
                            .find(|r| r["area_code"] == area && r["function"] == "visit")
                            .unwrap();
                        assert_eq!(c["demand"], row["demand"]);
                    } else if !meets {
                        failing_2020 += 1;
                    }
                }
            }
            if layout == "catchment" {
                let f = geo["features"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|f| f["properties"]["area_code"] == area)
                    .unwrap();
                assert_eq!(f["properties"]["first_failing_year"].as_u64(), first_failing, "{area}");
            }
        }
    }
    let summary: Value = serde_json::from_slice(&std::fs::read(out.join("catchments_summary.json")).unwrap()).unwrap();
    assert!(failing_2020 >= 1, "the fixture must tell the years apart");
    assert_eq!(summary["years"][0]["year"], 2020);
    assert_eq!(summary["years"][0]["catchments_failing"], failing_2020);
    assert_eq!(summary["years"][1]["catchments_failing"], 0);
}

#[test]
fn n03_attribute_generations_and_designated_cities() {
    // fixtures/n03: the same three municipalities in the N03 layout before 2024 (CP932;
    // a designated city's ward as N03_003 city + N03_004 ward) and since 2024 (UTF-8;
    // N03_004 city + N03_005 ward), with one 1 km cell of aged 65+ in each: 300 in
    // 札幌市中央区 (01101), 500 in 札幌市北区 (01102), 400 in 函館市 (01202).
    for file in ["n03/n03_2023_cp932.geojson", "n03/n03_2024.geojson"] {
        for (mode, expected) in [
            (
                "wards",
                vec![
                    ("01101", "札幌市中央区", "300"),
                    ("01102", "札幌市北区", "500"),
                    ("01202", "函館市", "400"),
                ],
            ),
            // One unit: the wards dissolve into Sapporo's code 01100 (in no N03 feature).
            ("whole", vec![("01100", "札幌市", "800"), ("01202", "函館市", "400")]),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let out = dir.path().join("o");
            let o = zaitaku(&[
                "coverage",
                "--quiet",
                "--municipalities",
                fixture(file).to_str().unwrap(),
                "--population",
                fixture("n03/population.csv").to_str().unwrap(),
                "--institutions",
                fixture("n03/institutions.csv").to_str().unwrap(),
                "--designated-cities",
                mode,
                "--out",
                out.to_str().unwrap(),
            ]);
            assert!(o.status.success(), "{}", stderr(&o));
            let rows: Vec<(String, String, String)> = read_csv(&out.join("coverage.csv"))
                .into_iter()
                .filter(|r| r["function"] == "daily")
                .map(|r| {
                    (
                        r["municipality_code"].clone(),
                        r["municipality"].clone(),
                        r["demand"].clone(),
                    )
                })
                .collect();
            let expected: Vec<(String, String, String)> = expected
                .iter()
                .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
                .collect();
            assert_eq!(rows, expected, "{file} {mode}");
        }
    }
}

#[test]
fn notification_lists_set_support_designations() {
    // fixtures/notifications/list.xlsx (the bureaus' layout, header on row 4): 0000011 is a
    // 支援診３ and matches clinic 2010000011 (prefecture 20, medical, the number), placed
    // where the grid's visiting clinic C1 is; 0000037 matches nothing; 0000029's row is
    // another notification; one row's number is not a number. The pharmacy 2040000011 has
    // the same 7 digits but is not a medical code, so it is not matched.
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.toml");
    std::fs::write(
        &rules,
        "demand = \"population_65plus\"\n[[functions]]\nid = \"support\"\n[[functions.roles]]\nid = \"support_clinic\"\n\
         kinds = [\"clinic\"]\nflags = [\"support_designation\", \"home_visits\", \"on_call_24h\"]\nreach_km = 16.0\n",
    )
    .unwrap();
    let out = dir.path().join("o");
    let o = zaitaku(&[
        "coverage",
        "--quiet",
        "--municipalities",
        fixture("grid/municipalities.geojson").to_str().unwrap(),
        "--population",
        fixture("grid/population.csv").to_str().unwrap(),
        "--institutions",
        fixture("notifications/institutions.csv").to_str().unwrap(),
        "--notifications",
        fixture("notifications/list.xlsx").to_str().unwrap(),
        "--rules",
        rules.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // Covered exactly where the grid reference has the visiting clinic within 16 km.
    let expected: Value = serde_json::from_slice(&std::fs::read(fixture("grid/expected.json")).unwrap()).unwrap();
    use polars::prelude::*;
    let df = ParquetReader::new(std::fs::File::open(out.join("cells.parquet")).unwrap())
        .finish()
        .unwrap();
    let codes = df.column("mesh_code").unwrap().str().unwrap().clone();
    let covered = df.column("support_covered").unwrap().bool().unwrap().clone();
    let mut n_covered = 0;
    for e in expected["cells"].as_array().unwrap() {
        let i = (0..df.height())
            .find(|&i| codes.get(i) == e["mesh_code"].as_str())
            .unwrap();
        assert_eq!(covered.get(i).unwrap(), e["visit"].as_bool().unwrap(), "{e}");
        n_covered += usize::from(covered.get(i).unwrap());
    }
    assert!(n_covered > 0);
    let rejects = std::fs::read_to_string(out.join("rejects.csv")).unwrap();
    assert!(
        rejects.contains("line 6,医療機関番号 0000037 (廃止済みクリニック) matches no institution id"),
        "{rejects}"
    );
    assert!(
        rejects.contains("line 8,sheet '届出受理医療機関名簿': 医療機関番号 '不明' is not a number"),
        "{rejects}"
    );
    let summary: Value = serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let list = summary["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["role"] == "notifications")
        .unwrap()
        .clone();
    assert_eq!(
        (
            list["read"].as_u64(),
            list["accepted"].as_u64(),
            list["rejected"].as_u64()
        ),
        (Some(4), Some(2), Some(2))
    );
    assert!(list.to_string().contains("clinics (支援診) 1/2/3 = 0/0/1"), "{list}");

    // A workbook without the expected header: exit 2, naming the file.
    let o = zaitaku(&[
        "coverage",
        "--quiet",
        "--municipalities",
        fixture("grid/municipalities.geojson").to_str().unwrap(),
        "--institutions",
        fixture("notifications/institutions.csv").to_str().unwrap(),
        "--notifications",
        fixture("notifications/no_header.xlsx").to_str().unwrap(),
        "--out",
        dir.path().join("x").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no_header.xlsx: no sheet has the header of a notification list"),
        "{}",
        stderr(&o)
    );
    assert!(!dir.path().join("x").exists());
}

#[test]
fn output_closed_early_is_not_a_panic() {
    // `zaitaku demo | head -1`: the reader goes away after a line.
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_zaitaku"))
        .args(["demo", "--out", dir.path().join("d").to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("zaitaku demo"), "{first}");
    let o = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn compare_of_scenarios_is_identical_at_1_2_and_8_threads() {
    let dir = tempfile::tempdir().unwrap();
    let base = fixture("scenarios/nagano_base.toml");
    let changes = fixture("scenarios/nagano_changes.toml");
    let runs: Vec<std::path::PathBuf> = ["1", "2", "8"]
        .iter()
        .map(|t| {
            let out = dir.path().join(format!("t{t}"));
            let o = zaitaku(&[
                "--threads",
                t,
                "compare",
                base.to_str().unwrap(),
                changes.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ]);
            assert!(o.status.success(), "{}", stderr(&o));
            out
        })
        .collect();
    let mut names: Vec<_> = std::fs::read_dir(&runs[0])
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    // diff.csv, diff.geojson, diff.qml, compare_summary.json and the GeoPackage.
    assert_eq!(names.len(), 5, "{names:?}");
    for name in &names {
        let a = std::fs::read(runs[0].join(name)).unwrap();
        for (run, t) in runs[1..].iter().zip(["2", "8"]) {
            assert!(
                a == std::fs::read(run.join(name)).unwrap(),
                "{name:?} differs at --threads {t}"
            );
        }
    }
}

#[test]
fn an_output_folder_that_cannot_be_made_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("results.csv");
    std::fs::write(&file, "mine").unwrap();
    let o = zaitaku(&["demo", "--quiet", "--out", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert_eq!(
        stderr(&o).trim(),
        format!(
            "zaitaku: error: the output folder {} is a file; name a folder (it is created when missing)",
            file.display()
        )
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine");

    // Below a file: the system's reason, said once.
    let below = file.join("out");
    let o = zaitaku(&["demo", "--quiet", "--out", below.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let text = stderr(&o);
    assert!(
        text.starts_with(&format!(
            "zaitaku: error: cannot create output folder {}: ",
            below.display()
        )),
        "{text}"
    );
    assert_eq!(text.lines().count(), 1, "{text}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}
