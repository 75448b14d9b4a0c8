//! The files planners download, read as published: e-Stat census mesh files of every census
//! (fixtures/estat, made by scripts/make_estat_fixtures.py in the published layouts).
//! Expected figures are worked out by hand in the comments.

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

/// Coverage on the grid's municipalities and institutions with `population` and `rules`.
fn coverage(population: &[&str], rules: &str, extra: &[&str]) -> (tempfile::TempDir, PathBuf, Output) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let m = fixture("grid/municipalities.geojson");
    let i = fixture("grid/institutions.csv");
    let r = fixture(rules);
    let mut args: Vec<String> = vec![
        "coverage".into(),
        "--quiet".into(),
        "--municipalities".into(),
        m.to_str().unwrap().into(),
        "--institutions".into(),
        i.to_str().unwrap().into(),
        "--rules".into(),
        r.to_str().unwrap().into(),
        "--out".into(),
        out.to_str().unwrap().into(),
    ];
    for p in population {
        args.push("--population".into());
        args.push(fixture(p).to_str().unwrap().into());
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let o = zaitaku(&args.iter().map(String::as_str).collect::<Vec<_>>());
    (dir, out, o)
}

fn json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// Demand per mesh cell from gaps.geojson (every fixture cell lies more than 16 km from the
/// grid's visiting clinic, so every cell with demand is a gap of the `visit` function).
fn gap_demand(out: &Path, function: &str) -> Vec<(String, f64)> {
    let g = json(&out.join("gaps.geojson"));
    let mut v: Vec<(String, f64)> = g["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["properties"]["function"] == function)
        .map(|f| {
            (
                f["properties"]["mesh_code"].as_str().unwrap().to_string(),
                f["properties"]["demand"].as_f64().unwrap(),
            )
        })
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

fn population_file(summary: &Value) -> Value {
    input_of(summary, "population")
}

/// The first input file of `role` in a summary.
fn input_of(summary: &Value, role: &str) -> Value {
    summary["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["role"] == role)
        .unwrap()
        .clone()
}

/// A file's (read, accepted, rejected).
fn counts(file: &Value) -> (Option<u64>, Option<u64>, Option<u64>) {
    (
        file["read"].as_u64(),
        file["accepted"].as_u64(),
        file["rejected"].as_u64(),
    )
}

/// The cells of scripts/make_estat_fixtures.py's GROUPS, aged 65+ after sharing, by hand:
/// - 543830611 plain: 23.
/// - group 543830613 (total 57, 65+ 30, 75+ 12) + 543830612 (total 3), P = 60. 75+: quotas
///   11.4 / 0.6, floors 11 / 0, the unit left to the larger remainder (0.6): 11 / 1. 65-74
///   (18): quotas 17.1 / 0.9 -> 17 / 1. So 65+ = 28 / 2.
/// - group 543830621 (total 24, 65+ 15, 75+ 6) + 543830622 (2) + 543830623 (4), P = 30. 75+:
///   quotas 4.8 / 0.4 / 0.8, floors 4 / 0 / 0, two units left: the tie at 0.8 to the
///   receiver, then 623: 5 / 0 / 1. 65-74 (9): quotas 7.2 / 0.6 / 1.2, floors 7 / 0 / 1, one
///   left to 622: 7 / 1 / 1. So 65+ = 12 / 1 / 2.
/// - 543830631: suppressed into 543837071, not in the file: 0. 543830632: all zero.
const AGED65_BY_HAND: [(&str, f64); 8] = [
    ("543830611", 23.0),
    ("543830612", 2.0),
    ("543830613", 28.0),
    ("543830621", 12.0),
    ("543830622", 1.0),
    ("543830623", 2.0),
    ("543830631", 0.0),
    ("543830632", 0.0),
];

/// 2015 (T000847: aged 65+ in column 016, 75+ in 019) and 2020 (T001101: 65+ in 019) give the
/// same people: the columns are chosen by label, not by code suffix.
#[test]
fn census_2015_and_2020_read_by_label_with_secrecy_shared() {
    for file in ["estat/tblT000847H5438.txt", "estat/tblT001101H5438.txt"] {
        let (_d, out, o) = coverage(&[file], "grid/rules.toml", &[]);
        assert!(o.status.success(), "{file}: {}", stderr(&o));
        let got = gap_demand(&out, "visit");
        let want: Vec<(String, f64)> = AGED65_BY_HAND
            .iter()
            .filter(|(_, v)| *v > 0.0)
            .map(|(m, v)| (m.to_string(), *v))
            .collect();
        assert_eq!(got, want, "{file}");
        let summary = json(&out.join("summary.json"));
        let pop = population_file(&summary);
        let aged = if file.contains("T000847") {
            "T000847016"
        } else {
            "T001101019"
        };
        let columns = pop["columns"].as_array().unwrap();
        assert!(
            columns
                .iter()
                .any(|c| c["measure"] == "population_65plus" && c["column"] == aged),
            "{file}: {columns:?}"
        );
        // Totals as published for every row, HTKSYORI 2 included: 64 + 3 + 57 + 24 + 2 + 4 + 5 + 0.
        let people = &pop["people"];
        assert_eq!(people["population"]["read"], 159.0, "{file}");
        assert_eq!(people["population"]["placed"], 159.0, "{file}");
        assert_eq!(people["population"]["rejected"], 0.0, "{file}");
        // Aged 65+ published: 23 + 30 + 15 (the receivers hold their groups'); placed 68.
        assert_eq!(people["population_65plus"]["read"], 68.0, "{file}");
        assert_eq!(people["population_65plus"]["placed"], 68.0, "{file}");
        let s = &summary["demand"]["secrecy"];
        assert_eq!(
            (
                s["groups"].as_u64(),
                s["cells_shared"].as_u64(),
                s["aged65_shared"].as_f64()
            ),
            (Some(2), Some(3), Some(5.0)),
            "{file}"
        );
        assert_eq!(s["receiver_missing"], 1, "{file}");
        // The printed summary says what was read as aged 65+ and that detail was shared.
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(text.contains(&format!("aged 65+ = {aged}")), "{text}");
        assert!(text.contains("was shared over 2 groups"), "{text}");
    }
}

/// 1 km and 250 m files of 2020: 54383062 (65+ 20, 75+ 9, total 40) receives 54383063 (6):
/// P = 46; 75+ quotas 7.83 / 1.17 -> 7 / 1, one left to the receiver (0.83): 8 / 1; 65-74
/// (11): quotas 9.57 / 1.43, floors 9 / 1, one left to the receiver: 10 / 1. 65+ = 18 / 2.
/// 250 m: 5438306112 (65+ 6, 75+ 2, total 9) receives 5438306113 (1): P = 10; 75+ 1.8 / 0.2
/// -> 2 / 0; 65-74 (4): 3.6 / 0.4 -> 4 / 0. 65+ = 6 / 0.
#[test]
fn census_mesh_levels_1km_and_250m() {
    for (file, want) in [
        (
            "estat/tblT001100S5438.txt",
            vec![("54383061", 60.0), ("54383062", 18.0), ("54383063", 2.0)],
        ),
        (
            "estat/tblT001102Q5438.txt",
            vec![("5438306111", 8.0), ("5438306112", 6.0), ("5438306113", 0.0)],
        ),
    ] {
        let (_d, out, o) = coverage(&[file], "grid/rules.toml", &[]);
        assert!(o.status.success(), "{file}: {}", stderr(&o));
        let want: Vec<(String, f64)> = want
            .into_iter()
            .filter(|(_, v)| *v > 0.0)
            .map(|(m, v)| (m.to_string(), v))
            .collect();
        assert_eq!(gap_demand(&out, "visit"), want, "{file}");
    }
}

/// 2010 (T000609): totals only, no secrecy columns. With the elderly as demand the file stops
/// and lists its labels; with the total as demand it reads: 70 + 4 + 60 + 31 = 165.
#[test]
fn census_2010_totals_only() {
    let (_d, _out, o) = coverage(&["estat/tblT000609H5438.txt"], "grid/rules.toml", &[]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("the rules take demand from population_65plus, but no column of this e-Stat file is labelled so"),
        "{e}"
    );
    assert!(
        e.contains("T000609001 「人口総数」, T000609002 「人口総数　男」"),
        "{e}"
    );
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.toml");
    let text = std::fs::read_to_string(fixture("grid/rules.toml")).unwrap();
    std::fs::write(
        &rules,
        text.replace("demand = \"population_65plus\"", "demand = \"population\""),
    )
    .unwrap();
    let (_d, out, o) = coverage(&["estat/tblT000609H5438.txt"], rules.to_str().unwrap(), &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let summary = json(&out.join("summary.json"));
    assert_eq!(summary["total"]["visit"]["demand"], 165.0);
    let notes = population_file(&summary)["notes"].to_string();
    assert!(
        notes.contains("aged 65+: no column is labelled so; not available"),
        "{notes}"
    );
}

/// `--estat-columns` overrides the labels, by code or by label; a name the file lacks stops.
#[test]
fn estat_columns_override_by_code_or_label() {
    // Aged 65+ taken from the 75+ column on purpose: 9 + 12 (shared 11 / 1) + 6 (5 / 0 / 1) = 27.
    for spec in ["aged65=T000847019", "aged65=７５歳以上人口総数", "001,019"] {
        let (_d, out, o) = coverage(
            &["estat/tblT000847H5438.txt"],
            "grid/rules.toml",
            &["--estat-columns", spec],
        );
        assert!(o.status.success(), "{spec}: {}", stderr(&o));
        let summary = json(&out.join("summary.json"));
        assert_eq!(summary["total"]["visit"]["demand"], 27.0, "{spec}");
        let pop = population_file(&summary);
        assert!(
            pop["columns"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["measure"] == "population_65plus" && c["chosen_by"] == "--estat-columns"),
            "{spec}"
        );
    }
    let (_d, _out, o) = coverage(
        &["estat/tblT000847H5438.txt"],
        "grid/rules.toml",
        &["--estat-columns", "aged65=T000847099"],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("--estat-columns names code T000847099 for aged 65+"),
        "{}",
        stderr(&o)
    );
    let (_d, _out, o) = coverage(
        &["estat/tblT000847H5438.txt"],
        "grid/rules.toml",
        &["--estat-columns", "001"],
    );
    assert_eq!(o.status.code(), Some(2));
}

/// A file without a total label stops with exit 2, naming the labels it has.
#[test]
fn a_file_without_a_total_lists_its_labels() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tblT999999H5438.txt");
    let text = "KEY_CODE,HTKSYORI,HTKSAKI,GASSAN,T999999001,T999999002\r\n,,,,　世帯総数,　６５歳以上人口\r\n543830611,0,,,10,4\r\n";
    std::fs::write(&path, encoding_rs::SHIFT_JIS.encode(text).0).unwrap();
    let o = zaitaku(&["inspect", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("line 2: no column is labelled as total population"), "{e}");
    assert!(
        e.contains("T999999001 「世帯総数」, T999999002 「６５歳以上人口」"),
        "{e}"
    );
}

/// Children as demand (aged 0-14, fixtures/rules/children.toml, the README's example): 2020
/// 500 m: 6 (611) + 6 (group 613: 0-14 = 6 within the room 29 / 1 left by the 65+: quotas
/// 5.7 / 0.3 -> 6 / 0) + 3 (group 621: quotas 2.4 / 0.2 / 0.4 -> 3 / 0 / 0) = 15.
#[test]
fn children_as_demand() {
    let (_d, out, o) = coverage(&["estat/tblT001101H5438.txt"], "rules/children.toml", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let summary = json(&out.join("summary.json"));
    assert_eq!(summary["total"]["children_home_care"]["demand"], 15.0);
    assert_eq!(summary["demand"]["description"], "population_0_14");
}

/// `zaitaku inspect` shows the column read for each measure and its label.
#[test]
fn inspect_names_the_columns() {
    let o = zaitaku(&["inspect", fixture("estat/tblT000847H5438.txt").to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("aged 65+          T000847016 「６５歳以上人口総数」 (chosen by label)"),
        "{text}"
    );
    assert!(text.contains("population read: 159; aged 65+: 68"), "{text}");
}

/// Coverage on Nagano's real municipalities with every open-data fixture file (and `extra`).
fn open_data_coverage(extra: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut args = vec![
        "coverage".to_string(),
        "--quiet".into(),
        "--municipalities".into(),
        fixture("n03/nagano_n03_2021.json").to_str().unwrap().into(),
        "--out".into(),
        out.to_str().unwrap().into(),
    ];
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixture("open_data"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for f in &files {
        args.push("--institutions".into());
        args.push(f.to_str().unwrap().into());
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let o = zaitaku(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.status.success(), "{}", stderr(&o));
    (dir, out)
}

/// The health ministry's open data, one file per kind as downloaded (the clinics zipped), on
/// Nagano's real municipalities (fixtures/open_data, scripts/make_open_data_fixtures.py).
/// By hand from the fixture's rows: hospitals 3 read, 2 kept (one at 0.0, 0.0); clinics 5
/// read, 2 kept (one empty, two at one point given to 20201 and 20202); dental 3, 1 kept
/// (lat 60, and one at the pharmacy's point declared in 20203 while the pharmacy is in
/// 20202: both rejected as a placeholder across files); maternity 1 kept; pharmacies 2,
/// none kept (0, 0, and the shared point). 6 institutions in all.
#[test]
fn health_ministry_open_data_as_downloaded() {
    let (_d, out) = open_data_coverage(&[]);
    let summary = json(&out.join("summary.json"));
    let counts: Vec<(String, u64, u64, u64)> = summary["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["role"] == "institutions")
        .map(|f| {
            let name = f["file"].as_str().unwrap();
            let base = name.rsplit(['/', ':']).next().unwrap().to_string();
            (
                base,
                f["read"].as_u64().unwrap(),
                f["accepted"].as_u64().unwrap(),
                f["rejected"].as_u64().unwrap(),
            )
        })
        .collect();
    let want = [
        ("01-1_hospital_facility_info_20240601.csv", 3, 2, 1),
        ("02-1_clinic_facility_info_20240601.csv", 5, 2, 3),
        ("03-1_dental_facility_info_20240601.csv", 3, 1, 2),
        ("04_maternity_home_20240601.csv", 1, 1, 0),
        ("05_pharmacy_20240601.csv", 2, 0, 2),
    ];
    assert_eq!(
        counts,
        want.iter()
            .map(|(n, r, a, x)| (n.to_string(), *r, *a, *x))
            .collect::<Vec<_>>()
    );
    assert_eq!(summary["institutions"], 6);
    let rejects = std::fs::read_to_string(out.join("rejects.csv")).unwrap();
    assert_eq!(
        rejects
            .matches("placeholder location: lat 36.651299, lon 138.180956")
            .count(),
        2,
        "{rejects}"
    );
    assert_eq!(rejects.matches("municipalities (across files)").count(), 2, "{rejects}");
    assert_eq!(rejects.matches("no location published").count(), 3, "{rejects}");
    // The hospital declared in 上田市 (20203) whose point lies in 松本市 is listed.
    let hospital = summary["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["file"].as_str().unwrap().contains("hospital"))
        .unwrap()
        .clone();
    let notes = hospital["notes"].to_string();
    assert!(
        notes.contains("2010000002 松本みどり病院: declared 20203 上田市, but its point"),
        "{notes}"
    );
    assert!(notes.contains("lies in 20202 松本市"), "{notes}");
}

/// A bureau's notification list joined to the open data, which carries no institution number
/// (fixtures/notifications/open_data_list.xlsx): by hand, みどり内科クリニック matches
/// 「医療法人社団 みどり会 みどり内科クリニック」 once the corporate prefix is dropped, 上田ふれあい
/// 診療所 and 長野中央総合病院 match by name; 上田ふれあい医院 (a near miss at another address) and
/// 県庁座標内科医院 (its facility was rejected as a placeholder) match none and are listed with
/// their closest candidates. So clinics 1/0/1, hospitals 0/0/1, three by name.
#[test]
fn notification_list_joined_to_open_data_by_name() {
    let list = fixture("notifications/open_data_list.xlsx");
    let (_d, out) = open_data_coverage(&["--notifications", list.to_str().unwrap()]);
    let summary = json(&out.join("summary.json"));
    let list = input_of(&summary, "notifications");
    assert_eq!(counts(&list), (Some(5), Some(3), Some(2)));
    let notes = list["notes"].to_string();
    assert!(
        notes.contains("clinics (支援診) 1/2/3 = 1/0/1, hospitals (支援病) 1/2/3 = 0/0/1"),
        "{notes}"
    );
    assert!(
        notes.contains("by institution number 0, by name 3 and by address 0"),
        "{notes}"
    );
    let rejects = std::fs::read_to_string(out.join("rejects.csv")).unwrap();
    assert!(
        rejects.contains("0100003 (上田ふれあい医院, 長野県上田市天神四丁目9番): no institution number matches and no facility of this name or address in 上田市; closest: 2020000005 上田ふれあい診療所"),
        "{rejects}"
    );
    assert!(rejects.contains("0100005 (県庁座標内科医院"), "{rejects}");
}

/// The people account with rejected rows: the 2015 fixture plus a row with a bad HTKSYORI
/// (total 7, aged 65+ 3: read and rejected) and a cell outside every municipality of the grid
/// (543870711: centre at lat 36.644, 4.9 km north of the grid's edge at 36.6; total 11, aged
/// 65+ 4: read, placed nowhere, rejected). By hand: total read 159 + 7 + 11 = 177, placed 159, rejected 18; aged 65+ read
/// 68 + 3 + 4 = 75, placed 68, rejected 7.
#[test]
fn people_read_equal_placed_plus_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let text = encoding_rs::SHIFT_JIS
        .decode(&std::fs::read(fixture("estat/tblT000847H5438.txt")).unwrap())
        .0
        .into_owned();
    let row = |key: &str, secrecy: &str, total: u32, aged: u32| {
        let mut v = vec![key.to_string(), secrecy.to_string(), String::new(), String::new()];
        v.extend((1..=41).map(|i| match i {
            1 => total.to_string(),
            16 => aged.to_string(),
            _ => "-".to_string(),
        }));
        v.join(",") + "\r\n"
    };
    let text = text + &row("543830641", "9", 7, 3) + &row("543870711", "0", 11, 4);
    let path = dir.path().join("tblT000847H5438.txt");
    std::fs::write(&path, encoding_rs::SHIFT_JIS.encode(&text).0).unwrap();
    let (_d, out, o) = coverage(&[path.to_str().unwrap()], "grid/rules.toml", &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let summary = json(&out.join("summary.json"));
    let pop = population_file(&summary);
    let p = &pop["people"];
    let triple = |k: &str| {
        (
            p[k]["read"].as_f64().unwrap(),
            p[k]["placed"].as_f64().unwrap(),
            p[k]["rejected"].as_f64().unwrap(),
        )
    };
    assert_eq!(triple("population"), (177.0, 159.0, 18.0));
    assert_eq!(triple("population_65plus"), (75.0, 68.0, 7.0));
    assert_eq!(
        (pop["read"].as_u64(), pop["accepted"].as_u64(), pop["rejected"].as_u64()),
        (Some(10), Some(8), Some(2))
    );
}
