//! Synthetic study data built on real places, for the embedded demo and the national
//! benchmark.
//!
//!   cargo run --release --example synth -- demo --data DIR --n03 DIR/japan/n03_2021/N03-21_20_210101.json --out fixtures/demo
//!   cargo run --release --example synth -- national --data DIR --out bench-data
//!   cargo run --release --example synth -- national --data DIR --n03 DIR/japan/n03_2021/N03-21_210101_national_s0001.json --out bench-real
//!
//! With `--n03 FILE` the municipal polygons are the real ones of that national land data file
//! (国土数値情報 行政区域, N03; copied as the municipalities file), and population and
//! institutions are generated on them; without it, on synthetic Voronoi boundaries.
//!
//! DIR holds `japan/municipality_points.csv` (real municipality points) and
//! `japan/prefectures.geojson` (real prefecture outlines). From them it builds:
//! - municipal polygons: Voronoi cells of the municipality points (in a locally isotropic
//!   projection) clipped to the prefecture outline, N03 attributes. Points outside the
//!   outline (islands) get a small island polygon. SYNTHETIC boundaries.
//! - population on the 1 km mesh: a density that decays from every municipality point,
//!   larger for cities; aged 65+ share higher where density is low. SYNTHETIC.
//! - institutions of every kind at the national densities of DOMAIN.md §2, placed in
//!   proportion to population, with designations at realistic rates. SYNTHETIC.
//!
//! The demo is Nagano (code 20) with the real municipality codes; the national set covers
//! all 47 prefectures with designated cities split into wards (about 1,900 units), boundary
//! detail added by densifying edges to about 25 m, and small offshore islands as extra
//! features, as the national N03 file has.

use geo::{
    BooleanOps, BoundingRect, Contains, Coord, Densify, Euclidean, InteriorPoint, LineString, MakeValid, MapCoords,
    MultiPoint, MultiPolygon, Orient, Point, Polygon, Validation, Voronoi, VoronoiClip, VoronoiParams,
};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Real codes of Nagano's 77 municipalities (全国地方公共団体コード), in the order of the
/// municipality points file.
const NAGANO_CODES: [&str; 77] = [
    "20201", "20202", "20203", "20204", "20205", "20206", "20207", "20208", "20209", "20210", "20211", "20212",
    "20213", "20214", "20215", "20217", "20218", "20219", "20220", "20303", "20304", "20305", "20306", "20307",
    "20309", "20321", "20323", "20324", "20349", "20350", "20361", "20362", "20363", "20382", "20383", "20384",
    "20385", "20386", "20388", "20402", "20403", "20404", "20407", "20409", "20410", "20411", "20412", "20413",
    "20414", "20415", "20416", "20417", "20422", "20423", "20425", "20429", "20430", "20432", "20446", "20448",
    "20450", "20451", "20452", "20481", "20482", "20485", "20486", "20521", "20541", "20543", "20561", "20562",
    "20563", "20583", "20588", "20590", "20602",
];

/// Designated cities (政令指定都市) and their number of wards (2024).
const DESIGNATED: [(&str, usize); 20] = [
    ("札幌市", 10),
    ("仙台市", 5),
    ("さいたま市", 10),
    ("千葉市", 6),
    ("横浜市", 18),
    ("川崎市", 7),
    ("相模原市", 3),
    ("新潟市", 8),
    ("静岡市", 3),
    ("浜松市", 7),
    ("名古屋市", 16),
    ("京都市", 11),
    ("大阪市", 24),
    ("堺市", 7),
    ("神戸市", 9),
    ("岡山市", 4),
    ("広島市", 8),
    ("北九州市", 7),
    ("福岡市", 7),
    ("熊本市", 5),
];

/// National counts per kind (DOMAIN.md §2) and Japan's population (2020 census).
const JAPAN_POPULATION: f64 = 126_146_099.0;
const NAGANO_POPULATION: f64 = 2_048_011.0;
const KIND_COUNTS: [(&str, &str, f64); 8] = [
    ("hospital", "H", 8_122.0),
    ("clinic", "C", 104_894.0),
    ("dental_clinic", "D", 66_818.0),
    ("pharmacy", "P", 62_828.0),
    ("visiting_nurse", "N", 14_829.0),
    ("care_manager", "M", 42_000.0),
    ("community_support_center", "S", 5_431.0),
    ("geriatric_facility", "G", 4_273.0),
];

