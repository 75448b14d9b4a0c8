//! Institutions: the providers of home medical care, read from CSV or GeoJSON points.
//!
//! Columns `id, name, kind, lat, lon` are required; `beds` and `capacity` are numbers;
//! the flags (`home_visits`, `support_designation`, ...) read `1/0`, `true/false`, `yes/no`
//! or `○`/blank, and a missing flag column means 0. A row with bad coordinates, an unknown
//! kind, a bad value or a duplicate id is rejected with the reason; the run goes on.

use crate::error::{Error, Location, Reject, Result};
use crate::inputs::csv_table::CsvTable;
use crate::inputs::source::{decode_text, Source, TextEncoding};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Deserializer, Serialize};
use std::borrow::Cow;
use std::fmt;

/// The kinds of institution that carry home medical care (DOMAIN.md §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// 病院
    Hospital,
    /// 診療所
    Clinic,
    /// 歯科診療所
    DentalClinic,
    /// 薬局
    Pharmacy,
    /// 訪問看護ステーション
    VisitingNurse,
    /// 居宅介護支援事業所
    CareManager,
    /// 地域包括支援センター
    CommunitySupportCenter,
    /// 介護老人保健施設
    GeriatricFacility,
    /// 助産所: read from the health ministry's open data and counted; no built-in role.
    MaternityHome,
}

impl Kind {
    pub const ALL: [Kind; 9] = [
        Kind::Hospital,
        Kind::Clinic,
        Kind::DentalClinic,
        Kind::Pharmacy,
        Kind::VisitingNurse,
        Kind::CareManager,
        Kind::CommunitySupportCenter,
        Kind::GeriatricFacility,
        Kind::MaternityHome,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Hospital => "hospital",
            Kind::Clinic => "clinic",
            Kind::DentalClinic => "dental_clinic",
            Kind::Pharmacy => "pharmacy",
            Kind::VisitingNurse => "visiting_nurse",
            Kind::CareManager => "care_manager",
            Kind::CommunitySupportCenter => "community_support_center",
            Kind::GeriatricFacility => "geriatric_facility",
            Kind::MaternityHome => "maternity_home",
        }
    }

    pub fn japanese(self) -> &'static str {
        match self {
            Kind::Hospital => "病院",
            Kind::Clinic => "診療所",
            Kind::DentalClinic => "歯科診療所",
            Kind::Pharmacy => "薬局",
            Kind::VisitingNurse => "訪問看護ステーション",
            Kind::CareManager => "居宅介護支援事業所",
            Kind::CommunitySupportCenter => "地域包括支援センター",
            Kind::GeriatricFacility => "介護老人保健施設",
            Kind::MaternityHome => "助産所",
        }
    }

    /// Reads an English or Japanese kind name (`一般診療所` is accepted for a clinic).
    pub fn parse(s: &str) -> Option<Kind> {
        let s = s.trim();
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s) || k.japanese() == s)
            .or(match s {
                "一般診療所" => Some(Kind::Clinic),
                _ => None,
            })
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Kind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Kind::parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown kind '{s}'; expected one of {}",
                Kind::ALL.map(Kind::as_str).join(", ")
            ))
        })
    }
}

/// A set of kinds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct KindSet(u16);

impl KindSet {
    pub fn contains(self, kind: Kind) -> bool {
        self.0 & kind.bit() != 0
    }
    pub fn iter(self) -> impl Iterator<Item = Kind> {
        Kind::ALL.into_iter().filter(move |k| self.contains(*k))
    }
}

impl FromIterator<Kind> for KindSet {
    fn from_iter<I: IntoIterator<Item = Kind>>(iter: I) -> Self {
        KindSet(iter.into_iter().fold(0, |acc, k| acc | k.bit()))
    }
}

