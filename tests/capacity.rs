//! Capacity: the maximum flow against an independent solver, its invariants, and the
//! command on the demo data against networkx (fixtures/reference/capacity_reference.csv).

use pathfinding::directed::edmonds_karp::edmonds_karp_sparse;
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;
use zaitaku::capacity::flow::{align, fill_in_order, max_flow, max_flow_first, max_flow_shared, ListPairs};

/// A bipartite instance: places, per provider its places with a cost, needs, capacities.
type Instance = (usize, Vec<Vec<(u32, f64)>>, Vec<i64>, Vec<i64>);

/// A random [`Instance`].
fn instance() -> impl Strategy<Value = Instance> {
    (1usize..14, 1usize..9).prop_flat_map(|(places, providers)| {
        (
            Just(places),
            prop::collection::vec(
                prop::collection::btree_map(0..places as u32, 1u32..100, 0..places),
                providers,
            )
            .prop_map(|lists| {
                lists
                    .into_iter()
                    .map(|m| m.into_iter().map(|(p, c)| (p, f64::from(c))).collect())
                    .collect::<Vec<Vec<(u32, f64)>>>()
            }),
            prop::collection::vec(0i64..60, places),
            prop::collection::vec(0i64..60, providers),
        )
    })
}

/// The maximum flow by pathfinding's Edmonds-Karp on the explicit graph: source to places
/// (need), places to providers within reach (unbounded), providers to sink (capacity).
fn reference(places: usize, lists: &[Vec<(u32, f64)>], need: &[i64], capacity: &[i64]) -> i64 {
    let providers = lists.len();
    let source = places + providers;
    let sink = source + 1;
    let vertices: Vec<usize> = (0..sink + 1).collect();
    let unbounded: i64 = need.iter().sum::<i64>() + 1;
    let mut caps: Vec<((usize, usize), i64)> = Vec::new();
    for (p, &n) in need.iter().enumerate() {
        caps.push(((source, p), n));
    }
    for (j, list) in lists.iter().enumerate() {
        for &(p, _) in list {
            caps.push(((p as usize, places + j), unbounded));
        }
        caps.push(((places + j, sink), capacity[j]));
    }
    edmonds_karp_sparse(&vertices, &source, &sink, caps).1
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn maximum_flow_equals_edmonds_karp((places, lists, need, capacity) in instance()) {
        let pairs = ListPairs::new(places, lists.clone());
        let flow = max_flow(&pairs, &need, &capacity);
        prop_assert_eq!(flow.total(), reference(places, &lists, &need, &capacity));
        // Served within need, assigned within capacity, and the assignments add up.
        for (p, &s) in flow.served.iter().enumerate() {
            prop_assert!(s >= 0 && s <= need[p]);
        }
        for (j, &a) in flow.assigned.iter().enumerate() {
            prop_assert!(a >= 0 && a <= capacity[j]);
            prop_assert_eq!(a, flow.assignments[j].iter().map(|e| e.1).sum::<i64>());
            for &(p, x, cost) in &flow.assignments[j] {
                prop_assert!(x > 0);
                // Only pairs within reach, with their cost.
                prop_assert_eq!(lists[j].iter().find(|e| e.0 == p).map(|e| e.1), Some(cost));
            }
        }
        let by_place: i64 = flow.served.iter().sum();
        prop_assert_eq!(by_place, flow.assigned.iter().sum::<i64>());
        // Served in shares (a quarter of every place's need first, ...): the same maximum,
        // within need and capacity.
        let shared = max_flow_shared(&pairs, &need, &capacity, &[0.5, 0.9]);
        prop_assert_eq!(shared.total(), flow.total());
        prop_assert!(shared.served.iter().zip(&need).all(|(s, n)| s <= n));
        prop_assert!(shared.assigned.iter().zip(&capacity).all(|(a, c)| a <= c));
        // AccessMod's fill, in any order, never beats the maximum.
        let order: Vec<usize> = (0..lists.len()).rev().collect();
        let fill = fill_in_order(&pairs, &need, &capacity, &order);
        prop_assert!(fill.total() <= flow.total());
        prop_assert!(fill.served.iter().zip(&need).all(|(s, n)| s <= n));
        prop_assert!(fill.assigned.iter().zip(&capacity).all(|(a, c)| a <= c));
    }

    #[test]
    fn raising_a_capacity_never_lowers_the_total(
        (places, lists, need, capacity) in instance(),
        which in 0usize..8,
        more in 1i64..40,
    ) {
        let pairs = ListPairs::new(places, lists.clone());
        let before = max_flow(&pairs, &need, &capacity).total();
        let mut raised = capacity.clone();
        let j = which % raised.len();
        raised[j] += more;
        let after = max_flow(&pairs, &need, &raised).total();
        prop_assert!(after >= before);
        prop_assert!(after <= before + more);
    }
}

