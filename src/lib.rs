//! zaitaku (在宅, "at home"): where home medical care reaches in Japan.
//!
//! The modules follow the data flow:
//! [`inputs`] (municipalities, population mesh, institutions, rules) ->
//! [`demand`] (demand places in municipalities) -> [`reach`] (nearest provider and providers
//! within reach, per role) -> [`coverage`] (per-function coverage and its aggregates) ->
//! [`outputs`] (GeoJSON, CSV, Parquet, summary). [`run`] strings them into commands.
//! See ARCHITECTURE.md.

// No unwrap or expect on data paths: a bad input is an error, never a panic (tests may).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

pub mod access;
pub mod capacity;
pub mod catchments;
pub mod compare;
pub mod coverage;
pub mod criticality;
pub mod demand;
pub mod demo;
pub mod earth;
pub mod error;
pub mod indicators;
pub mod inputs;
pub mod inspect;
pub mod network;
pub mod outputs;
pub mod progress;
pub mod reach;
pub mod run;
pub mod serve;
pub mod sets;
pub mod study;
pub mod suggest;
pub mod tasks;
pub mod workbench;

pub use error::{Error, Result};
