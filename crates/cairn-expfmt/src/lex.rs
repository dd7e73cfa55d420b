//! Byte classes and small scanners shared by the parser and the label iterator.

const METRIC_START: u8 = 1;
const METRIC: u8 = 2;
const LABEL_START: u8 = 4;
const LABEL: u8 = 8;

/// Byte classes: one table look-up per byte on the hot path.
#[expect(
    clippy::indexing_slicing,
    reason = "the const loop runs i over 0..256, the table's length"
)]
static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        let alpha = b.is_ascii_alphabetic() || b == b'_';
        let digit = b.is_ascii_digit();
        let mut c = 0;
        if alpha || b == b':' {
            c |= METRIC_START | METRIC;
        }
        if digit {
            c |= METRIC | LABEL;
        }
        if alpha {
            c |= LABEL_START | LABEL;
        }
        t[i] = c;
        i += 1;
    }
    t
};

#[inline]
#[expect(clippy::indexing_slicing, reason = "a u8 indexes a 256-entry table")]
fn class(b: u8) -> u8 {
    CLASS[usize::from(b)]
}

/// `[a-zA-Z_:]`
#[inline]
pub(crate) fn is_metric_name_start(b: u8) -> bool {
    class(b) & METRIC_START != 0
}

/// `[a-zA-Z0-9_:]`
#[inline]
pub(crate) fn is_metric_name_byte(b: u8) -> bool {
    class(b) & METRIC != 0
}

/// A name byte: `[a-zA-Z0-9_:]` for metric names (`colon`), `[a-zA-Z0-9_]` for label names.
#[inline]
pub(crate) fn is_name_byte(b: u8, colon: bool) -> bool {
    if colon {
        is_metric_name_byte(b)
    } else {
        is_label_name_byte(b)
    }
}

/// `[a-zA-Z_]`
#[inline]
pub(crate) fn is_label_name_start(b: u8) -> bool {
    class(b) & LABEL_START != 0
}

