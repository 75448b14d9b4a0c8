//! Accessibility: how much supply each place can count on when neighbours compete for the
//! same providers. Two-step floating catchment area (2SFCA, Luo and Wang 2003) with binary
//! weights within the role's reach, and the enhanced 2SFCA (E2SFCA, Luo and Qi 2009) with a
//! distance decay applied in both steps and cut at the reach:
//!
//! R_j = S_j / sum_k f(d_kj) D_k over places k within reach of provider j,
//! A_i = sum_j f(d_ij) R_j over providers j within reach of place i.
//!
//! Only pairs within reach are ever formed, and for step decays not even those: a step
//! function is a sum of disc indicators, f(d) = sum_s c_s [d <= b_s], so each step is a
//! weighted count of points within a radius, answered by the reach indexes.
//! A provider with no demand within reach gets R_j = 0: its supply is allocated to no one,
//! and the sum of A_i D_i over places equals the supply of the providers that have demand.

use crate::reach::straight::{Blocks, ProviderIndex};
use rayon::prelude::*;

pub use crate::inputs::rules::Decay;

impl Decay {
    /// Steps as (bound, weight), cut at `reach`; `None` for a continuous decay.
    fn steps(&self, reach: f64) -> Option<Vec<(f64, f64)>> {
        let steps: Vec<(f64, f64)> = match self {
            Decay::Steps { steps } => steps.clone(),
            Decay::Thirds { weights } => weights
                .iter()
                .enumerate()
                .map(|(k, &w)| (reach * (k + 1) as f64 / 3.0, w))
                .collect(),
            Decay::Gaussian { .. } => return None,
        };
        let mut cut: Vec<(f64, f64)> = Vec::new();
        for (b, w) in steps {
            if cut.last().is_some_and(|l| l.0 >= reach) {
                break;
            }
            cut.push((b.min(reach), w));
        }
        Some(cut)
    }

    /// The weight at distance `d` for a role of reach `reach`.
    pub fn weight(&self, d: f64, reach: f64) -> f64 {
        if d > reach {
            return 0.0;
        }
        match self {
            Decay::Gaussian { sigma } => (-d * d / (2.0 * sigma * sigma)).exp(),
            _ => self
                .steps(reach)
                .unwrap_or_default()
                .iter()
                .find(|(b, _)| d <= *b)
                .map_or(0.0, |s| s.1),
        }
    }
}

/// Step decay as a sum of disc indicators: (radius, coefficient) with
/// f(d) = sum of the coefficients of the radii >= d.
fn indicator_terms(steps: &[(f64, f64)]) -> Vec<(f64, f64)> {
    steps
        .iter()
        .enumerate()
        .map(|(s, &(b, w))| (b, w - steps.get(s + 1).map_or(0.0, |n| n.1)))
        .filter(|t| t.1 != 0.0)
        .collect()
}

/// Accessibility of one role at every place.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleAccess {
    pub a_2sfca: Vec<f64>,
    pub a_e2sfca: Vec<f64>,
    /// Supply of the providers with any demand within reach (2SFCA and E2SFCA).
    pub supply_allocated: (f64, f64),
    pub providers: usize,
    /// Providers within reach of each place, counted in step 2 (the reach table's
    /// `in_reach`, with the same decisions); `None` by travel time, where the reach
    /// table has them.
    pub in_reach: Option<Vec<u32>>,
}

/// 2SFCA and E2SFCA of one role. `places` and `providers` are (lon, lat); `reach` in metres.
pub fn role_access(
    places: &[(f64, f64)],
    demand: &[f64],
    providers: &[(f64, f64)],
    supply: &[f64],
    reach: f64,
    decay: &Decay,
) -> RoleAccess {
    role_access_in(
        &ProviderIndex::with_weights(places, demand),
        places,
        &crate::reach::straight::blocks_for(places, reach),
        providers,
        supply,
        reach,
        decay,
    )
}

