//! GeoJSON coordinate arrays read straight from their text, every number to the same `f64`
//! that serde_json (as built here, without its `float_roundtrip` feature) gives it.
//!
//! A national boundary file is mostly coordinates: the national benchmark's quarter of a
//! gigabyte holds 12 million numbers. Read through serde's visitors each number costs calls
//! per element and a check per byte that the deserializer may fail; here a ring is one loop
//! over its text, and a number's digits are read eight at a time.
//!
//! The scanner takes a strict subset of JSON: nesting of exactly the depth asked for,
//! positions of two or three numbers, and numbers whose value it can give exactly as
//! serde_json would (a significand of up to 19 digits and a power of ten up to 22 either way,
//! which covers every coordinate written with fewer than 20 digits). Anything else is
//! `None`, and the caller reads the text through serde_json instead, which gives the value or
//! names the problem. So what is accepted here is read as before, bit for bit.
//!
//! serde_json's number (its `parse_integer`, `parse_decimal`, `f64_from_parts`): digits are
//! gathered into a `u64` significand while it does not overflow, later digits after the
//! decimal point are dropped, and the value is `significand as f64` multiplied or divided by
//! the power of ten of the exponent. That is correctly rounded only while the significand has
//! at most 15 or 16 digits; beyond, it can differ from the nearest double in the last bit,
//! which is why the exact steps are repeated here rather than calling a correctly rounded
//! parser.

use geo::Coord;

/// Powers of ten that a double holds exactly.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20,
    1e21, 1e22,
];

/// The rings of a Polygon's `coordinates`, the whole of `text`.
pub fn polygon(text: &str) -> Option<Vec<Vec<Coord<f64>>>> {
    let mut scan = Scan::new(text);
    let rings = scan.rings()?;
    scan.end()?;
    Some(rings)
}

/// The polygons (rings each) of a MultiPolygon's `coordinates`, the whole of `text`.
pub fn multi_polygon(text: &str) -> Option<Vec<Vec<Vec<Coord<f64>>>>> {
    let mut scan = Scan::new(text);
    let polygons = scan.polygons()?;
    scan.end()?;
    Some(polygons)
}

/// A cursor over JSON text.
pub struct Scan<'a> {
    bytes: &'a [u8],
    at: usize,
    /// A ring's points as they are read, reused from ring to ring: each ring is then kept
    /// in a vector of its own length, not one grown by doubling (up to twice as long, each
    /// step copied into memory the system had to clear first).
    ring: Vec<Coord<f64>>,
}

impl<'a> Scan<'a> {
    pub fn new(text: &'a str) -> Self {
        Scan {
            bytes: text.as_bytes(),
            at: 0,
            ring: Vec::new(),
        }
    }

    /// A cursor at byte `at` of `text`.
    pub fn at(text: &'a str, at: usize) -> Self {
        Scan {
            bytes: text.as_bytes(),
            at,
            ring: Vec::new(),
        }
    }

    /// The byte the cursor stands at.
    pub fn offset(&self) -> usize {
        self.at
    }

