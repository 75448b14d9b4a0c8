//! The files of `zaitaku capacity`: capacity.csv (need and served per area, function and
//! role), capacity_providers.csv (each provider's capacity and what it was assigned, per
//! role), capacity.geojson (municipal polygons with each function's served share and unserved
//! need, styled) and capacity_summary.json.

use crate::capacity::{area_rows, defaults_used, Capacity, CapacitySource, Served};
use crate::error::Result;
use crate::outputs::geojson_out::{num, write_municipality_layer};
use crate::outputs::tables::write_csv_rows;
use crate::outputs::{round, OutDir};
use crate::reach::ReachUnit;
use crate::study::Study;
use serde_json::{json, Value};

/// Decimal places of people (need and capacity are exact to 1/10,000 of a person).
const PEOPLE_DP: i32 = 4;
const SHARE_DP: i32 = 6;

/// The column header of capacity.csv.
pub const HEADER: [&str; 10] = [
    "level",
    "area_code",
    "function",
    "role",
    "need",
    "served",
    "served_share",
    "unserved",
    "fill_served",
    "fill_unserved",
];

/// How reach is measured in this study, in words, and the unit of travel costs.
fn reach_words(study: &Study) -> (String, ReachUnit) {
    match (&study.network, &study.od) {
        (Some((name, _)), _) => (
            format!("by road travel time on {name}: within the role's reach_min by road and its reach_km in a straight line"),
            ReachUnit::Minutes,
        ),
        (None, Some((name, _))) => (
            format!("by the travel times of the OD matrix {name}, within reach_min, and reach_km in a straight line"),
            ReachUnit::Minutes,
        ),
        (None, None) => ("within each role's reach_km in a straight line".into(), ReachUnit::Metres),
    }
}

