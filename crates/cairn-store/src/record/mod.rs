//! The records the store writes to its write-ahead log: new series, samples, exemplars and
//! tombstones.
//!
//! The log (`cairn-wal`) stores opaque byte records and checksums them; this module gives
//! them meaning. Every record starts with a 1-byte [`RecordType`] tag that is never reused,
//! then a uvarint count of entries; the layout of each type is drawn field by field in the
//! crate's `src/RECORD_FORMAT.md`, with a worked example that the tests pin byte for byte.
//!
//! Records are self-delimiting, so one WAL record can carry several of them back to back: a
//! commit writes its new series, samples and exemplars as one WAL record, which the log
//! frames atomically, and after a crash the commit is there whole or not at all.
//!
//! - Encoders ([`encode_series`], [`encode_samples`], [`encode_exemplars`],
//!   [`encode_tombstones`]) append one record to the caller's buffer and cannot fail.
//! - [`Record::decode`] reads exactly one record; [`Record::decode_all`] reads every record
//!   of a WAL record in turn. Label text is borrowed from the input ([`LabelsRef`]).
//!   Decoding never panics and allocates at most 16 bytes per input byte: a count is
//!   checked against the bytes left before anything is allocated for it. Damage is
//!   a [`DecodeError`] with the byte offset of the field at fault.
//!
//! ```
//! use cairn_model::Labels;
//! use cairn_store::record::{self, Record, RefSample, RefSeries};
//!
//! let up = Labels::from_pairs([("__name__", "up"), ("job", "api")]);
//! let mut buf = Vec::new();
//! record::encode_series(&[RefSeries { series_ref: 1, labels: &up }], &mut buf);
//! record::encode_samples(&[RefSample { series_ref: 1, t: 1_700_000_000_000, v: 1.0 }], &mut buf);
//!
//! let records: Vec<Record<'_>> = Record::decode_all(&buf).collect::<Result<_, _>>()?;
//! let [Record::Series(series), Record::Samples(samples)] = records.as_slice() else {
//!     panic!("expected a series and a samples record, got {records:?}");
//! };
//! assert_eq!(series[0].labels, up);
//! assert_eq!(samples[0].t, 1_700_000_000_000);
//! # Ok::<(), cairn_store::record::DecodeError>(())
//! ```

use std::iter::FusedIterator;

use cairn_model::TimestampMs;

pub(crate) mod buf;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod labels;

pub use error::{DecodeError, DecodeErrorKind, Field};
pub use labels::{LabelsRef, SortedLabels};

use buf::{Decoder, put_u64, put_uvarint, put_varint};
use labels::{decode_labels, encode_labels, encoded_labels_len};

/// Byte offset of the record type tag.
pub const TYPE_OFFSET: usize = 0;
/// Width of the record type tag.
pub const TYPE_LEN: usize = 1;
/// Byte offset of the uvarint entry count, right after the tag.
pub const COUNT_OFFSET: usize = TYPE_OFFSET + TYPE_LEN;
/// Width of a fixed series ref (little-endian `u64`).
pub const REF_LEN: usize = 8;
/// Width of a fixed timestamp (little-endian `i64`, two's complement).
pub const TIMESTAMP_LEN: usize = 8;
/// Width of a value (the little-endian bits of an IEEE 754 double).
pub const VALUE_LEN: usize = 8;
/// The base ref and base timestamp that open a non-empty samples or exemplars record.
pub const BASE_LEN: usize = REF_LEN + TIMESTAMP_LEN;
/// The shortest varint (any value below 128).
pub const MIN_VARINT_LEN: usize = 1;
/// The smallest record: a tag and a zero count.
pub const MIN_RECORD_LEN: usize = TYPE_LEN + MIN_VARINT_LEN;
/// The smallest label set: a zero count.
pub const MIN_LABELS_LEN: usize = MIN_VARINT_LEN;
/// The smallest label: an empty name and an empty value, each a zero length.
pub const MIN_LABEL_LEN: usize = 2 * MIN_VARINT_LEN;
/// The smallest series entry: a ref and an empty label set.
pub const MIN_SERIES_LEN: usize = REF_LEN + MIN_LABELS_LEN;
/// The smallest sample entry: two one-byte deltas and a value.
pub const MIN_SAMPLE_LEN: usize = 2 * MIN_VARINT_LEN + VALUE_LEN;
/// The smallest exemplar entry: a sample entry and an empty label set.
pub const MIN_EXEMPLAR_LEN: usize = MIN_SAMPLE_LEN + MIN_LABELS_LEN;
/// The smallest tombstone entry: a ref and a zero interval count.
pub const MIN_TOMBSTONE_LEN: usize = REF_LEN + MIN_VARINT_LEN;
/// The smallest interval: two one-byte varints.
pub const MIN_INTERVAL_LEN: usize = 2 * MIN_VARINT_LEN;