/// The reference rows: (mode, role) -> (need, served, fill served).
fn reference_rows() -> BTreeMap<(String, String), (f64, f64, f64)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/reference/capacity_reference.csv");
    let mut rows = BTreeMap::new();
    let mut reader = csv::Reader::from_path(&path).unwrap();
    for r in reader.records() {
        let r = r.unwrap();
        let num = |i: usize| r[i].parse::<f64>().unwrap();
        rows.insert((r[0].to_string(), r[1].to_string()), (num(2), num(3), num(4)));
    }
    rows
}

/// capacity.csv's whole-input rows: role -> (need, served, fill served).
fn totals(dir: &Path) -> BTreeMap<String, (f64, f64, f64)> {
    let mut out = BTreeMap::new();
    let mut reader = csv::Reader::from_path(dir.join("capacity.csv")).unwrap();
    for r in reader.records() {
        let r = r.unwrap();
        if &r[0] == "all" && &r[3] != "all" {
            let num = |i: usize| r[i].parse::<f64>().unwrap_or(f64::NAN);
            out.insert(r[3].to_string(), (num(4), num(5), num(8)));
        }
    }
    out
}

/// On the demo data in a straight line, every role the reference measured: need and served
/// equal networkx's maximum flow, and the fill in capacity order equals an independent
/// AccessMod-style fill.
#[test]
fn demo_served_equals_networkx_maximum_flow() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = tempfile::tempdir().unwrap();
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_zaitaku"))
        .args(["capacity", "--scenario"])
        .arg(root.join("fixtures/scenarios/nagano_base.toml"))
        .args(["--order", "capacity", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    let ours = totals(out.path());
    let mut checked = 0;
    for ((mode, role), (need, served, fill)) in reference_rows() {
        if mode != "straight" {
            continue;
        }
        let (n, s, f) = ours[&role];
        assert!((n - need).abs() < 1e-6, "{role}: need {n} against {need}");
        assert!(
            (s - served).abs() < 1e-6,
            "{role}: served {s} against networkx {served}"
        );
        assert!((f - fill).abs() < 1e-6, "{role}: fill {f} against {fill}");
        assert!(s >= f - 1e-9);
        checked += 1;
    }
    assert!(checked >= 3, "the reference lists {checked} roles");
    // capacity_providers.csv adds up to capacity.csv: per role and function, the providers'
    // assigned need is the role's served need, and their fill the fill's.
    let mut sums: BTreeMap<(String, String), (f64, f64)> = BTreeMap::new();
    let mut reader = csv::Reader::from_path(out.path().join("capacity_providers.csv")).unwrap();
    for r in reader.records() {
        let r = r.unwrap();
        for function in r[5].split(';') {
            let e = sums.entry((function.to_string(), r[4].to_string())).or_default();
            e.0 += r[8].parse::<f64>().unwrap();
            e.1 += r[11].parse::<f64>().unwrap();
        }
    }
    let mut reader = csv::Reader::from_path(out.path().join("capacity.csv")).unwrap();
    let mut roles = 0;
    for r in reader.records() {
        let r = r.unwrap();
        if &r[0] == "all" && &r[3] != "all" {
            let (assigned, fill) = sums[&(r[2].to_string(), r[3].to_string())];
            assert!(
                (assigned - r[5].parse::<f64>().unwrap()).abs() < 1e-6,
                "{} {}",
                &r[2],
                &r[3]
            );
            assert!(
                (fill - r[8].parse::<f64>().unwrap()).abs() < 1e-6,
                "{} {}",
                &r[2],
                &r[3]
            );
            roles += 1;
        }
    }
    assert_eq!(roles, 19);
}

/// By road on the demo's synthetic lattice: visiting nurses' served need equals networkx's
/// maximum flow over pairs from networkx's Dijkstra with its own snapping, and the fill
/// equals the independent fill; outputs say minutes.
#[test]
fn demo_by_road_equals_networkx_maximum_flow() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let graph = dir.path().join("roads.graph");
    std::fs::write(&graph, zaitaku::demo::road_graph()).unwrap();
    let out = dir.path().join("out");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_zaitaku"))
        .args(["capacity", "--quiet", "--scenario"])
        .arg(root.join("fixtures/scenarios/nagano_base.toml"))
        .arg("--network")
        .arg(&graph)
        .args(["--order", "capacity", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ours = totals(&out);
    let (need, served, fill) = reference_rows()[&("road".to_string(), "visiting_nurse".to_string())];
    let (n, s, f) = ours["visiting_nurse"];
    assert!((n - need).abs() < 1e-6, "need {n} against {need}");
    assert!((s - served).abs() < 1e-6, "served {s} against networkx {served}");
    assert!((f - fill).abs() < 1e-6, "fill {f} against {fill}");
    let header = std::fs::read_to_string(out.join("capacity_providers.csv")).unwrap();
    assert!(header.starts_with("id,name,kind,municipality_code,role,functions,capacity,capacity_source,assigned,utilisation,mean_travel_min,fill_assigned\n"));
}

/// `--need-rate`: one share for every function or some functions'; a bad one is a usage
/// error naming the problem, with nothing written.
#[test]
fn need_rate_from_the_command_line() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let run = |rate: &str, out: &Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_zaitaku"))
            .args(["capacity", "--quiet", "--scenario"])
            .arg(root.join("fixtures/scenarios/nagano_base.toml"))
            .args(["--need-rate", rate, "--out"])
            .arg(out)
            .output()
            .unwrap()
    };
    for (rate, message) in [
        ("2", "--need-rate: 2 must lie in 0..1"),
        (
            "weekly=0.1",
            "--need-rate: no function 'weekly' in the rules (functions: discharge, daily, acute, end_of_life, hub)",
        ),
        ("daily:0.1", "--need-rate: 'daily:0.1' is not a number"),
    ] {
        let out = dir.path().join("bad");
        let o = run(rate, &out);
        assert_eq!(o.status.code(), Some(2), "{rate}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(message), "{rate}: {err}");
        assert!(!out.exists(), "{rate}: wrote output");
    }
    // daily at 0.05, the others at the rules' 0.019: need = the sum over places of the aged
    // 65+ times the rate, each rounded to 1/10,000 of a person.
    let out = dir.path().join("ok");
    let o = run("daily=0.05", &out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut aged = Vec::new();
    let mut reader = csv::Reader::from_path(root.join("fixtures/demo/nagano_population.csv")).unwrap();
    for r in reader.records() {
        aged.push(r.unwrap()[2].parse::<f64>().unwrap());
    }
    let need = |rate: f64| aged.iter().map(|a| (a * rate * 10_000.0).round()).sum::<f64>() / 10_000.0;
    let mut reader = csv::Reader::from_path(out.join("capacity.csv")).unwrap();
    let mut seen = 0;
    for r in reader.records() {
        let r = r.unwrap();
        if &r[0] == "all" && &r[3] == "all" {
            let want = if &r[2] == "daily" { need(0.05) } else { need(0.019) };
            assert!(
                (r[4].parse::<f64>().unwrap() - want).abs() < 1e-6,
                "{}: {} against {want}",
                &r[2],
                &r[4]
            );
            seen += 1;
        }
    }
    assert_eq!(seen, 5);
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("capacity_summary.json")).unwrap()).unwrap();
    assert_eq!(summary["functions"][1]["need_rate_source"], "--need-rate");
    assert_eq!(summary["functions"][0]["need_rate_source"], "built-in");
}

