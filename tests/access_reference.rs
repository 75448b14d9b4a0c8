//! Accessibility against PySAL's `access` package on the demo data (visiting nurses;
//! `fixtures/reference/pysal_access_visiting_nurse.csv`, made by
//! scripts/make_access_reference.py from pyproj distances).

use std::collections::HashMap;
use zaitaku::access::{role_access, Decay};
use zaitaku::progress::Progress;
use zaitaku::study::load;

/// PySAL's figures by mesh code: (2SFCA, E2SFCA).
fn reference() -> HashMap<String, (f64, f64)> {
    reference_columns(1, 2)
}

/// Two columns of PySAL's figures by mesh code.
fn reference_columns(a: usize, b: usize) -> HashMap<String, (f64, f64)> {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/reference/pysal_access_visiting_nurse.csv");
    let mut reader = csv::Reader::from_path(path).unwrap();
    reader
        .records()
        .map(|rec| {
            let rec = rec.unwrap();
            (rec[0].to_string(), (rec[a].parse().unwrap(), rec[b].parse().unwrap()))
        })
        .collect()
}

/// The demo study and the accessibility of its visiting nurses with `decay`.
fn nurse_access(decay: &Decay) -> (zaitaku::study::Study, zaitaku::access::RoleAccess) {
    let study = load(&zaitaku::demo::sources(), Progress::Quiet).unwrap();
    let role = study.rules.role("visiting_nurse").unwrap();
    let providers: Vec<_> = study.institutions.iter().filter(|i| role.matches(i)).collect();
    let points: Vec<(f64, f64)> = providers.iter().map(|i| (i.lon, i.lat)).collect();
    let supply: Vec<f64> = providers.iter().map(|i| i.capacity.unwrap_or(1.0)).collect();
    let demand: Vec<f64> = study.demand.cells.iter().map(|c| c.demand).collect();
    let r = role_access(
        &study.demand.places(),
        &demand,
        &points,
        &supply,
        role.reach_km * 1000.0,
        decay,
    );
    (study, r)
}

/// Runs `zaitaku access` on the demo scenario with `extra` options, writing into `dir`/out;
/// returns that folder and what the command printed.
fn access_on_demo(dir: &std::path::Path, extra: &[&std::ffi::OsStr]) -> (std::path::PathBuf, String) {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = dir.join("out");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_zaitaku"))
        .args(["access", "--scenario"])
        .arg(root.join("fixtures/scenarios/nagano_base.toml"))
        .args(extra)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    (out, String::from_utf8(o.stdout).unwrap())
}

