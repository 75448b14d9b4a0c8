//! A study assembled from its inputs: every file read by its reader (`inputs`), demand
//! placed in municipalities, designations joined, the scenario's edits applied, travel
//! times attached. Everything an analysis starts from.

// Inputs are untrusted bytes: no indexing that could panic.
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

pub mod edits;

use crate::demand::{self, Demand, PopulationInput};
use crate::error::{Location, Reject, Result};
use crate::inputs::institutions::{read_institutions, Institution};
use crate::inputs::municipalities::{read_municipalities, Municipality, MunicipalityKeys};
use crate::inputs::rules::Rules;
use crate::inputs::{estat, mesh, notifications, od_matrix, population, regions, rules, scenario, source, Source};
use crate::progress::Progress;
use serde::Serialize;
use std::collections::HashSet;

/// The files of one study.
#[derive(Debug, Clone)]
pub struct InputSources {
    pub municipalities: Source,
    pub population: Vec<Source>,
    pub institutions: Vec<Source>,
    /// `None`: the built-in rules.
    pub rules: Option<Source>,
    /// A layout of municipalities into regions, optional.
    pub regions: Option<Source>,
    pub keys: MunicipalityKeys,
    /// The scenario whose edits apply after reading, if any.
    pub scenario: Option<scenario::Scenario>,
    /// The year of projected population files (`--year`).
    pub year: Option<u16>,
    /// A road graph file (`--network`): travel-time reach instead of straight-line.
    pub network: Option<Source>,
    /// Travel times computed elsewhere (`--od-matrix`), instead of a graph.
    pub od_matrix: Option<Source>,
    /// Regional bureaus' notification lists (xlsx): support designations joined to the
    /// institutions by number.
    pub notifications: Vec<Source>,
    /// e-Stat value columns named on the command line (otherwise chosen by their labels).
    pub estat_columns: Option<population::EstatColumns>,
}

/// How one file was read: the no-lost-rows account (read = accepted + rejected).
#[derive(Debug, Clone, Default, Serialize)]
pub struct FileReport {
    pub file: String,
    pub role: &'static str,
    pub read: usize,
    pub accepted: usize,
    pub rejected: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding: Option<source::TextEncoding>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// e-Stat population: the column each measure was read from.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<estat::ColumnChoice>,
    /// Population files: people read, placed in municipalities and rejected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub people: Option<PeopleAccount>,
}

