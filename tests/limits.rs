//! Inputs too large for memory stop before they are read, with a message naming the file,
//! its size and what to do; nothing is written.

use std::path::Path;
use std::process::Command;

fn fixture(p: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(p)
        .display()
        .to_string()
}

/// A file of `size` bytes that takes no disk (sparse).
fn sparse(path: &Path, size: u64) {
    std::fs::File::create(path).unwrap().set_len(size).unwrap();
}

#[test]
fn a_2_gb_geojson_and_a_billion_row_csv_stop_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let big_geojson = dir.path().join("n03_2gb.geojson");
    sparse(&big_geojson, 2 << 30);
    // A billion rows of "5339452411,12,3\n" (16 bytes each).
    let big_csv = dir.path().join("population_1e9_rows.csv");
    sparse(&big_csv, 16_000_000_000);
    let grid = fixture("grid/municipalities.geojson");
    let cases = [
        (
            vec!["--municipalities", big_geojson.to_str().unwrap()],
            "n03_2gb.geojson",
            "2.0 GB",
        ),
        (
            vec!["--municipalities", &grid, "--population", big_csv.to_str().unwrap()],
            "population_1e9_rows.csv",
            "14.9 GB",
        ),
    ];
    for (args, file, size) in cases {
        let out = dir.path().join("out");
        let o = Command::new(env!("CARGO_BIN_EXE_zaitaku"))
            .arg("coverage")
            .args(&args)
            .args(["--institutions", &fixture("grid/institutions.csv"), "--out"])
            .arg(&out)
            .env("ZAITAKU_MEMORY_LIMIT", "4G")
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.contains(file) && err.contains(&format!("the file is {size}")),
            "{err}"
        );
        assert!(err.contains("more than the 4.0 GB available"), "{err}");
        assert!(!out.exists());
    }
    // A bad limit is a usage error.
    let o = Command::new(env!("CARGO_BIN_EXE_zaitaku"))
        .args(["coverage", "--municipalities", &fixture("grid/municipalities.geojson")])
        .args(["--institutions", &fixture("grid/institutions.csv"), "--out"])
        .arg(dir.path().join("o2"))
        .env("ZAITAKU_MEMORY_LIMIT", "lots")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("ZAITAKU_MEMORY_LIMIT=lots"));
}
