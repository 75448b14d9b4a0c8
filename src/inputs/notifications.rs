//! The regional health bureaus' lists of accepted notifications (施設基準の届出受理医療機関名簿,
//! 地方厚生局, xlsx): which clinics and hospitals are designated home-care support clinics
//! and hospitals (在宅療養支援診療所・病院). Read with calamine.
//!
//! The header row (the 4th in the bureaus' files; the first ten rows are searched) holds
//! `医療機関番号` and `受理記号`, and usually `医療機関名称` and `都道府県名`. The symbol
//! `(支援診１)`, `(支援診２)`, `(支援診３)` (or `支援病`) marks a designation; 1 and 2 are
//! the enhanced types (機能強化型: single, networked), 3 the conventional one. Other rows
//! are other notifications and are not used.

use crate::error::{Error, Location, Reject, Result};
use crate::inputs::institutions::{Flag, Institution, Kind};
use crate::inputs::name_match::{match_facility, Candidate, Match};
use crate::inputs::source::Source;
use calamine::{Data, Reader};

/// One designation of a list.
#[derive(Debug, Clone, PartialEq)]
pub struct Designation {
    /// The list's institution number (医療機関番号), digits only.
    pub number: String,
    pub name: String,
    /// `true` for a hospital (支援病), `false` for a clinic (支援診).
    pub hospital: bool,
    /// 1 enhanced single, 2 enhanced networked, 3 conventional.
    pub support_type: u8,
    /// Sheet and row, for messages.
    pub location: Location,
    /// The institution's address (医療機関所在地（住所）), empty when absent.
    pub address: String,
}

/// What a list gave.
#[derive(Debug, Default)]
pub struct NotificationList {
    pub designations: Vec<Designation>,
    /// Data rows read (every notification, designations or not).
    pub rows_read: usize,
    /// Rows of other notifications.
    pub other: usize,
    pub rejects: Vec<Reject>,
}

/// Full-width digits and letters to ASCII, spaces and brackets dropped.
fn normalise(text: &str) -> String {
    text.chars()
        .filter_map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32),
            '(' | ')' | '（' | '）' | ' ' | '　' | '-' | '－' => None,
            c => Some(c),
        })
        .collect()
}

/// The designation a 受理記号 names: (hospital, type).
pub fn parse_symbol(symbol: &str) -> Option<(bool, u8)> {
    let s = normalise(symbol);
    let (hospital, rest) = if let Some(r) = s.strip_prefix("支援診") {
        (false, r)
    } else if let Some(r) = s.strip_prefix("支援病") {
        (true, r)
    } else {
        return None;
    };
    match rest {
        "1" => Some((hospital, 1)),
        "2" => Some((hospital, 2)),
        "3" => Some((hospital, 3)),
        _ => None,
    }
}

