//! Municipal polygons (N03 GeoJSON): features read = kept + rejected, or a clear error.
#![no_main]
use libfuzzer_sys::fuzz_target;
use zaitaku::inputs::municipalities::{read_municipalities, MunicipalityKeys};
use zaitaku::inputs::Source;

fuzz_target!(|data: &[u8]| {
    let source = Source::new("fuzz.geojson", data.to_vec());
    let _ = read_municipalities(&source, &MunicipalityKeys::default());
});
