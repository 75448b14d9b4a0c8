//! Mesh codes against the independent Python package jismesh (10,000 random points, six
//! levels; `fixtures/reference/jismesh_points.csv`, made by scripts/make_mesh_reference.py).

use zaitaku::inputs::mesh::{Level, Mesh};

#[test]
fn mesh_codes_match_jismesh() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/reference/jismesh_points.csv");
    let mut reader = csv::Reader::from_path(path).unwrap();
    let mut rows = 0;
    for record in reader.records() {
        let r = record.unwrap();
        let num = |i: usize| r[i].parse::<f64>().unwrap();
        let (lat, lon) = (num(0), num(1));
        for (k, level) in Level::ALL.into_iter().enumerate() {
            let ours = Mesh::containing(lon, lat, level).unwrap();
            assert_eq!(ours.code(), &r[2 + k], "lat {lat} lon {lon} level {level:?}");
            let parsed = Mesh::parse(&r[2 + k]).unwrap();
            assert_eq!(parsed, ours);
            let sq = parsed.square();
            assert!(sq.min().x <= lon && lon <= sq.max().x && sq.min().y <= lat && lat <= sq.max().y);
        }
        let sw = Mesh::parse(&r[7]).unwrap().south_west();
        assert!(
            (sw.y - num(8)).abs() < 1e-9 && (sw.x - num(9)).abs() < 1e-9,
            "{}",
            &r[7]
        );
        rows += 1;
    }
    assert_eq!(rows, 10_000);
}
