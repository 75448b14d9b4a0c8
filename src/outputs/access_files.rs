//! The files of `zaitaku access` (SPEC.md, "Outputs of the other commands").

use crate::access::RoleAccess;
use crate::coverage::municipality_ranges;
use crate::error::Result;
use crate::outputs::geojson_out::{num, num_full, write_municipality_layer};
use crate::outputs::tables::{write_csv_rows, write_parquet_groups, TableColumn};
use crate::outputs::OutDir;
use crate::study::Study;
use rayon::prelude::*;

/// Figures of one area (a municipality) and role.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct AreaAccess {
    pub demand: f64,
    pub providers_in_reach: Option<f64>,
    pub a_2sfca: Option<f64>,
    pub a_e2sfca: Option<f64>,
    pub zero_access_share: Option<f64>,
    pub gini: Option<f64>,
}

/// Demand-weighted means, the share of demand with no access, and the Gini coefficient of
/// 2SFCA access over the given places.
pub fn area_access(study: &Study, in_reach: &[u32], access: &RoleAccess, places: &[usize]) -> AreaAccess {
    let cells = &study.demand.cells;
    let demand: f64 = places.iter().map(|&i| cells[i].demand).sum();
    if demand <= 0.0 {
        return AreaAccess::default();
    }
    let mean = |v: &dyn Fn(usize) -> f64| Some(places.iter().map(|&i| cells[i].demand * v(i)).sum::<f64>() / demand);
    let zero: f64 = places
        .iter()
        .filter(|&&i| access.a_2sfca[i] <= 0.0)
        .map(|&i| cells[i].demand)
        .sum();
    let values: Vec<(f64, f64)> = places.iter().map(|&i| (access.a_2sfca[i], cells[i].demand)).collect();
    AreaAccess {
        demand,
        providers_in_reach: mean(&|i| f64::from(in_reach[i])),
        a_2sfca: mean(&|i| access.a_2sfca[i]),
        a_e2sfca: mean(&|i| access.a_e2sfca[i]),
        zero_access_share: Some(zero / demand),
        gini: crate::access::gini(&values),
    }
}

