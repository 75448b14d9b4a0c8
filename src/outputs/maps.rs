//! Maps without a GIS: one choropleth per function (covered share per municipality, the
//! classes of [`crate::outputs::styles::SHARE_CLASSES`]), the uncovered mesh squares over
//! it, catchment outlines when there are any, a legend, a scale bar, a north arrow and the
//! prefecture's name.
//!
//! Each map is drawn once as SVG text; `usvg` turns its text into outlines with the
//! embedded Noto Sans CJK JP subset (so the `.svg` needs no font), and `resvg` rasterises the
//! same tree to the `.png`. Geometry is simplified for drawing only (Ramer-Douglas-Peucker at
//! half a pixel); the data layers keep every vertex.
//!
//! The projection is equirectangular around the middle latitude (x scaled by its cosine),
//! which keeps shapes and the scale bar true within a prefecture.

use crate::coverage::Coverage;
use crate::error::{Error, Result};
use crate::outputs::styles::{share_colour, CATCHMENT_OUTLINE, GAP_COLOUR, SHARE_CLASSES};
use crate::outputs::OutDir;
use crate::study::Study;
use geo::{MultiPolygon, Simplify};
use rayon::prelude::*;
use std::fmt::Write as _;
use std::sync::Arc;

/// The font compiled in for map text (SIL OFL 1.1; see `src/outputs/assets/README.md`).
pub const FONT: &[u8] = include_bytes!("assets/NotoSansCJKjp-Regular-subset.otf");
/// Its family name.
pub const FONT_FAMILY: &str = "Noto Sans CJK JP";

/// Map size in pixels.
pub const WIDTH: u32 = 1400;
pub const HEIGHT: u32 = 1000;

/// The map frame: left, top, width, height.
const FRAME: (f64, f64, f64, f64) = (20.0, 90.0, 1000.0, 890.0);

/// Where lon/lat land on the page.
#[derive(Debug, Clone, Copy)]
pub struct Projection {
    lon0: f64,
    lat1: f64,
    cos: f64,
    scale: f64,
    x0: f64,
    y0: f64,
}

impl Projection {
    /// Fits `bbox` (min lon, min lat, max lon, max lat) into the map frame.
    pub fn fit(bbox: [f64; 4]) -> Projection {
        let [lon_min, lat_min, lon_max, lat_max] = bbox;
        let cos = ((lat_min + lat_max) / 2.0).to_radians().cos();
        let w = ((lon_max - lon_min) * cos).max(1e-9);
        let h = (lat_max - lat_min).max(1e-9);
        let (fx, fy, fw, fh) = FRAME;
        let scale = (fw / w).min(fh / h) * 0.96;
        Projection {
            lon0: lon_min,
            lat1: lat_max,
            cos,
            scale,
            x0: fx + (fw - w * scale) / 2.0,
            y0: fy + (fh - h * scale) / 2.0,
        }
    }

    pub fn xy(&self, lon: f64, lat: f64) -> (f64, f64) {
        (
            self.x0 + (lon - self.lon0) * self.cos * self.scale,
            self.y0 + (self.lat1 - lat) * self.scale,
        )
    }

    /// Degrees of latitude per pixel.
    pub fn degrees_per_pixel(&self) -> f64 {
        1.0 / self.scale
    }

    /// Pixels per kilometre east-west at the middle latitude (WGS84 radius of curvature
    /// along the parallel; close enough for a scale bar).
    pub fn pixels_per_km(&self) -> f64 {
        let a = 6_378.137;
        let e2 = 0.006_694_379_990_14;
        let phi = self.cos.acos();
        let n = a / (1.0 - e2 * phi.sin().powi(2)).sqrt();
        let km_per_degree_lon = n * phi.cos() * std::f64::consts::PI / 180.0;
        self.cos * self.scale / km_per_degree_lon
    }
}