/// The type of a record: its first byte. A tag, once given, is never reused, even when its
/// type is retired; tag 0 is never given, so zeroed bytes are not a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[repr(u8)]
pub enum RecordType {
    /// New series: refs and their labels.
    Series = 1,
    /// Float samples: ref, timestamp, value.
    Samples = 2,
    /// Exemplars: ref, timestamp, value and their own labels.
    Exemplars = 3,
    /// Deleted time ranges of series.
    Tombstones = 4,
}

impl RecordType {
    /// Every type, by tag.
    pub const ALL: [RecordType; 4] = [
        RecordType::Series,
        RecordType::Samples,
        RecordType::Exemplars,
        RecordType::Tombstones,
    ];

    /// The tag byte.
    pub const fn tag(self) -> u8 {
        self as u8
    }

    /// The type of a tag byte, if it is one.
    pub const fn from_tag(tag: u8) -> Option<RecordType> {
        match tag {
            1 => Some(RecordType::Series),
            2 => Some(RecordType::Samples),
            3 => Some(RecordType::Exemplars),
            4 => Some(RecordType::Tombstones),
            _ => None,
        }
    }

    /// A lowercase name, as in `RECORD_FORMAT.md`.
    pub const fn name(self) -> &'static str {
        match self {
            RecordType::Series => "series",
            RecordType::Samples => "samples",
            RecordType::Exemplars => "exemplars",
            RecordType::Tombstones => "tombstones",
        }
    }
}

/// A series and its labels, `__name__` included. Encoded from any [`SortedLabels`]; decoded
/// with [`LabelsRef`].
#[derive(Clone, Debug, Default, Hash)]
pub struct RefSeries<L> {
    /// The ref the head gave the series.
    pub series_ref: u64,
    /// The series' labels.
    pub labels: L,
}

/// A float sample of a series.
///
/// Equality is bit-exact on the value: two NaNs with the same payload are equal, `0.0` and
/// `-0.0` are not. That is what a round trip must keep.
#[derive(Clone, Copy, Debug, Default)]
pub struct RefSample {
    /// The series' ref.
    pub series_ref: u64,
    /// Milliseconds since the Unix epoch.
    pub t: TimestampMs,
    /// The value; every NaN payload (the stale marker included) is kept.
    pub v: f64,
}

/// An exemplar of a series, with its own labels (usually `trace_id` and `span_id`).
///
/// Equality is bit-exact on the value, as for [`RefSample`].
#[derive(Clone, Debug, Default)]
pub struct RefExemplar<L> {
    /// The series' ref.
    pub series_ref: u64,
    /// Milliseconds since the Unix epoch.
    pub t: TimestampMs,
    /// The observed value, every NaN payload kept.
    pub v: f64,
    /// The exemplar's labels.
    pub labels: L,
}

/// Time ranges deleted from a series.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Tombstone {
    /// The series' ref.
    pub series_ref: u64,
    /// The deleted ranges, as given (the codec neither sorts nor merges them).
    pub intervals: Vec<Interval>,
}

/// A closed range of timestamps, `mint..=maxt`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Interval {
    /// The first timestamp in the range.
    pub mint: TimestampMs,
    /// The last timestamp in the range.
    pub maxt: TimestampMs,
}

impl<L: PartialEq<M>, M> PartialEq<RefSeries<M>> for RefSeries<L> {
    fn eq(&self, other: &RefSeries<M>) -> bool {
        self.series_ref == other.series_ref && self.labels == other.labels
    }
}

