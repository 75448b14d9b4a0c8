//! The standard grid mesh of Japan (JIS X 0410, 地域メッシュ).
//!
//! A mesh code names a lon/lat square. Internally a cell is held as the integer position of
//! its south-west corner in units of the eighth mesh (1/960 degree of latitude, 1/640 degree
//! of longitude), so every level is exact and decoding never accumulates rounding.
//!
//! | level | digits | size (lat x lon) | about |
//! |---|---|---|---|
//! | 1st | `ppuu` | 40' x 1 deg | 80 km |
//! | 2nd | + `qv` (0-7) | 5' x 7.5' | 10 km |
//! | 3rd | + `rw` (0-9) | 30" x 45" | 1 km |
//! | half | + 1 digit (1-4) | 15" x 22.5" | 500 m |
//! | quarter | + 1 digit (1-4) | 7.5" x 11.25" | 250 m |
//! | eighth | + 1 digit (1-4) | 3.75" x 5.625" | 125 m |
//!
//! The sub-division digit is 1 south-west, 2 south-east, 3 north-west, 4 north-east.

// Raw input bytes are parsed here: no indexing that could panic.
#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

use geo::{Coord, Rect};
use std::fmt;

/// Latitude units per degree: an eighth mesh is 1/960 degree tall.
const LAT_UNITS_PER_DEG: i64 = 960;
/// Longitude units per degree: an eighth mesh is 1/640 degree wide.
const LON_UNITS_PER_DEG: i64 = 640;

/// The levels of the grid mesh.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    First,
    Second,
    Third,
    Half,
    Quarter,
    Eighth,
}

impl Level {
    pub const ALL: [Level; 6] = [
        Level::First,
        Level::Second,
        Level::Third,
        Level::Half,
        Level::Quarter,
        Level::Eighth,
    ];

    /// Number of digits in a code of this level.
    pub fn digits(self) -> usize {
        match self {
            Level::First => 4,
            Level::Second => 6,
            Level::Third => 8,
            Level::Half => 9,
            Level::Quarter => 10,
            Level::Eighth => 11,
        }
    }

    /// Size of a cell in eighth-mesh units; the same number for latitude and longitude.
    fn units(self) -> i64 {
        match self {
            Level::First => 640,
            Level::Second => 80,
            Level::Third => 8,
            Level::Half => 4,
            Level::Quarter => 2,
            Level::Eighth => 1,
        }
    }

    /// Cell height in degrees of latitude.
    pub fn height_deg(self) -> f64 {
        self.units() as f64 / LAT_UNITS_PER_DEG as f64
    }

    /// Cell width in degrees of longitude.
    pub fn width_deg(self) -> f64 {
        self.units() as f64 / LON_UNITS_PER_DEG as f64
    }

    fn from_digits(n: usize) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.digits() == n)
    }
}

/// One cell of the grid mesh.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Mesh {
    /// South-west corner, eighth-mesh units of latitude from the equator.
    lat_units: i64,
    /// South-west corner, eighth-mesh units of longitude east of 100 degrees.
    lon_units: i64,
    level: Level,
}

/// Why a mesh code could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MeshError {
    #[error("mesh code '{0}' has {1} digits; expected 4, 6, 8, 9, 10 or 11")]
    Length(String, usize),
    #[error("mesh code '{0}' has a character that is not a digit")]
    NotDigits(String),
    #[error("mesh code '{0}': digit {1} must be {2}")]
    Digit(String, usize, &'static str),
    #[error("mesh code '{0}' lies outside Japan (1st-order mesh {1} not within lat 20-46, lon 122-154)")]
    OutsideJapan(String, String),
}