    /// Whitespace, then a string without escapes or control characters, its bytes; `None`
    /// for any other value (a string with escapes is left to serde_json).
    pub fn plain_string(&mut self) -> Option<&'a [u8]> {
        if !self.next_is(b'"') {
            return None;
        }
        let start = self.at;
        loop {
            match self.peek()? {
                b'"' => break,
                b'\\' | 0..=0x1f => return None,
                _ => self.at += 1,
            }
        }
        let s = self.bytes.get(start..self.at);
        self.at += 1;
        s
    }

    /// Whitespace, then the literal `null` (taken), or false.
    pub fn null(&mut self) -> bool {
        self.skip_ws();
        if self.bytes.get(self.at..self.at + 4) == Some(b"null") {
            self.at += 4;
            true
        } else {
            false
        }
    }

    /// The polygons of a MultiPolygon's `coordinates`.
    pub fn polygons(&mut self) -> Option<Vec<Vec<Vec<Coord<f64>>>>> {
        let mut polygons = Vec::new();
        self.list(|s| {
            polygons.push(s.rings()?);
            Some(())
        })?;
        Some(polygons)
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    /// JSON's whitespace (space, tab, line feed, carriage return), as serde_json skips it.
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    /// Whitespace, then `c` (taken), or false.
    pub fn next_is(&mut self, c: u8) -> bool {
        self.skip_ws();
        if self.peek() == Some(c) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    /// Nothing but whitespace left.
    fn end(&mut self) -> Option<()> {
        self.skip_ws();
        (self.at == self.bytes.len()).then_some(())
    }

    /// An array, each element read by `item`.
    fn list(&mut self, mut item: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        if !self.next_is(b'[') {
            return None;
        }
        if self.next_is(b']') {
            return Some(());
        }
        loop {
            item(self)?;
            if self.next_is(b',') {
                continue;
            }
            return self.next_is(b']').then_some(());
        }
    }

    /// The rings of a Polygon's `coordinates`.
    pub fn rings(&mut self) -> Option<Vec<Vec<Coord<f64>>>> {
        let mut rings = Vec::new();
        self.list(|s| {
            s.ring.clear();
            s.list(|s| {
                let position = s.position()?;
                s.ring.push(position);
                Some(())
            })?;
            rings.push(s.ring.as_slice().to_vec());
            Some(())
        })?;
        Some(rings)
    }

    /// `[x, y]` or `[x, y, z]` (the height is read and not kept).
    fn position(&mut self) -> Option<Coord<f64>> {
        if !self.next_is(b'[') {
            return None;
        }
        let x = self.number()?;
        if !self.next_is(b',') {
            return None;
        }
        let y = self.number()?;
        if self.next_is(b',') {
            self.number()?;
        }
        self.next_is(b']').then_some(Coord { x, y })
    }

    /// A number (after whitespace), as serde_json reads it into an `f64`; `None` for what is
    /// not a JSON number and for the rare forms left to serde_json (see the module).
    fn number(&mut self) -> Option<f64> {
        self.skip_ws();
        let negative = self.peek() == Some(b'-');
        if negative {
            self.at += 1;
        }
        let mut significand: u64 = 0;
        match self.peek()? {
            b'0' => {
                self.at += 1;
                if self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    return None; // a leading zero: not JSON
                }
            }
            b'1'..=b'9' => {
                if self.digits(&mut significand).1 {
                    return None; // serde_json's long integer: left to it
                }
            }
            _ => return None,
        }
        let mut exponent: i32 = 0;
        if self.peek() == Some(b'.') {
            self.at += 1;
            let (taken, overflowed) = self.digits(&mut significand);
            if overflowed {
                // serde_json drops the digits that no longer fit.
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.at += 1;
                }
            } else if taken == 0 {
                return None; // no digit after the point
            }
            exponent = -taken;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.at += 1;
            let positive = match self.peek() {
                Some(b'+') => {
                    self.at += 1;
                    true
                }
                Some(b'-') => {
                    self.at += 1;
                    false
                }
                _ => true,
            };
            let mut e: i32 = match self.peek()? {
                c @ b'0'..=b'9' => i32::from(c - b'0'),
                _ => return None,
            };
            self.at += 1;
            while let Some(c @ b'0'..=b'9') = self.peek() {
                // Far beyond the powers handled here: left to serde_json.
                e = e.checked_mul(10)?.checked_add(i32::from(c - b'0'))?;
                self.at += 1;
            }
            exponent = if positive {
                exponent.saturating_add(e)
            } else {
                exponent.saturating_sub(e)
            };
        }
        let power = POW10.get(exponent.unsigned_abs() as usize)?;
        let mut f = significand as f64;
        if exponent >= 0 {
            f *= power;
        } else {
            f /= power;
        }
        Some(if negative { -f } else { f })
    }

    /// Digits from the cursor appended to `significand` while it does not overflow a `u64`:
    /// how many were taken, and whether a digit was left because it would overflow.
    /// Up to eight at a time while the significand is below 10^11 (eight more keep it below
    /// 10^19), then one at a time with serde_json's test.
    fn digits(&mut self, significand: &mut u64) -> (i32, bool) {
        let mut taken = 0;
        while *significand < 100_000_000_000 {
            let Some(word) = self.bytes.get(self.at..self.at + 8).and_then(|b| b.try_into().ok()) else {
                break;
            };
            let word = u64::from_le_bytes(word);
            let n = leading_digits(word);
            let Some(scale) = POW10_U64.get(n).filter(|_| n > 0) else {
                return (taken, false);
            };
            *significand = *significand * scale + digits_value(word, n);
            taken += n as i32;
            self.at += n;
            if n < 8 {
                return (taken, false);
            }
        }
        while let Some(c @ b'0'..=b'9') = self.peek() {
            let digit = u64::from(c - b'0');
            if overflows(*significand, digit) {
                return (taken, true);
            }
            *significand = *significand * 10 + digit;
            taken += 1;
            self.at += 1;
        }
        (taken, false)
    }
}

