//! Head chunk files: full chunks of the head, on disk and read back through read-only maps.
//!
//! The head keeps one open sample chunk and one open exemplar chunk per series in memory.
//! When one is full the head [`write`](HeadChunks::write)s it here and from then on reads it
//! with [`chunk`](HeadChunks::chunk), which borrows it from a read-only memory map
//! ([`crate::mmap::Map`]): full chunks cost no heap.
//!
//! The files are a cache, not the record of truth: the write-ahead log holds every sample
//! too. So writes are buffered and not synced one by one; a crash may tear the newest file,
//! and [`open`](HeadChunks::open) cuts it back to its last whole chunk (reporting file and
//! byte offset in [`Recovery::corruption`]) for WAL replay to refill. [`sync`](HeadChunks::sync)
//! makes everything durable before the head truncates the WAL on the strength of it.
//!
//! The layout is drawn byte by byte in `HEAD_CHUNKS_FORMAT.md` beside this file: files
//! `000001`, `000002`, … each with an 8-byte header, then chunks back to back, each with its
//! series ref, time range, encoding, data and a CRC32C. A [`HeadChunkRef`] is the file
//! number and the chunk's byte offset in it.
//!
//! ```
//! use cairn_chunkenc::ENCODING_XOR;
//! use cairn_store::head_chunks::{HeadChunks, Options};
//!
//! let tmp = tempfile::tempdir()?;
//! let dir = tmp.path().join("chunks_head");
//! let (mut chunks, recovery) = HeadChunks::open(&dir, Options::default())?;
//! assert!(recovery.chunks.is_empty());
//!
//! let r = chunks.write(7, 1_000, 2_000, ENCODING_XOR, b"chunk bytes")?;
//! assert_eq!((r.file(), r.offset()), (1, 8));
//! assert_eq!(&*chunks.chunk(r)?, b"chunk bytes");
//! chunks.close()?;
//!
//! let (chunks, recovery) = HeadChunks::open(&dir, Options::default())?;
//! assert_eq!(recovery.chunks[0].chunk_ref, r);
//! assert_eq!(chunks.chunk(r)?.maxt(), 2_000);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use cairn_chunkenc::ENCODING_XOR;
use cairn_chunkenc::exemplar::ENCODING_EXEMPLAR;

use crate::mmap::Map;

// The layout. All integers are big-endian.

/// The four bytes every head chunk file starts with.
pub const MAGIC: [u8; 4] = *b"CHCK";
/// The file format version this module writes and reads.
pub const VERSION: u8 = 1;

/// Byte offset of the magic in the file header.
pub const MAGIC_OFFSET: usize = 0;
/// Byte offset of the format version (`u8`).
pub const VERSION_OFFSET: usize = MAGIC_OFFSET + MAGIC.len();
/// Byte offset of the three padding bytes, zero in version 1.
pub const PADDING_OFFSET: usize = VERSION_OFFSET + 1;
/// Size of the file header; the first chunk starts here.
pub const HEADER_LEN: usize = PADDING_OFFSET + 3;

/// Byte offset of the series ref (`u64`) in a chunk.
pub const SERIES_REF_OFFSET: usize = 0;
/// Byte offset of the chunk's first timestamp (`i64`).
pub const MINT_OFFSET: usize = SERIES_REF_OFFSET + 8;
/// Byte offset of the chunk's last timestamp (`i64`).
pub const MAXT_OFFSET: usize = MINT_OFFSET + 8;
/// Byte offset of the encoding byte.
pub const ENCODING_OFFSET: usize = MAXT_OFFSET + 8;
/// Byte offset of the uvarint data length; the data follows it.
pub const DATA_LEN_OFFSET: usize = ENCODING_OFFSET + 1;
/// The most bytes the data length takes: a uvarint of at most [`MAX_CHUNK_LEN`].
pub const MAX_DATA_LEN_LEN: usize = 3;
/// Size of the CRC32C (`u32`) that ends a chunk.
pub const CRC_LEN: usize = 4;

/// The largest chunk data accepted, by writers and readers alike: 1 MiB. Real chunks are far
/// smaller (an XOR chunk is cut at 1 KiB); the bound keeps a damaged length from claiming
/// gigabytes, and fits the length's uvarint in [`MAX_DATA_LEN_LEN`] bytes.
pub const MAX_CHUNK_LEN: usize = 1 << 20;
const _: () = assert!(MAX_CHUNK_LEN < 1 << (7 * MAX_DATA_LEN_LEN));

/// Smallest [`Options::max_file_size`] accepted.
pub const MIN_FILE_SIZE: u64 = 64;
/// Largest [`Options::max_file_size`] accepted: 4 GiB, the most a ref's 32-bit offset
/// addresses.
pub const MAX_FILE_SIZE: u64 = 1 << 32;
/// [`Options::max_file_size`] unless set: 128 MiB, as Prometheus.
pub const DEFAULT_FILE_SIZE: u64 = 128 << 20;

/// Bytes a chunk with `data_len` bytes of data takes in a file, header and CRC included.
pub const fn encoded_len(data_len: usize) -> usize {
    DATA_LEN_OFFSET + uvarint_len(data_len as u64) + data_len + CRC_LEN
}

/// Appended chunks are handed to the OS once this many bytes are buffered.
const WRITE_BUFFER_LEN: usize = 256 * 1024;

/// Whether `encoding` is one a chunk may carry: [`ENCODING_XOR`] or [`ENCODING_EXEMPLAR`].
pub const fn is_known_encoding(encoding: u8) -> bool {
    matches!(encoding, ENCODING_XOR | ENCODING_EXEMPLAR)
}

/// The file name of file `seq`: its number in decimal, zero-padded to 6 digits.
pub fn file_name(seq: u32) -> String {
    format!("{seq:06}")
}

/// The file number a name stands for; `None` for any other file, including `000000` and
/// other spellings of a number (`1`, `0000001`), which are left alone.
fn parse_file_name(name: &str) -> Option<u32> {
    if !name.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let seq: u32 = name.parse().ok()?;
    (seq != 0 && file_name(seq) == name).then_some(seq)
}

/// Where a chunk is: its file number in the high 32 bits, the byte offset of its start in
/// that file in the low 32 bits. Refs order by file, then offset, which is write order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HeadChunkRef(pub u64);

impl HeadChunkRef {
    /// The ref of the chunk starting at byte `offset` of file `file`.
    pub const fn new(file: u32, offset: u32) -> HeadChunkRef {
        HeadChunkRef(((file as u64) << 32) | offset as u64)
    }

    /// The file number.
    pub const fn file(self) -> u32 {
        (self.0 >> 32) as u32
    }

    /// The byte offset of the chunk's start in its file.
    pub const fn offset(self) -> u32 {
        self.0 as u32
    }
}