/// A small deterministic generator (SplitMix64), so outputs do not depend on a crate's
/// version.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn f(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn p(&mut self, p: f64) -> bool {
        self.f() < p
    }
    fn range(&mut self, a: f64, b: f64) -> f64 {
        a + (b - a) * self.f()
    }
}

struct Place {
    pref_code: String,
    prefecture: String,
    name: String,
    code: String,
    lon: f64,
    lat: f64,
    /// Relative size: ward 6, city 3, town 1, village 0.4.
    weight: f64,
    /// Decay distance of its density, km.
    scale_km: f64,
}

struct Muni {
    place: Place,
    parts: Vec<Polygon<f64>>,
    /// Extra features (small islands) with the same code.
    islets: Vec<Polygon<f64>>,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let mode = args.get(1).cloned().unwrap_or_default();
    let data = PathBuf::from(arg("--data").expect("--data DIR"));
    let out = PathBuf::from(arg("--out").expect("--out DIR"));
    let n03 = arg("--n03").map(PathBuf::from);
    std::fs::create_dir_all(&out).expect("create --out");
    match mode.as_str() {
        "demo" => build(&data, &out, Some("20"), 20_241_124, "nagano_", n03.as_deref()),
        "national" => build(&data, &out, None, 20_241_125, "", n03.as_deref()),
        _ => panic!("usage: synth demo|national --data DIR --out DIR"),
    }
}

/// A municipality's relative size and the decay distance of its density (km), by its kind:
/// city or ward, town, village.
fn size_of(name: &str) -> (f64, f64) {
    if name.ends_with('市') || name.ends_with('区') {
        (3.0, 4.0)
    } else if name.ends_with('町') {
        (1.0, 3.0)
    } else {
        (0.4, 2.5)
    }
}

fn read_places(data: &Path, only: Option<&str>, rng: &mut Rng) -> Vec<Place> {
    let text = std::fs::read_to_string(data.join("japan/municipality_points.csv")).expect("municipality points");
    let mut places = Vec::new();
    let mut seq: BTreeMap<String, usize> = BTreeMap::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let (pref, prefecture, name) = (f[0].to_string(), f[1].to_string(), f[2].to_string());
        if only.is_some_and(|o| o != pref) {
            continue;
        }
        let (lat, lon): (f64, f64) = (f[3].parse().unwrap(), f[4].parse().unwrap());
        let (weight, scale_km) = size_of(&name);
        let n = seq.entry(pref.clone()).or_insert(0);
        let designated = only
            .is_none()
            .then(|| DESIGNATED.iter().find(|(d, _)| *d == name))
            .flatten();
        if let Some((_, wards)) = designated {
            for w in 0..*wards {
                let angle = std::f64::consts::TAU * w as f64 / *wards as f64 + rng.f();
                let r_km = if w == 0 { 0.0 } else { rng.range(3.0, 9.0) };
                *n += 1;
                places.push(Place {
                    code: format!("{pref}{:03}", 100 + *n),
                    pref_code: pref.clone(),
                    prefecture: prefecture.clone(),
                    name: format!("{name}{}区", w + 1),
                    lon: lon + r_km / 91.0 * angle.cos(),
                    lat: lat + r_km / 111.0 * angle.sin(),
                    weight: 6.0,
                    scale_km: 3.0,
                });
            }
            continue;
        }
        *n += 1;
        let code = match only {
            Some("20") => NAGANO_CODES[*n - 1].to_string(),
            _ => format!("{pref}{:03}", 100 + *n),
        };
        places.push(Place {
            pref_code: pref,
            prefecture,
            name,
            code,
            lon,
            lat,
            weight,
            scale_km,
        });
    }
    places
}

