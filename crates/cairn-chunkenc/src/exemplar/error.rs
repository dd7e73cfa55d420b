//! What can be wrong with an exemplar to append, or with an exemplar chunk's bytes.

use std::fmt;

use super::{MAX_LABEL_BYTES, MAX_LABELS};

/// Why [`ExemplarAppender::append`](super::ExemplarAppender::append) refused an exemplar.
/// The chunk is unchanged.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AppendError {
    /// The timestamp is before the last exemplar's: a chunk is ordered by time.
    OutOfOrder {
        /// The refused timestamp.
        t: i64,
        /// The last exemplar's timestamp.
        last: i64,
    },
    /// The chunk already holds 65 535 exemplars, the most its header can count.
    /// [`is_full`](super::ExemplarAppender::is_full) turns true long before.
    Full,
    /// Label names are not strictly increasing (unsorted, or a name repeats).
    UnsortedLabels {
        /// Index of the first label whose name is not greater than the one before.
        index: usize,
    },
    /// More than [`MAX_LABELS`] labels.
    TooManyLabels {
        /// How many were given.
        labels: usize,
    },
    /// Names and values take more than [`MAX_LABEL_BYTES`] bytes together.
    LabelsTooLarge {
        /// Their total length in bytes.
        bytes: usize,
    },
}

impl fmt::Display for AppendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            AppendError::OutOfOrder { t, last } => write!(
                f,
                "exemplar out of order: timestamp {t} is before the chunk's last exemplar at {last}"
            ),
            AppendError::Full => f.write_str(
                "exemplar chunk full: it already holds 65535 exemplars, the most it can count",
            ),
            AppendError::UnsortedLabels { index } => write!(
                f,
                "exemplar labels not sorted: the name of label {index} is not greater than the \
                 one before it"
            ),
            AppendError::TooManyLabels { labels } => write!(
                f,
                "exemplar has {labels} labels, more than the {MAX_LABELS} a chunk can store"
            ),
            AppendError::LabelsTooLarge { bytes } => write!(
                f,
                "exemplar labels take {bytes} bytes, more than the {MAX_LABEL_BYTES} a chunk \
                 can store"
            ),
        }
    }
}

impl std::error::Error for AppendError {}

/// A truncated or corrupt exemplar chunk.
///
/// Carries what is wrong ([`ExemplarErrorKind`]) and the byte offset from the start of the
/// chunk (the first byte of its exemplar count) where it was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExemplarError {
    kind: ExemplarErrorKind,
    offset: usize,
}

/// The ways an exemplar chunk's bytes can be wrong.
///
/// Exemplar indices are 0-based.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExemplarErrorKind {
    /// The chunk is shorter than its 2-byte exemplar count.
    MissingHeader {
        /// The chunk's length in bytes.
        len: usize,
    },
    /// The chunk ends inside an exemplar: its count promises more than its bytes hold (or a
    /// string's length field points past the end).
    Truncated {
        /// Index of the exemplar that runs past the end.
        exemplar: u16,
        /// The exemplar count from the chunk's header.
        exemplars: u16,
    },
    /// A varint (the first timestamp, a label count or a string tag) does not fit 64 bits.
    VarintOverflow {
        /// Index of the exemplar being decoded.
        exemplar: u16,
    },
    /// A value's XOR window claims more than 64 bits.
    BadXorWindow {
        /// Index of the exemplar whose value header is wrong.
        exemplar: u16,
        /// The 5-bit leading-zero count as stored.
        leading: u8,
        /// The significant-bit count after decoding (a stored 0 means 64).
        significant: u8,
    },
    /// A timestamp delta goes backwards or past `i64::MAX`: a chunk is ordered by time.
    TimestampOutOfOrder {
        /// Index of the exemplar whose timestamp is wrong.
        exemplar: u16,
    },
    /// The first exemplar says "the previous exemplar's label set".
    NoPreviousLabelSet,
    /// A label-set reference names a set the chunk has not defined.
    BadLabelSetIndex {
        /// Index of the exemplar.
        exemplar: u16,
        /// The index as stored.
        index: u64,
        /// How many sets the chunk had defined by then.
        sets: usize,
    },
    /// A label set has more than [`MAX_LABELS`] labels.
    TooManyLabels {
        /// Index of the exemplar that defines the set.
        exemplar: u16,
        /// The count as stored.
        labels: u64,
    },
    /// A string tag has an unknown kind, or is an ID slot where no slot can be.
    BadStringTag {
        /// Index of the exemplar.
        exemplar: u16,
        /// The tag as stored.
        tag: u64,
    },
    /// A string is longer than [`MAX_LABEL_BYTES`].
    StringTooLong {
        /// Index of the exemplar.
        exemplar: u16,
        /// The length as stored.
        len: u64,
    },
    /// A string reference names a string the chunk has not stored.
    BadStringIndex {
        /// Index of the exemplar.
        exemplar: u16,
        /// The index as stored.
        index: u64,
        /// How many strings the chunk had stored by then.
        strings: usize,
    },
    /// A string is not UTF-8.
    InvalidUtf8 {
        /// Index of the exemplar.
        exemplar: u16,
    },
    /// A label set's names are not strictly increasing.
    UnsortedLabels {
        /// Index of the exemplar that defines the set.
        exemplar: u16,
        /// Index of the first label out of order within the set.
        label: usize,
    },
    /// An ID slot on a label other than `trace_id` or `span_id`.
    MisplacedIdSlot {
        /// Index of the exemplar that defines the set.
        exemplar: u16,
        /// Index of the label within the set.
        label: usize,
    },
    /// An exemplar's names and values take more than [`MAX_LABEL_BYTES`] bytes.
    LabelsTooLarge {
        /// Index of the exemplar.
        exemplar: u16,
        /// Their total length in bytes.
        bytes: usize,
    },
    /// Bytes follow the last exemplar's padding. Readers ignore them, but appending after
    /// them would corrupt the chunk, so
    /// [`ExemplarAppender::resume`](super::ExemplarAppender::resume) refuses.
    TrailingBytes {
        /// The chunk's length in bytes.
        len: usize,
    },
}

