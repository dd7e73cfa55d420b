//! Exemplar values that are short decimals, stored as integers.
//!
//! An exemplar's value is most often an observation as the exposition printed it: `1.2`,
//! `0.473598`, `250`. Their doubles have random-looking mantissas that XOR cannot shrink
//! (7 to 8 bytes each), but the decimal is small: `0.473598` is 473 598 × 10⁻⁶, three
//! bytes. A value is stored as `m / 10^k` when that division gives back its bits exactly.

/// Powers of ten that doubles hold exactly, by exponent.
const POW10: [f64; 16] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

/// Bits of the scale field: `k` is 0 to 15.
pub(crate) const SCALE_BITS: u32 = 4;

/// Integers below this are exact in a double.
const EXACT: f64 = 9_007_199_254_740_992.0;

/// The decimal `(k, m)` with the smallest `k` such that `m / 10^k` is `v`, bit for bit, if
/// there is one with `k` ≤ 15 and `|m|` < 2⁵³. Both `m` and `10^k` are exact doubles and
/// IEEE division rounds correctly, so the reader's `m / 10^k` is `v` again. Not for NaN,
/// infinities or -0.0.
pub(crate) fn to_decimal(v: f64) -> Option<(u8, i64)> {
    if !v.is_finite() || (v == 0.0 && v.is_sign_negative()) {
        return None;
    }
    for (k, &p) in POW10.iter().enumerate() {
        let scaled = v * p;
        if scaled.abs() >= EXACT {
            return None;
        }
        let m = scaled.round();
        if (m / p).to_bits() == v.to_bits() {
            return Some((k as u8, m as i64));
        }
    }
    None
}

/// The value of decimal `(k, m)`; `k` above 15 reads as 15 (a writer never stores it).
pub(crate) fn from_decimal(k: u8, m: i64) -> f64 {
    // 1e15 is `POW10`'s last entry.
    let p = POW10.get(usize::from(k)).copied().unwrap_or(1e15);
    (m as f64) / p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_decimals_round_trip() {
        for (v, want) in [
            (1.2, Some((1, 12))),
            (0.473598, Some((6, 473_598))),
            (250.0, Some((0, 250))),
            (-0.5, Some((1, -5))),
            (0.0, Some((0, 0))),
            (-0.0, None),
            (f64::NAN, None),
            (f64::INFINITY, None),
            (0.1 + 0.2, None),
            (1e300, None),
        ] {
            assert_eq!(to_decimal(v), want, "{v}");
            if let Some((k, m)) = want {
                assert_eq!(from_decimal(k, m).to_bits(), v.to_bits(), "{v}");
            }
        }
    }

    #[test]
    fn any_stored_decimal_has_a_value() {
        assert_eq!(from_decimal(15, 7), 7e-15);
        assert_eq!(from_decimal(16, 7), 7e-15);
        assert_eq!(from_decimal(u8::MAX, i64::MIN), i64::MIN as f64 / 1e15);
        assert_eq!(from_decimal(0, i64::MAX), i64::MAX as f64);
    }

    #[test]
    fn every_answer_is_exact() {
        let mut x = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..100_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = f64::from_bits(x);
            let printed: f64 = format!("{:.3}", (x % 1_000_000) as f64 / 997.0)
                .parse()
                .unwrap();
            for v in [v, printed] {
                if let Some((k, m)) = to_decimal(v) {
                    assert_eq!(from_decimal(k, m).to_bits(), v.to_bits(), "{v}");
                }
            }
            assert!(to_decimal(printed).is_some(), "{printed}");
        }
    }
}
