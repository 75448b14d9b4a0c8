//! Reach: for every demand place and every role, how near the nearest provider is and how
//! many providers are within the role's reach.
//!
//! Straight-line reach ([`straight`]) measures geodesic metres on WGS84. Every reach backend
//! fills the same [`ReachTable`], so coverage and the later analyses do not care how reach
//! was measured.

pub mod bands;
pub mod network;
pub mod od;
pub mod open_tree;
pub mod pairs;
pub mod straight;

use serde::Serialize;

pub use crate::earth::EARTH_RADIUS_M;

/// The unit of a [`ReachTable`]'s values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReachUnit {
    /// Straight-line distance, metres.
    Metres,
    /// Travel time, minutes.
    Minutes,
}

impl ReachUnit {
    /// Column suffix in outputs: `km` or `min`.
    pub fn suffix(self) -> &'static str {
        match self {
            ReachUnit::Metres => "km",
            ReachUnit::Minutes => "min",
        }
    }

    /// Converts a value in this unit to the unit shown in outputs (km or min).
    pub fn to_output(self, value: f64) -> f64 {
        match self {
            ReachUnit::Metres => value / 1000.0,
            ReachUnit::Minutes => value,
        }
    }
}

/// Reach of one role at every demand place.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleReach {
    /// Distance (or time) to the nearest matching provider; infinite when there is none.
    pub nearest: Vec<f64>,
    /// Number of matching providers within the role's reach.
    pub in_reach: Vec<u32>,
    /// Number of matching providers in the whole input.
    pub providers: usize,
}

/// Reach of every role (in the order of `Rules::roles`) at every demand place (in the order
/// of the demand cells).
#[derive(Debug, Clone, PartialEq)]
pub struct ReachTable {
    pub unit: ReachUnit,
    pub roles: Vec<RoleReach>,
}