fn outlines(data: &Path) -> BTreeMap<String, MultiPolygon<f64>> {
    let text = std::fs::read_to_string(data.join("japan/prefectures.geojson")).expect("prefecture outlines");
    let fc: geojson::FeatureCollection = text.parse().expect("outlines GeoJSON");
    let mut out = BTreeMap::new();
    for f in fc.features {
        let code = f
            .property("prefecture_code")
            .and_then(|v| v.as_str())
            .unwrap()
            .to_string();
        let geom: geo::Geometry<f64> = f.geometry.unwrap().try_into().unwrap();
        let mp = match geom {
            geo::Geometry::Polygon(p) => MultiPolygon::new(vec![p]),
            geo::Geometry::MultiPolygon(m) => m,
            _ => panic!("outline is not a polygon"),
        };
        // 9 of the 47 rings self-intersect slightly: repair them.
        let mp = if mp.is_valid() {
            mp
        } else {
            mp.make_valid().expect("repairable outline")
        };
        out.insert(code, mp);
    }
    out
}

/// Local projection: x scaled by cos(lat0) so Voronoi cells are isotropic.
fn project(mp: &MultiPolygon<f64>, k: f64) -> MultiPolygon<f64> {
    mp.map_coords(|c| Coord { x: c.x * k, y: c.y })
}

fn unproject(p: &Polygon<f64>, k: f64) -> Polygon<f64> {
    p.map_coords(|c| Coord { x: c.x / k, y: c.y })
}

fn hexagon(lon: f64, lat: f64, r_km: f64, k: f64) -> Polygon<f64> {
    let ring: Vec<Coord<f64>> = (0..=6)
        .map(|i| {
            let a = std::f64::consts::TAU * (i % 6) as f64 / 6.0;
            Coord {
                x: lon + r_km / 111.0 / k * a.cos(),
                y: lat + r_km / 111.0 * a.sin(),
            }
        })
        .collect();
    Polygon::new(LineString::new(ring), vec![])
}

