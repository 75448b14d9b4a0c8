//! Rules TOML (and the indicator catalogue, also TOML).
#![no_main]
use libfuzzer_sys::fuzz_target;
use zaitaku::inputs::rules::Rules;
use zaitaku::inputs::Source;

fuzz_target!(|data: &[u8]| {
    let source = Source::new("fuzz.toml", data.to_vec());
    let _ = Rules::parse(&source);
    let _ = zaitaku::inputs::catalogue::parse_catalogue(&source);
});
