//! Municipal polygons in the national land data N03 layout (国土数値情報 行政区域).
//!
//! N03 has one feature per polygon part (the 2025 national file: 124,094 features for about
//! 1,900 codes), so features are dissolved by code into one MultiPolygon per municipality;
//! islands stay parts of their municipality. Invalid rings are repaired with geo's
//! `MakeValid`, and a ring that cannot be repaired stops the run with the feature named.

use crate::error::{Error, Location, Reject, Result};
use crate::inputs::coords;
use crate::inputs::source::{decode_text, Source};
use crate::sets::DisjointSets;
use geo::sweep::{Cross, Intersections};
use geo::{
    unary_union, Area, BoundingRect, Coord, GeodesicArea, Intersects, LineString, MakeValid, MultiPolygon, Orient,
    Polygon, Rect, Validation,
};
use geo::{Contains, Line, LineIntersection};
use rayon::prelude::*;
use std::collections::BTreeMap;

/// Which properties hold the code, prefecture and name.
#[derive(Debug, Clone)]
pub struct MunicipalityKeys {
    pub code: String,
    pub prefecture: String,
    pub name: String,
    /// Appended to the name when present: the ward of a designated city (N03_005, 2024-).
    pub name_suffix: String,
    /// The county or designated city (N03_003): before 2024 a designated city's ward has
    /// the city here and the ward in N03_004.
    pub city: String,
    /// Analyse each designated city (政令指定都市) as one unit: its wards dissolve into the
    /// city's code and name.
    pub whole_designated_cities: bool,
}

/// The 20 designated cities (政令指定都市) and their codes (全国地方公共団体コード, 総務省), by
/// prefecture code and name: wards carry their own codes, the city's code is in no N03
/// feature.
pub const DESIGNATED_CITIES: [(&str, &str, &str); 20] = [
    ("01", "札幌市", "01100"),
    ("04", "仙台市", "04100"),
    ("11", "さいたま市", "11100"),
    ("12", "千葉市", "12100"),
    ("14", "横浜市", "14100"),
    ("14", "川崎市", "14130"),
    ("14", "相模原市", "14150"),
    ("15", "新潟市", "15100"),
    ("22", "静岡市", "22100"),
    ("22", "浜松市", "22130"),
    ("23", "名古屋市", "23100"),
    ("26", "京都市", "26100"),
    ("27", "大阪市", "27100"),
    ("27", "堺市", "27140"),
    ("28", "神戸市", "28100"),
    ("33", "岡山市", "33100"),
    ("34", "広島市", "34100"),
    ("40", "北九州市", "40100"),
    ("40", "福岡市", "40130"),
    ("43", "熊本市", "43100"),
];

impl Default for MunicipalityKeys {
    fn default() -> Self {
        MunicipalityKeys {
            code: "N03_007".into(),
            prefecture: "N03_001".into(),
            name: "N03_004".into(),
            name_suffix: "N03_005".into(),
            city: "N03_003".into(),
            whole_designated_cities: false,
        }
    }
}

/// One municipality, its parts dissolved.
#[derive(Debug, Clone)]
pub struct Municipality {
    /// 5-digit municipality code (全国地方公共団体コード).
    pub code: String,
    pub name: String,
    pub prefecture: String,
    /// Dissolved parts, exterior rings counter-clockwise (RFC 7946).
    pub geometry: MultiPolygon<f64>,
    pub bbox: Rect<f64>,
}

impl Municipality {
    /// A municipality of the given outline, coded by its number (`00007`), without a name
    /// or prefecture: for tests that need shapes only.
    #[cfg(test)]
    pub(crate) fn numbered(i: usize, geometry: MultiPolygon<f64>) -> Municipality {
        let bbox = geometry.bounding_rect().expect("a test outline has points");
        Municipality {
            code: format!("{i:05}"),
            name: String::new(),
            prefecture: String::new(),
            geometry,
            bbox,
        }
    }

    /// Geodesic area on WGS84, km².
    pub fn area_km2(&self) -> f64 {
        self.geometry.geodesic_area_unsigned() / 1e6
    }
}

/// What a municipalities file gave.
#[derive(Debug, Default)]
pub struct MunicipalitiesRead {
    /// Sorted by code.
    pub municipalities: Vec<Municipality>,
    pub features_read: usize,
    /// Features that were invalid and repaired, by location.
    pub repaired: Vec<String>,
    pub rejects: Vec<Reject>,
}

/// Parses a GeoJSON FeatureCollection, with a file-level error for anything else.
pub(crate) fn parse_feature_collection(source: &Source, text: &str) -> Result<geojson::FeatureCollection> {
    let value: geojson::GeoJson = serde_json::from_str(text).map_err(|e| {
        let problem = if e.is_syntax() || e.is_eof() {
            format!("not valid JSON: {e}")
        } else {
            format!("not GeoJSON: {e}")
        };
        Error::input(&source.name, Location::Line(e.line() as u64), problem)
    })?;
    match value {
        geojson::GeoJson::FeatureCollection(fc) => Ok(fc),
        geojson::GeoJson::Feature(_) => Err(Error::input(
            &source.name,
            Location::File,
            "a single GeoJSON Feature, not a FeatureCollection",
        )),
        geojson::GeoJson::Geometry(_) => Err(Error::input(
            &source.name,
            Location::File,
            "a bare GeoJSON geometry, not a FeatureCollection",
        )),
    }
}

/// One feature, read and checked.
enum FeatureRead {
    Accepted {
        code: String,
        name: String,
        prefecture: String,
        parts: Vec<Polygon<f64>>,
        repaired: Option<String>,
    },
    Rejected(Reject),
}

/// Reads and dissolves municipalities. Features are checked in parallel; the first
/// file-level problem in feature order stops the read.
pub fn read_municipalities(source: &Source, keys: &MunicipalityKeys) -> Result<MunicipalitiesRead> {
    let (text, _) = decode_text(source)?;
    // Straight into coordinates when the file is plain N03 polygons (the usual case); any
    // surprise is read again through geojson's values, which name the problem. The pieces
    // are small (32 a thread): the tables are read side by side with this, and a thread
    // done with them early takes pieces from the rest; with 4 a thread it waited a tenth
    // of a second on the national file's last piece.
    let plain = parse_plain_in_pieces(&text, 32 * rayon::current_num_threads())
        .map_or_else(|| serde_json::from_str::<PlainCollection>(&text), Ok);
    let read: Vec<Result<FeatureRead>> = match plain {
        Ok(fc) if fc.kind == "FeatureCollection" => {
            drop(text);
            fc.features
                .into_par_iter()
                .with_max_len(16)
                .enumerate()
                .map(|(i, f)| {
                    let shape = match f.geometry {
                        Some(PlainGeometry::Polygon(rings)) => Shape::Parts(vec![plain_polygon(rings)]),
                        Some(PlainGeometry::MultiPolygon(polys)) => {
                            Shape::Parts(polys.into_iter().map(plain_polygon).collect())
                        }
                        None => Shape::Missing,
                    };
                    read_feature(source, keys, i, &f.properties.unwrap_or_default(), shape)
                })
                .collect()
        }
        _ => {
            let fc = parse_feature_collection(source, &text)?;
            drop(text);
            fc.features
                .into_par_iter()
                .enumerate()
                .map(|(i, feature)| {
                    let shape = match feature.geometry.map(|g| g.value) {
                        Some(geojson::GeometryValue::Polygon { coordinates: rings }) => {
                            Shape::Parts(vec![polygon(&rings)])
                        }
                        Some(geojson::GeometryValue::MultiPolygon { coordinates: polys }) => {
                            Shape::Parts(polys.iter().map(|p| polygon(p)).collect())
                        }
                        Some(other) => Shape::Other(other.type_name()),
                        None => Shape::Missing,
                    };
                    read_feature(source, keys, i, &feature.properties.unwrap_or_default(), shape)
                })
                .collect()
        }
    };
    let features_read = read.len();
    let mut out = MunicipalitiesRead {
        features_read,
        ..Default::default()
    };
    // code -> (name, prefecture, parts)
    let mut groups: BTreeMap<String, (String, String, Vec<Polygon<f64>>)> = BTreeMap::new();
    for r in read {
        match r? {
            FeatureRead::Rejected(reject) => out.rejects.push(reject),
            FeatureRead::Accepted {
                code,
                name,
                prefecture,
                parts,
                repaired,
            } => {
                out.repaired.extend(repaired);
                groups
                    .entry(code)
                    .or_insert_with(|| (name, prefecture, Vec::new()))
                    .2
                    .extend(parts);
            }
        }
    }
    out.municipalities = groups
        .into_iter()
        .collect::<Vec<_>>()
        .into_par_iter()
        .with_max_len(4)
        .map(|(code, (name, prefecture, parts))| {
            let geometry = dissolve(parts).orient(geo::orient::Direction::Default);
            let bbox = geometry
                .bounding_rect()
                .unwrap_or(Rect::new(Coord::zero(), Coord::zero()));
            Municipality {
                code,
                name,
                prefecture,
                geometry,
                bbox,
            }
        })
        .collect();
    if out.municipalities.is_empty() {
        return Err(Error::no_usable_row(
            &source.name,
            "municipality",
            out.features_read,
            &out.rejects,
        ));
    }
    Ok(out)
}

