//! Invariants of coverage, checked on random studies built on the grid fixture.

use proptest::prelude::*;
use std::path::Path;
use zaitaku::coverage;
use zaitaku::inputs::institutions::{Flag, Flags, Institution, Kind};
use zaitaku::inputs::municipalities::MunicipalityKeys;
use zaitaku::inputs::{load, InputSources, Source, Study};
use zaitaku::progress::Progress;
use zaitaku::reach::straight::{straight_line_reach, update_reach};

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