/// Powers of ten up to 10^8, as integers.
const POW10_U64: [u64; 9] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000];

/// `significand * 10 + digit` would pass `u64::MAX` (serde_json's test, as it writes it).
fn overflows(significand: u64, digit: u64) -> bool {
    const MAX: u64 = u64::MAX;
    significand >= MAX / 10 && (significand > MAX / 10 || digit > MAX % 10)
}

/// How many of the eight bytes of `word` (first byte lowest) are ASCII digits before the
/// first that is not. A byte's test carries or borrows only into the bytes after it, so
/// the first non-digit is found exactly.
fn leading_digits(word: u64) -> usize {
    let not_digit =
        (word.wrapping_add(0x4646_4646_4646_4646) | word.wrapping_sub(0x3030_3030_3030_3030)) & 0x8080_8080_8080_8080;
    (not_digit.trailing_zeros() / 8) as usize
}

/// The value of the first `n` bytes of `word` (1 to 8 ASCII digits, first byte lowest): the
/// digits moved to the top of the word (zeros before them) and combined two, four, eight at
/// a time (the SWAR steps of Lemire's fast_float).
fn digits_value(word: u64, n: usize) -> u64 {
    debug_assert!((1..=8).contains(&n));
    let v = word.wrapping_sub(0x3030_3030_3030_3030) << (8 * (8 - n));
    let v = v.wrapping_mul(10).wrapping_add(v >> 8);
    const MASK: u64 = 0x0000_00FF_0000_00FF;
    const MUL1: u64 = 100 + (1_000_000 << 32);
    const MUL2: u64 = 1 + (10_000 << 32);
    (v & MASK)
        .wrapping_mul(MUL1)
        .wrapping_add(((v >> 16) & MASK).wrapping_mul(MUL2))
        >> 32
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// serde_json's value of `text`, as the plain reader's positions read it.
    fn serde(text: &str) -> Option<f64> {
        serde_json::from_str::<f64>(text).ok()
    }

    fn scan(text: &str) -> Option<f64> {
        let mut s = Scan::new(text);
        let x = s.number()?;
        s.end()?;
        Some(x)
    }

    #[test]
    fn digits_a_word_at_a_time() {
        let word = |b: &[u8; 8]| u64::from_le_bytes(*b);
        assert_eq!(leading_digits(word(b"12345678")), 8);
        assert_eq!(digits_value(word(b"12345678"), 8), 12_345_678);
        assert_eq!(digits_value(word(b"00000000"), 8), 0);
        assert_eq!(digits_value(word(b"99999999"), 8), 99_999_999);
        assert_eq!(digits_value(word(b"09876543"), 8), 9_876_543);
        // A run cut short: by a point, a comma, a bracket, the bytes around the digits.
        for (text, n, value) in [
            (b"141.3229", 3, 141),
            (b"6,43.053", 1, 6),
            (b"0987654]", 7, 987_654),
            (b"/1234567", 0, 0),
            (b":1234567", 0, 0),
            (b"12 45678", 2, 12),
            (b"1234567\0", 7, 1_234_567),
        ] {
            assert_eq!(leading_digits(word(text)), n, "{text:?}");
            if n > 0 {
                assert_eq!(digits_value(word(text), n), value, "{text:?}");
            }
        }
    }

    #[test]
    fn numbers_are_serde_jsons() {
        for text in [
            "0",
            "-0",
            "-0.0",
            "1",
            "-1",
            "141.32294097018016",
            "43.053544434983834",
            "139.691706",
            "35.689487",
            "0.1",
            "0.30000000000000004",
            "123456789012345678",
            "1234567890123456789",
            "9007199254740993",
            "18446744073709551615",
            "1.8446744073709551615",
            "1.8446744073709551616",
            "12.345678901234567890123",
            "1e22",
            "1e-22",
            "1.5E+3",
            "-2.5e-3",
            "1e0",
            "0e5",
        ] {
            let want = serde(text).unwrap();
            assert_eq!(scan(text).map(f64::to_bits), Some(want.to_bits()), "{text}");
        }
        // A significand past 19 digits, and a double rounding in serde_json's steps: its value
        // differs from the correctly rounded one, and the scanner's is its.
        let text = "0.12345678901234567890123";
        assert_eq!(scan(text).map(f64::to_bits), serde(text).map(f64::to_bits));
    }

    #[test]
    fn what_is_not_a_json_number_or_is_left_to_serde_json() {
        for text in [
            "", "-", "01", "1.", ".5", "+1", "1e", "1e+", "- 1", "1x", "NaN", "1.5.2",
        ] {
            assert_eq!(scan(text), None, "{text}");
        }
        // Valid, but left to serde_json: a long integer part, a power of ten past 22.
        for text in [
            "123456789012345678901",
            "1e23",
            "1e-23",
            "1.5e400",
            "0.000000000000000000012345678901234567890123",
        ] {
            assert_eq!(scan(text), None, "{text}");
        }
    }

    #[test]
    fn rings_and_polygons() {
        let text = " [ [ [139.5, 35.25] ,[140,35.25,12.5],\n[140, 36],[139.5,35.25]] , [] ] ";
        let rings = polygon(text).unwrap();
        assert_eq!(rings.len(), 2);
        assert_eq!(rings[0].len(), 4);
        assert_eq!(rings[0][1], Coord { x: 140.0, y: 35.25 });
        assert!(rings[1].is_empty());
        let multi = multi_polygon(&format!("[{text},[]]")).unwrap();
        assert_eq!(multi.len(), 2);
        assert_eq!(multi[0], rings);
        assert!(multi[1].is_empty());
        // Not a polygon's depth, a position of one or four numbers, a missing comma, trailing
        // text, a trailing comma, a null.
        for bad in [
            "[[139.5, 35.25]]",
            "[[[139.5]]]",
            "[[[1,2,3,4]]]",
            "[[[1 2]]]",
            "[[[1,2]]] x",
            "[[[1,2],]]",
            "[[[1,null]]]",
            "[[[[1,2]]]]",
        ] {
            assert_eq!(polygon(bad), None, "{bad}");
        }
        assert_eq!(multi_polygon("[[[1,2]]]"), None);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]
        /// Any number text of JSON's grammar: where the scanner gives a value, serde_json
        /// gives the same bits; and it gives one for every significand of up to 19 digits
        /// with a power of ten within 22.
        #[test]
        fn any_number_text(
            negative in any::<bool>(),
            int in "(0|[1-9][0-9]{0,19})",
            frac in proptest::option::of("[0-9]{1,25}"),
            exp in proptest::option::of(("[eE]", "[+-]?", 0u32..40)),
        ) {
            let mut text = String::new();
            if negative {
                text.push('-');
            }
            text.push_str(&int);
            if let Some(f) = &frac {
                text.push('.');
                text.push_str(f);
            }
            if let Some((e, sign, n)) = &exp {
                text.push_str(&format!("{e}{sign}{n}"));
            }
            let want = serde(&text);
            let got = scan(&text);
            if let Some(g) = got {
                prop_assert_eq!(Some(g.to_bits()), want.map(f64::to_bits), "{}", text);
            }
            let digits = int.len() + frac.as_ref().map_or(0, String::len);
            let power = exp.as_ref().map_or(0i64, |(_, s, n)| if *s == "-" { -i64::from(*n) } else { i64::from(*n) })
                - frac.as_ref().map_or(0, |f| f.len() as i64);
            if digits <= 19 && power.abs() <= 22 {
                prop_assert!(got.is_some(), "{}", text);
            }
        }

        /// Coordinates as they stand in boundary files: the same bits as serde_json's.
        #[test]
        fn coordinates(x in 120.0f64..150.0, y in 20.0f64..46.0, digits in 0usize..18) {
            for v in [x, y, -x] {
                let text = format!("{v:.digits$}");
                prop_assert_eq!(scan(&text).map(f64::to_bits), serde(&text).map(f64::to_bits), "{}", text);
                let shortest = format!("{v}");
                prop_assert_eq!(scan(&shortest).map(f64::to_bits), serde(&shortest).map(f64::to_bits), "{}", shortest);
            }
        }
    }
}
