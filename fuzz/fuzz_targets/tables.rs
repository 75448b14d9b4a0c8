//! Indicator tables, targets, notification lists (xlsx) and OSM PBF files.
#![no_main]
use libfuzzer_sys::fuzz_target;
use zaitaku::inputs::Source;

fuzz_target!(|data: &[u8]| {
    let source = Source::new("fuzz.csv", data.to_vec());
    let _ = zaitaku::inputs::tables::read_targets(&source);
    let _ = zaitaku::inputs::notifications::read_notifications(&source);
    let rules = zaitaku::inputs::rules::Rules::builtin();
    let _ = zaitaku::network::osm::build(&source, &rules.network, zaitaku::progress::Progress::Quiet);
});