impl fmt::Display for HeadChunkRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "file {}, byte {}", self.file(), self.offset())
    }
}

/// How to open head chunk files. Build it from the default:
///
/// ```
/// use cairn_store::head_chunks::Options;
///
/// let options = Options::default().max_file_size(32 << 20);
/// assert_eq!(options.max_file_bytes(), 32 << 20);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    max_file_size: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_file_size: DEFAULT_FILE_SIZE,
        }
    }
}

impl Options {
    /// The size past which no chunk is added to a file, header included: 128 MiB by default,
    /// between [`MIN_FILE_SIZE`] and [`MAX_FILE_SIZE`] ([`HeadChunks::open`] checks). A chunk
    /// larger than that on its own still goes whole into a new file.
    #[must_use]
    pub fn max_file_size(mut self, bytes: u64) -> Self {
        self.max_file_size = bytes;
        self
    }

    /// The maximum file size set.
    pub fn max_file_bytes(&self) -> u64 {
        self.max_file_size
    }
}

/// An error of the head chunk files: each says where (directory or file, and the byte
/// offset when one applies) and what.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A file system operation failed.
    Io {
        /// What was being done, for example `"sync head chunk file"`.
        op: &'static str,
        /// The file or directory it was done to.
        path: PathBuf,
        /// The error from the OS.
        source: io::Error,
    },
    /// A file whose magic is intact but whose version or padding bytes are not those of
    /// version 1: written by a newer cairn, or damaged there. It is never repaired away,
    /// because its chunks may be the only copy left once the WAL was truncated.
    Unsupported {
        /// The file.
        path: PathBuf,
        /// Its number.
        file: u32,
        /// The version byte (at byte [`VERSION_OFFSET`]).
        version: u8,
        /// The padding bytes (at byte [`PADDING_OFFSET`]).
        padding: [u8; 3],
    },
    /// [`HeadChunks::chunk`] was given a ref to a file that does not exist (any more).
    UnknownFile {
        /// The head chunks directory.
        dir: PathBuf,
        /// The ref.
        chunk_ref: HeadChunkRef,
    },
    /// [`HeadChunks::chunk`] was given a ref whose offset is inside the file header or past
    /// the file's end.
    OutOfBounds {
        /// The file.
        path: PathBuf,
        /// The ref.
        chunk_ref: HeadChunkRef,
        /// The file's length, buffered chunks included.
        len: u64,
    },
    /// [`HeadChunks::chunk`] found no valid chunk at the ref's offset: the file is damaged
    /// there, or the ref does not point at the start of a chunk.
    BadChunk {
        /// The file.
        path: PathBuf,
        /// The ref.
        chunk_ref: HeadChunkRef,
        /// What is wrong with the bytes there.
        reason: CorruptionReason,
    },
    /// [`HeadChunks::write`] was given more than [`MAX_CHUNK_LEN`] bytes of data.
    ChunkTooLarge {
        /// The head chunks directory.
        dir: PathBuf,
        /// The chunk's series.
        series_ref: u64,
        /// The data length given.
        len: usize,
    },
    /// [`HeadChunks::write`] was given an encoding other than those of
    /// [`is_known_encoding`].
    UnknownEncoding {
        /// The head chunks directory.
        dir: PathBuf,
        /// The chunk's series.
        series_ref: u64,
        /// The encoding given.
        encoding: u8,
    },
    /// [`HeadChunks::write`] was given a time range whose start is after its end.
    InvalidTimeRange {
        /// The head chunks directory.
        dir: PathBuf,
        /// The chunk's series.
        series_ref: u64,
        /// The start given.
        mint: i64,
        /// The end given.
        maxt: i64,
    },
    /// The maximum file size option is outside [`MIN_FILE_SIZE`]..=[`MAX_FILE_SIZE`].
    InvalidMaxFileSize {
        /// The head chunks directory.
        dir: PathBuf,
        /// The size asked for.
        size: u64,
    },
    /// The current file is longer than a 32-bit offset addresses, so no chunk can be added
    /// to it (and no new file can take the chunk either). Never happens with files this
    /// module wrote.
    FileTooLarge {
        /// The file.
        path: PathBuf,
        /// Its length, buffered chunks included.
        len: u64,
    },
    /// File number `u32::MAX` is in use: no next file can be named.
    FilesExhausted {
        /// The head chunks directory.
        dir: PathBuf,
    },
    /// An earlier write or sync failed, so what the files hold is unknown (after a failed
    /// fsync the kernel may have dropped dirty pages and a retry could falsely succeed).
    /// Reads still work; reopen to write again.
    Poisoned {
        /// The head chunks directory.
        dir: PathBuf,
        /// The first failure, as it was displayed.
        cause: String,
    },
}

impl Error {
    fn io(op: &'static str, path: &Path, source: io::Error) -> Self {
        Error::Io {
            op,
            path: path.to_path_buf(),
            source,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { op, path, source } => {
                write!(
                    f,
                    "head chunks I/O error: {op} {}: {source}",
                    path.display()
                )
            }
            Error::Unsupported {
                path,
                file,
                version,
                padding: [p0, p1, p2],
            } => write!(
                f,
                "{}: head chunk file {file} has format version {version} (byte \
                 {VERSION_OFFSET}) and padding {p0:02x} {p1:02x} {p2:02x} (bytes \
                 {PADDING_OFFSET}..{HEADER_LEN}); this build reads version {VERSION} with zero \
                 padding, and leaves the file alone",
                path.display()
            ),
            Error::UnknownFile { dir, chunk_ref } => write!(
                f,
                "{}: no head chunk file {} for chunk ref {chunk_ref}",
                dir.display(),
                file_name(chunk_ref.file())
            ),
            Error::OutOfBounds {
                path,
                chunk_ref,
                len,
            } => write!(
                f,
                "{}: chunk ref {chunk_ref} is outside the file's chunks (bytes \
                 {HEADER_LEN}..{len})",
                path.display()
            ),
            Error::BadChunk {
                path,
                chunk_ref,
                reason,
            } => write!(
                f,
                "{}: no valid chunk at byte {} (chunk ref {chunk_ref}): {reason}; the file is \
                 damaged there or the ref is not a chunk's start",
                path.display(),
                chunk_ref.offset()
            ),
            Error::ChunkTooLarge {
                dir,
                series_ref,
                len,
            } => write!(
                f,
                "{}: chunk of series {series_ref} has {len} bytes of data, more than the \
                 {MAX_CHUNK_LEN} a head chunk may hold",
                dir.display()
            ),
            Error::UnknownEncoding {
                dir,
                series_ref,
                encoding,
            } => write!(
                f,
                "{}: chunk of series {series_ref} has encoding {encoding:#04x}; expected \
                 {ENCODING_XOR:#04x} (XOR samples) or {ENCODING_EXEMPLAR:#04x} (exemplars)",
                dir.display()
            ),
            Error::InvalidTimeRange {
                dir,
                series_ref,
                mint,
                maxt,
            } => write!(
                f,
                "{}: chunk of series {series_ref} starts at {mint}, after its end {maxt}",
                dir.display()
            ),
            Error::InvalidMaxFileSize { dir, size } => write!(
                f,
                "{}: maximum head chunk file size {size} is outside \
                 {MIN_FILE_SIZE}..={MAX_FILE_SIZE}",
                dir.display()
            ),
            Error::FileTooLarge { path, len } => write!(
                f,
                "{}: head chunk file of {len} bytes is past the {} bytes a chunk ref addresses",
                path.display(),
                u32::MAX
            ),
            Error::FilesExhausted { dir } => write!(
                f,
                "{}: head chunk file number {} is in use; no next file",
                dir.display(),
                u32::MAX
            ),
            Error::Poisoned { dir, cause } => write!(
                f,
                "{}: head chunks are unusable for writing after an earlier failure ({cause}); \
                 reopen them to recover",
                dir.display()
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

/// Where a file is damaged or torn and why: enough to cut it there.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Corruption {
    /// The file.
    pub path: PathBuf,
    /// Its number.
    pub file: u32,
    /// Byte offset of the start of the damaged or torn chunk, where the file is cut: every
    /// chunk before it is whole. 0 when the file header is damaged or torn (the file is
    /// removed).
    pub offset: u64,
    /// What is wrong.
    pub reason: CorruptionReason,
}

impl Corruption {
    /// Whether this is what an interrupted write leaves (the file ends early) rather than
    /// damaged bytes.
    pub fn is_torn(&self) -> bool {
        self.reason.is_torn()
    }
}

impl fmt::Display for Corruption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: head chunk file {} is corrupt at byte {}: {}",
            self.path.display(),
            self.file,
            self.offset,
            self.reason
        )
    }
}