impl<L: Eq> Eq for RefSeries<L> {}

impl PartialEq for RefSample {
    fn eq(&self, other: &Self) -> bool {
        self.series_ref == other.series_ref
            && self.t == other.t
            && self.v.to_bits() == other.v.to_bits()
    }
}

// Bit equality is an equivalence, NaNs included.
impl Eq for RefSample {}

impl<L: PartialEq<M>, M> PartialEq<RefExemplar<M>> for RefExemplar<L> {
    fn eq(&self, other: &RefExemplar<M>) -> bool {
        self.series_ref == other.series_ref
            && self.t == other.t
            && self.v.to_bits() == other.v.to_bits()
            && self.labels == other.labels
    }
}

impl<L: Eq> Eq for RefExemplar<L> {}

/// One decoded record. Label text borrows from the decoded bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Record<'a> {
    /// New series.
    Series(Vec<RefSeries<LabelsRef<'a>>>),
    /// Float samples.
    Samples(Vec<RefSample>),
    /// Exemplars.
    Exemplars(Vec<RefExemplar<LabelsRef<'a>>>),
    /// Deleted time ranges.
    Tombstones(Vec<Tombstone>),
}

impl<'a> Record<'a> {
    /// Decodes `bytes` as exactly one record.
    ///
    /// # Errors
    ///
    /// A [`DecodeError`] when the bytes are empty, start with an unknown tag, end inside a
    /// field, hold a varint beyond 64 bits, a count larger than the bytes after it can hold,
    /// a label that is not UTF-8 or labels not strictly sorted by name, or continue after the
    /// record ([`DecodeErrorKind::TrailingBytes`]; see [`decode_all`](Record::decode_all)).
    pub fn decode(bytes: &'a [u8]) -> Result<Record<'a>, DecodeError> {
        let mut d = Decoder::at(bytes, 0);
        let record = decode_one(&mut d)?;
        match d.remaining() {
            0 => Ok(record),
            len => Err(DecodeError::new(
                DecodeErrorKind::TrailingBytes { len },
                d.pos(),
            )),
        }
    }

    /// The records of `bytes` in turn (a WAL record may hold several back to back). The
    /// iterator stops after the first error, whose offset counts from the start of `bytes`.
    pub fn decode_all(bytes: &'a [u8]) -> Records<'a> {
        Records {
            bytes,
            pos: 0,
            failed: false,
        }
    }

    /// The record's type.
    pub fn record_type(&self) -> RecordType {
        match self {
            Record::Series(_) => RecordType::Series,
            Record::Samples(_) => RecordType::Samples,
            Record::Exemplars(_) => RecordType::Exemplars,
            Record::Tombstones(_) => RecordType::Tombstones,
        }
    }

    /// How many entries the record holds.
    pub fn len(&self) -> usize {
        match self {
            Record::Series(v) => v.len(),
            Record::Samples(v) => v.len(),
            Record::Exemplars(v) => v.len(),
            Record::Tombstones(v) => v.len(),
        }
    }

    /// Whether the record holds no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends the record to `buf`, as the `encode_*` function of its type does.
    pub fn encode(&self, buf: &mut Vec<u8>) {
        match self {
            Record::Series(v) => encode_series(v, buf),
            Record::Samples(v) => encode_samples(v, buf),
            Record::Exemplars(v) => encode_exemplars(v, buf),
            Record::Tombstones(v) => encode_tombstones(v, buf),
        }
    }

    /// Heap bytes held, for the fuzz body's bound on memory.
    pub(crate) fn heap_bytes(&self) -> usize {
        match self {
            Record::Series(v) => {
                v.capacity() * size_of::<RefSeries<LabelsRef<'_>>>()
                    + v.iter().map(|s| s.labels.heap_bytes()).sum::<usize>()
            }
            Record::Samples(v) => v.capacity() * size_of::<RefSample>(),
            Record::Exemplars(v) => {
                v.capacity() * size_of::<RefExemplar<LabelsRef<'_>>>()
                    + v.iter().map(|e| e.labels.heap_bytes()).sum::<usize>()
            }
            Record::Tombstones(v) => {
                v.capacity() * size_of::<Tombstone>()
                    + v.iter()
                        .map(|t| t.intervals.capacity() * size_of::<Interval>())
                        .sum::<usize>()
            }
        }
    }
}

/// The records of one WAL record, in order; see [`Record::decode_all`].
#[derive(Clone, Debug)]
pub struct Records<'a> {
    bytes: &'a [u8],
    pos: usize,
    failed: bool,
}

impl Records<'_> {
    /// The offset of the next record: the bytes consumed by the records yielded so far.
    pub fn offset(&self) -> usize {
        self.pos
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<Record<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.bytes.len() {
            return None;
        }
        let mut d = Decoder::at(self.bytes, self.pos);
        match decode_one(&mut d) {
            Ok(r) => {
                self.pos = d.pos();
                Some(Ok(r))
            }
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

impl FusedIterator for Records<'_> {}

fn decode_one<'a>(d: &mut Decoder<'a>) -> Result<Record<'a>, DecodeError> {
    let at = d.pos();
    let tag = d.u8(Field::RecordType)?;
    match RecordType::from_tag(tag) {
        Some(RecordType::Series) => decode_series(d).map(Record::Series),
        Some(RecordType::Samples) => decode_samples(d).map(Record::Samples),
        Some(RecordType::Exemplars) => decode_exemplars(d).map(Record::Exemplars),
        Some(RecordType::Tombstones) => decode_tombstones(d).map(Record::Tombstones),
        None => Err(DecodeError::new(DecodeErrorKind::UnknownType { tag }, at)),
    }
}

/// Appends a series record: tag 1, count, then per series its fixed ref and its labels.
pub fn encode_series<L: SortedLabels>(series: &[RefSeries<L>], buf: &mut Vec<u8>) {
    let body: usize = series
        .iter()
        .map(|s| REF_LEN + encoded_labels_len(&s.labels))
        .sum();
    buf.reserve(TYPE_LEN + buf::MAX_VARINT_LEN + body);
    buf.push(RecordType::Series.tag());
    put_uvarint(buf, series.len() as u64);
    for s in series {
        put_u64(buf, s.series_ref);
        encode_labels(&s.labels, buf);
    }
}

fn decode_series<'a>(d: &mut Decoder<'a>) -> Result<Vec<RefSeries<LabelsRef<'a>>>, DecodeError> {
    let n = d.count(Field::SeriesCount, MIN_SERIES_LEN, 0)?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let series_ref = d.u64(Field::SeriesRef)?;
        let labels = decode_labels(d)?;
        out.push(RefSeries { series_ref, labels });
    }
    Ok(out)
}