/// A feature's geometry as read: its polygons (each read or with its problem), another
/// type, or none.
enum Shape {
    Parts(Vec<std::result::Result<Polygon<f64>, String>>),
    Other(&'static str),
    Missing,
}

/// A plain FeatureCollection's features parsed in `pieces` pieces side by side; `None`
/// when the text does not split cleanly (the caller then parses it whole, which also names
/// any problem). Each piece starts after a `}`, `,` and `{`, where a feature may start, and
/// reads features one after another; a piece is only taken if the piece before it, read
/// from a true start, arrives exactly at its start. So every start is a true one and the
/// features are those the whole parse gives, in its order. The rest of the document, the
/// features array left empty, is parsed as a collection too: what surrounds the array is
/// checked as a whole parse would check it.
fn parse_plain_in_pieces(text: &str, pieces: usize) -> Option<PlainCollection> {
    let bytes = text.as_bytes();
    let skip_ws = |mut i: usize| {
        while bytes.get(i).is_some_and(|b| b.is_ascii_whitespace()) {
            i += 1;
        }
        i
    };
    let colon = top_level_member(bytes, b"\"features\"")?;
    let open = skip_ws(colon + 1);
    (bytes.get(open) == Some(&b'[')).then_some(())?;
    let first = skip_ws(open + 1);
    (bytes.get(first) == Some(&b'{')).then_some(())?;
    // Candidate starts, in order, past evenly spaced points of the text.
    let span = bytes.len() - first;
    let mut starts = vec![first];
    for k in 1..pieces.max(1) {
        let from = first + span * k / pieces;
        let at = (from..bytes.len().saturating_sub(2)).find(|&i| {
            bytes.get(i) == Some(&b'}') && {
                let comma = skip_ws(i + 1);
                bytes.get(comma) == Some(&b',') && bytes.get(skip_ws(comma + 1)) == Some(&b'{')
            }
        });
        if let Some(at) = at {
            let start = skip_ws(skip_ws(at + 1) + 1);
            if start > *starts.last()? {
                starts.push(start);
            }
        }
    }
    // Each piece: its features, and where it stopped (the next start, or the array's `]`).
    let read_piece = |k: usize| -> Option<(Vec<PlainFeature>, usize, bool)> {
        let limit = starts.get(k + 1).copied();
        let mut at = *starts.get(k)?;
        let mut features = Vec::new();
        loop {
            let (feature, end) = match plain_feature(text, at) {
                Some(read) => read,
                None => {
                    let mut stream = serde_json::Deserializer::from_str(text.get(at..)?).into_iter::<PlainFeature>();
                    let feature = stream.next()?.ok()?;
                    (feature, at + stream.byte_offset())
                }
            };
            features.push(feature);
            let after = skip_ws(end);
            match bytes.get(after) {
                Some(b',') => at = skip_ws(after + 1),
                Some(b']') => return Some((features, after, true)),
                _ => return None,
            }
            if limit.is_some_and(|l| at >= l) {
                return Some((features, at, false));
            }
        }
    };
    let read: Vec<Option<(Vec<PlainFeature>, usize, bool)>> = (0..starts.len())
        .into_par_iter()
        .with_max_len(1)
        .map(read_piece)
        .collect();
    let mut features = Vec::new();
    let mut close = None;
    for (k, piece) in read.into_iter().enumerate() {
        let (mut part, end, closed) = piece?;
        let last = k + 1 == starts.len();
        // The last piece closes the array; every other one ends exactly where the next starts.
        match (last, closed) {
            (true, true) => close = Some(end),
            (false, false) if starts.get(k + 1) == Some(&end) => {}
            _ => return None,
        }
        features.append(&mut part);
    }
    let close = close?;
    let mut rest = String::with_capacity(open + 1 + bytes.len() - close);
    rest.push_str(text.get(..=open)?);
    rest.push_str(text.get(close..)?);
    let mut collection: PlainCollection = serde_json::from_str(&rest).ok()?;
    if !collection.features.is_empty() {
        return None;
    }
    collection.features = features;
    Some(collection)
}

/// One feature read from byte `at` (its `{`) and the byte after it, as serde_json reads a
/// [`PlainFeature`] there, but with the geometry's coordinates read by [`coords::Scan`]
/// (not scanned once for their extent and again for their numbers). Members in any order;
/// `properties` and members other than the three read by serde_json. `None` for whatever
/// this reading leaves to serde_json: a key or type written with escapes, a member given
/// twice, one missing, a geometry's member other than `type` and `coordinates` or its
/// coordinates before its type, a number the scanner leaves (see [`coords`]), and
/// everything that is not JSON.
fn plain_feature(text: &str, at: usize) -> Option<(PlainFeature, usize)> {
    fn serde_value<T: serde::de::DeserializeOwned>(text: &str, at: usize) -> Option<(T, usize)> {
        let mut stream = serde_json::Deserializer::from_str(text.get(at..)?).into_iter::<T>();
        let value = stream.next()?.ok()?;
        Some((value, at + stream.byte_offset()))
    }
    let mut scan = coords::Scan::at(text, at);
    let (mut kind, mut properties, mut geometry) = (false, None, None);
    if !scan.next_is(b'{') {
        return None;
    }
    loop {
        let key = scan.plain_string()?;
        if !scan.next_is(b':') {
            return None;
        }
        match key {
            b"type" if !kind => {
                (scan.plain_string()? == b"Feature").then_some(())?;
                kind = true;
            }
            b"properties" if properties.is_none() => {
                let (value, end) =
                    serde_value::<Option<serde_json::Map<String, serde_json::Value>>>(text, scan.offset())?;
                properties = Some(value);
                scan = coords::Scan::at(text, end);
            }
            b"geometry" if geometry.is_none() => {
                geometry = Some(if scan.null() {
                    None
                } else {
                    Some(plain_geometry(&mut scan)?)
                });
            }
            b"type" | b"properties" | b"geometry" => return None,
            _ => {
                let (_, end) = serde_value::<serde::de::IgnoredAny>(text, scan.offset())?;
                scan = coords::Scan::at(text, end);
            }
        }
        if scan.next_is(b'}') {
            break;
        }
        if !scan.next_is(b',') {
            return None;
        }
    }
    kind.then_some(())?;
    let feature = PlainFeature {
        _kind: FeatureTag::Feature,
        properties: properties?,
        geometry: geometry?,
    };
    Some((feature, scan.offset()))
}

/// A geometry object, its `type` before its `coordinates` (as files are written).
fn plain_geometry(scan: &mut coords::Scan) -> Option<PlainGeometry> {
    if !scan.next_is(b'{') || scan.plain_string()? != b"type" || !scan.next_is(b':') {
        return None;
    }
    let multi = match scan.plain_string()? {
        b"Polygon" => false,
        b"MultiPolygon" => true,
        _ => return None,
    };
    if !scan.next_is(b',') || scan.plain_string()? != b"coordinates" || !scan.next_is(b':') {
        return None;
    }
    let geometry = if multi {
        PlainGeometry::MultiPolygon(scan.polygons()?)
    } else {
        PlainGeometry::Polygon(scan.rings()?)
    };
    scan.next_is(b'}').then_some(geometry)
}

/// The position of the `:` after the member `key` (quoted) of the document's top-level
/// object: the first place `key` stands outside every string, one level deep, followed by
/// a colon.
fn top_level_member(bytes: &[u8], key: &[u8]) -> Option<usize> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
        } else {
            match b {
                b'"' if depth == 1 && bytes.get(i..i + key.len()) == Some(key) => {
                    let mut colon = i + key.len();
                    while bytes.get(colon).is_some_and(|c| c.is_ascii_whitespace()) {
                        colon += 1;
                    }
                    if bytes.get(colon) == Some(&b':') {
                        return Some(colon);
                    }
                    in_string = true;
                }
                b'"' => in_string = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' => depth = depth.checked_sub(1)?,
                _ => {}
            }
        }
        i += 1;
    }
    None
}

