//! Invariants of coverage, checked on random studies built on the grid fixture.

use proptest::prelude::*;
use std::path::Path;
use zaitaku::coverage;
use zaitaku::inputs::institutions::{Flag, Flags, Institution, Kind};
use zaitaku::inputs::municipalities::MunicipalityKeys;
use zaitaku::inputs::Source;
use zaitaku::progress::Progress;
use zaitaku::reach::straight::{straight_line_reach, update_reach};
use zaitaku::study::{load, InputSources, Study};

fn study() -> Study {
    let f = |p: &str| Source::read(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/grid").join(p)).unwrap();
    load(
        &InputSources {
            municipalities: f("municipalities.geojson"),
            population: vec![f("population.csv")],
            institutions: vec![f("institutions.csv")],
            rules: Some(f("rules.toml")),
            regions: None,
            keys: MunicipalityKeys::default(),
            scenario: None,
            year: None,
            network: None,
            od_matrix: None,
            notifications: Vec::new(),
            estat_columns: None,
        },
        Progress::Quiet,
    )
    .unwrap()
}

fn run(study: &Study) -> coverage::Coverage {
    let reach = straight_line_reach(
        &study.demand.places(),
        &study.institutions,
        &study.rules,
        Progress::Quiet,
    );
    coverage::compute(&study.demand, &study.municipalities, &study.rules, &reach)
}

fn institution(id: usize, kind: Kind, lon: f64, lat: f64) -> Institution {
    Institution {
        id: format!("X{id}"),
        name: String::new(),
        kind,
        lat,
        lon,
        beds: None,
        capacity: None,
        flags: [Flag::HomeVisits].into_iter().collect::<Flags>(),
        support_type: None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn incremental_reach_equals_a_full_run(
        extra in proptest::collection::vec((0usize..2, 137.9f64..138.9, 35.9f64..36.7), 0..5),
        drop in proptest::collection::vec(0usize..40, 0..4),
        flip in proptest::option::of(0usize..40),
    ) {
        // A base with random clinics and nurse stations around the grid; then some removed,
        // some added, one losing its home-visit flag.
        let mut base = study();
        for n in 0..40 {
            let (lon, lat) = (137.95 + 0.021 * n as f64, 35.95 + 0.017 * ((n * 7) % 40) as f64);
            base.institutions.push(institution(100 + n, [Kind::Clinic, Kind::VisitingNurse][n % 2], lon, lat));
        }
        let places = base.demand.places();
        let before = straight_line_reach(&places, &base.institutions, &base.rules, Progress::Quiet);
        let mut after = base.clone();
        after.institutions.retain(|i| !drop.iter().any(|d| i.id == format!("X{}", 100 + d)));
        for (n, &(k, lon, lat)) in extra.iter().enumerate() {
            after.institutions.push(institution(n, [Kind::Clinic, Kind::VisitingNurse][k], lon, lat));
        }
        if let Some(f) = flip {
            if let Some(i) = after.institutions.iter_mut().find(|i| i.id == format!("X{}", 100 + f)) {
                i.flags.set(Flag::HomeVisits, false);
            }
        }
        let full = straight_line_reach(&places, &after.institutions, &after.rules, Progress::Quiet);
        let incremental = update_reach(&places, &before, &base.institutions, &after.institutions, &after.rules);
        prop_assert_eq!(full, incremental);
    }

    #[test]
    fn adding_an_institution_never_lowers_a_share(
        extra in proptest::collection::vec((0usize..2, 137.9f64..138.9, 35.9f64..36.7), 1..4)
    ) {
        let base = study();
        let before = run(&base);
        let mut more = base.clone();
        for (n, &(k, lon, lat)) in extra.iter().enumerate() {
            let kind = [Kind::Clinic, Kind::VisitingNurse][k];
            more.institutions.push(institution(n, kind, lon, lat));
        }
        let after = run(&more);
        for (m, (b, a)) in before.municipalities.iter().zip(&after.municipalities).enumerate() {
            for (f, (sb, sa)) in b.iter().zip(a).enumerate() {
                prop_assert!(sa.covered >= sb.covered, "municipality {} function {}", m, f);
                if let (Some(x), Some(y)) = (sb.share, sa.share) {
                    prop_assert!(y >= x);
                }
                if let (Some(x), Some(y)) = (sb.max, sa.max) {
                    prop_assert!(y <= x + 1e-9);
                }
            }
        }
    }

    #[test]
    fn shares_are_fractions_and_demand_adds_up(
        extra in proptest::collection::vec((0usize..2, 137.9f64..138.9, 35.9f64..36.7), 0..6)
    ) {
        let mut s = study();
        for (n, &(k, lon, lat)) in extra.iter().enumerate() {
            s.institutions.push(institution(n, [Kind::Clinic, Kind::VisitingNurse][k], lon, lat));
        }
        let cov = run(&s);
        let total_demand: f64 = s.demand.cells.iter().map(|c| c.demand).sum();
        for (f, t) in cov.total.iter().enumerate() {
            prop_assert!((t.demand - total_demand).abs() < 1e-9);
            prop_assert!((t.covered + t.uncovered() - t.demand).abs() < 1e-9);
            let sum_covered: f64 = cov.municipalities.iter().map(|m| m[f].covered).sum();
            prop_assert!((sum_covered - t.covered).abs() < 1e-9);
        }
        for m in &cov.municipalities {
            for st in m {
                if let Some(share) = st.share {
                    prop_assert!((0.0..=1.0).contains(&share));
                }
                prop_assert!(st.covered <= st.demand + 1e-9);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// 2SFCA by road on a random synthetic road lattice (a few 1 km cells, one-way lines
    /// included) with random places and providers: the sum of access times demand equals the
    /// supply of the providers with demand within reach, for both measures; a place's pairs
    /// are within both limits.
    #[test]
    fn road_access_shares_out_the_supply_within_reach(
        cells in proptest::collection::btree_set((0u32..6, 0u32..6), 1..20),
        places in proptest::collection::vec((0.0f64..1.0, 0.0f64..1.0, 0.0f64..40.0), 1..40),
        providers in proptest::collection::vec((0.0f64..1.0, 0.0f64..1.0, 0.5f64..5.0), 1..12),
        reach_min in 1.0f64..12.0,
        reach_km in 1.0f64..8.0,
    ) {
        use zaitaku::access::{role_access_pairs, Decay};
        use zaitaku::reach::pairs::RoadPlaces;
        // 1 km cells 5339-45-(q,v)-(r,w) around Tokyo; points spread over the 6 x 6 cells.
        let codes: Vec<String> = cells.iter().map(|&(x, y)| format!("533945{}{}", y, x)).collect();
        let graph = zaitaku::network::lattice::lattice(codes.iter().map(String::as_str), 3, "test");
        let at = |(fx, fy): (f64, f64)| (139.0 + 5.0 / 8.0 + fx * 6.0 / 80.0, 35.0 + 2.0 / 3.0 + fy * 6.0 / 120.0);
        let xy: Vec<(f64, f64)> = places.iter().map(|p| at((p.0, p.1))).collect();
        let demand: Vec<f64> = places.iter().map(|p| p.2).collect();
        let pxy: Vec<(f64, f64)> = providers.iter().map(|p| at((p.0, p.1))).collect();
        let supply: Vec<f64> = providers.iter().map(|p| p.2).collect();
        let net = zaitaku::inputs::rules::Rules::builtin().network;
        let road = RoadPlaces::new(&graph, &xy, &net);
        let pairs = road.within(&pxy, reach_min, reach_km * 1000.0);
        for (list, &p) in pairs.iter().zip(&pxy) {
            for &(i, t) in list {
                prop_assert!(t <= reach_min + 1e-9);
                prop_assert!(zaitaku::reach::straight::ellipsoid_m(xy[i as usize], p) <= reach_km * 1000.0 + 0.25);
            }
        }
        let r = role_access_pairs(xy.len(), &demand, &pairs, &supply, reach_min, &Decay::default());
        let with_demand: f64 = pairs
            .iter()
            .zip(&supply)
            .filter(|(list, _)| list.iter().any(|&(i, _)| demand[i as usize] > 1e-12))
            .map(|(_, s)| s)
            .sum();
        let total2: f64 = r.a_2sfca.iter().zip(&demand).map(|(a, d)| a * d).sum();
        let totale: f64 = r.a_e2sfca.iter().zip(&demand).map(|(a, d)| a * d).sum();
        prop_assert!((total2 - with_demand).abs() < 1e-9 * (1.0 + with_demand), "{total2} vs {with_demand}");
        prop_assert!((totale - with_demand).abs() < 1e-9 * (1.0 + with_demand), "{totale} vs {with_demand}");
        prop_assert!((r.supply_allocated.0 - with_demand).abs() < 1e-9 * (1.0 + with_demand));
    }
}
