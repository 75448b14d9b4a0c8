//! Scenario TOML, read from a file as users give it (bases resolved against its folder).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(dir) = tempfile::tempdir() else { return };
    let path = dir.path().join("scenario.toml");
    if std::fs::write(&path, data).is_ok() {
        let _ = zaitaku::inputs::scenario::load_scenario(&path);
    }
});
