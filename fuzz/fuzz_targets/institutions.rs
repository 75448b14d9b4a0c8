//! Institutions, CSV (UTF-8 or CP932) and GeoJSON (P04 too): rows read = accepted + rejected.
#![no_main]
use libfuzzer_sys::fuzz_target;
use zaitaku::inputs::institutions::read_institutions;
use zaitaku::inputs::Source;

fuzz_target!(|data: &[u8]| {
    let source = Source::new("fuzz.csv", data.to_vec());
    if let Ok(r) = read_institutions(&source, &mut Default::default()) {
        assert_eq!(r.rows_read, r.institutions.len() + r.rejects.len());
    }
});