/// A FeatureCollection of polygons, read straight into coordinates.
#[derive(serde::Deserialize)]
struct PlainCollection {
    #[serde(rename = "type")]
    kind: String,
    features: Vec<PlainFeature>,
}

#[derive(serde::Deserialize)]
struct PlainFeature {
    #[serde(rename = "type")]
    _kind: FeatureTag,
    #[serde(deserialize_with = "nullable")]
    properties: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(deserialize_with = "nullable")]
    geometry: Option<PlainGeometry>,
}

#[derive(serde::Deserialize)]
enum FeatureTag {
    Feature,
}

/// A member that must be present and may be null.
fn nullable<'de, D: serde::Deserializer<'de>, T: serde::Deserialize<'de>>(
    d: D,
) -> std::result::Result<Option<T>, D::Error> {
    <Option<T> as serde::Deserialize>::deserialize(d)
}

/// A Polygon or MultiPolygon's rings.
enum PlainGeometry {
    Polygon(Vec<Vec<Coord<f64>>>),
    MultiPolygon(Vec<Vec<Vec<Coord<f64>>>>),
}

/// A geometry as it stands in the text: its type, and its coordinates not yet read.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGeometry<'a> {
    #[serde(rename = "type")]
    kind: GeometryTag,
    #[serde(borrow)]
    coordinates: &'a serde_json::value::RawValue,
}

#[derive(serde::Deserialize)]
enum GeometryTag {
    Polygon,
    MultiPolygon,
}

impl<'de> serde::Deserialize<'de> for PlainGeometry {
    /// The coordinates through [`coords`]'s scanner, or where it leaves them (a form it does
    /// not take) through serde_json's positions, which read them or name the problem.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let raw = RawGeometry::deserialize(d)?;
        let text = raw.coordinates.get();
        let unwrap = |rings: Vec<Vec<PlainPosition>>| -> Vec<Vec<Coord<f64>>> {
            rings
                .into_iter()
                .map(|r| r.into_iter().map(|p| p.0).collect())
                .collect()
        };
        Ok(match raw.kind {
            GeometryTag::Polygon => PlainGeometry::Polygon(match coords::polygon(text) {
                Some(rings) => rings,
                None => unwrap(serde_json::from_str(text).map_err(serde::de::Error::custom)?),
            }),
            GeometryTag::MultiPolygon => PlainGeometry::MultiPolygon(match coords::multi_polygon(text) {
                Some(polygons) => polygons,
                None => serde_json::from_str::<Vec<Vec<Vec<PlainPosition>>>>(text)
                    .map_err(serde::de::Error::custom)?
                    .into_iter()
                    .map(unwrap)
                    .collect(),
            }),
        })
    }
}

/// A position of two or three numbers (the third, a height, is not used).
struct PlainPosition(Coord<f64>);

impl<'de> serde::Deserialize<'de> for PlainPosition {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = PlainPosition;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a position of two or three numbers")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<PlainPosition, A::Error> {
                let short = || serde::de::Error::custom("a position of fewer than two numbers");
                let x: f64 = seq.next_element()?.ok_or_else(short)?;
                let y: f64 = seq.next_element()?.ok_or_else(short)?;
                if seq.next_element::<f64>()?.is_some() && seq.next_element::<serde::de::IgnoredAny>()?.is_some() {
                    return Err(serde::de::Error::custom("a position of more than three numbers"));
                }
                Ok(PlainPosition(Coord { x, y }))
            }
        }
        d.deserialize_seq(Visit)
    }
}

fn plain_polygon(rings: Vec<Vec<Coord<f64>>>) -> std::result::Result<Polygon<f64>, String> {
    let mut it = rings.into_iter().map(ring_of);
    let exterior = it.next().ok_or("a polygon has no ring")??;
    let interiors = it.collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(Polygon::new(exterior, interiors))
}

fn read_feature(
    source: &Source,
    keys: &MunicipalityKeys,
    i: usize,
    props: &serde_json::Map<String, serde_json::Value>,
    shape: Shape,
) -> Result<FeatureRead> {
    let text_of = |key: &str| -> Option<String> {
        match props.get(key)? {
            serde_json::Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    let reject =
        |location: Location, reason: String| Ok(FeatureRead::Rejected(Reject::new(&source.name, location, reason)));
    let Some(code) = text_of(&keys.code) else {
        return reject(
            Location::Feature(i + 1, None),
            format!(
                "{} (municipality code) is null or empty: unassigned land is skipped",
                keys.code
            ),
        );
    };
    let location = Location::Feature(i + 1, Some(format!("{}={code}", keys.code)));
    let code = match normalise_code(&code) {
        Ok(c) => c,
        Err(problem) => return reject(location, problem),
    };
    let parts = match shape {
        Shape::Parts(parts) => parts,
        Shape::Other(type_name) => {
            return reject(
                location,
                format!("geometry is a {type_name}, not a Polygon or MultiPolygon"),
            )
        }
        Shape::Missing => return reject(location, "feature has no geometry".into()),
    };
    let parts: Vec<Polygon<f64>> = parts
        .into_iter()
        .collect::<std::result::Result<_, String>>()
        .map_err(|p| Error::input(&source.name, location.clone(), p))?;
    let mp = MultiPolygon::new(parts);
    let (mp, repaired) = if mp.0.iter().all(rings_are_simple) || mp.is_valid() {
        (mp, None)
    } else {
        let why = mp
            .validation_errors()
            .first()
            .map(|e| e.to_string())
            .unwrap_or_default();
        let repaired = mp.make_valid().map_err(|e| {
            Error::input(
                &source.name,
                location.clone(),
                format!("invalid ring ({why}) that cannot be repaired: {e}"),
            )
        })?;
        if repaired.0.is_empty() || repaired.unsigned_area() == 0.0 {
            return Err(Error::input(
                &source.name,
                location,
                format!("invalid ring ({why}) that cannot be repaired: nothing of it encloses an area"),
            ));
        }
        (repaired, Some(format!("{location}: {why}")))
    };
    // The city and ward of a designated city's ward, in either attribute generation:
    // since 2024 the city in N03_004 and the ward in N03_005; before, the city in N03_003
    // and the ward in N03_004.
    let (name, suffix, city) = (text_of(&keys.name), text_of(&keys.name_suffix), text_of(&keys.city));
    let ward_of = match (&name, &suffix, &city) {
        (Some(c), Some(w), _) if c.ends_with('市') && w.ends_with('区') => Some((c.clone(), w.clone())),
        (Some(w), None, Some(c)) if c.ends_with('市') && w.ends_with('区') => Some((c.clone(), w.clone())),
        _ => None,
    };
    let (code, name) = match (ward_of, keys.whole_designated_cities) {
        (Some((city, _)), true) => {
            let found = DESIGNATED_CITIES
                .iter()
                .find(|d| code.starts_with(d.0) && d.1 == city)
                .map(|d| d.2.to_string());
            match found {
                Some(city_code) => (city_code, city),
                None => {
                    return reject(
                        location,
                        format!(
                        "ward of '{city}', which is not one of the 20 designated cities; cannot join it to its city"
                    ),
                    )
                }
            }
        }
        (Some((city, ward)), false) => (code, format!("{city}{ward}")),
        (None, _) => (
            code,
            match (name, suffix) {
                (Some(a), Some(b)) => format!("{a}{b}"),
                (Some(a), None) => a,
                (None, Some(b)) => b,
                (None, None) => String::new(),
            },
        ),
    };
    Ok(FeatureRead::Accepted {
        code,
        name,
        prefecture: text_of(&keys.prefecture).unwrap_or_default(),
        parts: mp.0,
        repaired,
    })
}

/// Accepts 5-digit codes and 6-digit ones with a correct check digit (weights 6,5,4,3,2;
/// check = (11 - sum mod 11) mod 10).
#[cfg_attr(not(test), deny(clippy::indexing_slicing))]
pub fn normalise_code(code: &str) -> std::result::Result<String, String> {
    let code = code.trim();
    if !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("municipality code '{code}' is not all digits"));
    }
    match code.len() {
        5 => Ok(code.to_string()),
        6 => {
            let d: Vec<u32> = code.bytes().map(|b| u32::from(b - b'0')).collect();
            let sum: u32 = d.iter().zip([6, 5, 4, 3, 2]).map(|(a, w)| a * w).sum();
            let check = (11 - sum % 11) % 10;
            let (head, given) = (code.get(..5).unwrap_or(code), d.last().copied().unwrap_or(0));
            if check == given {
                Ok(head.to_string())
            } else {
                Err(format!(
                    "municipality code '{code}' has check digit {given} but should have {check}"
                ))
            }
        }
        n => Err(format!(
            "municipality code '{code}' has {n} digits; expected 5 (or 6 with check digit)"
        )),
    }
}