/// The ways a file's bytes can be wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CorruptionReason {
    /// The file is shorter than its header.
    TruncatedHeader {
        /// The file's length.
        len: u64,
    },
    /// The file does not start with [`MAGIC`].
    BadMagic {
        /// The four bytes found instead.
        found: [u8; 4],
    },
    /// The file ends inside a chunk.
    TruncatedChunk {
        /// Bytes the chunk needs (at least, when its length field is missing).
        needed: u64,
        /// Bytes left in the file from the chunk's start.
        available: u64,
    },
    /// The encoding byte is not one of [`is_known_encoding`].
    UnknownEncoding {
        /// The byte found.
        found: u8,
    },
    /// The data length uvarint runs past [`MAX_DATA_LEN_LEN`] bytes.
    BadDataLen,
    /// The data length is more than [`MAX_CHUNK_LEN`].
    DataTooLarge {
        /// The length found.
        len: u64,
    },
    /// The chunk's CRC32C does not match its bytes.
    Checksum {
        /// The checksum stored after the data.
        stored: u32,
        /// The checksum of the bytes as read.
        computed: u32,
    },
    /// The chunk starts past the last offset a ref can address (`u32::MAX`).
    Unaddressable,
}

impl CorruptionReason {
    /// Whether this is what an interrupted write leaves: the file ends early.
    pub fn is_torn(&self) -> bool {
        matches!(
            self,
            CorruptionReason::TruncatedHeader { .. } | CorruptionReason::TruncatedChunk { .. }
        )
    }
}

impl fmt::Display for CorruptionReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            CorruptionReason::TruncatedHeader { len } => write!(
                f,
                "expected a {HEADER_LEN}-byte file header, found a file of {len} bytes (torn write)"
            ),
            CorruptionReason::BadMagic {
                found: [f0, f1, f2, f3],
            } => {
                let [m0, m1, m2, m3] = MAGIC;
                write!(
                    f,
                    "expected magic {m0:02x} {m1:02x} {m2:02x} {m3:02x} (\"CHCK\"), found \
                     {f0:02x} {f1:02x} {f2:02x} {f3:02x}"
                )
            }
            CorruptionReason::TruncatedChunk { needed, available } => write!(
                f,
                "the file ends inside a chunk: expected {needed} bytes, found {available} (torn \
                 write)"
            ),
            CorruptionReason::UnknownEncoding { found } => write!(
                f,
                "expected encoding {ENCODING_XOR:#04x} (XOR samples) or {ENCODING_EXEMPLAR:#04x} \
                 (exemplars) at chunk byte {ENCODING_OFFSET}, found {found:#04x}"
            ),
            CorruptionReason::BadDataLen => write!(
                f,
                "expected a data length of at most {MAX_DATA_LEN_LEN} uvarint bytes at chunk \
                 byte {DATA_LEN_OFFSET}, found a longer one"
            ),
            CorruptionReason::DataTooLarge { len } => write!(
                f,
                "expected a data length of at most {MAX_CHUNK_LEN}, found {len}"
            ),
            CorruptionReason::Checksum { stored, computed } => write!(
                f,
                "chunk checksum mismatch: stored CRC32C {stored:#010x}, computed {computed:#010x}"
            ),
            CorruptionReason::Unaddressable => write!(
                f,
                "expected chunks to start before byte {}, the last a ref addresses",
                u32::MAX
            ),
        }
    }
}

/// A whole chunk found by [`HeadChunks::open`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RecoveredChunk {
    /// The series it belongs to.
    pub series_ref: u64,
    /// Its first timestamp.
    pub mint: i64,
    /// Its last timestamp.
    pub maxt: i64,
    /// Its encoding byte.
    pub encoding: u8,
    /// Where it is, for [`HeadChunks::chunk`].
    pub chunk_ref: HeadChunkRef,
}

/// A file removed by [`HeadChunks::open`]: one after a damaged one, or a damaged one whose
/// header is damaged or missing.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RemovedFile {
    /// The file.
    pub path: PathBuf,
    /// Its number.
    pub file: u32,
    /// Its length in bytes.
    pub len: u64,
}

impl fmt::Display for RemovedFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "removed {} (head chunk file {}, {} bytes)",
            self.path.display(),
            self.file,
            self.len
        )
    }
}

/// What [`HeadChunks::open`] found and repaired.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Recovery {
    /// Every whole chunk, in file order (which is write order).
    pub chunks: Vec<RecoveredChunk>,
    /// The first damage found; the file was cut at its offset (or removed, for a damaged
    /// header) and every later file removed.
    pub corruption: Option<Corruption>,
    /// Bytes dropped in all: cut from the damaged file plus the lengths of removed files.
    pub truncated_bytes: u64,
    /// Files removed, in the order they were: later files newest first, then the damaged
    /// file itself when its header was damaged.
    pub removed: Vec<RemovedFile>,
}