/// Appends an SVG path for the rings of `mp` (one subpath per ring; holes by even-odd).
fn path_data(d: &mut String, mp: &MultiPolygon<f64>, p: &Projection) {
    for poly in &mp.0 {
        for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
            let mut last: Option<(i64, i64)> = None;
            let mut n = 0;
            for c in &ring.0 {
                let (x, y) = p.xy(c.x, c.y);
                let key = ((x * 10.0).round() as i64, (y * 10.0).round() as i64);
                if last == Some(key) {
                    continue;
                }
                let _ = write!(
                    d,
                    "{}{:.1} {:.1}",
                    if n == 0 { "M" } else { "L" },
                    key.0 as f64 / 10.0,
                    key.1 as f64 / 10.0
                );
                last = Some(key);
                n += 1;
            }
            if n > 0 {
                d.push('Z');
            }
        }
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn hex(c: [u8; 3]) -> String {
    format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2])
}

/// Thousands separators.
pub fn grouped(x: f64) -> String {
    let n = x.round() as i64;
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// The name of the area a study covers: its prefecture, a few joined, or a count.
pub fn area_name(study: &Study) -> String {
    let mut prefectures: Vec<&str> = Vec::new();
    for m in &study.municipalities {
        if !prefectures.contains(&m.prefecture.as_str()) {
            prefectures.push(&m.prefecture);
        }
    }
    match prefectures.len() {
        0 => String::new(),
        1..=3 => prefectures.join("・"),
        47 => "全国 (47 prefectures)".into(),
        n => format!("{n} prefectures"),
    }
}

/// The words for the rules' demand column.
pub fn demand_words(study: &Study) -> &'static str {
    use crate::demand::DemandBasis;
    let DemandBasis::Population { column } = study.demand.basis else {
        return "area (no population given)";
    };
    match column {
        crate::inputs::rules::DemandColumn::Population => "people",
        crate::inputs::rules::DemandColumn::Population65Plus => "people aged 65+",
        crate::inputs::rules::DemandColumn::Population75Plus => "people aged 75+",
        crate::inputs::rules::DemandColumn::Population0To14 => "children aged 0-14",
    }
}

/// The study's extent (min lon, min lat, max lon, max lat); Japan's for an empty study.
pub fn study_bbox(study: &Study) -> [f64; 4] {
    study
        .municipalities
        .iter()
        .map(|m| [m.bbox.min().x, m.bbox.min().y, m.bbox.max().x, m.bbox.max().y])
        .reduce(|a, b| [a[0].min(b[0]), a[1].min(b[1]), a[2].max(b[2]), a[3].max(b[3])])
        .unwrap_or([122.0, 20.0, 154.0, 46.0])
}

/// What the maps draw, prepared once for every function.
pub struct MapLayers {
    projection: Projection,
    /// Municipality outlines, simplified, in page coordinates (SVG path data).
    municipalities: Vec<String>,
    catchments: String,
    area: String,
    /// Line widths for municipality and catchment outlines: thinner when there are many.
    widths: (f64, f64),
}

impl MapLayers {
    /// Simplifies and projects the study's municipalities and the `catchments` outlines.
    pub fn new(study: &Study, catchments: &[MultiPolygon<f64>]) -> MapLayers {
        let projection = Projection::fit(study_bbox(study));
        let eps = projection.degrees_per_pixel() * 0.5;
        let municipalities = study
            .municipalities
            .par_iter()
            .map(|m| {
                let mut d = String::new();
                path_data(&mut d, &m.geometry.simplify(eps), &projection);
                d
            })
            .collect();
        let mut outlines = String::new();
        for c in catchments {
            path_data(&mut outlines, &c.simplify(eps), &projection);
        }
        let widths = if study.municipalities.len() > 300 {
            (0.2, 0.7)
        } else {
            (0.5, 1.8)
        };
        MapLayers {
            projection,
            municipalities,
            catchments: outlines,
            area: area_name(study),
            widths,
        }
    }
}