/// Designations and capabilities of an institution that decide which roles it can fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    /// Does home visits (訪問診療, 訪問薬剤管理指導, 歯科訪問診療).
    HomeVisits,
    /// 在宅療養支援診療所/病院 (home-care support clinic or hospital).
    SupportDesignation,
    /// 24-hour response (往診, 24時間対応体制).
    OnCall24h,
    /// Takes a home patient in when their condition changes (後方支援, 有床).
    BackupBeds,
    /// Does end-of-life care at home (看取り, ターミナルケア).
    EndOfLife,
    /// Has discharge-support staff (退院支援担当者).
    DischargeSupport,
    /// A coordination hub (在宅医療連携拠点).
    CoordinationHub,
}

impl Flag {
    pub const ALL: [Flag; 7] = [
        Flag::HomeVisits,
        Flag::SupportDesignation,
        Flag::OnCall24h,
        Flag::BackupBeds,
        Flag::EndOfLife,
        Flag::DischargeSupport,
        Flag::CoordinationHub,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Flag::HomeVisits => "home_visits",
            Flag::SupportDesignation => "support_designation",
            Flag::OnCall24h => "on_call_24h",
            Flag::BackupBeds => "backup_beds",
            Flag::EndOfLife => "end_of_life",
            Flag::DischargeSupport => "discharge_support",
            Flag::CoordinationHub => "coordination_hub",
        }
    }

    pub fn parse(s: &str) -> Option<Flag> {
        Flag::ALL.into_iter().find(|f| f.as_str() == s.trim())
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl<'de> Deserialize<'de> for Flag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Flag::parse(&s).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unknown flag '{s}'; expected one of {}",
                Flag::ALL.map(Flag::as_str).join(", ")
            ))
        })
    }
}

/// A set of flags.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Flags(u8);

impl Flags {
    pub fn contains(self, flag: Flag) -> bool {
        self.0 & flag.bit() != 0
    }
    /// True when every flag of `required` is set here.
    pub fn contains_all(self, required: Flags) -> bool {
        self.0 & required.0 == required.0
    }
    pub fn set(&mut self, flag: Flag, on: bool) {
        if on {
            self.0 |= flag.bit();
        } else {
            self.0 &= !flag.bit();
        }
    }
    pub fn iter(self) -> impl Iterator<Item = Flag> {
        Flag::ALL.into_iter().filter(move |f| self.contains(*f))
    }
}

impl FromIterator<Flag> for Flags {
    fn from_iter<I: IntoIterator<Item = Flag>>(iter: I) -> Self {
        Flags(iter.into_iter().fold(0, |acc, f| acc | f.bit()))
    }
}

/// One institution.
#[derive(Debug, Clone, PartialEq)]
pub struct Institution {
    pub id: String,
    pub name: String,
    pub kind: Kind,
    pub lat: f64,
    pub lon: f64,
    pub beds: Option<f64>,
    pub capacity: Option<f64>,
    pub flags: Flags,
    /// Type of a home-care support designation from a notification list: 1 enhanced
    /// (single), 2 enhanced (networked), 3 conventional; `None` when no list names it.
    pub support_type: Option<u8>,
}

/// What an institutions file gave: the accepted rows and the count of rows read.
#[derive(Debug, Default)]
pub struct InstitutionsRead {
    pub institutions: Vec<Institution>,
    /// Open data: notes for the file's report (kind, placeholders, counts).
    pub notes: Vec<String>,
    /// Open data: per institution, the municipality code its row declares, and the row.
    pub declared_municipality: Vec<(String, String, Location)>,
    /// Open data: per institution, its address (所在地).
    pub addresses: Vec<(String, String)>,
    pub rows_read: usize,
    pub rejects: Vec<Reject>,
    pub encoding: Option<TextEncoding>,
}

/// Reads institutions from a CSV or a GeoJSON FeatureCollection of points, chosen by the
/// content. `seen` holds the ids of files read before, so a duplicate across files is
/// rejected too.
pub fn read_institutions(source: &Source, seen: &mut Ids) -> Result<InstitutionsRead> {
    let (text, encoding) = decode_text(source)?;
    let mut read = if text.trim_start().starts_with('{') {
        read_geojson(source, &text, seen)?
    } else if crate::inputs::open_data::is_open_data(&text) {
        crate::inputs::open_data::read_open_data(source, &text, seen)?
    } else {
        read_csv(source, &text, seen)?
    };
    read.encoding = Some(encoding);
    if read.institutions.is_empty() {
        return Err(Error::no_usable_row(
            &source.name,
            "institution",
            read.rows_read,
            &read.rejects,
        ));
    }
    Ok(read)
}