impl Recovery {
    /// Whether the files were found whole.
    pub fn is_clean(&self) -> bool {
        self.corruption.is_none()
    }
}

impl fmt::Display for Recovery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} head chunks", self.chunks.len())?;
        if let Some(c) = &self.corruption {
            write!(f, "; {c}; dropped {} bytes", self.truncated_bytes)?;
        }
        for r in &self.removed {
            write!(f, "; {r}")?;
        }
        Ok(())
    }
}

/// The data of one chunk, with its header fields; dereferences to the data bytes.
///
/// Borrows from a read-only map of the file (cheap to clone, no copy), or owns a copy for a
/// chunk still in the write buffer. It stays valid after the file is removed.
#[derive(Clone)]
pub struct ChunkBytes {
    series_ref: u64,
    mint: i64,
    maxt: i64,
    encoding: u8,
    data: Data,
}

#[derive(Clone)]
enum Data {
    /// `map[start..end]`, checked when made.
    Mapped {
        map: Map,
        start: usize,
        end: usize,
    },
    Owned(Box<[u8]>),
}

impl ChunkBytes {
    /// The series the chunk belongs to.
    pub fn series_ref(&self) -> u64 {
        self.series_ref
    }

    /// The chunk's first timestamp.
    pub fn mint(&self) -> i64 {
        self.mint
    }

    /// The chunk's last timestamp.
    pub fn maxt(&self) -> i64 {
        self.maxt
    }

    /// The chunk's encoding byte.
    pub fn encoding(&self) -> u8 {
        self.encoding
    }
}

impl Deref for ChunkBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match &self.data {
            Data::Mapped { map, start, end } => map.get(*start..*end).unwrap_or_default(),
            Data::Owned(data) => data,
        }
    }
}

impl AsRef<[u8]> for ChunkBytes {
    fn as_ref(&self) -> &[u8] {
        self
    }
}

impl fmt::Debug for ChunkBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChunkBytes")
            .field("series_ref", &self.series_ref)
            .field("mint", &self.mint)
            .field("maxt", &self.maxt)
            .field("encoding", &self.encoding)
            .field("len", &self.len())
            .finish()
    }
}

/// One file of the set.
struct HeadFile {
    path: PathBuf,
    /// Opened for reading and appending when this module created the file or is appending
    /// to it, for reading and writing when open found it (it is never written then).
    file: File,
    /// Bytes handed to the OS (for the current file, buffered chunks come after these).
    len: u64,
    /// Chunks in the file, buffered ones included.
    chunks: u64,
    /// The largest maxt of its chunks.
    max_t: Option<i64>,
    /// A map of the file's first bytes, made on the first read and grown when a read falls
    /// past it. Only bytes below `len` are ever mapped: they are written and never changed
    /// while the file exists.
    map: Mutex<Option<Map>>,
}

impl HeadFile {
    fn new(path: PathBuf, file: File, len: u64, chunks: u64, max_t: Option<i64>) -> Self {
        HeadFile {
            path,
            file,
            len,
            chunks,
            max_t,
            map: Mutex::new(None),
        }
    }

    /// The current map, remapped to all of `len` first if it is shorter than `at_least`.
    fn map(&self, at_least: u64) -> Result<Map, Error> {
        // A panic elsewhere cannot leave the map half-made: it is replaced whole.
        let mut guard = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(map) = &*guard
            && map.len() as u64 >= at_least.min(self.len)
        {
            return Ok(map.clone());
        }
        let map = Map::new(&self.file, self.len)
            .map_err(|e| Error::io("map head chunk file", &self.path, e))?;
        *guard = Some(map.clone());
        Ok(map)
    }
}

/// The head chunk files of one directory: append full chunks, read them back by ref.
///
/// Writes are buffered; [`chunk`](HeadChunks::chunk) sees a chunk as soon as
/// [`write`](HeadChunks::write) returns. Nothing is durable before [`sync`](HeadChunks::sync)
/// or [`close`](HeadChunks::close), except that a full file is synced when the next one is
/// started (so that, normally, only the newest file can end torn). Dropping without `close`
/// loses buffered chunks; the WAL still has their samples.
///
/// Reads take `&self` and may run from many threads; writes take `&mut self`. After a failed
/// write or sync, writing is refused ([`Error::Poisoned`]) until the files are reopened.
pub struct HeadChunks {
    dir: PathBuf,
    options: Options,
    /// Every file, by number; holes are files removed by [`HeadChunks::truncate_before`].
    files: BTreeMap<u32, HeadFile>,
    /// The file appended to, always in `files`.
    current: u32,
    /// Whole chunks of the current file not yet handed to the OS.
    buf: Vec<u8>,
    /// Files that may hold bytes not yet synced.
    dirty: BTreeSet<u32>,
    /// Whether a file was created or removed since the directory's last sync.
    dir_dirty: bool,
    poisoned: Option<String>,
}

impl fmt::Debug for HeadChunks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HeadChunks")
            .field("dir", &self.dir)
            .field("options", &self.options)
            .field("files", &self.files.keys().collect::<Vec<_>>())
            .field("current", &self.current)
            .field("buffered", &self.buf.len())
            .field("poisoned", &self.poisoned)
            .finish_non_exhaustive()
    }
}

