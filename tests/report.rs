//! The presentation outputs: the GeoPackage against the GeoPackage 1.3 requirements, the
//! maps as images, and report.html in real headless Chromium (Debian `chromium`), driven
//! over the DevTools protocol on a pipe.

use rusqlite::Connection;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

mod common;
use common::browser::{find_chromium, Browser};

/// One demo run shared by the tests of this file.
fn demo() -> &'static Path {
    static DIR: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    &DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("demo");
        let o = Command::new(env!("CARGO_BIN_EXE_zaitaku"))
            .args(["demo", "--out", out.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        (dir, out)
    })
    .1
}

fn geojson_features(path: &Path) -> Vec<Value> {
    let v: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    v["features"].as_array().unwrap().clone()
}

fn read_csv(path: &Path) -> Vec<HashMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let headers = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            headers
                .iter()
                .map(String::from)
                .zip(rec.iter().map(String::from))
                .collect()
        })
        .collect()
}

#[test]
fn geopackage_has_what_the_standard_requires() {
    let out = demo();
    let db = Connection::open(out.join("zaitaku.gpkg")).unwrap();
    let pragma = |p: &str| {
        db.query_row(&format!("PRAGMA {p}"), [], |r| r.get::<_, i64>(0))
            .unwrap()
    };
    // Requirement 2: application_id "GPKG"; user_version 10300 for version 1.3.
    assert_eq!(pragma("application_id"), 0x4750_4B47);
    assert_eq!(pragma("user_version"), 10300);
    let check: String = db.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
    let fk: Vec<String> = db
        .prepare("PRAGMA foreign_key_check")
        .unwrap()
        .query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(fk.is_empty(), "{fk:?}");
    // Requirements 10-11: the spatial reference table with -1, 0 and the layers' 4326.
    let srs: Vec<(i64, String, i64)> = db
        .prepare("SELECT srs_id, organization, organization_coordsys_id FROM gpkg_spatial_ref_sys ORDER BY srs_id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        srs,
        vec![
            (-1, "NONE".to_string(), -1),
            (0, "NONE".to_string(), 0),
            (4326, "EPSG".to_string(), 4326)
        ]
    );
    // Every feature table: listed in gpkg_contents and gpkg_geometry_columns, its rows those of
    // the GeoJSON beside it, with GeoPackage binary geometries whose WKB decodes to the same
    // first coordinate.
    let layers: Vec<(String, String, i64)> = db
        .prepare("SELECT c.table_name, g.geometry_type_name, c.srs_id FROM gpkg_contents c JOIN gpkg_geometry_columns g USING (table_name) WHERE c.data_type = 'features' ORDER BY c.table_name")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let names: Vec<&str> = layers.iter().map(|l| l.0.as_str()).collect();
    assert_eq!(
        names,
        vec!["capacity", "catchments", "coverage", "gaps", "institutions", "regions"]
    );
    for (table, geometry_type, srs_id) in &layers {
        assert_eq!(*srs_id, 4326);
        let features = geojson_features(&out.join(format!("{table}.geojson")));
        let rows: i64 = db
            .query_row(&format!("SELECT count(*) FROM \"{table}\""), [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows as usize, features.len(), "{table}");
        let blob: Vec<u8> = db
            .query_row(&format!("SELECT geom FROM \"{table}\" WHERE fid = 1"), [], |r| r.get(0))
            .unwrap();
        assert_eq!(&blob[..3], b"GP\x00", "{table}");
        assert_eq!(i32::from_le_bytes(blob[4..8].try_into().unwrap()), 4326);
        let envelope = if blob[3] & 0x0E == 0x02 { 32 } else { 0 };
        let wkb = &blob[8 + envelope..];
        let g = &features[0]["geometry"];
        let first = match g["type"].as_str().unwrap() {
            "Point" => g["coordinates"].clone(),
            "Polygon" => g["coordinates"][0][0].clone(),
            _ => g["coordinates"][0][0][0].clone(),
        };
        // WKB: byte order, type, then (for polygons) counts before the first coordinate.
        let offset = match geometry_type.as_str() {
            "POINT" => 5,
            "POLYGON" => 5 + 4 + 4,
            "MULTIPOLYGON" => 5 + 4 + 5 + 4 + 4,
            other => panic!("{table}: {other}"),
        };
        let x = f64::from_le_bytes(wkb[offset..offset + 8].try_into().unwrap());
        let y = f64::from_le_bytes(wkb[offset + 8..offset + 16].try_into().unwrap());
        // (serde_json's default float parsing may differ from the exact value by an ulp.)
        let (fx, fy) = (first[0].as_f64().unwrap(), first[1].as_f64().unwrap());
        assert!(
            (x - fx).abs() < 1e-12 && (y - fy).abs() < 1e-12,
            "{table}: {x} {y} vs {first}"
        );
        // The attributes of the first feature, as typed columns.
        let props = features[0]["properties"].as_object().unwrap();
        let key = props.keys().next().unwrap();
        let value: rusqlite::types::Value = db
            .query_row(&format!("SELECT \"{key}\" FROM \"{table}\" WHERE fid = 1"), [], |r| {
                r.get(0)
            })
            .unwrap();
        let same = match (&value, &props[key]) {
            (rusqlite::types::Value::Text(a), Value::String(b)) => a == b,
            (rusqlite::types::Value::Integer(a), Value::Number(b)) => Some(*a) == b.as_i64(),
            (rusqlite::types::Value::Real(a), Value::Number(b)) => (a - b.as_f64().unwrap()).abs() < 1e-12,
            _ => false,
        };
        assert!(same, "{table}.{key}: {value:?} vs {}", props[key]);
    }
    // The R-tree spatial index extension on every layer: registered, one entry per feature,
    // and the first feature found by its own box.
    for (table, _, _) in &layers {
        let ext: i64 = db
            .query_row(
                "SELECT count(*) FROM gpkg_extensions WHERE table_name = ?1 AND column_name = 'geom' AND extension_name = 'gpkg_rtree_index'",
                [table],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(ext, 1, "{table}");
        let (entries, rows): (i64, i64) = db
            .query_row(
                &format!("SELECT (SELECT count(*) FROM \"rtree_{table}_geom\"), (SELECT count(*) FROM \"{table}\")"),
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(entries, rows, "{table}");
        let triggers: i64 = db
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?1",
                [table],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(triggers, 6, "{table}");
    }
    // One default style per layer in layer_styles, and the coverage layer has one per function.
    let defaults: i64 = db
        .query_row("SELECT count(*) FROM layer_styles WHERE useAsDefault", [], |r| r.get(0))
        .unwrap();
    assert_eq!(defaults, 6);
    let coverage_styles: i64 = db
        .query_row(
            "SELECT count(*) FROM layer_styles WHERE f_table_name = 'coverage'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(coverage_styles, 5);
    // The capacity layer carries capacity.csv's figures: every municipality's served share
    // of each function, as the table's `all` rows give it.
    let table: HashMap<(String, String), String> = read_csv(&out.join("capacity.csv"))
        .into_iter()
        .filter(|r| r["level"] == "municipality" && r["role"] == "all")
        .map(|r| {
            (
                (r["area_code"].clone(), r["function"].clone()),
                r["served_share"].clone(),
            )
        })
        .collect();
    let mut rows = db
        .prepare("SELECT code, discharge_served_share, daily_served_share, end_of_life_served_share FROM capacity")
        .unwrap();
    let rows: Vec<(String, [Option<f64>; 3])> = rows
        .query_map([], |r| Ok((r.get(0)?, [r.get(1)?, r.get(2)?, r.get(3)?])))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows.len(), 77);
    for (code, shares) in rows {
        for (f, share) in ["discharge", "daily", "end_of_life"].iter().zip(shares) {
            let want = &table[&(code.clone(), f.to_string())];
            match share {
                Some(x) => assert!((x - want.parse::<f64>().unwrap()).abs() < 1e-12, "{code} {f}"),
                None => assert!(want.is_empty(), "{code} {f}"),
            }
        }
    }
}

/// Decodes a PNG into its size and RGBA pixels.
fn decode_png(bytes: &[u8]) -> (u32, u32, Vec<[u8; 4]>) {
    let pixmap = resvg::tiny_skia::Pixmap::decode_png(bytes).unwrap();
    let pixels = pixmap
        .pixels()
        .iter()
        .map(|p| {
            let c = p.demultiply();
            [c.red(), c.green(), c.blue(), c.alpha()]
        })
        .collect();
    (pixmap.width(), pixmap.height(), pixels)
}

#[test]
fn maps_have_their_size_and_the_classes_of_their_municipalities() {
    let out = demo();
    let coverage = read_csv(&out.join("coverage.csv"));
    for function in ["discharge", "daily", "acute", "end_of_life", "hub"] {
        let (w, h, pixels) = decode_png(&std::fs::read(out.join(format!("maps/{function}.png"))).unwrap());
        assert_eq!((w, h), (1400, 1000));
        // Every share class some municipality falls in shows, and no other class colour does.
        let shares: Vec<f64> = coverage
            .iter()
            .filter(|r| r["function"] == function && !r["share"].is_empty())
            .map(|r| r["share"].parse().unwrap())
            .collect();
        for class in zaitaku::outputs::styles::SHARE_CLASSES {
            let used = shares.iter().any(|&s| {
                zaitaku::outputs::styles::class_of(&zaitaku::outputs::styles::SHARE_CLASSES, Some(s)).map(|c| c.label)
                    == Some(class.label)
            });
            let c = class.colour;
            // Inside the map frame (the legend to its right shows every class).
            let painted = pixels
                .iter()
                .enumerate()
                .filter(|(i, p)| {
                    let (x, y) = (*i as u32 % w, *i as u32 / w);
                    (21..1019).contains(&x) && (91..979).contains(&y) && p[..3] == c && p[3] == 255
                })
                .count();
            if used {
                assert!(painted > 50, "{function}: class {} not drawn", class.label);
            } else {
                assert_eq!(painted, 0, "{function}: class {} drawn but unused", class.label);
            }
        }
        // Not blank: the white page, the map, the legend's text.
        let mut distinct: Vec<[u8; 4]> = pixels.clone();
        distinct.sort();
        distinct.dedup();
        assert!(distinct.len() > 100, "{function}: {} colours", distinct.len());
        let svg = std::fs::read_to_string(out.join(format!("maps/{function}.svg"))).unwrap();
        assert!(
            svg.starts_with("<svg") && !svg.contains("<text"),
            "text is drawn as outlines"
        );
    }
}

#[test]
fn report_page_works_offline_in_headless_chromium() {
    // Chromium is optional on a developer's machine; CI (`CI` set, as `.ci/run` runs) requires it.
    if find_chromium().is_none() && std::env::var_os("CI").is_none() {
        eprintln!(
            "skipped: report.html's browser test needs headless Chromium, which is not installed \
             (Debian: apt-get install chromium, or set ZAITAKU_CHROMIUM); CI runs it"
        );
        return;
    }
    let out = demo();
    let page = out.join("report.html").canonicalize().unwrap();
    let url = format!("file://{}", page.display());
    let profile = tempfile::tempdir().unwrap();
    let mut b = Browser::page(profile.path(), 1400, 1000);
    b.call("Page.navigate", json!({"url": url}));
    b.wait_for("Page.loadEventFired");
    assert_eq!(b.eval("typeof window.zaitaku"), json!("object"));

    // A click on a municipality (the one least covered for daily care, at a point inside it)
    // shows its figures, as coverage.csv has them.
    let coverage = read_csv(&out.join("coverage.csv"));
    let worst = coverage
        .iter()
        .filter(|r| r["function"] == "daily" && !r["share"].is_empty())
        .min_by(|a, b| {
            a["share"]
                .parse::<f64>()
                .unwrap()
                .total_cmp(&b["share"].parse::<f64>().unwrap())
        })
        .unwrap();
    let code = &worst["municipality_code"];
    let point = b.eval(&format!(
        "(() => {{ const f = zaitaku.data.municipalities.features.find(f => f.properties.code === '{code}');
            const p = f.properties.point; zaitaku.map.setView([p[1], p[0]], 11, {{animate: false}});
            const c = zaitaku.map.latLngToContainerPoint([p[1], p[0]]);
            const r = document.getElementById('map').getBoundingClientRect();
            return [r.left + c.x, r.top + c.y]; }})()"
    ));
    let (x, y) = (point[0].as_f64().unwrap(), point[1].as_f64().unwrap());
    assert!((0.0..1400.0).contains(&x) && (0.0..1000.0).contains(&y), "{point}");
    assert!(b
        .eval("document.getElementById('details').innerText")
        .as_str()
        .unwrap()
        .contains("Click a municipality"));
    for kind in ["mouseMoved", "mousePressed", "mouseReleased"] {
        b.call(
            "Input.dispatchMouseEvent",
            json!({"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1}),
        );
    }
    let details = b.eval("document.getElementById('details').innerText");
    let details = details.as_str().unwrap();
    assert!(details.contains(worst["municipality"].as_str()), "{details}");
    for row in coverage.iter().filter(|r| &r["municipality_code"] == code) {
        let share: f64 = row["share"].parse().unwrap();
        let shown = format!("{:.1} %", share * 100.0);
        assert!(
            details.contains(&shown),
            "{}: {shown} not in {details}",
            row["function"]
        );
    }

    // And its need served under capacities, as capacity.csv has it.
    let capacity = read_csv(&out.join("capacity.csv"));
    let mut served_rows = 0;
    for row in capacity
        .iter()
        .filter(|r| r["level"] == "municipality" && &r["area_code"] == code && r["role"] == "all")
    {
        let shown = format!("{:.1} %", row["served_share"].parse::<f64>().unwrap() * 100.0);
        assert!(details.contains("need served"), "{details}");
        assert!(
            details.contains(&shown),
            "{}: {shown} not in {details}",
            row["function"]
        );
        served_rows += 1;
    }
    assert_eq!(served_rows, 5);
    // Colouring by the need served changes the legend and the fills.
    let fills = "(() => { const f = []; zaitaku.map.eachLayer(l => { if (l.feature && l.options.fillColor) f.push(l.options.fillColor); }); return f.join(','); })()";
    let before = b.eval(fills);
    let legend = b.eval(
        "(() => { const s = document.getElementById('measure'); s.value = 'served'; s.dispatchEvent(new Event('change'));
           return document.getElementById('legend').innerText; })()",
    );
    assert!(
        legend.as_str().unwrap().contains("need served under capacities"),
        "{legend}"
    );
    assert_ne!(b.eval(fills), before);
    b.eval("(() => { const s = document.getElementById('measure'); s.value = 'share'; s.dispatchEvent(new Event('change')); })()");

    // Switching the function recolours the map and the legend.
    let legend = b.eval(
        "(() => { const s = document.getElementById('function'); s.value = '2'; s.dispatchEvent(new Event('change'));
           return document.getElementById('legend').innerText; })()",
    );
    assert!(legend.as_str().unwrap().contains("急変時"), "{legend}");
    // The toggles add and remove layers.
    let toggled = b.eval(
        "(() => { const n = () => { let k = 0; zaitaku.map.eachLayer(() => k++); return k; };
           const before = n(); document.getElementById('toggle-institutions').click(); const on = n();
           document.getElementById('toggle-institutions').click(); return [before, on, n()]; })()",
    );
    let t: Vec<u64> = toggled
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect();
    assert!(t[1] > t[0] + 1000 && t[2] == t[0], "{t:?}");

    // A screenshot is the page, not a blank.
    let shot = b.call("Page.captureScreenshot", json!({"format": "png"}));
    let bytes = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        shot["data"].as_str().unwrap(),
    )
    .unwrap();
    let (w, h, pixels) = decode_png(&bytes);
    assert_eq!((w, h), (1400, 1000));
    let mut distinct = pixels.clone();
    distinct.sort();
    distinct.dedup();
    assert!(distinct.len() > 200, "{} colours", distinct.len());
    let share_colour = zaitaku::outputs::styles::SHARE_CLASSES[4].colour;
    assert!(pixels.iter().filter(|p| p[..3] == share_colour).count() > 0 || distinct.len() > 1000);

    // No console error, no uncaught exception, and nothing asked of the network: the only
    // request is the page itself (images are data: URLs inside it).
    let problems: Vec<String> = b
        .events
        .iter()
        .filter_map(|e| match e["method"].as_str()? {
            "Runtime.exceptionThrown" => Some(e["params"]["exceptionDetails"].to_string()),
            "Runtime.consoleAPICalled" if matches!(e["params"]["type"].as_str(), Some("error" | "warning")) => {
                Some(e["params"]["args"].to_string())
            }
            "Log.entryAdded" if e["params"]["entry"]["level"] == "error" => {
                Some(e["params"]["entry"]["text"].to_string())
            }
            _ => None,
        })
        .collect();
    assert!(problems.is_empty(), "{problems:?}");
    let requests: Vec<String> = b
        .events
        .iter()
        .filter(|e| e["method"] == "Network.requestWillBeSent")
        .map(|e| e["params"]["request"]["url"].as_str().unwrap_or("").to_string())
        .filter(|u| !u.starts_with("data:"))
        .collect();
    assert_eq!(requests, vec![url.clone()], "requests other than the page");
}

