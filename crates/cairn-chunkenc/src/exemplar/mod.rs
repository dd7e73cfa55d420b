//! Exemplar chunks: the exemplars of one series, oldest first, beside its sample chunks.
//!
//! An exemplar is a timestamp in milliseconds, an `f64` value (stored bit-exactly) and a
//! small label set, usually a W3C `trace_id` and `span_id` plus a label or two that rarely
//! change. A chunk stores them the way an XOR chunk stores samples, plus labels:
//!
//! - timestamps as delta-of-delta in the XOR chunk's buckets, values as the XOR chunk's
//!   windowed XOR, or as a short decimal (a scale and an integer) where that is exact and
//!   shorter;
//! - label sets through a per-chunk dictionary: a set seen before in the chunk (same names,
//!   same values apart from the IDs) costs one bit when it repeats the previous exemplar's
//!   set, a short index otherwise; a new set is written once, byte-aligned, its strings
//!   themselves referring back to strings already in the chunk;
//! - `trace_id` (32 lowercase hex digits) and `span_id` (16) as 16 and 8 raw bytes per
//!   exemplar; any other value of those labels is stored as a string, and one bit per ID
//!   says which.
//!
//! The layout is described field by field in the crate's `EXEMPLAR_FORMAT.md`.
//!
//! - [`ExemplarAppender`] builds a chunk in an owned buffer (or reopens one), checking the
//!   [limits](MAX_LABEL_BYTES) and the time order.
//! - [`ExemplarIterator`] decodes a borrowed `&[u8]` (a read-only mapping is fine), yielding
//!   [`ExemplarRef`]s whose label strings borrow from the chunk (only IDs stored as raw
//!   bytes are turned back into hex strings), with [`seek`](ExemplarIterator::seek). A
//!   truncated or corrupt chunk yields an [`ExemplarError`] with its byte offset, never a
//!   panic, an endless loop or an allocation larger than the chunk justifies.
//!
//! ```
//! use cairn_chunkenc::exemplar::{ExemplarAppender, ExemplarIterator};
//!
//! let mut app = ExemplarAppender::new();
//! app.append(1_700_000_000_000, 0.25, &[
//!     ("service", "api"),
//!     ("span_id", "b7ad6b7169203331"),
//!     ("trace_id", "0af7651916cd43dd8448eb211c80319c"),
//! ])?;
//! app.append(1_700_000_002_500, 0.5, &[
//!     ("service", "api"),
//!     ("span_id", "00f067aa0ba902b7"),
//!     ("trace_id", "4bf92f3577b34da6a3ce929d0e0e4736"),
//! ])?;
//! assert_eq!(app.num_exemplars(), 2);
//!
//! let mut it = ExemplarIterator::new(app.bytes());
//! let e = it.seek(1_700_000_001_000).unwrap();
//! assert_eq!((e.t, e.v), (1_700_000_002_500, 0.5));
//! assert_eq!(e.labels[2].0, "trace_id");
//! assert_eq!(e.labels[2].1, "4bf92f3577b34da6a3ce929d0e0e4736");
//! assert!(it.next().is_none());
//! assert!(it.err().is_none());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::borrow::Cow;

mod appender;
mod decimal;
mod error;
mod iterator;

pub use appender::ExemplarAppender;
pub use error::{AppendError, ExemplarError, ExemplarErrorKind};
pub use iterator::ExemplarIterator;

/// Byte offset of the big-endian `u16` exemplar count.
pub const NUM_EXEMPLARS_OFFSET: usize = 0;
/// Byte offset of the first exemplar (its zigzag varint timestamp), right after the count.
pub const FIRST_EXEMPLAR_OFFSET: usize = NUM_EXEMPLARS_OFFSET + 2;
/// Size of the chunk header (the exemplar count), in bytes.
pub const HEADER_LEN: usize = FIRST_EXEMPLAR_OFFSET;

/// Encoding byte of an exemplar chunk wherever cairn stores chunks with an encoding byte.
///
/// cairn's own: outside the range Prometheus uses (0 to 3) and without Prometheus' head
/// chunk out-of-order bit (`0x80`). Exemplar chunks never go into Prometheus-compatible
/// chunk files. A changed layout gets a new encoding byte, never a reused one: `0x45` was
/// version 1 (values always raw or XOR), never released and no longer read; `0x46` is
/// version 2 (short decimal values stored as digits).
pub const ENCODING_EXEMPLAR: u8 = 0x46;