impl HeadChunks {
    /// Opens the head chunk files in `dir`, creating the directory if it is missing, and
    /// checks every chunk of every file in order (its bounds and CRC32C).
    ///
    /// At the first damaged or torn chunk it repairs the files to the longest clean prefix:
    /// every later file is removed (newest first, then the directory is synced), then the
    /// damaged file is cut at the chunk's start and synced, or removed if its header is
    /// damaged or missing (as an empty file that a crash left is). [`Recovery`] reports the
    /// chunks kept, in file order, and where and what the damage was. Writing resumes at the
    /// end of the newest file, or in a new one when none is left.
    ///
    /// Files are named by number (`000001`, …, see [`file_name`]); other names are ignored.
    /// Numbers need not be contiguous.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidMaxFileSize`] for a bad option; [`Error::Unsupported`] when a file has
    /// an intact magic but another version or non-zero padding (nothing is repaired then);
    /// [`Error::Io`] when the file system fails; [`Error::FilesExhausted`] when a new file is
    /// needed after file `u32::MAX`.
    pub fn open(dir: impl AsRef<Path>, options: Options) -> Result<(HeadChunks, Recovery), Error> {
        let dir = dir.as_ref().to_path_buf();
        if !(MIN_FILE_SIZE..=MAX_FILE_SIZE).contains(&options.max_file_size) {
            return Err(Error::InvalidMaxFileSize {
                dir,
                size: options.max_file_size,
            });
        }
        create_dir(&dir)?;
        let seqs = list_files(&dir)?;
        let mut recovery = Recovery::default();
        let mut files = BTreeMap::new();
        let mut damage = None;
        for (i, &seq) in seqs.iter().enumerate() {
            let path = dir.join(file_name(seq));
            let mut scan = scan_file(&path, seq, &mut recovery.chunks)?;
            match scan.corruption.take() {
                None => {
                    files.insert(
                        seq,
                        HeadFile::new(path, scan.file, scan.len, scan.chunks, scan.max_t),
                    );
                }
                Some(c) => {
                    damage = Some((i, c, scan));
                    break;
                }
            }
        }
        if let Some((i, c, scan)) = damage {
            let later = seqs.get(i.saturating_add(1)..).unwrap_or_default();
            if let Some(kept) = repair(&dir, later, &c, scan, &mut recovery)? {
                files.insert(c.file, kept);
            }
            recovery.corruption = Some(c);
        }

        let current = match files.last_entry() {
            Some(mut last) => {
                // Reopen the newest file to append to it.
                let f = last.get_mut();
                f.file = OpenOptions::new()
                    .read(true)
                    .append(true)
                    .open(&f.path)
                    .map_err(|e| Error::io("open head chunk file", &f.path, e))?;
                *last.key()
            }
            None => {
                let seq = match seqs.last() {
                    Some(&last) => last
                        .checked_add(1)
                        .ok_or_else(|| Error::FilesExhausted { dir: dir.clone() })?,
                    None => 1,
                };
                files.insert(seq, create_file(&dir, seq)?);
                seq
            }
        };
        // What was found may have reached only the OS (the process died before syncing):
        // the next sync covers it too.
        let dirty = files.keys().copied().collect();
        let chunks = HeadChunks {
            dir,
            options,
            files,
            current,
            buf: Vec::new(),
            dirty,
            dir_dirty: true,
            poisoned: None,
        };
        Ok((chunks, recovery))
    }

    /// Appends a chunk and returns its ref. The chunk is buffered: readable at once with
    /// [`chunk`](HeadChunks::chunk), handed to the OS by [`flush`](HeadChunks::flush) (or
    /// when 256 KiB are buffered), durable after [`sync`](HeadChunks::sync). When the chunk
    /// would take the current file past [`Options::max_file_size`], a new file is started
    /// first (unless the current one holds no chunk yet), and the full one is synced.
    ///
    /// # Errors
    ///
    /// [`Error::ChunkTooLarge`], [`Error::UnknownEncoding`] or [`Error::InvalidTimeRange`]
    /// for bad arguments (nothing is written); [`Error::Io`] when handing the buffer to the
    /// OS or starting a file fails, [`Error::FilesExhausted`] when no next file can be named
    /// (both poison writing); [`Error::Poisoned`] after an earlier failure.
    pub fn write(
        &mut self,
        series_ref: u64,
        mint: i64,
        maxt: i64,
        encoding: u8,
        data: &[u8],
    ) -> Result<HeadChunkRef, Error> {
        self.check_poisoned()?;
        if data.len() > MAX_CHUNK_LEN {
            return Err(Error::ChunkTooLarge {
                dir: self.dir.clone(),
                series_ref,
                len: data.len(),
            });
        }
        if !is_known_encoding(encoding) {
            return Err(Error::UnknownEncoding {
                dir: self.dir.clone(),
                series_ref,
                encoding,
            });
        }
        if mint > maxt {
            return Err(Error::InvalidTimeRange {
                dir: self.dir.clone(),
                series_ref,
                mint,
                maxt,
            });
        }
        let r = self.write_unchecked(series_ref, mint, maxt, encoding, data);
        self.poison_on_err(r)
    }

    /// Hands buffered chunks to the OS, without syncing.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the write fails (which poisons writing); [`Error::Poisoned`] after
    /// an earlier failure.
    pub fn flush(&mut self) -> Result<(), Error> {
        self.check_poisoned()?;
        let r = self.flush_buf();
        self.poison_on_err(r)
    }

    /// Makes every chunk written so far durable: flushes, syncs every file that may hold
    /// unsynced bytes (and, after files were created or removed, the directory). Call it
    /// before truncating the WAL on the strength of these files.
    ///
    /// # Errors
    ///
    /// As [`flush`](HeadChunks::flush); a failed sync poisons writing too.
    pub fn sync(&mut self) -> Result<(), Error> {
        self.check_poisoned()?;
        let r = self.flush_buf().and_then(|()| self.sync_all());
        self.poison_on_err(r)
    }

    /// The data of the chunk at `r`, with its header fields. The chunk's bounds and CRC32C
    /// are checked on every call (the CRC of a chunk of a few hundred bytes costs tens of
    /// nanoseconds), so a bad ref or damaged bytes are an error, never a panic or wrong data.
    ///
    /// A chunk is readable as soon as [`write`](HeadChunks::write) returned: flushed chunks
    /// are borrowed from a read-only map of their file (remapped when a read falls past the
    /// map, as the current file grows), buffered ones copied out of the buffer.
    ///
    /// # Errors
    ///
    /// [`Error::UnknownFile`] when the ref's file does not exist (any more),
    /// [`Error::OutOfBounds`] when its offset is inside the header or past the end,
    /// [`Error::BadChunk`] when no valid chunk starts there, [`Error::Io`] when mapping fails.
    pub fn chunk(&self, r: HeadChunkRef) -> Result<ChunkBytes, Error> {
        let Some(f) = self.files.get(&r.file()) else {
            return Err(Error::UnknownFile {
                dir: self.dir.clone(),
                chunk_ref: r,
            });
        };
        let offset = u64::from(r.offset());
        let len = if r.file() == self.current {
            f.len.saturating_add(self.buf.len() as u64)
        } else {
            f.len
        };
        if offset < HEADER_LEN as u64 || offset >= len {
            return Err(Error::OutOfBounds {
                path: f.path.clone(),
                chunk_ref: r,
                len,
            });
        }
        let bad = |reason| Error::BadChunk {
            path: f.path.clone(),
            chunk_ref: r,
            reason,
        };
        if offset >= f.len {
            // In the write buffer.
            let start = usize::try_from(offset - f.len).unwrap_or(usize::MAX);
            let p = parse_chunk(&self.buf, start).map_err(bad)?;
            let data = self.buf.get(p.data_start..p.data_end).unwrap_or_default();
            return Ok(p.bytes(Data::Owned(data.into())));
        }
        let start = usize::try_from(offset).unwrap_or(usize::MAX);
        let mut map = f.map(offset.saturating_add(1))?;
        let parsed = match parse_chunk(&map, start) {
            // The chunk may run past a map made before the file grew.
            Err(reason) if reason.is_torn() && (map.len() as u64) < f.len => {
                map = f.map(f.len)?;
                parse_chunk(&map, start)
            }
            parsed => parsed,
        };
        let p = parsed.map_err(bad)?;
        let (start, end) = (p.data_start, p.data_end);
        Ok(p.bytes(Data::Mapped { map, start, end }))
    }

