//! The demo data compiled into the binary: Nagano prefecture (code 20), its real municipal
//! boundaries (national land data N03, 2021) with synthetic population and institutions
//! generated on them. See `fixtures/demo/ATTRIBUTION.md`.

use crate::inputs::municipalities::MunicipalityKeys;
use crate::inputs::Source;
use crate::study::InputSources;

/// Municipal polygons: Nagano's 77 municipalities of 2021, real (国土数値情報 行政区域, N03-21,
/// simplified).
pub const MUNICIPALITIES: &[u8] = include_bytes!("../fixtures/demo/nagano_municipalities.geojson");
/// Synthetic 1 km mesh population.
pub const POPULATION: &[u8] = include_bytes!("../fixtures/demo/nagano_population.csv");
/// Synthetic institutions at national densities.
pub const INSTITUTIONS: &[u8] = include_bytes!("../fixtures/demo/nagano_institutions.csv");

/// Synthetic projected population, 2020, 2035 and 2050, as a Shapefile's attribute table.
pub const PROJECTION: &[u8] = include_bytes!("../fixtures/demo/nagano_projection.dbf");

/// The years of [`PROJECTION`].
pub const PROJECTION_YEARS: [u16; 3] = [2020, 2035, 2050];

/// The 10 secondary medical regions of Nagano (real layout).
pub const REGIONS: &[u8] = include_bytes!("../fixtures/demo/nagano_regions.csv");

/// The demo study's inputs.
pub fn sources() -> InputSources {
    InputSources {
        municipalities: Source::new("demo/nagano_municipalities.geojson", MUNICIPALITIES),
        population: vec![Source::new("demo/nagano_population.csv", POPULATION)],
        institutions: vec![Source::new("demo/nagano_institutions.csv", INSTITUTIONS)],
        rules: None,
        regions: Some(Source::new("demo/nagano_regions.csv", REGIONS)),
        keys: MunicipalityKeys::default(),
        scenario: None,
        year: None,
        network: None,
        od_matrix: None,
        notifications: Vec::new(),
        estat_columns: None,
    }
}

/// Nodes a side per 1 km cell of the demo's synthetic road network (about 330 m apart; odd,
/// so that a node lies on every cell centre and each place joins the network at one node).
pub const ROAD_LATTICE: i64 = 3;

/// The demo's road network: a SYNTHETIC lattice over its populated 1 km cells
/// ([`crate::network::lattice`]), as a graph file.
pub fn road_graph() -> Vec<u8> {
    let text = String::from_utf8_lossy(POPULATION);
    let codes = text.lines().skip(1).map(|line| line.split(',').next().unwrap_or(""));
    crate::network::lattice::lattice(codes, ROAD_LATTICE, "demo/nagano_population.csv").to_bytes()
}

/// The demo study with travel time on [`road_graph`].
pub fn road_sources() -> InputSources {
    InputSources {
        network: Some(Source::new("demo/roads.graph (synthetic lattice)", road_graph())),
        ..sources()
    }
}

/// The demo study on projected population, in `year` (one of [`PROJECTION_YEARS`]).
pub fn projection_sources(year: u16) -> InputSources {
    InputSources {
        population: vec![Source::new("demo/nagano_projection.dbf", PROJECTION)],
        year: Some(year),
        ..sources()
    }
}
