//! Two results side by side: per municipality and function the covered share before and
//! after, the people who gain and lose coverage (mesh cell by mesh cell), municipalities
//! crossing a share line, and, when both have catchments, how the layouts differ.
//!
//! A side is a scenario run here or a folder written by `zaitaku coverage` (its
//! `coverage.geojson`, `coverage.csv` and `cells.parquet`; `catchment_assignment.csv` when
//! present).

pub mod folder;

use crate::coverage::Coverage;
use crate::error::{Error, Location, Result};
use crate::study::Study;
use geo::MultiPolygon;
use std::collections::{BTreeMap, HashMap};

/// One municipality of a side.
#[derive(Debug, Clone, PartialEq)]
pub struct SideMunicipality {
    pub code: String,
    pub name: String,
    pub prefecture: String,
    pub geometry: MultiPolygon<f64>,
    /// Per function (the side's order): demand and covered demand.
    pub figures: Vec<(f64, f64)>,
}

/// One result.
#[derive(Debug, Clone, PartialEq)]
pub struct Side {
    pub label: String,
    pub functions: Vec<String>,
    /// By code.
    pub municipalities: Vec<SideMunicipality>,
    /// Mesh code -> (demand, covered per function).
    pub cells: HashMap<String, (f64, Vec<bool>)>,
    /// Catchment of each municipality (by code), when the side has a layout.
    pub catchments: Option<HashMap<String, String>>,
}

impl Side {
    /// A side from a study and its coverage.
    pub fn from_study(label: &str, study: &Study, cov: &Coverage) -> Side {
        let municipalities = study
            .municipalities
            .iter()
            .enumerate()
            .map(|(m, muni)| SideMunicipality {
                code: muni.code.clone(),
                name: muni.name.clone(),
                prefecture: muni.prefecture.clone(),
                geometry: muni.geometry.clone(),
                figures: cov.municipalities[m].iter().map(|s| (s.demand, s.covered)).collect(),
            })
            .collect();
        let cells = study
            .demand
            .cells
            .iter()
            .enumerate()
            .map(|(i, c)| {
                (
                    c.mesh.code(),
                    (c.demand, cov.functions.iter().map(|f| f.covered[i]).collect()),
                )
            })
            .collect();
        Side {
            label: label.to_string(),
            functions: study.rules.functions.iter().map(|f| f.id.clone()).collect(),
            municipalities,
            cells,
            catchments: None,
        }
    }
}

/// One municipality and function compared.
#[derive(Debug, Clone, PartialEq)]
pub struct DiffRow {
    /// Index into the base's municipalities.
    pub municipality: usize,
    /// Index into [`Diff::functions`].
    pub function: usize,
    pub base: (f64, f64),
    pub alt: (f64, f64),
}

impl DiffRow {
    pub fn base_share(&self) -> Option<f64> {
        (self.base.0 > 0.0).then(|| self.base.1 / self.base.0)
    }

    pub fn alt_share(&self) -> Option<f64> {
        (self.alt.0 > 0.0).then(|| self.alt.1 / self.alt.0)
    }

    pub fn delta(&self) -> Option<f64> {
        Some(self.alt_share()? - self.base_share()?)
    }
}

/// Per function, over the whole input.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FunctionChange {
    pub base_demand: f64,
    pub base_covered: f64,
    pub alt_demand: f64,
    pub alt_covered: f64,
    /// Demand of cells covered after but not before (their demand after).
    pub gained: f64,
    /// Demand of cells covered before but not after (their demand before).
    pub lost: f64,
    /// Municipalities whose share falls below / rises to the line.
    pub fell_below: Vec<usize>,
    pub rose_above: Vec<usize>,
}

impl FunctionChange {
    /// Adds a municipality's row: its figures, and whether it crosses `min_share`.
    pub fn add_row(&mut self, row: &DiffRow, min_share: f64) {
        self.base_demand += row.base.0;
        self.base_covered += row.base.1;
        self.alt_demand += row.alt.0;
        self.alt_covered += row.alt.1;
        if let (Some(b), Some(a)) = (row.base_share(), row.alt_share()) {
            if b >= min_share && a < min_share {
                self.fell_below.push(row.municipality);
            } else if b < min_share && a >= min_share {
                self.rose_above.push(row.municipality);
            }
        }
    }

    /// Adds a cell, (demand, covered) before and after: its demand gained or lost.
    pub fn add_cell(&mut self, (base_demand, base_covered): (f64, bool), (alt_demand, alt_covered): (f64, bool)) {
        if alt_covered && !base_covered {
            self.gained += alt_demand;
        } else if base_covered && !alt_covered {
            self.lost += base_demand;
        }
    }
}