    /// Removes every file all of whose chunks end before `mint` (`maxt < mint`), then syncs
    /// the directory; returns how many were removed. The file being written is never
    /// removed: if it qualifies, a new file is started first. Refs into removed files become
    /// [`Error::UnknownFile`]; [`ChunkBytes`] already handed out stay valid.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when a removal fails (files before it are gone, the rest kept), or when
    /// starting a file or syncing the directory fails (which poisons writing);
    /// [`Error::Poisoned`] after an earlier failure.
    pub fn truncate_before(&mut self, mint: i64) -> Result<usize, Error> {
        self.check_poisoned()?;
        let current_done = self
            .files
            .get(&self.current)
            .is_some_and(|f| f.chunks > 0 && f.max_t.is_some_and(|t| t < mint));
        if current_done {
            // No sync: the file is removed right below.
            let r = self.cut(false);
            self.poison_on_err(r)?;
        }
        let doomed: Vec<u32> = self
            .files
            .iter()
            .filter(|&(&seq, f)| seq != self.current && f.max_t.is_none_or(|t| t < mint))
            .map(|(&seq, _)| seq)
            .collect();
        for &seq in &doomed {
            if let Some(f) = self.files.get(&seq) {
                fs::remove_file(&f.path)
                    .map_err(|e| Error::io("remove head chunk file", &f.path, e))?;
            }
            self.files.remove(&seq);
            self.dirty.remove(&seq);
            self.dir_dirty = true;
        }
        if !doomed.is_empty() {
            let r = sync_dir(&self.dir);
            self.poison_on_err(r)?;
            self.dir_dirty = false;
        }
        Ok(doomed.len())
    }

    /// Bytes the files take, buffered chunks included.
    pub fn size_bytes(&self) -> u64 {
        self.files
            .values()
            .fold(self.buf.len() as u64, |sum, f| sum.saturating_add(f.len))
    }

    /// The number of the file being written.
    pub fn current_file(&self) -> u32 {
        self.current
    }

    /// The directory of the files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The options the files were opened with.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// Flushes and syncs everything, as [`sync`](HeadChunks::sync), and closes the files.
    ///
    /// # Errors
    ///
    /// As [`sync`](HeadChunks::sync).
    pub fn close(mut self) -> Result<(), Error> {
        self.sync()
    }

    fn check_poisoned(&self) -> Result<(), Error> {
        match &self.poisoned {
            Some(cause) => Err(Error::Poisoned {
                dir: self.dir.clone(),
                cause: cause.clone(),
            }),
            None => Ok(()),
        }
    }

    fn poison_on_err<T>(&mut self, r: Result<T, Error>) -> Result<T, Error> {
        if let Err(e) = &r
            && self.poisoned.is_none()
        {
            self.poisoned = Some(e.to_string());
        }
        r
    }

    fn current_file_ref(&self) -> Result<&HeadFile, Error> {
        // `current` is always in `files`; the error only keeps this panic-free.
        self.files
            .get(&self.current)
            .ok_or_else(|| Error::UnknownFile {
                dir: self.dir.clone(),
                chunk_ref: HeadChunkRef::new(self.current, 0),
            })
    }

    fn write_unchecked(
        &mut self,
        series_ref: u64,
        mint: i64,
        maxt: i64,
        encoding: u8,
        data: &[u8],
    ) -> Result<HeadChunkRef, Error> {
        let need = encoded_len(data.len()) as u64;
        let f = self.current_file_ref()?;
        let end = f.len.saturating_add(self.buf.len() as u64);
        if f.chunks > 0 && end.saturating_add(need) > self.options.max_file_size {
            self.cut(true)?;
        }
        let f = self.current_file_ref()?;
        let end = f.len.saturating_add(self.buf.len() as u64);
        let offset = u32::try_from(end).map_err(|_| Error::FileTooLarge {
            path: f.path.clone(),
            len: end,
        })?;
        encode_chunk(&mut self.buf, series_ref, mint, maxt, encoding, data);
        if let Some(f) = self.files.get_mut(&self.current) {
            f.chunks = f.chunks.saturating_add(1);
            f.max_t = Some(f.max_t.map_or(maxt, |t| t.max(maxt)));
        }
        if self.buf.len() >= WRITE_BUFFER_LEN {
            self.flush_buf()?;
        }
        Ok(HeadChunkRef::new(self.current, offset))
    }

    /// Hands the buffered chunks to the OS.
    fn flush_buf(&mut self) -> Result<(), Error> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let Some(f) = self.files.get_mut(&self.current) else {
            return Ok(());
        };
        f.file
            .write_all(&self.buf)
            .map_err(|e| Error::io("write head chunk file", &f.path, e))?;
        f.len = f.len.saturating_add(self.buf.len() as u64);
        self.buf.clear();
        self.dirty.insert(self.current);
        Ok(())
    }

    fn sync_all(&mut self) -> Result<(), Error> {
        while let Some(seq) = self.dirty.first().copied() {
            if let Some(f) = self.files.get(&seq) {
                f.file
                    .sync_data()
                    .map_err(|e| Error::io("sync head chunk file", &f.path, e))?;
            }
            self.dirty.remove(&seq);
        }
        if self.dir_dirty {
            sync_dir(&self.dir)?;
            self.dir_dirty = false;
        }
        Ok(())
    }

    /// Starts the next file, after flushing (and, with `sync_old`, syncing) the current one,
    /// so that a newer file on disk means the older ones are whole.
    fn cut(&mut self, sync_old: bool) -> Result<(), Error> {
        let next = self
            .current
            .checked_add(1)
            .ok_or_else(|| Error::FilesExhausted {
                dir: self.dir.clone(),
            })?;
        self.flush_buf()?;
        if sync_old
            && self.dirty.contains(&self.current)
            && let Some(f) = self.files.get(&self.current)
        {
            f.file
                .sync_data()
                .map_err(|e| Error::io("sync head chunk file", &f.path, e))?;
            self.dirty.remove(&self.current);
        }
        let file = create_file(&self.dir, next)?;
        self.files.insert(next, file);
        self.current = next;
        self.dirty.insert(next);
        self.dir_dirty = true;
        Ok(())
    }
}

/// A chunk as [`parse_chunk`] found it; offsets are into the bytes it was given.
struct ParsedChunk {
    series_ref: u64,
    mint: i64,
    maxt: i64,
    encoding: u8,
    data_start: usize,
    data_end: usize,
    /// One past the chunk's CRC: where the next chunk starts.
    end: usize,
}

