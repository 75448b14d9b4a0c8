//! `zaitaku inspect`: what a file is and how it would be read, without analysing.

use crate::error::Result;
use crate::inputs::csv_table::CsvTable;
use crate::inputs::source::{decode_text, Source};
use std::collections::HashSet;
use std::fmt::Write as _;

/// Describes a projected population file: its years and the first year's total.
fn projection(s: &mut String, source: &Source) -> Result<()> {
    let years = crate::inputs::population::years_of(source).unwrap_or_default();
    let year = years.first().copied();
    let r = crate::inputs::population::read_population(source, &mut HashSet::new(), year)?;
    let _ = writeln!(
        s,
        "projected population mesh (national land data 将来推計人口メッシュ), years {}; pick one with --year",
        years.iter().map(u16::to_string).collect::<Vec<_>>().join(", ")
    );
    if let Some(y) = year {
        let total: f64 = r.cells.iter().map(|c| c.population).sum();
        let _ = writeln!(s, "{y}: {total:.1} people in {} cells", r.cells.len());
    }
    report(s, "population cells", r.rows_read, r.cells.len(), &r.rejects);
    Ok(())
}

/// A description of `source` for people: its format, encoding, size, which input it reads
/// as, the columns or keys used, and what a run would reject (the first few, with reasons).
pub fn inspect(source: &Source) -> Result<String> {
    let lower = source.name.to_ascii_lowercase();
    if !lower.ends_with(".xlsx") {
        let unzipped = source.unzipped()?;
        if unzipped.name != source.name {
            return inspect(&unzipped).map(|s| format!("zip archive {}, one table:\n{s}", source.name));
        }
    }
    if lower.ends_with(".xlsx") || lower.ends_with(".xls") {
        let list = crate::inputs::notifications::read_notifications(source)?;
        let mut s = format!(
            "{}: {} bytes, Excel workbook\nnotification list (施設基準の届出受理医療機関名簿): {} rows, {} support \
             designations (支援診/支援病), {} other notifications\n",
            source.name,
            source.bytes.len(),
            list.rows_read,
            list.designations.len(),
            list.other
        );
        for t in 1..=3u8 {
            let n = list.designations.iter().filter(|d| d.support_type == t).count();
            let _ = writeln!(s, "  type {t}: {n}");
        }
        report(
            &mut s,
            "notification rows",
            list.rows_read,
            list.rows_read - list.rejects.len(),
            &list.rejects,
        );
        return Ok(s);
    }
    if source.name.to_ascii_lowercase().ends_with(".dbf") {
        let mut s = format!(
            "{}: {} bytes, dBase table (Shapefile attributes)\n",
            source.name,
            source.bytes.len()
        );
        projection(&mut s, source)?;
        return Ok(s);
    }
    let (text, encoding) = decode_text(source)?;
    let mut s = String::new();
    let enc = match encoding {
        crate::inputs::source::TextEncoding::Utf8 => "UTF-8",
        crate::inputs::source::TextEncoding::Cp932 => "CP932",
    };
    let _ = writeln!(s, "{}: {} bytes, {enc}", source.name, source.bytes.len());
    let trimmed = text.trim_start();
    if trimmed.starts_with('{') {
        let fc = crate::inputs::municipalities::parse_feature_collection(source, &text)?;
        let first = fc.features.first();
        let geometry = first
            .and_then(|f| f.geometry.as_ref())
            .map(|g| g.value.type_name())
            .unwrap_or("none");
        let keys: Vec<String> = first
            .and_then(|f| f.properties.as_ref())
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "GeoJSON FeatureCollection: {} features, first geometry {geometry}",
            fc.features.len()
        );
        let _ = writeln!(s, "properties of the first feature: {}", keys.join(", "));
        drop(fc);
        if keys.iter().any(|k| k == "MESH_ID") {
            projection(&mut s, source)?;
        } else if geometry == "Point" {
            let r = crate::inputs::institutions::read_institutions(source, &mut Default::default())?;
            report(
                &mut s,
                "institutions (GeoJSON points)",
                r.rows_read,
                r.institutions.len(),
                &r.rejects,
            );
        } else {
            let r = crate::inputs::municipalities::read_municipalities(source, &Default::default())?;
            let _ = writeln!(
                s,
                "reads as municipalities (N03 keys N03_007, N03_001, N03_004 + N03_005): {} codes after dissolving, {} repaired",
                r.municipalities.len(),
                r.repaired.len()
            );
            report(
                &mut s,
                "municipalities",
                r.features_read,
                r.features_read - r.rejects.len(),
                &r.rejects,
            );
        }
        return Ok(s);
    }
    if trimmed.starts_with('[') || trimmed.starts_with('#') || trimmed.starts_with("demand") {
        let rules = crate::inputs::rules::Rules::parse(source)?;
        let _ = writeln!(
            s,
            "rules TOML: {} functions ({}), {} roles",
            rules.functions.len(),
            rules
                .functions
                .iter()
                .map(|f| f.id.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            rules.roles.len()
        );
        return Ok(s);
    }
    let table = CsvTable::open(&source.name, &text)?;
    let _ = writeln!(s, "CSV, columns: {}", table.headers.join(", "));
    let has = |c: &str| table.column(c).is_some();
    if has("key_code") || has("mesh_code") {
        let mut r = crate::inputs::population::read_population(source, &mut HashSet::new(), None)?;
        let _ = writeln!(s, "population mesh, {} layout", r.layout);
        for c in &r.columns {
            let _ = writeln!(
                s,
                "  {:<17} {} 「{}」 (chosen by {})",
                c.measure.describe(),
                c.column,
                c.label,
                c.chosen_by
            );
        }
        if r.layout == "e-Stat" {
            for what in r.missing_measures() {
                let _ = writeln!(s, "  {what:<17} no column is labelled so: not available from this file");
            }
        } else {
            let _ = writeln!(
                s,
                "aged 75+ column: {}; aged 0-14 column: {}",
                if r.has_75plus { "yes" } else { "no" },
                if r.has_0_14 { "yes" } else { "no" }
            );
        }
        let links = std::mem::take(&mut r.secrecy);
        let (secrecy, _) = crate::inputs::estat::share_suppressed(&mut [crate::inputs::estat::FileCells {
            cells: &mut r.cells,
            links: &links,
        }]);
        if r.suppressed > 0 {
            let _ = writeln!(
                s,
                "{} cells with their age detail suppressed (HTKSYORI 2); they keep their own totals",
                r.suppressed
            );
        }
        if let Some(sentence) = secrecy.sentence() {
            let _ = writeln!(s, "{sentence}");
        }
        let total: f64 = r.cells.iter().map(|c| c.population).sum();
        let p65: f64 = r.cells.iter().map(|c| c.population_65plus).sum();
        let _ = writeln!(s, "population read: {total}; aged 65+: {p65}");
        report(&mut s, "population", r.rows_read, r.cells.len(), &r.rejects);
    } else if crate::inputs::open_data::is_open_data(&text) {
        let r = crate::inputs::institutions::read_institutions(source, &mut Default::default())?;
        for n in &r.notes {
            let _ = writeln!(s, "{n}");
        }
        let mut kinds = std::collections::BTreeMap::new();
        for i in &r.institutions {
            *kinds.entry(i.kind.as_str()).or_insert(0usize) += 1;
        }
        let _ = writeln!(
            s,
            "ID, name, municipality code (prefecture + city code), coordinates and 合計病床数 taken by column name; no home-visit information (join a notification list with --notifications)"
        );
        let _ = writeln!(s, "kinds: {kinds:?}");
        report(&mut s, "institutions", r.rows_read, r.institutions.len(), &r.rejects);
    } else if has("kind") && has("lat") {
        let r = crate::inputs::institutions::read_institutions(source, &mut Default::default())?;
        report(&mut s, "institutions", r.rows_read, r.institutions.len(), &r.rejects);
    } else if has("region_code") {
        let _ = writeln!(s, "regions layout (municipality_code, region_code, region_name): checked against the municipalities at run time");
    } else {
        let _ = writeln!(s, "not a zaitaku input: expected mesh_code or KEY_CODE (population), kind/lat/lon (institutions) or region_code (regions)");
    }
    Ok(s)
}

fn report(s: &mut String, what: &str, read: usize, accepted: usize, rejects: &[crate::error::Reject]) {
    let _ = writeln!(
        s,
        "reads as {what}: {read} rows, {accepted} accepted, {} rejected",
        rejects.len()
    );
    for r in rejects.iter().take(10) {
        let _ = writeln!(s, "  {}: {}", r.location, r.reason);
    }
    if rejects.len() > 10 {
        let _ = writeln!(s, "  ... and {} more", rejects.len() - 10);
    }
}
