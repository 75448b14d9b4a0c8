//! Layer styles: QGIS style files (QML) for the layers zaitaku writes, and the colour
//! classes the maps and the report share with them.
//!
//! - shares 0-1 (coverage): five graduated classes around the guideline's 90 % line,
//!   red (low) to green (ColorBrewer RdYlGn);
//! - deltas (compare): seven diverging classes, red for loss, blue for gain (RdBu);
//! - institution kinds, and gaps per function: categories;
//! - catchments and regions: outlines only, so they sit over a choropleth.
//!
//! A `.qml` beside a GeoJSON file is loaded by QGIS as that layer's default style; the
//! GeoPackage carries the same QML in `layer_styles`. Symbol properties are written both as
//! `<Option>` maps (QGIS 3.26 and later) and as `<prop>` pairs (earlier 3.x).

use crate::outputs::gpkg::ColumnType;

/// A style for one layer.
#[derive(Debug, Clone)]
pub struct Style {
    pub name: String,
    pub description: String,
    pub qml: String,
    pub default: bool,
}

/// A class of a graduated style: values in `lower..=upper` (the first class that holds a
/// value takes it), its colour and its legend label.
#[derive(Debug, Clone, Copy)]
pub struct Class {
    pub lower: f64,
    pub upper: f64,
    pub colour: [u8; 3],
    pub label: &'static str,
}

/// Share of demand covered.
pub const SHARE_CLASSES: [Class; 5] = [
    Class {
        lower: 0.0,
        upper: 0.5,
        colour: [215, 25, 28],
        label: "< 50 %",
    },
    Class {
        lower: 0.5,
        upper: 0.8,
        colour: [253, 174, 97],
        label: "50 – 80 %",
    },
    Class {
        lower: 0.8,
        upper: 0.9,
        colour: [255, 255, 191],
        label: "80 – 90 %",
    },
    Class {
        lower: 0.9,
        upper: 0.95,
        colour: [166, 217, 106],
        label: "90 – 95 %",
    },
    Class {
        lower: 0.95,
        upper: 1.0,
        colour: [26, 150, 65],
        label: "≥ 95 %",
    },
];

/// Change of a share between two scenarios.
pub const DELTA_CLASSES: [Class; 7] = [
    Class {
        lower: -1.0,
        upper: -0.1,
        colour: [178, 24, 43],
        label: "−10 points or more",
    },
    Class {
        lower: -0.1,
        upper: -0.02,
        colour: [239, 138, 98],
        label: "−2 to −10 points",
    },
    Class {
        lower: -0.02,
        upper: -0.0005,
        colour: [253, 219, 199],
        label: "−0.05 to −2 points",
    },
    Class {
        lower: -0.0005,
        upper: 0.0005,
        colour: [247, 247, 247],
        label: "no change",
    },
    Class {
        lower: 0.0005,
        upper: 0.02,
        colour: [209, 229, 240],
        label: "+0.05 to +2 points",
    },
    Class {
        lower: 0.02,
        upper: 0.1,
        colour: [103, 169, 207],
        label: "+2 to +10 points",
    },
    Class {
        lower: 0.1,
        upper: 1.0,
        colour: [33, 102, 172],
        label: "+10 points or more",
    },
];

/// The colour of a share (grey when there is no demand to share).
pub fn share_colour(share: Option<f64>) -> [u8; 3] {
    class_of(&SHARE_CLASSES, share).map_or([200, 200, 200], |c| c.colour)
}

/// The first class holding `v`.
pub fn class_of(classes: &[Class], v: Option<f64>) -> Option<&Class> {
    let v = v.filter(|v| v.is_finite())?;
    classes.iter().find(|c| v >= c.lower && v <= c.upper).or_else(|| {
        // Below the first or above the last class: the nearest end.
        if v < classes.first()?.lower {
            classes.first()
        } else {
            classes.last()
        }
    })
}

/// Institution kinds, with their colours (Tableau 10) and Japanese names.
pub const KIND_COLOURS: [(&str, &str, [u8; 3]); 8] = [
    ("hospital", "病院", [214, 39, 40]),
    ("clinic", "診療所", [31, 119, 180]),
    ("dental_clinic", "歯科診療所", [148, 103, 189]),
    ("pharmacy", "薬局", [44, 160, 44]),
    ("visiting_nurse", "訪問看護ステーション", [255, 127, 14]),
    ("care_manager", "居宅介護支援事業所", [140, 86, 75]),
    ("community_support_center", "地域包括支援センター", [227, 119, 194]),
    ("geriatric_facility", "介護老人保健施設", [127, 127, 127]),
];

