//! What can be wrong with a chunk's bytes, and where.

use std::fmt;

/// A truncated or corrupt XOR chunk.
///
/// Carries what is wrong ([`ErrorKind`]) and the byte offset from the start of the chunk (the
/// first byte of its sample count) where it was found, so a caller that knows the file and
/// the chunk's position can point at the exact byte.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    offset: usize,
}

/// The ways a chunk's bytes can be wrong.
///
/// Sample indices are 0-based: sample 0 is the one stored in full.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The chunk is shorter than its 2-byte sample count.
    MissingHeader {
        /// The chunk's length in bytes.
        len: usize,
    },
    /// The chunk ends inside a sample: its sample count promises more than its bytes hold.
    Truncated {
        /// Index of the sample that runs past the end.
        sample: u16,
        /// The sample count from the chunk's header.
        samples: u16,
    },
    /// A varint timestamp (sample 0) or uvarint delta (sample 1) is longer than 10 bytes or
    /// does not fit in 64 bits.
    VarintOverflow {
        /// Index of the sample whose timestamp field overflows.
        sample: u16,
    },
    /// A value's XOR window claims more than 64 bits: leading zeros plus significant bits.
    BadXorWindow {
        /// Index of the sample whose value header is wrong.
        sample: u16,
        /// The 5-bit leading-zero count as stored.
        leading: u8,
        /// The significant-bit count after decoding (a stored 0 means 64).
        significant: u8,
    },
    /// Bytes follow the last sample's padding. Readers ignore them, but appending after them
    /// would corrupt the chunk, so [`XorAppender::resume`](crate::XorAppender::resume)
    /// refuses.
    TrailingBytes {
        /// The chunk's length in bytes.
        len: usize,
    },
}

impl Error {
    pub(crate) fn new(kind: ErrorKind, offset: usize) -> Self {
        Error { kind, offset }
    }

    /// What is wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// Byte offset from the start of the chunk (its sample-count field) where the problem
    /// was found. For [`ErrorKind::MissingHeader`] and [`ErrorKind::Truncated`] this is the
    /// chunk's length: the first byte that was needed and missing.
    pub fn offset(&self) -> usize {
        self.offset
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let offset = self.offset;
        match self.kind {
            ErrorKind::MissingHeader { len } => write!(
                f,
                "XOR chunk truncated at byte offset {offset}: expected a 2-byte sample count, \
                 found {len} byte(s)"
            ),
            ErrorKind::Truncated { sample, samples } => write!(
                f,
                "XOR chunk truncated at byte offset {offset}: sample {sample} of the {samples} \
                 the header promises runs past the end"
            ),
            ErrorKind::VarintOverflow { sample } => write!(
                f,
                "XOR chunk corrupt at byte offset {offset}: the timestamp varint of sample \
                 {sample} does not fit in 64 bits"
            ),
            ErrorKind::BadXorWindow {
                sample,
                leading,
                significant,
            } => write!(
                f,
                "XOR chunk corrupt at byte offset {offset}: the value of sample {sample} has \
                 {leading} leading zero bits and {significant} significant bits, more than 64"
            ),
            ErrorKind::TrailingBytes { len } => write!(
                f,
                "XOR chunk has {} byte(s) after its last sample, from byte offset {offset}; \
                 expected the chunk to end there",
                len.saturating_sub(offset)
            ),
        }
    }
}

impl std::error::Error for Error {}
