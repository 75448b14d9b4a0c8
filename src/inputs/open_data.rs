//! The health ministry's national facility open data (医療情報ネット オープンデータ; public
//! data licence PDL 1.0): one facility file per kind, as downloaded, zipped or not.
//!
//! - `01-1_hospital_facility_info_YYYYMMDD.csv` hospitals, `02-1_clinic_facility_info_…`
//!   clinics, `03-1_dental_facility_info_…` dental clinics, `04_maternity_home_…` maternity
//!   homes (read and counted; no built-in role), `05_pharmacy_…` pharmacies.
//! - UTF-8 with a byte-order mark, quoted header, 60 to 130 columns, taken by name: `ID`,
//!   `正式名称` (pharmacies: `名称`), `都道府県コード`, `市区町村コード`, `所在地`,
//!   `所在地座標（緯度）`, `所在地座標（経度）`, and `合計病床数` where beds are listed.
//!
//! The kind comes from the file's name, else from the ID's third digit (prefecture code,
//! then 1 hospital, 2 clinic, 3 dental, 4 maternity home, 5 pharmacy). The municipality code
//! is the prefecture code and the 3-digit city code. Rows without a usable location are
//! rejected with the reason: empty coordinates, `0.0, 0.0` (about 16,000 facilities of a
//! national edition), points outside Japan, and coordinates shared by facilities of several
//! municipalities (a placeholder such as a prefectural office). The files say nothing about
//! home visits: designations come from the bureaus' notification lists. Sources are named in
//! `docs/DATA_SOURCES.md`.

// Raw input text is parsed here: no indexing that could panic.
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

use crate::error::{Location, Reject, Result};
use crate::inputs::csv_table::CsvTable;
use crate::inputs::estat::normalise_label;
use crate::inputs::institutions::{accept, check_coordinates, Flags, Institution, InstitutionsRead, Kind};
use crate::inputs::source::Source;
use std::collections::{BTreeMap, BTreeSet};

/// Column names, compared after [`normalise_label`] (so full-width brackets match).
const ID: &str = "ID";
const NAMES: [&str; 2] = ["正式名称", "名称"];
const PREFECTURE: &str = "都道府県コード";
const CITY: &str = "市区町村コード";
const ADDRESS: &str = "所在地";
const LAT: &str = "所在地座標（緯度）";
const LON: &str = "所在地座標（経度）";
const BEDS: &str = "合計病床数";

/// True when a CSV text's header is the open data's (ID, a name and the coordinate columns).
pub fn is_open_data(text: &str) -> bool {
    let header = text.lines().next().unwrap_or("");
    let h = normalise_label(header);
    h.contains(&normalise_label(LAT)) && h.contains(&normalise_label(LON)) && h.to_ascii_uppercase().contains("ID")
}

/// The kind a file name says (`01-1_hospital_facility_info_20240601.csv`, ...).
pub fn kind_of_file(name: &str) -> Option<Kind> {
    let base = name
        .rsplit(['/', '\\', ':'])
        .next()
        .unwrap_or(name)
        .to_ascii_lowercase();
    if base.contains("dental") {
        Some(Kind::DentalClinic)
    } else if base.contains("hospital") {
        Some(Kind::Hospital)
    } else if base.contains("clinic") {
        Some(Kind::Clinic)
    } else if base.contains("pharmacy") {
        Some(Kind::Pharmacy)
    } else if base.contains("maternity") {
        Some(Kind::MaternityHome)
    } else {
        None
    }
}

/// The kind the ID's third digit says.
fn kind_of_id(id: &str) -> Option<Kind> {
    match id.as_bytes().get(2) {
        Some(b'1') => Some(Kind::Hospital),
        Some(b'2') => Some(Kind::Clinic),
        Some(b'3') => Some(Kind::DentalClinic),
        Some(b'4') => Some(Kind::MaternityHome),
        Some(b'5') => Some(Kind::Pharmacy),
        _ => None,
    }
}

/// A row that parsed, before the placeholder check.
struct Parsed {
    location: Location,
    institution: Institution,
    municipality: Option<String>,
    /// The coordinates as written, for grouping shared points.
    point: (String, String),
    address: String,
}

