//! Two layouts of the same municipalities compared: the adjusted Rand index (Hubert and
//! Arabie 1985, as scikit-learn's `adjusted_rand_score` computes it) and the municipalities
//! that move.

use super::Comparison;
use std::collections::HashMap;

fn pairs(n: u64) -> f64 {
    (n * n.saturating_sub(1) / 2) as f64
}

/// Adjusted Rand index of two labellings of the same items; 1 when both put every item in
/// one group or every item alone.
pub fn adjusted_rand(a: &[usize], b: &[usize]) -> f64 {
    assert_eq!(a.len(), b.len());
    let mut joint: HashMap<(usize, usize), u64> = HashMap::new();
    let mut ca: HashMap<usize, u64> = HashMap::new();
    let mut cb: HashMap<usize, u64> = HashMap::new();
    for (&x, &y) in a.iter().zip(b) {
        *joint.entry((x, y)).or_default() += 1;
        *ca.entry(x).or_default() += 1;
        *cb.entry(y).or_default() += 1;
    }
    let index: f64 = joint.values().map(|&n| pairs(n)).sum();
    let sa: f64 = ca.values().map(|&n| pairs(n)).sum();
    let sb: f64 = cb.values().map(|&n| pairs(n)).sum();
    let total = pairs(a.len() as u64);
    if total == 0.0 {
        return 1.0;
    }
    let expected = sa * sb / total;
    let max = 0.5 * (sa + sb);
    if max == expected {
        return 1.0;
    }
    (index - expected) / (max - expected)
}

/// Compares the regions (`region_of`) with the catchments (`catchment_of`) over the
/// municipalities that have a region. A catchment's main region is the one holding most
/// of its demand (by count of municipalities when it has none; ties: the lower index); a
/// municipality moves when its catchment's main region is not its own.
pub fn compare(
    region_of: &[Option<usize>],
    catchment_of: &[usize],
    demand: &[f64],
    regions: usize,
    catchments: usize,
) -> Comparison {
    let (a, b): (Vec<usize>, Vec<usize>) = region_of
        .iter()
        .zip(catchment_of)
        .filter_map(|(r, &c)| r.map(|r| (r, c)))
        .unzip();
    let mut weight = vec![vec![(0.0, 0usize); regions]; catchments];
    for (m, (&r, &c)) in region_of.iter().zip(catchment_of).enumerate() {
        if let Some(r) = r {
            weight[c][r].0 += demand[m];
            weight[c][r].1 += 1;
        }
    }
    let main_region: Vec<Option<usize>> = weight
        .iter()
        .map(|w| {
            let mut best: Option<(usize, (f64, usize))> = None;
            for (r, &x) in w.iter().enumerate() {
                if x.1 == 0 {
                    continue;
                }
                if best.is_none_or(|b| x.0 > b.1 .0 || (x.0 == b.1 .0 && x.1 > b.1 .1)) {
                    best = Some((r, x));
                }
            }
            best.map(|b| b.0)
        })
        .collect();
    let moved = region_of
        .iter()
        .zip(catchment_of)
        .enumerate()
        .filter(|(_, (r, &c))| r.is_some() && **r != main_region[c])
        .map(|(m, _)| m)
        .collect();
    Comparison {
        adjusted_rand: adjusted_rand(&a, &b),
        main_region,
        moved,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adjusted_rand_matches_scikit_learn() {
        // sklearn.metrics.adjusted_rand_score([0, 0, 1, 1], [0, 0, 1, 2]) = 0.5714285714285715
        assert!((adjusted_rand(&[0, 0, 1, 1], &[0, 0, 1, 2]) - 0.571_428_571_428_571_5).abs() < 1e-12);
        // adjusted_rand_score([0, 0, 1, 2], [0, 0, 1, 1]) is symmetric.
        assert!((adjusted_rand(&[0, 0, 1, 2], &[0, 0, 1, 1]) - 0.571_428_571_428_571_5).abs() < 1e-12);
        // adjusted_rand_score([0, 0, 0, 0], [0, 1, 2, 3]) = 0.0
        assert_eq!(adjusted_rand(&[0, 0, 0, 0], &[0, 1, 2, 3]), 0.0);
        // Identical partitions, whatever the labels.
        assert_eq!(adjusted_rand(&[0, 0, 1, 1, 2], &[5, 5, 3, 3, 9]), 1.0);
        // adjusted_rand_score([0, 0, 1, 1], [0, 1, 0, 1]) = -0.5
        assert!((adjusted_rand(&[0, 0, 1, 1], &[0, 1, 0, 1]) + 0.5).abs() < 1e-12);
    }
}