#[test]
fn every_command_has_help_with_an_example_and_piped_runs_draw_no_progress() {
    let commands: &[&[&str]] = &[
        &["demo"],
        &["coverage"],
        &["access"],
        &["catchments"],
        &["report"],
        &["compare"],
        &["suggest"],
        &["criticality"],
        &["capacity"],
        &["serve"],
        &["indicators"],
        &["inspect"],
        &["rules"],
        &["network"],
        &["network", "build"],
    ];
    for c in commands {
        let o = Command::new(env!("CARGO_BIN_EXE_zaitaku"))
            .args(*c)
            .arg("--help")
            .output()
            .unwrap();
        assert!(o.status.success(), "{c:?}");
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(
            text.contains("Example:\n  zaitaku "),
            "{c:?} --help has no example:\n{text}"
        );
        // Options under the same headings in every command, in the order of the work.
        let analysis = [
            "coverage",
            "access",
            "catchments",
            "report",
            "suggest",
            "criticality",
            "capacity",
            "indicators",
        ];
        let headings: &[&str] = if analysis.contains(&c[0]) {
            &["\nInputs:\n", "\nReach:\n", "\nOutputs:\n", "\nRun:\n"]
        } else if c[0] == "serve" {
            // The workbench writes nothing: no Outputs.
            &["\nInputs:\n", "\nReach:\n", "\nAnalysis:\n", "\nRun:\n"]
        } else {
            &["\nRun:\n"]
        };
        let at: Vec<usize> = headings
            .iter()
            .map(|h| {
                text.find(h)
                    .unwrap_or_else(|| panic!("{c:?} --help has no {h:?}:\n{text}"))
            })
            .collect();
        assert!(
            at.windows(2).all(|w| w[0] < w[1]),
            "{c:?}: headings out of order:\n{text}"
        );
        assert!(
            !text.contains("\nOptions:\n  -h"),
            "{c:?}: help outside the headings:\n{text}"
        );
    }
    // The shared demo run had its stderr piped: no bar, no spinner, no message.
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_zaitaku"))
        .args(["report", "--scenario"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/scenarios/nagano_base.toml"))
        .arg("--out")
        .arg(dir.path().join("r"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(o.stderr.is_empty(), "{}", String::from_utf8_lossy(&o.stderr));
    for f in [
        "report.html",
        "zaitaku.gpkg",
        "maps/daily.png",
        "maps/daily.svg",
        "institutions.geojson",
        "coverage.qml",
    ] {
        assert!(dir.path().join("r").join(f).exists(), "{f}");
    }
}