/// The SVG of function `f`'s map.
pub fn function_svg(study: &Study, cov: &Coverage, layers: &MapLayers, f: usize) -> String {
    let p = &layers.projection;
    let function = &study.rules.functions[f];
    let (w, h) = (WIDTH, HEIGHT);
    let mut s = String::with_capacity(1 << 20);
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" font-family=\"{FONT_FAMILY}\">\
         <rect width=\"{w}\" height=\"{h}\" fill=\"#ffffff\"/>"
    );
    // Title: the area and the function.
    let total = &cov.total[f];
    let _ = write!(
        s,
        "<text x=\"20\" y=\"40\" font-size=\"28\" fill=\"#111\">{} — {} ({})</text>",
        escape(&layers.area),
        escape(&function.label),
        escape(&function.id)
    );
    let _ = write!(
        s,
        "<text x=\"20\" y=\"72\" font-size=\"17\" fill=\"#333\">Share of {} within reach of every required role: {} covered, {} not covered</text>",
        demand_words(study),
        total.share.map_or("no demand".into(), |v| format!("{:.1} %", v * 100.0)),
        grouped(total.uncovered())
    );
    let (fx, fy, fw, fh) = FRAME;
    let _ = write!(
        s,
        "<rect x=\"{fx}\" y=\"{fy}\" width=\"{fw}\" height=\"{fh}\" fill=\"#eef3f7\" stroke=\"#888\" stroke-width=\"1\"/>"
    );
    // Municipalities, one path per class colour.
    let mut by_colour: Vec<([u8; 3], String)> = Vec::new();
    for (m, d) in layers.municipalities.iter().enumerate() {
        let colour = share_colour(cov.municipalities[m][f].share);
        match by_colour.iter_mut().find(|(c, _)| *c == colour) {
            Some((_, all)) => all.push_str(d),
            None => by_colour.push((colour, d.clone())),
        }
    }
    let _ = write!(
        s,
        "<g stroke=\"#707070\" stroke-width=\"{}\" stroke-linejoin=\"round\" fill-rule=\"evenodd\">",
        layers.widths.0
    );
    for (colour, d) in &by_colour {
        let _ = write!(s, "<path fill=\"{}\" d=\"{d}\"/>", hex(*colour));
    }
    s.push_str("</g>");
    // Uncovered mesh squares, at least a pixel and a bit wide so that they show.
    let mut gaps = String::new();
    for (i, c) in study.demand.cells.iter().enumerate() {
        if cov.functions[f].covered[i] || c.demand <= 0.0 {
            continue;
        }
        let sq = c.mesh.square();
        let (x0, y0) = p.xy(sq.min().x, sq.max().y);
        let (x1, y1) = p.xy(sq.max().x, sq.min().y);
        let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
        let half_w = ((x1 - x0) / 2.0).max(0.7);
        let half_h = ((y1 - y0) / 2.0).max(0.7);
        let _ = write!(
            gaps,
            "M{:.1} {:.1}h{:.1}v{:.1}h{:.1}Z",
            cx - half_w,
            cy - half_h,
            2.0 * half_w,
            2.0 * half_h,
            -2.0 * half_w
        );
    }
    if !gaps.is_empty() {
        let _ = write!(
            s,
            "<path fill=\"{}\" fill-opacity=\"0.85\" d=\"{gaps}\"/>",
            hex(GAP_COLOUR)
        );
    }
    if !layers.catchments.is_empty() {
        let _ = write!(
            s,
            "<path fill=\"none\" stroke=\"{}\" stroke-width=\"{}\" stroke-linejoin=\"round\" fill-rule=\"evenodd\" d=\"{}\"/>",
            hex(CATCHMENT_OUTLINE),
            layers.widths.1,
            layers.catchments
        );
    }
    // North arrow, top right of the frame.
    let (nx, ny) = (fx + fw - 40.0, fy + 30.0);
    let _ = write!(
        s,
        "<path d=\"M{nx} {ny}l-12 34l12 -8l12 8Z\" fill=\"#222\"/>\
         <text x=\"{nx}\" y=\"{}\" font-size=\"18\" text-anchor=\"middle\" fill=\"#222\">N</text>",
        ny - 6.0
    );
    // Scale bar, bottom left of the frame.
    let px_per_km = p.pixels_per_km();
    let km = [
        1.0, 2.0, 5.0, 10.0, 20.0, 25.0, 50.0, 100.0, 200.0, 250.0, 500.0, 1000.0,
    ]
    .into_iter()
    .rfind(|k| k * px_per_km <= 220.0)
    .unwrap_or(1.0);
    let bar = km * px_per_km;
    let (bx, by) = (fx + 20.0, fy + fh - 28.0);
    let _ = write!(
        s,
        "<rect x=\"{bx}\" y=\"{by}\" width=\"{:.1}\" height=\"8\" fill=\"#222\"/>\
         <rect x=\"{:.1}\" y=\"{by}\" width=\"{:.1}\" height=\"8\" fill=\"#fff\" stroke=\"#222\" stroke-width=\"1\"/>\
         <text x=\"{bx}\" y=\"{}\" font-size=\"15\" fill=\"#222\">0</text>\
         <text x=\"{:.1}\" y=\"{}\" font-size=\"15\" text-anchor=\"middle\" fill=\"#222\">{km} km</text>",
        bar / 2.0,
        bx + bar / 2.0,
        bar / 2.0,
        by - 6.0,
        bx + bar,
        by - 6.0
    );
    // Legend.
    let lx = fx + fw + 25.0;
    let mut ly = fy + 10.0;
    let _ = write!(
        s,
        "<text x=\"{lx}\" y=\"{}\" font-size=\"18\" fill=\"#111\">Covered share</text>",
        ly + 14.0
    );
    ly += 30.0;
    for class in SHARE_CLASSES.iter().rev() {
        let _ = write!(
            s,
            "<rect x=\"{lx}\" y=\"{ly}\" width=\"30\" height=\"20\" fill=\"{}\" stroke=\"#707070\" stroke-width=\"0.5\"/>\
             <text x=\"{}\" y=\"{}\" font-size=\"16\" fill=\"#222\">{}</text>",
            hex(class.colour),
            lx + 40.0,
            ly + 16.0,
            escape(class.label)
        );
        ly += 28.0;
    }
    let _ = write!(
        s,
        "<rect x=\"{lx}\" y=\"{ly}\" width=\"30\" height=\"20\" fill=\"{}\" stroke=\"#707070\" stroke-width=\"0.5\"/>\
         <text x=\"{}\" y=\"{}\" font-size=\"16\" fill=\"#222\">no demand</text>",
        hex(share_colour(None)),
        lx + 40.0,
        ly + 16.0
    );
    ly += 44.0;
    let _ = write!(
        s,
        "<rect x=\"{}\" y=\"{}\" width=\"12\" height=\"12\" fill=\"{}\"/>\
         <text x=\"{}\" y=\"{}\" font-size=\"16\" fill=\"#222\">uncovered mesh square</text>",
        lx + 9.0,
        ly + 4.0,
        hex(GAP_COLOUR),
        lx + 40.0,
        ly + 16.0
    );
    ly += 30.0;
    if !layers.catchments.is_empty() {
        let _ = write!(
            s,
            "<path d=\"M{lx} {}h30\" stroke=\"{}\" stroke-width=\"1.8\"/>\
             <text x=\"{}\" y=\"{}\" font-size=\"16\" fill=\"#222\">proposed catchment area</text>",
            ly + 10.0,
            hex(CATCHMENT_OUTLINE),
            lx + 40.0,
            ly + 16.0
        );
        ly += 30.0;
    }
    ly += 20.0;
    let roles: Vec<&str> = function
        .required_roles()
        .map(|r| study.rules.roles[r].id.as_str())
        .collect();
    let _ = write!(
        s,
        "<text x=\"{lx}\" y=\"{ly}\" font-size=\"15\" fill=\"#333\">Required roles:</text>"
    );
    for role in roles {
        ly += 21.0;
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{ly}\" font-size=\"15\" fill=\"#333\">{}</text>",
            lx + 10.0,
            escape(role)
        );
    }
    // The sources' credits, wrapped to the legend's width, above the version line.
    let lines: Vec<String> = study.credits.iter().flat_map(|c| wrap(c, 27)).collect();
    for (k, line) in lines.iter().enumerate() {
        let _ = write!(
            s,
            "<text x=\"{lx}\" y=\"{}\" font-size=\"12\" fill=\"#666\">{}</text>",
            fy + fh - 20.0 - 16.0 * (lines.len() - k) as f64,
            escape(line)
        );
    }
    let _ = write!(
        s,
        "<text x=\"{lx}\" y=\"{}\" font-size=\"13\" fill=\"#666\">zaitaku {} · equirectangular</text></svg>",
        fy + fh,
        env!("CARGO_PKG_VERSION")
    );
    s
}