/// Reads a notification list.
pub fn read_notifications(source: &Source) -> Result<NotificationList> {
    let bad = |location: Location, problem: String| Error::input(&source.name, location, problem);
    let mut book = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(&source.bytes[..]))
        .map_err(|e| bad(Location::File, format!("not an Excel workbook (xlsx, xls): {e}")))?;
    let mut out = NotificationList::default();
    let mut found_header = false;
    for sheet in book.sheet_names() {
        let range = book
            .worksheet_range(&sheet)
            .map_err(|e| bad(Location::File, format!("sheet '{sheet}': {e}")))?;
        // Row numbers as Excel shows them: the range may start below row 1.
        let first_row = range.start().map(|p| p.0 as u64 + 1).unwrap_or(1);
        let rows: Vec<&[Data]> = range.rows().collect();
        let text = |c: &Data| normalise(&c.to_string());
        let header = rows.iter().take(10).position(|r| {
            let cells: Vec<String> = r.iter().map(text).collect();
            cells.iter().any(|c| c == "医療機関番号") && cells.iter().any(|c| c == "受理記号")
        });
        let Some(h) = header else { continue };
        found_header = true;
        let cells: Vec<String> = rows.get(h).map(|r| r.iter().map(text).collect()).unwrap_or_default();
        let col = |name: &str| cells.iter().position(|c| c == name);
        let (Some(c_number), Some(c_symbol)) = (col("医療機関番号"), col("受理記号")) else {
            continue;
        };
        let c_name = col("医療機関名称");
        // The address: 医療機関所在地（住所） in the bureaus' lists (not the postal code column).
        let c_address = cells
            .iter()
            .position(|c| c.contains("住所"))
            .or_else(|| cells.iter().position(|c| c.contains("所在地") && !c.contains("郵便")));
        for (k, row) in rows.iter().enumerate().skip(h + 1) {
            let line = first_row + k as u64;
            let get = |c: usize| row.get(c).map(|d| d.to_string().trim().to_string()).unwrap_or_default();
            if row.iter().all(|d| matches!(d, Data::Empty)) {
                continue;
            }
            out.rows_read += 1;
            let location = Location::Line(line);
            let Some((hospital, support_type)) = parse_symbol(&get(c_symbol)) else {
                out.other += 1;
                continue;
            };
            let number: String = normalise(&get(c_number));
            if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
                out.rejects.push(Reject::new(
                    &source.name,
                    location,
                    format!("sheet '{sheet}': 医療機関番号 '{}' is not a number", get(c_number)),
                ));
                continue;
            }
            out.designations.push(Designation {
                number,
                name: c_name.map(get).unwrap_or_default(),
                hospital,
                support_type,
                location,
                address: c_address.map(get).unwrap_or_default(),
            });
        }
    }
    if !found_header {
        return Err(bad(
            Location::File,
            "no sheet has the header of a notification list (a row with 医療機関番号 and 受理記号 within the first ten \
             rows; the bureaus' lists have it on row 4)"
                .into(),
        ));
    }
    Ok(out)
}