/// Writes access.csv, access.parquet and access.geojson. `access` and `in_reach` (the
/// providers within reach of each place) are per role (rules order).
pub fn write_access(out: &mut OutDir, study: &Study, in_reach: &[&[u32]], access: &[RoleAccess]) -> Result<()> {
    let rules = &study.rules;
    let munis = &study.municipalities;
    let ranges = municipality_ranges(&study.demand, munis.len());
    // Areas: municipalities, then the regions of --regions.
    let mut area_places: Vec<(&'static str, String, Vec<usize>)> = munis
        .iter()
        .zip(&ranges)
        .map(|(m, r)| ("municipality", m.code.clone(), r.clone().collect()))
        .collect();
    for region in &study.regions {
        let places = region.members.iter().flat_map(|&m| ranges[m].clone()).collect();
        area_places.push(("region", region.code.clone(), places));
    }
    let areas: Vec<Vec<AreaAccess>> = area_places
        .par_iter()
        .map(|(_, _, places)| {
            (0..rules.roles.len())
                .map(|k| area_access(study, in_reach[k], &access[k], places))
                .collect()
        })
        .collect();

    // Rows: municipalities, then cells; each for every (function, role). Rows are made on
    // demand from their index, so the national table never sits in memory as text.
    let pairs: Vec<(usize, usize)> = rules
        .functions
        .iter()
        .enumerate()
        .flat_map(|(f, function)| function.roles.iter().map(move |u| (f, u.role)))
        .collect();
    let cells = &study.demand.cells;
    let n_areas = area_places.len() * pairs.len();
    let height = n_areas + cells.len() * pairs.len();
    let row = |n: usize| -> (&'static str, usize, usize, usize, AreaAccess) {
        let (level, area, k) = if n < n_areas {
            (area_places[n / pairs.len()].0, n / pairs.len(), n % pairs.len())
        } else {
            ("cell", (n - n_areas) / pairs.len(), (n - n_areas) % pairs.len())
        };
        let (f, role) = pairs[k];
        let a = if level != "cell" {
            areas[area][role]
        } else {
            AreaAccess {
                demand: cells[area].demand,
                providers_in_reach: Some(f64::from(in_reach[role][area])),
                a_2sfca: Some(access[role].a_2sfca[area]),
                a_e2sfca: Some(access[role].a_e2sfca[area]),
                zero_access_share: None,
                gini: None,
            }
        };
        (level, area, f, role, a)
    };
    // Each cell's code is formatted once (it names a row per function and role).
    let cell_codes: Vec<String> = cells.par_iter().map(|c| c.mesh.code()).collect();
    let area_code = |level: &str, area: usize| -> &str {
        if level == "cell" {
            &cell_codes[area]
        } else {
            &area_places[area].1
        }
    };
    let header = [
        "level",
        "area_code",
        "function",
        "role",
        "demand",
        "providers_in_reach",
        "a_2sfca",
        "a_e2sfca",
        "a_2sfca_per_1000",
        "zero_access_share",
        "gini",
    ];
    let csv = |out: &mut OutDir| {
        write_csv_rows(out, "access.csv", &header, height, |n, w| {
            let (level, area, f, role, a) = row(n);
            w.text(level);
            w.text(area_code(level, area));
            w.text(&rules.functions[f].id);
            w.text(&rules.roles[role].id);
            w.full(Some(a.demand));
            w.full(a.providers_in_reach);
            w.full(a.a_2sfca);
            w.full(a.a_e2sfca);
            w.full(a.a_2sfca.map(|v| v * 1000.0));
            w.num(a.zero_access_share, 6);
            w.full(a.gini);
        })
    };
    let parquet = |out: &mut OutDir| {
        // Parquet row group by row group: only one group's columns in memory at a time.
        write_parquet_groups(out, "access.parquet", height, |rows| {
            // Each row worked out once and spread over the eleven columns (gathering a row's
            // figures from the roles' arrays is the cost), a chunk of rows at a time.
            const CHUNK: usize = 4096;
            let len = rows.len();
            let mut ids: [Vec<&str>; 4] = std::array::from_fn(|_| vec![""; len]);
            let mut floats: [Vec<Option<f64>>; 7] = std::array::from_fn(|_| vec![None; len]);
            let [level, code, function, role] = &mut ids;
            let [demand, in_reach, a2, ae, per_1000, zero, gini] = &mut floats;
            (
                level.par_chunks_mut(CHUNK),
                code.par_chunks_mut(CHUNK),
                function.par_chunks_mut(CHUNK),
                role.par_chunks_mut(CHUNK),
                demand.par_chunks_mut(CHUNK),
                in_reach.par_chunks_mut(CHUNK),
                a2.par_chunks_mut(CHUNK),
                ae.par_chunks_mut(CHUNK),
                per_1000.par_chunks_mut(CHUNK),
                zero.par_chunks_mut(CHUNK),
                gini.par_chunks_mut(CHUNK),
            )
                .into_par_iter()
                .enumerate()
                .for_each(
                    |(c, (level, code, function, role, demand, in_reach, a2, ae, per_1000, zero, gini))| {
                        for i in 0..level.len() {
                            let (l, area, f, r, a) = row(rows.start + c * CHUNK + i);
                            level[i] = l;
                            code[i] = area_code(l, area);
                            function[i] = rules.functions[f].id.as_str();
                            role[i] = rules.roles[r].id.as_str();
                            demand[i] = Some(a.demand);
                            in_reach[i] = a.providers_in_reach;
                            a2[i] = a.a_2sfca;
                            ae[i] = a.a_e2sfca;
                            per_1000[i] = a.a_2sfca.map(|v| v * 1000.0);
                            zero[i] = a.zero_access_share;
                            gini[i] = a.gini;
                        }
                    },
                );
            let [level, code, function, role] = ids;
            let [demand, in_reach, a2, ae, per_1000, zero, gini] = floats;
            vec![
                TableColumn::Str("level", level),
                TableColumn::Str("area_code", code),
                TableColumn::Str("function", function),
                TableColumn::Str("role", role),
                TableColumn::Float("demand".into(), demand),
                TableColumn::Float("providers_in_reach".into(), in_reach),
                TableColumn::Float("a_2sfca".into(), a2),
                TableColumn::Float("a_e2sfca".into(), ae),
                TableColumn::Float("a_2sfca_per_1000".into(), per_1000),
                TableColumn::Float("zero_access_share".into(), zero),
                TableColumn::Float("gini".into(), gini),
            ]
        })
    };
    let layer = |out: &mut OutDir| {
        // access.geojson: per municipality, per role.
        write_municipality_layer(out, "access.geojson", study, |m, p| {
            p.insert(
                "demand".into(),
                num_full(Some(areas[m].first().map_or(0.0, |a| a.demand))),
            );
            for (k, role) in rules.roles.iter().enumerate() {
                let a = &areas[m][k];
                p.insert(
                    format!("{}_a2sfca_per_1000", role.id),
                    num_full(a.a_2sfca.map(|v| v * 1000.0)),
                );
                p.insert(
                    format!("{}_ae2sfca_per_1000", role.id),
                    num_full(a.a_e2sfca.map(|v| v * 1000.0)),
                );
                p.insert(format!("{}_zero_share", role.id), num(a.zero_access_share, 6));
                p.insert(format!("{}_gini", role.id), num_full(a.gini));
            }
        })
    };
    // Side by side (Parquet's encoding keeps one core busy only), listed in this order.
    out.side_by_side(vec![Box::new(csv), Box::new(parquet), Box::new(layer)])
}
