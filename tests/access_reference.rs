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
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_zaitaku"))
        .args(["access", "--quiet", "--scenario"])
        .arg(root.join("fixtures/scenarios/nagano_base.toml"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let reference = reference();
    let mut reader = csv::Reader::from_path(out.join("access.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (c_level, c_area, c_function, c_role, c_a2, c_ae) = (
        col("level"),
        col("area_code"),
        col("function"),
        col("role"),
        col("a_2sfca"),
        col("a_e2sfca"),
    );
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
    let out = dir.path().join("out");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_zaitaku"))
        .args(["access", "--quiet", "--scenario"])
        .arg(root.join("fixtures/scenarios/nagano_base.toml"))
        .arg("--network")
        .arg(&graph)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
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
    let mut reader = csv::Reader::from_path(out.join("access.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (c_level, c_area, c_function, c_role, c_n, c_a2, c_ae) = (
        col("level"),
        col("area_code"),
        col("function"),
        col("role"),
        col("providers_in_reach"),
        col("a_2sfca"),
        col("a_e2sfca"),
    );
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