fn ring(positions: &[geojson::Position]) -> std::result::Result<LineString<f64>, String> {
    let mut coords = Vec::with_capacity(positions.len());
    for p in positions {
        if p.len() < 2 || !p[0].is_finite() || !p[1].is_finite() {
            return Err("a ring has a position that is not two finite numbers".into());
        }
        coords.push(Coord { x: p[0], y: p[1] });
    }
    ring_of(coords)
}

fn ring_of(coords: Vec<Coord<f64>>) -> std::result::Result<LineString<f64>, String> {
    if coords.len() < 4 {
        return Err(format!(
            "a ring has {} positions; a closed ring needs at least 4, so it cannot be repaired",
            coords.len()
        ));
    }
    Ok(LineString::new(coords))
}

fn polygon(rings: &[Vec<geojson::Position>]) -> std::result::Result<Polygon<f64>, String> {
    let mut it = rings.iter();
    let exterior = ring(it.next().ok_or("a polygon has no ring")?)?;
    let interiors = it.map(|r| ring(r)).collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(Polygon::new(exterior, interiors))
}

/// A segment of a polygon's ring, for the sweep.
#[derive(Clone)]
struct RingSegment {
    line: Line<f64>,
    /// The polygon the ring belongs to, where the segments of several are swept together.
    part: usize,
    ring: usize,
    index: usize,
    ring_len: usize,
}

/// The pairs of `segments` (as indexes) whose boxes meet and that intersect, with how, but
/// for those `known` passes over: the pairs geo's sweep (`Intersections`) reports, found by
/// sweeping the boxes along x and testing each pair whose x ranges overlap (a boundary ring
/// crosses any vertical line a few times only, so few pairs are open at once). `None` when
/// too many pairs would be tested (a pathological ring, for which geo's sweep is kept).
fn crossing_pairs(
    segments: &[RingSegment],
    known: impl Fn(&RingSegment, &RingSegment) -> bool,
) -> Option<Vec<(u32, u32, LineIntersection<f64>)>> {
    let n = segments.len();
    // Boxes (x min, x max, y min, y max) by segment; the sweep's order by x min (then index)
    // sorts small keys, not the boxes.
    let boxes: Vec<[f64; 4]> = segments
        .iter()
        .map(|s| {
            let (p, q) = (s.line.start, s.line.end);
            [p.x.min(q.x), p.x.max(q.x), p.y.min(q.y), p.y.max(q.y)]
        })
        .collect();
    let mut order: Vec<(f64, u32)> = boxes.iter().enumerate().map(|(i, b)| (b[0], i as u32)).collect();
    order.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut budget = 64 * n + 4096;
    let mut open: Vec<([f64; 4], u32)> = Vec::new();
    let mut hits = Vec::new();
    for &(_, i) in &order {
        let Some(&b) = boxes.get(i as usize) else { continue };
        open.retain(|o| o.0[1] >= b[0]);
        budget = budget.checked_sub(open.len())?;
        for &(c, j) in &open {
            if c[2] <= b[3] && b[2] <= c[3] {
                let (p, q) = (i.min(j), i.max(j));
                let (Some(sp), Some(sq)) = (segments.get(p as usize), segments.get(q as usize)) else {
                    continue;
                };
                if known(sp, sq) {
                    continue;
                }
                if let Some(hit) = geo::line_intersection::line_intersection(sp.line, sq.line) {
                    hits.push((p, q, hit));
                }
            }
        }
        open.push((b, i));
    }
    Some(hits)
}

/// A fast sufficient test of validity for large boundary files: no two segments of the
/// polygon's rings meet except consecutive ones at their shared vertex (a sweep, n log n),
/// and every hole starts inside the shell. `false` means "not shown valid": the caller then
/// runs geo's complete (quadratic) validation, which is only needed for the rare suspect.
fn rings_are_simple(polygon: &Polygon<f64>) -> bool {
    let Some(segments) = ring_segments(polygon) else {
        return false;
    };
    // Consecutive segments meet at their shared vertex only, as `simple_given` accepts,
    // unless the second folds back along the first: they need no test when they are not
    // collinear (`line_intersection` of two segments with a common end then gives that end,
    // improper) or when the second runs on ahead (a positive dot product: collinear points
    // differ in the same direction on each axis, so no rounding flips its sign, and the
    // intersection is the shared end, improper).
    let runs_on = |a: &RingSegment, b: &RingSegment| {
        use geo::kernels::{Kernel, Orientation, RobustKernel};
        if !consecutive(a, b) {
            return false;
        }
        let (first, second) = if (a.index + 1) % a.ring_len == b.index {
            (a, b)
        } else {
            (b, a)
        };
        let (p, q, r) = (first.line.start, first.line.end, second.line.end);
        (q.x - p.x) * (r.x - q.x) + (q.y - p.y) * (r.y - q.y) > 0.0
            || RobustKernel::orient2d(p, q, r) != Orientation::Collinear
    };
    let hits = crossing_pairs(&segments, runs_on).unwrap_or_else(|| swept_pairs(&segments, runs_on));
    simple_given(polygon, &segments, hits)
}

/// The box of some points (from infinite corners: an empty list gives a box with no
/// points in it).
pub(crate) fn box_of(points: impl IntoIterator<Item = Coord<f64>>) -> Rect<f64> {
    let mut lo = Coord {
        x: f64::INFINITY,
        y: f64::INFINITY,
    };
    let mut hi = Coord {
        x: f64::NEG_INFINITY,
        y: f64::NEG_INFINITY,
    };
    for c in points {
        lo = Coord {
            x: lo.x.min(c.x),
            y: lo.y.min(c.y),
        };
        hi = Coord {
            x: hi.x.max(c.x),
            y: hi.y.max(c.y),
        };
    }
    Rect::new(lo, hi)
}

/// The segments of a polygon's rings; `None` when a ring is open, has fewer than three
/// segments or a segment of no length.
fn ring_segments(polygon: &Polygon<f64>) -> Option<Vec<RingSegment>> {
    let rings = std::iter::once(polygon.exterior()).chain(polygon.interiors());
    let mut segments = Vec::with_capacity(rings.map(|r| r.0.len().saturating_sub(1)).sum());
    for (r, ring) in std::iter::once(polygon.exterior())
        .chain(polygon.interiors())
        .enumerate()
    {
        let n = ring.0.len().saturating_sub(1);
        if n < 3 || ring.0.first() != ring.0.last() {
            return None;
        }
        for (i, line) in ring.lines().enumerate() {
            if line.start == line.end {
                return None;
            }
            segments.push(RingSegment {
                line,
                part: 0,
                ring: r,
                index: i,
                ring_len: n,
            });
        }
    }
    Some(segments)
}

/// Whether two segments follow each other on their ring.
fn consecutive(a: &RingSegment, b: &RingSegment) -> bool {
    a.ring == b.ring && ((a.index + 1) % a.ring_len == b.index || (b.index + 1) % b.ring_len == a.index)
}

/// [`crossing_pairs`] by geo's sweep.
fn swept_pairs(
    segments: &[RingSegment],
    known: impl Fn(&RingSegment, &RingSegment) -> bool,
) -> Vec<(u32, u32, LineIntersection<f64>)> {
    let indexed = segments.iter().enumerate().map(|(k, s)| SweptSegment(s.line, k as u32));
    Intersections::from_iter(indexed)
        .map(|(a, b, hit)| (a.1.min(b.1), a.1.max(b.1), hit))
        .filter(
            |&(a, b, _)| match (segments.get(a as usize), segments.get(b as usize)) {
                (Some(a), Some(b)) => !known(a, b),
                _ => true,
            },
        )
        .collect()
}

/// A segment as geo's sweep takes it, with its index.
#[derive(Clone, Copy)]
struct SweptSegment(Line<f64>, u32);

impl Cross for SweptSegment {
    type Scalar = f64;
    fn line(&self) -> Line<f64> {
        self.0
    }
}

