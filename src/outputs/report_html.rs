//! `report.html`: one self-contained, offline page for planners who never open a GIS.
//!
//! It holds the inputs and rules used, the covered share per function for the whole study,
//! each prefecture and each region, the maps (PNG, inline), the region check and the proposed
//! catchments, the worst-covered municipalities, and an interactive map: Leaflet (inlined,
//! BSD 2-Clause) drawing the municipalities coloured by the chosen function's share, with
//! toggles for the uncovered mesh squares, catchments, regions and institutions; a click on
//! a municipality shows its figures. Nothing is fetched: no tiles, fonts or scripts; the
//! map font (Noto Sans CJK JP subset) is inlined as the last fallback, so Japanese shows on
//! machines without a Japanese font.
//! Geometry is simplified for the page only.

use crate::catchments::Catchments;
use crate::coverage::{Coverage, Stats};
use crate::outputs::maps::{area_name, demand_words, grouped, study_bbox};
use crate::outputs::styles::{KIND_COLOURS, SHARE_CLASSES};
use crate::reach::ReachTable;
use crate::study::Study;
use base64::Engine;
use geo::{MultiPolygon, Simplify};
use rayon::prelude::*;
use serde_json::{json, Value};
use std::fmt::Write as _;

const LEAFLET_JS: &str = include_str!("assets/leaflet.js");
const LEAFLET_CSS: &str = include_str!("assets/leaflet.css");

/// Institutions drawn on the page at most; a larger study lists them in the GeoPackage only.
pub const MAX_INSTITUTIONS_ON_PAGE: usize = 30_000;

/// The catchments analysis with the dissolved outlines of its catchments and its regions.
pub type CatchmentsShown<'a> = (&'a Catchments, &'a [MultiPolygon<f64>], &'a [MultiPolygon<f64>]);