/// Colours for categories without their own (functions of the gaps layer, catchments).
pub const CATEGORY_COLOURS: [[u8; 3]; 10] = [
    [228, 26, 28],
    [55, 126, 184],
    [77, 175, 74],
    [152, 78, 163],
    [255, 127, 0],
    [166, 86, 40],
    [247, 129, 191],
    [153, 153, 153],
    [255, 217, 47],
    [26, 26, 26],
];

/// Catchment outlines in the maps and styles.
pub const CATCHMENT_OUTLINE: [u8; 3] = [34, 34, 34];
/// Region outlines.
pub const REGION_OUTLINE: [u8; 3] = [31, 78, 156];
/// Gap squares.
pub const GAP_COLOUR: [u8; 3] = [90, 0, 60];

fn rgba(c: [u8; 3], alpha: u8) -> String {
    format!("{},{},{},{alpha}", c[0], c[1], c[2])
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A symbol layer with its properties in both spellings.
fn symbol_layer(class: &str, props: &[(&str, String)]) -> String {
    let mut s = format!("<layer class=\"{class}\" enabled=\"1\" pass=\"0\" locked=\"0\"><Option type=\"Map\">");
    for (k, v) in props {
        s.push_str(&format!(
            "<Option name=\"{k}\" value=\"{}\" type=\"QString\"/>",
            xml_escape(v)
        ));
    }
    s.push_str("</Option>");
    for (k, v) in props {
        s.push_str(&format!("<prop k=\"{k}\" v=\"{}\"/>", xml_escape(v)));
    }
    s.push_str("</layer>");
    s
}

/// A fill symbol: `fill` colour and alpha (none: hollow), outline colour, width in mm, style.
fn fill_symbol(name: &str, fill: Option<([u8; 3], u8)>, outline: [u8; 3], width_mm: f64, dash: &str) -> String {
    let (colour, style) = match fill {
        Some((c, a)) => (rgba(c, a), "solid"),
        None => (rgba([255, 255, 255], 0), "no"),
    };
    format!(
        "<symbol type=\"fill\" name=\"{name}\" alpha=\"1\" clip_to_extent=\"1\" force_rhr=\"0\">{}</symbol>",
        symbol_layer(
            "SimpleFill",
            &[
                ("color", colour),
                ("style", style.into()),
                ("outline_color", rgba(outline, 255)),
                ("outline_width", format!("{width_mm}")),
                ("outline_width_unit", "MM".into()),
                ("outline_style", dash.into()),
                ("joinstyle", "round".into()),
            ],
        )
    )
}

/// A marker symbol: a shape (`circle`, `star`, ...) of `size_mm`.
fn marker_symbol(name: &str, colour: [u8; 3], shape: &str, size_mm: f64) -> String {
    format!(
        "<symbol type=\"marker\" name=\"{name}\" alpha=\"1\" clip_to_extent=\"1\" force_rhr=\"0\">{}</symbol>",
        symbol_layer(
            "SimpleMarker",
            &[
                ("color", rgba(colour, 255)),
                ("name", shape.into()),
                ("size", format!("{size_mm}")),
                ("size_unit", "MM".into()),
                ("outline_color", rgba([255, 255, 255], 255)),
                ("outline_width", "0.2".into()),
                ("outline_width_unit", "MM".into()),
                ("outline_style", "solid".into()),
            ],
        )
    )
}

/// A whole style file. QGIS refuses a style whose geometry type (0 point, 2 polygon) differs
/// from the layer's, so it is taken from the renderer's symbols.
fn document(renderer: &str) -> String {
    let geometry = if renderer.contains("<symbol type=\"marker\"") {
        0
    } else {
        2
    };
    format!(
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n<qgis version=\"3.22.0\" styleCategories=\"Symbology\">\n{renderer}\n<blendMode>0</blendMode>\n<featureBlendMode>0</featureBlendMode>\n<layerGeometryType>{geometry}</layerGeometryType>\n</qgis>\n"
    )
}

/// A graduated style on `attr` with `classes` (polygons, thin grey outline).
pub fn graduated(attr: &str, classes: &[Class]) -> String {
    graduated_with(attr, classes, |i, c| {
        fill_symbol(&i.to_string(), Some((c.colour, 255)), [110, 110, 110], 0.15, "solid")
    })
}

/// Demand that one institution alone keeps covered (people).
pub const UNIQUE_CLASSES: [Class; 5] = [
    Class {
        lower: 0.0,
        upper: 0.0,
        colour: [189, 189, 189],
        label: "none",
    },
    Class {
        lower: 1e-9,
        upper: 100.0,
        colour: [254, 217, 118],
        label: "up to 100",
    },
    Class {
        lower: 100.0,
        upper: 1000.0,
        colour: [253, 141, 60],
        label: "100 – 1,000",
    },
    Class {
        lower: 1000.0,
        upper: 10000.0,
        colour: [227, 26, 28],
        label: "1,000 – 10,000",
    },
    Class {
        lower: 10000.0,
        upper: 1e15,
        colour: [128, 0, 38],
        label: "10,000 or more",
    },
];

/// A graduated style on `attr` with `classes` for points: circles growing with the class.
pub fn graduated_markers(attr: &str, classes: &[Class]) -> String {
    graduated_with(attr, classes, |i, c| {
        let size = [1.2, 2.0, 2.8, 3.6, 4.4][i.min(4)];
        marker_symbol(&i.to_string(), c.colour, "circle", size)
    })
}

/// A graduated style on `attr`: one range per class, drawn with `symbol(index, class)`.
fn graduated_with(attr: &str, classes: &[Class], symbol: impl Fn(usize, &Class) -> String) -> String {
    let mut ranges = String::new();
    let mut symbols = String::new();
    for (i, c) in classes.iter().enumerate() {
        ranges.push_str(&format!(
            "<range lower=\"{}\" upper=\"{}\" symbol=\"{i}\" label=\"{}\" render=\"true\"/>",
            c.lower,
            c.upper,
            xml_escape(c.label)
        ));
        symbols.push_str(&symbol(i, c));
    }
    document(&format!(
        "<renderer-v2 type=\"graduatedSymbol\" attr=\"{}\" graduatedMethod=\"GraduatedColor\" symbollevels=\"0\" enableorderby=\"0\" forceraster=\"0\"><ranges>{ranges}</ranges><symbols>{symbols}</symbols><mode name=\"manual\"/></renderer-v2>",
        xml_escape(attr)
    ))
}

/// A categorised style on `attr`: each category a value, a label and a symbol.
fn categorized(attr: &str, categories: &[(String, String, String)]) -> String {
    let mut cats = String::new();
    let mut symbols = String::new();
    for (i, (value, label, symbol)) in categories.iter().enumerate() {
        cats.push_str(&format!(
            "<category value=\"{}\" symbol=\"{i}\" label=\"{}\" render=\"true\"/>",
            xml_escape(value),
            xml_escape(label)
        ));
        symbols.push_str(&symbol.replacen("name=\"\"", &format!("name=\"{i}\""), 1));
    }
    document(&format!(
        "<renderer-v2 type=\"categorizedSymbol\" attr=\"{}\" symbollevels=\"0\" enableorderby=\"0\" forceraster=\"0\"><categories>{cats}</categories><symbols>{symbols}</symbols></renderer-v2>",
        xml_escape(attr)
    ))
}

fn single(symbol: &str) -> String {
    document(&format!(
        "<renderer-v2 type=\"singleSymbol\" symbollevels=\"0\" enableorderby=\"0\" forceraster=\"0\"><symbols>{}</symbols></renderer-v2>",
        symbol.replacen("name=\"\"", "name=\"0\"", 1)
    ))
}

fn style(name: String, description: String, qml: String, default: bool) -> Style {
    Style {
        name,
        description,
        qml,
        default,
    }
}

/// Function ids of a layer, from its `<function>_<suffix>` columns.
fn functions_with(columns: &[(String, ColumnType)], suffix: &str) -> Vec<String> {
    columns
        .iter()
        .filter_map(|(c, _)| c.strip_suffix(suffix).map(str::to_string))
        .filter(|f| !f.is_empty() && !f.contains("_share_"))
        .collect()
}

/// What a style may ask of a layer's values.
pub struct LayerValues<'a> {
    /// The distinct text values of a column, in first-seen order.
    pub distinct: &'a dyn Fn(&str) -> Vec<String>,
    /// The largest absolute number in a column (0 without numbers).
    pub max_abs: &'a dyn Fn(&str) -> f64,
}

