//! Text exactly as Prometheus 2.42's `promtool tsdb dump` prints it, so that `cairn dump` and
//! promtool can be compared with `diff`.
//!
//! A dump line is `LABELS VALUE TIMESTAMP`: the series' `labels.Labels.String()`, the value as
//! Go's `%g`, the timestamp in milliseconds as a decimal integer. promtool 2.42 prints float
//! samples only (`fmt.Printf("%s %g %d\n", lbs, val, ts)`), series in label order (label by
//! label, name then value, bytewise; a set that is a prefix of another sorts first, which is
//! the derived `Ord` of [`Labels`]), each series once with its samples in time order, merged
//! across blocks. Upper-case label names sort before `__name__`: `{A="x", __name__="m"}`.
//!
//! What Debian's promtool 2.42.0+ds (built with Go 1.19.8, hence Unicode 13.0.0) does, found by
//! experiment (2026-11-25), and pinned by `testdata/promtool/tricky.om.txt` and `tricky.dump`:
//!
//! - Values: `%g` with the shortest digits that read back as the same float, and the exponent
//!   form when the decimal exponent is below -4 or at least 6 (Go's `eprec` is 6 in shortest
//!   mode, not 21): `100000`, `999999.5`, `1e+06`, `1.234567e+06`, `0.0001`, `1e-05`,
//!   `9.007199254740992e+15`, `5e-324`. Exponents have a sign and at least two digits. `NaN`,
//!   `+Inf`, `-Inf`, and `-0` for negative zero.
//! - Labels: `{name="value", name="value"}`, values through Go's `strconv.Quote`: `\"` and
//!   `\\`; `\a \b \f \n \r \t \v`; other runes below U+0020 and U+007F as `\x7f`; any other
//!   rune Go's `unicode.IsPrint` rejects as `\u00ad` or `\U0001fae0` (lower-case hex). Printable
//!   means letter, mark, number, punctuation or symbol in Unicode 13.0, or U+0020; so
//!   unassigned code points, and those assigned after 13.0 (U+1FAE0 🫠 is 14.0), are escaped.
//!
//! What `promtool tsdb create-blocks-from openmetrics FILE DIR` 2.42 takes, for whoever
//! feeds it (the differential tests):
//!
//! - Every sample needs a timestamp, in float seconds (`1.7e9` works); the file must end with
//!   `# EOF` and nothing may follow. NaN or infinite timestamps, CRLF line ends, a trailing
//!   space, a trailing comma in braces, `0x10` and `1_000` are rejected, failing the import.
//! - Timestamps become `int64(seconds * 1000)`, truncated: `1.001` is 1000 ms, `1.005` is
//!   1004 ms. Every millisecond from 2^40 ms (1099511627.776 s, November 2004) to 2^31 s reads
//!   back exactly (two million random ones checked); below, some do not (about one in four
//!   from 2^30 s to 2^40 ms, one in 150 from 10^8 s to 10^9 s).
//! - Silently dropped: samples before 0 ms (the first block starts at 0), a sample older than
//!   or as old as the one before it in its series (the first one stays), exemplars (parsed,
//!   never imported). An exemplar on a sample whose name does not end in `_total` or `_bucket`
//!   (whatever the family's type), or a malformed one, fails the import ("metric name a does
//!   not support exemplars").
//! - A label with an empty value is no label: `a{x=""}` is `{__name__="a"}`. A repeated label
//!   name, or `__name__` in the braces, fails the import.
//! - Label values unescape `\\`, `\"` and `\n` only; `\t` or `\z` stay as written (a
//!   backslash and the letter). Raw tabs, CR, NUL, other control bytes and DEL are taken;
//!   invalid UTF-8 is rejected.
//! - Values are Go's `ParseFloat`: `Inf`, `inf`, `nan`, `.5`, `5.` and `01` are taken.
//! - `_created` samples are stored as a series of their own; `le` and `quantile` keep their
//!   spelling (`le="1.0"`, `le="1e-04"`). Families need not be contiguous.
//! - `promtool tsdb dump DIR` fails ("read WAL: find last checkpoint") unless `DIR/wal` exists;
//!   an empty directory will do.

use std::fmt::{self, Write as _};

use cairn_model::Labels;

/// One line of `promtool tsdb dump` (no newline): `{__name__="x", a="b"} VALUE TIMESTAMP`.
///
/// `labels` are printed as they are: Prometheus never stores a label with an empty value, so
/// a caller imitating its storage drops those first.
pub(crate) fn dump_line(out: &mut String, labels: &Labels, t: i64, v: f64) {
    format_labels_go(out, labels);
    out.push(' ');
    format_go_g(out, v);
    // Writing to a String cannot fail.
    let _ = write!(out, " {t}");
}

/// `v` as Go's `fmt.Sprintf("%g", v)` spells a float64.
pub(crate) fn format_go_g(out: &mut String, v: f64) {
    if v.is_nan() {
        out.push_str("NaN");
        return;
    }
    if v.is_infinite() {
        out.push_str(if v > 0.0 { "+Inf" } else { "-Inf" });
        return;
    }
    if v.is_sign_negative() {
        out.push('-');
    }
    let d = Shortest::of(v.abs());
    let digits = d.digits();
    let exp = d.exponent();
    if !(-4..6).contains(&exp) {
        // d[.ddd]e±XX
        if let Some((first, rest)) = digits.split_first() {
            out.push(char::from(*first));
            if !rest.is_empty() {
                out.push('.');
                push_ascii(out, rest);
            }
        }
        let _ = write!(
            out,
            "e{}{:02}",
            if exp < 0 { '-' } else { '+' },
            exp.unsigned_abs()
        );
    } else if exp < 0 {
        out.push_str("0.");
        for _ in 0..(-exp - 1) {
            out.push('0');
        }
        push_ascii(out, digits);
    } else {
        // `exp` is 0..=5 here.
        let int_len = exp.unsigned_abs() as usize + 1;
        match (digits.get(..int_len), digits.get(int_len..)) {
            (Some(int), Some(frac)) if !frac.is_empty() => {
                push_ascii(out, int);
                out.push('.');
                push_ascii(out, frac);
            }
            _ => {
                push_ascii(out, digits);
                for _ in digits.len()..int_len {
                    out.push('0');
                }
            }
        }
    }
}