/// `[a-zA-Z0-9_]`
#[inline]
pub(crate) fn is_label_name_byte(b: u8) -> bool {
    class(b) & LABEL != 0
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// Per byte lane of `x` (every byte below 0x80): the high bit set where the byte is `>= n`,
/// for `n <= 0x80`. No lane carries into the next because each sum stays below 0x100.
#[inline(always)]
fn ge(x: u64, n: u8) -> u64 {
    x.wrapping_add(ONES * u64::from(0x80 - n)) & HIGH
}

/// The high bit set in each lane of `x` whose byte lies in `lo..=hi` (all bytes below 0x80).
#[inline(always)]
fn in_range(x: u64, lo: u8, hi: u8) -> u64 {
    ge(x, lo) & !ge(x, hi + 1) & HIGH
}

/// The high bit set in each lane whose byte is a name byte (`[a-zA-Z0-9_]`, plus `:` when
/// `colon`), for a word whose bytes are all below 0x80.
#[inline(always)]
fn name_lanes(x: u64, colon: bool) -> u64 {
    // `| 0x20` folds upper case onto lower case and moves no other byte into a..z.
    let letters = in_range(x | (ONES * 0x20), b'a', b'z');
    let digits = in_range(x, b'0', b'9');
    let underscore = in_range(x, b'_', b'_');
    let colons = if colon { in_range(x, b':', b':') } else { 0 };
    letters | digits | underscore | colons
}

/// The length of the run of name bytes at the start of `s`: `[a-zA-Z0-9_:]` for metric
/// names (`colon`), `[a-zA-Z0-9_]` for label names. Eight bytes at a time.
#[inline]
pub(crate) fn name_len(s: &[u8], colon: bool) -> usize {
    let mut i = 0;
    while let Some(x) = word_at(s, i) {
        // Any byte at or above 0x80 is not a name byte; stop the word before it.
        let ascii = !x & HIGH;
        let ok = name_lanes(x & !HIGH, colon) & ascii;
        if ok != HIGH {
            // The first lane (lowest byte, little-endian) without its bit set ends the run.
            return i + ((!ok & HIGH).trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    i + run(s.get(i..).unwrap_or_default(), |b| is_name_byte(b, colon))
}

/// The eight bytes of `s` at `i` as a little-endian word (the first byte in the lowest lane).
#[inline(always)]
fn word_at(s: &[u8], i: usize) -> Option<u64> {
    let chunk = s.get(i..i + 8)?;
    let mut word = [0u8; 8];
    word.copy_from_slice(chunk);
    Some(u64::from_le_bytes(word))
}

/// The high bit set in each lane of `x` that equals `b` (any bytes).
#[inline(always)]
fn eq_lanes(x: u64, b: u8) -> u64 {
    let y = x ^ (ONES * u64::from(b));
    // Exact zero-byte test: no false positives from borrows.
    !(((y & !HIGH).wrapping_add(!HIGH)) | y | !HIGH)
}

/// Length of the run of bytes at the start of `s` that satisfy `f`.
#[inline]
pub(crate) fn run(s: &[u8], f: impl Fn(u8) -> bool) -> usize {
    s.iter().position(|&b| !f(b)).unwrap_or(s.len())
}

/// The index of the quote that closes a quoted string whose body starts `body`, skipping
/// backslash escapes, and whether the string holds any escape; `None` when it is not closed.
/// Eight bytes at a time.
#[inline]
pub(crate) fn find_closing_quote(body: &[u8]) -> Option<(usize, bool)> {
    let mut escaped = false;
    let mut i = 0;
    loop {
        if let Some(x) = word_at(body, i) {
            let hits = eq_lanes(x, b'"') | eq_lanes(x, b'\\');
            if hits == 0 {
                i += 8;
                continue;
            }
            i += (hits.trailing_zeros() / 8) as usize;
        } else {
            let rest = body.get(i..)?;
            i += rest.iter().position(|&b| b == b'"' || b == b'\\')?;
        }
        match body.get(i)? {
            b'"' => return Some((i, escaped)),
            _ => {
                // A backslash escapes the next byte, whatever it is.
                escaped = true;
                i += 2;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes() {
        assert_eq!(find_closing_quote(b"abc\" x"), Some((3, false)));
        assert_eq!(find_closing_quote(b"a\\\"c\" x"), Some((4, true)));
        assert_eq!(find_closing_quote(b"a\\\\\" x"), Some((3, true)));
        let long = [
            b"x".repeat(40),
            b"\\\"".to_vec(),
            b"y".repeat(40),
            b"\"".to_vec(),
        ]
        .concat();
        assert_eq!(find_closing_quote(&long), Some((82, true)));
        let long = [b"x".repeat(31), b"\\\"".to_vec(), b"\"".to_vec()].concat();
        assert_eq!(find_closing_quote(&long), Some((33, true)));
        let long = [b"x".repeat(100), b"\"".to_vec()].concat();
        assert_eq!(find_closing_quote(&long), Some((100, false)));
        assert_eq!(find_closing_quote(b"abc"), None);
        assert_eq!(find_closing_quote(b"abc\\"), None);
        assert_eq!(find_closing_quote(b"\\"), None);
    }

    #[test]
    fn name_runs_match_the_byte_classes() {
        let samples: &[&[u8]] = &[
            b"go_gc_duration_seconds_bucket{le=\"1\"}",
            b"a",
            b"",
            b"abcdefgh",
            b"abcdefghi jk",
            b"ab:cd_EF09 x",
            b"name\xc3\xa9x",
            b"@[`{/;",
            b"AZaz09_:",
            b"0123456789abcdef:0123456789",
        ];
        for s in samples {
            for colon in [true, false] {
                let f = |b: u8| is_name_byte(b, colon);
                assert_eq!(
                    name_len(s, colon),
                    run(s, f),
                    "{:?} colon={colon}",
                    String::from_utf8_lossy(s)
                );
            }
        }
        for b in 0..=255u8 {
            let s = [b'a', b'b', b'c', b, b'x', b'y', b'z', b'w', b'v'];
            for colon in [true, false] {
                let f = |b: u8| is_name_byte(b, colon);
                assert_eq!(name_len(&s, colon), run(&s, f), "byte {b:#x} colon={colon}");
            }
        }
    }

    #[test]
    fn quote_search_matches_a_plain_scan() {
        for b in 0..=255u8 {
            let s = [b'a', b, b'c', b'd', b'e', b'f', b'g', b'h', b'"', b'x'];
            let plain = {
                let mut i = 0;
                let mut esc = false;
                loop {
                    match s.get(i) {
                        None => break None,
                        Some(b'"') => break Some((i, esc)),
                        Some(b'\\') => {
                            esc = true;
                            i += 2;
                        }
                        Some(_) => i += 1,
                    }
                }
            };
            assert_eq!(find_closing_quote(&s), plain, "byte {b:#x}");
        }
    }

    #[test]
    fn classes() {
        assert!(is_metric_name_start(b':') && !is_label_name_start(b':'));
        assert!(!is_metric_name_start(b'0') && is_metric_name_byte(b'0'));
        assert!(is_label_name_byte(b'_') && !is_label_name_byte(b'.'));
    }
}
