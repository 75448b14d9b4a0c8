//! A folder written by `zaitaku coverage` (or the demo), read back as one side of
//! `zaitaku compare`.

use super::{Side, SideMunicipality};
use crate::error::{Error, Location, Result};
use crate::inputs::csv_table::CsvTable;
use crate::inputs::municipalities::{read_municipalities, MunicipalityKeys};
use crate::inputs::source::{decode_text, Source};
use std::collections::HashMap;
use std::path::Path;

fn need(dir: &Path, name: &str) -> Result<std::path::PathBuf> {
    let p = dir.join(name);
    if p.is_file() {
        Ok(p)
    } else {
        Err(Error::input(
            &dir.display().to_string(),
            Location::File,
            format!("no {name}: compare reads folders written by `zaitaku coverage` (or scenario files)"),
        ))
    }
}

/// Reads coverage.geojson, coverage.csv, cells.parquet and, when present,
/// catchment_assignment.csv.
pub fn read_result_folder(dir: &Path) -> Result<Side> {
    let label = dir.display().to_string();
    let keys = MunicipalityKeys {
        code: "code".into(),
        name: "name".into(),
        prefecture: "prefecture".into(),
        name_suffix: "name_suffix".into(),
        city: "city".into(),
        whole_designated_cities: false,
    };
    let m = read_municipalities(&Source::read(&need(dir, "coverage.geojson")?)?, &keys)?;
    let csv_path = need(dir, "coverage.csv")?;
    let src = Source::read(&csv_path)?;
    let (text, _) = decode_text(&src)?;
    let table = CsvTable::open(&src.name, &text)?;
    let expected = "municipality_code,function,demand,covered";
    let (c_m, c_f, c_d, c_c) = (
        table.require("municipality_code", expected)?,
        table.require("function", expected)?,
        table.require("demand", expected)?,
        table.require("covered", expected)?,
    );
    let mut functions: Vec<String> = Vec::new();
    let mut figures: HashMap<(String, String), (f64, f64)> = HashMap::new();
    let mut rejects = Vec::new();
    let mut problem: Option<Error> = None;
    table.for_each(&mut rejects, |location, record| {
        let get = |i: usize| record.get(i).unwrap_or("").trim().to_string();
        let num = |i: usize| get(i).parse::<f64>();
        match (num(c_d), num(c_c)) {
            (Ok(d), Ok(c)) => {
                let f = get(c_f);
                if !functions.contains(&f) {
                    functions.push(f.clone());
                }
                figures.insert((get(c_m), f), (d, c));
            }
            _ => {
                problem.get_or_insert_with(|| Error::input(&src.name, location, "demand or covered is not a number"));
            }
        }
    });
    if let Some(e) = problem {
        return Err(e);
    }
    if let Some(r) = rejects.first() {
        return Err(Error::input(&src.name, r.location.clone(), r.reason.clone()));
    }
    let municipalities = m
        .municipalities
        .into_iter()
        .map(|muni| {
            let figures = functions
                .iter()
                .map(|f| {
                    figures
                        .get(&(muni.code.clone(), f.clone()))
                        .copied()
                        .unwrap_or((0.0, 0.0))
                })
                .collect();
            SideMunicipality {
                code: muni.code,
                name: muni.name,
                prefecture: muni.prefecture,
                geometry: muni.geometry,
                figures,
            }
        })
        .collect();
    let covered_cols: Vec<String> = functions.iter().map(|f| format!("{f}_covered")).collect();
    let cols: Vec<&str> = covered_cols.iter().map(String::as_str).collect();
    let (text, floats, bools) =
        crate::outputs::tables::read_parquet_columns(&need(dir, "cells.parquet")?, &["mesh_code"], &["demand"], &cols)?;
    // One column of each kind was asked for, each as long as the table.
    let (Some(codes), Some(demand)) = (text.first(), floats.first()) else {
        return Err(Error::Internal("cells.parquet: columns missing after reading".into()));
    };
    let cells = codes
        .iter()
        .zip(demand)
        .enumerate()
        .map(|(i, (code, &d))| {
            (
                code.clone(),
                (d, bools.iter().map(|b| b.get(i).copied().unwrap_or_default()).collect()),
            )
        })
        .collect();
    let assignment = dir.join("catchment_assignment.csv");
    let catchments = if assignment.is_file() {
        let src = Source::read(&assignment)?;
        let (text, _) = decode_text(&src)?;
        let table = CsvTable::open(&src.name, &text)?;
        let expected = "municipality_code,catchment_id";
        let (c_m, c_k) = (
            table.require("municipality_code", expected)?,
            table.require("catchment_id", expected)?,
        );
        let mut out = HashMap::new();
        let mut rejects = Vec::new();
        table.for_each(&mut rejects, |_, record| {
            out.insert(
                record.get(c_m).unwrap_or("").to_string(),
                record.get(c_k).unwrap_or("").to_string(),
            );
        });
        Some(out)
    } else {
        None
    };
    Ok(Side {
        label,
        functions,
        municipalities,
        cells,
        catchments,
    })
}