/// What the report shows.
pub struct ReportInputs<'a> {
    pub study: &'a Study,
    pub reach: &'a ReachTable,
    pub cov: &'a Coverage,
    /// The catchments analysis with the dissolved outlines of its catchments and regions.
    pub catchments: Option<CatchmentsShown<'a>>,
    /// Why there are no catchments, when there are none.
    pub catchments_note: Option<String>,
    /// Need served under providers' capacities, when measured.
    pub capacity: Option<&'a crate::capacity::Capacity>,
    /// Per function: its id and the PNG map.
    pub maps: Vec<(String, Vec<u8>)>,
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn pct(share: Option<f64>) -> String {
    share.map_or("–".into(), |v| format!("{:.1} %", v * 100.0))
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// How the page's outlines are drawn: simplified to about a pixel of a 3,000-pixel view of
/// the whole study, and rounded to the decimals that keep a tenth of that (at least 3, at
/// most 6: about 100 m for the whole country, 10 m for a prefecture).
#[derive(Debug, Clone, Copy)]
struct Outline {
    eps: f64,
    scale: f64,
}

impl Outline {
    fn for_bbox(bbox: [f64; 4]) -> Self {
        let eps = ((bbox[2] - bbox[0]).max(bbox[3] - bbox[1]) / 3000.0).max(1e-6);
        let decimals = (-(eps / 10.0).log10()).ceil().clamp(3.0, 6.0);
        Outline {
            eps,
            scale: 10f64.powf(decimals),
        }
    }

    fn round(&self, x: f64) -> f64 {
        (x * self.scale).round() / self.scale
    }

    /// GeoJSON coordinates of the simplified, rounded multipolygon (points that rounding
    /// makes equal to the one before are dropped).
    fn coordinates(&self, mp: &MultiPolygon<f64>) -> Vec<Vec<Vec<[f64; 2]>>> {
        let ring = |r: &geo::LineString<f64>| {
            let mut points: Vec<[f64; 2]> = Vec::with_capacity(r.0.len());
            for c in &r.0 {
                let p = [self.round(c.x), self.round(c.y)];
                if points.last() != Some(&p) {
                    points.push(p);
                }
            }
            points
        };
        mp.simplify(self.eps)
            .0
            .iter()
            .map(|p| std::iter::once(p.exterior()).chain(p.interiors()).map(ring).collect())
            .collect()
    }
}

/// A MultiPolygon feature of the page, serialised as `json!` would write it (members in
/// this order) but without a `Value` per coordinate.
#[derive(serde::Serialize)]
struct PageFeature {
    #[serde(rename = "type")]
    kind: &'static str,
    geometry: PageGeometry,
    properties: Value,
}

#[derive(serde::Serialize)]
struct PageGeometry {
    #[serde(rename = "type")]
    kind: &'static str,
    coordinates: Vec<Vec<Vec<[f64; 2]>>>,
}

/// The feature's JSON text.
fn feature(coordinates: Vec<Vec<Vec<[f64; 2]>>>, properties: Value) -> String {
    let f = PageFeature {
        kind: "Feature",
        geometry: PageGeometry {
            kind: "MultiPolygon",
            coordinates,
        },
        properties,
    };
    serde_json::to_string(&f).unwrap_or_else(|_| "null".into())
}

/// `{"type":"FeatureCollection","features":[...]}` from features' texts.
fn collection(features: &[String]) -> String {
    let mut s = String::with_capacity(features.iter().map(|f| f.len() + 1).sum::<usize>() + 48);
    s.push_str(r#"{"type":"FeatureCollection","features":["#);
    for (i, f) in features.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(f);
    }
    s.push_str("]}");
    s
}

/// The data the page's script draws, as JSON text: an object whose members are written in
/// order, the outlines' features each serialised on their own (in parallel).
fn page_data(r: &ReportInputs) -> String {
    let study = r.study;
    let cov = r.cov;
    let nf = study.rules.functions.len();
    let bbox = study_bbox(study);
    let outline = Outline::for_bbox(bbox);
    // Per municipality, per function: (served share, unserved need) under capacities.
    let served: Vec<Vec<(Option<f64>, f64)>> = match r.capacity {
        Some(cap) => {
            let rows = crate::capacity::area_rows_at(study, cap, "municipality");
            let nm = study.municipalities.len();
            let all: Vec<&crate::capacity::AreaRow> = rows.iter().filter(|x| x.role.is_none()).collect();
            (0..nm)
                .map(|m| {
                    (0..nf)
                        .map(|f| (all[f * nm + m].served.share(), all[f * nm + m].served.unserved()))
                        .collect()
                })
                .collect()
        }
        None => Vec::new(),
    };
    let municipalities: Vec<String> = study
        .municipalities
        .par_iter()
        .enumerate()
        .map(|(m, muni)| {
            let stats = &cov.municipalities[m];
            let point =
                crate::outputs::label_point::label_point(&muni.geometry).map(|p| json!([round6(p.x()), round6(p.y())]));
            feature(
                outline.coordinates(&muni.geometry),
                json!({
                    "code": muni.code,
                    "name": muni.name,
                    "prefecture": muni.prefecture,
                    "demand": stats.first().map(|s| s.demand.round()),
                    "share": stats.iter().map(|s| s.share.map(round6)).collect::<Vec<_>>(),
                    "uncovered": stats.iter().map(|s| s.uncovered().round()).collect::<Vec<_>>(),
                    "served": served.get(m).map(|v| v.iter().map(|x| x.0.map(round6)).collect::<Vec<_>>()),
                    "unserved": served.get(m).map(|v| v.iter().map(|x| x.1.round()).collect::<Vec<_>>()),
                    "point": point,
                }),
            )
        })
        .collect();
    let gaps: Vec<Value> = (0..nf)
        .map(|f| {
            Value::Array(
                study
                    .demand
                    .cells
                    .iter()
                    .enumerate()
                    .filter(|&(i, c)| !cov.functions[f].covered[i] && c.demand > 0.0)
                    .map(|(_, c)| {
                        let sq = c.mesh.square();
                        json!([
                            round6(sq.min().x),
                            round6(sq.min().y),
                            round6(sq.max().x),
                            round6(sq.max().y)
                        ])
                    })
                    .collect(),
            )
        })
        .collect();
    let areas = |outlines: &[MultiPolygon<f64>], checks: &[crate::catchments::AreaCheck]| -> Vec<String> {
        outlines
            .par_iter()
            .zip(checks)
            .map(|(g, a)| {
                feature(
                    outline.coordinates(g),
                    json!({"code": a.code, "name": a.name, "meets": a.failing.is_empty(), "failing": a.failing.join("; ")}),
                )
            })
            .collect()
    };
    let (catchments, regions) = match r.catchments {
        Some((c, c_out, r_out)) => (areas(c_out, &c.catchments), areas(r_out, &c.regions)),
        None => (Vec::new(), Vec::new()),
    };
    let institutions: Vec<Value> = if study.institutions.len() <= MAX_INSTITUTIONS_ON_PAGE {
        study
            .institutions
            .iter()
            .map(|i| {
                let k = KIND_COLOURS
                    .iter()
                    .position(|(kind, _, _)| *kind == i.kind.as_str())
                    .unwrap_or(0);
                json!([round6(i.lon), round6(i.lat), k, i.name])
            })
            .collect()
    } else {
        Vec::new()
    };
    let members: [(&str, String); 11] = [
        ("bbox", json!(bbox).to_string()),
        (
            "functions",
            Value::from(
                study
                    .rules
                    .functions
                    .iter()
                    .map(|f| json!({"id": f.id, "label": f.label}))
                    .collect::<Vec<_>>(),
            )
            .to_string(),
        ),
        (
            "classes",
            Value::from(
                SHARE_CLASSES
                    .iter()
                    .map(|c| {
                        json!({"lower": c.lower, "upper": c.upper, "label": c.label,
            "colour": format!("#{:02x}{:02x}{:02x}", c.colour[0], c.colour[1], c.colour[2])})
                    })
                    .collect::<Vec<_>>(),
            )
            .to_string(),
        ),
        (
            "kinds",
            Value::from(
                KIND_COLOURS
                    .iter()
                    .map(|(k, ja, c)| {
                        json!({"kind": k, "ja": ja,
            "colour": format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2])})
                    })
                    .collect::<Vec<_>>(),
            )
            .to_string(),
        ),
        ("municipalities", collection(&municipalities)),
        ("gaps", Value::from(gaps).to_string()),
        ("catchments", collection(&catchments)),
        ("regions", collection(&regions)),
        ("institutions", Value::from(institutions).to_string()),
        ("institutions_total", study.institutions.len().to_string()),
        ("capacity", r.capacity.is_some().to_string()),
    ];
    let mut s = String::from("{");
    for (i, (key, value)) in members.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&Value::from(*key).to_string());
        s.push(':');
        s.push_str(value);
    }
    s.push('}');
    s
}

