//! `zaitaku serve`: the planning workbench on a local web page. A small HTTP server
//! (`tiny_http`: synchronous, no async runtime, a few worker threads; enough for one
//! meeting's browser) serves one offline page (Leaflet and the app inlined, as the report
//! is: no request leaves the machine) and a JSON API over one [`Workbench`].
//!
//! Safety: it listens on 127.0.0.1 unless `--bind` names another address, and then every
//! request must carry the token printed at start (`?token=` or the `X-Zaitaku-Token`
//! header); the page passes on the token of its own address. A malformed or unknown
//! request gets 400 (404, 405, 413) with a JSON message; edits are applied one at a time
//! under a lock; nothing is written to disk (downloads are served, not saved).

use crate::error::{Error, Result};
use crate::inputs::institutions::{Flag, Kind};
use crate::inputs::scenario::RuleEdit;
use crate::workbench::{Change, NewInstitution, Workbench};
use geo::Simplify;
use serde_json::{json, Value};
use std::io::Read;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

const PAGE: &str = include_str!("page.html");
const LEAFLET_JS: &str = include_str!("../outputs/assets/leaflet.js");
const LEAFLET_CSS: &str = include_str!("../outputs/assets/leaflet.css");

/// Largest request body read (an area drawn with many points fits easily).
const MAX_BODY: usize = 1 << 20;

/// The page with Leaflet inlined.
pub fn page() -> String {
    PAGE.replace("/*LEAFLET_CSS*/", LEAFLET_CSS)
        .replace("/*LEAFLET_JS*/", LEAFLET_JS)
}

/// What the server shares between its threads.
struct Shared {
    bench: Mutex<Workbench>,
    /// The municipalities, simplified for the browser (GeoJSON text), made once.
    municipalities: String,
    token: Option<String>,
    /// Criticality of a state (by its scenario text), kept until the next edit.
    criticality: Mutex<Option<(String, Value)>>,
}

/// A response: status and JSON (or text of a content type).
struct Reply {
    status: u16,
    body: Vec<u8>,
    content_type: &'static str,
    download: Option<&'static str>,
}

fn json_reply(status: u16, v: &Value) -> Reply {
    Reply {
        status,
        body: serde_json::to_vec(v).unwrap_or_default(),
        content_type: "application/json",
        download: None,
    }
}

fn bad(status: u16, message: impl Into<String>) -> Reply {
    json_reply(status, &json!({"error": message.into()}))
}

/// The municipalities as GeoJSON for the page: outlines simplified to about 50 m,
/// coordinates to 5 decimals.
fn municipalities_json(bench: &Workbench) -> String {
    let round = |x: f64| (x * 1e5).round() / 1e5;
    let features: Vec<Value> = bench
        .base
        .municipalities
        .iter()
        .map(|m| {
            let g = m.geometry.simplify(0.0005);
            let polys: Vec<Value> =
                g.0.iter()
                    .map(|p| {
                        let ring = |l: &geo::LineString<f64>| -> Value {
                            Value::from(l.0.iter().map(|c| json!([round(c.x), round(c.y)])).collect::<Vec<_>>())
                        };
                        let mut rings = vec![ring(p.exterior())];
                        rings.extend(p.interiors().iter().map(ring));
                        Value::from(rings)
                    })
                    .collect();
            json!({"type": "Feature", "properties": {"code": m.code, "name": m.name},
                   "geometry": {"type": "MultiPolygon", "coordinates": polys}})
        })
        .collect();
    json!({"type": "FeatureCollection", "features": features}).to_string()
}