impl ParsedChunk {
    fn bytes(&self, data: Data) -> ChunkBytes {
        ChunkBytes {
            series_ref: self.series_ref,
            mint: self.mint,
            maxt: self.maxt,
            encoding: self.encoding,
            data,
        }
    }
}

/// Reads and checks the chunk that starts at `start` in `bytes` (a whole file, or the write
/// buffer): fields, encoding, length, bounds, CRC32C.
fn parse_chunk(bytes: &[u8], start: usize) -> Result<ParsedChunk, CorruptionReason> {
    let rest = bytes.get(start..).unwrap_or_default();
    let torn = |needed: usize| CorruptionReason::TruncatedChunk {
        needed: needed as u64,
        available: rest.len() as u64,
    };
    let short = || torn(DATA_LEN_OFFSET + 1);
    let (series_ref, tail) = rest.split_first_chunk::<8>().ok_or_else(short)?;
    let (mint, tail) = tail.split_first_chunk::<8>().ok_or_else(short)?;
    let (maxt, tail) = tail.split_first_chunk::<8>().ok_or_else(short)?;
    let (&encoding, tail) = tail.split_first().ok_or_else(short)?;
    if !is_known_encoding(encoding) {
        return Err(CorruptionReason::UnknownEncoding { found: encoding });
    }
    let (len, len_len) = read_uvarint(tail).map_err(|missing| match missing {
        Some(read) => torn(DATA_LEN_OFFSET + read + 1),
        None => CorruptionReason::BadDataLen,
    })?;
    let len = usize::try_from(len)
        .ok()
        .filter(|&l| l <= MAX_CHUNK_LEN)
        .ok_or(CorruptionReason::DataTooLarge { len })?;
    let data_start = DATA_LEN_OFFSET + len_len;
    let crc_start = data_start + len;
    let total = crc_start + CRC_LEN;
    let (Some(covered), Some(&stored)) = (
        rest.get(..crc_start),
        rest.get(crc_start..total)
            .and_then(|s| s.first_chunk::<CRC_LEN>()),
    ) else {
        return Err(torn(total));
    };
    let stored = u32::from_be_bytes(stored);
    let computed = crc32c::crc32c(covered);
    if stored != computed {
        return Err(CorruptionReason::Checksum { stored, computed });
    }
    Ok(ParsedChunk {
        series_ref: u64::from_be_bytes(*series_ref),
        mint: i64::from_be_bytes(*mint),
        maxt: i64::from_be_bytes(*maxt),
        encoding,
        data_start: start + data_start,
        data_end: start + crc_start,
        end: start + total,
    })
}

/// Reads a uvarint of at most [`MAX_DATA_LEN_LEN`] bytes; returns it and its length. On
/// failure `Some(n)`: the bytes end after `n` bytes of it; `None`: it is longer.
fn read_uvarint(bytes: &[u8]) -> Result<(u64, usize), Option<usize>> {
    let mut value = 0u64;
    for i in 0..MAX_DATA_LEN_LEN {
        let &b = bytes.get(i).ok_or(Some(i))?;
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Ok((value, i + 1));
        }
    }
    Err(None)
}

const fn uvarint_len(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

/// Appends one chunk to `buf`.
fn encode_chunk(
    buf: &mut Vec<u8>,
    series_ref: u64,
    mint: i64,
    maxt: i64,
    encoding: u8,
    data: &[u8],
) {
    let start = buf.len();
    buf.extend_from_slice(&series_ref.to_be_bytes());
    buf.extend_from_slice(&mint.to_be_bytes());
    buf.extend_from_slice(&maxt.to_be_bytes());
    buf.push(encoding);
    let mut len = data.len() as u64;
    while len >= 0x80 {
        buf.push((len & 0x7f) as u8 | 0x80);
        len >>= 7;
    }
    buf.push(len as u8);
    buf.extend_from_slice(data);
    let crc = crc32c::crc32c(buf.get(start..).unwrap_or_default());
    buf.extend_from_slice(&crc.to_be_bytes());
}

/// The file header of version 1.
fn encode_header() -> [u8; HEADER_LEN] {
    let mut header = [0; HEADER_LEN];
    if let Some(magic) = header.first_chunk_mut::<4>() {
        *magic = MAGIC;
    }
    if let Some(v) = header.get_mut(VERSION_OFFSET) {
        *v = VERSION;
    }
    header
}

/// What a file header says.
enum Header {
    Ok,
    Damaged(CorruptionReason),
    /// Intact magic, unknown version or padding.
    Unsupported {
        version: u8,
        padding: [u8; 3],
    },
}

fn check_header(bytes: &[u8]) -> Header {
    let Some(header) = bytes.first_chunk::<HEADER_LEN>() else {
        return Header::Damaged(CorruptionReason::TruncatedHeader {
            len: bytes.len() as u64,
        });
    };
    let [m0, m1, m2, m3, version, p0, p1, p2] = *header;
    if [m0, m1, m2, m3] != MAGIC {
        return Header::Damaged(CorruptionReason::BadMagic {
            found: [m0, m1, m2, m3],
        });
    }
    if version != VERSION || [p0, p1, p2] != [0; 3] {
        return Header::Unsupported {
            version,
            padding: [p0, p1, p2],
        };
    }
    Header::Ok
}

/// A file as [`scan_file`] found it.
struct Scan {
    /// Opened for reading and writing (not appending).
    file: File,
    /// The whole chunks' end: the file's length when it is clean.
    len: u64,
    chunks: u64,
    max_t: Option<i64>,
    corruption: Option<Corruption>,
}

/// Checks every chunk of file `seq`, appending the whole ones to `found`, up to the first
/// damage. The map it reads through is gone when it returns, so the file can be cut.
fn scan_file(path: &Path, seq: u32, found: &mut Vec<RecoveredChunk>) -> Result<Scan, Error> {
    // Read and write, so that a later sync works on every platform.
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| Error::io("open head chunk file", path, e))?;
    let map = Map::whole(&file).map_err(|e| Error::io("map head chunk file", path, e))?;
    let damaged = |offset: usize, reason| Corruption {
        path: path.to_path_buf(),
        file: seq,
        offset: offset as u64,
        reason,
    };
    let mut scan = Scan {
        file,
        len: 0,
        chunks: 0,
        max_t: None,
        corruption: None,
    };
    match check_header(&map) {
        Header::Ok => {}
        Header::Damaged(reason) => {
            scan.corruption = Some(damaged(0, reason));
            return Ok(scan);
        }
        Header::Unsupported { version, padding } => {
            return Err(Error::Unsupported {
                path: path.to_path_buf(),
                file: seq,
                version,
                padding,
            });
        }
    }
    let mut pos = HEADER_LEN;
    while pos < map.len() {
        let Ok(offset) = u32::try_from(pos) else {
            scan.corruption = Some(damaged(pos, CorruptionReason::Unaddressable));
            break;
        };
        match parse_chunk(&map, pos) {
            Ok(p) => {
                found.push(RecoveredChunk {
                    series_ref: p.series_ref,
                    mint: p.mint,
                    maxt: p.maxt,
                    encoding: p.encoding,
                    chunk_ref: HeadChunkRef::new(seq, offset),
                });
                scan.chunks += 1;
                scan.max_t = Some(scan.max_t.map_or(p.maxt, |t| t.max(p.maxt)));
                pos = p.end;
            }
            Err(reason) => {
                scan.corruption = Some(damaged(pos, reason));
                break;
            }
        }
    }
    scan.len = pos as u64;
    Ok(scan)
}