/// Step 1's denominators of every provider at `providers` (lon, lat): the demand of the
/// places within `reach` metres, and that demand weighted by the decay. They depend on the
/// provider's position, the reach and the decay only, so the providers of several roles of
/// one reach are summed once ([`role_access_with`] takes them). The places are indexed with
/// their demand as weights.
pub fn catchment_demand(
    place_index: &ProviderIndex,
    providers: &[(f64, f64)],
    reach: f64,
    decay: &Decay,
) -> Vec<(f64, f64)> {
    // A step decay is a sum of disc indicators: one multi-radius query per provider gives
    // the binary 2SFCA total (the last radius is the reach) and every step's total.
    let terms = decay.steps(reach).map(|steps| indicator_terms(&steps));
    let radii = step_radii(terms.as_deref(), reach);
    // Providers are taken in blocks of neighbours ([`Blocks`]): the same sums, site by site
    // in the same order, with one R-tree visit per block.
    let block_radius = 0.25 * radii.last().copied().unwrap_or(reach);
    let provider_blocks = Blocks::new(providers, block_radius);
    provider_blocks.map(
        |k, members| {
            let sums = place_index.sums_block(providers, &provider_blocks, k, &radii, None, false);
            members
                .iter()
                .zip(sums)
                .map(|(&j, (sums, _, _))| {
                    let binary = sums[radii.len() - 1];
                    let weighted = match &terms {
                        Some(t) => combine(&radii, &sums, t),
                        None => gaussian_sum(place_index, providers[j as usize], reach, decay),
                    };
                    (binary, weighted)
                })
                .collect()
        },
        &|_| (),
    )
}

/// The radii of a step decay's disc indicators and the reach, ascending (the reach alone for
/// a continuous decay).
fn step_radii(terms: Option<&[(f64, f64)]>, reach: f64) -> Vec<f64> {
    match terms {
        Some(t) => {
            let mut r: Vec<f64> = t.iter().map(|x| x.0).chain([reach]).collect();
            r.sort_by(f64::total_cmp);
            r.dedup();
            r
        }
        None => vec![reach],
    }
}

/// A step decay's weighted total from the discs' totals (`sums` per radius of `radii`).
fn combine(radii: &[f64], sums: &[f64], terms: &[(f64, f64)]) -> f64 {
    terms
        .iter()
        .map(|&(b, c)| c * sums[radii.iter().position(|&r| r == b).unwrap_or(0)])
        .sum()
}

/// [`role_access`] with the places already indexed with their demand as weights and taken
/// in blocks for the role's reach (`blocks_for(places, reach)`): one index serves every
/// role, and one set of blocks every role of the same reach.
#[allow(clippy::too_many_arguments)]
pub fn role_access_in(
    place_index: &ProviderIndex,
    places: &[(f64, f64)],
    place_blocks: &Blocks,
    providers: &[(f64, f64)],
    supply: &[f64],
    reach: f64,
    decay: &Decay,
) -> RoleAccess {
    let denominators = catchment_demand(place_index, providers, reach, decay);
    role_access_with(places, place_blocks, providers, supply, &denominators, reach, decay)
}

/// [`role_access_in`] with step 1's denominators of the providers given
/// ([`catchment_demand`]).
pub fn role_access_with(
    places: &[(f64, f64)],
    place_blocks: &Blocks,
    providers: &[(f64, f64)],
    supply: &[f64],
    denominators: &[(f64, f64)],
    reach: f64,
    decay: &Decay,
) -> RoleAccess {
    let terms = decay.steps(reach).map(|steps| indicator_terms(&steps));
    let radii = step_radii(terms.as_deref(), reach);
    let ratio = |s: f64, d: f64| if d > 1e-12 { s / d } else { 0.0 };
    let (r2, re): (Vec<f64>, Vec<f64>) = supply
        .iter()
        .zip(denominators)
        .map(|(&s, &(binary, weighted))| (ratio(s, binary), ratio(s, weighted)))
        .unzip();
    let allocated = |r: &[f64]| r.iter().zip(supply).filter(|(x, _)| **x > 0.0).map(|(_, s)| s).sum();
    let supply_allocated = (allocated(&r2), allocated(&re));
    // Step 2.
    let index2 = ProviderIndex::with_weights(providers, &r2);
    let indexe = index2.reweighted(&re);
    // Step decays sum differences of disc totals: the rounding residue is clamped at 0.
    // The same pass counts the providers within reach of each place.
    let per_place: Vec<(f64, f64, u32)> = place_blocks.map(
        |k, members| match &terms {
            // One pass gives the E2SFCA discs (reweighted) and the 2SFCA disc.
            Some(t) => indexe
                .sums_block(places, place_blocks, k, &radii, Some((&index2, reach)), true)
                .into_iter()
                .map(|(sums, a2, n)| (a2.max(0.0), combine(&radii, &sums, t).max(0.0), n))
                .collect(),
            None => members
                .iter()
                .zip(index2.sums_block(places, place_blocks, k, &[reach], None, true))
                .map(|(&i, (a2, _, n))| {
                    let ae = gaussian_sum(&indexe, places[i as usize], reach, decay);
                    (a2[0].max(0.0), ae.max(0.0), n)
                })
                .collect(),
        },
        &|_| (),
    );
    RoleAccess {
        a_2sfca: per_place.iter().map(|p| p.0).collect(),
        a_e2sfca: per_place.iter().map(|p| p.1).collect(),
        supply_allocated,
        providers: providers.len(),
        in_reach: Some(per_place.iter().map(|p| p.2).collect()),
    }
}