/// `labels` as Prometheus 2.42's `labels.Labels.String()`: `{a="b", c="d"}`, each value
/// through Go's `strconv.Quote`, names as they are.
pub(crate) fn format_labels_go(out: &mut String, labels: &Labels) {
    out.push('{');
    for (i, label) in labels.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&label.name);
        out.push('=');
        quote_go(out, &label.value);
    }
    out.push('}');
}

/// `s` as Go's `strconv.Quote`, with Go 1.19's (Unicode 13.0) idea of printable.
fn quote_go(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if go_is_print(c) => out.push(c),
            '\x07' => out.push_str("\\a"),
            '\x08' => out.push_str("\\b"),
            '\x0c' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\x0b' => out.push_str("\\v"),
            c if c < ' ' || c == '\x7f' => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            c if u32::from(c) < 0x1_0000 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => {
                let _ = write!(out, "\\U{:08x}", u32::from(c));
            }
        }
    }
    out.push('"');
}

fn push_ascii(out: &mut String, digits: &[u8]) {
    out.extend(digits.iter().copied().map(char::from));
}

/// The digits and decimal exponent of `{:e}` output (`1.2345e-7`), taken as it is written.
#[derive(Default)]
struct Shortest {
    digits: [u8; 17],
    len: usize,
    exp: i32,
    exp_negative: bool,
    in_exp: bool,
}

impl Shortest {
    /// The digits Go's shortest mode gives `v` (finite, not negative).
    ///
    /// Rust's `{:e}` and Go both give the fewest digits that read back as the same float, the
    /// closest such to it. When two are equally close, Go takes the even one and Rust the
    /// larger: 840847321408031.25 is `8.408473214080312e+14` in Go, `8.408473214080313e14` in
    /// Rust. Such ties are rare, and put right here.
    fn of(v: f64) -> Shortest {
        let mut d = Shortest::default();
        // Writing to `Shortest` cannot fail: `{:e}` writes 17 digits at most.
        let _ = write!(d, "{v:e}");
        let Some(exact) = exact_odd_significand(v) else {
            return d;
        };
        let n = d.digits().len();
        if exact % 10 != 5 || decimal_len(exact) != n + 1 {
            return d;
        }
        // `v` lies halfway between two n-digit decimals: take the even one.
        let mut even = exact / 10;
        even += even % 2;
        // With a carry (999.5 to 1000) the first digit moves up one place.
        let exp = d.exponent() + i32::from(decimal_len(even) > n);
        let mut go = Shortest::default();
        let _ = write!(go, "{even}e{exp}");
        // Both neighbours are equally close to `v`, but just above a power of two the lower one
        // may not read back as `v`; Go would not pick it then either.
        let spelled = format!(
            "{even}e{}",
            d.exponent() + 1 - i32::try_from(n).unwrap_or(0)
        );
        if spelled.parse::<f64>() == Ok(v) {
            go
        } else {
            d
        }
    }

    /// The significant digits, without trailing zeros (at least one digit).
    fn digits(&self) -> &[u8] {
        let mut len = self.len;
        while len > 1 && self.digits.get(len - 1) == Some(&b'0') {
            len -= 1;
        }
        self.digits.get(..len).unwrap_or_default()
    }

    /// The power of ten of the first digit.
    fn exponent(&self) -> i32 {
        if self.exp_negative {
            -self.exp
        } else {
            self.exp
        }
    }
}

impl fmt::Write for Shortest {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for b in s.bytes() {
            match b {
                b'e' => self.in_exp = true,
                b'-' if self.in_exp => self.exp_negative = true,
                b'0'..=b'9' if self.in_exp => {
                    self.exp = self.exp * 10 + i32::from(b - b'0');
                }
                b'0'..=b'9' => {
                    *self.digits.get_mut(self.len).ok_or(fmt::Error)? = b;
                    self.len += 1;
                }
                // The decimal point.
                _ => {}
            }
        }
        Ok(())
    }
}

/// All the decimal digits of `v` (finite), as an integer, when the last of them is odd and
/// they fit in a `u128`; `None` otherwise.
///
/// `v = m·2^e` with `m` odd. For `e < 0` that is `m·5^-e / 10^-e`, whose digits `m·5^-e` are
/// odd. For `e >= 0` the digits end in an odd one only when every 2 pairs with a 5 of `m`.
fn exact_odd_significand(v: f64) -> Option<u128> {
    let bits = v.to_bits();
    let biased = i32::try_from((bits >> 52) & 0x7ff).ok()?;
    let fraction = bits & ((1 << 52) - 1);
    let (mut m, mut e) = if biased == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1 << 52), biased - 1075)
    };
    if m == 0 {
        return None;
    }
    let zeros = m.trailing_zeros();
    m >>= zeros;
    e += i32::try_from(zeros).ok()?;
    let m = u128::from(m);
    if e < 0 {
        m.checked_mul(5u128.checked_pow(e.unsigned_abs())?)
    } else {
        let five_e = 5u128.checked_pow(e.unsigned_abs())?;
        (m % five_e == 0).then(|| m / five_e)
    }
}

/// How many decimal digits `x` has (1 for 0).
fn decimal_len(x: u128) -> usize {
    x.checked_ilog10().map_or(1, |l| l as usize + 1)
}

/// Whether Go 1.19's `strconv.IsPrint` (equal to `unicode.IsPrint`) holds for `c`.
fn go_is_print(c: char) -> bool {
    let c = u32::from(c);
    if c < 0x80 {
        return (0x20..0x7f).contains(&c);
    }
    // An odd number of bounds at or below `c` puts it inside a printable range.
    PRINT_BOUNDS.partition_point(|&b| b <= c) % 2 == 1
}