/// Appends a samples record: tag 2, count, then (if any) the first sample's ref and
/// timestamp as the base, and per sample the varint deltas of its ref and timestamp from the
/// base and its value's 8 bytes.
///
/// Deltas wrap around (modulo 2⁶⁴), so every ref and timestamp round-trips, `i64::MIN` next
/// to `i64::MAX` included; such far-apart neighbours just take 10-byte deltas.
pub fn encode_samples(samples: &[RefSample], buf: &mut Vec<u8>) {
    buf.push(RecordType::Samples.tag());
    put_uvarint(buf, samples.len() as u64);
    let Some(base) = samples.first() else {
        return;
    };
    // Room for small deltas; large ones grow the buffer as needed.
    buf.reserve(BASE_LEN + samples.len() * (MIN_SAMPLE_LEN + 2));
    put_u64(buf, base.series_ref);
    put_u64(buf, base.t.cast_unsigned());
    for s in samples {
        put_varint(
            buf,
            s.series_ref.wrapping_sub(base.series_ref).cast_signed(),
        );
        put_varint(buf, s.t.wrapping_sub(base.t));
        put_u64(buf, s.v.to_bits());
    }
}

fn decode_samples(d: &mut Decoder<'_>) -> Result<Vec<RefSample>, DecodeError> {
    let n = d.count(Field::SampleCount, MIN_SAMPLE_LEN, BASE_LEN)?;
    let mut out = Vec::with_capacity(n);
    if n == 0 {
        return Ok(out);
    }
    let base_ref = d.u64(Field::BaseRef)?;
    let base_t = d.u64(Field::BaseTimestamp)?.cast_signed();
    for _ in 0..n {
        let series_ref = base_ref.wrapping_add(d.varint(Field::RefDelta)?.cast_unsigned());
        let t = base_t.wrapping_add(d.varint(Field::TimestampDelta)?);
        let v = f64::from_bits(d.u64(Field::Value)?);
        out.push(RefSample { series_ref, t, v });
    }
    Ok(out)
}