fn stats_row(s: &mut String, name: &str, stats: &[Stats]) {
    let _ = write!(s, "<tr><th>{}</th>", esc(name));
    for st in stats {
        let _ = write!(
            s,
            "<td class=\"n\">{}<br><small>{} not covered</small></td>",
            pct(st.share),
            grouped(st.uncovered())
        );
    }
    s.push_str("</tr>");
}

fn function_header(s: &mut String, study: &Study, first: &str) {
    let _ = write!(s, "<tr><th>{}</th>", esc(first));
    for f in &study.rules.functions {
        let _ = write!(s, "<th>{}<br><small>{}</small></th>", esc(&f.label), esc(&f.id));
    }
    s.push_str("</tr>");
}

/// Sums municipality figures over `members`.
fn sum_stats(cov: &Coverage, members: &[usize], nf: usize) -> Vec<Stats> {
    (0..nf)
        .map(|f| {
            let demand: f64 = members.iter().map(|&m| cov.municipalities[m][f].demand).sum();
            let covered: f64 = members.iter().map(|&m| cov.municipalities[m][f].covered).sum();
            Stats {
                demand,
                covered,
                share: (demand > 0.0).then(|| covered / demand),
                ..Default::default()
            }
        })
        .collect()
}

/// Need served under providers' capacities: per function over the whole study (and
/// AccessMod's fill beside it), per role with its full providers, and per prefecture and
/// region.
fn capacity_section(s: &mut String, study: &Study, cap: &crate::capacity::Capacity) {
    let rules = &study.rules;
    s.push_str(
        "<section id=\"capacity\"><h2>Capacity: need served within reach</h2><p>Need = demand × the function's need rate \
         (people who use home care in a month). Served = the most need that can be assigned to providers within reach \
         with none above its capacity (patients a month; its kind's default where the row gives none): an exact \
         maximum flow per role. A function's served need at a place is the least over its required roles.</p>",
    );
    let all = crate::capacity::area_rows_at(study, cap, "all");
    s.push_str(
        "<table><thead><tr><th>function / role</th><th>need rate</th><th>need</th><th>served</th><th>share</th>\
         <th>unserved</th><th>providers full</th><th>AccessMod's fill</th></tr></thead><tbody>",
    );
    for (f, function) in rules.functions.iter().enumerate() {
        for row in all.iter().filter(|x| x.function == f) {
            let (name, full) = match row.role {
                None => (
                    format!("<b>{}</b> <small>{}</small>", esc(&function.label), esc(&function.id)),
                    String::new(),
                ),
                Some(role) => {
                    let k = function.roles.iter().position(|u| u.role == role).unwrap_or(0);
                    let p = &cap.problems[cap.function_problems[f][k]];
                    let full = p.providers_full();
                    let optional = if function.roles[k].required {
                        ""
                    } else {
                        " <small>(optional)</small>"
                    };
                    (
                        format!("&nbsp;&nbsp;{}{optional}", esc(&rules.roles[role].id)),
                        format!("{} of {}", grouped(full as f64), grouped(p.providers.len() as f64)),
                    )
                }
            };
            let _ = write!(
                s,
                "<tr><td>{name}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
                 <td class=\"n\">{}</td><td class=\"n\">{full}</td><td class=\"n\">{}</td></tr>",
                if row.role.is_none() { format!("{}", cap.need_rate[f]) } else { String::new() },
                grouped(row.served.need),
                grouped(row.served.served),
                pct(row.served.share()),
                grouped(row.served.unserved()),
                row.fill.map_or("–".into(), |x| format!("{} ({})", grouped(x.served), pct(x.share())))
            );
        }
    }
    s.push_str("</tbody></table>");
    for level in ["prefecture", "region"] {
        let rows = crate::capacity::area_rows_at(study, cap, level);
        let rows: Vec<&crate::capacity::AreaRow> = rows.iter().filter(|x| x.role.is_none()).collect();
        if rows.is_empty() {
            continue;
        }
        let _ = write!(s, "<h3>Per {level}: share of the need served</h3><table><thead>");
        function_header(s, study, level);
        s.push_str("</thead><tbody>");
        let names: Vec<(String, String)> = crate::indicators::areas(study)
            .into_iter()
            .filter(|a| a.level == level)
            .map(|a| (a.code, a.name))
            .collect();
        for (code, name) in names {
            let _ = write!(s, "<tr><th>{}</th>", esc(&name));
            for f in 0..rules.functions.len() {
                if let Some(x) = rows.iter().find(|x| x.area_code == code && x.function == f) {
                    let _ = write!(
                        s,
                        "<td class=\"n\">{}<br><small>{} unserved</small></td>",
                        pct(x.served.share()),
                        grouped(x.served.unserved())
                    );
                }
            }
            s.push_str("</tr>");
        }
        s.push_str("</tbody></table>");
    }
    s.push_str("<p>Files: capacity.csv (per area, function and role), capacity_providers.csv (each provider's load), capacity.geojson.</p></section>");
}

