//! Numbers as the two formats spell them.
//!
//! Values follow Go's `strconv.ParseFloat` as Prometheus restricts it (decimal only: no `_`,
//! no hex, no binary or octal), which is also what the OpenMetrics ABNF allows:
//! `[sign] digits [. digits] [e [sign] digits]`, `[sign] (inf | infinity)` and `nan`, the
//! words case-insensitive.

use cairn_model::NORMAL_NAN_BITS;

/// Powers of ten that are exact in an f64, for the fast path.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Parses a float value. NaN comes back with Prometheus' normal NaN bit pattern.
///
/// The grammar is checked here; the value is computed exactly by Clinger's fast path when the
/// mantissa has at most 19 digits, fits 2^53 and the decimal exponent is within 10^±22 (every
/// power of ten there is exact in an f64), and by the standard library's correctly rounded
/// parser otherwise.
pub(crate) fn parse_f64(s: &[u8]) -> Option<f64> {
    let (&first, _) = s.split_first()?;
    let (neg, body) = match first {
        b'-' => (true, s.get(1..)?),
        b'+' => (false, s.get(1..)?),
        b'0'..=b'9' | b'.' => (false, s),
        _ => return parse_special(s),
    };
    let mut i = 0;
    let mut mantissa: u64 = 0;
    let mut significant = 0u32;
    let mut exact = true;
    let mut digits = 0usize;
    let mut frac_digits: i32 = 0;
    let mut in_fraction = false;
    while let Some(&b) = body.get(i) {
        match b {
            b'0'..=b'9' => {
                let d = u64::from(b - b'0');
                if significant < 19 {
                    mantissa = mantissa * 10 + d;
                    if mantissa != 0 {
                        significant += 1;
                    }
                } else {
                    exact = false;
                }
                digits += 1;
                if in_fraction {
                    frac_digits = frac_digits.saturating_add(1);
                }
            }
            b'.' if !in_fraction => in_fraction = true,
            _ => break,
        }
        i += 1;
    }
    if digits == 0 {
        // "-inf", "+Infinity", or nothing a number can be.
        return parse_special(s);
    }
    let mut exponent: i32 = 0;
    if let Some(b'e' | b'E') = body.get(i) {
        i += 1;
        let exp_neg = match body.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let start = i;
        while let Some(&b @ b'0'..=b'9') = body.get(i) {
            exponent = exponent
                .saturating_mul(10)
                .saturating_add(i32::from(b - b'0'));
            i += 1;
        }
        if i == start {
            return None;
        }
        if exp_neg {
            exponent = -exponent;
        }
    }
    if i != body.len() {
        return None;
    }
    let scale = exponent.saturating_sub(frac_digits);
    if exact && mantissa < (1 << 53) && (-22..=22).contains(&scale) {
        let m = mantissa as f64;
        let p = POW10
            .get(scale.unsigned_abs() as usize)
            .copied()
            .unwrap_or(1.0);
        let v = if scale < 0 { m / p } else { m * p };
        return Some(if neg { -v } else { v });
    }
    // Grammar checked: ASCII digits, one dot, an exponent. Let the standard library round.
    std::str::from_utf8(s).ok()?.parse::<f64>().ok()
}

/// `[sign] (inf | infinity)` or `nan`, case-insensitive.
fn parse_special(s: &[u8]) -> Option<f64> {
    let (sign, word) = match s.split_first() {
        Some((b'-', rest)) => (-1.0, rest),
        Some((b'+', rest)) => (1.0, rest),
        _ => (1.0, s),
    };
    if word.eq_ignore_ascii_case(b"inf") || word.eq_ignore_ascii_case(b"infinity") {
        return Some(sign * f64::INFINITY);
    }
    if word.len() == s.len() && word.eq_ignore_ascii_case(b"nan") {
        return Some(f64::from_bits(NORMAL_NAN_BITS));
    }
    None
}

/// Parses a Prometheus text 0.0.4 timestamp: a signed decimal integer of milliseconds.
pub(crate) fn parse_i64(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s.split_first()? {
        (b'-', rest) => (true, rest),
        (b'+', rest) => (false, rest),
        _ => (false, s),
    };
    if digits.is_empty() {
        return None;
    }
    let mut v: i64 = 0;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        let d = i64::from(b - b'0');
        v = if neg {
            v.checked_mul(10)?.checked_sub(d)?
        } else {
            v.checked_mul(10)?.checked_add(d)?
        };
    }
    Some(v)
}