/// The institution ids read so far (a later row with one of them is a duplicate).
pub type Ids = FxHashSet<String>;

/// One row's raw fields by column name, from CSV or GeoJSON properties, trimmed.
trait RowFields {
    fn get(&self, column: &str) -> Option<Cow<'_, str>>;
}

/// A CSV record with the column positions of its header.
struct CsvRow<'a> {
    columns: &'a FxHashMap<String, usize>,
    record: &'a csv::StringRecord,
}

impl RowFields for CsvRow<'_> {
    fn get(&self, column: &str) -> Option<Cow<'_, str>> {
        let i = *self.columns.get(column)?;
        self.record.get(i).map(|s| Cow::Borrowed(s.trim()))
    }
}

impl RowFields for serde_json::Map<String, serde_json::Value> {
    fn get(&self, column: &str) -> Option<Cow<'_, str>> {
        match serde_json::Map::get(self, column)? {
            serde_json::Value::Null => None,
            serde_json::Value::String(s) => Some(Cow::Borrowed(s.trim())),
            other => Some(Cow::Owned(other.to_string())),
        }
    }
}

/// A feature of the national land data's medical institutions (国土数値情報 医療機関, P04):
/// `P04_001` kind (1 hospital, 2 clinic, 3 dental clinic), `P04_002` name, `P04_008` beds.
/// P04 has no institution number, so the id is `P04-<feature number>` (or an `id` property
/// when the file has one). No flags: P04 does not say who visits homes.
struct P04Feature<'a> {
    properties: &'a serde_json::Map<String, serde_json::Value>,
    feature: usize,
}

impl RowFields for P04Feature<'_> {
    fn get(&self, column: &str) -> Option<Cow<'_, str>> {
        let p = self.properties;
        match column {
            "id" => Some(RowFields::get(p, "id").unwrap_or_else(|| Cow::Owned(format!("P04-{}", self.feature)))),
            "name" => RowFields::get(p, "P04_002"),
            "beds" => RowFields::get(p, "P04_008"),
            "kind" => Some(match RowFields::get(p, "P04_001").as_deref().map(str::trim) {
                Some("1") => Cow::Borrowed("hospital"),
                Some("2") => Cow::Borrowed("clinic"),
                Some("3") => Cow::Borrowed("dental_clinic"),
                Some(other) => Cow::Owned(format!("P04_001={other}")),
                None => Cow::Borrowed("P04_001 missing"),
            }),
            _ => None,
        }
    }
}

const REQUIRED: [&str; 5] = ["id", "name", "kind", "lat", "lon"];

fn read_csv(source: &Source, text: &str, seen: &mut Ids) -> Result<InstitutionsRead> {
    let table = CsvTable::open(&source.name, text)?;
    for column in REQUIRED {
        table.require(column, "id, name, kind, lat, lon")?;
    }
    let columns: FxHashMap<String, usize> = table.headers.iter().enumerate().map(|(i, h)| (h.clone(), i)).collect();
    let mut out = InstitutionsRead::default();
    // Room for every row at once: grown by doubling, the national file's 309,195 rows and
    // their ids were copied again at each step into memory the system had to clear first.
    out.institutions.reserve(table.records_at_most());
    seen.reserve(table.records_at_most());
    let mut rejects = Vec::new();
    let rows_read = table.for_each(&mut rejects, |location, record| {
        let row = CsvRow {
            columns: &columns,
            record,
        };
        accept(parse_row(&row, None), &source.name, location, seen, &mut out);
    });
    out.rows_read = rows_read;
    out.rejects.extend(rejects);
    out.rejects.sort_by(|a, b| a.location.cmp(&b.location));
    Ok(out)
}

