//! The demo data compiled into the binary: Nagano prefecture (code 20) with synthetic
//! municipal polygons, population and institutions. See `fixtures/demo/ATTRIBUTION.md`.

use crate::inputs::municipalities::MunicipalityKeys;
use crate::inputs::{InputSources, Source};

/// Municipal polygons: Voronoi cells of the 77 real municipality points, clipped to the
/// prefecture outline (synthetic boundaries, real names and codes).
pub const MUNICIPALITIES: &[u8] = include_bytes!("../fixtures/demo/nagano_municipalities.geojson");
/// Synthetic 1 km mesh population.
pub const POPULATION: &[u8] = include_bytes!("../fixtures/demo/nagano_population.csv");
/// Synthetic institutions at national densities.
pub const INSTITUTIONS: &[u8] = include_bytes!("../fixtures/demo/nagano_institutions.csv");

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
    }
}
