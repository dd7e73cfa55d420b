//! What can be wrong with a record's bytes, and where.

use std::fmt;

use super::RecordType;

/// A record that cannot be decoded.
///
/// Carries what is wrong ([`DecodeErrorKind`]) and the byte offset, from the start of the
/// bytes given to the decoder (the whole WAL record), of the field where it was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError {
    kind: DecodeErrorKind,
    offset: usize,
}

/// The ways a record's bytes can be wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The first byte is not the tag of a record type this version knows.
    UnknownType {
        /// The tag found.
        tag: u8,
    },
    /// The bytes end inside a field. The offset is the field's first byte.
    Truncated {
        /// The field that runs past the end.
        field: Field,
        /// Bytes the field needs; for a varint, one more than were left (at least).
        needed: u64,
        /// Bytes that were left from the field's start.
        available: usize,
    },
    /// A varint is longer than 10 bytes or its value needs more than 64 bits.
    VarintOverflow {
        /// The varint field.
        field: Field,
    },
    /// A count promises more items than the bytes after it can hold, even at the smallest
    /// size of each. Found before anything is allocated for the items.
    CountTooLarge {
        /// The count field.
        field: Field,
        /// The count as stored.
        count: u64,
        /// The fewest bytes that many items take.
        needed: u64,
        /// The bytes left after the count.
        available: usize,
    },
    /// A label name or value is not UTF-8. The offset is the first byte that is not.
    InvalidUtf8 {
        /// [`Field::LabelName`] or [`Field::LabelValue`].
        field: Field,
    },
    /// A label name sorts before the one that precedes it. The offset is the name's first
    /// byte.
    LabelsNotSorted {
        /// The name out of place.
        name: String,
        /// The name before it.
        previous: String,
    },
    /// A label name repeats the one before it. The offset is the repeat's first byte.
    DuplicateLabel {
        /// The repeated name.
        name: String,
    },
    /// Bytes follow the one record that [`Record::decode`](super::Record::decode) expects.
    /// The offset is the first of them.
    TrailingBytes {
        /// How many bytes follow.
        len: usize,
    },
}

/// The field of a record that a [`DecodeError`] is about; its `Display` is the name that
/// `RECORD_FORMAT.md` gives the field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Field {
    /// The 1-byte tag that starts every record.
    RecordType,
    /// The number of entries of a series record.
    SeriesCount,
    /// The number of entries of a samples record.
    SampleCount,
    /// The number of entries of an exemplars record.
    ExemplarCount,
    /// The number of entries of a tombstones record.
    TombstoneCount,
    /// The fixed 8-byte series ref of a series or tombstone entry.
    SeriesRef,
    /// The series ref of the first sample or exemplar, from which the others are deltas.
    BaseRef,
    /// The timestamp of the first sample or exemplar, from which the others are deltas.
    BaseTimestamp,
    /// A sample's or exemplar's series ref minus the base ref.
    RefDelta,
    /// A sample's or exemplar's timestamp minus the base timestamp.
    TimestampDelta,
    /// A sample's or exemplar's value: the 8 bytes of an IEEE 754 double.
    Value,
    /// The number of labels of a label set.
    LabelCount,
    /// The byte length of a label name.
    LabelNameLen,
    /// A label name's bytes.
    LabelName,
    /// The byte length of a label value.
    LabelValueLen,
    /// A label value's bytes.
    LabelValue,
    /// The number of intervals of a tombstone.
    IntervalCount,
    /// The first deleted timestamp of an interval.
    Mint,
    /// The last deleted timestamp of an interval.
    Maxt,
}