/// Municipalities of a real N03 file: every feature's polygons grouped by `N03_007`, with
/// the places of the municipality points where a code matches (the density's centres), else
/// the largest polygon's interior point. Unassigned land (null code) is left out.
fn n03_munis(path: &Path, places: Vec<Place>) -> Vec<Muni> {
    use geo::Area;
    let text = std::fs::read_to_string(path).expect("N03 file");
    let fc: geojson::FeatureCollection = text.parse().expect("N03 GeoJSON");
    let mut parts: BTreeMap<String, (String, String, Vec<Polygon<f64>>)> = BTreeMap::new();
    for f in fc.features {
        let Some(code) = f.property("N03_007").and_then(|v| v.as_str()).map(str::to_string) else {
            continue;
        };
        let prop = |k: &str| f.property(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
        let name = format!("{}{}", prop("N03_004"), prop("N03_005"));
        let prefecture = prop("N03_001");
        let geom: geo::Geometry<f64> = f.geometry.clone().unwrap().try_into().unwrap();
        let polys = match geom {
            geo::Geometry::Polygon(p) => vec![p],
            geo::Geometry::MultiPolygon(m) => m.0,
            _ => continue,
        };
        let e = parts.entry(code).or_insert((prefecture, name, Vec::new()));
        e.2.extend(polys);
    }
    let mut by_code: BTreeMap<String, Place> = places.into_iter().map(|p| (p.code.clone(), p)).collect();
    parts
        .into_iter()
        .map(|(code, (prefecture, name, polys))| {
            let place = by_code.remove(&code).unwrap_or_else(|| {
                let largest = polys
                    .iter()
                    .max_by(|a, b| a.unsigned_area().total_cmp(&b.unsigned_area()))
                    .unwrap();
                let c = largest.interior_point().unwrap();
                let (weight, scale_km) = size_of(&name);
                Place {
                    pref_code: code[..2].to_string(),
                    prefecture,
                    name,
                    code: code.clone(),
                    lon: c.x(),
                    lat: c.y(),
                    weight,
                    scale_km,
                }
            });
            Muni {
                place,
                parts: polys,
                islets: Vec::new(),
            }
        })
        .collect()
}

fn build(data: &Path, out: &Path, only: Option<&str>, seed: u64, prefix: &str, n03: Option<&Path>) {
    let mut rng = Rng(seed);
    let places = read_places(data, only, &mut rng);
    if let Some(n03) = n03 {
        let munis = n03_munis(n03, places);
        std::fs::copy(n03, out.join(format!("{prefix}municipalities.geojson"))).expect("copy the N03 file");
        return generate(&munis, out, only.is_none(), &mut rng, prefix);
    }
    let outlines = outlines(data);
    let national = only.is_none();
    let mut by_pref: BTreeMap<String, Vec<Place>> = BTreeMap::new();
    for p in places {
        by_pref.entry(p.pref_code.clone()).or_default().push(p);
    }
    let mut munis: Vec<Muni> = Vec::new();
    for (pref, places) in by_pref {
        let outline = &outlines[&pref];
        let lat0 = places.iter().map(|p| p.lat).sum::<f64>() / places.len() as f64;
        let k = lat0.to_radians().cos();
        let outline_p = project(outline, k);
        let (inside, outside): (Vec<Place>, Vec<Place>) = places
            .into_iter()
            .partition(|p| outline.contains(&Point::new(p.lon, p.lat)));
        let sites = MultiPoint::new(inside.iter().map(|p| Point::new(p.lon * k, p.lat)).collect());
        let clip = outline_p.0.iter().max_by(|a, b| {
            use geo::Area;
            a.unsigned_area().total_cmp(&b.unsigned_area())
        });
        let cells = if inside.len() >= 3 {
            sites
                .voronoi_cells_with_params(VoronoiParams::new().clip(VoronoiClip::Polygon(clip.unwrap())))
                .expect("voronoi")
        } else {
            vec![]
        };
        let mut parts: Vec<Vec<Polygon<f64>>> = vec![Vec::new(); inside.len()];
        for cell in cells {
            // Match each cell to the site it holds, whatever order the triangulation used.
            if let Some(i) = sites.0.iter().position(|s| cell.contains(s)) {
                parts[i].push(cell);
            }
        }
        // The rest of the outline (other parts of a multi-part outline) goes to the nearest site.
        for extra in outline_p.0.iter().filter(|p| Some(*p) != clip) {
            let c = extra.interior_point().unwrap();
            let nearest = (0..inside.len())
                .min_by(|&a, &b| {
                    let d = |i: usize| (sites.0[i].x() - c.x()).powi(2) + (sites.0[i].y() - c.y()).powi(2);
                    d(a).total_cmp(&d(b))
                })
                .unwrap();
            parts[nearest].push(extra.clone());
        }
        for (place, ps) in inside.into_iter().zip(parts) {
            let ps: Vec<Polygon<f64>> = ps.iter().map(|p| unproject(p, k)).collect();
            let ps = if national {
                ps.iter().map(|p| Euclidean.densify(p, 0.00025)).collect()
            } else {
                ps
            };
            munis.push(Muni {
                place,
                parts: ps,
                islets: Vec::new(),
            });
        }
        // Island municipalities, outside the main outline.
        for place in outside {
            let hex = hexagon(place.lon, place.lat, 2.5, k);
            let hex = MultiPolygon::new(vec![hex]).difference(outline);
            munis.push(Muni {
                place,
                parts: hex.0,
                islets: Vec::new(),
            });
        }
    }
    if national {
        // Small offshore islands as extra features of coastal municipalities.
        for m in munis.iter_mut() {
            let Some(bbox) = MultiPolygon::new(m.parts.clone()).bounding_rect() else {
                continue;
            };
            let outline = &outlines[&m.place.pref_code];
            let k = m.place.lat.to_radians().cos();
            for _ in 0..60 {
                let lon = rng.range(bbox.min().x - 0.03, bbox.max().x + 0.03);
                let lat = rng.range(bbox.min().y - 0.03, bbox.max().y + 0.03);
                let hex = hexagon(lon, lat, rng.range(0.05, 0.4), k);
                if !hex.exterior().0.iter().any(|c| outline.contains(c)) {
                    m.islets.push(Euclidean.densify(&hex, 0.00025));
                }
            }
        }
    }
    munis.retain(|m| !m.parts.is_empty());
    munis.sort_by(|a, b| a.place.code.cmp(&b.place.code));
    write_municipalities(&munis, &out.join(format!("{prefix}municipalities.geojson")));
    generate(&munis, out, national, &mut rng, prefix);
}

/// Population and institutions on the municipalities.
fn generate(munis: &[Muni], out: &Path, national: bool, rng: &mut Rng, prefix: &str) {
    let cells = if national {
        population(munis, rng, JAPAN_POPULATION, 0.3, 0.15)
    } else {
        population(munis, rng, NAGANO_POPULATION, 0.12, -1.0)
    };
    write_population(&cells, &out.join(format!("{prefix}population.csv")));
    let total: f64 = cells.iter().map(|c| c.pop).sum();
    institutions(
        munis,
        &cells,
        total,
        rng,
        &out.join(format!("{prefix}institutions.csv")),
    );
    eprintln!(
        "{} municipalities, {} features, {} populated cells, population {:.0}",
        munis.len(),
        munis.iter().map(|m| 1 + m.islets.len()).sum::<usize>(),
        cells.len(),
        total
    );
}

fn write_municipalities(munis: &[Muni], path: &Path) {
    let mut s =
        String::from("{\"type\":\"FeatureCollection\",\"name\":\"N03 (synthetic boundaries)\",\"features\":[\n");
    let mut first = true;
    for m in munis {
        let p = &m.place;
        // Designated-city wards carry the city in N03_004 and the ward in N03_005 (2024 layout).
        let (n4, n5) = match p.name.find("市") {
            Some(i) if p.name.ends_with('区') && p.name.len() > i + 3 => (&p.name[..i + 3], Some(&p.name[i + 3..])),
            _ => (p.name.as_str(), None),
        };
        let features = std::iter::once(MultiPolygon::new(m.parts.clone()))
            .chain(m.islets.iter().map(|i| MultiPolygon::new(vec![i.clone()])));
        for geom in features {
            let geom = geom.orient(geo::orient::Direction::Default);
            let g = geojson::Geometry::from(&geo::Geometry::MultiPolygon(geom));
            let props = serde_json::json!({
                "N03_001": p.prefecture, "N03_002": null, "N03_003": null, "N03_004": n4, "N03_005": n5, "N03_007": p.code,
            });
            if !first {
                s.push_str(",\n");
            }
            first = false;
            write!(
                s,
                "{{\"type\":\"Feature\",\"properties\":{},\"geometry\":{}}}",
                props,
                serde_json::to_string(&g).unwrap()
            )
            .unwrap();
        }
    }
    s.push_str("\n]}\n");
    std::fs::write(path, s).expect("write municipalities");
}

struct Cell {
    code: String,
    lon: f64,
    lat: f64,
    pop: f64,
    p65: f64,
    p75: f64,
}

/// `floor_p`: the chance that a land cell far from any town still has a few people
/// (national: high, to reach the benchmark's 200,000 cells; demo: realistic, so mountains
/// stay empty).
fn population(munis: &[Muni], rng: &mut Rng, target: f64, floor_p: f64, mountain_level: f64) -> Vec<Cell> {
    use geo::indexed::IntervalTreeMultiPolygon;
    let mut raw: Vec<(String, f64, f64, f64)> = Vec::new();
    let (h, w) = (1.0 / 120.0, 1.0 / 80.0);
    for m in munis {
        let mp = MultiPolygon::new(m.parts.clone());
        let shape = IntervalTreeMultiPolygon::new(&mp);
        let bb = mp.bounding_rect().unwrap();
        let mut lat = (bb.min().y / h).floor() * h + h / 2.0;
        while lat < bb.max().y {
            let mut lon = ((bb.min().x - 100.0) / w).floor() * w + 100.0 + w / 2.0;
            while lon < bb.max().x {
                if shape.contains(&Coord { x: lon, y: lat }) {
                    // Density from the nearby municipality points (those of this municipality
                    // and its neighbours within 30 km), plus a rural floor.
                    let mut density = 0.0;
                    let mut nearest_km = f64::INFINITY;
                    for n in munis
                        .iter()
                        .filter(|n| (n.place.lat - lat).abs() < 0.3 && (n.place.lon - lon).abs() < 0.4)
                    {
                        let dx = (n.place.lon - lon) * 91.0;
                        let dy = (n.place.lat - lat) * 111.0;
                        let d = (dx * dx + dy * dy).sqrt();
                        density += n.place.weight * (-d / n.place.scale_km).exp();
                        nearest_km = nearest_km.min(d);
                    }
                    let near_p = if nearest_km < 8.0 { floor_p.max(0.45) } else { floor_p };
                    let floor = if rng.p(near_p) { rng.range(0.002, 0.02) } else { 0.0 };
                    // Mountains: a smooth random terrain leaves land far from towns empty.
                    let habitable = nearest_km < 3.0 || terrain(lon, lat) > mountain_level + 0.03 * nearest_km;
                    let v = if habitable {
                        density * rng.range(0.6, 1.4) + floor
                    } else {
                        0.0
                    };
                    let code = zaitaku::inputs::mesh::Mesh::containing(lon, lat, zaitaku::inputs::mesh::Level::Third)
                        .unwrap()
                        .code();
                    raw.push((code, lon, lat, v));
                }
                lon += w;
            }
            lat += h;
        }
    }
    raw.sort_by(|a, b| a.0.cmp(&b.0));
    raw.dedup_by(|a, b| a.0 == b.0);
    let sum: f64 = raw.iter().map(|r| r.3).sum();
    raw.into_iter()
        .filter_map(|(code, lon, lat, v)| {
            let pop = (v / sum * target).round();
            if pop < 1.0 {
                return None;
            }
            // Older where sparse: 26 % in dense cells up to about 45 % in the sparsest.
            let density = pop; // people per km²
            let share65 =
                (0.26 + 0.19 * (1.0 - (density / 3000.0).min(1.0)).powi(3) + rng.range(-0.03, 0.03)).clamp(0.15, 0.6);
            let p65 = (pop * share65).round();
            let p75 = (p65 * rng.range(0.5, 0.58)).round();
            Some(Cell {
                code,
                lon,
                lat,
                pop,
                p65,
                p75,
            })
        })
        .collect()
}

/// Smooth value noise in [0, 1] on a 0.15-degree lattice, for mountains.
fn terrain(lon: f64, lat: f64) -> f64 {
    let hash = |i: i64, j: i64| -> f64 {
        let mut r = Rng((i as u64).wrapping_mul(0x9E37_79B9) ^ (j as u64).wrapping_mul(0x85EB_CA6B));
        r.f()
    };
    let (x, y) = (lon / 0.15, lat / 0.15);
    let (i, j) = (x.floor() as i64, y.floor() as i64);
    let (fx, fy) = (x - x.floor(), y - y.floor());
    let (sx, sy) = (fx * fx * (3.0 - 2.0 * fx), fy * fy * (3.0 - 2.0 * fy));
    let top = hash(i, j + 1) * (1.0 - sx) + hash(i + 1, j + 1) * sx;
    let bottom = hash(i, j) * (1.0 - sx) + hash(i + 1, j) * sx;
    bottom * (1.0 - sy) + top * sy
}

fn write_population(cells: &[Cell], path: &Path) {
    let mut s = String::from("mesh_code,population,population_65plus,population_75plus\n");
    for c in cells {
        writeln!(s, "{},{},{},{}", c.code, c.pop, c.p65, c.p75).unwrap();
    }
    std::fs::write(path, s).expect("write population");
}

fn institutions(munis: &[Muni], cells: &[Cell], total_pop: f64, rng: &mut Rng, path: &Path) {
    // Cumulative weights: institutions concentrate where people are.
    let mut cumulative = Vec::with_capacity(cells.len());
    let mut acc = 0.0;
    for c in cells {
        acc += c.pop.powf(1.1);
        cumulative.push(acc);
    }
    let pick = |rng: &mut Rng| -> (f64, f64) {
        let x = rng.f() * acc;
        let i = cumulative.partition_point(|&v| v < x).min(cells.len() - 1);
        let c = &cells[i];
        (
            c.lon + rng.range(-1.0 / 160.0, 1.0 / 160.0),
            c.lat + rng.range(-1.0 / 240.0, 1.0 / 240.0),
        )
    };
    let mut s = String::from(
        "id,name,kind,lat,lon,beds,capacity,home_visits,support_designation,on_call_24h,backup_beds,end_of_life,discharge_support,coordination_hub\n",
    );
    for (kind, prefix, national) in KIND_COUNTS {
        let mut n = (national * total_pop / JAPAN_POPULATION).round() as usize;
        let mut at_points = Vec::new();
        if kind == "community_support_center" {
            // Every municipality has one at its office; the rest follow population.
            at_points = munis.iter().map(|m| (m.place.lon, m.place.lat)).collect();
            n = n.max(at_points.len());
        }
        for i in 0..n {
            let (lon, lat) = at_points.get(i).copied().unwrap_or_else(|| pick(rng));
            let mut beds = None;
            let mut capacity = None;
            let mut f = [false; 7]; // home_visits, support, on_call, backup, eol, discharge, hub
            match kind {
                "hospital" => {
                    let b = (20.0 + (-rng.f().max(1e-9).ln()) * 180.0).round().min(1200.0);
                    beds = Some(b);
                    f[0] = rng.p(0.35);
                    f[1] = b < 200.0 && f[0] && rng.p(0.6);
                    f[2] = f[1] || (f[0] && rng.p(0.15));
                    f[3] = f[1] || (b >= 200.0 && rng.p(0.3)) || rng.p(0.15);
                    f[4] = f[0] && (f[1] || rng.p(0.4));
                    f[5] = rng.p(if b >= 100.0 { 0.8 } else { 0.4 });
                    f[6] = rng.p(0.03);
                    if f[0] {
                        capacity = Some((rng.range(20.0, 200.0)).round());
                    }
                }
                "clinic" => {
                    if rng.p(0.055) {
                        beds = Some(rng.range(1.0, 19.0).round());
                    }
                    f[0] = rng.p(0.2);
                    f[1] = f[0] && rng.p(0.7);
                    f[2] = f[1] || (f[0] && rng.p(0.2));
                    f[3] = beds.is_some() && rng.p(0.5);
                    f[4] = f[0] && rng.p(if f[1] { 0.8 } else { 0.3 });
                    f[5] = beds.is_some() && rng.p(0.3);
                    f[6] = rng.p(0.005);
                    if f[0] {
                        capacity = Some((rng.range(10.0, 150.0)).round());
                    }
                }
                "dental_clinic" => f[0] = rng.p(0.2),
                "pharmacy" => f[0] = rng.p(0.55),
                "visiting_nurse" => {
                    f[0] = true;
                    f[2] = rng.p(0.87);
                    f[4] = rng.p(0.65);
                    f[6] = rng.p(0.02);
                    capacity = Some((rng.range(30.0, 120.0)).round());
                }
                "community_support_center" => f[6] = i < at_points.len() && rng.p(0.5),
                "geriatric_facility" => beds = Some(100.0),
                _ => {}
            }
            let flag = |b: bool| if b { "1" } else { "0" };
            let num = |x: Option<f64>| x.map(|v| v.to_string()).unwrap_or_default();
            writeln!(
                s,
                "{prefix}{:06},{kind} {},{kind},{:.6},{:.6},{},{},{},{},{},{},{},{},{}",
                i + 1,
                i + 1,
                lat,
                lon,
                num(beds),
                num(capacity),
                flag(f[0]),
                flag(f[1]),
                flag(f[2]),
                flag(f[3]),
                flag(f[4]),
                flag(f[5]),
                flag(f[6])
            )
            .unwrap();
        }
    }
    std::fs::write(path, s).expect("write institutions");
}