/// Reads one open-data facility file.
pub fn read_open_data(
    source: &Source,
    text: &str,
    seen: &mut crate::inputs::institutions::Ids,
) -> Result<InstitutionsRead> {
    let table = CsvTable::open(&source.name, text)?;
    let find = |name: &str| {
        let n = normalise_label(name).to_ascii_lowercase();
        table
            .headers
            .iter()
            .position(|h| normalise_label(h).to_ascii_lowercase() == n)
    };
    let expected = "ID, 正式名称 (or 名称), 都道府県コード, 市区町村コード, 所在地座標（緯度）, 所在地座標（経度）";
    let c_id = find(ID).map_or_else(|| table.require("id", expected), Ok)?;
    let c_name = NAMES.iter().find_map(|n| find(n));
    let c_name = c_name.map_or_else(|| table.require("正式名称", expected), Ok)?;
    let c_pref = find(PREFECTURE).map_or_else(|| table.require(PREFECTURE, expected), Ok)?;
    let c_city = find(CITY).map_or_else(|| table.require(CITY, expected), Ok)?;
    let c_lat = find(LAT).map_or_else(|| table.require(LAT, expected), Ok)?;
    let c_lon = find(LON).map_or_else(|| table.require(LON, expected), Ok)?;
    let c_beds = find(BEDS);
    let c_address = find(ADDRESS);
    let file_kind = kind_of_file(&source.name);
    let mut parsed = Vec::new();
    let mut out = InstitutionsRead::default();
    let mut rejects = Vec::new();
    let name = source.name.clone();
    let rows_read = table.for_each(&mut rejects, |location, record| {
        let field = |i: usize| record.get(i).unwrap_or("").trim();
        let row = (|| -> std::result::Result<Parsed, String> {
            let id = field(c_id);
            if id.is_empty() {
                return Err("ID is empty".into());
            }
            let kind = file_kind.or_else(|| kind_of_id(id)).ok_or_else(|| {
                format!("the kind is told neither by the file name nor by the ID '{id}' (third digit 1-5)")
            })?;
            let (lat_text, lon_text) = (field(c_lat), field(c_lon));
            if lat_text.is_empty() || lon_text.is_empty() {
                return Err("所在地座標 is empty: no location published".into());
            }
            let coordinate = |s: &str, what: &str| {
                s.parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| format!("{what} '{s}' is not a number"))
            };
            let lat = coordinate(lat_text, "所在地座標（緯度）")?;
            let lon = coordinate(lon_text, "所在地座標（経度）")?;
            if lat == 0.0 && lon == 0.0 {
                return Err("所在地座標 is 0.0, 0.0: no location published".into());
            }
            check_coordinates(lat, lon)?;
            let beds = match c_beds.map(field) {
                None | Some("") | Some("-") => None,
                Some(s) => Some(
                    s.parse::<f64>()
                        .ok()
                        .filter(|v| v.is_finite() && *v >= 0.0)
                        .ok_or_else(|| format!("合計病床数 '{s}' is not a count"))?,
                ),
            };
            let municipality = municipality_code(field(c_pref), field(c_city));
            let mut display = field(c_name).to_string();
            if display.is_empty() {
                display = c_address.map(field).unwrap_or("").to_string();
            }
            Ok(Parsed {
                location: location.clone(),
                institution: Institution {
                    id: id.to_string(),
                    name: display,
                    kind,
                    lat,
                    lon,
                    beds,
                    capacity: None,
                    flags: Flags::default(),
                    support_type: None,
                },
                municipality,
                point: (lat_text.to_string(), lon_text.to_string()),
                address: c_address.map(field).unwrap_or("").to_string(),
            })
        })();
        match row {
            Ok(p) => parsed.push(p),
            Err(reason) => out.rejects.push(Reject::new(&name, location, reason)),
        }
    });
    // Placeholders: one point given to facilities of several municipalities.
    let mut by_point: BTreeMap<&(String, String), BTreeSet<&str>> = BTreeMap::new();
    for p in &parsed {
        by_point
            .entry(&p.point)
            .or_default()
            .insert(p.municipality.as_deref().unwrap_or("?"));
    }
    let placeholders: BTreeMap<(String, String), usize> = by_point
        .into_iter()
        .filter(|(_, m)| m.len() > 1)
        .map(|(p, m)| (p.clone(), m.len()))
        .collect();
    let mut placeholder_rows = 0;
    for p in parsed {
        if let Some(m) = placeholders.get(&p.point) {
            placeholder_rows += 1;
            out.rejects.push(Reject::new(
                &name,
                p.location,
                format!(
                    "placeholder location: lat {}, lon {} is given to facilities of {m} municipalities",
                    p.point.0, p.point.1
                ),
            ));
            continue;
        }
        let id = p.institution.id.clone();
        let before = out.institutions.len();
        let location = p.location.clone();
        accept(Ok(p.institution), &name, p.location, seen, &mut out);
        if out.institutions.len() > before {
            if !p.address.is_empty() {
                out.addresses.push((id.clone(), p.address.clone()));
            }
            if let Some(code) = p.municipality {
                out.declared_municipality.push((id, code, location));
            }
        }
    }
    out.rows_read = rows_read;
    out.rejects.extend(rejects);
    out.rejects.sort_by(|a, b| a.location.cmp(&b.location));
    let kind = file_kind.map_or("kinds from the IDs".to_string(), |k| {
        format!("{} ({})", k.as_str(), k.japanese())
    });
    out.notes.push(format!("医療情報ネット open data: {kind}"));
    if !placeholders.is_empty() {
        out.notes.push(format!(
            "{placeholder_rows} rows at {} placeholder locations (one point for facilities of several municipalities) rejected",
            placeholders.len()
        ));
    }
    Ok(out)
}

/// The 5-digit municipality code from the prefecture code (1-2 digits) and the city code
/// (3 digits; a 5- or 6-digit code is taken as the whole code). `None` when not digits.
fn municipality_code(prefecture: &str, city: &str) -> Option<String> {
    if !prefecture.bytes().all(|b| b.is_ascii_digit()) || !city.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match (prefecture.len(), city.len()) {
        (_, 5 | 6) => city.get(..5).map(str::to_string),
        (1 | 2, 1..=3) => Some(format!("{:0>2}{:0>3}", prefecture, city)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_kinds() {
        assert_eq!(municipality_code("20", "201"), Some("20201".into()));
        assert_eq!(municipality_code("1", "1"), Some("01001".into()));
        assert_eq!(municipality_code("20", "202011"), Some("20201".into()));
        assert_eq!(municipality_code("", "x"), None);
        assert_eq!(
            kind_of_file("dl/05_pharmacy_20240601.zip:05_pharmacy_20240601.csv"),
            Some(Kind::Pharmacy)
        );
        assert_eq!(
            kind_of_file("03-1_dental_facility_info_20240601.csv"),
            Some(Kind::DentalClinic)
        );
        assert_eq!(
            kind_of_file("02-1_clinic_facility_info_20240601.csv"),
            Some(Kind::Clinic)
        );
        assert_eq!(kind_of_id("2020000123"), Some(Kind::Clinic));
    }
}