/// Shares: one provider of capacity 4 reached by two places of need 4 each, and a third
/// place of need 4 with a provider of its own. Nearest first gives all 4 to the first
/// place; shared, the two contested places (average share 4 / 8) are served up to 90 % of
/// half their need first (1 each), then the rest goes nearest first: 3 and 1. Up to the
/// whole share (1.0): 2 and 2. The third place is not contested and keeps its 4.
#[test]
fn a_shortfall_is_shared_in_steps() {
    let pairs = ListPairs::new(3, vec![vec![(0, 1.0), (1, 1.0)], vec![(2, 1.0)]]);
    assert_eq!(max_flow(&pairs, &[4, 4, 4], &[4, 9]).served, vec![4, 0, 4]);
    assert_eq!(
        max_flow_shared(&pairs, &[4, 4, 4], &[4, 9], &[0.9]).served,
        vec![3, 1, 4]
    );
    assert_eq!(
        max_flow_shared(&pairs, &[4, 4, 4], &[4, 9], &[1.0]).served,
        vec![2, 2, 4]
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    /// Lining a role up with another's served need: from the role's own maximum flow, as
    /// much of `first` is served as the two-stage solve (the most of `first`, then raised to
    /// the maximum) serves, and the total stays the maximum.
    #[test]
    fn aligning_serves_as_much_of_first_as_the_two_stage_solve(
        (places, lists, need, capacity) in instance(),
        cut in prop::collection::vec(0i64..60, 14),
    ) {
        let pairs = ListPairs::new(places, lists.clone());
        let first: Vec<i64> = need.iter().zip(&cut).map(|(n, c)| (*n).min(*c)).collect();
        let own = max_flow(&pairs, &need, &capacity);
        let aligned = align(&pairs, &own, &first, &capacity);
        let staged = max_flow_first(&pairs, &first, &need, &capacity);
        let of_first = |f: &zaitaku::capacity::flow::Flow| -> i64 {
            f.served.iter().zip(&first).map(|(s, x)| (*s).min(*x)).sum()
        };
        prop_assert_eq!(aligned.total(), own.total());
        prop_assert_eq!(staged.total(), own.total());
        prop_assert_eq!(of_first(&aligned), of_first(&staged));
        // The most of `first` any flow serves: the maximum flow for `first` alone.
        prop_assert_eq!(of_first(&aligned), reference(places, &lists, &first, &capacity));
        for (j, &a) in aligned.assigned.iter().enumerate() {
            prop_assert!(a <= capacity[j]);
            prop_assert_eq!(a, aligned.assignments[j].iter().map(|e| e.1).sum::<i64>());
        }
        let by_place: i64 = aligned.served.iter().sum();
        prop_assert_eq!(by_place, aligned.total());
        prop_assert!(aligned.served.iter().zip(&need).all(|(s, n)| s <= n));
    }
}

/// The nearest-first start served from the reach's nearest providers (as the report runs
/// it) gives the same flows as the start that searches for every place (as `zaitaku
/// capacity` runs it), at need rates where few, some and most providers fill up.
#[test]
fn the_nearest_from_reach_changes_no_flow() {
    use zaitaku::progress::Progress;
    let study = zaitaku::study::load(&zaitaku::demo::sources(), Progress::Quiet).unwrap();
    let places = study.demand.places();
    let (reach, nearest) = zaitaku::reach::straight::straight_line_reach_with_nearest(
        &places,
        &study.institutions,
        &study.rules,
        Progress::Quiet,
    );
    let order = Some(zaitaku::capacity::Order::Capacity);
    let mut filled = Vec::new();
    for rate in ["0.002", "0.02", "0.2"] {
        let rates = || zaitaku::capacity::need_rates(&study.rules, Some(rate)).unwrap();
        let searched = zaitaku::capacity::compute(&study, rates(), order, None, Progress::Quiet);
        let shortcut = zaitaku::capacity::compute(&study, rates(), order, Some((&reach, &nearest)), Progress::Quiet);
        assert_eq!(searched.problems.len(), shortcut.problems.len());
        for (a, b) in searched.problems.iter().zip(&shortcut.problems) {
            assert_eq!(a.flow, b.flow, "role {} at need rate {rate}", a.role);
            assert_eq!(a.fill, b.fill, "role {} at need rate {rate}", a.role);
        }
        filled.push(searched.problems.iter().map(|p| p.providers_full()).sum::<usize>());
    }
    // The rates make a difference: more providers fill as the need grows.
    assert!(filled[0] < filled[1] && filled[1] < filled[2], "{filled:?}");
}