fn area_table(s: &mut String, study: &Study, areas: &[crate::catchments::AreaCheck], what: &str) {
    let _ = write!(s, "<table><thead><tr><th>{what}</th><th>municipalities</th>");
    for f in &study.rules.functions {
        let _ = write!(s, "<th>{}<br><small>in-area share</small></th>", esc(&f.label));
    }
    s.push_str("<th>meets every floor</th></tr></thead><tbody>");
    for a in areas {
        let _ = write!(
            s,
            "<tr><th>{} <small>{}</small></th><td class=\"n\">{}</td>",
            esc(&a.name),
            esc(&a.code),
            a.members.len()
        );
        for fc in &a.functions {
            let _ = write!(
                s,
                "<td class=\"n {}\">{}</td>",
                if fc.self_sufficient { "ok" } else { "bad" },
                pct(fc.share)
            );
        }
        let _ = write!(
            s,
            "<td>{}</td></tr>",
            if a.failing.is_empty() {
                "yes".to_string()
            } else {
                format!("no: {}", esc(&a.failing.join("; ")))
            }
        );
    }
    s.push_str("</tbody></table>");
}

/// The whole page.
pub fn report_html(r: &ReportInputs) -> String {
    let study = r.study;
    let cov = r.cov;
    let rules = &study.rules;
    let nf = rules.functions.len();
    let area = area_name(study);
    let unit = r.reach.unit.suffix();
    let mut s = String::with_capacity(4 << 20);
    let _ = write!(
        s,
        "<!DOCTYPE html><html lang=\"ja\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>zaitaku report — {}</title><style>{LEAFLET_CSS}</style>\
         <style>@font-face{{font-family:\"Zaitaku Sans JP\";src:url(data:font/otf;base64,{}) format(\"opentype\")}}</style>\
         <style>{}</style></head><body>",
        esc(&area),
        base64::engine::general_purpose::STANDARD.encode(crate::outputs::maps::FONT),
        PAGE_CSS
    );
    let _ = write!(
        s,
        "<header><h1>在宅医療 coverage report — {}</h1><p>Share of {} within reach of every institution role each function of the \
         guideline for home medical care (在宅医療の体制構築に係る指針) needs. zaitaku {}; reach measured {}.</p></header><main>",
        esc(&area),
        demand_words(study),
        env!("CARGO_PKG_VERSION"),
        if r.reach.unit.suffix() != "min" {
            "as straight-line distance on the WGS84 ellipsoid".to_string()
        } else if let Some((name, graph)) = &study.network {
            format!(
                "as road travel time (minutes) on {} ({}; {} nodes, {} directed edges), within each role's reach_min \
                 by road and its reach_km in a straight line; coverage, gaps, catchments and the tables below are by road",
                esc(name),
                esc(&graph.info.source),
                graph.nodes(),
                graph.edges()
            )
        } else if let Some((name, _)) = &study.od {
            format!(
                "as travel time (minutes) from the OD matrix {}, within each role's reach_min and its reach_km in a \
                 straight line; coverage, gaps, catchments and the tables below follow it",
                esc(name)
            )
        } else {
            "as travel time (minutes)".to_string()
        }
    );

    // The interactive map.
    s.push_str("<section id=\"explore\"><h2>Map</h2><div class=\"controls\"><label>Function <select id=\"function\">");
    for (f, function) in rules.functions.iter().enumerate() {
        let _ = write!(
            s,
            "<option value=\"{f}\">{} ({})</option>",
            esc(&function.label),
            esc(&function.id)
        );
    }
    s.push_str("</select></label> ");
    if r.capacity.is_some() {
        s.push_str(
            "<label>Colour by <select id=\"measure\"><option value=\"share\">covered share</option>\
             <option value=\"served\">need served under capacities</option></select></label> ",
        );
    }
    s.push_str("<label><input type=\"checkbox\" id=\"toggle-gaps\" checked> uncovered mesh squares</label>");
    if r.catchments.is_some() {
        s.push_str(" <label><input type=\"checkbox\" id=\"toggle-catchments\" checked> proposed catchments</label>");
        if r.catchments.is_some_and(|c| !c.0.regions.is_empty()) {
            s.push_str(" <label><input type=\"checkbox\" id=\"toggle-regions\"> regions</label>");
        }
    }
    if study.institutions.len() <= MAX_INSTITUTIONS_ON_PAGE {
        s.push_str(" <label><input type=\"checkbox\" id=\"toggle-institutions\"> institutions</label>");
    }
    s.push_str(
        "</div><div class=\"mapwrap\"><div id=\"map\"></div><aside id=\"side\"><div id=\"legend\"></div>\
         <div id=\"details\"><p>Click a municipality for its figures.</p></div></aside></div>",
    );
    if study.institutions.len() > MAX_INSTITUTIONS_ON_PAGE {
        let _ = write!(
            s,
            "<p class=\"note\">{} institutions are too many to draw here; the GeoPackage's institutions layer has them all.</p>",
            grouped(study.institutions.len() as f64)
        );
    }
    s.push_str("</section>");

    // Coverage tables.
    s.push_str("<section><h2>Coverage per function</h2><table><thead>");
    function_header(&mut s, study, "area");
    s.push_str("</thead><tbody>");
    stats_row(&mut s, "whole study", &cov.total);
    for (name, stats) in &cov.prefectures {
        stats_row(&mut s, name, stats);
    }
    s.push_str("</tbody></table>");
    if let Some((c, _, _)) = r.catchments.filter(|c| !c.0.regions.is_empty()) {
        s.push_str("<h3>Per region</h3><table><thead>");
        function_header(&mut s, study, "region");
        s.push_str("</thead><tbody>");
        for region in &c.regions {
            stats_row(&mut s, &region.name, &sum_stats(cov, &region.members, nf));
        }
        s.push_str("</tbody></table>");
    }
    s.push_str("</section>");

    // Maps.
    s.push_str("<section><h2>Maps</h2><div class=\"maps\">");
    for (id, png) in &r.maps {
        let _ = write!(
            s,
            "<figure><img alt=\"map of {0}\" src=\"data:image/png;base64,{1}\"><figcaption>maps/{0}.png</figcaption></figure>",
            esc(id),
            base64::engine::general_purpose::STANDARD.encode(png)
        );
    }
    s.push_str("</div></section>");

    // Worst covered.
    s.push_str("<section><h2>Worst-covered municipalities</h2><div class=\"cols\">");
    for (f, function) in rules.functions.iter().enumerate() {
        let mut order: Vec<usize> = (0..study.municipalities.len())
            .filter(|&m| cov.municipalities[m][f].share.is_some())
            .collect();
        order.sort_by(|&a, &b| {
            let sa = cov.municipalities[a][f].share.unwrap_or(1.0);
            let sb = cov.municipalities[b][f].share.unwrap_or(1.0);
            sa.total_cmp(&sb).then(a.cmp(&b))
        });
        let _ = write!(
            s,
            "<div><h3>{} <small>{}</small></h3><table><thead><tr><th>municipality</th><th>share</th><th>not covered</th></tr></thead><tbody>",
            esc(&function.label),
            esc(&function.id)
        );
        for &m in order.iter().take(10) {
            let muni = &study.municipalities[m];
            let st = &cov.municipalities[m][f];
            let _ = write!(
                s,
                "<tr><td>{} <small>{} {}</small></td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                esc(&muni.name),
                esc(&muni.prefecture),
                esc(&muni.code),
                pct(st.share),
                grouped(st.uncovered())
            );
        }
        s.push_str("</tbody></table></div>");
    }
    s.push_str("</div></section>");

    // Catchments.
    s.push_str("<section><h2>Regions and proposed catchment areas</h2>");
    match r.catchments {
        Some((c, _, _)) => {
            s.push_str(
                "<p>An area is self-sufficient for a function when every required role has its providers inside it and \
                 enough of its demand is covered by those inside providers alone (in-area share).</p>",
            );
            if !c.regions.is_empty() {
                let failing = c.regions.iter().filter(|a| !a.failing.is_empty()).count();
                let _ = write!(
                    s,
                    "<h3>Regions checked: {} of {} miss a floor</h3>",
                    failing,
                    c.regions.len()
                );
                area_table(&mut s, study, &c.regions, "region");
            }
            let failing = c.catchments.iter().filter(|a| !a.failing.is_empty()).count();
            let _ = write!(
                s,
                "<h3>Proposed catchments: {}, {} missing a floor</h3>",
                c.catchments.len(),
                failing
            );
            if let Some(cmp) = &c.comparison {
                let _ = write!(
                    s,
                    "<p>Agreement with the regions (adjusted Rand index): {:.3}; {} municipalities would change area.</p>",
                    cmp.adjusted_rand,
                    cmp.moved.len()
                );
            }
            area_table(&mut s, study, &c.catchments, "catchment");
            // How far from the best: found against the upper bound the floors allow.
            s.push_str(
                "<h3>Found against the most possible</h3><p>No layout meeting every floor can have more catchments than the upper bound (from the floors alone: demand, providers of each role, hosts of the roles the shares need).</p>\
                 <table><thead><tr><th>unit</th><th>municipalities</th><th>found</th><th>upper bound</th><th>maximum</th><th>constructions tried</th></tr></thead><tbody>",
            );
            for u in &c.units {
                let _ = write!(
                    s,
                    "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td></tr>",
                    esc(&u.name),
                    u.municipalities,
                    u.catchments,
                    u.upper_bound,
                    crate::run::exact_words(u.exact),
                    u.constructions
                );
            }
            s.push_str("</tbody></table>");
        }
        None => {
            let _ = write!(
                s,
                "<p>{}</p>",
                esc(r.catchments_note.as_deref().unwrap_or("No catchments in this run."))
            );
        }
    }
    s.push_str("</section>");

    if let Some(cap) = r.capacity {
        capacity_section(&mut s, study, cap);
    }

    // Rules and inputs.
    let _ = write!(
        s,
        "<section><h2>Rules</h2><p>Demand: <code>{}</code>. A function is covered at a place when every required role has a provider within its reach.</p>\
         <table><thead><tr><th>function</th><th>role</th><th>required</th><th>kinds</th><th>flags</th><th>reach</th></tr></thead><tbody>",
        rules.demand.as_str()
    );
    for function in &rules.functions {
        for u in &function.roles {
            let role = &rules.roles[u.role];
            let reach = match (unit, role.reach_min) {
                ("min", Some(m)) => format!("{m} min and {} km", role.reach_km),
                _ => format!("{} km", role.reach_km),
            };
            let _ = write!(
                s,
                "<tr><td>{} <small>{}</small></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td></tr>",
                esc(&function.label),
                esc(&function.id),
                esc(&role.id),
                if u.required { "yes" } else { "reported" },
                esc(&role.kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")),
                esc(&crate::inputs::institutions::Flag::ALL
                    .iter()
                    .filter(|f| role.flags.contains(**f))
                    .map(|f| f.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")),
                esc(&reach)
            );
        }
    }
    s.push_str("</tbody></table></section><section><h2>Inputs</h2><table><thead><tr><th>file</th><th>read as</th><th>read</th><th>accepted</th><th>rejected</th><th>notes</th></tr></thead><tbody>");
    for file in &study.files {
        let _ = write!(
            s,
            "<tr><td><code>{}</code></td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
            esc(&file.file),
            file.role,
            grouped(file.read as f64),
            grouped(file.accepted as f64),
            grouped(file.rejected as f64),
            esc(&file.notes.join("; "))
        );
    }
    s.push_str(
        "</tbody></table><p>Rejected rows are listed with their reasons in <code>rejects.csv</code>.</p></section>",
    );
    if !r.study.credits.is_empty() {
        s.push_str("<p class=\"credits\">");
        s.push_str(&r.study.credits.iter().map(|c| esc(c)).collect::<Vec<_>>().join("<br>"));
        s.push_str("</p>");
    }
    s.push_str(
        "<footer>Map drawing: Leaflet 1.9.4 (BSD 2-Clause, © 2010-2023 Volodymyr Agafonkin, © 2010-2011 CloudMade), inlined. \
         No tiles, fonts or scripts are fetched.</footer></main>",
    );
    let data = page_data(r);
    let _ = writeln!(
        s,
        "<script>{}</script><script type=\"application/json\" id=\"zaitaku-data\">{}</script><script>{}</script></body></html>",
        LEAFLET_JS.replace("</script", "<\\/script"),
        data.replace("</", "<\\/"),
        PAGE_JS
    );
    s
}

const PAGE_CSS: &str = r#"
body{font-family:"Hiragino Sans","Noto Sans CJK JP","Yu Gothic",Meiryo,"Zaitaku Sans JP",sans-serif;margin:0;color:#222;background:#fafafa}
header{background:#1f4e5c;color:#fff;padding:14px 24px}header h1{margin:0 0 6px;font-size:22px}header p{margin:0;font-size:14px}
main{padding:8px 24px 24px}section{margin:18px 0}h2{font-size:19px;border-bottom:2px solid #1f4e5c;padding-bottom:3px}
table{border-collapse:collapse;font-size:13px;background:#fff;margin:6px 0}th,td{border:1px solid #ccc;padding:3px 7px;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}td.ok{background:#e5f3df}td.bad{background:#fbe1de}small{color:#666}
select,input,button{font-family:inherit;font-size:inherit}.controls{margin:6px 0;font-size:14px}.controls label{margin-right:14px}
.mapwrap{display:flex;gap:12px}#map{height:620px;flex:1;background:#eef3f7;border:1px solid #999}
#side{width:300px;font-size:13px}#legend div{margin:2px 0}#legend i{display:inline-block;width:22px;height:14px;margin-right:6px;vertical-align:middle;border:1px solid #777}
#details table{width:100%}.maps{display:flex;flex-wrap:wrap;gap:10px}.maps img{width:560px;border:1px solid #ccc}
.cols{display:flex;flex-wrap:wrap;gap:16px}.note{color:#8a4b00}footer{margin-top:30px;font-size:12px;color:#666}
"#;

const PAGE_JS: &str = r#"
(function(){
const D = JSON.parse(document.getElementById('zaitaku-data').textContent);
const fmt = new Intl.NumberFormat('en-US', {maximumFractionDigits: 0});
function colour(v){
  if (v === null || v === undefined) return '#c8c8c8';
  for (const c of D.classes) if (v >= c.lower && v <= c.upper) return c.colour;
  return v < D.classes[0].lower ? D.classes[0].colour : D.classes[D.classes.length-1].colour;
}
function pct(v){ return v === null || v === undefined ? '–' : (v*100).toFixed(1) + ' %'; }
const map = L.map('map', {preferCanvas: true, zoomSnap: 0.25});
let fn = 0;
let measure = 'share';
const value = p => (p[measure] || [])[fn];
const munis = L.geoJSON(D.municipalities, {
  style: f => ({fillColor: colour(value(f.properties)), fillOpacity: 0.85, color: '#707070', weight: 0.6}),
  onEachFeature: (f, layer) => layer.on('click', () => show(f.properties))
}).addTo(map);
const b = D.bbox; map.fitBounds([[b[1], b[0]], [b[3], b[2]]]);
// Lines full width from a prefecture's zoom (8) in, thinner out to the whole country (5).
const lineScale = () => Math.min(1, Math.max(0.3, (map.getZoom() - 3) / 5));
const gaps = L.layerGroup().addTo(map);
function drawGaps(){
  gaps.clearLayers();
  for (const g of D.gaps[fn]) L.rectangle([[g[1], g[0]], [g[3], g[2]]], {stroke: false, fillColor: '#5a003c', fillOpacity: 0.8, interactive: false}).addTo(gaps);
}
const outline = (c, dash, w) => ({fill: false, color: c, weight: w, dashArray: dash, interactive: false});
const catchments = L.geoJSON(D.catchments, {style: () => outline('#222222', null, 2.2 * lineScale())});
const regions = L.geoJSON(D.regions, {style: () => outline('#1f4e9c', '6 4', 2 * lineScale())});
function lineWidths(){
  const s = lineScale();
  munis.setStyle({weight: 0.6 * s}); catchments.setStyle({weight: 2.2 * s}); regions.setStyle({weight: 2 * s});
}
lineWidths(); map.on('zoomend', lineWidths);
const institutions = L.layerGroup();
for (const i of D.institutions) {
  const k = D.kinds[i[2]];
  L.circleMarker([i[1], i[0]], {radius: 3, weight: 0.5, color: '#fff', fillColor: k.colour, fillOpacity: 1})
    .bindPopup(i[3] + '<br>' + k.ja + ' ' + k.kind).addTo(institutions);
}
function show(p){
  let h = '<h3>' + p.name + ' <small>' + p.prefecture + ' ' + p.code + '</small></h3><p>Demand ' + fmt.format(p.demand) + '</p>';
  h += '<table><tr><th>function</th><th>covered</th><th>not covered</th></tr>';
  D.functions.forEach((f, k) => { h += '<tr' + (k === fn ? ' style="font-weight:bold"' : '') + '><td>' + f.label + '</td><td class="n">' + pct(p.share[k]) + '</td><td class="n">' + fmt.format(p.uncovered[k]) + '</td></tr>'; });
  h += '</table>';
  if (p.served) {
    h += '<table><tr><th>function</th><th>need served</th><th>unserved</th></tr>';
    D.functions.forEach((f, k) => { h += '<tr' + (k === fn ? ' style="font-weight:bold"' : '') + '><td>' + f.label + '</td><td class="n">' + pct(p.served[k]) + '</td><td class="n">' + fmt.format(p.unserved[k]) + '</td></tr>'; });
    h += '</table>';
  }
  document.getElementById('details').innerHTML = h;
}
function legend(){
  let h = '<b>' + D.functions[fn].label + '</b><br>' + (measure === 'served' ? 'share of the need served under capacities' : 'covered share') + '<br>';
  for (const c of D.classes.slice().reverse()) h += '<div><i style="background:' + c.colour + '"></i>' + c.label + '</div>';
  h += '<div><i style="background:#c8c8c8"></i>no demand</div><div><i style="background:#5a003c"></i>uncovered mesh square</div>';
  document.getElementById('legend').innerHTML = h;
}
function setFunction(k){ fn = k; munis.setStyle(f => ({fillColor: colour(value(f.properties))})); if (map.hasLayer(gaps)) drawGaps(); legend(); }
function setMeasure(m){ measure = m; setFunction(fn); }
document.getElementById('function').addEventListener('change', e => setFunction(+e.target.value));
const measureBox = document.getElementById('measure');
if (measureBox) measureBox.addEventListener('change', e => setMeasure(e.target.value));
function toggle(id, layer, on){
  const box = document.getElementById(id); if (!box) return;
  const apply = () => { if (box.checked) { if (layer === gaps) drawGaps(); layer.addTo(map); } else map.removeLayer(layer); };
  box.addEventListener('change', apply); if (on !== undefined) apply();
}
toggle('toggle-gaps', gaps, true); toggle('toggle-catchments', catchments, true); toggle('toggle-regions', regions, true); toggle('toggle-institutions', institutions, true);
legend();
window.zaitaku = {map: map, data: D, setFunction: setFunction, setMeasure: setMeasure};
})();
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    #[test]
    fn outlines_are_rounded_to_a_tenth_of_a_pixel() {
        // Japan's extent, 22.9 degrees wide: a pixel is 0.0076 degrees, a tenth of it needs
        // 4 decimals; Nagano's 1.6 degrees: 0.00053, 5 decimals; a town of 0.01 degrees
        // stops at 6, a continent at 3.
        let decimals = |width: f64| Outline::for_bbox([0.0, 0.0, width, width / 2.0]).scale.log10().round();
        assert_eq!(decimals(22.9), 4.0);
        assert_eq!(decimals(1.6), 5.0);
        assert_eq!(decimals(0.01), 6.0);
        assert_eq!(decimals(400.0), 3.0);

        // Two points 3 m apart become one at 4 decimals; the ring stays closed.
        let mp = MultiPolygon(vec![polygon![
            (x: 138.0, y: 36.0),
            (x: 138.1, y: 36.0),
            (x: 138.10002, y: 36.00001),
            (x: 138.1, y: 36.1),
        ]]);
        let outline = Outline { eps: 0.0, scale: 1e4 };
        assert_eq!(
            json!(outline.coordinates(&mp)),
            json!([[[[138.0, 36.0], [138.1, 36.0], [138.1, 36.1], [138.0, 36.0]]]])
        );
    }
}