/// [`rings_are_simple`] given the polygon's segments and the pairs of them that meet.
fn simple_given(
    polygon: &Polygon<f64>,
    segments: &[RingSegment],
    hits: Vec<(u32, u32, LineIntersection<f64>)>,
) -> bool {
    // Two rings may touch at one point (OGC); more would cut the polygon's interior.
    let mut touches: Vec<(usize, usize, Coord<f64>)> = Vec::new();
    for (a, b, hit) in hits {
        let (Some(a), Some(b)) = (segments.get(a as usize), segments.get(b as usize)) else {
            return false;
        };
        // Consecutive segments meet at their shared vertex; on a straight stretch (densified
        // boundaries) the sweep reports that as a degenerate collinear overlap.
        let point = match hit {
            LineIntersection::SinglePoint {
                intersection,
                is_proper: false,
            } => Some(intersection),
            LineIntersection::Collinear { intersection } if intersection.start == intersection.end => {
                Some(intersection.start)
            }
            _ => None,
        };
        let Some(point) = point else { return false };
        if a.ring == b.ring {
            if !consecutive(a, b) {
                return false;
            }
        } else {
            let pair = (a.ring.min(b.ring), a.ring.max(b.ring));
            if touches.iter().any(|t| (t.0, t.1) == pair && t.2 != point) {
                return false;
            }
            touches.push((pair.0, pair.1, point));
        }
    }
    let shell = Polygon::new(polygon.exterior().clone(), vec![]);
    // A hole lies inside the shell when a vertex of it that is not on the shell is inside;
    // nested holes are left to the complete validation.
    let holes = polygon.interiors();
    let inside_shell = holes
        .iter()
        .all(|hole| hole.0.iter().take(3).any(|c| shell.contains(c)));
    let nested = holes.len() > 1
        && holes.iter().enumerate().any(|(i, h)| {
            let outer = Polygon::new(h.clone(), vec![]);
            holes
                .iter()
                .enumerate()
                .any(|(j, other)| i != j && other.0.iter().take(3).any(|c| outer.contains(c)))
        });
    inside_shell && !nested
}

/// Unions parts that touch or overlap; parts apart from all others (islands, exclaves) are
/// kept as they are, coordinates untouched, which keeps the dissolve of a large national
/// file cheap. Parts whose boxes meet are tested exactly: two parts meet when a segment of
/// one meets a segment of the other (the sweep of [`crossing_pairs`]) or, with no such
/// segments, when a vertex of one lies inside the other. Each set of parts that meet is
/// unioned on its own; the result holds the parts kept in their order, then the unions in
/// the order of their first part.
fn dissolve(parts: Vec<Polygon<f64>>) -> MultiPolygon<f64> {
    if parts.len() < 2 {
        return MultiPolygon::new(parts);
    }
    let boxes: Vec<Option<Rect<f64>>> = parts.iter().map(|p| p.bounding_rect()).collect();
    let mut near: Vec<(usize, usize)> = Vec::new();
    for (i, a) in boxes.iter().enumerate() {
        for (j, b) in boxes.iter().enumerate().skip(i + 1) {
            if let (Some(a), Some(b)) = (a, b) {
                if a.intersects(b) {
                    near.push((i, j));
                }
            }
        }
    }
    let mut set = DisjointSets::new(parts.len());
    if !near.is_empty() {
        join_meeting_parts(&parts, &boxes, &near, &mut set);
    }
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); parts.len()];
    for i in 0..parts.len() {
        if let Some(m) = members.get_mut(set.root(i)) {
            m.push(i);
        }
    }
    let mut slots: Vec<Option<Polygon<f64>>> = parts.into_iter().map(Some).collect();
    let mut result = Vec::with_capacity(slots.len());
    let mut unions = Vec::new();
    for group in members.iter().filter(|g| !g.is_empty()) {
        let mut taken: Vec<Polygon<f64>> = group
            .iter()
            .filter_map(|&i| slots.get_mut(i).and_then(Option::take))
            .collect();
        if taken.len() == 1 {
            result.extend(taken.pop());
        } else {
            unions.push(taken);
        }
    }
    // Sets come in the order of their smallest member, which names them.
    for group in unions {
        result.extend(unary_union(&group).0);
    }
    MultiPolygon::new(result)
}