/// Joins a list's designations to the institutions: the list's number is the 7-digit
/// 医療機関番号, an institution id may be it or the 10-digit code (prefecture, `1` for
/// medical, the number). A match sets support_designation, home_visits and on_call_24h and
/// keeps the type (the stronger when listed twice). Returns the rows matching no
/// institution or several, as rejects of `file` (with the list's own rejects), and the
/// designations joined: `[clinics, hospitals][type - 1]`.
pub fn join(
    list: &NotificationList,
    institutions: &mut [Institution],
    file: &str,
    addresses: &std::collections::HashMap<String, String>,
) -> (Vec<Reject>, [[usize; 3]; 2], [usize; 3]) {
    let mut rejects = list.rejects.clone();
    let mut joined = [[0usize; 3]; 2];
    let mut by = [0usize; 3];
    // Open-data facilities (they have an address): matched by name and address instead.
    let open: Vec<usize> = (0..institutions.len())
        .filter(|&k| institutions.get(k).is_some_and(|i| addresses.contains_key(&i.id)))
        .collect();
    for d in &list.designations {
        let mut hits: Vec<usize> = institutions
            .iter()
            .enumerate()
            .filter(|(_, i)| {
                i.id == d.number
                    || (i.id.len() == 10
                        && d.number.len() == 7
                        && i.id.ends_with(&d.number)
                        && i.id.as_bytes().get(2) == Some(&b'1'))
            })
            .map(|(k, _)| k)
            .collect();
        if hits.is_empty() && !open.is_empty() {
            let kind = if d.hospital { Kind::Hospital } else { Kind::Clinic };
            let pool: Vec<usize> = open
                .iter()
                .copied()
                .filter(|&k| institutions.get(k).is_some_and(|i| i.kind == kind))
                .collect();
            let candidates: Vec<Candidate> = pool
                .iter()
                .filter_map(|&k| {
                    let i = institutions.get(k)?;
                    Some(Candidate {
                        id: &i.id,
                        name: &i.name,
                        address: addresses.get(&i.id).map_or("", String::as_str),
                    })
                })
                .collect();
            let describe = |k: usize| {
                candidates
                    .get(k)
                    .map(|c| format!("{} {} ({})", c.id, c.name, c.address))
                    .unwrap_or_default()
            };
            match match_facility(&d.name, &d.address, &candidates) {
                Match::Found { index, by: how } => {
                    if let Some(&k) = pool.get(index) {
                        hits.push(k);
                        if let Some(n) = by.get_mut(if how == "name" { 1 } else { 2 }) {
                            *n += 1;
                        }
                    }
                }
                Match::Ambiguous { indices, reason } => {
                    rejects.push(Reject::new(
                        file,
                        d.location.clone(),
                        format!(
                            "{} ({}, {}): ambiguous by name and address, {reason}: {}",
                            d.number,
                            d.name,
                            d.address,
                            indices.into_iter().map(describe).collect::<Vec<_>>().join("; ")
                        ),
                    ));
                    continue;
                }
                Match::NotFound { best, reason } => {
                    let best: Vec<String> = best
                        .into_iter()
                        .map(|(k, s)| format!("{} (similarity {s:.2})", describe(k)))
                        .collect();
                    rejects.push(Reject::new(
                        file,
                        d.location.clone(),
                        format!(
                            "{} ({}, {}): no institution number matches and {reason}; closest: {}",
                            d.number,
                            d.name,
                            d.address,
                            if best.is_empty() {
                                "none".to_string()
                            } else {
                                best.join("; ")
                            }
                        ),
                    ));
                    continue;
                }
            }
        } else if hits.len() == 1 {
            by[0] += 1;
        }
        match hits.as_slice() {
            [k] => {
                let Some(inst) = institutions.get_mut(*k) else { continue };
                for flag in [Flag::SupportDesignation, Flag::HomeVisits, Flag::OnCall24h] {
                    inst.flags.set(flag, true);
                }
                inst.support_type = Some(inst.support_type.map_or(d.support_type, |t| t.min(d.support_type)));
                // support_type is 1-3 (the parser accepts no other).
                if let Some(n) = joined
                    .get_mut(usize::from(d.hospital))
                    .and_then(|row| row.get_mut(usize::from(d.support_type).wrapping_sub(1)))
                {
                    *n += 1;
                }
            }
            [] => rejects.push(Reject::new(
                file,
                d.location.clone(),
                format!("医療機関番号 {} ({}) matches no institution id", d.number, d.name),
            )),
            many => rejects.push(Reject::new(
                file,
                d.location.clone(),
                format!(
                    "医療機関番号 {} ({}) matches {} institutions: {}",
                    d.number,
                    d.name,
                    many.len(),
                    many.iter()
                        .filter_map(|&k| institutions.get(k))
                        .map(|i| i.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        }
    }
    (rejects, joined, by)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_by_number() {
        let inst = |id: &str| Institution {
            id: id.into(),
            name: String::new(),
            kind: crate::inputs::institutions::Kind::Clinic,
            lat: 36.0,
            lon: 138.0,
            beds: None,
            capacity: None,
            flags: Default::default(),
            support_type: None,
        };
        // 10-digit medical code, 10-digit pharmacy code, a 10-byte id with a multibyte char.
        let mut institutions = vec![inst("2011234567"), inst("2041234567"), inst("漢1234567")];
        let list = NotificationList {
            designations: vec![Designation {
                number: "1234567".into(),
                name: "A".into(),
                hospital: false,
                support_type: 2,
                location: Location::Line(5),
                address: String::new(),
            }],
            rows_read: 1,
            ..Default::default()
        };
        let (rejects, joined, _) = join(&list, &mut institutions, "list.xlsx", &Default::default());
        assert!(rejects.is_empty());
        assert_eq!(joined, [[0, 1, 0], [0, 0, 0]]);
        assert_eq!(institutions[0].support_type, Some(2));
        assert!(institutions[0].flags.contains(Flag::SupportDesignation));
        assert_eq!(
            (institutions[1].support_type, institutions[2].support_type),
            (None, None)
        );
    }

    #[test]
    fn symbols() {
        assert_eq!(parse_symbol("(支援診１)"), Some((false, 1)));
        assert_eq!(parse_symbol("（支援病３）"), Some((true, 3)));
        assert_eq!(parse_symbol("支援診2"), Some((false, 2)));
        assert_eq!(parse_symbol("(在総)"), None);
        assert_eq!(parse_symbol("(支援診４)"), None);
    }
}