/// Converts OpenMetrics float seconds to milliseconds as Prometheus does (`int64(s * 1000)`,
/// truncating toward zero). Values beyond the i64 range saturate.
pub(crate) fn seconds_to_ms(seconds: f64) -> i64 {
    // `as` truncates toward zero and saturates; NaN and infinities were rejected before.
    (seconds * 1000.0) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        let ok: &[(&str, f64)] = &[
            ("1", 1.0),
            ("-1", -1.0),
            ("+1", 1.0),
            ("1.5", 1.5),
            ("1.", 1.0),
            (".5", 0.5),
            ("1e3", 1000.0),
            ("1E-3", 0.001),
            ("1.5e+3", 1500.0),
            ("0000000000000000000000000000000000000000001.2e-1", 0.12),
            ("9223372036854775808", 9_223_372_036_854_775_808.0),
            ("7.424100000000001e-05", 7.424100000000001e-05),
            ("0.1", 0.1),
            ("123456789012345678901234567890", 1.2345678901234568e29),
            ("4.4046288803e+10", 44_046_288_803.0),
            ("7.6238e-05", 7.6238e-05),
            ("1.7268398142239082e+09", 1.7268398142239082e+09),
            ("2.5e-30", 2.5e-30),
            ("1e22", 1e22),
            ("1e23", 1e23),
            ("1E+308", 1e308),
            ("12345678901234567890123e-3", 1.2345678901234568e19),
            ("0.000000000000000000000000001", 1e-27),
            ("+.5", 0.5),
            ("+Inf", f64::INFINITY),
            ("-inf", f64::NEG_INFINITY),
            ("Infinity", f64::INFINITY),
            ("-INFINITY", f64::NEG_INFINITY),
        ];
        for &(s, want) in ok {
            assert_eq!(parse_f64(s.as_bytes()), Some(want), "{s}");
        }
        for s in ["NaN", "nan", "NAN"] {
            assert_eq!(
                parse_f64(s.as_bytes()).map(f64::to_bits),
                Some(NORMAL_NAN_BITS)
            );
        }
        for s in [
            "", "-", "+", ".", "e3", "1e", "1_2", "0x1", "0x1p-3", "0b1", "0o1", "true", "1z",
            "1.1.1", "+NaN", "-nan", "in", "1 2", "1\t", "infinit", "--1", "1e3.5", "1e+", "1e-",
            "1ee3", "1e3e3", ".e3", "-.", "1.5f",
        ] {
            assert_eq!(parse_f64(s.as_bytes()), None, "{s:?} must be rejected");
        }
    }

    proptest::proptest! {
        /// The fast path agrees with the standard library on every spelling of every f64.
        #[test]
        fn agrees_with_std(v in proptest::num::f64::NORMAL | proptest::num::f64::SUBNORMAL | proptest::num::f64::ZERO,
                           digits in 0usize..25, exp in -30i32..30) {
            let texts = [
                format!("{v}"),
                format!("{v:e}"),
                format!("{v:?}"),
                format!("{v:.digits$}"),
                format!("{v:.digits$e}"),
                format!("{}e{exp}", v.abs().trunc()),
            ];
            for t in texts {
                let want: f64 = t.parse().unwrap();
                proptest::prop_assert_eq!(parse_f64(t.as_bytes()).map(f64::to_bits), Some(want.to_bits()), "{}", t);
            }
        }
    }

    #[test]
    fn integers() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"9223372036854775808"), None);
        assert_eq!(parse_i64(b"1_2"), None);
        assert_eq!(parse_i64(b"-"), None);
        assert_eq!(parse_i64(b"1.0"), None);
    }

    #[test]
    fn seconds() {
        assert_eq!(seconds_to_ms(123.123), 123_123);
        assert_eq!(seconds_to_ms(1_520_879_607.789), 1_520_879_607_789);
        assert_eq!(seconds_to_ms(-1.1), -1100);
        assert_eq!(seconds_to_ms(1.2e22), i64::MAX);
    }
}
