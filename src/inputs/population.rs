//! Population on the standard grid mesh, simple form:
//! `mesh_code,population,population_65plus[,population_75plus]`.
//!
//! Codes of every JIS X 0410 level are accepted. A row with a bad code, a value that is not
//! a non-negative number, more aged 65+ than people, or a code already read is rejected with
//! the reason.

use crate::error::{Error, Location, Reject, Result};
use crate::inputs::csv_table::CsvTable;
use crate::inputs::mesh::Mesh;
use crate::inputs::source::{decode_text, Source};
use std::collections::HashSet;

/// People in one mesh cell.
#[derive(Debug, Clone, PartialEq)]
pub struct PopulationCell {
    /// The line of the file it was read from.
    pub line: u64,
    pub mesh: Mesh,
    pub population: f64,
    pub population_65plus: f64,
    /// `None` when the file has no such column.
    pub population_75plus: Option<f64>,
}

#[derive(Debug, Default)]
pub struct PopulationRead {
    pub cells: Vec<PopulationCell>,
    pub rows_read: usize,
    pub rejects: Vec<Reject>,
    pub has_75plus: bool,
}

/// Reads one population file. `seen` holds the codes of files read before.
pub fn read_population(source: &Source, seen: &mut HashSet<Mesh>) -> Result<PopulationRead> {
    let (text, _) = decode_text(source)?;
    let table = CsvTable::open(&source.name, &text)?;
    let expected = "mesh_code,population,population_65plus[,population_75plus]";
    let c_mesh = table.require("mesh_code", expected)?;
    let c_pop = table.require("population", expected)?;
    let c_65 = table.require("population_65plus", expected)?;
    let c_75 = table.column("population_75plus");
    let mut out = PopulationRead {
        has_75plus: c_75.is_some(),
        ..Default::default()
    };
    let mut rejects = Vec::new();
    let rows_read = table.for_each(&mut rejects, |location, record| {
        let row = (|| -> std::result::Result<PopulationCell, String> {
            let field = |i: usize| record.get(i).unwrap_or("").trim();
            let mesh = Mesh::parse(field(c_mesh)).map_err(|e| e.to_string())?;
            let value = |i: usize, name: &str| -> std::result::Result<f64, String> {
                let s = field(i);
                match s.parse::<f64>() {
                    Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
                    Ok(v) => Err(format!("{name} {v} is negative or not finite")),
                    Err(_) if s.is_empty() => Err(format!("{name} is empty")),
                    Err(_) => Err(format!("{name} '{s}' is not a number")),
                }
            };
            let population = value(c_pop, "population")?;
            let population_65plus = value(c_65, "population_65plus")?;
            let population_75plus = c_75.map(|c| value(c, "population_75plus")).transpose()?;
            if population_65plus > population {
                return Err(format!(
                    "population_65plus {population_65plus} exceeds population {population}"
                ));
            }
            if let Some(p75) = population_75plus {
                if p75 > population_65plus {
                    return Err(format!(
                        "population_75plus {p75} exceeds population_65plus {population_65plus}"
                    ));
                }
            }
            if !seen.insert(mesh) {
                return Err(format!("mesh code {mesh} appears again (the first row is kept)"));
            }
            Ok(PopulationCell {
                line: match &location {
                    Location::Line(n) => *n,
                    _ => 0,
                },
                mesh,
                population,
                population_65plus,
                population_75plus,
            })
        })();
        match row {
            Ok(cell) => out.cells.push(cell),
            Err(reason) => out.rejects.push(Reject::new(&source.name, location.clone(), reason)),
        }
    });
    out.rows_read = rows_read;
    out.rejects.extend(rejects);
    out.rejects.sort_by(|a, b| a.location.cmp(&b.location));
    if out.cells.is_empty() {
        return Err(Error::no_usable_row(
            &source.name,
            "mesh cell",
            out.rows_read,
            &out.rejects,
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cells_of_every_level_and_rejects_bad_rows() {
        let text = "mesh_code,population,population_65plus\n\
                    5438,10,5\n543800,10,5\n54380000,10,5\n543800001,10,5\n5438000012,10,5\n54380000123,10,5\n\
                    5438000,10,5\n2938,10,5\n54380001,ten,5\n54380002,10,20\n54380000,3,1\n";
        let r = read_population(&Source::new("pop.csv", text.as_bytes()), &mut HashSet::new()).unwrap();
        assert_eq!(r.rows_read, 11);
        assert_eq!(r.cells.len(), 6);
        let reasons: Vec<String> = r
            .rejects
            .iter()
            .map(|x| format!("{}: {}", x.location, x.reason))
            .collect();
        assert_eq!(
            reasons,
            [
                "line 8: mesh code '5438000' has 7 digits; expected 4, 6, 8, 9, 10 or 11",
                "line 9: mesh code '2938' lies outside Japan (1st-order mesh 2938 not within lat 20-46, lon 122-154)",
                "line 10: population 'ten' is not a number",
                "line 11: population_65plus 20 exceeds population 10",
                "line 12: mesh code 54380000 appears again (the first row is kept)",
            ]
        );
    }
}
