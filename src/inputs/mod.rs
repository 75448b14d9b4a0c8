//! Inputs: municipalities, population, institutions and rules, read and checked.
//!
//! Every reader takes a [`Source`] (bytes and a name), returns what it accepted together
//! with its rejects, and fails with an [`Error::Input`](crate::error::Error::Input) for a
//! file-level problem. A reader depends on the ground (errors, sources, the earth model) and
//! its own types only; [`crate::study`] assembles a study from them.

// Readers take untrusted bytes: no indexing that could panic, here and in every submodule.
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

pub mod catalogue;
pub mod coords;
pub mod csv_table;
pub mod estat;
pub mod institutions;
pub mod mesh;
pub mod municipalities;
pub mod name_match;
pub mod notifications;
pub mod od_matrix;
pub mod open_data;
pub mod population;
pub mod regions;
pub mod rules;
pub mod scenario;
pub mod source;
pub mod tables;

pub use source::{Bytes, Source};
