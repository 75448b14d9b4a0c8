//! The indicator catalogue (指標): which counts and rates describe each function, as a data
//! file. Structure indicators count institutions by kind, flags and beds; process and
//! outcome indicators sum a column of a table the user gives, never invented.

use crate::error::{Error, Location, Result};
use crate::inputs::institutions::{Flag, Flags, Institution, Kind, KindSet};
use crate::inputs::source::{decode_text, Source};
use serde::{Deserialize, Serialize};
use toml::Spanned;

/// The built-in catalogue.
pub const DEFAULT_CATALOGUE: &str = include_str!("default_catalogue.toml");

/// Structure, process or outcome (ストラクチャー・プロセス・アウトカム).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Structure,
    Process,
    Outcome,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Structure => "structure",
            Category::Process => "process",
            Category::Outcome => "outcome",
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueFile {
    indicators: Vec<IndicatorFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IndicatorFile {
    id: Spanned<String>,
    label_ja: String,
    #[serde(default)]
    label_en: String,
    function: String,
    category: Category,
    #[serde(default)]
    key: bool,
    count: Option<CountFile>,
    table: Option<TableFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CountFile {
    kinds: Vec<Kind>,
    #[serde(default)]
    flags: Vec<Flag>,
    #[serde(default)]
    min_beds: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TableFile {
    column: String,
}

/// How an indicator is measured.
#[derive(Debug, Clone, PartialEq)]
pub enum Measure {
    /// Institutions matching kinds, every flag, and at least `min_beds` beds.
    Count {
        kinds: KindSet,
        flags: Flags,
        min_beds: f64,
    },
    /// The sum of a column of the `--table` files.
    Table { column: String },
}

impl Measure {
    pub fn matches(&self, inst: &Institution) -> bool {
        match self {
            Measure::Count { kinds, flags, min_beds } => {
                kinds.contains(inst.kind) && inst.flags.contains_all(*flags) && inst.beds.unwrap_or(0.0) >= *min_beds
            }
            Measure::Table { .. } => false,
        }
    }
}

/// One indicator.
#[derive(Debug, Clone, PartialEq)]
pub struct Indicator {
    pub id: String,
    pub label_ja: String,
    pub label_en: String,
    pub function: String,
    pub category: Category,
    /// A key indicator (重点指標 ●).
    pub key: bool,
    pub measure: Measure,
}

/// Reads a catalogue. Unknown fields, kinds or flags, duplicate ids, and an indicator with
/// neither or both of `count` and `table` are errors naming the line.
pub fn parse_catalogue(source: &Source) -> Result<Vec<Indicator>> {
    let (text, _) = decode_text(source)?;
    let line_of = |offset: usize| Location::Line(1 + text[..offset.min(text.len())].matches('\n').count() as u64);
    let file: CatalogueFile = toml::from_str(&text).map_err(|e| {
        let location = e.span().map(|s| line_of(s.start)).unwrap_or(Location::File);
        Error::input(&source.name, location, e.message().to_string())
    })?;
    let mut out: Vec<Indicator> = Vec::new();
    for i in file.indicators {
        let id = i.id.get_ref().clone();
        let bad = |p: String| Error::input(&source.name, line_of(i.id.span().start), p);
        if out.iter().any(|o| o.id == id) {
            return Err(bad(format!("indicator '{id}' is defined twice")));
        }
        let measure = match (i.count, i.table) {
            (Some(c), None) => Measure::Count {
                kinds: c.kinds.into_iter().collect(),
                flags: c.flags.into_iter().collect(),
                min_beds: c.min_beds,
            },
            (None, Some(t)) => Measure::Table { column: t.column },
            _ => return Err(bad(format!("indicator '{id}' needs exactly one of count or table"))),
        };
        out.push(Indicator {
            id,
            label_ja: i.label_ja,
            label_en: i.label_en,
            function: i.function,
            category: i.category,
            key: i.key,
            measure,
        });
    }
    Ok(out)
}

/// The built-in catalogue.
pub fn builtin_catalogue() -> Vec<Indicator> {
    parse_catalogue(&Source::new("built-in catalogue", DEFAULT_CATALOGUE.as_bytes()))
        .unwrap_or_else(|e| panic!("the built-in catalogue must be valid: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalogue_covers_every_function() {
        let c = builtin_catalogue();
        for f in ["discharge", "daily", "acute", "end_of_life", "hub"] {
            assert!(
                c.iter().any(|i| i.function == f && i.category == Category::Structure),
                "{f}"
            );
        }
        assert!(c.iter().any(|i| matches!(i.measure, Measure::Table { .. })));
    }

    #[test]
    fn unknown_field_names_the_line() {
        let text = "[[indicators]]\nid = \"a\"\nlabel_ja = \"x\"\nfunction = \"daily\"\ncategory = \"structure\"\ncolour = 1\ncount = { kinds = [\"clinic\"] }\n";
        let err = parse_catalogue(&Source::new("cat.toml", text.as_bytes()))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("cat.toml: line 6: unknown field `colour`"), "{err}");
        let text = text.replace("colour = 1\n", "").replace("[\"clinic\"]", "[\"castle\"]");
        let err = parse_catalogue(&Source::new("cat.toml", text.as_bytes()))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("cat.toml: line 6: unknown kind 'castle'"), "{err}");
    }
}