impl ExemplarError {
    pub(crate) fn new(kind: ExemplarErrorKind, offset: usize) -> Self {
        ExemplarError { kind, offset }
    }

    /// What is wrong.
    pub fn kind(&self) -> &ExemplarErrorKind {
        &self.kind
    }

    /// Byte offset from the start of the chunk (its exemplar count) where the problem was
    /// found: the first byte of the bad field. For [`ExemplarErrorKind::MissingHeader`] and
    /// [`ExemplarErrorKind::Truncated`] it is the chunk's length: the first byte that was
    /// needed and missing.
    pub fn offset(&self) -> usize {
        self.offset
    }
}

impl fmt::Display for ExemplarError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use ExemplarErrorKind as K;
        let offset = self.offset;
        if let K::MissingHeader { len } = self.kind {
            return write!(
                f,
                "exemplar chunk truncated at byte offset {offset}: expected a 2-byte exemplar \
                 count, found {len} byte(s)"
            );
        }
        if let K::Truncated {
            exemplar,
            exemplars,
        } = self.kind
        {
            return write!(
                f,
                "exemplar chunk truncated at byte offset {offset}: exemplar {exemplar} of the \
                 {exemplars} the header promises runs past the end"
            );
        }
        if let K::TrailingBytes { len } = self.kind {
            return write!(
                f,
                "exemplar chunk has {} byte(s) after its last exemplar, from byte offset \
                 {offset}; expected the chunk to end there",
                len.saturating_sub(offset)
            );
        }
        write!(f, "exemplar chunk corrupt at byte offset {offset}: ")?;
        match self.kind {
            K::MissingHeader { .. } | K::Truncated { .. } | K::TrailingBytes { .. } => Ok(()),
            K::VarintOverflow { exemplar } => {
                write!(f, "a varint of exemplar {exemplar} does not fit in 64 bits")
            }
            K::BadXorWindow {
                exemplar,
                leading,
                significant,
            } => write!(
                f,
                "the value of exemplar {exemplar} has {leading} leading zero bits and \
                 {significant} significant bits, more than 64"
            ),
            K::TimestampOutOfOrder { exemplar } => write!(
                f,
                "the timestamp of exemplar {exemplar} is before the previous one or past the \
                 largest i64"
            ),
            K::NoPreviousLabelSet => f.write_str(
                "exemplar 0 refers to the previous exemplar's label set; expected a new set",
            ),
            K::BadLabelSetIndex {
                exemplar,
                index,
                sets,
            } => write!(
                f,
                "exemplar {exemplar} refers to label set {index}; expected one of the {sets} \
                 defined before"
            ),
            K::TooManyLabels { exemplar, labels } => write!(
                f,
                "the label set of exemplar {exemplar} has {labels} labels; expected at most \
                 {MAX_LABELS}"
            ),
            K::BadStringTag { exemplar, tag } => write!(
                f,
                "exemplar {exemplar} has string tag {tag}; expected a literal (kind 0), a \
                 reference (kind 1) or, as a trace_id or span_id value, the ID slot 2"
            ),
            K::StringTooLong { exemplar, len } => write!(
                f,
                "exemplar {exemplar} has a string of {len} bytes; expected at most \
                 {MAX_LABEL_BYTES}"
            ),
            K::BadStringIndex {
                exemplar,
                index,
                strings,
            } => write!(
                f,
                "exemplar {exemplar} refers to string {index}; expected one of the {strings} \
                 stored before"
            ),
            K::InvalidUtf8 { exemplar } => {
                write!(f, "exemplar {exemplar} has a string that is not UTF-8")
            }
            K::UnsortedLabels { exemplar, label } => write!(
                f,
                "in the label set of exemplar {exemplar}, the name of label {label} is not \
                 greater than the one before it"
            ),
            K::MisplacedIdSlot { exemplar, label } => write!(
                f,
                "in the label set of exemplar {exemplar}, label {label} has an ID slot; \
                 expected one only on trace_id or span_id"
            ),
            K::LabelsTooLarge { exemplar, bytes } => write!(
                f,
                "the labels of exemplar {exemplar} take {bytes} bytes; expected at most \
                 {MAX_LABEL_BYTES}"
            ),
        }
    }
}

impl std::error::Error for ExemplarError {}