/// Joins in `set` the parts of each pair in `near` (pairs whose boxes meet) that meet: share
/// a point of their boundaries, or one lies inside the other. A part whose rings the sweep
/// cannot take (an open ring, a segment of no length) is joined with every part near it.
fn join_meeting_parts(
    parts: &[Polygon<f64>],
    boxes: &[Option<Rect<f64>>],
    near: &[(usize, usize)],
    set: &mut DisjointSets,
) {
    // Where each part may meet the parts near it: its box cut by theirs.
    let mut windows: Vec<Vec<Rect<f64>>> = vec![Vec::new(); parts.len()];
    for &(i, j) in near {
        if let (Some(Some(a)), Some(Some(b))) = (boxes.get(i), boxes.get(j)) {
            let (lo, hi) = (a.min(), a.max());
            let (blo, bhi) = (b.min(), b.max());
            let w = Rect::new(
                Coord {
                    x: lo.x.max(blo.x),
                    y: lo.y.max(blo.y),
                },
                Coord {
                    x: hi.x.min(bhi.x),
                    y: hi.y.min(bhi.y),
                },
            );
            for k in [i, j] {
                if let Some(list) = windows.get_mut(k) {
                    list.push(w);
                }
            }
        }
    }
    // The segments of the involved parts in runs of consecutive segments whose box meets one
    // of their part's windows (a segment meets another part's only inside such a window),
    // with the part each belongs to.
    const RUN: usize = 16;
    let mut segments: Vec<RingSegment> = Vec::new();
    for ((k, part), windows) in parts.iter().enumerate().zip(&windows) {
        if windows.is_empty() {
            continue;
        }
        match ring_segments(part) {
            Some(own) => {
                for run in own.chunks(RUN) {
                    let run_box = box_of(run.iter().flat_map(|s| [s.line.start, s.line.end]));
                    if windows.iter().any(|w| run_box.intersects(w)) {
                        segments.extend(run.iter().map(|s| RingSegment { part: k, ..s.clone() }));
                    }
                }
            }
            None => {
                for &(i, j) in near.iter().filter(|&&(i, j)| i == k || j == k) {
                    set.join(i, j);
                }
            }
        }
    }
    let same_part = |a: &RingSegment, b: &RingSegment| a.part == b.part;
    let hits = crossing_pairs(&segments, same_part).unwrap_or_else(|| swept_pairs(&segments, same_part));
    for (a, b, _) in hits {
        if let (Some(a), Some(b)) = (segments.get(a as usize), segments.get(b as usize)) {
            set.join(a.part, b.part);
        }
    }
    // Parts whose boundaries do not meet are apart unless one holds the other.
    let inside = |i: usize, j: usize| {
        let first = parts.get(i).and_then(|p| p.exterior().0.first());
        matches!((first, boxes.get(j), parts.get(j)), (Some(c), Some(Some(b)), Some(p)) if b.intersects(c) && p.contains(c))
    };
    for &(i, j) in near {
        if set.root(i) != set.root(j) && (inside(i, j) || inside(j, i)) {
            set.join(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A feature's properties and its polygons' rings as (x, y) pairs, the numbers' bits.
    type Digest = (
        Option<serde_json::Map<String, serde_json::Value>>,
        Vec<Vec<Vec<(u64, u64)>>>,
    );

    /// What a plain parse gives, in a form that compares.
    fn plain_digest(c: &PlainCollection) -> Vec<Digest> {
        c.features.iter().map(feature_digest).collect()
    }

    fn feature_digest(f: &PlainFeature) -> Digest {
        let ring = |r: &Vec<Coord<f64>>| r.iter().map(|p| (p.x.to_bits(), p.y.to_bits())).collect::<Vec<_>>();
        let polys = match &f.geometry {
            Some(PlainGeometry::Polygon(rings)) => vec![rings.iter().map(ring).collect()],
            Some(PlainGeometry::MultiPolygon(polys)) => {
                polys.iter().map(|rings| rings.iter().map(ring).collect()).collect()
            }
            None => Vec::new(),
        };
        (f.properties.clone(), polys)
    }

    /// The reference: a feature's digest from serde_json's own values (its numbers, not the
    /// scanner's).
    fn value_digest(v: &serde_json::Value) -> Digest {
        let position = |p: &serde_json::Value| (p[0].as_f64().unwrap().to_bits(), p[1].as_f64().unwrap().to_bits());
        let rings = |rs: &serde_json::Value| -> Vec<Vec<(u64, u64)>> {
            rs.as_array()
                .unwrap()
                .iter()
                .map(|r| r.as_array().unwrap().iter().map(position).collect())
                .collect()
        };
        let geometry = &v["geometry"];
        let polys = match geometry["type"].as_str() {
            Some("Polygon") => vec![rings(&geometry["coordinates"])],
            Some("MultiPolygon") => geometry["coordinates"].as_array().unwrap().iter().map(rings).collect(),
            _ => Vec::new(),
        };
        (v["properties"].as_object().cloned(), polys)
    }

    /// The published layouts (N03 as the national land data gives it, the demo's boundaries):
    /// read in pieces, every coordinate is serde_json's value of it, bit for bit.
    #[test]
    fn published_files_read_as_serde_json_reads_their_numbers() {
        for file in [
            "fixtures/demo/nagano_municipalities.geojson",
            "fixtures/n03/n03_2024.geojson",
        ] {
            let text = std::fs::read_to_string(format!("{}/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap();
            let whole: serde_json::Value = serde_json::from_str(&text).unwrap();
            let want: Vec<Digest> = whole["features"].as_array().unwrap().iter().map(value_digest).collect();
            let got = plain_digest(&parse_plain_in_pieces(&text, 4).unwrap());
            assert_eq!(got.len(), want.len(), "{file}");
            assert!(got == want, "{file}");
            // The files' features are the scanner's, not left to serde_json.
            let first = text
                .find("{\"type\":\"Feature\"")
                .or_else(|| text.find("{\n   \"type\": \"Feature\""))
                .unwrap();
            assert!(plain_feature(&text, first).is_some(), "{file}");
        }
    }

    #[test]
    fn features_the_scanner_reads_are_those_serde_reads() {
        let ring = "[[139.5, 35.25], [140.0, 35.25], [140.0, 36.0], [139.5, 35.25]]";
        let long =
            "[[139.1234567890123456789012345, 35.25], [140, 35.25], [140, 36], [139.1234567890123456789012345, 35.25]]";
        // A feature's text, and whether the scanner reads it (else it is left to serde_json).
        let cases: Vec<(String, bool)> = vec![
            (
                format!(
                    r#"{{"type":"Feature","properties":{{"N03_007":"20201"}},"geometry":{{"type":"Polygon","coordinates":[{ring}]}}}}"#
                ),
                true,
            ),
            // Members in another order, spaces everywhere, null properties, two polygons.
            (
                format!(
                    "{{ \"geometry\" : {{ \"type\" : \"MultiPolygon\" ,\n \"coordinates\" : [ [ {ring} ] , [ {ring} ] ] }} , \"properties\" : null , \"type\" : \"Feature\" }}"
                ),
                true,
            ),
            // Members the reading skips; a null geometry; properties of any values.
            (
                r#"{"type":"Feature","id":7,"bbox":[1,2,3,4],"properties":{"a":[1,{"b":null}],"c":"x\"y"},"geometry":null}"#
                    .to_string(),
                true,
            ),
            // Heights; a number with more digits than a u64 holds (the rest dropped, as serde_json
            // drops them).
            (
                r#"{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[139.5,35.25,100],[140,35.25,0.5],[140,36,1e2],[139.5,35.25,-3]]]}}"#
                    .to_string(),
                true,
            ),
            (
                format!(r#"{{"type":"Feature","properties":{{}},"geometry":{{"type":"Polygon","coordinates":[{long}]}}}}"#),
                true,
            ),
            // Left to serde_json: coordinates before the type, a key with an escape, a power of
            // ten past 22.
            (
                format!(r#"{{"type":"Feature","properties":{{}},"geometry":{{"coordinates":[{ring}],"type":"Polygon"}}}}"#),
                false,
            ),
            (
                format!(
                    r#"{{"typ\u0065":"Feature","properties":{{}},"geometry":{{"type":"Polygon","coordinates":[{ring}]}}}}"#
                ),
                false,
            ),
            (
                r#"{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[1e-30,35],[140,35],[140,36],[1e-30,35]]]}}"#
                    .to_string(),
                false,
            ),
            // Not read by either: a geometry's bbox, a member twice, a point, a trailing comma,
            // no geometry.
            (
                format!(r#"{{"type":"Feature","properties":{{}},"geometry":{{"type":"Polygon","bbox":[0,0,1,1],"coordinates":[{ring}]}}}}"#),
                false,
            ),
            (r#"{"type":"Feature","properties":{},"properties":{},"geometry":null}"#.to_string(), false),
            (r#"{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[1,2]}}"#.to_string(), false),
            (r#"{"type":"Feature","properties":{},"geometry":null,}"#.to_string(), false),
            (r#"{"type":"Feature","properties":{}}"#.to_string(), false),
        ];
        let value_digest = |text: &str| value_digest(&serde_json::from_str(text).unwrap());
        for (text, taken) in &cases {
            let scanned = plain_feature(text, 0);
            assert_eq!(scanned.is_some(), *taken, "{text}");
            if let Some((f, end)) = scanned {
                assert_eq!(end, text.len(), "{text}");
                assert_eq!(feature_digest(&f), value_digest(text), "{text}");
            }
            // What serde_json's reading of a feature takes, it reads the same way.
            if let Ok(f) = serde_json::from_str::<PlainFeature>(text) {
                assert_eq!(feature_digest(&f), value_digest(text), "{text}");
            }
        }
        // Those left to serde_json that it reads: it gives what the scanner would have.
        assert!(serde_json::from_str::<PlainFeature>(&cases[5].0).is_ok());
        assert!(serde_json::from_str::<PlainFeature>(&cases[7].0).is_ok());
    }

    #[test]
    fn features_parsed_in_pieces_are_those_of_the_whole_parse() {
        let feature = |k: usize, name: &str| {
            format!(
                r#"{{"type": "Feature", "properties": {{"N03_004": {name}, "N03_007": "{:05}"}}, "geometry": {{"type": "Polygon", "coordinates": [[[138.{k}, 36.0], [138.{k}5, 36.0], [138.{k}5, 36.1], [138.{k}, 36.0]]]}}}}"#,
                20200 + k
            )
        };
        // Names holding what a piece looks for: a start inside a string must not be taken.
        let names = ["a", "b},{c", "\"features\": [", "d}, {", "e", "f},\n{g", "h", "i", "j"];
        assert!(names[2].starts_with('"'));
        let features: Vec<String> = names
            .iter()
            .enumerate()
            .map(|(k, n)| feature(k, &serde_json::to_string(n).unwrap()))
            .collect();
        let texts = [
            format!(r#"{{"type": "FeatureCollection", "name": "N03", "features": [{}]}}"#, features.join(",")),
            format!(
                "{{\n \"type\": \"FeatureCollection\",\n \"features\": [\n  {}\n ],\n \"crs\": {{\"type\": \"name\"}}\n}}\n",
                features.join(",\n  ")
            ),
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/demo/nagano_municipalities.geojson")).unwrap(),
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/n03/n03_2024.geojson")).unwrap(),
        ];
        for (t, text) in texts.iter().enumerate() {
            let whole = plain_digest(&serde_json::from_str::<PlainCollection>(text).unwrap());
            let mut split = 0;
            for pieces in 1..=24 {
                if let Some(c) = parse_plain_in_pieces(text, pieces) {
                    assert_eq!(plain_digest(&c), whole, "{pieces} pieces");
                    split += 1;
                }
            }
            // The pieces are used, not only the whole parse: in the files as published always
            // (one piece: trivially), in the made-up ones whenever no piece starts in a name.
            eprintln!("text {t}: split {split} times of 24");
            assert!(
                split >= if t < 2 { 3 } else { 24 },
                "text {t}: split {split} times of 24"
            );
        }
        // Not a plain collection at the top: left to the whole parse.
        let nested = format!(
            r#"{{"type": "FeatureCollection", "x": {{"features": [{}]}}, "features": []}}"#,
            features[0]
        );
        assert!(parse_plain_in_pieces(&nested, 4).is_none());
        let cut = &texts[0][..texts[0].len() - 3];
        assert!(parse_plain_in_pieces(cut, 4).is_none());
        let doubled = texts[0].replacen(r#""name": "N03""#, &format!(r#""features": [{}]"#, features[1]), 1);
        assert!(parse_plain_in_pieces(&doubled, 3).is_none());
    }

    fn square_feature(code: &str, x0: f64, y0: f64, size: f64) -> String {
        format!(
            r#"{{"type":"Feature","properties":{{"N03_001":"長野県","N03_004":"m{code}","N03_007":"{code}"}},
            "geometry":{{"type":"Polygon","coordinates":[[[{x0},{y0}],[{x1},{y0}],[{x1},{y1}],[{x0},{y1}],[{x0},{y0}]]]}}}}"#,
            x1 = x0 + size,
            y1 = y0 + size
        )
    }

    fn read(features: &[String]) -> Result<MunicipalitiesRead> {
        let text = format!(r#"{{"type":"FeatureCollection","features":[{}]}}"#, features.join(","));
        read_municipalities(
            &Source::new("n03.geojson", text.into_bytes()),
            &MunicipalityKeys::default(),
        )
    }

    #[test]
    fn dissolves_by_code_and_keeps_islands() {
        let r = read(&[
            square_feature("20201", 138.0, 36.0, 0.1),
            square_feature("20201", 138.1, 36.0, 0.1),  // touches: unioned
            square_feature("20201", 139.0, 36.0, 0.01), // island: kept as a part
            square_feature("20202", 138.0, 36.1, 0.1),
            r#"{"type":"Feature","properties":{"N03_007":null},"geometry":null}"#.into(),
        ])
        .unwrap();
        assert_eq!(r.features_read, 5);
        assert_eq!(r.municipalities.len(), 2);
        let m = &r.municipalities[0];
        assert_eq!(m.code, "20201");
        assert_eq!(m.geometry.0.len(), 2);
        assert!((m.geometry.unsigned_area() - 0.0201).abs() < 1e-9);
        assert_eq!(r.rejects.len(), 1);
        assert!(r.rejects[0].reason.contains("null or empty"));
    }

    /// Files read straight into coordinates and files read through geojson's values (a
    /// member the plain reader does not take sends a file there) give the same result.
    #[test]
    fn both_readers_agree() {
        let features = vec![
            square_feature("20201", 138.0, 36.0, 0.1),
            square_feature("20201", 138.5, 36.0, 0.05),
            // A position with a height, a null geometry, a point, an empty code.
            r#"{"type":"Feature","properties":{"N03_007":"20202"},
            "geometry":{"type":"MultiPolygon","coordinates":[[[[137,35,12.5],[137.1,35,0],[137.1,35.1,0],[137,35,1]]]]}}"#
                .to_string(),
            r#"{"type":"Feature","properties":{"N03_007":"20203"},"geometry":null}"#.to_string(),
            r#"{"type":"Feature","properties":{"N03_007":""},
            "geometry":{"type":"Polygon","coordinates":[[[137,35],[137.1,35],[137.1,35.1],[137,35]]]}}"#
                .to_string(),
        ];
        let plain = read(&features).unwrap();
        // The same features with a bounding box on one geometry (not taken by the plain reader).
        let mut boxed = features.clone();
        boxed[0] = boxed[0].replace(
            r#""geometry":{"type""#,
            r#""geometry":{"bbox":[138,36,138.1,36.1],"type""#,
        );
        let values = read(&boxed).unwrap();
        let summary = |r: &MunicipalitiesRead| {
            (
                r.features_read,
                r.municipalities
                    .iter()
                    .map(|m| (m.code.clone(), m.name.clone(), format!("{:?}", m.geometry)))
                    .collect::<Vec<_>>(),
                r.rejects.iter().map(|x| format!("{x:?}")).collect::<Vec<_>>(),
            )
        };
        assert_eq!(summary(&plain), summary(&values));
        assert_eq!(
            (plain.features_read, plain.municipalities.len(), plain.rejects.len()),
            (5, 2, 2)
        );
        // A point among polygons is a reject with its type named, in either reader.
        let mut point = features.clone();
        point.push(
            r#"{"type":"Feature","properties":{"N03_007":"20204"},"geometry":{"type":"Point","coordinates":[137,35]}}"#
                .to_string(),
        );
        let r = read(&point).unwrap();
        assert!(
            r.rejects
                .iter()
                .any(|x| format!("{x:?}").contains("geometry is a Point")),
            "{:?}",
            r.rejects
        );
    }

    #[test]
    fn repairs_a_bowtie_and_reports_it() {
        let bowtie = r#"{"type":"Feature","properties":{"N03_007":"20201"},
            "geometry":{"type":"Polygon","coordinates":[[[138,36],[138.1,36.1],[138.1,36],[138,36.1],[138,36]]]}}"#;
        let r = read(&[bowtie.into()]).unwrap();
        assert_eq!(r.repaired.len(), 1);
        assert!(r.municipalities[0].geometry.is_valid());
        assert!((r.municipalities[0].geometry.unsigned_area() - 0.005).abs() < 1e-9);
    }

    #[test]
    fn unrepairable_ring_is_a_file_error() {
        let flat = r#"{"type":"Feature","properties":{"N03_007":"20201"},
            "geometry":{"type":"Polygon","coordinates":[[[138,36],[138.1,36.1],[138,36]]]}}"#;
        let err = read(&[flat.into()]).unwrap_err().to_string();
        assert!(
            err.starts_with("n03.geojson: feature 1 (N03_007=20201): a ring has 3 positions"),
            "{err}"
        );
    }

    #[test]
    fn not_a_feature_collection() {
        let err = read_municipalities(
            &Source::new("x.geojson", br#"{"type":"Point","coordinates":[1,2]}"#.to_vec()),
            &MunicipalityKeys::default(),
        )
        .unwrap_err()
        .to_string();
        assert_eq!(err, "x.geojson: a bare GeoJSON geometry, not a FeatureCollection");
        let err = read_municipalities(
            &Source::new("y.geojson", b"{\"type\":".to_vec()),
            &MunicipalityKeys::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("y.geojson: line 1: not valid JSON"), "{err}");
    }

    #[test]
    fn fast_ring_check_agrees_with_geo() {
        use geo::wkt;
        let cases = [
            wkt!(POLYGON((0. 0., 10. 0., 10. 10., 0. 10., 0. 0.))),
            // Densified straight edge: collinear consecutive segments.
            wkt!(POLYGON((0. 0., 5. 0., 10. 0., 10. 10., 0. 10., 0. 0.))),
            // A hole touching the shell at one point is valid.
            wkt!(POLYGON((0. 0., 10. 0., 10. 10., 0. 10., 0. 0.), (0. 5., 4. 4., 4. 6., 0. 5.))),
            // Bowtie.
            wkt!(POLYGON((0. 0., 10. 10., 10. 0., 0. 10., 0. 0.))),
            // A hole outside the shell.
            wkt!(POLYGON((0. 0., 10. 0., 10. 10., 0. 10., 0. 0.), (20. 20., 21. 20., 21. 21., 20. 20.))),
            // Nested holes.
            wkt!(POLYGON((0. 0., 10. 0., 10. 10., 0. 10., 0. 0.), (1. 1., 9. 1., 9. 9., 1. 9., 1. 1.), (2. 2., 3. 2., 3. 3., 2. 2.))),
            // A ring touching itself at a vertex.
            wkt!(POLYGON((0. 0., 10. 0., 5. 5., 10. 10., 0. 10., 5. 5., 0. 0.))),
        ];
        let fast: Vec<bool> = cases.iter().map(rings_are_simple).collect();
        assert_eq!(fast, [true, true, true, false, false, false, false]);
        for (p, f) in cases.iter().zip(fast) {
            // The fast check is sufficient: whatever it accepts, geo finds valid.
            assert!(!f || p.is_valid(), "{p:?}");
        }
    }

    fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> Polygon<f64> {
        Polygon::new(
            LineString::from(vec![(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]),
            vec![],
        )
    }

    /// The groups `join_meeting_parts` forms, as each part's set (its smallest member).
    fn meeting_sets(parts: &[Polygon<f64>]) -> Vec<usize> {
        let boxes: Vec<Option<Rect<f64>>> = parts.iter().map(|p| p.bounding_rect()).collect();
        let mut near = Vec::new();
        for i in 0..parts.len() {
            for j in i + 1..parts.len() {
                if let (Some(a), Some(b)) = (&boxes[i], &boxes[j]) {
                    if a.intersects(b) {
                        near.push((i, j));
                    }
                }
            }
        }
        let mut set = DisjointSets::new(parts.len());
        join_meeting_parts(parts, &boxes, &near, &mut set);
        (0..parts.len()).map(|i| set.root(i)).collect()
    }

    /// A coast with a bay: an island in the bay (inside the coast's box, apart from it), an
    /// enclave in a hole of the coast, a rock touching the coast at one corner, an islet
    /// lying wholly inside the coast. The island and the enclave keep their coordinates;
    /// the rock and the islet join the coast's union.
    #[test]
    fn parts_apart_are_kept_as_they_are_and_parts_that_meet_are_unioned() {
        // A U-shaped coast, 0..10 by 0..10 with the bay 4..6 by 3..10 cut out, and a hole
        // 1..2 by 1..2.
        let coast = Polygon::new(
            LineString::from(vec![
                (0.0, 0.0),
                (10.0, 0.0),
                (10.0, 10.0),
                (6.0, 10.0),
                (6.0, 3.0),
                (4.0, 3.0),
                (4.0, 10.0),
                (0.0, 10.0),
                (0.0, 0.0),
            ]),
            vec![LineString::from(vec![
                (1.0, 1.0),
                (1.0, 2.0),
                (2.0, 2.0),
                (2.0, 1.0),
                (1.0, 1.0),
            ])],
        );
        let island = rect(4.5, 5.0, 5.5, 6.0001);
        let enclave = rect(1.25, 1.25, 1.75, 1.75);
        let rock = rect(10.0, 10.0, 11.0, 11.0);
        let islet = rect(7.0, 7.0, 8.0, 8.0);
        let parts = vec![coast.clone(), island.clone(), enclave.clone(), rock, islet];
        assert_eq!(meeting_sets(&parts), vec![0, 1, 2, 0, 0]);
        let d = dissolve(parts);
        assert_eq!(&d.0[..2], &[island, enclave]);
        // The union: the coast (100, less the bay's 14 and the hole's 1) and the rock (1),
        // two polygons meeting at a corner; the islet adds nothing.
        let union: Vec<f64> = d.0[2..].iter().map(|p| p.unsigned_area()).collect();
        assert_eq!(union.len(), 2, "{:?}", d.0);
        assert!((union.iter().sum::<f64>() - 86.0).abs() < 1e-9, "{union:?}");
        // Alone, every part is its own set.
        assert_eq!(meeting_sets(&[coast, rect(4.5, 5.0, 5.5, 6.0)]), vec![0, 1]);
    }

    proptest::proptest! {
        /// Parts meet in `join_meeting_parts` exactly when geo says they intersect (touch or
        /// overlap), taken transitively: random rectangles and diamonds on a small grid
        /// (edges meet, corners touch, one holds another, boxes overlap while the parts do
        /// not) and an L-shaped part whose box holds others it does not touch.
        #[test]
        fn parts_meet_when_geo_says_they_intersect(
            raw in proptest::collection::vec((0i32..14, 0i32..14, 1i32..8, 1i32..8, 1usize..9, proptest::bool::ANY), 2..9)
        ) {
            let mut parts: Vec<Polygon<f64>> = vec![Polygon::new(
                LineString::from(vec![(0.0, 0.0), (3.0, 0.0), (3.0, 1.0), (1.0, 1.0), (1.0, 3.0), (0.0, 3.0), (0.0, 0.0)]),
                vec![],
            )];
            // Rectangles and diamonds with each side cut in `k` segments, so that a ring
            // runs to more than one run of the sweep's filter.
            parts.extend(raw.iter().map(|&(x, y, w, h, k, diamond)| {
                let (x, y, w, h) = (f64::from(x) * 0.5, f64::from(y) * 0.5, f64::from(w) * 0.5, f64::from(h) * 0.5);
                let corners = if diamond {
                    [(x + w / 2.0, y), (x + w, y + h / 2.0), (x + w / 2.0, y + h), (x, y + h / 2.0), (x + w / 2.0, y)]
                } else {
                    [(x, y), (x + w, y), (x + w, y + h), (x, y + h), (x, y)]
                };
                let mut ring: Vec<(f64, f64)> = corners
                    .windows(2)
                    .flat_map(|c| {
                        let ((ax, ay), (bx, by)) = (c[0], c[1]);
                        (0..k).map(move |t| {
                            let f = t as f64 / k as f64;
                            (ax + (bx - ax) * f, ay + (by - ay) * f)
                        })
                    })
                    .collect();
                ring.push(corners[0]);
                Polygon::new(LineString::from(ring), vec![])
            }));
            let mut reference = DisjointSets::new(parts.len());
            for i in 0..parts.len() {
                for j in i + 1..parts.len() {
                    if parts[i].intersects(&parts[j]) {
                        reference.join(i, j);
                    }
                }
            }
            let expected: Vec<usize> = (0..parts.len()).map(|i| reference.root(i)).collect();
            proptest::prop_assert_eq!(meeting_sets(&parts), expected);
        }

        /// The x sweep finds the pairs geo's sweep finds, with the same intersections: random
        /// segments on a small integer grid, so that endpoints meet, lines overlap and
        /// segments stand vertical or horizontal.
        #[test]
        fn crossing_pairs_are_those_of_geos_sweep(
            raw in proptest::collection::vec((0i32..12, 0i32..12, 0i32..12, 0i32..12), 1..60)
        ) {
            let segments: Vec<RingSegment> = raw
                .iter()
                .enumerate()
                .filter(|(_, &(a, b, c, d))| (a, b) != (c, d))
                .map(|(i, &(a, b, c, d))| RingSegment {
                    line: Line::new(Coord { x: f64::from(a), y: f64::from(b) }, Coord { x: f64::from(c), y: f64::from(d) }),
                    part: 0,
                    ring: 0,
                    index: i,
                    ring_len: raw.len(),
                })
                .collect();
            let mut ours: Vec<(u32, u32, String)> = crossing_pairs(&segments, |_, _| false)
                .unwrap()
                .into_iter()
                .map(|(a, b, hit)| (a, b, format!("{hit:?}")))
                .collect();
            let mut geos: Vec<(u32, u32, String)> =
                Intersections::from_iter(segments.iter().enumerate().map(|(k, s)| SweptSegment(s.line, k as u32)))
                    .map(|(a, b, _)| {
                        let (i, j) = (a.1.min(b.1) as usize, a.1.max(b.1) as usize);
                        let hit = geo::line_intersection::line_intersection(segments[i].line, segments[j].line);
                        (i as u32, j as u32, format!("{:?}", hit.unwrap()))
                    })
                    .collect();
            ours.sort();
            geos.sort();
            proptest::prop_assert_eq!(ours, geos);
        }

        /// The ring check with the x sweep and without testing consecutive segments that
        /// turn gives the answer of the same check on every pair geo's sweep reports: random
        /// rings (and a hole) on a small grid, most of them self-touching or crossing.
        #[test]
        fn ring_check_is_that_of_geos_sweep(
            shell in proptest::collection::vec((0i32..8, 0i32..8), 3..12),
            hole in proptest::collection::vec((0i32..8, 0i32..8), 0..6),
        ) {
            let ring = |v: &[(i32, i32)]| {
                let mut r: LineString<f64> = v.iter().map(|&(x, y)| Coord { x: f64::from(x), y: f64::from(y) }).collect();
                r.close();
                r
            };
            let holes = if hole.len() >= 3 { vec![ring(&hole)] } else { vec![] };
            let polygon = Polygon::new(ring(&shell), holes);
            let reference = ring_segments(&polygon)
                .is_some_and(|segments| simple_given(&polygon, &segments, swept_pairs(&segments, |_, _| false)));
            proptest::prop_assert_eq!(rings_are_simple(&polygon), reference);
        }
    }

    /// A serpentine whose 399 rows all span the same x range keeps most segments open at
    /// once: the x sweep gives up within its budget and geo's sweep answers (the polygon is
    /// valid, as geo's own validation says).
    #[test]
    fn a_ring_too_wide_for_the_x_sweep_is_checked_by_geos_sweep() {
        let rows = 399;
        let mut ring = vec![Coord { x: 0.0, y: 0.0 }, Coord { x: 100.0, y: 0.0 }];
        for j in 1..=rows {
            let y = f64::from(j);
            let (from, to) = if j % 2 == 1 { (100.0, 1.0) } else { (1.0, 100.0) };
            ring.push(Coord { x: from, y });
            ring.push(Coord { x: to, y });
        }
        // The last row ends at x = 1: up and across to the left side, then down it.
        ring.push(Coord {
            x: 0.0,
            y: f64::from(rows + 1),
        });
        let polygon = Polygon::new(LineString::new(ring), vec![]);
        let segments = ring_segments(&polygon).unwrap();
        assert!(crossing_pairs(&segments, |_, _| false).is_none());
        assert!(polygon.is_valid());
        assert!(rings_are_simple(&polygon));
    }

    #[test]
    fn check_digit_codes() {
        assert_eq!(normalise_code("131016").unwrap(), "13101");
        assert!(normalise_code("131017").unwrap_err().contains("should have 6"));
        assert!(normalise_code("1310").is_err());
    }
}
