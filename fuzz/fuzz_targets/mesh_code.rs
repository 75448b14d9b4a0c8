//! Mesh codes: any text either parses to a cell whose code prints back the same, or is an
//! error; never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use zaitaku::inputs::mesh::Mesh;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(mesh) = Mesh::parse(text) {
            assert_eq!(Mesh::parse(&mesh.to_string()).ok(), Some(mesh));
        }
    }
});