/// A reader of the access.csv in `out` and the positions of the columns `names`.
fn access_csv(out: &std::path::Path, names: &[&str]) -> (csv::Reader<std::fs::File>, Vec<usize>) {
    let mut reader = csv::Reader::from_path(out.join("access.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    let columns = names
        .iter()
        .map(|name| headers.iter().position(|h| h == *name).unwrap())
        .collect();
    (reader, columns)
}

#[test]
fn two_step_matches_pysal_access() {
    let (study, r) = nurse_access(&Decay::default());

    let reference = reference();
    assert_eq!(reference.len(), study.demand.cells.len());
    let mut worst = (0.0f64, 0.0f64);
    for (i, cell) in study.demand.cells.iter().enumerate() {
        let (a2, ae) = reference[&cell.mesh.code()];
        let rel = |x: f64, y: f64| (x - y).abs() / y.abs().max(1e-12);
        worst.0 = worst
            .0
            .max(if a2 == 0.0 { r.a_2sfca[i] } else { rel(r.a_2sfca[i], a2) });
        worst.1 = worst.1.max(if ae == 0.0 {
            r.a_e2sfca[i]
        } else {
            rel(r.a_e2sfca[i], ae)
        });
    }
    assert!(
        worst.0 < 1e-9 && worst.1 < 1e-9,
        "largest relative differences {worst:?}"
    );
}

/// The same figures as written to `access.csv` by `zaitaku access` (full precision): every
/// cell row of the visiting-nurse role equals PySAL's to 1e-9 relative.
#[test]
fn written_values_match_pysal_access() {
    let dir = tempfile::tempdir().unwrap();
    let (out, _) = access_on_demo(dir.path(), &["--quiet".as_ref()]);
    let reference = reference();
    let (mut reader, c) = access_csv(&out, &["level", "area_code", "function", "role", "a_2sfca", "a_e2sfca"]);
    let (c_level, c_area, c_function, c_role, c_a2, c_ae) = (c[0], c[1], c[2], c[3], c[4], c[5]);
    let (mut rows, mut worst) = (0, 0.0f64);
    for rec in reader.records() {
        let rec = rec.unwrap();
        if &rec[c_level] != "cell" || &rec[c_role] != "visiting_nurse" || &rec[c_function] != "daily" {
            continue;
        }
        rows += 1;
        let (a2, ae) = reference[&rec[c_area]];
        for (text, want) in [(&rec[c_a2], a2), (&rec[c_ae], ae)] {
            let got: f64 = text.parse().unwrap();
            let d = if want == 0.0 {
                got.abs()
            } else {
                (got - want).abs() / want.abs()
            };
            worst = worst.max(d);
        }
    }
    assert_eq!(rows, reference.len());
    assert!(worst < 1e-9, "largest relative difference {worst}");
}

/// The Gaussian E2SFCA (sigma 8 km, cut at the 16 km reach) against PySAL's
/// `weights.gaussian`: equal to 1e-6 relative, the accuracy of the distance formula (the
/// decay is continuous, so the ellipsoid formula's difference from pyproj's geodesic shows).
#[test]
fn gaussian_matches_pysal_access() {
    let (study, r) = nurse_access(&Decay::Gaussian { sigma: 8000.0 });
    let reference = reference_columns(3, 3);
    let mut worst = 0.0f64;
    for (i, cell) in study.demand.cells.iter().enumerate() {
        let (want, _) = reference[&cell.mesh.code()];
        let got = r.a_e2sfca[i];
        worst = worst.max(if want == 0.0 {
            got.abs()
        } else {
            (got - want).abs() / want.abs()
        });
    }
    assert!(worst < 1e-6, "largest relative difference {worst}");
    eprintln!("Gaussian E2SFCA: largest relative difference from PySAL {worst:e}");
}

/// By road: `zaitaku access --network` on the demo's synthetic road lattice, against PySAL's
/// `access` on travel times from networkx's Dijkstra on the same graph, with its own
/// snapping (`fixtures/reference/road_access_visiting_nurse.csv`, made by
/// scripts/make_road_access_reference.py): every cell's 2SFCA and E2SFCA (steps over thirds of
/// 30 minutes) to 1e-9 relative, and the stations within reach of each cell counted alike.
#[test]
fn road_access_matches_pysal_on_networkx_times() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let graph = dir.path().join("roads.graph");
    std::fs::write(&graph, zaitaku::demo::road_graph()).unwrap();
    let (out, _) = access_on_demo(
        dir.path(),
        &["--quiet".as_ref(), "--network".as_ref(), graph.as_os_str()],
    );
    let path = root.join("fixtures/reference/road_access_visiting_nurse.csv");
    let reference: std::collections::HashMap<String, (f64, f64, f64)> = csv::Reader::from_path(path)
        .unwrap()
        .records()
        .map(|rec| {
            let rec = rec.unwrap();
            let num = |k: usize| rec[k].parse::<f64>().unwrap();
            (rec[0].to_string(), (num(1), num(2), num(3)))
        })
        .collect();
    let (mut reader, c) = access_csv(
        &out,
        &[
            "level",
            "area_code",
            "function",
            "role",
            "providers_in_reach",
            "a_2sfca",
            "a_e2sfca",
        ],
    );
    let (c_level, c_area, c_function, c_role, c_n, c_a2, c_ae) = (c[0], c[1], c[2], c[3], c[4], c[5], c[6]);
    let (mut rows, mut worst, mut reached) = (0, 0.0f64, 0);
    for rec in reader.records() {
        let rec = rec.unwrap();
        if &rec[c_level] != "cell" || &rec[c_role] != "visiting_nurse" || &rec[c_function] != "daily" {
            continue;
        }
        rows += 1;
        let (a2, ae, pairs) = reference[&rec[c_area]];
        assert_eq!(rec[c_n].parse::<f64>().unwrap(), pairs, "{}", &rec[c_area]);
        reached += usize::from(pairs > 0.0);
        for (text, want) in [(&rec[c_a2], a2), (&rec[c_ae], ae)] {
            let got: f64 = text.parse().unwrap();
            worst = worst.max(if want == 0.0 {
                got.abs()
            } else {
                (got - want).abs() / want.abs()
            });
        }
    }
    assert_eq!(rows, reference.len());
    // Most cells reach a station, some none: both kinds are compared.
    assert!(reached > rows / 2 && reached < rows, "{reached} of {rows}");
    assert!(worst < 1e-9, "largest relative difference {worst}");
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("access_summary.json")).unwrap()).unwrap();
    assert!(summary["method"]["distance_unit"]
        .as_str()
        .unwrap()
        .starts_with("minutes"));
    assert_eq!(summary["network"]["nodes"], 116_424);
}