fn usvg_options() -> usvg::Options<'static> {
    let mut opt = usvg::Options {
        font_family: FONT_FAMILY.to_string(),
        ..Default::default()
    };
    opt.fontdb_mut().load_font_data(FONT.to_vec());
    opt
}

/// The SVG with its text as outlines, and the PNG, of one map drawn as `svg`.
/// Splits text into lines of at most `width` display columns (a wide character counts two).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = vec![String::new()];
    let mut w = 0;
    for c in text.chars() {
        let cw = if c.is_ascii() { 1 } else { 2 };
        if w + cw > width * 2 && !lines.last().is_some_and(String::is_empty) {
            lines.push(String::new());
            w = 0;
        }
        if let Some(l) = lines.last_mut() {
            l.push(c);
        }
        w += cw;
    }
    lines
}

pub fn render(svg: &str, opt: &usvg::Options) -> Result<(String, Vec<u8>)> {
    let tree = usvg::Tree::from_str(svg, opt).map_err(|e| Error::Internal(format!("drawing a map: {e}")))?;
    let outlined = tree.to_string(&usvg::WriteOptions {
        coordinates_precision: 2,
        transforms_precision: 4,
        ..Default::default()
    });
    let mut pixmap = resvg::tiny_skia::Pixmap::new(WIDTH, HEIGHT)
        .ok_or_else(|| Error::Internal("cannot allocate the map image".into()))?;
    resvg::render(&tree, resvg::tiny_skia::Transform::default(), &mut pixmap.as_mut());
    let png = pixmap
        .encode_png()
        .map_err(|e| Error::Internal(format!("encoding a map as PNG: {e}")))?;
    Ok((outlined, png))
}