fn read_geojson(source: &Source, text: &str, seen: &mut Ids) -> Result<InstitutionsRead> {
    let fc = crate::inputs::municipalities::parse_feature_collection(source, text)?;
    let mut out = InstitutionsRead::default();
    for (i, feature) in fc.features.into_iter().enumerate() {
        out.rows_read += 1;
        let properties = feature.properties.unwrap_or_default();
        let id = RowFields::get(&properties, "id").map(Cow::into_owned);
        let location = Location::Feature(i + 1, id);
        let point = match feature.geometry.map(|g| g.value) {
            Some(geojson::GeometryValue::Point { coordinates: p }) if p.len() >= 2 => Some((p[0], p[1])),
            Some(other) => {
                out.rejects.push(Reject::new(
                    &source.name,
                    location,
                    format!("geometry is a {}, not a Point", other.type_name()),
                ));
                continue;
            }
            None => None,
        };
        let row = if properties.contains_key("P04_001") {
            parse_row(
                &P04Feature {
                    properties: &properties,
                    feature: i + 1,
                },
                point,
            )
        } else {
            parse_row(&properties, point)
        };
        accept(row, &source.name, location, seen, &mut out);
    }
    Ok(out)
}

pub(crate) fn accept(
    row: std::result::Result<Institution, String>,
    file: &str,
    location: Location,
    seen: &mut Ids,
    out: &mut InstitutionsRead,
) {
    match row {
        Ok(inst) if !seen.insert(inst.id.clone()) => out.rejects.push(Reject::new(
            file,
            location,
            format!("duplicate id '{}' (the first one is kept)", inst.id),
        )),
        Ok(inst) => out.institutions.push(inst),
        Err(reason) => out.rejects.push(Reject::new(file, location, reason)),
    }
}

/// Parses one row. `point` is the (lon, lat) of a GeoJSON geometry, which takes the place
/// of the `lat`/`lon` columns.
fn parse_row(f: &impl RowFields, point: Option<(f64, f64)>) -> std::result::Result<Institution, String> {
    let id = f.get("id").filter(|s| !s.is_empty()).ok_or("id is empty")?.into_owned();
    let name = f.get("name").map(Cow::into_owned).unwrap_or_default();
    let kind_text = f.get("kind").unwrap_or_default();
    let kind = Kind::parse(&kind_text).ok_or_else(|| {
        format!(
            "unknown kind '{kind_text}' (expected one of {}, or the Japanese name)",
            Kind::ALL.map(Kind::as_str).join(", ")
        )
    })?;
    let (lon, lat) = match point {
        Some(p) => p,
        None => (
            number(f, "lon")?.ok_or("lon is empty")?,
            number(f, "lat")?.ok_or("lat is empty")?,
        ),
    };
    check_coordinates(lat, lon)?;
    let beds = non_negative(f, "beds")?;
    let capacity = non_negative(f, "capacity")?;
    let mut flags = Flags::default();
    for flag in Flag::ALL {
        if let Some(text) = f.get(flag.as_str()) {
            let on = parse_flag(&text).ok_or_else(|| {
                format!(
                    "{}: '{text}' is not a flag value (use 1/0, true/false, yes/no or ○/blank)",
                    flag.as_str()
                )
            })?;
            flags.set(flag, on);
        }
    }
    Ok(Institution {
        id,
        name,
        kind,
        lat,
        lon,
        beds,
        capacity,
        flags,
        support_type: None,
    })
}

/// Checks a coordinate pair against Japan's extent, naming a likely swap.
pub fn check_coordinates(lat: f64, lon: f64) -> std::result::Result<(), String> {
    let lat_ok = (20.0..=46.0).contains(&lat);
    let lon_ok = (122.0..=154.0).contains(&lon);
    if lat_ok && lon_ok {
        return Ok(());
    }
    if (122.0..=154.0).contains(&lat) && (20.0..=46.0).contains(&lon) {
        return Err(format!("lat {lat} and lon {lon} look swapped"));
    }
    Err(format!(
        "coordinates lat {lat}, lon {lon} are outside Japan (lat 20-46, lon 122-154)"
    ))
}

