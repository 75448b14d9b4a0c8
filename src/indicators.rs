//! Guideline indicators per area: counts of institutions by the catalogue's filters, sums
//! of given tables, and coverage's share of demand within reach, each per 100,000
//! population and per 100,000 aged 65+, for municipalities, regions, prefectures and the
//! whole input.

use crate::coverage::{municipality_ranges, Coverage};
use crate::demand::MunicipalityLocator;
use crate::inputs::catalogue::{Indicator, Measure};
use crate::study::Study;
use std::collections::BTreeMap;

/// Values of a process or outcome table: per municipality index, per column.
pub use crate::inputs::tables::TableValues;

/// An area indicators are reported for.
#[derive(Debug, Clone, PartialEq)]
pub struct Area {
    pub level: &'static str,
    pub code: String,
    pub name: String,
    /// Member municipalities (indexes); `None` for the whole input.
    pub members: Option<Vec<usize>>,
}

/// One row of indicators.csv.
#[derive(Debug, Clone, PartialEq)]
pub struct IndicatorRow {
    pub area: usize,
    pub indicator: String,
    pub label_ja: String,
    pub function: String,
    pub category: String,
    /// `None`: not available (a table indicator without its table).
    pub count: Option<f64>,
    pub per_100k: Option<f64>,
    pub per_100k_65plus: Option<f64>,
    /// Coverage indicators: the share of demand within reach.
    pub share: Option<f64>,
    /// A numerical target and whether it is met, when one is set.
    pub target: Option<TargetCheck>,
}

/// A target applied to a row.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetCheck {
    pub target: f64,
    pub measure: String,
    /// Value minus target; `None` when the value is not available.
    pub gap: Option<f64>,
    pub met: Option<bool>,
}

/// Applies targets to the rows of their indicator and area code; returns the targets that
/// matched no row.
pub fn apply_targets(
    areas: &[Area],
    rows: &mut [IndicatorRow],
    targets: &[crate::inputs::tables::Target],
) -> Vec<String> {
    let mut unmatched = Vec::new();
    for t in targets {
        let mut matched = false;
        for r in rows
            .iter_mut()
            .filter(|r| r.indicator == t.indicator && areas[r.area].code == t.area_code)
        {
            matched = true;
            let value = match t.measure.as_str() {
                "per_100k" => r.per_100k,
                "per_100k_65plus" => r.per_100k_65plus,
                "share" => r.share,
                _ => r.count,
            };
            r.target = Some(TargetCheck {
                target: t.value,
                measure: t.measure.clone(),
                gap: value.map(|v| v - t.value),
                met: value.map(|v| if t.at_least { v >= t.value } else { v <= t.value }),
            });
        }
        if !matched {
            unmatched.push(format!("{} in {}", t.indicator, t.area_code));
        }
    }
    unmatched
}

/// Municipalities, then regions, then prefectures, then the whole input.
pub fn areas(study: &Study) -> Vec<Area> {
    let munis = &study.municipalities;
    let mut out: Vec<Area> = munis
        .iter()
        .enumerate()
        .map(|(i, m)| Area {
            level: "municipality",
            code: m.code.clone(),
            name: m.name.clone(),
            members: Some(vec![i]),
        })
        .collect();
    for r in &study.regions {
        out.push(Area {
            level: "region",
            code: r.code.clone(),
            name: r.name.clone(),
            members: Some(r.members.clone()),
        });
    }
    let mut prefectures: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, m) in munis.iter().enumerate() {
        let code = m.code.get(..2).unwrap_or("").to_string();
        prefectures
            .entry(format!("{code}\t{}", m.prefecture))
            .or_default()
            .push(i);
    }
    for (key, members) in prefectures {
        let (code, name) = key.split_once('\t').unwrap_or(("", ""));
        out.push(Area {
            level: "prefecture",
            code: code.to_string(),
            name: name.to_string(),
            members: Some(members),
        });
    }
    out.push(Area {
        level: "all",
        code: "all".into(),
        name: "all".into(),
        members: None,
    });
    out
}

