//! Travel-time reach from an OD matrix (`--od-matrix`): times computed elsewhere, used as
//! given. Per role and place, the nearest listed provider and the providers within both the
//! role's `reach_min` (as listed) and its `reach_km` (straight line).

use super::straight::within_m;
use super::{ReachTable, ReachUnit, RoleReach};
use crate::error::{Error, Result};
use crate::inputs::institutions::Institution;
use crate::inputs::od_matrix::OdMatrix;
use crate::inputs::rules::Rules;
use rayon::prelude::*;

/// Reach of every role at every place from the matrix.
pub fn od_reach(
    places: &[(f64, f64)],
    institutions: &[Institution],
    rules: &Rules,
    od: &OdMatrix,
) -> Result<ReachTable> {
    if let Some(role) = rules.roles.iter().find(|r| r.reach_min.is_none()) {
        return Err(Error::Usage(format!(
            "travel-time mode: role '{}' has no reach_min in the rules (every role needs one with --od-matrix)",
            role.id
        )));
    }
    let roles = rules
        .roles
        .iter()
        .map(|role| {
            let fills: Vec<bool> = institutions.iter().map(|i| role.matches(i)).collect();
            let (reach_min, reach_m) = (role.reach_min.unwrap_or(0.0), role.reach_km * 1000.0);
            let (nearest, in_reach): (Vec<f64>, Vec<u32>) = od
                .to_place
                .par_iter()
                .zip(places)
                .map(|(pairs, &at)| {
                    let mut nearest = f64::INFINITY;
                    let mut count = 0;
                    for &(k, minutes) in pairs {
                        let inst = &institutions[k as usize];
                        if !fills[k as usize] {
                            continue;
                        }
                        nearest = nearest.min(minutes);
                        if minutes <= reach_min && within_m(at, (inst.lon, inst.lat), reach_m) {
                            count += 1;
                        }
                    }
                    (nearest, count)
                })
                .unzip();
            RoleReach {
                nearest,
                in_reach,
                providers: fills.iter().filter(|&&f| f).count(),
            }
        })
        .collect();
    Ok(ReachTable {
        unit: ReachUnit::Minutes,
        roles,
    })
}
