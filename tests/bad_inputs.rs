//! The bad-input catalogue (tests/bad_inputs, written by scripts/make_bad_inputs.py): every
//! file stops the run with exit 2, a message that names the file (and the line, feature or
//! record where there is one) as EXPECTED.tsv records, and no output folder left behind.

use std::path::Path;
use std::process::Command;

#[test]
fn every_bad_input_exits_2_with_its_message_and_writes_nothing() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let expected = std::fs::read_to_string(root.join("tests/bad_inputs/EXPECTED.tsv")).unwrap();
    let g = |f: &str| format!("fixtures/grid/{f}");
    let dir = tempfile::tempdir().unwrap();
    let mut cases = 0;
    let mut kinds = std::collections::BTreeSet::new();
    for line in expected.lines().filter(|l| !l.starts_with('#')) {
        let (case, message) = line.split_once('\t').unwrap();
        let (kind, _) = case.split_once('/').unwrap();
        let file = format!("tests/bad_inputs/{case}");
        assert!(root.join(&file).is_file(), "{file}");
        let (m, p, i, r) = (
            g("municipalities.geojson"),
            g("population.csv"),
            g("institutions.csv"),
            g("rules.toml"),
        );
        let roads = g("rules_roads.toml");
        let mut args: Vec<&str> = match kind {
            "municipalities" => vec![
                "coverage",
                "--municipalities",
                &file,
                "--population",
                &p,
                "--institutions",
                &i,
            ],
            "population" => vec![
                "coverage",
                "--municipalities",
                &m,
                "--population",
                &file,
                "--institutions",
                &i,
            ],
            "projection" => vec![
                "coverage",
                "--municipalities",
                &m,
                "--population",
                &file,
                "--year",
                "2020",
                "--institutions",
                &i,
            ],
            "institutions" => vec![
                "coverage",
                "--municipalities",
                &m,
                "--population",
                &p,
                "--institutions",
                &file,
            ],
            "rules" => vec![
                "coverage",
                "--municipalities",
                &m,
                "--population",
                &p,
                "--institutions",
                &i,
                "--rules",
                &file,
            ],
            "regions" => vec![
                "catchments",
                "--municipalities",
                &m,
                "--population",
                &p,
                "--institutions",
                &i,
                "--regions",
                &file,
            ],
            "network" => vec![
                "coverage",
                "--municipalities",
                &m,
                "--population",
                &p,
                "--institutions",
                &i,
                "--rules",
                &roads,
                "--network",
                &file,
            ],
            "od" => vec![
                "coverage",
                "--municipalities",
                &m,
                "--population",
                &p,
                "--institutions",
                &i,
                "--rules",
                &roads,
                "--od-matrix",
                &file,
            ],
            "scenario" => vec!["coverage", "--scenario", &file],
            other => panic!("unknown kind {other}"),
        };
        if !matches!(kind, "rules" | "network" | "od" | "scenario") {
            args.extend(["--rules", &r]);
        }
        let out = dir.path().join(case.replace('/', "_"));
        let out_s = out.to_str().unwrap().to_string();
        args.extend(["--quiet", "--out", &out_s]);
        let o = Command::new(env!("CARGO_BIN_EXE_zaitaku"))
            .current_dir(root)
            .args(&args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{case}: {stderr}");
        assert!(
            stderr.starts_with(&format!("zaitaku: error: {message}")),
            "{case}: expected\n  {message}\ngot\n  {stderr}"
        );
        assert!(!out.exists(), "{case}: output left behind");
        cases += 1;
        kinds.insert(kind.to_string());
    }
    assert!(cases >= 50, "{cases} cases");
    assert_eq!(kinds.len(), 9, "{kinds:?}");
}