/// Static facts about the study for the page.
fn study_json(bench: &Workbench) -> Value {
    let s = &bench.base;
    let (mut w, mut so, mut e, mut n) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for c in &s.demand.cells {
        w = w.min(c.lon);
        e = e.max(c.lon);
        so = so.min(c.lat);
        n = n.max(c.lat);
    }
    json!({
        "functions": s.rules.functions.iter().map(|f| json!({
            "id": f.id, "label": f.label,
            "roles": f.roles.iter().map(|u| json!({"role": s.rules.roles[u.role].id, "required": u.required})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "roles": s.rules.roles.iter().map(|r| json!({
            "id": r.id, "reach_km": r.reach_km, "reach_min": r.reach_min,
            "kinds": r.kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
            "flags": r.flags.iter().map(|f| f.as_str()).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "kinds": Kind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
        "flags": Flag::ALL.iter().map(|f| f.as_str()).collect::<Vec<_>>(),
        "demand": s.demand.basis.describe(),
        "by_travel_time": s.network.is_some() || s.od.is_some(),
        "min_share": bench.min_share,
        "bounds": [[so, w], [n, e]],
        "places": s.demand.cells.len(),
        "institutions": s.institutions.len(),
    })
}

/// The current state: per function the figures of the comparison with the base, per
/// municipality the shares, the edits.
fn state_json(bench: &Workbench) -> Value {
    let st = bench.state();
    let d = &st.diff;
    let names = |v: &[usize]| -> Vec<Value> {
        v.iter()
            .map(|&m| {
                let muni = &bench.base.municipalities[m];
                json!({"code": muni.code, "name": muni.name})
            })
            .collect()
    };
    let functions: Vec<Value> = d
        .functions
        .iter()
        .zip(&d.changes)
        .map(|(f, c)| {
            json!({
                "function": f,
                "base_demand": c.base_demand, "base_covered": c.base_covered,
                "demand": c.alt_demand, "covered": c.alt_covered,
                "gained": c.gained, "lost": c.lost,
                "fell_below": names(&c.fell_below), "rose_above": names(&c.rose_above),
            })
        })
        .collect();
    let shares: serde_json::Map<String, Value> = bench
        .base
        .municipalities
        .iter()
        .enumerate()
        .map(|(m, muni)| {
            let v: Vec<Value> = st.coverage.municipalities[m]
                .iter()
                .map(|s| s.share.map_or(Value::Null, Value::from))
                .collect();
            (muni.code.clone(), Value::from(v))
        })
        .collect();
    let (done, undone) = bench.changes();
    json!({
        "functions": functions,
        "municipalities": shares,
        "edits": done.iter().map(Change::describe).collect::<Vec<_>>(),
        "redo": undone.iter().map(Change::describe).collect::<Vec<_>>(),
        "seconds": st.seconds,
        "min_share": bench.min_share,
    })
}

/// The base's institutions still open (`open`, unless `changes_only`), those closed and
/// those added: rows of [id, name, kind, lat, lon].
fn institutions_json(bench: &Workbench, changes_only: bool) -> Value {
    let open: std::collections::HashSet<&str> =
        bench.state().study.institutions.iter().map(|i| i.id.as_str()).collect();
    let base: std::collections::HashSet<&str> = bench.base.institutions.iter().map(|i| i.id.as_str()).collect();
    let row = |i: &crate::inputs::institutions::Institution| json!([i.id, i.name, i.kind.as_str(), i.lat, i.lon]);
    let added: Vec<Value> = bench
        .state()
        .study
        .institutions
        .iter()
        .filter(|i| !base.contains(i.id.as_str()))
        .map(row)
        .collect();
    let open_rows: Vec<Value> = if changes_only {
        Vec::new()
    } else {
        bench
            .base
            .institutions
            .iter()
            .filter(|i| open.contains(i.id.as_str()))
            .map(row)
            .collect()
    };
    json!({
        "open": open_rows,
        "closed": bench.base.institutions.iter().filter(|i| !open.contains(i.id.as_str())).map(row).collect::<Vec<_>>(),
        "added": added,
    })
}

/// Uncovered cells of a function in the current state: [west, south, east, north, demand].
fn gaps_json(bench: &Workbench, f: usize) -> Value {
    let cells = &bench.base.demand.cells;
    let covered = &bench.state().coverage.functions[f].covered;
    let out: Vec<Value> = cells
        .iter()
        .zip(covered)
        .filter(|(c, &cov)| !cov && c.demand > 0.0)
        .map(|(c, _)| {
            let r = c.mesh.square();
            json!([r.min().x, r.min().y, r.max().x, r.max().y, c.demand])
        })
        .collect();
    Value::from(out)
}

/// Per institution and function, the demand its closure alone would uncover (the `all`
/// figures), for the current state; cached until the next edit.
fn criticality_json(shared: &Shared, bench: &Workbench) -> Value {
    let mut cache = shared.criticality.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((scenario, v)) = cache.as_ref() {
        if *scenario == bench.state().scenario {
            return v.clone();
        }
    }
    let c = bench.criticality();
    let study = &bench.state().study;
    let functions: Vec<Value> = c
        .functions
        .iter()
        .enumerate()
        .map(|(f, entries)| {
            let ranked = crate::outputs::criticality_files::ranked(entries);
            let rows: Vec<Value> = ranked
                .into_iter()
                .filter(|e| e.role == crate::criticality::RoleSlot::All && e.unique_demand > 0.0)
                .map(|e| {
                    let i = &study.institutions[e.institution];
                    json!([i.id, i.name, i.kind.as_str(), i.lat, i.lon, e.unique_demand])
                })
                .collect();
            json!({"function": study.rules.functions[f].id, "fragile": c.fragile[f], "ranked": rows})
        })
        .collect();
    let v = json!({"functions": functions});
    *cache = Some((bench.state().scenario.clone(), v.clone()));
    v
}

/// A number field of a JSON body.
fn number(body: &Value, key: &str) -> std::result::Result<Option<f64>, String> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_f64()
            .filter(|x| x.is_finite())
            .map(Some)
            .ok_or_else(|| format!("'{key}' must be a number")),
    }
}

fn text<'a>(body: &'a Value, key: &str) -> std::result::Result<&'a str, String> {
    body.get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| format!("'{key}' (text) is missing"))
}

/// The workbench change a POST /api/edit body asks for.
fn change_of(bench: &Workbench, body: &Value) -> std::result::Result<Change, String> {
    match text(body, "type")? {
        "close" => Ok(Change::Close {
            ids: vec![text(body, "id")?.to_string()],
            area: false,
        }),
        "reopen" => Ok(Change::Reopen {
            ids: vec![text(body, "id")?.to_string()],
        }),
        "close_area" => {
            let ring: Vec<(f64, f64)> = body
                .get("ring")
                .and_then(Value::as_array)
                .ok_or("'ring' ([[lon, lat], ...]) is missing")?
                .iter()
                .map(|p| match p.as_array().map(|a| a.as_slice()) {
                    Some([x, y]) => match (x.as_f64(), y.as_f64()) {
                        (Some(x), Some(y)) if x.is_finite() && y.is_finite() => Ok((x, y)),
                        _ => Err("a point of 'ring' is not two numbers".to_string()),
                    },
                    _ => Err("a point of 'ring' is not [lon, lat]".to_string()),
                })
                .collect::<std::result::Result<_, _>>()?;
            if ring.len() < 3 {
                return Err("an area needs at least three points".into());
            }
            Ok(Change::Close {
                ids: bench.inside(&ring),
                area: true,
            })
        }
        "add" => {
            let kind = Kind::parse(text(body, "kind")?).ok_or("unknown 'kind'")?;
            let flags = match body.get("flags") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(a)) => a
                    .iter()
                    .map(|f| f.as_str().and_then(Flag::parse).ok_or(format!("unknown flag {f}")))
                    .collect::<std::result::Result<Vec<_>, _>>()?,
                Some(_) => return Err("'flags' must be a list".into()),
            };
            let lat = number(body, "lat")?.ok_or("'lat' is missing")?;
            let lon = number(body, "lon")?.ok_or("'lon' is missing")?;
            let (done, _) = bench.changes();
            let id = match body.get("id").and_then(Value::as_str) {
                Some(id) => id.to_string(),
                None => {
                    let n = done.iter().filter(|c| matches!(c, Change::Add(_))).count() + 1;
                    format!("NEW-{n}")
                }
            };
            let name = body
                .get("name")
                .and_then(Value::as_str)
                .map_or_else(|| format!("new {}", kind.as_str()), str::to_string);
            Ok(Change::Add(NewInstitution {
                id,
                name,
                kind,
                lat,
                lon,
                flags,
                capacity: number(body, "capacity")?,
                beds: number(body, "beds")?,
            }))
        }
        "rule" => Ok(Change::Rule(RuleEdit {
            function: text(body, "function")?.to_string(),
            role: text(body, "role")?.to_string(),
            reach_km: number(body, "reach_km")?,
            reach_min: number(body, "reach_min")?,
            required: match body.get("required") {
                None | Some(Value::Null) => None,
                Some(Value::Bool(b)) => Some(*b),
                Some(_) => return Err("'required' must be true or false".into()),
            },
        })),
        other => Err(format!(
            "unknown edit type '{other}' (close, reopen, close_area, add, rule)"
        )),
    }
}

