//! Road graph files: a graph that loads is searchable without a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use zaitaku::inputs::Source;
use zaitaku::network::{route, Graph};

fuzz_target!(|data: &[u8]| {
    let mut bytes = zaitaku::network::MAGIC.to_vec();
    bytes.extend_from_slice(&zaitaku::network::FORMAT_VERSION.to_le_bytes());
    // Half the inputs get a valid prefix, so the fuzzer reaches the arrays.
    let bytes = if data.first().is_some_and(|b| b % 2 == 0) {
        bytes.extend_from_slice(data);
        bytes
    } else {
        data.to_vec()
    };
    if let Ok(g) = Graph::from_source(&Source::new("fuzz.graph", bytes)) {
        if g.nodes() > 0 {
            let _ = route::multi_source(&g, &[(0, 0)]);
            route::Search::new(&g).run_bounded(&g, &[(0, 0)], 600, |_, _| {});
        }
    }
});