/// The comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Diff {
    /// Functions both sides have, in the base's order.
    pub functions: Vec<String>,
    /// Functions only one side has.
    pub unmatched_functions: Vec<String>,
    pub rows: Vec<DiffRow>,
    pub changes: Vec<FunctionChange>,
    /// Adjusted Rand index and moved municipalities (by base index) when both sides have
    /// catchments.
    pub layouts: Option<(f64, Vec<usize>)>,
}

/// Compares two sides. Their municipality sets must be the same.
pub fn compare(base: &Side, alt: &Side, min_share: f64) -> Result<Diff> {
    let alt_index: HashMap<&str, usize> = alt
        .municipalities
        .iter()
        .enumerate()
        .map(|(i, m)| (m.code.as_str(), i))
        .collect();
    let only_base: Vec<&str> = base
        .municipalities
        .iter()
        .map(|m| m.code.as_str())
        .filter(|c| !alt_index.contains_key(c))
        .collect();
    let base_codes: std::collections::HashSet<&str> = base.municipalities.iter().map(|m| m.code.as_str()).collect();
    let only_alt: Vec<&str> = alt
        .municipalities
        .iter()
        .map(|m| m.code.as_str())
        .filter(|c| !base_codes.contains(c))
        .collect();
    if !only_base.is_empty() || !only_alt.is_empty() {
        let show = |v: &[&str]| v.iter().take(5).copied().collect::<Vec<_>>().join(", ");
        return Err(Error::input(
            &alt.label,
            Location::File,
            format!(
                "made with other municipalities than {}: {} only in the base ({}), {} only here ({}); compare results of one municipality set",
                base.label,
                only_base.len(),
                show(&only_base),
                only_alt.len(),
                show(&only_alt)
            ),
        ));
    }
    let functions: Vec<String> = base
        .functions
        .iter()
        .filter(|f| alt.functions.contains(f))
        .cloned()
        .collect();
    let unmatched_functions = base
        .functions
        .iter()
        .chain(&alt.functions)
        .filter(|f| !functions.contains(f))
        .cloned()
        .collect();
    let fb: Vec<usize> = functions
        .iter()
        .filter_map(|f| base.functions.iter().position(|x| x == f))
        .collect();
    let fa: Vec<usize> = functions
        .iter()
        .filter_map(|f| alt.functions.iter().position(|x| x == f))
        .collect();
    let mut rows = Vec::new();
    let mut changes = vec![FunctionChange::default(); functions.len()];
    for (m, bm) in base.municipalities.iter().enumerate() {
        let am = &alt.municipalities[alt_index[bm.code.as_str()]];
        for f in 0..functions.len() {
            let row = DiffRow {
                municipality: m,
                function: f,
                base: bm.figures[fb[f]],
                alt: am.figures[fa[f]],
            };
            changes[f].add_row(&row, min_share);
            rows.push(row);
        }
    }
    // People gaining and losing, cell by cell, in mesh code order.
    let mut codes: Vec<&String> = base.cells.keys().chain(alt.cells.keys()).collect();
    codes.sort_unstable();
    codes.dedup();
    for code in codes {
        let b = base.cells.get(code);
        let a = alt.cells.get(code);
        for f in 0..functions.len() {
            changes[f].add_cell(
                b.map_or((0.0, false), |(d, cov)| (*d, cov[fb[f]])),
                a.map_or((0.0, false), |(d, cov)| (*d, cov[fa[f]])),
            );
        }
    }
    let layouts = match (&base.catchments, &alt.catchments) {
        (Some(bc), Some(ac)) => {
            let mut ids_b: BTreeMap<&str, usize> = BTreeMap::new();
            let mut ids_a: BTreeMap<&str, usize> = BTreeMap::new();
            let mut b_of = Vec::new();
            let mut a_of = Vec::new();
            let mut demand = Vec::new();
            let mut index = Vec::new();
            for (k, m) in base.municipalities.iter().enumerate() {
                let (Some(x), Some(y)) = (bc.get(&m.code), ac.get(&m.code)) else {
                    continue;
                };
                demand.push(m.figures.first().map_or(0.0, |f| f.0));
                index.push(k);
                let n = ids_b.len();
                b_of.push(*ids_b.entry(x.as_str()).or_insert(n));
                let n = ids_a.len();
                a_of.push(*ids_a.entry(y.as_str()).or_insert(n));
            }
            let region_of: Vec<Option<usize>> = b_of.iter().map(|&x| Some(x)).collect();
            let c = crate::catchments::compare::compare(&region_of, &a_of, &demand, ids_b.len(), ids_a.len());
            Some((c.adjusted_rand, c.moved.into_iter().map(|k| index[k]).collect()))
        }
        _ => None,
    };
    Ok(Diff {
        functions,
        unmatched_functions,
        rows,
        changes,
        layouts,
    })
}