/// 2SFCA and E2SFCA of one role from pairs within reach (travel-time mode), built provider by
/// provider: [`PairAccess::ratios`] is step 1 for one provider (its pairs summed in place
/// order), [`PairAccess::add`] adds its ratios to its places (step 2). Providers added in
/// the same order give the same figures, however they were batched or threaded.
pub struct PairAccess {
    reach: f64,
    decay: Decay,
    steps: Option<Vec<(f64, f64)>>,
    supply: Vec<f64>,
    r2: Vec<f64>,
    re: Vec<f64>,
    a_2sfca: Vec<f64>,
    a_e2sfca: Vec<f64>,
}

impl PairAccess {
    /// For `places` places, pairs' times and the decay in the unit of `reach` (minutes).
    pub fn new(places: usize, reach: f64, decay: &Decay) -> PairAccess {
        PairAccess {
            reach,
            decay: decay.clone(),
            steps: decay.steps(reach),
            supply: Vec::new(),
            r2: Vec::new(),
            re: Vec::new(),
            a_2sfca: vec![0.0; places],
            a_e2sfca: vec![0.0; places],
        }
    }

    fn weight(&self, t: f64) -> f64 {
        match &self.steps {
            _ if t > self.reach => 0.0,
            Some(steps) => steps.iter().find(|(b, _)| t <= *b).map_or(0.0, |s| s.1),
            None => self.decay.weight(t, self.reach),
        }
    }

    /// Step 1 for a provider of `supply` reaching `list`: (2SFCA, E2SFCA) ratios.
    pub fn ratios(&self, demand: &[f64], list: &[(u32, f64)], supply: f64) -> (f64, f64) {
        let ratio = |s: f64, d: f64| if d > 1e-12 { s / d } else { 0.0 };
        let binary: f64 = list.iter().map(|&(i, _)| demand[i as usize]).sum();
        let weighted: f64 = list.iter().map(|&(i, t)| self.weight(t) * demand[i as usize]).sum();
        (ratio(supply, binary), ratio(supply, weighted))
    }

    /// Step 2 for the next provider: its ratios to the places it reaches.
    pub fn add(&mut self, list: &[(u32, f64)], supply: f64, (x2, xe): (f64, f64)) {
        for &(i, t) in list {
            self.a_2sfca[i as usize] += x2;
            self.a_e2sfca[i as usize] += self.weight(t) * xe;
        }
        self.supply.push(supply);
        self.r2.push(x2);
        self.re.push(xe);
    }

    pub fn finish(self) -> RoleAccess {
        let allocated = |r: &[f64]| {
            r.iter()
                .zip(&self.supply)
                .filter(|(x, _)| **x > 0.0)
                .map(|(_, s)| s)
                .sum()
        };
        RoleAccess {
            supply_allocated: (allocated(&self.r2), allocated(&self.re)),
            providers: self.supply.len(),
            a_2sfca: self.a_2sfca,
            a_e2sfca: self.a_e2sfca,
            in_reach: None,
        }
    }
}