/// Answers one request.
fn handle(shared: &Shared, method: &str, url: &str, body: &[u8], token: Option<&str>) -> Reply {
    let (path, query) = url.split_once('?').unwrap_or((url, ""));
    let param = |key: &str| {
        query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.to_string())
    };
    if let Some(expected) = &shared.token {
        let given = token.map(str::to_string).or_else(|| param("token"));
        if given.as_deref() != Some(expected.as_str()) {
            return bad(
                403,
                "this workbench needs its token: open the address zaitaku serve printed",
            );
        }
    }
    let bench = || shared.bench.lock().unwrap_or_else(|e| e.into_inner());
    let function_index = |b: &Workbench| -> std::result::Result<usize, Reply> {
        let id = param("function").ok_or_else(|| bad(400, "'function' is missing"))?;
        b.base
            .rules
            .functions
            .iter()
            .position(|f| f.id == id)
            .ok_or_else(|| bad(400, format!("unknown function '{id}'")))
    };
    match (method, path) {
        ("GET", "/") => Reply {
            status: 200,
            body: page().into_bytes(),
            content_type: "text/html; charset=utf-8",
            download: None,
        },
        ("GET", "/api/study") => json_reply(200, &study_json(&bench())),
        ("GET", "/api/municipalities") => Reply {
            status: 200,
            body: shared.municipalities.clone().into_bytes(),
            content_type: "application/json",
            download: None,
        },
        ("GET", "/api/state") => json_reply(200, &state_json(&bench())),
        ("GET", "/api/institutions") => json_reply(
            200,
            &institutions_json(&bench(), param("changes").as_deref() == Some("1")),
        ),
        ("GET", "/api/gaps") => {
            let b = bench();
            match function_index(&b) {
                Ok(f) => json_reply(200, &gaps_json(&b, f)),
                Err(r) => r,
            }
        }
        ("GET", "/api/criticality") => {
            let b = bench();
            json_reply(200, &criticality_json(shared, &b))
        }
        ("GET", "/api/scenario.toml") => Reply {
            status: 200,
            body: bench().state().scenario.clone().into_bytes(),
            content_type: "application/toml; charset=utf-8",
            download: Some("workbench_scenario.toml"),
        },
        ("GET", "/api/scenario.lock.json") => {
            let v = bench().lock_json();
            Reply {
                download: Some("workbench_scenario.lock.json"),
                ..json_reply(200, &v)
            }
        }
        ("POST", "/api/edit") => {
            let Ok(body) = serde_json::from_slice::<Value>(body) else {
                return bad(400, "the body is not JSON");
            };
            let mut b = bench();
            let change = match change_of(&b, &body) {
                Ok(c) => c,
                Err(m) => return bad(400, m),
            };
            match b.apply(change) {
                Ok(()) => json_reply(200, &state_json(&b)),
                Err(e) => bad(400, e.to_string()),
            }
        }
        ("POST", "/api/undo") | ("POST", "/api/redo") => {
            let mut b = bench();
            let done = if path.ends_with("undo") { b.undo() } else { b.redo() };
            match done {
                Ok(true) => json_reply(200, &state_json(&b)),
                Ok(false) => bad(400, format!("nothing to {}", &path[5..])),
                Err(e) => bad(400, e.to_string()),
            }
        }
        (
            _,
            "/"
            | "/api/study"
            | "/api/municipalities"
            | "/api/state"
            | "/api/institutions"
            | "/api/gaps"
            | "/api/criticality"
            | "/api/scenario.toml"
            | "/api/scenario.lock.json"
            | "/api/edit"
            | "/api/undo"
            | "/api/redo",
        ) => bad(405, format!("{method} is not allowed on {path}")),
        _ => bad(404, format!("no such address: {path}")),
    }
}