/// Appends an exemplars record: tag 3, count, then (if any) the first exemplar's ref and
/// timestamp as the base, and per exemplar the deltas and value as in a samples record,
/// followed by its labels.
pub fn encode_exemplars<L: SortedLabels>(exemplars: &[RefExemplar<L>], buf: &mut Vec<u8>) {
    buf.push(RecordType::Exemplars.tag());
    put_uvarint(buf, exemplars.len() as u64);
    let Some(base) = exemplars.first() else {
        return;
    };
    let labels: usize = exemplars
        .iter()
        .map(|e| encoded_labels_len(&e.labels))
        .sum();
    buf.reserve(BASE_LEN + exemplars.len() * (MIN_SAMPLE_LEN + 2) + labels);
    put_u64(buf, base.series_ref);
    put_u64(buf, base.t.cast_unsigned());
    for e in exemplars {
        put_varint(
            buf,
            e.series_ref.wrapping_sub(base.series_ref).cast_signed(),
        );
        put_varint(buf, e.t.wrapping_sub(base.t));
        put_u64(buf, e.v.to_bits());
        encode_labels(&e.labels, buf);
    }
}

fn decode_exemplars<'a>(
    d: &mut Decoder<'a>,
) -> Result<Vec<RefExemplar<LabelsRef<'a>>>, DecodeError> {
    let n = d.count(Field::ExemplarCount, MIN_EXEMPLAR_LEN, BASE_LEN)?;
    let mut out = Vec::with_capacity(n);
    if n == 0 {
        return Ok(out);
    }
    let base_ref = d.u64(Field::BaseRef)?;
    let base_t = d.u64(Field::BaseTimestamp)?.cast_signed();
    for _ in 0..n {
        let series_ref = base_ref.wrapping_add(d.varint(Field::RefDelta)?.cast_unsigned());
        let t = base_t.wrapping_add(d.varint(Field::TimestampDelta)?);
        let v = f64::from_bits(d.u64(Field::Value)?);
        let labels = decode_labels(d)?;
        out.push(RefExemplar {
            series_ref,
            t,
            v,
            labels,
        });
    }
    Ok(out)
}

/// Appends a tombstones record: tag 4, count, then per tombstone its fixed ref, an interval
/// count and each interval's `mint` and `maxt` as varints.
pub fn encode_tombstones(tombstones: &[Tombstone], buf: &mut Vec<u8>) {
    buf.push(RecordType::Tombstones.tag());
    put_uvarint(buf, tombstones.len() as u64);
    for stone in tombstones {
        put_u64(buf, stone.series_ref);
        put_uvarint(buf, stone.intervals.len() as u64);
        for i in &stone.intervals {
            put_varint(buf, i.mint);
            put_varint(buf, i.maxt);
        }
    }
}

fn decode_tombstones(d: &mut Decoder<'_>) -> Result<Vec<Tombstone>, DecodeError> {
    let n = d.count(Field::TombstoneCount, MIN_TOMBSTONE_LEN, 0)?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let series_ref = d.u64(Field::SeriesRef)?;
        let k = d.count(Field::IntervalCount, MIN_INTERVAL_LEN, 0)?;
        let mut intervals = Vec::with_capacity(k);
        for _ in 0..k {
            let mint = d.varint(Field::Mint)?;
            let maxt = d.varint(Field::Maxt)?;
            intervals.push(Interval { mint, maxt });
        }
        out.push(Tombstone {
            series_ref,
            intervals,
        });
    }
    Ok(out)
}
