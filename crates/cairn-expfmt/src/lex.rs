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

/// Length of the run of bytes at the start of `s` that satisfy `f`.
#[inline]
pub(crate) fn run(s: &[u8], f: impl Fn(u8) -> bool) -> usize {
    s.iter().position(|&b| !f(b)).unwrap_or(s.len())
}

/// The index of the quote that closes a quoted string whose body starts `body`, skipping
/// backslash escapes, and whether the string holds any escape; `None` when it is not closed.
#[inline]
pub(crate) fn find_closing_quote(body: &[u8]) -> Option<(usize, bool)> {
    let mut escaped = false;
    let mut i = 0;
    // Label values are mostly short: a plain loop beats memchr's set-up there.
    while i < 32 {
        match body.get(i)? {
            b'"' => return Some((i, escaped)),
            b'\\' => {
                escaped = true;
                i += 2;
            }
            _ => i += 1,
        }
    }
    loop {
        let j = i + memchr::memchr2(b'"', b'\\', body.get(i..)?)?;
        if body.get(j) == Some(&b'"') {
            return Some((j, escaped));
        }
        // A backslash escapes the next byte, whatever it is.
        escaped = true;
        i = j + 2;
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
    fn classes() {
        assert!(is_metric_name_start(b':') && !is_label_name_start(b':'));
        assert!(!is_metric_name_start(b'0') && is_metric_name_byte(b'0'));
        assert!(is_label_name_byte(b'_') && !is_label_name_byte(b'.'));
    }
}