/// A running workbench server.
pub struct Running {
    pub addr: SocketAddr,
    pub token: Option<String>,
    server: Arc<tiny_http::Server>,
    workers: Vec<std::thread::JoinHandle<()>>,
}

impl Running {
    /// The address to open (with the token when one is needed).
    pub fn url(&self) -> String {
        match &self.token {
            Some(t) => format!("http://{}/?token={t}", self.addr),
            None => format!("http://{}/", self.addr),
        }
    }

    /// Serves until the process ends.
    pub fn wait(self) {
        for w in self.workers {
            let _ = w.join();
        }
    }

    /// Stops the workers (tests).
    pub fn stop(self) {
        self.server.unblock();
        for _ in 1..self.workers.len() {
            self.server.unblock();
        }
        for w in self.workers {
            let _ = w.join();
        }
    }
}

/// A token for a server bound beyond loopback: 128 bits from the system's hasher seeds.
fn new_token() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut out = String::new();
    for k in 0..2u64 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(k);
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        h.write_u32(std::process::id());
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out
}

/// Starts serving `bench` on `bind` (port 0: any free port) with `threads` workers.
pub fn start(bench: Workbench, bind: SocketAddr, threads: usize) -> Result<Running> {
    let token = (!bind.ip().is_loopback()).then(new_token);
    let server = tiny_http::Server::http(bind).map_err(|e| Error::Usage(format!("cannot listen on {bind}: {e}")))?;
    let addr = server
        .server_addr()
        .to_ip()
        .ok_or_else(|| Error::Internal("the server has no IP address".into()))?;
    let server = Arc::new(server);
    let shared = Arc::new(Shared {
        municipalities: municipalities_json(&bench),
        bench: Mutex::new(bench),
        token: token.clone(),
        criticality: Mutex::new(None),
    });
    let workers = (0..threads.max(1))
        .map(|_| {
            let server = Arc::clone(&server);
            let shared = Arc::clone(&shared);
            std::thread::spawn(move || {
                for mut request in server.incoming_requests() {
                    let mut body = Vec::new();
                    let too_big = request.body_length().is_some_and(|n| n > MAX_BODY)
                        || request
                            .as_reader()
                            .take(MAX_BODY as u64 + 1)
                            .read_to_end(&mut body)
                            .is_err()
                        || body.len() > MAX_BODY;
                    let header_token = request
                        .headers()
                        .iter()
                        .find(|h| h.field.equiv("X-Zaitaku-Token"))
                        .map(|h| h.value.as_str().to_string());
                    let reply = if too_big {
                        bad(413, format!("a request body is at most {MAX_BODY} bytes"))
                    } else {
                        let method = request.method().as_str().to_string();
                        let url = request.url().to_string();
                        // A panic in a request must not take the server down.
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            handle(&shared, &method, &url, &body, header_token.as_deref())
                        }))
                        .unwrap_or_else(|_| bad(500, "internal error"))
                    };
                    let mut response = tiny_http::Response::from_data(reply.body).with_status_code(reply.status);
                    let mut headers = vec![
                        format!("Content-Type: {}", reply.content_type),
                        "Cache-Control: no-store".to_string(),
                    ];
                    if let Some(name) = reply.download {
                        headers.push(format!("Content-Disposition: attachment; filename=\"{name}\""));
                    }
                    for h in headers {
                        if let Ok(h) = h.parse::<tiny_http::Header>() {
                            response.add_header(h);
                        }
                    }
                    let _ = request.respond(response);
                }
            })
        })
        .collect();
    Ok(Running {
        addr,
        token,
        server,
        workers,
    })
}
