//! The workbench (`zaitaku serve`) over HTTP, as a browser would use it: every route, bad
//! requests, edits whose figures must equal `zaitaku compare` of the downloaded scenario
//! and `zaitaku criticality`, the token beyond loopback, and 200 concurrent requests.

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

mod common;
use common::browser::{find_chromium, Browser};

fn fixture(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(p)
}

/// A workbench process, stopped when dropped.
struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(extra: &[&str]) -> Server {
    let scenario = fixture("scenarios/nagano_base.toml");
    let mut child = Command::new(env!("CARGO_BIN_EXE_zaitaku"))
        .args([
            "serve",
            "--quiet",
            "--port",
            "0",
            "--scenario",
            scenario.to_str().unwrap(),
        ])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string();
    Server { child, url }
}

impl Server {
    /// host:port and the token query, if any.
    fn parts(&self) -> (String, Option<String>) {
        let rest = self.url.trim_start_matches("http://");
        let (host, tail) = rest.split_once('/').unwrap();
        let token = tail.split_once("token=").map(|(_, t)| t.to_string());
        (host.to_string(), token)
    }

    /// One request: (status, body).
    fn call(&self, method: &str, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
        let (host, token) = self.parts();
        let path = match token {
            Some(t) if !path.contains("token=") => {
                format!("{path}{}token={t}", if path.contains('?') { '&' } else { '?' })
            }
            _ => path.to_string(),
        };
        raw(&host, method, &path, body)
    }

    fn json(&self, method: &str, path: &str, body: &str) -> (u16, Value) {
        let (status, bytes) = self.call(method, path, body.as_bytes());
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    fn ok(&self, method: &str, path: &str, body: &str) -> Value {
        let (status, v) = self.json(method, path, body);
        assert_eq!(status, 200, "{method} {path} {body}: {v}");
        v
    }
}

fn raw(host: &str, method: &str, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
    let mut s = TcpStream::connect(host).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(body).unwrap();
    let mut all = Vec::new();
    s.read_to_end(&mut all).unwrap();
    let split = all.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&all[..split]).into_owned();
    let status: u16 = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    let mut rest = all[split + 4..].to_vec();
    if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        rest = unchunk(&rest);
    }
    (status, rest)
}

fn unchunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let end = b.windows(2).position(|w| w == b"\r\n").unwrap();
        let n = usize::from_str_radix(std::str::from_utf8(&b[..end]).unwrap().trim(), 16).unwrap();
        if n == 0 {
            return out;
        }
        out.extend_from_slice(&b[end + 2..end + 2 + n]);
        b = &b[end + 4 + n..];
    }
}