/// Most labels one exemplar may carry; [`ExemplarAppender::append`] refuses more.
///
/// Prometheus' ingest limit (128 code points of names and values) allows at most about 90
/// labels with non-empty names, so the codec's limit never cuts what ingest accepts.
pub const MAX_LABELS: usize = 128;

/// Most bytes of label names and values (UTF-8, `trace_id`/`span_id` values counted as
/// their hex text) one exemplar may carry; [`ExemplarAppender::append`] refuses more.
///
/// Also the limit of one string's length field. Twice what Prometheus' ingest limit of 128
/// code points can take (at most 4 bytes each), so the codec never cuts what ingest accepts.
pub const MAX_LABEL_BYTES: usize = 1024;

/// The size an exemplar chunk's writer aims for: [`ExemplarAppender::is_full`] turns true
/// once the chunk holds this many bytes: 120 to 140 exemplars with a W3C trace and span ID,
/// about 200 with a trace ID only.
pub const TARGET_BYTES_PER_CHUNK: usize = 4096;

/// The most bytes one exemplar within the limits ([`MAX_LABELS`], [`MAX_LABEL_BYTES`]) adds
/// to a chunk of fewer than [`TARGET_BYTES_PER_CHUNK`] bytes.
///
/// Timestamp, value and label-set reference take at most 160 bits, the padding before a new
/// set 7; a new set at most 2 bytes of count, 128 labels of two 2-byte tags and the 1024
/// bytes of text; the two ID slots at most 24 bits each beyond text already counted:
/// 12 519 bits. `EXEMPLAR_FORMAT.md` spells the sum out.
pub const MAX_EXEMPLAR_BYTES: usize = 1_565;

/// The largest an exemplar chunk gets when its writer cuts on [`ExemplarAppender::is_full`]:
/// one byte short of the target, plus the largest exemplar.
pub const MAX_BYTES_PER_CHUNK: usize = TARGET_BYTES_PER_CHUNK - 1 + MAX_EXEMPLAR_BYTES;

/// The label names whose W3C-form values are stored as raw bytes.
pub const TRACE_ID: &str = "trace_id";
/// See [`TRACE_ID`].
pub const SPAN_ID: &str = "span_id";

/// One decoded exemplar.
///
/// Label names and values borrow from the chunk's bytes, except `trace_id` and `span_id`
/// values stored as raw bytes, which are turned back into (lowercase hex) strings. Labels
/// come sorted by name, as they were appended.
///
/// `v` is bit-exact: compare values with `to_bits` when NaNs may occur.
#[derive(Clone, Debug)]
pub struct ExemplarRef<'a> {
    /// Milliseconds since the Unix epoch.
    pub t: i64,
    /// The observed value, every NaN payload intact.
    pub v: f64,
    /// `(name, value)` pairs, sorted by name, names unique.
    pub labels: Vec<(Cow<'a, str>, Cow<'a, str>)>,
}

/// Which ID a label name is, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IdKind {
    /// `trace_id`: 16 raw bytes.
    Trace,
    /// `span_id`: 8 raw bytes.
    Span,
}

impl IdKind {
    pub(crate) fn of(name: &str) -> Option<IdKind> {
        match name {
            TRACE_ID => Some(IdKind::Trace),
            SPAN_ID => Some(IdKind::Span),
            _ => None,
        }
    }

    /// Raw length in bytes; the hex text is twice as long.
    pub(crate) fn raw_len(self) -> usize {
        match self {
            IdKind::Trace => 16,
            IdKind::Span => 8,
        }
    }
}

/// The raw bytes of a W3C-form ID: exactly `2 * N` lowercase hex digits.
pub(crate) fn parse_hex<const N: usize>(s: &str) -> Option<[u8; N]> {
    let s = s.as_bytes();
    if s.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (byte, pair) in out.iter_mut().zip(s.chunks_exact(2)) {
        let [hi, lo] = pair else { return None };
        *byte = (hex_digit(*hi)? << 4) | hex_digit(*lo)?;
    }
    Some(out)
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

/// Lowercase hex text of raw ID bytes.
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        for nibble in [b >> 4, b & 0xf] {
            // A nibble is always a base-16 digit.
            s.push(char::from_digit(u32::from(nibble), 16).unwrap_or('0'));
        }
    }
    s
}
