//! Population: the simple mesh CSV, e-Stat files, projection GeoJSON, and (first byte odd)
//! a projection Shapefile's DBF. Rows read = accepted + suppressed + rejected.
#![no_main]
use libfuzzer_sys::fuzz_target;
use zaitaku::inputs::population::read_population;
use zaitaku::inputs::Source;

fuzz_target!(|data: &[u8]| {
    let (name, year) = match data.first() {
        Some(b) if b % 2 == 1 => ("fuzz.dbf", Some(2020)),
        _ => ("fuzz.csv", None),
    };
    let source = Source::new(name, data.to_vec());
    let _ = read_population(&source, &mut Default::default(), year);
    if let Ok(r) = read_population(&source, &mut Default::default(), None) {
        assert_eq!(r.rows_read, r.cells.len() + r.suppressed + r.rejects.len());
    }
});