/// The table `zaitaku access` prints, role by role in the rules' order, against figures
/// worked out from the cells of the access.csv it wrote: the demand-weighted mean 2SFCA per
/// 1,000, the demand-weighted 10th and 90th percentiles of E2SFCA per 1,000 (the first cell,
/// in ascending order, at which the demand so far reaches the share) and the share of
/// demand with no access.
#[test]
fn printed_table_agrees_with_the_written_cells() {
    let dir = tempfile::tempdir().unwrap();
    let (out, printed) = access_on_demo(dir.path(), &[]);
    // Per role its cells, each once (a role's rows repeat per function).
    // A cell of a role: (demand, 2SFCA, E2SFCA).
    type Cells = Vec<(f64, f64, f64)>;
    let mut cells: Vec<(String, Cells)> = Vec::new();
    let mut seen: std::collections::HashSet<(usize, String)> = Default::default();
    let (mut reader, c) = access_csv(&out, &["level", "area_code", "role", "demand", "a_2sfca", "a_e2sfca"]);
    let (c_level, c_area, c_role, c_demand, c_a2, c_ae) = (c[0], c[1], c[2], c[3], c[4], c[5]);
    for rec in reader.records() {
        let rec = rec.unwrap();
        if &rec[c_level] != "cell" {
            continue;
        }
        let role = rec[c_role].to_string();
        let k = match cells.iter().position(|(r, _)| *r == role) {
            Some(k) => k,
            None => {
                cells.push((role, Vec::new()));
                cells.len() - 1
            }
        };
        let area = rec[c_area].to_string();
        if !seen.insert((k, area.clone())) {
            continue;
        }
        let num = |c: usize| rec[c].parse::<f64>().unwrap();
        cells[k].1.push((num(c_demand), num(c_a2), num(c_ae)));
    }
    let lines: Vec<&str> = printed.lines().skip(1).take_while(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 14, "{printed}");
    let mut printed_roles: Vec<&str> = Vec::new();
    for line in &lines {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let role = fields[0];
        printed_roles.push(role);
        let (_, role_cells) = cells.iter().find(|(r, _)| r == role).unwrap();
        let total: f64 = role_cells.iter().map(|c| c.0).sum();
        let mean = role_cells.iter().map(|c| c.0 * c.1).sum::<f64>() / total * 1000.0;
        let none = role_cells.iter().filter(|c| c.1 <= 0.0).map(|c| c.0).sum::<f64>() / total * 100.0;
        let mut sorted: Vec<(f64, f64)> = role_cells.iter().map(|c| (c.2, c.0)).collect();
        sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
        let quantile = |q: f64| {
            let mut so_far = 0.0;
            sorted
                .iter()
                .find(|c| {
                    so_far += c.1;
                    so_far >= q * total
                })
                .unwrap()
                .0
                * 1000.0
        };
        let got = |i: usize| fields[i].trim_end_matches('%').parse::<f64>().unwrap();
        for (what, i, want, tolerance) in [
            ("mean", 2, mean, 5e-4),
            ("p10", 3, quantile(0.1), 5e-4),
            ("p90", 4, quantile(0.9), 5e-4),
            ("no access", 5, none, 0.05),
        ] {
            assert!(
                (got(i) - want).abs() <= tolerance * 1.01,
                "{role} {what}: printed {} against {want} from access.csv",
                fields[i]
            );
        }
    }
    // The lines in the rules' order (the scenario takes the built-in rules, as the demo does).
    let study = load(&zaitaku::demo::sources(), Progress::Quiet).unwrap();
    let rules_order: Vec<&str> = study.rules.roles.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(printed_roles, rules_order);
}

/// access.parquet holds the rows of access.csv in the same order: the same codes and ids,
/// the same numbers (the CSV's full-precision text reads back as the Parquet value; its
/// zero-access share is rounded to six decimals).
#[test]
fn parquet_rows_are_the_csv_rows() {
    let dir = tempfile::tempdir().unwrap();
    let (out, _) = access_on_demo(dir.path(), &[]);
    let text = ["level", "area_code", "function", "role"];
    let floats = [
        "demand",
        "providers_in_reach",
        "a_2sfca",
        "a_e2sfca",
        "a_2sfca_per_1000",
        "zero_access_share",
        "gini",
    ];
    let (t, f, _) =
        zaitaku::outputs::tables::read_parquet_columns(&out.join("access.parquet"), &text, &floats, &[]).unwrap();
    let (mut reader, text_at) = access_csv(&out, &text);
    let (_, float_at) = access_csv(&out, &floats);
    let mut rows = 0;
    for (i, record) in reader.records().enumerate() {
        let record = record.unwrap();
        for (k, &c) in text_at.iter().enumerate() {
            assert_eq!(t[k][i], &record[c], "row {i}, {}", text[k]);
        }
        for (k, &c) in float_at.iter().enumerate() {
            let v = f[k][i];
            if record[c].is_empty() {
                assert!(v.is_nan(), "row {i}, {}: empty in the CSV, {v} in Parquet", floats[k]);
                continue;
            }
            let read: f64 = record[c].parse().unwrap();
            if floats[k] == "zero_access_share" {
                assert!((read - v).abs() <= 5e-7, "row {i}: {read} against {v}");
            } else {
                assert_eq!(read, v, "row {i}, {}", floats[k]);
            }
        }
        rows += 1;
    }
    assert_eq!(rows, t[0].len());
    // Municipality rows first, then a row per cell, function and role.
    assert!(t[0].iter().any(|l| l == "municipality") && t[0].iter().any(|l| l == "cell"));
}