/// People of one population file: read = placed + rejected - moved, where `moved` is what
/// secrecy sharing moved into this file's cells from receiving cells of other files.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct PeopleAccount {
    pub population: Account,
    pub population_65plus: Account,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Account {
    pub read: f64,
    pub placed: f64,
    pub rejected: f64,
    #[serde(skip_serializing_if = "is_zero")]
    pub moved_in: f64,
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

impl FileReport {
    fn table(
        src: &Source,
        role: &'static str,
        read: usize,
        accepted: usize,
        rejects: &[Reject],
        encoding: Option<source::TextEncoding>,
    ) -> Self {
        FileReport {
            file: src.name.clone(),
            role,
            read,
            accepted,
            rejected: rejects.len(),
            encoding,
            ..Default::default()
        }
    }
}

/// A study, read and checked: what every analysis starts from.
#[derive(Debug, Clone)]
pub struct Study {
    /// Sorted by code.
    pub municipalities: Vec<Municipality>,
    pub demand: Demand,
    pub institutions: Vec<Institution>,
    pub rules: Rules,
    pub rules_source: String,
    /// Regions of `--regions`, empty without it.
    pub regions: Vec<regions::Region>,
    pub rejects: Vec<Reject>,
    pub files: Vec<FileReport>,
    /// The scenario applied, if any (written to `scenario.lock.json`).
    pub scenario: Option<edits::Applied>,
    /// The road graph of travel-time mode, with its file's name.
    pub network: Option<(String, std::sync::Arc<crate::network::Graph>)>,
    /// Travel times given in an OD matrix, with its file's name.
    pub od: Option<(String, od_matrix::OdMatrix)>,
    /// What e-Stat secrecy sharing did (all zero without e-Stat files).
    pub secrecy: estat::SecrecyReport,
    /// The sources' credits that maps and pages carry (see [`credits`]).
    pub credits: Vec<String>,
}

/// The credits the public sources ask for, from what was read: the national land data's
/// boundaries (N03 keys), the health ministry's open data, e-Stat's census mesh, the national
/// land data's projections; and a word that the demo's population and institutions are
/// synthetic.
pub fn credits(sources: &InputSources, files: &[FileReport]) -> Vec<String> {
    let mut out = Vec::new();
    let k = &sources.keys;
    if k.code == "N03_007" {
        out.push("出典：「国土数値情報（行政区域データ）」（国土交通省）を加工して作成".to_string());
    }
    let note = |role: &str, start: &str| {
        files
            .iter()
            .any(|f| f.role == role && f.notes.iter().any(|n| n.starts_with(start)))
    };
    if note("population", "e-Stat layout") {
        out.push("出典：政府統計の総合窓口（e-Stat）国勢調査 地域メッシュ統計を加工して作成".to_string());
    }
    if note("population", "projection layout") {
        out.push("出典：「国土数値情報（将来推計人口メッシュ）」（国土交通省）を加工して作成".to_string());
    }
    if note("institutions", "医療情報ネット open data") {
        out.push("出典：厚生労働省「医療情報ネット」オープンデータを加工して作成".to_string());
    }
    if sources.municipalities.name.starts_with("demo/") {
        out.push("Demo: population and institutions are synthetic".to_string());
    }
    out
}

/// Reads every input of a study. File-level problems stop here, before anything is written;
/// when several files have one, the first in the order municipalities, institutions,
/// population is reported. The municipal polygons are read while the tables are.
pub fn load(sources: &InputSources, progress: Progress) -> Result<Study> {
    load_keeping_index(sources, progress, false).map(|(study, _)| study)
}

/// [`load`], also returning, when `keep`, the point-in-polygon indexes of the municipalities
/// built to locate the population's cells and the institutions' declared municipalities
/// (`None` when there were none to locate), for a later stage that locates points again
/// ([`demand::MunicipalityLocator::with_shapes`]).
pub fn load_keeping_index(
    sources: &InputSources,
    progress: Progress,
    keep: bool,
) -> Result<(Study, Option<Vec<demand::PolygonIndex>>)> {
    let (mut study, index) = load_raw_keeping_index(sources, progress, keep)?;
    apply_scenario(&mut study, sources)?;
    if let Some(src) = &sources.od_matrix {
        if sources.network.is_some() {
            return Err(crate::error::Error::Usage(
                "--network and --od-matrix are two ways to give travel times: use one".into(),
            ));
        }
        // Read after the scenario's edits, so origins name the institutions as edited.
        let ids: Vec<&str> = study.institutions.iter().map(|i| i.id.as_str()).collect();
        let meshes: Vec<mesh::Mesh> = study.demand.cells.iter().map(|c| c.mesh).collect();
        let mut rejects = Vec::new();
        let od = od_matrix::read_od_matrix(src, &ids, &meshes, &mut rejects)?;
        study.files.push(FileReport::table(
            src,
            "od_matrix",
            od.rows_read,
            od.accepted,
            &rejects,
            None,
        ));
        study.rejects.extend(rejects);
        study.od = Some((src.name.clone(), od));
    }
    Ok((study, index))
}

/// Reads every input of a study without applying the scenario's edits.
pub fn load_raw(sources: &InputSources, progress: Progress) -> Result<Study> {
    load_raw_keeping_index(sources, progress, false).map(|(study, _)| study)
}

/// [`load_raw`], also returning the municipalities' point-in-polygon indexes when `keep`
/// (see [`load_keeping_index`]).
fn load_raw_keeping_index(
    sources: &InputSources,
    progress: Progress,
    keep: bool,
) -> Result<(Study, Option<Vec<demand::PolygonIndex>>)> {
    let (rules, rules_source) = match &sources.rules {
        Some(src) => (Rules::parse(src)?, src.name.clone()),
        None => (Rules::builtin(), "built-in".to_string()),
    };
    let (m, (tables, network)) = rayon::join(
        || read_municipalities(&sources.municipalities, &sources.keys),
        || {
            rayon::join(
                || read_tables(sources),
                || {
                    sources
                        .network
                        .as_ref()
                        .map(|s| {
                            crate::network::Graph::from_source(s).map(|g| (s.name.clone(), std::sync::Arc::new(g)))
                        })
                        .transpose()
                },
            )
        },
    );
    let network = network?;
    let m = m?;
    let tables = tables?;

    let mut notes: Vec<String> = m
        .repaired
        .iter()
        .map(|r| format!("repaired invalid geometry at {r}"))
        .collect();
    notes.insert(
        0,
        format!(
            "{} features dissolved into {} municipalities",
            m.features_read - m.rejects.len(),
            m.municipalities.len()
        ),
    );
    let mut files = vec![FileReport {
        file: sources.municipalities.name.clone(),
        role: "municipalities",
        read: m.features_read,
        accepted: m.features_read - m.rejects.len(),
        rejected: m.rejects.len(),
        encoding: None,
        notes,
        ..Default::default()
    }];
    files.extend(tables.files);
    let mut rejects = m.rejects;
    rejects.extend(tables.rejects);
    let municipalities = m.municipalities;
    let regions = match &sources.regions {
        Some(src) => {
            let r = regions::read_regions(src, &municipalities)?;
            files.push(FileReport::table(
                src,
                "regions",
                r.rows_read,
                r.rows_read - r.rejects.len(),
                &r.rejects,
                None,
            ));
            rejects.extend(r.rejects);
            r.regions
        }
        None => Vec::new(),
    };

    // One set of point-in-polygon indexes for every point located here (and, when `keep`,
    // after).
    let locator = (!tables.declared.is_empty() || !sources.population.is_empty())
        .then(|| demand::MunicipalityLocator::new(&municipalities));
    if let Some(locator) = &locator {
        check_declared_municipalities(&tables.institutions, &tables.declared, locator, &mut files);
    }
    let demand = match &locator {
        Some(locator) if !sources.population.is_empty() => {
            let (demand, placement_rejects) =
                demand::place_population_in(&tables.population, locator, rules.demand, progress)?;
            // Cells outside every municipality are rejected at placement: move them from
            // accepted to rejected in their file's account, and their people from placed to
            // rejected (cells are in line order in the files whose readers count people).
            for r in &placement_rejects {
                let cell = tables.population.iter().find(|p| p.file == r.file).and_then(|p| {
                    let Location::Line(line) = r.location else { return None };
                    let k = p.cells.partition_point(|c| c.line < line);
                    p.cells.get(k).filter(|c| c.line == line)
                });
                if let Some(f) = files.iter_mut().find(|f| f.role == "population" && f.file == r.file) {
                    f.accepted -= 1;
                    f.rejected += 1;
                    if let (Some(people), Some(c)) = (f.people.as_mut(), cell) {
                        people.population.placed -= c.population;
                        people.population.rejected += c.population;
                        people.population_65plus.placed -= c.population_65plus;
                        people.population_65plus.rejected += c.population_65plus;
                    }
                }
            }
            rejects.extend(placement_rejects);
            demand
        }
        _ => demand::area_grid(&municipalities),
    };
    let index = if keep {
        locator.map(demand::MunicipalityLocator::into_shapes)
    } else {
        None
    };
    let credits = credits(sources, &files);
    Ok((
        Study {
            municipalities,
            demand,
            institutions: tables.institutions,
            rules,
            rules_source,
            regions,
            rejects,
            files,
            scenario: None,
            network,
            od: None,
            secrecy: tables.secrecy,
            credits,
        },
        index,
    ))
}

/// Compares the municipality each open-data row declares with the polygon its point falls
/// in: a point more than 1 km outside its declared municipality is listed in its file's
/// notes (the institution is kept where its point is). Institutions whose declared
/// municipality is not among the study's are counted apart.
fn check_declared_municipalities(
    institutions: &[Institution],
    declared: &[Declared],
    locator: &demand::MunicipalityLocator,
    files: &mut [FileReport],
) {
    if declared.is_empty() {
        return;
    }
    let municipalities = locator.municipalities();
    let by_id: std::collections::HashMap<&str, &Institution> =
        institutions.iter().map(|i| (i.id.as_str(), i)).collect();
    let mut per_file: std::collections::BTreeMap<&str, (Vec<String>, usize)> = Default::default();
    for Declared { id, code, file, .. } in declared {
        let Some(inst) = by_id.get(id.as_str()) else { continue };
        let entry = per_file.entry(file.as_str()).or_default();
        let Ok(k) = municipalities.binary_search_by(|m| m.code.as_str().cmp(code)) else {
            entry.1 += 1;
            continue;
        };
        let holder = locator.holding_or_near(inst.lon, inst.lat);
        if holder == Some(k) {
            continue;
        }
        let Some(m) = municipalities.get(k) else { continue };
        let d = demand::boundary_distance_m(m, inst.lon, inst.lat);
        if d > 1000.0 {
            let found = holder
                .and_then(|h| municipalities.get(h))
                .map_or("no municipality".to_string(), |h| format!("{} {}", h.code, h.name));
            entry.0.push(format!(
                "{id} {}: declared {code} {}, but its point (lat {}, lon {}) lies in {found}, {:.1} km outside",
                inst.name,
                m.name,
                inst.lat,
                inst.lon,
                d / 1000.0
            ));
        }
    }
    for (file, (far, outside)) in per_file {
        let Some(report) = files.iter_mut().find(|f| f.role == "institutions" && f.file == file) else {
            continue;
        };
        if !far.is_empty() {
            report.notes.push(format!(
                "{} institutions lie more than 1 km outside the municipality their row declares",
                far.len()
            ));
            report.notes.extend(far);
        }
        if outside > 0 {
            report.notes.push(format!(
                "{outside} institutions declare a municipality that is not among the study's"
            ));
        }
    }
}

/// Applies the scenario of `sources` (rule edits, then edits in order) to a study read from
/// them, and records it for `scenario.lock.json`.
pub fn apply_scenario(study: &mut Study, sources: &InputSources) -> Result<()> {
    if let Some(s) = &sources.scenario {
        let file = s.files.last().map(|p| p.display().to_string()).unwrap_or_default();
        edits::apply_rule_edits(&mut study.rules, &s.rule_edits, &file)?;
        let edits = edits::apply_edits(study, &s.edits)?;
        let mut inputs = vec![(
            "municipalities",
            sources.municipalities.name.clone(),
            scenario::sha256_hex(&sources.municipalities.bytes),
        )];
        for src in &sources.population {
            inputs.push(("population", src.name.clone(), scenario::sha256_hex(&src.bytes)));
        }
        for src in &sources.institutions {
            inputs.push(("institutions", src.name.clone(), scenario::sha256_hex(&src.bytes)));
        }
        if let Some(src) = &sources.regions {
            inputs.push(("regions", src.name.clone(), scenario::sha256_hex(&src.bytes)));
        }
        if let Some(src) = &sources.rules {
            inputs.push(("rules", src.name.clone(), scenario::sha256_hex(&src.bytes)));
        }
        study.scenario = Some(edits::Applied {
            scenario: s.clone(),
            edits,
            inputs,
        });
    }
    Ok(())
}

/// An open-data institution's declared municipality, and where its row is.
struct Declared {
    id: String,
    code: String,
    file: String,
    /// Index of its file's report in `Tables::files`.
    report: usize,
    location: Location,
}

/// Placeholders across files: one point given to open-data facilities of several
/// municipalities in different files (each file's own are rejected by its reader). Those
/// institutions are rejected with the reason and leave their files' accepted counts.
fn reject_shared_placeholders(out: &mut Tables) {
    if out.declared.is_empty() {
        return;
    }
    let by_id: std::collections::HashMap<&str, (u64, u64)> = out
        .institutions
        .iter()
        .map(|i| (i.id.as_str(), (i.lat.to_bits(), i.lon.to_bits())))
        .collect();
    let mut groups: std::collections::BTreeMap<(u64, u64), Vec<usize>> = Default::default();
    for (k, d) in out.declared.iter().enumerate() {
        if let Some(p) = by_id.get(d.id.as_str()) {
            groups.entry(*p).or_default().push(k);
        }
    }
    let mut drop: HashSet<String> = HashSet::new();
    for (&(lat, lon), members) in &groups {
        let (lat, lon) = (f64::from_bits(lat), f64::from_bits(lon));
        let codes: std::collections::BTreeSet<&str> = members
            .iter()
            .filter_map(|&k| out.declared.get(k).map(|d| d.code.as_str()))
            .collect();
        if codes.len() < 2 {
            continue;
        }
        for &k in members {
            let Some(d) = out.declared.get(k) else { continue };
            out.rejects.push(Reject::new(
                &d.file,
                d.location.clone(),
                format!(
                    "placeholder location: lat {lat}, lon {lon} is given to facilities of {} municipalities (across files)",
                    codes.len()
                ),
            ));
            if let Some(f) = out.files.get_mut(d.report) {
                f.accepted -= 1;
                f.rejected += 1;
            }
            drop.insert(d.id.clone());
        }
    }
    if !drop.is_empty() {
        out.institutions.retain(|i| !drop.contains(&i.id));
        out.declared.retain(|d| !drop.contains(&d.id));
    }
}

/// What the institution and population tables gave.
struct Tables {
    institutions: Vec<Institution>,
    population: Vec<PopulationInput>,
    secrecy: estat::SecrecyReport,
    /// Institutions whose row declares a municipality code.
    declared: Vec<Declared>,
    /// Open-data institutions' addresses by id, for joining notification lists by name.
    addresses: std::collections::HashMap<String, String>,
    files: Vec<FileReport>,
    rejects: Vec<Reject>,
}

/// The institutions' files, then the notification lists joined to them, into `out`.
fn read_institution_tables(sources: &InputSources, out: &mut Tables) -> Result<()> {
    let mut seen_ids = crate::inputs::institutions::Ids::default();
    for src in &sources.institutions {
        let src = &*src.unzipped()?;
        let r = read_institutions(src, &mut seen_ids)?;
        let accepted = r.institutions.len();
        let mut report = FileReport::table(src, "institutions", r.rows_read, accepted, &r.rejects, r.encoding);
        report.notes = r.notes;
        out.files.push(report);
        let file = out.files.len() - 1;
        out.declared.extend(
            r.declared_municipality
                .into_iter()
                .map(|(id, code, location)| Declared {
                    id,
                    code,
                    file: src.name.clone(),
                    report: file,
                    location,
                }),
        );
        out.addresses.extend(r.addresses);
        // The first file's list taken whole (the usual single file is not copied).
        if out.institutions.is_empty() {
            out.institutions = r.institutions;
        } else {
            out.institutions.extend(r.institutions);
        }
        out.rejects.extend(r.rejects);
    }
    reject_shared_placeholders(out);
    for src in &sources.notifications {
        let list = notifications::read_notifications(src)?;
        let (mut rejects, joined, by) = notifications::join(&list, &mut out.institutions, &src.name, &out.addresses);
        rejects.sort_by(|a, b| a.location.cmp(&b.location));
        let mut report = FileReport::table(
            src,
            "notifications",
            list.rows_read,
            list.rows_read - rejects.len(),
            &rejects,
            None,
        );
        report.notes.push(format!(
            "support designations joined: clinics (支援診) 1/2/3 = {}/{}/{}, hospitals (支援病) 1/2/3 = {}/{}/{}; \
             {} other notifications not used",
            joined[0][0], joined[0][1], joined[0][2], joined[1][0], joined[1][1], joined[1][2], list.other
        ));
        if by[1] + by[2] > 0 || !out.addresses.is_empty() {
            report.notes.push(format!(
                "matched by institution number {}, by name {} and by address {} (open-data facilities carry no institution number)",
                by[0], by[1], by[2]
            ));
        }
        out.files.push(report);
        out.rejects.extend(rejects);
    }
    Ok(())
}

fn read_tables(sources: &InputSources) -> Result<Tables> {
    let mut out = Tables {
        institutions: Vec::new(),
        population: Vec::new(),
        secrecy: estat::SecrecyReport::default(),
        declared: Vec::new(),
        addresses: Default::default(),
        files: Vec::new(),
        rejects: Vec::new(),
    };
    // The population's files are read beside the institutions' (on a small boundary file the
    // two are the whole of reading); their reports and rejects follow the institutions' as
    // before, and an error in the institutions' lane is reported first.
    // Each file's report is made as it is read, so that an unzipped text goes with it.
    let read_population = || -> Result<Vec<(FileReport, String, population::PopulationRead)>> {
        let mut seen = HashSet::new();
        sources
            .population
            .iter()
            .map(|src| {
                let src = &*src.unzipped()?;
                let r = population::read_population_with(src, &mut seen, sources.year, sources.estat_columns.as_ref())?;
                let report = FileReport::table(src, "population", r.rows_read, r.cells.len(), &r.rejects, None);
                Ok((report, src.name.clone(), r))
            })
            .collect()
    };
    let (institutions, population_read) = rayon::join(|| read_institution_tables(sources, &mut out), read_population);
    institutions?;
    let population_read = population_read?;
    let mut links = Vec::new();
    let mut tallies = Vec::new();
    for (mut report, file, r) in population_read {
        report.notes.push(format!("{} layout", r.layout));
        if let Some(y) = sources.year {
            report.notes.push(format!(
                "projected population for {y} (the file holds {})",
                r.years.iter().map(u16::to_string).collect::<Vec<_>>().join(", ")
            ));
        }
        for c in &r.columns {
            report.notes.push(c.describe());
        }
        for what in r.missing_measures() {
            report.notes.push(format!(
                "{what}: no column is labelled so; not available from this file"
            ));
        }
        if r.suppressed > 0 {
            report.notes.push(format!(
                "{} cells with their age detail suppressed for secrecy (HTKSYORI 2): each keeps its own total; its age detail is shared from the cell its HTKSAKI names",
                r.suppressed
            ));
        }
        report.columns = r.columns;
        out.files.push(report);
        out.rejects.extend(r.rejects);
        links.push(r.secrecy);
        tallies.push(r.tally);
        out.population.push(PopulationInput {
            file,
            cells: r.cells,
            has_65plus: r.has_65plus,
            has_75plus: r.has_75plus,
            has_0_14: r.has_0_14,
            labels: r.labels,
        });
    }
    let mut files: Vec<estat::FileCells> = out
        .population
        .iter_mut()
        .zip(&links)
        .map(|(p, l)| estat::FileCells {
            cells: &mut p.cells,
            links: l,
        })
        .collect();
    let (secrecy, moved) = estat::share_suppressed(&mut files);
    out.secrecy = secrecy;
    // The people account of every file whose reader counted rows (e-Stat, simple): what
    // it read and rejected; placement fills in what was placed.
    let reports = out.files.iter_mut().filter(|f| f.role == "population");
    for (((report, tally), input), moved_in) in reports.zip(&tallies).zip(&out.population).zip(moved) {
        if let Some([t, a]) = tally {
            let (p, p65) = input
                .cells
                .iter()
                .fold((0.0, 0.0), |(x, y), c| (x + c.population, y + c.population_65plus));
            report.people = Some(PeopleAccount {
                population: Account {
                    read: t.read,
                    placed: p,
                    rejected: t.rejected,
                    moved_in: 0.0,
                },
                population_65plus: Account {
                    read: a.read,
                    placed: p65,
                    rejected: a.rejected,
                    moved_in,
                },
            });
        }
    }
    Ok(out)
}

/// Every year of the study's projected population files, read once: per mesh cell its
/// (total, aged 65+, aged 75+) by year, and the years.
pub type YearValues = (Vec<u16>, std::collections::HashMap<mesh::Mesh, Vec<[f64; 4]>>);

/// Reads every year of the population files (all projections, with the same years).
pub fn projection_values(sources: &InputSources) -> Result<YearValues> {
    let mut years: Option<Vec<u16>> = None;
    let mut values = std::collections::HashMap::new();
    for src in &sources.population {
        let (y, cells) = population::read_projection_years(src)?;
        match &years {
            Some(known) if *known != y => {
                return Err(crate::error::Error::input(
                    &src.name,
                    crate::error::Location::File,
                    "its years differ from the first population file's",
                ))
            }
            _ => years = Some(y),
        }
        for (mesh, v) in cells {
            values.entry(mesh).or_insert(v);
        }
    }
    Ok((years.unwrap_or_default(), values))
}

/// The study's demand in year `k` of `values` (see [`projection_values`]): the same places,
/// each cell's values replaced by the year's (0 where the files lack the cell), so reach
/// measured for one year serves every year.
pub fn demand_for_year(study: &Study, values: &YearValues, k: usize) -> demand::Demand {
    let mut out = study.demand.clone();
    let column = match out.basis {
        demand::DemandBasis::Population { column } => column,
        demand::DemandBasis::AreaGrid => return out,
    };
    for c in &mut out.cells {
        let [p, p65, p75, p014] = values
            .1
            .get(&c.mesh)
            .and_then(|v| v.get(k).copied())
            .unwrap_or([0.0; 4]);
        c.population = p;
        c.population_65plus = p65;
        c.population_75plus = Some(p75);
        c.population_0_14 = c.population_0_14.map(|_| p014);
        c.demand = match column {
            rules::DemandColumn::Population => p,
            rules::DemandColumn::Population65Plus => p65,
            rules::DemandColumn::Population75Plus => p75,
            rules::DemandColumn::Population0To14 => p014,
        };
    }
    out
}