impl Mesh {
    /// Reads a mesh code of any level, checking every digit's range and that the cell lies in
    /// Japan's extent (lat 20-46, lon 122-154).
    pub fn parse(code: &str) -> Result<Mesh, MeshError> {
        let code = code.trim();
        let level =
            Level::from_digits(code.len()).ok_or_else(|| MeshError::Length(code.to_string(), code.chars().count()))?;
        if !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(MeshError::NotDigits(code.to_string()));
        }
        let d: Vec<i64> = code.bytes().map(|b| i64::from(b - b'0')).collect();
        // The length was checked against the level: 4, 6, 8, 9, 10 or 11 digits.
        let digit = |i: usize| d.get(i).copied().unwrap_or(0);
        let pp = digit(0) * 10 + digit(1);
        let uu = digit(2) * 10 + digit(3);
        if !(30..=68).contains(&pp) || !(22..=53).contains(&uu) {
            return Err(MeshError::OutsideJapan(
                code.to_string(),
                code.get(..4).unwrap_or(code).to_string(),
            ));
        }
        let mut lat = pp * 640;
        let mut lon = uu * 640;
        if level >= Level::Second {
            for i in 4..6 {
                if digit(i) > 7 {
                    return Err(MeshError::Digit(code.to_string(), i + 1, "0-7"));
                }
            }
            lat += digit(4) * 80;
            lon += digit(5) * 80;
        }
        if level >= Level::Third {
            lat += digit(6) * 8;
            lon += digit(7) * 8;
        }
        for (i, (&q, half)) in d.iter().skip(8).zip([4, 2, 1]).enumerate() {
            if !(1..=4).contains(&q) {
                return Err(MeshError::Digit(code.to_string(), i + 9, "1-4"));
            }
            // `half`: the level whose cells this digit splits into quadrants.
            lat += ((q - 1) / 2) * half;
            lon += ((q - 1) % 2) * half;
        }
        Ok(Mesh {
            lat_units: lat,
            lon_units: lon,
            level,
        })
    }

    /// The cell of `level` containing a point (lon, lat in degrees). `None` outside Japan's
    /// 1st-order mesh range.
    pub fn containing(lon: f64, lat: f64, level: Level) -> Option<Mesh> {
        if !lon.is_finite() || !lat.is_finite() {
            return None;
        }
        let lat_u = (lat * LAT_UNITS_PER_DEG as f64).floor() as i64;
        let lon_u = ((lon - 100.0) * LON_UNITS_PER_DEG as f64).floor() as i64;
        let u = level.units();
        let mesh = Mesh {
            lat_units: lat_u.div_euclid(u) * u,
            lon_units: lon_u.div_euclid(u) * u,
            level,
        };
        let (pp, uu) = (mesh.lat_units / 640, mesh.lon_units / 640);
        ((30..=68).contains(&pp) && (22..=53).contains(&uu)).then_some(mesh)
    }

    pub fn level(&self) -> Level {
        self.level
    }

    /// South-west corner (lon, lat) in degrees.
    pub fn south_west(&self) -> Coord<f64> {
        Coord {
            x: 100.0 + self.lon_units as f64 / LON_UNITS_PER_DEG as f64,
            y: self.lat_units as f64 / LAT_UNITS_PER_DEG as f64,
        }
    }

    /// The cell's square in lon/lat degrees.
    pub fn square(&self) -> Rect<f64> {
        let u = self.level.units();
        let sw = self.south_west();
        let ne = Coord {
            x: 100.0 + (self.lon_units + u) as f64 / LON_UNITS_PER_DEG as f64,
            y: (self.lat_units + u) as f64 / LAT_UNITS_PER_DEG as f64,
        };
        Rect::new(sw, ne)
    }

    /// The cell's centre (lon, lat) in degrees.
    pub fn centre(&self) -> Coord<f64> {
        let u = self.level.units();
        Coord {
            x: 100.0 + (2 * self.lon_units + u) as f64 / (2 * LON_UNITS_PER_DEG) as f64,
            y: (2 * self.lat_units + u) as f64 / (2 * LAT_UNITS_PER_DEG) as f64,
        }
    }

    /// Area of the cell on the sphere of mean radius, in square kilometres.
    pub fn area_km2(&self) -> f64 {
        let r = crate::earth::EARTH_RADIUS_M / 1000.0;
        let sq = self.square();
        let dlon = (sq.max().x - sq.min().x).to_radians();
        r * r * dlon * (sq.max().y.to_radians().sin() - sq.min().y.to_radians().sin())
    }

    /// The code, as the digits of its level.
    pub fn code(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Mesh {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (lat, lon) = (self.lat_units, self.lon_units);
        write!(f, "{:02}{:02}", lat / 640, lon / 640)?;
        if self.level >= Level::Second {
            write!(f, "{}{}", (lat % 640) / 80, (lon % 640) / 80)?;
        }
        if self.level >= Level::Third {
            write!(f, "{}{}", (lat % 80) / 8, (lon % 80) / 8)?;
        }
        let subdivisions = [(Level::Half, 4), (Level::Quarter, 2), (Level::Eighth, 1)];
        for (level, half) in subdivisions {
            if self.level >= level {
                let north = (lat % (2 * half)) / half;
                let east = (lon % (2 * half)) / half;
                write!(f, "{}", 1 + east + 2 * north)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decodes_known_codes() {
        // Tokyo Station lies in 1st mesh 5339, 2nd 533946, 3rd 53394611 (published examples).
        let m = Mesh::parse("53394611").unwrap();
        let sw = m.south_west();
        assert!((sw.y - (53.0 / 1.5 + 4.0 / 12.0 + 1.0 / 120.0)).abs() < 1e-12);
        assert!((sw.x - (139.0 + 6.0 / 8.0 + 1.0 / 80.0)).abs() < 1e-12);
        let c = m.centre();
        assert!((c.y - 35.6791666667).abs() < 1e-9, "{}", c.y);
        assert!((c.x - 139.76875).abs() < 1e-9, "{}", c.x);
        // Half mesh 4 is the north-east quarter of its 3rd mesh.
        let h = Mesh::parse("533946114").unwrap();
        assert!((h.south_west().y - (sw.y + 1.0 / 240.0)).abs() < 1e-12);
        assert!((h.south_west().x - (sw.x + 1.0 / 160.0)).abs() < 1e-12);
        // 1st mesh square is 2/3 degree by 1 degree.
        let f = Mesh::parse("5339").unwrap().square();
        assert!((f.height() - 2.0 / 3.0).abs() < 1e-12 && (f.width() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn rejects_bad_codes() {
        assert!(matches!(Mesh::parse("5339461"), Err(MeshError::Length(..))));
        assert!(matches!(Mesh::parse("5339a611"), Err(MeshError::NotDigits(_))));
        assert!(matches!(Mesh::parse("53398611"), Err(MeshError::Digit(..))));
        assert!(matches!(Mesh::parse("533946115"), Err(MeshError::Digit(..))));
        // 1st mesh 2939 is south of lat 20.
        assert!(matches!(Mesh::parse("2939"), Err(MeshError::OutsideJapan(..))));
        assert!(matches!(Mesh::parse("5360"), Err(MeshError::OutsideJapan(..))));
    }

    #[test]
    fn half_mesh_area_is_about_a_quarter_km2() {
        let a = Mesh::parse("533946114").unwrap().area_km2();
        // 15" x 22.5" at lat 35.68: 0.4633 km x 0.5652 km.
        assert!((a - 0.2619).abs() < 0.002, "{a}");
    }

    proptest! {
        #[test]
        fn code_square_code_round_trips(lat in 20.0f64..45.9, lon in 122.0f64..153.9, li in 0usize..6) {
            let level = Level::ALL[li];
            let m = Mesh::containing(lon, lat, level).unwrap();
            let code = m.code();
            prop_assert_eq!(code.len(), level.digits());
            let back = Mesh::parse(&code).unwrap();
            prop_assert_eq!(back, m);
            let sq = back.square();
            prop_assert!(sq.min().x <= lon && lon < sq.max().x + 1e-9);
            prop_assert!(sq.min().y <= lat && lat < sq.max().y + 1e-9);
            let c = back.centre();
            prop_assert_eq!(Mesh::containing(c.x, c.y, level), Some(back));
        }
    }
}