/// [`PairAccess`] of one role from every provider's pairs at once: `pairs[j]` lists the places
/// provider `j` reaches with their travel time, in the unit of `reach` and of the decay.
pub fn role_access_pairs(
    places: usize,
    demand: &[f64],
    pairs: &[Vec<(u32, f64)>],
    supply: &[f64],
    reach: f64,
    decay: &Decay,
) -> RoleAccess {
    let mut acc = PairAccess::new(places, reach, decay);
    let ratios: Vec<(f64, f64)> = pairs
        .par_iter()
        .zip(supply)
        .map(|(list, &s)| acc.ratios(demand, list, s))
        .collect();
    for ((list, &s), r) in pairs.iter().zip(supply).zip(ratios) {
        acc.add(list, s, r);
    }
    acc.finish()
}

/// Accessibility of every role by travel time (`travel`: a road graph or an OD matrix), the
/// decay in minutes. Roles with the same two limits share each institution's pairs, taken in
/// blocks of institutions; each role adds its providers in institution order, as
/// [`role_access_pairs`] over the role's providers would.
pub fn access_by_travel(
    study: &crate::study::Study,
    travel: &crate::reach::pairs::Travel,
    decay: &Decay,
) -> Vec<RoleAccess> {
    const BLOCK: usize = 16_384;
    let roles = &study.rules.roles;
    let places = study.demand.cells.len();
    let demand: Vec<f64> = study.demand.cells.iter().map(|c| c.demand).collect();
    let mut acc: Vec<PairAccess> = roles
        .iter()
        .map(|r| PairAccess::new(places, r.reach_min.unwrap_or(0.0), decay))
        .collect();
    for ((reach_min, reach_km), sources) in crate::reach::pairs::limit_groups(study, |_| true) {
        for block in sources.chunks(BLOCK) {
            let ids: Vec<usize> = block.iter().map(|s| s.0).collect();
            let pairs = travel.institutions_within(study, &ids, reach_min, reach_km);
            let supply: Vec<f64> = ids
                .iter()
                .map(|&k| study.institutions[k].capacity.unwrap_or(1.0))
                .collect();
            let ratios: Vec<Vec<(f64, f64)>> = block
                .par_iter()
                .zip(&pairs)
                .zip(&supply)
                .map(|(((_, fills), list), &s)| fills.iter().map(|&r| acc[r].ratios(&demand, list, s)).collect())
                .collect();
            for ((((_, fills), list), &s), rs) in block.iter().zip(&pairs).zip(&supply).zip(ratios) {
                for (&r, x) in fills.iter().zip(rs) {
                    acc[r].add(list, s, x);
                }
            }
        }
    }
    acc.into_iter().map(PairAccess::finish).collect()
}

/// sum over the index's points k within reach of f(d(at, k)) * weight_k, pair by pair.
fn gaussian_sum(index: &ProviderIndex, at: (f64, f64), reach: f64, decay: &Decay) -> f64 {
    index
        .pairs_within(at, reach)
        .iter()
        .map(|&(k, d)| decay.weight(d, reach) * index.weight(k))
        .sum()
}

