//! What can go wrong, and for corruption, exactly where.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use crate::RecordPos;
use crate::format::{FragmentType, HEADER_LEN, MAGIC, MAX_RECORD_LEN};

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error of the write-ahead log.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A storage operation failed.
    Io {
        /// What was being done, for example `"sync segment"`.
        op: &'static str,
        /// The file or directory it was done to.
        path: PathBuf,
        /// The error from the storage.
        source: io::Error,
    },
    /// A segment's bytes are damaged or torn; [`Corruption`] says where.
    Corrupt(Corruption),
    /// A segment with an intact header of a format version (or flags) this crate does not
    /// know, written by a newer cairn. It is never repaired away.
    Unsupported {
        /// The segment file.
        path: PathBuf,
        /// Its segment number.
        segment: u32,
        /// The version byte it carries.
        version: u8,
        /// The reserved flag bytes it carries.
        flags: [u8; 3],
    },
    /// Segment numbers have a hole: `segment` is missing although segments before and after it
    /// exist. The log is not repaired past a hole automatically.
    MissingSegment {
        /// The WAL directory.
        dir: PathBuf,
        /// The first missing segment number.
        segment: u32,
    },
    /// A reader was asked to start in a segment that does not exist (any more).
    SegmentNotFound {
        /// The WAL directory.
        dir: PathBuf,
        /// The segment asked for.
        segment: u32,
    },
    /// A reader was asked to start at an offset outside its segment's records.
    BadPosition {
        /// The position asked for.
        pos: RecordPos,
        /// The segment's length in bytes.
        len: u64,
    },
    /// The record is longer than a segment of the configured size can hold.
    RecordTooLarge {
        /// The record's length in bytes.
        len: usize,
        /// The largest record the configured segment size holds.
        max: usize,
    },
    /// The segment size option is outside
    /// [`MIN_SEGMENT_SIZE`](crate::format::MIN_SEGMENT_SIZE)..=[`MAX_SEGMENT_SIZE`](crate::format::MAX_SEGMENT_SIZE).
    InvalidSegmentSize {
        /// The size asked for.
        size: u64,
    },
    /// Segment number `u32::MAX` is full: no further segment can be named.
    SegmentsExhausted,
    /// An earlier write or sync failed, so what the storage holds is unknown (after a failed
    /// fsync the kernel may have dropped the dirty pages and a retry could falsely succeed).
    /// Reopen the log to recover.
    Poisoned {
        /// The first failure, as it was displayed.
        cause: String,
    },
}

impl Error {
    pub(crate) fn io(op: &'static str, path: &Path, source: io::Error) -> Self {
        Error::Io {
            op,
            path: path.to_path_buf(),
            source,
        }
    }