fn zaitaku(args: &[&str]) {
    let o = Command::new(env!("CARGO_BIN_EXE_zaitaku")).args(args).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn figures(state: &Value) -> Vec<(String, f64, f64)> {
    state["functions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["function"].as_str().unwrap().to_string(),
                f["gained"].as_f64().unwrap(),
                f["lost"].as_f64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn edits_on_the_page_equal_compare_of_the_downloaded_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let s = serve(&[]);
    // The page: one offline document, Leaflet inlined.
    let (status, page) = s.call("GET", "/", b"");
    assert_eq!(status, 200);
    let page = String::from_utf8(page).unwrap();
    assert!(page.contains("zaitaku workbench") && page.contains("L.map("));
    assert!(
        !page.contains("<script src=") && !page.contains("<link "),
        "the page loads nothing"
    );
    let study = s.ok("GET", "/api/study", "");
    assert_eq!(study["functions"].as_array().unwrap().len(), 5);
    let munis = s.ok("GET", "/api/municipalities", "");
    assert_eq!(munis["features"].as_array().unwrap().len(), 77);
    let base = s.ok("GET", "/api/state", "");
    assert!(figures(&base).iter().all(|f| f.1 == 0.0 && f.2 == 0.0));

    // The uncovered squares of a function are those of `zaitaku coverage` (gaps.geojson).
    let scenario = fixture("scenarios/nagano_base.toml");
    let cov = dir.path().join("cov");
    zaitaku(&[
        "coverage",
        "--quiet",
        "--scenario",
        scenario.to_str().unwrap(),
        "--out",
        cov.to_str().unwrap(),
    ]);
    let gaps: Value = serde_json::from_slice(&std::fs::read(cov.join("gaps.geojson")).unwrap()).unwrap();
    let daily_gaps = gaps["features"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["properties"]["function"] == "daily")
        .count();
    let page_gaps = s.ok("GET", "/api/gaps?function=daily", "");
    assert_eq!(page_gaps.as_array().unwrap().len(), daily_gaps);

    // Closing the most critical institution loses what `zaitaku criticality` says.
    let crit = dir.path().join("crit");
    zaitaku(&[
        "criticality",
        "--quiet",
        "--scenario",
        scenario.to_str().unwrap(),
        "--out",
        crit.to_str().unwrap(),
    ]);
    let mut unique: std::collections::HashMap<(String, String), f64> = Default::default();
    for rec in csv::Reader::from_path(crit.join("criticality.csv")).unwrap().records() {
        let rec = rec.unwrap();
        if &rec[5] == "all" {
            unique.insert((rec[0].to_string(), rec[4].to_string()), rec[6].parse().unwrap());
        }
    }
    let page_crit = s.ok("GET", "/api/criticality", "");
    let top = page_crit["functions"][0]["ranked"][0][0].as_str().unwrap().to_string();
    let after_close = s.ok("POST", "/api/edit", &format!(r#"{{"type":"close","id":"{top}"}}"#));
    for (f, gained, lost) in figures(&after_close) {
        assert_eq!(gained, 0.0);
        assert_eq!(
            lost,
            unique.get(&(top.clone(), f.clone())).copied().unwrap_or(0.0),
            "{f}"
        );
    }

    // A flooded district: every open institution inside the box closes.
    let (w, so, e, n) = (138.15, 36.60, 138.25, 36.68);
    let inside = csv::Reader::from_path(fixture("demo/nagano_institutions.csv"))
        .unwrap()
        .deserialize::<std::collections::HashMap<String, String>>()
        .map(|r| r.unwrap())
        .filter(|r| {
            let (lat, lon): (f64, f64) = (r["lat"].parse().unwrap(), r["lon"].parse().unwrap());
            lon > w && lon < e && lat > so && lat < n && r["id"] != top
        })
        .count();
    assert!(inside > 5, "{inside}");
    let area = format!(r#"{{"type":"close_area","ring":[[{w},{so}],[{e},{so}],[{e},{n}],[{w},{n}],[{w},{so}]]}}"#);
    let after_area = s.ok("POST", "/api/edit", &area);
    let last = after_area["edits"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(last, format!("close the {inside} institutions inside the area drawn"));
    let institutions = s.ok("GET", "/api/institutions", "");
    assert_eq!(institutions["closed"].as_array().unwrap().len(), inside + 1);

    // A new 24-hour clinic and a rule change.
    s.ok(
        "POST",
        "/api/edit",
        r#"{"type":"add","kind":"clinic","lat":36.64,"lon":138.19,"flags":["home_visits","support_designation","on_call_24h"],"capacity":40}"#,
    );
    s.ok(
        "POST",
        "/api/edit",
        r#"{"type":"rule","function":"acute","role":"on_call_physician","reach_km":20.0}"#,
    );
    let final_state = s.ok("GET", "/api/state", "");
    assert_eq!(final_state["edits"].as_array().unwrap().len(), 4);

    // Undo and redo come back to the same figures.
    let undone = s.ok("POST", "/api/undo", "{}");
    assert_eq!(undone["redo"].as_array().unwrap().len(), 1);
    let redone = s.ok("POST", "/api/redo", "{}");
    assert_eq!(figures(&redone), figures(&final_state));

    // The downloaded scenario, compared with the base by `zaitaku compare`, gives the
    // page's figures.
    let (status, toml) = s.call("GET", "/api/scenario.toml", b"");
    assert_eq!(status, 200);
    let file = dir.path().join("workbench.toml");
    std::fs::write(&file, &toml).unwrap();
    let out = dir.path().join("compare");
    zaitaku(&[
        "compare",
        "--quiet",
        scenario.to_str().unwrap(),
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    let summary: Value = serde_json::from_slice(&std::fs::read(out.join("compare_summary.json")).unwrap()).unwrap();
    let mut changed = 0;
    for (f, gained, lost) in figures(&final_state) {
        let c = &summary["functions"][&f];
        assert_eq!(c["gained"].as_f64().unwrap(), gained, "{f}");
        assert_eq!(c["lost"].as_f64().unwrap(), lost, "{f}");
        if gained > 0.0 || lost > 0.0 {
            changed += 1;
        }
        let page_fell: Vec<&str> = final_state["functions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["function"] == f.as_str())
            .unwrap()["fell_below"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["name"].as_str().unwrap())
            .collect();
        let cli_fell: Vec<String> = c["fell_below_min_share"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                m.as_str()
                    .map_or_else(|| m["name"].as_str().unwrap_or("").to_string(), str::to_string)
            })
            .collect();
        assert_eq!(
            page_fell.len(),
            cli_fell.len(),
            "{f}: {page_fell:?} against {cli_fell:?}"
        );
    }
    assert!(changed >= 4, "{changed}");
    let (status, lock) = s.json("GET", "/api/scenario.lock.json", "");
    assert_eq!(status, 200);
    // One removal (the clicked institution and the area's) and one addition.
    assert_eq!(lock["edits"].as_array().unwrap().len(), 2);
    assert_eq!(lock["rule_edits"].as_array().unwrap().len(), 1);
}

#[test]
fn bad_requests_get_a_message_and_the_server_stays_up() {
    let s = serve(&[]);
    let cases: [(&str, &str, &str, u16, &str); 11] = [
        ("GET", "/nowhere", "", 404, "no such address"),
        ("GET", "/api/edit", "", 405, "not allowed"),
        ("POST", "/api/edit", "not json", 400, "not JSON"),
        ("POST", "/api/edit", r#"{"type":"explode"}"#, 400, "unknown edit type"),
        (
            "POST",
            "/api/edit",
            r#"{"type":"close","id":"NOPE"}"#,
            400,
            "no open institution 'NOPE'",
        ),
        (
            "POST",
            "/api/edit",
            r#"{"type":"reopen","id":"C000001"}"#,
            400,
            "is not closed",
        ),
        (
            "POST",
            "/api/edit",
            r#"{"type":"add","kind":"castle","lat":36,"lon":138}"#,
            400,
            "unknown 'kind'",
        ),
        (
            "POST",
            "/api/edit",
            r#"{"type":"add","kind":"clinic","lat":"x","lon":138}"#,
            400,
            "'lat' must be a number",
        ),
        (
            "POST",
            "/api/edit",
            r#"{"type":"close_area","ring":[[1,2]]}"#,
            400,
            "at least three points",
        ),
        ("POST", "/api/undo", "{}", 400, "nothing to undo"),
        ("GET", "/api/gaps?function=nope", "", 400, "unknown function 'nope'"),
    ];
    for (method, path, body, status, message) in cases {
        let (got, v) = s.json(method, path, body);
        assert_eq!(got, status, "{method} {path} {body}: {v}");
        assert!(v["error"].as_str().unwrap().contains(message), "{method} {path}: {v}");
    }
    let big = vec![b' '; (1 << 20) + 10];
    let (got, _) = s.call("POST", "/api/edit", &big);
    assert_eq!(got, 413);
    let rule = s.json(
        "POST",
        "/api/edit",
        r#"{"type":"rule","function":"acute","role":"nope","reach_km":3}"#,
    );
    assert_eq!(rule.0, 400, "{}", rule.1);
    // Nothing was applied, and the server still answers.
    let state = s.ok("GET", "/api/state", "");
    assert!(state["edits"].as_array().unwrap().is_empty());
}

#[test]
fn two_hundred_concurrent_requests_and_a_consistent_state() {
    let s = serve(&[]);
    let (host, _) = s.parts();
    let ids: Vec<String> = csv::Reader::from_path(fixture("demo/nagano_institutions.csv"))
        .unwrap()
        .records()
        .map(|r| r.unwrap()[0].to_string())
        .step_by(250)
        .take(10)
        .collect();
    let handles: Vec<_> = (0..200)
        .map(|k| {
            let host = host.clone();
            let id = ids.get(k / 20).filter(|_| k % 20 == 0).cloned();
            std::thread::spawn(move || match id {
                Some(id) => {
                    raw(
                        &host,
                        "POST",
                        "/api/edit",
                        format!(r#"{{"type":"close","id":"{id}"}}"#).as_bytes(),
                    )
                    .0
                }
                None => {
                    raw(
                        &host,
                        "GET",
                        ["/api/state", "/api/institutions", "/api/study"][k % 3],
                        b"",
                    )
                    .0
                }
            })
        })
        .collect();
    let statuses: Vec<u16> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(statuses.len(), 200);
    assert!(statuses.iter().all(|&c| c == 200), "{statuses:?}");
    let state = s.ok("GET", "/api/state", "");
    assert_eq!(state["edits"].as_array().unwrap().len(), 10);
    let institutions = s.ok("GET", "/api/institutions", "");
    let mut closed: Vec<String> = institutions["closed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[0].as_str().unwrap().to_string())
        .collect();
    closed.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(closed, expected);
}

#[test]
fn beyond_loopback_a_token_is_needed() {
    let s = serve(&["--bind", "0.0.0.0"]);
    let (host, token) = s.parts();
    let token = token.expect("a token in the address");
    assert!(token.len() >= 32);
    let port = host.rsplit(':').next().unwrap();
    let local = format!("127.0.0.1:{port}");
    let (status, body) = raw(&local, "GET", "/api/state", b"");
    assert_eq!(status, 403, "{}", String::from_utf8_lossy(&body));
    let (status, _) = raw(&local, "GET", &format!("/api/state?token={token}"), b"");
    assert_eq!(status, 200);
    let (status, _) = raw(&local, "GET", "/api/state?token=wrong", b"");
    assert_eq!(status, 403);
}

#[test]
fn a_planner_closes_draws_and_undoes_in_headless_chromium() {
    // Chromium is optional on a developer's machine; CI (`CI` set, as `.ci/run` runs) requires it.
    if find_chromium().is_none() && std::env::var_os("CI").is_none() {
        eprintln!(
            "skipped: the workbench's browser test needs headless Chromium, which is not installed \
             (Debian: apt-get install chromium, or set ZAITAKU_CHROMIUM); CI runs it"
        );
        return;
    }
    let s = serve(&[]);
    let profile = tempfile::tempdir().unwrap();
    let mut b = Browser::page(profile.path(), 1400, 1000);
    b.call("Page.navigate", serde_json::json!({"url": s.url}));
    b.until("document.body.dataset.ready === '1'");
    // Every failed request would show in the error line.
    assert_eq!(b.eval("document.getElementById('error').textContent"), Value::from(""));

    // The most critical institution for the first function: zoom to it and click it.
    let crit = s.ok("GET", "/api/criticality", "");
    let top = &crit["functions"][0]["ranked"][0];
    let (id, lat, lon) = (
        top[0].as_str().unwrap().to_string(),
        top[3].as_f64().unwrap(),
        top[4].as_f64().unwrap(),
    );
    let unique = top[5].as_f64().unwrap();
    let at = |b: &mut Browser, lat: f64, lon: f64| -> (f64, f64) {
        let p = b.eval(&format!(
            "(() => {{ const c = map.latLngToContainerPoint([{lat}, {lon}]);
                const r = document.getElementById('map').getBoundingClientRect(); return [r.left + c.x, r.top + c.y]; }})()"
        ));
        (p[0].as_f64().unwrap(), p[1].as_f64().unwrap())
    };
    b.eval(&format!("map.setView([{lat}, {lon}], 15, {{animate: false}}); true"));
    let (x, y) = at(&mut b, lat, lon);
    b.click(x, y);
    b.until("document.getElementById('act')");
    let popup = b.eval("document.querySelector('.leaflet-popup-content').innerText");
    assert!(
        popup.as_str().unwrap().contains(&format!("uncovers {}", fmt(unique))),
        "{popup} should say {unique}"
    );
    // Its close button, clicked.
    let button = b.eval(
        "(() => { const r = document.getElementById('act').getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()",
    );
    b.click(button[0].as_f64().unwrap(), button[1].as_f64().unwrap());
    b.until("document.getElementById('edits').children.length === 1 && !document.getElementById('status').textContent.startsWith('measuring')");
    // The popup goes once the edit is measured.
    b.until("!document.querySelector('.leaflet-popup')");
    // The table shows what the server (and so `compare`, tested above) says.
    let state = s.ok("GET", "/api/state", "");
    assert_eq!(state["edits"][0], Value::from(format!("close {id}")));
    let shown = b.eval(
        "[...document.querySelectorAll('#figures tbody tr')].map(r => [r.dataset.function, Number(r.dataset.gained), Number(r.dataset.lost)])",
    );
    let shown_figures: Vec<(String, f64, f64)> = shown
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r[0].as_str().unwrap().to_string(),
                r[1].as_f64().unwrap(),
                r[2].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(shown_figures, figures(&state));
    assert_eq!(shown[0][2].as_f64().unwrap(), unique);

    // Draw an area around the institution's neighbourhood and close everything inside.
    let button = b.eval(
        "(() => { const r = document.querySelector('#mode button[data-mode=area]').getBoundingClientRect(); return [r.left + 5, r.top + 5]; })()",
    );
    b.click(button[0].as_f64().unwrap(), button[1].as_f64().unwrap());
    b.eval(&format!("map.setView([{lat}, {lon}], 12, {{animate: false}}); true"));
    for (dy, dx) in [(-0.02, -0.03), (-0.02, 0.03), (0.02, 0.03), (0.02, -0.03)] {
        let (x, y) = at(&mut b, lat + dy, lon + dx);
        b.click(x, y);
    }
    assert_eq!(
        b.eval("document.getElementById('areapoints').textContent"),
        Value::from("4 points")
    );
    let finish = b.eval(
        "(() => { const r = document.getElementById('finish').getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()",
    );
    b.click(finish[0].as_f64().unwrap(), finish[1].as_f64().unwrap());
    b.until("document.getElementById('edits').children.length === 2 && !document.getElementById('status').textContent.startsWith('measuring')");
    let listed = b.eval("document.getElementById('edits').children[1].textContent");
    assert!(
        listed.as_str().unwrap().contains("institutions inside the area drawn"),
        "{listed}"
    );
    let after_area = s.ok("GET", "/api/state", "");
    assert_eq!(after_area["edits"].as_array().unwrap().len(), 2);

    // Undo: back to one edit and the figures after the first.
    let undo = b.eval(
        "(() => { const r = document.getElementById('undo').getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; })()",
    );
    b.click(undo[0].as_f64().unwrap(), undo[1].as_f64().unwrap());
    b.until("document.getElementById('edits').children.length === 1");
    let shown = b.eval(
        "[...document.querySelectorAll('#figures tbody tr')].map(r => [r.dataset.function, Number(r.dataset.gained), Number(r.dataset.lost)])",
    );
    assert_eq!(shown[0][2].as_f64().unwrap(), unique);

    // A 24-hour clinic where the closed one was: the add mode, the kind, two designations
    // ticked with the mouse, a click on the map.
    let centre = |b: &mut Browser, selector: &str| -> (f64, f64) {
        let r = b.eval(&format!(
            "(() => {{ const r = document.querySelector({selector:?}).getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; }})()"
        ));
        (r[0].as_f64().unwrap(), r[1].as_f64().unwrap())
    };
    let (x, y) = centre(&mut b, "#mode button[data-mode=add]");
    b.click(x, y);
    b.eval("(() => { const k = document.getElementById('kind'); k.value = 'clinic'; k.dispatchEvent(new Event('change')); return true; })()");
    for flag in ["home_visits", "on_call_24h"] {
        let (x, y) = centre(&mut b, &format!("#flags input[value={flag}]"));
        b.click(x, y);
    }
    b.eval(&format!("map.setView([{lat}, {lon}], 13, {{animate: false}}); true"));
    let (x, y) = at(&mut b, lat + 0.001, lon + 0.001);
    b.click(x, y);
    b.until("document.getElementById('edits').children.length === 2 && !document.getElementById('status').textContent.startsWith('measuring')");
    let state = s.ok("GET", "/api/state", "");
    let last = state["edits"][1].as_str().unwrap().to_string();
    assert!(last.starts_with("add NEW-1 (clinic)"), "{last}");
    let scenario = String::from_utf8(s.call("GET", "/api/scenario.toml", b"").1).unwrap();
    assert!(scenario.contains("home_visits = 1, on_call_24h = 1"), "{scenario}");
    assert_eq!(b.eval("document.getElementById('error').textContent"), Value::from(""));
}

/// As the page formats people: whole, with thousands separators.
fn fmt(x: f64) -> String {
    let n = x.round() as i64;
    let digits = n.abs().to_string();
    let mut out = String::new();
    for (k, c) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}