impl Field {
    /// The field's name, as `RECORD_FORMAT.md` spells it.
    pub const fn name(self) -> &'static str {
        match self {
            Field::RecordType => "record type",
            Field::SeriesCount => "series count",
            Field::SampleCount => "sample count",
            Field::ExemplarCount => "exemplar count",
            Field::TombstoneCount => "tombstone count",
            Field::SeriesRef => "series ref",
            Field::BaseRef => "base ref",
            Field::BaseTimestamp => "base timestamp",
            Field::RefDelta => "ref delta",
            Field::TimestampDelta => "timestamp delta",
            Field::Value => "value",
            Field::LabelCount => "label count",
            Field::LabelNameLen => "label name length",
            Field::LabelName => "label name",
            Field::LabelValueLen => "label value length",
            Field::LabelValue => "label value",
            Field::IntervalCount => "interval count",
            Field::Mint => "mint",
            Field::Maxt => "maxt",
        }
    }

    /// Whether the field is a varint (signed or not) rather than a fixed width or a string.
    pub const fn is_varint(self) -> bool {
        !matches!(
            self,
            Field::RecordType
                | Field::SeriesRef
                | Field::BaseRef
                | Field::BaseTimestamp
                | Field::Value
                | Field::LabelName
                | Field::LabelValue
        )
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl DecodeError {
    pub(crate) fn new(kind: DecodeErrorKind, offset: usize) -> Self {
        DecodeError { kind, offset }
    }

    /// What is wrong.
    pub fn kind(&self) -> &DecodeErrorKind {
        &self.kind
    }

    /// Byte offset, from the start of the decoded bytes, of the field that is wrong (for
    /// [`DecodeErrorKind::InvalidUtf8`], of the first byte that is not UTF-8).
    pub fn offset(&self) -> usize {
        self.offset
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = self.offset;
        match &self.kind {
            DecodeErrorKind::UnknownType { tag } => {
                write!(
                    f,
                    "unknown record type {tag} at byte {at}; known types are "
                )?;
                for (i, t) in RecordType::ALL.iter().enumerate() {
                    let sep = if i == 0 { "" } else { ", " };
                    write!(f, "{sep}{} ({})", t.tag(), t.name())?;
                }
                Ok(())
            }
            DecodeErrorKind::Truncated {
                field,
                needed,
                available,
            } => {
                write!(f, "record truncated at byte {at}: expected ")?;
                if field.is_varint() {
                    write!(f, "{field} (a varint), found ")?;
                    match available {
                        0 => f.write_str("the end"),
                        n => write!(f, "{n} bytes, every one with its continuation bit set"),
                    }
                } else {
                    write!(f, "{field} of {}, found {available}", Bytes(*needed))
                }
            }
            DecodeErrorKind::VarintOverflow { field } => write!(
                f,
                "varint overflow at byte {at}: {field} runs past 10 bytes or 64 bits"
            ),
            DecodeErrorKind::CountTooLarge {
                field,
                count,
                needed,
                available,
            } => write!(
                f,
                "{field} {count} at byte {at} is more than the record holds: expected at least \
                 {needed} bytes after it, found {available}"
            ),
            DecodeErrorKind::InvalidUtf8 { field } => {
                write!(f, "invalid UTF-8 at byte {at} in a {field}")
            }
            DecodeErrorKind::LabelsNotSorted { name, previous } => write!(
                f,
                "label names out of order at byte {at}: \"{}\" after \"{}\"; expected names \
                 sorted by their bytes",
                name.escape_debug(),
                previous.escape_debug()
            ),
            DecodeErrorKind::DuplicateLabel { name } => write!(
                f,
                "duplicate label name \"{}\" at byte {at}",
                name.escape_debug()
            ),
            DecodeErrorKind::TrailingBytes { len } => write!(
                f,
                "unexpected {} after the record at byte {at}; expected exactly one record \
                 (Record::decode_all reads several)",
                Bytes(*len as u64)
            ),
        }
    }
}

impl std::error::Error for DecodeError {}

/// `1 byte`, `2 bytes`.
struct Bytes(u64);

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            1 => f.write_str("1 byte"),
            n => write!(f, "{n} bytes"),
        }
    }
}