/// Writes every file of a capacity run. `munis`: the municipality of each institution
/// (`indicators::institution_municipalities`).
pub fn write_capacity(out: &mut OutDir, study: &Study, cap: &Capacity, munis: &[Option<usize>]) -> Result<()> {
    let rules = &study.rules;
    let rows = area_rows(study, cap);
    write_csv_rows(out, "capacity.csv", &HEADER, rows.len(), |n, w| {
        let r = &rows[n];
        w.text(r.level);
        w.text(&r.area_code);
        w.text(&rules.functions[r.function].id);
        w.text(r.role.map_or("all", |x| rules.roles[x].id.as_str()));
        w.num(Some(r.served.need), PEOPLE_DP);
        w.num(Some(r.served.served), PEOPLE_DP);
        w.num(r.served.share(), SHARE_DP);
        w.num(Some(r.served.unserved()), PEOPLE_DP);
        match r.fill {
            Some(f) => {
                w.num(Some(f.served), PEOPLE_DP);
                w.num(Some(f.unserved()), PEOPLE_DP);
            }
            None => {
                w.text("");
                w.text("");
            }
        }
    })?;

    // capacity_providers.csv
    let (reach, unit) = reach_words(study);
    let travel_col = format!("mean_travel_{}", unit.suffix());
    // Rows formatted side by side in blocks, straight into each block's writer (numbers to
    // text is most of this file's time), in order: the problems that answer for a function,
    // each provider of each.
    let listed: Vec<(&crate::capacity::Problem, String)> = cap
        .problems
        .iter()
        .filter(|p| !p.functions.is_empty())
        .map(|p| {
            let functions: Vec<&str> = p.functions.iter().map(|&f| rules.functions[f].id.as_str()).collect();
            (p, functions.join(";"))
        })
        .collect();
    // Where each problem's rows start.
    let first: Vec<usize> = listed
        .iter()
        .scan(0, |n, (p, _)| {
            let at = *n;
            *n += p.providers.len();
            Some(at)
        })
        .collect();
    let height = listed.iter().map(|(p, _)| p.providers.len()).sum();
    write_csv_rows(
        out,
        "capacity_providers.csv",
        &[
            "id",
            "name",
            "kind",
            "municipality_code",
            "role",
            "functions",
            "capacity",
            "capacity_source",
            "assigned",
            "utilisation",
            &travel_col,
            "fill_assigned",
        ],
        height,
        |n, w| {
            let i = first.partition_point(|&f| f <= n) - 1;
            let (p, functions) = &listed[i];
            let s = n - first[i];
            let k = p.providers[s];
            let inst = &study.institutions[k];
            let (c, source) = cap.institution_capacity[k];
            let assigned = p.flow.assigned[s] as f64 / crate::capacity::flow::UNIT;
            let travel: f64 = p.flow.assignments[s].iter().map(|&(_, x, c)| x as f64 * c).sum();
            let units = p.flow.assigned[s];
            w.text(&inst.id);
            w.text(&inst.name);
            w.text(inst.kind.as_str());
            w.text(munis[k].map_or("", |m| study.municipalities[m].code.as_str()));
            w.text(&rules.roles[p.role].id);
            w.text(functions);
            w.num(Some(c), PEOPLE_DP);
            w.text(match source {
                CapacitySource::Row => "row",
                CapacitySource::KindDefault => "kind_default",
            });
            w.num(Some(assigned), PEOPLE_DP);
            w.num((c > 0.0).then(|| assigned / c), SHARE_DP);
            w.num((units > 0).then(|| unit.to_output(travel / units as f64)), 3);
            match &p.fill {
                Some(f) => w.num(Some(f.assigned[s] as f64 / crate::capacity::flow::UNIT), PEOPLE_DP),
                None => w.text(""),
            }
        },
    )?;

    // capacity.geojson: municipalities with each function's figures.
    let municipal: Vec<&crate::capacity::AreaRow> = rows
        .iter()
        .filter(|r| r.level == "municipality" && r.role.is_none())
        .collect();
    let nm = study.municipalities.len();
    write_municipality_layer(out, "capacity.geojson", study, |m, p| {
        for (f, function) in rules.functions.iter().enumerate() {
            let s: Served = municipal[f * nm + m].served;
            p.insert(format!("{}_need", function.id), num(Some(s.need), PEOPLE_DP));
            p.insert(format!("{}_served", function.id), num(Some(s.served), PEOPLE_DP));
            p.insert(format!("{}_served_share", function.id), num(s.share(), SHARE_DP));
            p.insert(format!("{}_unserved", function.id), num(Some(s.unserved()), PEOPLE_DP));
        }
    })?;

    // capacity_summary.json
    let total = |f: usize, role: Option<usize>| {
        rows.iter()
            .find(|r| r.level == "all" && r.function == f && r.role == role)
            .cloned()
            .unwrap_or_default()
    };
    let functions: Vec<Value> = rules
        .functions
        .iter()
        .enumerate()
        .map(|(f, function)| {
            let all = total(f, None);
            // No assignment can serve more of a function than its scarcest required role.
            let upper = function
                .roles
                .iter()
                .filter(|u| u.required)
                .map(|u| total(f, Some(u.role)).served.served)
                .fold(f64::INFINITY, f64::min);
            let roles: Vec<Value> = function
                .roles
                .iter()
                .zip(&cap.function_problems[f])
                .map(|(u, &pi)| {
                    let p = &cap.problems[pi];
                    let r = total(f, Some(u.role));
                    let full = p.providers_full();
                    json!({
                        "role": rules.roles[u.role].id,
                        "required": u.required,
                        "providers": p.providers.len(),
                        "capacity": round(p.capacity.iter().sum::<i64>() as f64 / crate::capacity::flow::UNIT, 4),
                        "providers_full": full,
                        "need": round(r.served.need, 4),
                        "served": round(r.served.served, 4),
                        "served_share": r.served.share().map(|x| round(x, SHARE_DP)),
                        "fill_served": r.fill.map(|x| round(x.served, 4)),
                        "aligned_after": p.after.iter().map(|&r| rules.roles[r].id.as_str()).collect::<Vec<_>>(),
                        travel_col.as_str(): (p.flow.total() > 0).then(|| round(unit.to_output(p.flow.travel() / p.flow.total() as f64), 3)),
                    })
                })
                .collect();
            json!({
                "function": function.id,
                "need_rate": cap.need_rate[f],
                "need_rate_source": cap.need_rate_source[f],
                "need": round(all.served.need, 4),
                "served": round(all.served.served, 4),
                "served_share": all.served.share().map(|x| round(x, SHARE_DP)),
                "unserved": round(all.served.unserved(), 4),
                "served_upper_bound": round(upper, 4),
                "fill_served": all.fill.map(|x| round(x.served, 4)),
                "roles": roles,
            })
        })
        .collect();
    let defaults: Vec<Value> = defaults_used(study, cap)
        .into_iter()
        .map(|(kind, n, c)| json!({"kind": kind.as_str(), "providers": n, "capacity_each": c}))
        .collect();
    let summary = json!({
        "zaitaku_version": env!("CARGO_PKG_VERSION"),
        "command": "capacity",
        "demand": study.demand.basis.describe(),
        "inputs": study.files,
        "reach": reach,
        "need": "demand x the function's need rate: people who use home care in a month",
        "supply": "each provider's capacity column (patients a month); where a row has none, its kind's default_capacity from the rules",
        "capacity_defaults_used": defaults,
        "method": {
            "served": "exact maximum flow per role (and need rate) from places to providers over the pairs within reach, in units of 1/10,000 of a person: the most need that can be served with nobody assigned beyond reach and no provider above capacity",
            "assignment": "among the maximum assignments, one that shares a shortfall out: a first maximum flow finds the contested places (those the last augmenting search reaches from places with unmet need, with the full providers they share); they are served again, every one up to 90 % of their average share (their providers' capacity over their need) first, then the rest; elsewhere every place is served in full. Within a step places with the fewest providers around first take the nearest providers with room (on the ellipsoid), then augmenting paths (Dinic's) move need only where that serves more. Not the least total travel. A role's total is unique; which places go unserved is a choice among equals, and this one spreads it",
            "function": "a function's served need at a place is the least over its required roles; the roles are lined up: the scarcest role's maximum assignment as it is, then each next role's maximum assignment serving first the need the roles before it serve (aligned_after); served_upper_bound = the scarcest role's served need, which no assignment can exceed",
            "fill": cap.order.map(|o| format!("AccessMod's geographic coverage: providers in order of {}, each taking the unmet need within its reach nearest first up to its capacity (fill_served)", match o {
                crate::capacity::Order::Capacity => "capacity, largest first",
                crate::capacity::Order::Id => "id",
            })),
        },
        "functions": functions,
    });
    let bytes = serde_json::to_vec_pretty(&summary).map_err(|e| crate::error::Error::Internal(e.to_string()))?;
    out.write_bytes("capacity_summary.json", &bytes)
}