    /// The corruption, if this is one.
    pub fn corruption(&self) -> Option<&Corruption> {
        match self {
            Error::Corrupt(c) => Some(c),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { op, path, source } => {
                write!(f, "WAL I/O error: {op} {}: {source}", path.display())
            }
            Error::Corrupt(c) => c.fmt(f),
            Error::Unsupported {
                path,
                segment,
                version,
                flags,
            } => write!(
                f,
                "{}: WAL segment {segment} has format version {version} with flags \
                 {:02x} {:02x} {:02x}; this build reads version {} with no flags",
                path.display(),
                flags[0],
                flags[1],
                flags[2],
                crate::format::VERSION
            ),
            Error::MissingSegment { dir, segment } => write!(
                f,
                "{}: WAL segment {segment} is missing between existing segments",
                dir.display()
            ),
            Error::SegmentNotFound { dir, segment } => {
                write!(f, "{}: no WAL segment {segment}", dir.display())
            }
            Error::BadPosition { pos, len } => write!(
                f,
                "WAL position {pos} is outside its segment's records (bytes {HEADER_LEN}..={len})"
            ),
            Error::RecordTooLarge { len, max } => write!(
                f,
                "WAL record of {len} bytes is longer than the {max} bytes a segment can hold"
            ),
            Error::InvalidSegmentSize { size } => write!(
                f,
                "WAL segment size {size} is outside {}..={}",
                crate::format::MIN_SEGMENT_SIZE,
                crate::format::MAX_SEGMENT_SIZE
            ),
            Error::SegmentsExhausted => {
                write!(
                    f,
                    "WAL segment number {} is full; no next segment",
                    u32::MAX
                )
            }
            Error::Poisoned { cause } => write!(
                f,
                "WAL is unusable after an earlier failure ({cause}); reopen it to recover"
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Where a segment is damaged and why: enough to truncate it there.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Corruption {
    /// The segment file.
    pub path: PathBuf,
    /// Its segment number.
    pub segment: u32,
    /// Byte offset in the file of the damaged field (or, for a torn tail, of the first byte
    /// that is missing).
    pub offset: u64,
    /// Byte offset where the record holding the damage starts: every record before it is
    /// whole, so repair truncates the file here. 0 when the header is damaged.
    pub record_start: u64,
    /// What is wrong.
    pub reason: CorruptionReason,
}

impl Corruption {
    /// Whether this is what an interrupted write leaves (the file ends early) rather than
    /// damaged bytes.
    pub fn is_torn(&self) -> bool {
        matches!(
            self.reason,
            CorruptionReason::TruncatedHeader { .. }
                | CorruptionReason::TruncatedFragment { .. }
                | CorruptionReason::IncompleteRecord
        )
    }
}

impl fmt::Display for Corruption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: WAL segment {} is corrupt at byte {}: {}; whole records end at byte {}",
            self.path.display(),
            self.segment,
            self.offset,
            self.reason,
            self.record_start
        )
    }
}

/// The ways a segment's bytes can be wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CorruptionReason {
    /// The file is shorter than the segment header.
    TruncatedHeader {
        /// The file's length in bytes.
        len: u64,
    },
    /// The file does not start with [`MAGIC`].
    BadMagic {
        /// The four bytes found instead.
        found: [u8; 4],
    },
    /// The header's CRC32C does not match its bytes.
    HeaderChecksum {
        /// The checksum stored in the header.
        stored: u32,
        /// The checksum of the bytes as read.
        computed: u32,
    },
    /// The header names another segment than the file name does.
    SegmentMismatch {
        /// The segment number in the header.
        found: u32,
    },
    /// The file ends inside a fragment.
    TruncatedFragment {
        /// Bytes the fragment needs, its header included.
        needed: u64,
        /// Bytes left in the file from the fragment's start.
        available: u64,
    },
    /// The fragment type byte is not one of 1 to 4.
    BadFragmentType {
        /// The byte found.
        found: u8,
    },
    /// The fragment's CRC32C does not match its type, length and payload.
    FragmentChecksum {
        /// The checksum stored in the fragment header.
        stored: u32,
        /// The checksum of the bytes as read.
        computed: u32,
    },
    /// A fragment out of sequence: a middle or last one at a record boundary, or a full or
    /// first one inside a record.
    UnexpectedFragment {
        /// The fragment's type.
        found: FragmentType,
        /// Whether a record was being assembled.
        in_record: bool,
    },
    /// The segment ends after a first or middle fragment: the record's last one is missing.
    IncompleteRecord,
    /// A record's fragments add up to more than [`MAX_RECORD_LEN`] bytes.
    RecordTooLarge {
        /// The record's length with the fragment that went over.
        len: u64,
    },
}

impl fmt::Display for CorruptionReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            CorruptionReason::TruncatedHeader { len } => write!(
                f,
                "expected a {HEADER_LEN}-byte segment header, found a file of {len} bytes"
            ),
            CorruptionReason::BadMagic { found } => write!(
                f,
                "expected magic {:02x} {:02x} {:02x} {:02x} (\"CWAL\"), found {:02x} {:02x} {:02x} {:02x}",
                MAGIC[0], MAGIC[1], MAGIC[2], MAGIC[3], found[0], found[1], found[2], found[3]
            ),
            CorruptionReason::HeaderChecksum { stored, computed } => write!(
                f,
                "header checksum mismatch: stored CRC32C {stored:#010x}, computed {computed:#010x}"
            ),
            CorruptionReason::SegmentMismatch { found } => write!(
                f,
                "the header names segment {found}, not the one of its file name"
            ),
            CorruptionReason::TruncatedFragment { needed, available } => write!(
                f,
                "the file ends inside a fragment: expected {needed} bytes, found {available} (torn write)"
            ),
            CorruptionReason::BadFragmentType { found } => write!(
                f,
                "expected a fragment type 1 to 4 (full, first, middle, last), found {found}"
            ),
            CorruptionReason::FragmentChecksum { stored, computed } => write!(
                f,
                "fragment checksum mismatch: stored CRC32C {stored:#010x}, computed {computed:#010x}"
            ),
            CorruptionReason::UnexpectedFragment { found, in_record } => {
                if in_record {
                    write!(
                        f,
                        "expected a middle or last fragment inside a record, found a {} fragment",
                        found.name()
                    )
                } else {
                    write!(
                        f,
                        "expected a full or first fragment at a record boundary, found a {} fragment",
                        found.name()
                    )
                }
            }
            CorruptionReason::IncompleteRecord => write!(
                f,
                "expected the record's last fragment, found the end of the segment (torn write)"
            ),
            CorruptionReason::RecordTooLarge { len } => write!(
                f,
                "expected records of at most {MAX_RECORD_LEN} bytes, found one of at least {len}"
            ),
        }
    }
}