/// The styles of a layer written as `<table>.geojson` with `columns`, one of them the
/// default. Layers without a style of their own get none (QGIS then picks one).
pub fn for_layer(table: &str, columns: &[(String, ColumnType)], values: &LayerValues) -> Vec<Style> {
    match table {
        "coverage" => functions_with(columns, "_share")
            .into_iter()
            .enumerate()
            .map(|(i, f)| {
                style(
                    format!("{f}_share"),
                    format!("Share of demand within reach of every required role for {f}"),
                    graduated(&format!("{f}_share"), &SHARE_CLASSES),
                    i == 0,
                )
            })
            .collect(),
        "capacity" => functions_with(columns, "_served_share")
            .into_iter()
            .enumerate()
            .map(|(i, f)| {
                style(
                    format!("{f}_served_share"),
                    format!("Share of the need for {f} served within reach under providers' capacities"),
                    graduated(&format!("{f}_served_share"), &SHARE_CLASSES),
                    i == 0,
                )
            })
            .collect(),
        "diff" => {
            // The default shows the function that changed most.
            let functions = functions_with(columns, "_delta");
            let changes: Vec<f64> = functions
                .iter()
                .map(|f| (values.max_abs)(&format!("{f}_delta")))
                .collect();
            let most = (0..functions.len())
                .max_by(|&a, &b| changes[a].total_cmp(&changes[b]).then(b.cmp(&a)))
                .unwrap_or(0);
            functions
                .into_iter()
                .enumerate()
                .map(|(i, f)| {
                    style(
                        format!("{f}_delta"),
                        format!("Change of the covered share of {f}, alternative minus base"),
                        graduated(&format!("{f}_delta"), &DELTA_CLASSES),
                        i == most,
                    )
                })
                .collect()
        }
        "gaps" => {
            let cats: Vec<(String, String, String)> = (values.distinct)("function")
                .into_iter()
                .enumerate()
                .map(|(i, f)| {
                    let c = CATEGORY_COLOURS[i % CATEGORY_COLOURS.len()];
                    (f.clone(), f, fill_symbol("", Some((c, 150)), c, 0.1, "solid"))
                })
                .collect();
            vec![style(
                "gaps by function".into(),
                "Uncovered mesh squares, one category per function (switch them in the legend)".into(),
                categorized("function", &cats),
                true,
            )]
        }
        "institutions" => {
            let cats: Vec<(String, String, String)> = KIND_COLOURS
                .iter()
                .map(|(kind, ja, c)| {
                    (
                        kind.to_string(),
                        format!("{ja} {kind}"),
                        marker_symbol("", *c, "circle", 1.6),
                    )
                })
                .collect();
            vec![style(
                "kinds".into(),
                "Institutions by kind".into(),
                categorized("kind", &cats),
                true,
            )]
        }
        "catchments" => vec![style(
            "outlines".into(),
            "Proposed catchment areas, outlines".into(),
            single(&fill_symbol("", None, CATCHMENT_OUTLINE, 0.8, "solid")),
            true,
        )],
        "regions" => vec![style(
            "outlines".into(),
            "Regions checked (for example the secondary medical regions), dashed outlines".into(),
            single(&fill_symbol("", None, REGION_OUTLINE, 0.6, "dash")),
            true,
        )],
        "criticality" => vec![style(
            "largest_unique".into(),
            "Institutions by the demand their closure alone would uncover (largest over the functions)".into(),
            graduated_markers("largest_unique", &UNIQUE_CLASSES),
            true,
        )],
        "suggestions" => vec![style(
            "sites".into(),
            "Suggested sites".into(),
            single(&marker_symbol("", [200, 0, 0], "star", 4.0)),
            true,
        )],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_take_boundaries_in_the_first_class() {
        assert_eq!(class_of(&SHARE_CLASSES, Some(0.9)).map(|c| c.label), Some("80 – 90 %"));
        assert_eq!(
            class_of(&SHARE_CLASSES, Some(0.9001)).map(|c| c.label),
            Some("90 – 95 %")
        );
        assert_eq!(class_of(&SHARE_CLASSES, Some(1.0)).map(|c| c.label), Some("≥ 95 %"));
        assert_eq!(class_of(&DELTA_CLASSES, Some(0.0)).map(|c| c.label), Some("no change"));
        assert_eq!(
            class_of(&DELTA_CLASSES, Some(-2.0)).map(|c| c.label),
            Some("−10 points or more")
        );
        assert!(class_of(&SHARE_CLASSES, None).is_none());
        assert_eq!(share_colour(None), [200, 200, 200]);
    }

    #[test]
    fn coverage_gets_one_style_per_function_the_first_default() {
        let cols: Vec<(String, ColumnType)> = ["code", "daily_share", "acute_share", "daily_share_2035"]
            .iter()
            .map(|c| (c.to_string(), ColumnType::Real))
            .collect();
        let values = LayerValues {
            distinct: &|_| Vec::new(),
            max_abs: &|c| if c == "acute_delta" { 0.2 } else { 0.0 },
        };
        let styles = for_layer("coverage", &cols, &values);
        let names: Vec<&str> = styles.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, vec!["daily_share", "acute_share"]);
        assert!(styles[0].default && !styles[1].default);
        assert_eq!(styles[0].qml.matches("<range ").count(), 5);
        assert!(styles[0].qml.contains("attr=\"daily_share\""));
        let deltas: Vec<(String, ColumnType)> = ["daily_delta", "acute_delta"]
            .iter()
            .map(|c| (c.to_string(), ColumnType::Real))
            .collect();
        let diff = for_layer("diff", &deltas, &values);
        let default: Vec<&str> = diff.iter().filter(|s| s.default).map(|s| s.name.as_str()).collect();
        assert_eq!(default, vec!["acute_delta"]);
    }
}
