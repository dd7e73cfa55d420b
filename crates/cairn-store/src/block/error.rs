//! What can go wrong writing, opening or reading a block, and where.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use cairn_chunkenc::exemplar::ExemplarError;

/// An error of a block: the file it is about, the byte offset in that file when there is one,
/// and what is wrong.
///
/// Its `Display` reads `PATH: at byte OFFSET: WHAT`, for example
/// `blocks/01H…/chunks/000001: at byte 4242: chunk checksum mismatch (stored 0x…, computed
/// 0x…)`.
#[derive(Debug)]
pub struct Error {
    path: PathBuf,
    offset: Option<u64>,
    kind: ErrorKind,
}

/// What is wrong.
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A file system operation failed.
    Io {
        /// What was being done, for example `"sync"`.
        op: &'static str,
        /// The error from the OS.
        source: io::Error,
    },
    /// `meta.json` does not parse as a block's metadata.
    Json {
        /// `serde_json`'s description, with line and column.
        message: String,
    },
    /// A file does not start with its magic.
    BadMagic {
        /// The magic the file should start with.
        expected: [u8; 4],
        /// The bytes found.
        found: [u8; 4],
    },
    /// An intact file (or `meta.json`) of a version, or with flags, this build does not read.
    Unsupported {
        /// The field: `"version"` or `"flags"`.
        field: &'static str,
        /// The value found.
        found: u64,
    },
    /// A CRC32C stored in a file does not match the bytes it covers.
    Checksum {
        /// What the checksum covers: `"chunk"`, `"header"`, `"entries"`…
        what: &'static str,
        /// The checksum stored.
        stored: u32,
        /// The checksum of the bytes as they are.
        computed: u32,
    },
    /// A file's size differs from the one `meta.json` records.
    SizeMismatch {
        /// The size in `meta.json`.
        recorded: u64,
        /// The file's size.
        actual: u64,
    },
    /// A file's CRC32C differs from the one `meta.json` records.
    MetaChecksum {
        /// The CRC32C in `meta.json`.
        recorded: u32,
        /// The CRC32C of the file.
        computed: u32,
    },
    /// A count in `meta.json`'s stats differs from what the block holds.
    Stats {
        /// The field, for example `"numSamples"`.
        field: &'static str,
        /// The value in `meta.json`.
        recorded: u64,
        /// The value counted.
        actual: u64,
    },
    /// The file ends inside a field.
    Truncated {
        /// The field.
        what: &'static str,
    },
    /// A chunk's recorded length is more than
    /// [`MAX_CHUNK_LEN`](super::format::MAX_CHUNK_LEN).
    ChunkTooLarge {
        /// The length recorded.
        len: u64,
    },
    /// A chunk's encoding byte is not the one of its kind.
    WrongEncoding {
        /// The encoding of the kind read (XOR or exemplar).
        expected: u8,
        /// The byte found.
        found: u8,
    },
    /// A chunk reference points outside the block's segments.
    BadChunkRef {
        /// The reference.
        chunk_ref: u64,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A sample chunk's data does not decode.
    SampleChunk(cairn_chunkenc::Error),
    /// An exemplar chunk's data does not decode.
    ExemplarChunk(ExemplarError),
    /// A chunk holds a timestamp outside the range its chunk meta records.
    TimeOutOfRange {
        /// The timestamp.
        t: i64,
        /// The chunk's recorded `mint`.
        mint: i64,
        /// The chunk's recorded `maxt`.
        maxt: i64,
    },
    /// A chunk meta in the series file breaks a rule of the block (see `FORMAT.md`),
    /// although the file's checksums hold.
    BadChunkMeta {
        /// The series id.
        id: u32,
        /// `"sample"` or `"exemplar"`.
        chunk_kind: &'static str,
        /// The chunk's position in the series' list.
        index: usize,
        /// The rule broken.
        reason: &'static str,
    },
    /// The block index is damaged or cannot be written; the inner error has the section
    /// (and the offset, also in [`Error::offset`]).
    Index(cairn_index::Error),
    /// A field breaks the format's rules although its checksum holds (a writer bug or crafted
    /// input), or `meta.json` says something impossible.
    Malformed(&'static str),
    /// A series id at or past the block's series count.
    NoSuchSeries {
        /// The id asked for.
        id: u32,
        /// The block's series count.
        count: u32,
    },
    /// [`BlockWriter::create`](super::BlockWriter::create) was given `min_time >= max_time`.
    EmptyTimeRange {
        /// The start, inclusive.
        min_time: i64,
        /// The end, exclusive.
        max_time: i64,
    },
    /// [`BlockWriter::add_series`](super::BlockWriter::add_series) was given a label set
    /// that does not sort strictly after the previous series.
    OutOfOrder {
        /// The label set.
        series: String,
    },
    /// [`BlockWriter::add_series`](super::BlockWriter::add_series) was given a chunk that
    /// breaks a rule of the block (see `FORMAT.md`).
    InvalidChunk {
        /// The series' label set.
        series: String,
        /// `"sample"` or `"exemplar"`.
        chunk_kind: &'static str,
        /// The chunk's position in the list given.
        index: usize,
        /// The rule broken.
        reason: &'static str,
    },
    /// The block would exceed a limit of the format.
    TooLarge(&'static str),
    /// An earlier write of this block failed, so its files are incomplete; abort it.
    Poisoned {
        /// The first failure, as it was displayed.
        cause: String,
    },
}

impl Error {
    /// An error about the file at `path`, at byte `offset` when there is one.
    pub(crate) fn new(path: &Path, offset: Option<u64>, kind: ErrorKind) -> Error {
        Error {
            path: path.to_path_buf(),
            offset,
            kind,
        }
    }

    /// An error at byte `offset` of the file at `path`.
    pub(crate) fn at(path: &Path, offset: u64, kind: ErrorKind) -> Error {
        Error::new(path, Some(offset), kind)
    }

    /// An error about the file at `path` as a whole.
    pub(crate) fn file(path: &Path, kind: ErrorKind) -> Error {
        Error::new(path, None, kind)
    }

    /// A failed file system operation on `path`.
    pub(crate) fn io(path: &Path, op: &'static str, source: io::Error) -> Error {
        Error::file(path, ErrorKind::Io { op, source })
    }

    /// The file (or directory) the error is about.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Byte offset in [`path`](Error::path) of the damaged field, or of the start of the
    /// region whose checksum failed; `None` when the error is about no particular byte.
    pub fn offset(&self) -> Option<u64> {
        self.offset
    }

    /// What is wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// Whether the error says the bytes on disk are damaged, rather than an I/O failure, a
    /// newer format or a misuse of the API.
    pub fn is_corruption(&self) -> bool {
        match &self.kind {
            ErrorKind::Json { .. }
            | ErrorKind::BadMagic { .. }
            | ErrorKind::Checksum { .. }
            | ErrorKind::SizeMismatch { .. }
            | ErrorKind::MetaChecksum { .. }
            | ErrorKind::Stats { .. }
            | ErrorKind::Truncated { .. }
            | ErrorKind::ChunkTooLarge { .. }
            | ErrorKind::WrongEncoding { .. }
            | ErrorKind::BadChunkRef { .. }
            | ErrorKind::SampleChunk(_)
            | ErrorKind::ExemplarChunk(_)
            | ErrorKind::TimeOutOfRange { .. }
            | ErrorKind::BadChunkMeta { .. }
            | ErrorKind::Malformed(_) => true,
            ErrorKind::Index(e) => matches!(e, cairn_index::Error::Corrupt(_)),
            _ => false,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.path.display())?;
        // The index's own errors name their byte offset already.
        let said_by_kind = matches!(self.kind, ErrorKind::Index(_));
        if let Some(offset) = self.offset
            && !said_by_kind
        {
            write!(f, "at byte {offset}: ")?;
        }
        self.kind.fmt(f)
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Io { op, source } => write!(f, "{op}: {source}"),
            ErrorKind::Json { message } => write!(f, "invalid block metadata: {message}"),
            ErrorKind::BadMagic { expected, found } => write!(
                f,
                "bad magic: expected {}, found {}",
                hex(*expected),
                hex(*found)
            ),
            ErrorKind::Unsupported { field, found } => write!(
                f,
                "unsupported {field} {found}: this build reads version 1 with no flags"
            ),
            ErrorKind::Checksum {
                what,
                stored,
                computed,
            } => write!(
                f,
                "{what} checksum mismatch (stored {stored:#010x}, computed {computed:#010x})"
            ),
            ErrorKind::SizeMismatch { recorded, actual } => {
                write!(f, "file is {actual} bytes but meta.json records {recorded}")
            }
            ErrorKind::MetaChecksum { recorded, computed } => write!(
                f,
                "file's CRC32C is {computed:#010x} but meta.json records {recorded:#010x}"
            ),
            ErrorKind::Stats {
                field,
                recorded,
                actual,
            } => write!(
                f,
                "stats.{field} is {recorded} but the block holds {actual}"
            ),
            ErrorKind::Truncated { what } => write!(f, "the file ends inside {what}"),
            ErrorKind::ChunkTooLarge { len } => write!(
                f,
                "chunk of {len} bytes is longer than the {} bytes allowed",
                super::format::MAX_CHUNK_LEN
            ),
            ErrorKind::WrongEncoding { expected, found } => write!(
                f,
                "chunk encoding is {found:#04x}, expected {expected:#04x}"
            ),
            ErrorKind::BadChunkRef { chunk_ref, reason } => {
                write!(f, "chunk reference {chunk_ref:#018x} {reason}")
            }
            ErrorKind::SampleChunk(e) => write!(f, "sample chunk does not decode: {e}"),
            ErrorKind::ExemplarChunk(e) => write!(f, "exemplar chunk does not decode: {e}"),
            ErrorKind::TimeOutOfRange { t, mint, maxt } => write!(
                f,
                "chunk holds timestamp {t} outside its recorded range [{mint}, {maxt}]"
            ),
            ErrorKind::BadChunkMeta {
                id,
                chunk_kind,
                index,
                reason,
            } => write!(f, "series {id}: {chunk_kind} chunk {index}: {reason}"),
            ErrorKind::Index(e) => e.fmt(f),
            ErrorKind::Malformed(what) => f.write_str(what),
            ErrorKind::NoSuchSeries { id, count } => {
                write!(f, "no series {id}: the block has {count}")
            }
            ErrorKind::EmptyTimeRange { min_time, max_time } => {
                write!(f, "block time range [{min_time}, {max_time}) is empty")
            }
            ErrorKind::OutOfOrder { series } => write!(
                f,
                "series {series} does not sort after the previous series: \
                 add a block's series sorted and unique"
            ),
            ErrorKind::InvalidChunk {
                series,
                chunk_kind,
                index,
                reason,
            } => write!(f, "series {series}: {chunk_kind} chunk {index}: {reason}"),
            ErrorKind::TooLarge(what) => write!(f, "block too large: {what}"),
            ErrorKind::Poisoned { cause } => write!(
                f,
                "an earlier write of this block failed ({cause}); abort it"
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ErrorKind::Io { source, .. } => Some(source),
            ErrorKind::Index(e) => Some(e),
            ErrorKind::SampleChunk(e) => Some(e),
            ErrorKind::ExemplarChunk(e) => Some(e),
            _ => None,
        }
    }
}

/// A decoding failure at an offset, before the caller names the file.
#[derive(Debug)]
pub(crate) struct Fault {
    pub(crate) offset: u64,
    pub(crate) kind: ErrorKind,
}

impl Fault {
    pub(crate) fn new(offset: usize, kind: ErrorKind) -> Fault {
        Fault {
            offset: offset as u64,
            kind,
        }
    }

    /// The error in the file at `path`.
    pub(crate) fn in_file(self, path: &Path) -> Error {
        Error::at(path, self.offset, self.kind)
    }
}

fn hex(bytes: [u8; 4]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}