/// The municipality of each institution: the polygon holding it, else the nearest within
/// 1 km; `None` outside (counted in the whole input only).
pub fn institution_municipalities(study: &Study) -> Vec<Option<usize>> {
    institution_municipalities_with(study, &MunicipalityLocator::new(&study.municipalities))
}

/// [`institution_municipalities`] with a locator of the study's municipalities.
pub fn institution_municipalities_with(study: &Study, locator: &MunicipalityLocator) -> Vec<Option<usize>> {
    let points: Vec<(f64, f64)> = study.institutions.iter().map(|i| (i.lon, i.lat)).collect();
    crate::reach::straight::map_in_z_order(&points, |k| locator.holding_or_near(points[k].0, points[k].1))
}

/// Every indicator for every area.
pub fn compute(
    study: &Study,
    catalogue: &[Indicator],
    tables: &TableValues,
    coverage: Option<&Coverage>,
) -> (Vec<Area>, Vec<IndicatorRow>) {
    let areas = areas(study);
    let n = study.municipalities.len();
    let ranges = municipality_ranges(&study.demand, n);
    let by_population = matches!(study.demand.basis, crate::demand::DemandBasis::Population { .. });
    let (mut pop, mut pop65) = (vec![0.0; n], vec![0.0; n]);
    for (m, r) in ranges.iter().enumerate() {
        for c in &study.demand.cells[r.clone()] {
            pop[m] += c.population;
            pop65[m] += c.population_65plus;
        }
    }
    let homes = institution_municipalities(study);
    // Per indicator: institutions per municipality, and those outside every municipality.
    let counts: Vec<(Vec<f64>, f64)> = catalogue
        .iter()
        .map(|ind| {
            let mut per = vec![0.0; n];
            let mut outside = 0.0;
            for (inst, home) in study.institutions.iter().zip(&homes) {
                if ind.measure.matches(inst) {
                    match home {
                        Some(m) => per[*m] += 1.0,
                        None => outside += 1.0,
                    }
                }
            }
            (per, outside)
        })
        .collect();
    let all: Vec<usize> = (0..n).collect();
    let mut rows = Vec::new();
    for (a, area) in areas.iter().enumerate() {
        let members = area.members.as_ref().unwrap_or(&all);
        let p: f64 = members.iter().map(|&m| pop[m]).sum();
        let p65: f64 = members.iter().map(|&m| pop65[m]).sum();
        let rate = |count: f64, base: f64| (by_population && base > 0.0).then(|| count / base * 100_000.0);
        for (k, ind) in catalogue.iter().enumerate() {
            let count = match &ind.measure {
                Measure::Count { .. } => {
                    let (per, outside) = &counts[k];
                    let inside: f64 = members.iter().map(|&m| per[m]).sum();
                    Some(inside + if area.members.is_none() { *outside } else { 0.0 })
                }
                Measure::Table { column } => {
                    let values: Vec<f64> = members
                        .iter()
                        .filter_map(|m| tables.get(m).and_then(|t| t.get(column)).copied())
                        .collect();
                    (!values.is_empty()).then(|| values.iter().sum())
                }
            };
            rows.push(IndicatorRow {
                area: a,
                indicator: ind.id.clone(),
                label_ja: ind.label_ja.clone(),
                function: ind.function.clone(),
                category: ind.category.as_str().into(),
                count,
                per_100k: count.and_then(|c| rate(c, p)),
                per_100k_65plus: count.and_then(|c| rate(c, p65)),
                share: None,
                target: None,
            });
        }
        if let Some(cov) = coverage {
            for (f, function) in study.rules.functions.iter().enumerate() {
                let demand: f64 = members.iter().map(|&m| cov.municipalities[m][f].demand).sum();
                let covered: f64 = members.iter().map(|&m| cov.municipalities[m][f].covered).sum();
                rows.push(IndicatorRow {
                    area: a,
                    indicator: format!("coverage_{}", function.id),
                    label_ja: format!("{}の全ての役割の到達圏内にいる需要の割合", function.label),
                    function: function.id.clone(),
                    category: "coverage".into(),
                    count: None,
                    per_100k: None,
                    per_100k_65plus: None,
                    share: (demand > 0.0).then(|| covered / demand),
                    target: None,
                });
            }
        }
    }
    (areas, rows)
}