/// Writes `maps/<function>.svg` and `maps/<function>.png` for every function; returns each
/// function's id and PNG (for the report page).
pub fn write_maps(
    out: &mut OutDir,
    study: &Study,
    cov: &Coverage,
    catchments: &[MultiPolygon<f64>],
) -> Result<Vec<(String, Vec<u8>)>> {
    let layers = MapLayers::new(study, catchments);
    let opt = Arc::new(usvg_options());
    let drawn: Vec<(String, String, Vec<u8>)> = (0..study.rules.functions.len())
        .into_par_iter()
        .map(|f| {
            let (svg, png) = render(&function_svg(study, cov, &layers, f), &opt)?;
            Ok((study.rules.functions[f].id.clone(), svg, png))
        })
        .collect::<Result<_>>()?;
    let mut maps = OutDir::create(&out.path()?.join("maps"))?;
    for (id, svg, png) in &drawn {
        maps.write_bytes(&format!("{id}.svg"), svg.as_bytes())?;
        maps.write_bytes(&format!("{id}.png"), png)?;
    }
    maps.commit()?;
    out.record(maps.written());
    Ok(drawn.into_iter().map(|(id, _, png)| (id, png)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projection_fits_the_frame_and_keeps_the_scale() {
        // One degree square at 36° N: 90.2 km east-west, 111 km north-south.
        let p = Projection::fit([138.0, 36.0, 139.0, 37.0]);
        let (x0, y0) = p.xy(138.0, 37.0);
        let (x1, y1) = p.xy(139.0, 36.0);
        assert!(x0 >= FRAME.0 && x1 <= FRAME.0 + FRAME.2);
        assert!(y0 >= FRAME.1 && y1 <= FRAME.1 + FRAME.3);
        let ratio = (x1 - x0) / (y1 - y0);
        assert!((ratio - 36.5f64.to_radians().cos()).abs() < 1e-9);
        // 1° of longitude at 36.5° N is 89.6 km on the ellipsoid (geographiclib: 89.59 km).
        let km = (x1 - x0) / p.pixels_per_km();
        assert!((km - 89.6).abs() < 0.1, "{km}");
    }

    #[test]
    fn numbers_get_thousands_separators() {
        assert_eq!(grouped(1234567.4), "1,234,567");
        assert_eq!(grouped(-1000.0), "-1,000");
        assert_eq!(grouped(999.0), "999");
    }
}