/// Demand-weighted Gini coefficient: sum_i sum_j w_i w_j |x_i - x_j| / (2 W^2 mean).
/// `None` without demand or when the mean is 0.
pub fn gini(values: &[(f64, f64)]) -> Option<f64> {
    let mut v: Vec<(f64, f64)> = values.iter().copied().filter(|p| p.1 > 0.0).collect();
    v.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total_w: f64 = v.iter().map(|p| p.1).sum();
    let mean = v.iter().map(|p| p.0 * p.1).sum::<f64>() / total_w;
    if total_w.is_nan() || total_w <= 0.0 || mean.is_nan() || mean <= 0.0 {
        return None;
    }
    // For sorted x: sum over i < j of w_i w_j (x_j - x_i) = sum_j w_j (x_j W_<j - X_<j).
    let (mut w_before, mut x_before, mut pairs) = (0.0, 0.0, 0.0);
    for &(x, w) in &v {
        pairs += w * (x * w_before - x_before);
        w_before += w;
        x_before += w * x;
    }
    Some(pairs / (total_w * total_w * mean))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Three places on the meridian 138 E at lat 36.00, 36.05, 36.10 (5.55 km apart),
    /// providers at the first (supply 2) and the last (supply 1), reach 8 km.
    type Case = (Vec<(f64, f64)>, Vec<f64>, Vec<(f64, f64)>, Vec<f64>);

    fn case() -> Case {
        (
            vec![(138.0, 36.0), (138.0, 36.05), (138.0, 36.1)],
            vec![10.0, 20.0, 30.0],
            vec![(138.0, 36.0), (138.0, 36.1)],
            vec![2.0, 1.0],
        )
    }

    fn close(a: &[f64], b: &[f64]) {
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() < 1e-12, "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn two_step_by_hand() {
        let (places, demand, providers, supply) = case();
        let steps = Decay::Steps {
            steps: vec![(3000.0, 1.0), (8000.0, 0.5)],
        };
        let r = role_access(&places, &demand, &providers, &supply, 8000.0, &steps);
        // 2SFCA: R_A = 2 / (10 + 20), R_B = 1 / (20 + 30).
        close(&r.a_2sfca, &[2.0 / 30.0, 2.0 / 30.0 + 1.0 / 50.0, 1.0 / 50.0]);
        // E2SFCA: weights 1 at 0 km, 0.5 at 5.55 km. R_A = 2 / (10 + 10) = 0.1,
        // R_B = 1 / (10 + 30) = 0.025.
        close(&r.a_e2sfca, &[0.1, 0.5 * 0.1 + 0.5 * 0.025, 0.025]);
        assert_eq!(r.supply_allocated, (3.0, 3.0));
    }

    #[test]
    fn gaussian_by_hand() {
        let (places, demand, providers, supply) = case();
        let f = |a, b| {
            let d = crate::reach::straight::ellipsoid_m(a, b);
            (-d * d / (2.0 * 5000.0f64.powi(2))).exp()
        };
        // The two 5.55 km gaps differ by centimetres (the meridian arc grows northwards).
        let (ga, gb) = (f(places[0], places[1]), f(places[1], places[2]));
        let r = role_access(
            &places,
            &demand,
            &providers,
            &supply,
            8000.0,
            &Decay::Gaussian { sigma: 5000.0 },
        );
        let (ra, rb) = (2.0 / (10.0 + 20.0 * ga), 1.0 / (20.0 * gb + 30.0));
        close(&r.a_e2sfca, &[ra, ga * ra + gb * rb, rb]);
    }

    #[test]
    fn no_provider_means_no_access() {
        let (places, demand, _, _) = case();
        let r = role_access(&places, &demand, &[], &[], 8000.0, &Decay::default());
        assert_eq!(r.a_2sfca, vec![0.0; 3]);
        assert_eq!(r.a_e2sfca, vec![0.0; 3]);
        assert_eq!((r.providers, r.supply_allocated), (0, (0.0, 0.0)));
    }

    #[test]
    fn thirds_scale_with_the_reach() {
        let d = Decay::default();
        assert_eq!(d.weight(5_000.0, 16_000.0), 1.0);
        assert_eq!(d.weight(6_000.0, 16_000.0), 0.68);
        assert_eq!(d.weight(16_000.0, 16_000.0), 0.22);
        assert_eq!(d.weight(16_001.0, 16_000.0), 0.0);
        assert_eq!(d.weight(12_000.0, 30_000.0), 0.68);
    }

    #[test]
    fn gini_by_hand() {
        assert_eq!(gini(&[(3.0, 1.0), (3.0, 5.0)]), Some(0.0));
        // One of two equal groups has everything: 0.5.
        assert_eq!(gini(&[(0.0, 1.0), (1.0, 1.0)]), Some(0.5));
        // Weights count like repeated people: (0 x1, 1 x3) = 0,1,1,1: sum|xi-xj| = 6,
        // 2 n^2 mean = 2 * 16 * 0.75 = 24: 0.25.
        assert_eq!(gini(&[(0.0, 1.0), (1.0, 3.0)]), Some(0.25));
        assert_eq!(gini(&[(0.0, 2.0)]), None);
    }

    /// Step 1's denominators of a provider are those of its position alone, whatever other
    /// providers are summed with it (bit for bit: `access` sums them once for all the roles of
    /// a reach), and they are the demand of the places within reach, measured one by one.
    #[test]
    fn catchment_demand_is_the_providers_own() {
        use rand_core::Rng;
        let mut rng = rand_pcg::Pcg64Mcg::new(7);
        let mut unit = || (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        // 3,000 places in about 30 x 30 km: more than 1,000 within 16 km of most providers,
        // so both ways of summing (latitude bands where places are dense, the R-tree
        // elsewhere) are taken.
        let places: Vec<(f64, f64)> = (0..3000)
            .map(|_| (139.6 + 0.35 * unit(), 35.6 + 0.3 * unit()))
            .collect();
        let demand: Vec<f64> = (0..3000).map(|_| (100.0 * unit()).floor()).collect();
        let providers: Vec<(f64, f64)> = (0..300).map(|_| (139.4 + 0.75 * unit(), 35.4 + 0.7 * unit())).collect();
        let index = ProviderIndex::with_weights(&places, &demand);
        for decay in [Decay::default(), Decay::Gaussian { sigma: 6000.0 }] {
            let all = catchment_demand(&index, &providers, 16_000.0, &decay);
            let odd: Vec<(f64, f64)> = providers.iter().copied().skip(1).step_by(2).collect();
            let some = catchment_demand(&index, &odd, 16_000.0, &decay);
            for (k, got) in some.iter().enumerate() {
                let want = all[2 * k + 1];
                assert_eq!(got.0.to_bits(), want.0.to_bits(), "provider {}", 2 * k + 1);
                assert_eq!(got.1.to_bits(), want.1.to_bits(), "provider {}", 2 * k + 1);
            }
            for (j, &p) in providers.iter().enumerate().step_by(7) {
                let alone = catchment_demand(&index, &[p], 16_000.0, &decay)[0];
                assert_eq!(alone.0.to_bits(), all[j].0.to_bits(), "provider {j}");
                assert_eq!(alone.1.to_bits(), all[j].1.to_bits(), "provider {j}");
                let within: Vec<usize> = (0..places.len())
                    .filter(|&i| crate::reach::straight::within_m(p, places[i], 16_000.0))
                    .collect();
                let binary: f64 = within.iter().map(|&i| demand[i]).sum();
                assert_eq!(alone.0, binary, "provider {j}: {} places", within.len());
            }
        }
        // Some provider has more than 1,000 places within reach, and some fewer.
        let counts: Vec<usize> = providers
            .iter()
            .map(|&p| {
                places
                    .iter()
                    .filter(|&&q| crate::reach::straight::within_m(p, q, 16_000.0))
                    .count()
            })
            .collect();
        assert!(counts.iter().any(|&n| n > 1000) && counts.iter().any(|&n| n < 1000));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// The supply of providers with demand in reach is shared out exactly.
        #[test]
        fn supply_is_conserved(
            places in proptest::collection::vec((138.0f64..138.6, 36.0f64..36.5, 0.0f64..50.0), 1..80),
            providers in proptest::collection::vec((138.0f64..138.6, 36.0f64..36.5, 0.5f64..20.0), 1..20),
            reach_km in 3.0f64..25.0,
            gaussian in any::<bool>(),
        ) {
            let xy: Vec<(f64, f64)> = places.iter().map(|p| (p.0, p.1)).collect();
            let dem: Vec<f64> = places.iter().map(|p| p.2).collect();
            let pxy: Vec<(f64, f64)> = providers.iter().map(|p| (p.0, p.1)).collect();
            let sup: Vec<f64> = providers.iter().map(|p| p.2).collect();
            let decay = if gaussian { Decay::Gaussian { sigma: 6000.0 } } else { Decay::default() };
            let r = role_access(&xy, &dem, &pxy, &sup, reach_km * 1000.0, &decay);
            let total2: f64 = r.a_2sfca.iter().zip(&dem).map(|(a, d)| a * d).sum();
            let totale: f64 = r.a_e2sfca.iter().zip(&dem).map(|(a, d)| a * d).sum();
            prop_assert!((total2 - r.supply_allocated.0).abs() < 1e-9 * (1.0 + total2));
            prop_assert!((totale - r.supply_allocated.1).abs() < 1e-9 * (1.0 + totale));
        }
    }
}
