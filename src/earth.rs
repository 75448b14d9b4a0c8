//! The earth model shared by the readers and the analyses.

/// Mean earth radius (IUGG), metres: the sphere of the R-tree's earth-centred points and of
/// mesh areas.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;