/// Cuts the files back to the chunks before `c`: removes `later` files newest first and
/// syncs the directory, then cuts the damaged file (returned, to keep) or removes it when
/// its header is damaged. In this order a crash halfway leaves the same damage for the next
/// open to find, never a clean file followed by stale ones. Before removing anything it
/// reads the later files' headers and refuses ([`Error::Unsupported`]) if one is from a
/// newer writer.
fn repair(
    dir: &Path,
    later: &[u32],
    c: &Corruption,
    scan: Scan,
    recovery: &mut Recovery,
) -> Result<Option<HeadFile>, Error> {
    for &seq in later {
        let path = dir.join(file_name(seq));
        let mut header = Vec::with_capacity(HEADER_LEN);
        File::open(&path)
            .and_then(|f| f.take(HEADER_LEN as u64).read_to_end(&mut header))
            .map_err(|e| Error::io("read head chunk file header", &path, e))?;
        if let Header::Unsupported { version, padding } = check_header(&header) {
            return Err(Error::Unsupported {
                path,
                file: seq,
                version,
                padding,
            });
        }
    }
    let remove = |seq: u32, recovery: &mut Recovery| -> Result<(), Error> {
        let path = dir.join(file_name(seq));
        let len = fs::metadata(&path)
            .map_err(|e| Error::io("read length of head chunk file", &path, e))?
            .len();
        fs::remove_file(&path).map_err(|e| Error::io("remove head chunk file", &path, e))?;
        recovery.truncated_bytes = recovery.truncated_bytes.saturating_add(len);
        recovery.removed.push(RemovedFile {
            path,
            file: seq,
            len,
        });
        Ok(())
    };
    for &seq in later.iter().rev() {
        remove(seq, recovery)?;
    }
    if !later.is_empty() {
        sync_dir(dir)?;
    }
    if c.offset < HEADER_LEN as u64 {
        drop(scan);
        remove(c.file, recovery)?;
        sync_dir(dir)?;
        return Ok(None);
    }
    let file = OpenOptions::new()
        .write(true)
        .open(&c.path)
        .map_err(|e| Error::io("open head chunk file", &c.path, e))?;
    let old_len = file
        .metadata()
        .map_err(|e| Error::io("read length of head chunk file", &c.path, e))?
        .len();
    file.set_len(c.offset)
        .map_err(|e| Error::io("truncate head chunk file", &c.path, e))?;
    file.sync_all()
        .map_err(|e| Error::io("sync head chunk file", &c.path, e))?;
    recovery.truncated_bytes = recovery
        .truncated_bytes
        .saturating_add(old_len.saturating_sub(c.offset));
    Ok(Some(HeadFile::new(
        c.path.clone(),
        scan.file,
        c.offset,
        scan.chunks,
        scan.max_t,
    )))
}

/// Creates file `seq` and writes its header (not synced).
fn create_file(dir: &Path, seq: u32) -> Result<HeadFile, Error> {
    let path = dir.join(file_name(seq));
    let mut file = OpenOptions::new()
        .read(true)
        .append(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| Error::io("create head chunk file", &path, e))?;
    file.write_all(&encode_header())
        .map_err(|e| Error::io("write head chunk file header", &path, e))?;
    Ok(HeadFile::new(path, file, HEADER_LEN as u64, 0, None))
}

/// Creates `dir` if it is missing, syncing its parent so that the name survives.
fn create_dir(dir: &Path) -> Result<(), Error> {
    match fs::metadata(dir) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            fs::create_dir_all(dir)
                .map_err(|e| Error::io("create head chunks directory", dir, e))?;
            match dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                Some(parent) => sync_dir(parent),
                None => Ok(()),
            }
        }
        Err(e) => Err(Error::io("read head chunks directory", dir, e)),
    }
}

/// The file numbers in `dir`, ascending.
fn list_files(dir: &Path) -> Result<Vec<u32>, Error> {
    let list_err = |e| Error::io("list head chunks directory", dir, e);
    let mut seqs = Vec::new();
    for entry in fs::read_dir(dir).map_err(list_err)? {
        let entry = entry.map_err(list_err)?;
        if entry.file_type().map_err(list_err)?.is_file()
            && let Some(seq) = entry.file_name().to_str().and_then(parse_file_name)
        {
            seqs.push(seq);
        }
    }
    seqs.sort_unstable();
    Ok(seqs)
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> Result<(), Error> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io("sync directory", dir, e))
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> Result<(), Error> {
    // Windows cannot open a directory as a file; NTFS journals its metadata.
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(file_name(1), "000001");
        assert_eq!(file_name(1_234_567), "1234567");
        assert_eq!(file_name(u32::MAX), "4294967295");
        for (name, seq) in [
            ("000001", Some(1)),
            ("999999", Some(999_999)),
            ("1234567", Some(1_234_567)),
            ("4294967295", Some(u32::MAX)),
            ("000000", None),
            ("1", None),
            ("0000001", None),
            ("00000a", None),
            ("+00001", None),
            ("4294967296", None),
            ("000001.tmp", None),
        ] {
            assert_eq!(parse_file_name(name), seq, "{name}");
        }
    }

    #[test]
    fn uvarints() {
        for (v, len) in [(0, 1), (127, 1), (128, 2), (16_383, 2), (16_384, 3)] {
            assert_eq!(uvarint_len(v), len, "{v}");
        }
        assert_eq!(uvarint_len(MAX_CHUNK_LEN as u64), MAX_DATA_LEN_LEN);
        assert_eq!(read_uvarint(&[0x80, 0x80, 0x40]), Ok((1 << 20, 3)));
        assert_eq!(read_uvarint(&[0x80, 0x80, 0x80]), Err(None));
        assert_eq!(read_uvarint(&[0x80, 0x80]), Err(Some(2)));
        assert_eq!(read_uvarint(&[]), Err(Some(0)));
    }
}