/// The printable code points above ASCII as half-open ranges `[PRINT_BOUNDS[2i],
/// PRINT_BOUNDS[2i + 1])`: Unicode 13.0's letters, marks, numbers, punctuation and symbols.
///
/// Taken from Debian's promtool 2.42 itself: every code point but the surrogates was put in a
/// label value, imported, dumped, and those printed unescaped kept. That set is Python 3.11's
/// `unicodedata` (Unicode 14.0) categories L, M, N, P, S less the 836 such characters 14.0
/// added. The promtool-gated test `agrees_with_promtool_on_every_code_point` redoes the sweep.
const PRINT_BOUNDS: [u32; 1354] = [
    0x00A1, 0x00AD, 0x00AE, 0x0378, 0x037A, 0x0380, 0x0384, 0x038B, 0x038C, 0x038D, 0x038E, 0x03A2,
    0x03A3, 0x0530, 0x0531, 0x0557, 0x0559, 0x058B, 0x058D, 0x0590, 0x0591, 0x05C8, 0x05D0, 0x05EB,
    0x05EF, 0x05F5, 0x0606, 0x061C, 0x061E, 0x06DD, 0x06DE, 0x070E, 0x0710, 0x074B, 0x074D, 0x07B2,
    0x07C0, 0x07FB, 0x07FD, 0x082E, 0x0830, 0x083F, 0x0840, 0x085C, 0x085E, 0x085F, 0x0860, 0x086B,
    0x08A0, 0x08B5, 0x08B6, 0x08C8, 0x08D3, 0x08E2, 0x08E3, 0x0984, 0x0985, 0x098D, 0x098F, 0x0991,
    0x0993, 0x09A9, 0x09AA, 0x09B1, 0x09B2, 0x09B3, 0x09B6, 0x09BA, 0x09BC, 0x09C5, 0x09C7, 0x09C9,
    0x09CB, 0x09CF, 0x09D7, 0x09D8, 0x09DC, 0x09DE, 0x09DF, 0x09E4, 0x09E6, 0x09FF, 0x0A01, 0x0A04,
    0x0A05, 0x0A0B, 0x0A0F, 0x0A11, 0x0A13, 0x0A29, 0x0A2A, 0x0A31, 0x0A32, 0x0A34, 0x0A35, 0x0A37,
    0x0A38, 0x0A3A, 0x0A3C, 0x0A3D, 0x0A3E, 0x0A43, 0x0A47, 0x0A49, 0x0A4B, 0x0A4E, 0x0A51, 0x0A52,
    0x0A59, 0x0A5D, 0x0A5E, 0x0A5F, 0x0A66, 0x0A77, 0x0A81, 0x0A84, 0x0A85, 0x0A8E, 0x0A8F, 0x0A92,
    0x0A93, 0x0AA9, 0x0AAA, 0x0AB1, 0x0AB2, 0x0AB4, 0x0AB5, 0x0ABA, 0x0ABC, 0x0AC6, 0x0AC7, 0x0ACA,
    0x0ACB, 0x0ACE, 0x0AD0, 0x0AD1, 0x0AE0, 0x0AE4, 0x0AE6, 0x0AF2, 0x0AF9, 0x0B00, 0x0B01, 0x0B04,
    0x0B05, 0x0B0D, 0x0B0F, 0x0B11, 0x0B13, 0x0B29, 0x0B2A, 0x0B31, 0x0B32, 0x0B34, 0x0B35, 0x0B3A,
    0x0B3C, 0x0B45, 0x0B47, 0x0B49, 0x0B4B, 0x0B4E, 0x0B55, 0x0B58, 0x0B5C, 0x0B5E, 0x0B5F, 0x0B64,
    0x0B66, 0x0B78, 0x0B82, 0x0B84, 0x0B85, 0x0B8B, 0x0B8E, 0x0B91, 0x0B92, 0x0B96, 0x0B99, 0x0B9B,
    0x0B9C, 0x0B9D, 0x0B9E, 0x0BA0, 0x0BA3, 0x0BA5, 0x0BA8, 0x0BAB, 0x0BAE, 0x0BBA, 0x0BBE, 0x0BC3,
    0x0BC6, 0x0BC9, 0x0BCA, 0x0BCE, 0x0BD0, 0x0BD1, 0x0BD7, 0x0BD8, 0x0BE6, 0x0BFB, 0x0C00, 0x0C0D,
    0x0C0E, 0x0C11, 0x0C12, 0x0C29, 0x0C2A, 0x0C3A, 0x0C3D, 0x0C45, 0x0C46, 0x0C49, 0x0C4A, 0x0C4E,
    0x0C55, 0x0C57, 0x0C58, 0x0C5B, 0x0C60, 0x0C64, 0x0C66, 0x0C70, 0x0C77, 0x0C8D, 0x0C8E, 0x0C91,
    0x0C92, 0x0CA9, 0x0CAA, 0x0CB4, 0x0CB5, 0x0CBA, 0x0CBC, 0x0CC5, 0x0CC6, 0x0CC9, 0x0CCA, 0x0CCE,
    0x0CD5, 0x0CD7, 0x0CDE, 0x0CDF, 0x0CE0, 0x0CE4, 0x0CE6, 0x0CF0, 0x0CF1, 0x0CF3, 0x0D00, 0x0D0D,
    0x0D0E, 0x0D11, 0x0D12, 0x0D45, 0x0D46, 0x0D49, 0x0D4A, 0x0D50, 0x0D54, 0x0D64, 0x0D66, 0x0D80,
    0x0D81, 0x0D84, 0x0D85, 0x0D97, 0x0D9A, 0x0DB2, 0x0DB3, 0x0DBC, 0x0DBD, 0x0DBE, 0x0DC0, 0x0DC7,
    0x0DCA, 0x0DCB, 0x0DCF, 0x0DD5, 0x0DD6, 0x0DD7, 0x0DD8, 0x0DE0, 0x0DE6, 0x0DF0, 0x0DF2, 0x0DF5,
    0x0E01, 0x0E3B, 0x0E3F, 0x0E5C, 0x0E81, 0x0E83, 0x0E84, 0x0E85, 0x0E86, 0x0E8B, 0x0E8C, 0x0EA4,
    0x0EA5, 0x0EA6, 0x0EA7, 0x0EBE, 0x0EC0, 0x0EC5, 0x0EC6, 0x0EC7, 0x0EC8, 0x0ECE, 0x0ED0, 0x0EDA,
    0x0EDC, 0x0EE0, 0x0F00, 0x0F48, 0x0F49, 0x0F6D, 0x0F71, 0x0F98, 0x0F99, 0x0FBD, 0x0FBE, 0x0FCD,
    0x0FCE, 0x0FDB, 0x1000, 0x10C6, 0x10C7, 0x10C8, 0x10CD, 0x10CE, 0x10D0, 0x1249, 0x124A, 0x124E,
    0x1250, 0x1257, 0x1258, 0x1259, 0x125A, 0x125E, 0x1260, 0x1289, 0x128A, 0x128E, 0x1290, 0x12B1,
    0x12B2, 0x12B6, 0x12B8, 0x12BF, 0x12C0, 0x12C1, 0x12C2, 0x12C6, 0x12C8, 0x12D7, 0x12D8, 0x1311,
    0x1312, 0x1316, 0x1318, 0x135B, 0x135D, 0x137D, 0x1380, 0x139A, 0x13A0, 0x13F6, 0x13F8, 0x13FE,
    0x1400, 0x1680, 0x1681, 0x169D, 0x16A0, 0x16F9, 0x1700, 0x170D, 0x170E, 0x1715, 0x1720, 0x1737,
    0x1740, 0x1754, 0x1760, 0x176D, 0x176E, 0x1771, 0x1772, 0x1774, 0x1780, 0x17DE, 0x17E0, 0x17EA,
    0x17F0, 0x17FA, 0x1800, 0x180E, 0x1810, 0x181A, 0x1820, 0x1879, 0x1880, 0x18AB, 0x18B0, 0x18F6,
    0x1900, 0x191F, 0x1920, 0x192C, 0x1930, 0x193C, 0x1940, 0x1941, 0x1944, 0x196E, 0x1970, 0x1975,
    0x1980, 0x19AC, 0x19B0, 0x19CA, 0x19D0, 0x19DB, 0x19DE, 0x1A1C, 0x1A1E, 0x1A5F, 0x1A60, 0x1A7D,
    0x1A7F, 0x1A8A, 0x1A90, 0x1A9A, 0x1AA0, 0x1AAE, 0x1AB0, 0x1AC1, 0x1B00, 0x1B4C, 0x1B50, 0x1B7D,
    0x1B80, 0x1BF4, 0x1BFC, 0x1C38, 0x1C3B, 0x1C4A, 0x1C4D, 0x1C89, 0x1C90, 0x1CBB, 0x1CBD, 0x1CC8,
    0x1CD0, 0x1CFB, 0x1D00, 0x1DFA, 0x1DFB, 0x1F16, 0x1F18, 0x1F1E, 0x1F20, 0x1F46, 0x1F48, 0x1F4E,
    0x1F50, 0x1F58, 0x1F59, 0x1F5A, 0x1F5B, 0x1F5C, 0x1F5D, 0x1F5E, 0x1F5F, 0x1F7E, 0x1F80, 0x1FB5,
    0x1FB6, 0x1FC5, 0x1FC6, 0x1FD4, 0x1FD6, 0x1FDC, 0x1FDD, 0x1FF0, 0x1FF2, 0x1FF5, 0x1FF6, 0x1FFF,
    0x2010, 0x2028, 0x2030, 0x205F, 0x2070, 0x2072, 0x2074, 0x208F, 0x2090, 0x209D, 0x20A0, 0x20C0,
    0x20D0, 0x20F1, 0x2100, 0x218C, 0x2190, 0x2427, 0x2440, 0x244B, 0x2460, 0x2B74, 0x2B76, 0x2B96,
    0x2B97, 0x2C2F, 0x2C30, 0x2C5F, 0x2C60, 0x2CF4, 0x2CF9, 0x2D26, 0x2D27, 0x2D28, 0x2D2D, 0x2D2E,
    0x2D30, 0x2D68, 0x2D6F, 0x2D71, 0x2D7F, 0x2D97, 0x2DA0, 0x2DA7, 0x2DA8, 0x2DAF, 0x2DB0, 0x2DB7,
    0x2DB8, 0x2DBF, 0x2DC0, 0x2DC7, 0x2DC8, 0x2DCF, 0x2DD0, 0x2DD7, 0x2DD8, 0x2DDF, 0x2DE0, 0x2E53,
    0x2E80, 0x2E9A, 0x2E9B, 0x2EF4, 0x2F00, 0x2FD6, 0x2FF0, 0x2FFC, 0x3001, 0x3040, 0x3041, 0x3097,
    0x3099, 0x3100, 0x3105, 0x3130, 0x3131, 0x318F, 0x3190, 0x31E4, 0x31F0, 0x321F, 0x3220, 0x9FFD,
    0xA000, 0xA48D, 0xA490, 0xA4C7, 0xA4D0, 0xA62C, 0xA640, 0xA6F8, 0xA700, 0xA7C0, 0xA7C2, 0xA7CB,
    0xA7F5, 0xA82D, 0xA830, 0xA83A, 0xA840, 0xA878, 0xA880, 0xA8C6, 0xA8CE, 0xA8DA, 0xA8E0, 0xA954,
    0xA95F, 0xA97D, 0xA980, 0xA9CE, 0xA9CF, 0xA9DA, 0xA9DE, 0xA9FF, 0xAA00, 0xAA37, 0xAA40, 0xAA4E,
    0xAA50, 0xAA5A, 0xAA5C, 0xAAC3, 0xAADB, 0xAAF7, 0xAB01, 0xAB07, 0xAB09, 0xAB0F, 0xAB11, 0xAB17,
    0xAB20, 0xAB27, 0xAB28, 0xAB2F, 0xAB30, 0xAB6C, 0xAB70, 0xABEE, 0xABF0, 0xABFA, 0xAC00, 0xD7A4,
    0xD7B0, 0xD7C7, 0xD7CB, 0xD7FC, 0xF900, 0xFA6E, 0xFA70, 0xFADA, 0xFB00, 0xFB07, 0xFB13, 0xFB18,
    0xFB1D, 0xFB37, 0xFB38, 0xFB3D, 0xFB3E, 0xFB3F, 0xFB40, 0xFB42, 0xFB43, 0xFB45, 0xFB46, 0xFBC2,
    0xFBD3, 0xFD40, 0xFD50, 0xFD90, 0xFD92, 0xFDC8, 0xFDF0, 0xFDFE, 0xFE00, 0xFE1A, 0xFE20, 0xFE53,
    0xFE54, 0xFE67, 0xFE68, 0xFE6C, 0xFE70, 0xFE75, 0xFE76, 0xFEFD, 0xFF01, 0xFFBF, 0xFFC2, 0xFFC8,
    0xFFCA, 0xFFD0, 0xFFD2, 0xFFD8, 0xFFDA, 0xFFDD, 0xFFE0, 0xFFE7, 0xFFE8, 0xFFEF, 0xFFFC, 0xFFFE,
    0x10000, 0x1000C, 0x1000D, 0x10027, 0x10028, 0x1003B, 0x1003C, 0x1003E, 0x1003F, 0x1004E,
    0x10050, 0x1005E, 0x10080, 0x100FB, 0x10100, 0x10103, 0x10107, 0x10134, 0x10137, 0x1018F,
    0x10190, 0x1019D, 0x101A0, 0x101A1, 0x101D0, 0x101FE, 0x10280, 0x1029D, 0x102A0, 0x102D1,
    0x102E0, 0x102FC, 0x10300, 0x10324, 0x1032D, 0x1034B, 0x10350, 0x1037B, 0x10380, 0x1039E,
    0x1039F, 0x103C4, 0x103C8, 0x103D6, 0x10400, 0x1049E, 0x104A0, 0x104AA, 0x104B0, 0x104D4,
    0x104D8, 0x104FC, 0x10500, 0x10528, 0x10530, 0x10564, 0x1056F, 0x10570, 0x10600, 0x10737,
    0x10740, 0x10756, 0x10760, 0x10768, 0x10800, 0x10806, 0x10808, 0x10809, 0x1080A, 0x10836,
    0x10837, 0x10839, 0x1083C, 0x1083D, 0x1083F, 0x10856, 0x10857, 0x1089F, 0x108A7, 0x108B0,
    0x108E0, 0x108F3, 0x108F4, 0x108F6, 0x108FB, 0x1091C, 0x1091F, 0x1093A, 0x1093F, 0x10940,
    0x10980, 0x109B8, 0x109BC, 0x109D0, 0x109D2, 0x10A04, 0x10A05, 0x10A07, 0x10A0C, 0x10A14,
    0x10A15, 0x10A18, 0x10A19, 0x10A36, 0x10A38, 0x10A3B, 0x10A3F, 0x10A49, 0x10A50, 0x10A59,
    0x10A60, 0x10AA0, 0x10AC0, 0x10AE7, 0x10AEB, 0x10AF7, 0x10B00, 0x10B36, 0x10B39, 0x10B56,
    0x10B58, 0x10B73, 0x10B78, 0x10B92, 0x10B99, 0x10B9D, 0x10BA9, 0x10BB0, 0x10C00, 0x10C49,
    0x10C80, 0x10CB3, 0x10CC0, 0x10CF3, 0x10CFA, 0x10D28, 0x10D30, 0x10D3A, 0x10E60, 0x10E7F,
    0x10E80, 0x10EAA, 0x10EAB, 0x10EAE, 0x10EB0, 0x10EB2, 0x10F00, 0x10F28, 0x10F30, 0x10F5A,
    0x10FB0, 0x10FCC, 0x10FE0, 0x10FF7, 0x11000, 0x1104E, 0x11052, 0x11070, 0x1107F, 0x110BD,
    0x110BE, 0x110C2, 0x110D0, 0x110E9, 0x110F0, 0x110FA, 0x11100, 0x11135, 0x11136, 0x11148,
    0x11150, 0x11177, 0x11180, 0x111E0, 0x111E1, 0x111F5, 0x11200, 0x11212, 0x11213, 0x1123F,
    0x11280, 0x11287, 0x11288, 0x11289, 0x1128A, 0x1128E, 0x1128F, 0x1129E, 0x1129F, 0x112AA,
    0x112B0, 0x112EB, 0x112F0, 0x112FA, 0x11300, 0x11304, 0x11305, 0x1130D, 0x1130F, 0x11311,
    0x11313, 0x11329, 0x1132A, 0x11331, 0x11332, 0x11334, 0x11335, 0x1133A, 0x1133B, 0x11345,
    0x11347, 0x11349, 0x1134B, 0x1134E, 0x11350, 0x11351, 0x11357, 0x11358, 0x1135D, 0x11364,
    0x11366, 0x1136D, 0x11370, 0x11375, 0x11400, 0x1145C, 0x1145D, 0x11462, 0x11480, 0x114C8,
    0x114D0, 0x114DA, 0x11580, 0x115B6, 0x115B8, 0x115DE, 0x11600, 0x11645, 0x11650, 0x1165A,
    0x11660, 0x1166D, 0x11680, 0x116B9, 0x116C0, 0x116CA, 0x11700, 0x1171B, 0x1171D, 0x1172C,
    0x11730, 0x11740, 0x11800, 0x1183C, 0x118A0, 0x118F3, 0x118FF, 0x11907, 0x11909, 0x1190A,
    0x1190C, 0x11914, 0x11915, 0x11917, 0x11918, 0x11936, 0x11937, 0x11939, 0x1193B, 0x11947,
    0x11950, 0x1195A, 0x119A0, 0x119A8, 0x119AA, 0x119D8, 0x119DA, 0x119E5, 0x11A00, 0x11A48,
    0x11A50, 0x11AA3, 0x11AC0, 0x11AF9, 0x11C00, 0x11C09, 0x11C0A, 0x11C37, 0x11C38, 0x11C46,
    0x11C50, 0x11C6D, 0x11C70, 0x11C90, 0x11C92, 0x11CA8, 0x11CA9, 0x11CB7, 0x11D00, 0x11D07,
    0x11D08, 0x11D0A, 0x11D0B, 0x11D37, 0x11D3A, 0x11D3B, 0x11D3C, 0x11D3E, 0x11D3F, 0x11D48,
    0x11D50, 0x11D5A, 0x11D60, 0x11D66, 0x11D67, 0x11D69, 0x11D6A, 0x11D8F, 0x11D90, 0x11D92,
    0x11D93, 0x11D99, 0x11DA0, 0x11DAA, 0x11EE0, 0x11EF9, 0x11FB0, 0x11FB1, 0x11FC0, 0x11FF2,
    0x11FFF, 0x1239A, 0x12400, 0x1246F, 0x12470, 0x12475, 0x12480, 0x12544, 0x13000, 0x1342F,
    0x14400, 0x14647, 0x16800, 0x16A39, 0x16A40, 0x16A5F, 0x16A60, 0x16A6A, 0x16A6E, 0x16A70,
    0x16AD0, 0x16AEE, 0x16AF0, 0x16AF6, 0x16B00, 0x16B46, 0x16B50, 0x16B5A, 0x16B5B, 0x16B62,
    0x16B63, 0x16B78, 0x16B7D, 0x16B90, 0x16E40, 0x16E9B, 0x16F00, 0x16F4B, 0x16F4F, 0x16F88,
    0x16F8F, 0x16FA0, 0x16FE0, 0x16FE5, 0x16FF0, 0x16FF2, 0x17000, 0x187F8, 0x18800, 0x18CD6,
    0x18D00, 0x18D09, 0x1B000, 0x1B11F, 0x1B150, 0x1B153, 0x1B164, 0x1B168, 0x1B170, 0x1B2FC,
    0x1BC00, 0x1BC6B, 0x1BC70, 0x1BC7D, 0x1BC80, 0x1BC89, 0x1BC90, 0x1BC9A, 0x1BC9C, 0x1BCA0,
    0x1D000, 0x1D0F6, 0x1D100, 0x1D127, 0x1D129, 0x1D173, 0x1D17B, 0x1D1E9, 0x1D200, 0x1D246,
    0x1D2E0, 0x1D2F4, 0x1D300, 0x1D357, 0x1D360, 0x1D379, 0x1D400, 0x1D455, 0x1D456, 0x1D49D,
    0x1D49E, 0x1D4A0, 0x1D4A2, 0x1D4A3, 0x1D4A5, 0x1D4A7, 0x1D4A9, 0x1D4AD, 0x1D4AE, 0x1D4BA,
    0x1D4BB, 0x1D4BC, 0x1D4BD, 0x1D4C4, 0x1D4C5, 0x1D506, 0x1D507, 0x1D50B, 0x1D50D, 0x1D515,
    0x1D516, 0x1D51D, 0x1D51E, 0x1D53A, 0x1D53B, 0x1D53F, 0x1D540, 0x1D545, 0x1D546, 0x1D547,
    0x1D54A, 0x1D551, 0x1D552, 0x1D6A6, 0x1D6A8, 0x1D7CC, 0x1D7CE, 0x1DA8C, 0x1DA9B, 0x1DAA0,
    0x1DAA1, 0x1DAB0, 0x1E000, 0x1E007, 0x1E008, 0x1E019, 0x1E01B, 0x1E022, 0x1E023, 0x1E025,
    0x1E026, 0x1E02B, 0x1E100, 0x1E12D, 0x1E130, 0x1E13E, 0x1E140, 0x1E14A, 0x1E14E, 0x1E150,
    0x1E2C0, 0x1E2FA, 0x1E2FF, 0x1E300, 0x1E800, 0x1E8C5, 0x1E8C7, 0x1E8D7, 0x1E900, 0x1E94C,
    0x1E950, 0x1E95A, 0x1E95E, 0x1E960, 0x1EC71, 0x1ECB5, 0x1ED01, 0x1ED3E, 0x1EE00, 0x1EE04,
    0x1EE05, 0x1EE20, 0x1EE21, 0x1EE23, 0x1EE24, 0x1EE25, 0x1EE27, 0x1EE28, 0x1EE29, 0x1EE33,
    0x1EE34, 0x1EE38, 0x1EE39, 0x1EE3A, 0x1EE3B, 0x1EE3C, 0x1EE42, 0x1EE43, 0x1EE47, 0x1EE48,
    0x1EE49, 0x1EE4A, 0x1EE4B, 0x1EE4C, 0x1EE4D, 0x1EE50, 0x1EE51, 0x1EE53, 0x1EE54, 0x1EE55,
    0x1EE57, 0x1EE58, 0x1EE59, 0x1EE5A, 0x1EE5B, 0x1EE5C, 0x1EE5D, 0x1EE5E, 0x1EE5F, 0x1EE60,
    0x1EE61, 0x1EE63, 0x1EE64, 0x1EE65, 0x1EE67, 0x1EE6B, 0x1EE6C, 0x1EE73, 0x1EE74, 0x1EE78,
    0x1EE79, 0x1EE7D, 0x1EE7E, 0x1EE7F, 0x1EE80, 0x1EE8A, 0x1EE8B, 0x1EE9C, 0x1EEA1, 0x1EEA4,
    0x1EEA5, 0x1EEAA, 0x1EEAB, 0x1EEBC, 0x1EEF0, 0x1EEF2, 0x1F000, 0x1F02C, 0x1F030, 0x1F094,
    0x1F0A0, 0x1F0AF, 0x1F0B1, 0x1F0C0, 0x1F0C1, 0x1F0D0, 0x1F0D1, 0x1F0F6, 0x1F100, 0x1F1AE,
    0x1F1E6, 0x1F203, 0x1F210, 0x1F23C, 0x1F240, 0x1F249, 0x1F250, 0x1F252, 0x1F260, 0x1F266,
    0x1F300, 0x1F6D8, 0x1F6E0, 0x1F6ED, 0x1F6F0, 0x1F6FD, 0x1F700, 0x1F774, 0x1F780, 0x1F7D9,
    0x1F7E0, 0x1F7EC, 0x1F800, 0x1F80C, 0x1F810, 0x1F848, 0x1F850, 0x1F85A, 0x1F860, 0x1F888,
    0x1F890, 0x1F8AE, 0x1F8B0, 0x1F8B2, 0x1F900, 0x1F979, 0x1F97A, 0x1F9CC, 0x1F9CD, 0x1FA54,
    0x1FA60, 0x1FA6E, 0x1FA70, 0x1FA75, 0x1FA78, 0x1FA7B, 0x1FA80, 0x1FA87, 0x1FA90, 0x1FAA9,
    0x1FAB0, 0x1FAB7, 0x1FAC0, 0x1FAC3, 0x1FAD0, 0x1FAD7, 0x1FB00, 0x1FB93, 0x1FB94, 0x1FBCB,
    0x1FBF0, 0x1FBFA, 0x20000, 0x2A6DE, 0x2A700, 0x2B735, 0x2B740, 0x2B81E, 0x2B820, 0x2CEA2,
    0x2CEB0, 0x2EBE1, 0x2F800, 0x2FA1E, 0x30000, 0x3134B, 0xE0100, 0xE01F0,
];

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::io::Write as _;
    use std::path::{Path, PathBuf};
    use std::process::Command;

    use cairn_expfmt::{Entry, Format, Mode, Parser};

    use super::*;

    fn go_g(v: f64) -> String {
        let mut s = String::new();
        format_go_g(&mut s, v);
        s
    }

    fn labels_go(pairs: &[(&str, &str)]) -> String {
        let mut s = String::new();
        format_labels_go(&mut s, &Labels::from_pairs(pairs.iter().copied()));
        s
    }

    /// As `promtool tsdb dump` printed them (see the module docs).
    #[test]
    fn go_g_spellings() {
        let cases: &[(f64, &str)] = &[
            (0.0, "0"),
            (-0.0, "-0"),
            (1.0, "1"),
            (0.5, "0.5"),
            (100.0, "100"),
            (1e5, "100000"),
            (123456.0, "123456"),
            (999999.0, "999999"),
            (999999.5, "999999.5"),
            (1e6, "1e+06"),
            (1234567.0, "1.234567e+06"),
            (1234567.5, "1.2345675e+06"),
            (123456789.0, "1.23456789e+08"),
            (1e15, "1e+15"),
            (1e20, "1e+20"),
            (1e21, "1e+21"),
            (9007199254740992.0, "9.007199254740992e+15"),
            (9223372036854775808.0, "9.223372036854776e+18"),
            (123456789012345678.0, "1.2345678901234568e+17"),
            (1.5e300, "1.5e+300"),
            (f64::MAX, "1.7976931348623157e+308"),
            (0.0001, "0.0001"),
            (0.00012345, "0.00012345"),
            (1e-5, "1e-05"),
            (-0.000012, "-1.2e-05"),
            (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
            (5e-324, "5e-324"),
            (-1e-300, "-1e-300"),
            (0.1, "0.1"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1.0 / 3.0, "0.3333333333333333"),
            (2.0 / 3.0, "0.6666666666666666"),
            (-12.5, "-12.5"),
            // Halfway between two shortest spellings: the even one.
            (-(840_847_321_408_031.0 + 0.25), "-8.408473214080312e+14"),
            (2f64.powi(-25), "2.9802322387695312e-08"),
            (2f64.powi(52) + 1.5, "4.503599627370498e+15"),
            (1234567.25, "1.23456725e+06"),
            (12345678.125, "1.2345678125e+07"),
            (9007199254740991.0, "9.007199254740991e+15"),
            (0.125, "0.125"),
            (1_699_999_999.0, "1.699999999e+09"),
            (f64::NAN, "NaN"),
            (-f64::NAN, "NaN"),
            (f64::from_bits(cairn_model::STALE_NAN_BITS), "NaN"),
            (f64::INFINITY, "+Inf"),
            (f64::NEG_INFINITY, "-Inf"),
        ];
        for &(v, want) in cases {
            assert_eq!(go_g(v), want, "{v:e}");
        }
    }

    /// As `promtool tsdb dump` printed them (see the module docs); NUL and CR were fed to
    /// promtool raw.
    #[test]
    fn go_quote_spellings() {
        let cases: &[(&str, &str)] = &[
            ("", r#""""#),
            ("plain", r#""plain""#),
            ("a\"b", r#""a\"b""#),
            ("a\\b", r#""a\\b""#),
            ("a\\tb", r#""a\\tb""#),
            ("a\nb", r#""a\nb""#),
            ("a\tb", r#""a\tb""#),
            ("a\rb", r#""a\rb""#),
            ("a\x07b\x08c\x0bd\x0ce", r#""a\ab\bc\vd\fe""#),
            ("a\0b", r#""a\x00b""#),
            ("a\x01b\x1bc\x7fd", r#""a\x01b\x1bc\x7fd""#),
            (" it's `x`", r#"" it's `x`""#),
            (
                "é 日本 مرحبا 😀 \u{fffd} \u{ffee}",
                "\"é 日本 مرحبا 😀 \u{fffd} \u{ffee}\"",
            ),
            ("e\u{301}\u{301}", "\"e\u{301}\u{301}\""),
            ("\u{30000}\u{10000}", "\"\u{30000}\u{10000}\""),
            ("\u{1fae0}", r#""\U0001fae0""#),
            ("\u{31350}", r#""\U00031350""#),
            ("\u{85}\u{a0}\u{ad}", r#""\u0085\u00a0\u00ad""#),
            (
                "\u{200b}\u{200d}\u{2028}\u{2029}",
                r#""\u200b\u200d\u2028\u2029""#,
            ),
            (
                "\u{3000}\u{feff}\u{fffe}\u{378}\u{e000}",
                r#""\u3000\ufeff\ufffe\u0378\ue000""#,
            ),
            (
                "\u{f0000}\u{e0041}\u{10ffff}",
                r#""\U000f0000\U000e0041\U0010ffff""#,
            ),
        ];
        for &(value, want) in cases {
            let mut got = String::new();
            quote_go(&mut got, value);
            assert_eq!(got, want, "{value:?}");
        }
    }

    #[test]
    fn labels_and_lines() {
        assert_eq!(labels_go(&[]), "{}");
        assert_eq!(
            labels_go(&[("zz", "5"), ("__name__", "m"), ("_a", "1"), ("A", "x")]),
            r#"{A="x", __name__="m", _a="1", zz="5"}"#
        );
        let mut line = String::new();
        let labels = Labels::from_pairs([("__name__", "up"), ("job", "a\"b")]);
        dump_line(&mut line, &labels, -1_700_000_000_001, 1e6);
        assert_eq!(line, r#"{__name__="up", job="a\"b"} 1e+06 -1700000000001"#);
    }

    #[test]
    fn print_table_is_well_formed() {
        assert_eq!(PRINT_BOUNDS.len() % 2, 0);
        assert!(PRINT_BOUNDS.first().is_some_and(|&b| b >= 0x80));
        assert!(PRINT_BOUNDS.last().is_some_and(|&b| b <= 0x11_0000));
        assert!(PRINT_BOUNDS.windows(2).all(|w| w[0] < w[1]));
        // Ranges touch no surrogate (no `char` is one).
        for pair in PRINT_BOUNDS.chunks(2) {
            assert!(pair[1] <= 0xd800 || pair[0] > 0xdfff, "{pair:x?}");
        }
    }

    fn testdata(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata/promtool")
            .join(name)
    }

    /// Series as Prometheus stores them: `__name__` plus the labels with a value, samples in
    /// time order.
    type Series = BTreeMap<Labels, Vec<(i64, f64)>>;

    fn read_openmetrics(om: &[u8]) -> Series {
        let mut series = Series::new();
        for entry in Parser::new(om, Format::OpenMetrics, Mode::Scrape) {
            let Entry::Sample(s) = entry.unwrap() else {
                continue;
            };
            let mut labels = Labels::new();
            labels.set("__name__", s.name.unescaped());
            for l in s.labels.iter() {
                let value = l.value.unescaped();
                if !value.is_empty() {
                    labels.set(l.name.unescaped(), value);
                }
            }
            series
                .entry(labels)
                .or_default()
                .push((s.timestamp.unwrap(), s.value));
        }
        for samples in series.values_mut() {
            samples.sort_by_key(|&(t, _)| t);
        }
        series
    }

    fn dump(series: &Series) -> String {
        let mut out = String::new();
        for (labels, samples) in series {
            for &(t, v) in samples {
                dump_line(&mut out, labels, t, v);
                out.push('\n');
            }
        }
        out
    }

    fn assert_same_lines(got: &str, want: &str, what: &str) {
        for (i, (g, w)) in got.lines().zip(want.lines()).enumerate() {
            assert_eq!(g, w, "{what}: line {} differs", i + 1);
        }
        assert_eq!(
            got.lines().count(),
            want.lines().count(),
            "{what}: line count"
        );
    }

    /// The checked-in dump was made by promtool from the checked-in exposition; read the
    /// exposition with cairn's parser and print it with this module.
    #[test]
    fn prints_the_checked_in_promtool_dump() {
        let om = std::fs::read(testdata("tricky.om.txt")).unwrap();
        let want = std::fs::read_to_string(testdata("tricky.dump")).unwrap();
        assert_same_lines(&dump(&read_openmetrics(&om)), &want, "tricky.dump");
    }

    /// `promtool tsdb dump` of `om` imported by `promtool tsdb create-blocks-from
    /// openmetrics`; `None` (after a SKIP note) when promtool is not on PATH, a failure then
    /// when `CI` is set.
    fn promtool_dump(om: &str) -> Option<String> {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("input.om.txt");
        let data = dir.path().join("data");
        std::fs::write(&input, om).unwrap();
        let import = Command::new("promtool")
            .args(["tsdb", "create-blocks-from", "openmetrics", "--quiet"])
            .arg(&input)
            .arg(&data)
            .output();
        let import = match import {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let msg = "promtool is not on PATH; install it with scripts/prometheus-tools.sh \
                           (apt-get install prometheus)";
                assert!(std::env::var_os("CI").is_none(), "FAIL: {msg}");
                // Straight to stderr, past the test harness's capture.
                let _ = writeln!(
                    std::io::stderr(),
                    "\n*** SKIP: {msg}; not comparing with promtool ***\n"
                );
                return None;
            }
            other => other.unwrap(),
        };
        let stderr = String::from_utf8_lossy(&import.stderr);
        assert!(import.status.success(), "promtool import: {stderr}");
        // promtool 2.42's dump opens the WAL directory even when there is none to read.
        std::fs::create_dir_all(data.join("wal")).unwrap();
        let dumped = Command::new("promtool")
            .args(["tsdb", "dump"])
            .arg(&data)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&dumped.stderr);
        assert!(dumped.status.success(), "promtool dump: {stderr}");
        Some(String::from_utf8(dumped.stdout).unwrap())
    }

    /// Every code point in a label value, 1024 to a series; `"`, `\` and newline are left out
    /// (they are escaped on input, and pinned above).
    #[test]
    fn agrees_with_promtool_on_every_code_point() {
        let mut om = String::from("# TYPE cp gauge\n");
        let mut series = Series::new();
        for block in 0..0x11_0000 / 1024 {
            let value: String = (block * 1024..(block + 1) * 1024)
                .filter_map(char::from_u32)
                .filter(|c| !matches!(c, '"' | '\\' | '\n'))
                .collect();
            let _ = writeln!(om, "cp{{b=\"{block:04}\",v=\"{value}\"}} 1 1700000000");
            let mut labels =
                Labels::from_pairs([("__name__", "cp"), ("b", &format!("{block:04}"))]);
            if !value.is_empty() {
                labels.set("v", value);
            }
            series.insert(labels, vec![(1_700_000_000_000, 1.0)]);
        }
        om.push_str("# EOF\n");
        if let Some(got) = promtool_dump(&om) {
            assert_same_lines(&dump(&series), &got, "code points");
        }
    }

    /// Random bit patterns, written with their shortest digits so that Go reads the same
    /// float back.
    #[test]
    fn agrees_with_promtool_on_random_floats() {
        let mut state = 0x5EED_u64;
        let mut next = move || {
            // SplitMix64.
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        let mut om = String::from("# TYPE f gauge\n");
        let mut samples = Vec::new();
        for i in 0..20_000_i64 {
            let bits = next();
            let v = match i % 3 {
                0 => f64::from_bits(bits),
                // A "human" number: few digits, exponent near zero.
                1 => (bits % 100_000_000) as f64 / 10f64.powi((bits >> 40) as i32 % 16 - 4),
                // Few binary digits after the point, so often halfway between two shortest
                // decimals (where Go and Rust round differently).
                _ => (bits >> 10) as f64 / f64::from(1 << (bits % 12)),
            };
            let _ = writeln!(om, "f {v:e} {}", 1_700_000_000 + i);
            samples.push((1_700_000_000_000 + i * 1000, v));
        }
        om.push_str("# EOF\n");
        let series = Series::from([(Labels::from_pairs([("__name__", "f")]), samples)]);
        if let Some(got) = promtool_dump(&om) {
            assert_same_lines(&dump(&series), &got, "floats");
        }
    }
}