fn number(f: &impl RowFields, column: &str) -> std::result::Result<Option<f64>, String> {
    match f.get(column) {
        None => Ok(None),
        Some(s) if s.is_empty() => Ok(None),
        Some(s) => match s.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(Some(v)),
            _ => Err(format!("{column} '{s}' is not a number")),
        },
    }
}

fn non_negative(f: &impl RowFields, column: &str) -> std::result::Result<Option<f64>, String> {
    match number(f, column)? {
        Some(v) if v < 0.0 => Err(format!("{column} {v} is negative")),
        other => Ok(other),
    }
}

/// Reads a flag value: 1/0, true/false, yes/no, ○ (and its look-alikes) or blank.
pub fn parse_flag(text: &str) -> Option<bool> {
    const ON: [&str; 8] = ["1", "true", "yes", "y", "○", "◯", "〇", "●"];
    const OFF: [&str; 7] = ["0", "false", "no", "n", "", "-", "×"];
    let text = text.trim();
    // Letters in either case (no lower-cased copy per field: a national file has millions).
    let is = |words: &[&str]| words.iter().any(|w| text.eq_ignore_ascii_case(w));
    if is(&ON) {
        Some(true)
    } else if is(&OFF) {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_read_in_either_case_and_as_marks() {
        for on in ["1", "true", "TRUE", " Yes ", "y", "Y", "○", "◯", "〇", "●"] {
            assert_eq!(parse_flag(on), Some(true), "{on:?}");
        }
        for off in ["0", "False", "NO", "n", "", "  ", "-", "×"] {
            assert_eq!(parse_flag(off), Some(false), "{off:?}");
        }
        // Full-width letters and other words are not flags.
        for bad in ["Ｙ", "ｙｅｓ", "2", "on", "x", "yes please"] {
            assert_eq!(parse_flag(bad), None, "{bad:?}");
        }
    }

    fn read(text: &str) -> InstitutionsRead {
        read_institutions(&Source::new("inst.csv", text.as_bytes()), &mut Ids::default()).unwrap()
    }

    #[test]
    fn cp932_with_extension_kanji() {
        // 髙 (0xFB 0xFC) and 﨑 (0xFA 0xB1) are IBM extension characters of CP932, common in
        // names; Shift_JIS proper lacks them.
        let text = "id,name,kind,lat,lon\nC1,髙﨑医院,診療所,36.6,138.2\n";
        let (bytes, _, unmappable) = encoding_rs::SHIFT_JIS.encode(text);
        assert!(!unmappable);
        assert!(bytes.windows(2).any(|w| w == [0xFB, 0xFC]));
        let r = read_institutions(&Source::new("cp932.csv", bytes.into_owned()), &mut Ids::default()).unwrap();
        assert_eq!(r.institutions[0].name, "髙﨑医院");
        assert_eq!(r.institutions[0].kind, Kind::Clinic);
        assert_eq!(r.encoding, Some(TextEncoding::Cp932));
    }

    #[test]
    fn reads_the_national_land_data_p04_layout() {
        // fixtures/p04: five features in the P04 layout (P04_001 kind code, P04_002 name,
        // P04_008 beds as text, as the national files have them).
        let text = include_str!("../../fixtures/p04/p04_nagano_sample.geojson");
        let r = read_institutions(&Source::new("p04.geojson", text.as_bytes()), &mut Ids::default()).unwrap();
        let got: Vec<(&str, &str, Kind, Option<f64>)> = r
            .institutions
            .iter()
            .map(|i| (i.id.as_str(), i.name.as_str(), i.kind, i.beds))
            .collect();
        assert_eq!(
            got,
            vec![
                ("P04-1", "長野赤十字病院", Kind::Hospital, Some(680.0)),
                ("P04-2", "髙﨑内科クリニック", Kind::Clinic, Some(0.0)),
                ("P04-3", "みどり歯科医院", Kind::DentalClinic, None),
                ("P04-4", "上田病院", Kind::Hospital, Some(199.0)),
            ]
        );
        assert_eq!((r.rows_read, r.rejects.len()), (5, 1));
        assert!(r.rejects[0].reason.starts_with("unknown kind 'P04_001=9'"));
        assert_eq!(r.rejects[0].location, Location::Feature(5, None));
    }

    #[test]
    fn reads_rows_and_rejects_bad_ones_with_reasons() {
        let r = read(
            "id,name,kind,lat,lon,beds,home_visits,on_call_24h\n\
             C1,Clinic A,clinic,36.6,138.2,,1,○\n\
             C2,Clinic B,診療所,36.7,138.3,19,yes,\n\
             C3,Swapped,clinic,138.3,36.7,,0,0\n\
             C4,Far,clinic,10.0,138.3,,0,0\n\
             C5,Odd,spaceport,36.7,138.3,,0,0\n\
             C1,Again,clinic,36.7,138.3,,0,0\n\
             C6,Text,clinic,north,138.3,,0,0\n\
             C7,Flag,clinic,36.7,138.3,,maybe,0\n\
             C8,Beds,hospital,36.7,138.3,-5,0,0\n",
        );
        assert_eq!(r.rows_read, 9);
        assert_eq!(r.institutions.len(), 2);
        let c1 = &r.institutions[0];
        assert!(c1.flags.contains(Flag::HomeVisits) && c1.flags.contains(Flag::OnCall24h));
        assert_eq!(r.institutions[1].kind, Kind::Clinic);
        assert_eq!(r.institutions[1].beds, Some(19.0));
        let reasons: Vec<(String, &str)> = r
            .rejects
            .iter()
            .map(|x| (x.location.to_string(), x.reason.as_str()))
            .collect();
        assert_eq!(reasons[0], ("line 4".into(), "lat 138.3 and lon 36.7 look swapped"));
        assert!(reasons[1].1.contains("outside Japan"));
        assert!(reasons[2].1.starts_with("unknown kind 'spaceport'"));
        assert_eq!(
            reasons[3],
            ("line 7".into(), "duplicate id 'C1' (the first one is kept)")
        );
        assert_eq!(reasons[4].1, "lat 'north' is not a number");
        assert!(reasons[5].1.starts_with("home_visits: 'maybe'"));
        assert_eq!(reasons[6].1, "beds -5 is negative");
    }

    #[test]
    fn missing_required_column_is_a_file_error() {
        let err = read_institutions(
            &Source::new("inst.csv", "id,name,kind,lat\nA,a,clinic,36\n".as_bytes()),
            &mut Ids::default(),
        )
        .unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err
            .to_string()
            .starts_with("inst.csv: line 1: required column 'lon' is missing"));
    }

    #[test]
    fn no_usable_row_is_a_file_error() {
        let err = read_institutions(
            &Source::new("inst.csv", "id,name,kind,lat,lon\nA,a,clinic,0,0\n".as_bytes()),
            &mut Ids::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("no usable institution among 1 rows"), "{err}");
    }

    #[test]
    fn reads_geojson_points() {
        let text = r#"{"type":"FeatureCollection","features":[
            {"type":"Feature","geometry":{"type":"Point","coordinates":[138.2,36.6]},
             "properties":{"id":"N1","name":"ns","kind":"訪問看護ステーション","on_call_24h":1}},
            {"type":"Feature","geometry":{"type":"LineString","coordinates":[[138.2,36.6],[138.3,36.6]]},
             "properties":{"id":"N2","name":"x","kind":"clinic"}}]}"#;
        let r = read_institutions(&Source::new("i.geojson", text.as_bytes()), &mut Ids::default()).unwrap();
        assert_eq!(r.institutions.len(), 1);
        assert_eq!(r.institutions[0].kind, Kind::VisitingNurse);
        assert!(r.institutions[0].flags.contains(Flag::OnCall24h));
        assert_eq!((r.institutions[0].lon, r.institutions[0].lat), (138.2, 36.6));
        assert_eq!(r.rejects[0].location.to_string(), "feature 2 (x)".replace("x", "N2"));
    }
}
