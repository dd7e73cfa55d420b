use std::fmt;

use crate::format::Section;

/// What can go wrong writing or opening an index.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The bytes are not a cairn index, or are damaged.
    Corrupt(Corruption),
    /// An intact index of a version, or with flags, this crate does not read.
    Unsupported {
        /// The version byte found.
        version: u8,
        /// The flag bytes found.
        flags: [u8; 3],
    },
    /// [`IndexWriter::add`](crate::IndexWriter::add) was given a label set that does not sort
    /// after the previous one (series of a block are added sorted and unique).
    OutOfOrder {
        /// The id the series would have had.
        id: u32,
    },
    /// A section would exceed [`MAX_SECTION_LEN`](crate::format::MAX_SECTION_LEN) bytes, or
    /// the block more than `u32::MAX` series.
    TooLarge {
        /// The section that overflowed.
        section: Section,
    },
}

/// Where an index is damaged: the section, the byte offset from the start of the index, and
/// what is wrong there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Corruption {
    /// The section the damage is in.
    pub section: Section,
    /// Byte offset from the start of the index: the field that is wrong, or the start of the
    /// section whose checksum does not match.
    pub offset: u64,
    /// What is wrong.
    pub reason: CorruptionReason,
}

/// What is wrong at a [`Corruption`]'s offset.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CorruptionReason {
    /// The index ends before the header or the table of contents does.
    TooShort {
        /// Length of the whole index.
        len: u64,
    },
    /// The first four bytes are not [`MAGIC`](crate::format::MAGIC).
    BadMagic {
        /// The bytes found.
        found: [u8; 4],
    },
    /// The CRC32C stored for the part does not match its bytes.
    Checksum {
        /// The checksum stored in the index.
        stored: u32,
        /// The checksum of the bytes as they are.
        computed: u32,
    },
    /// The table of contents places a section elsewhere than right after the one before.
    SectionBounds {
        /// The offset recorded.
        offset: u64,
        /// The length recorded.
        len: u64,
    },
    /// A field that breaks the format's rules, although the checksum holds (a writer bug or
    /// crafted input).
    Malformed(&'static str),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Corrupt(c) => c.fmt(f),
            Error::Unsupported { version, flags } => write!(
                f,
                "unsupported index: version {version} with flags {:02x}{:02x}{:02x}, \
                 expected version {} with no flags",
                flags[0],
                flags[1],
                flags[2],
                crate::format::VERSION
            ),
            Error::OutOfOrder { id } => write!(
                f,
                "series {id} does not sort after the series before it: \
                 add a block's series sorted and unique"
            ),
            Error::TooLarge { section } => write!(
                f,
                "the {} section would exceed 4 GiB or 2^32 entries",
                section.name()
            ),
        }
    }
}

impl fmt::Display for Corruption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "corrupt index: {} at byte {}: ",
            self.section.name(),
            self.offset
        )?;
        match &self.reason {
            CorruptionReason::TooShort { len } => {
                write!(f, "the index is {len} bytes, too short to hold it")
            }
            CorruptionReason::BadMagic { found } => write!(
                f,
                "expected magic 43 49 44 58 (\"CIDX\"), found {:02x} {:02x} {:02x} {:02x}",
                found[0], found[1], found[2], found[3]
            ),
            CorruptionReason::Checksum { stored, computed } => write!(
                f,
                "CRC32C mismatch: stored {stored:#010x}, computed {computed:#010x}"
            ),
            CorruptionReason::SectionBounds { offset, len } => write!(
                f,
                "section recorded at byte {offset} with {len} bytes, \
                 expected it right after the previous one and within the file"
            ),
            CorruptionReason::Malformed(what) => f.write_str(what),
        }
    }
}

impl std::error::Error for Error {}

impl From<Corruption> for Error {
    fn from(c: Corruption) -> Error {
        Error::Corrupt(c)
    }
}
