//! A segmented write-ahead log of opaque byte records.
//!
//! The log is a directory of segment files named by zero-padded sequence numbers
//! (`00000000`, `00000001`, …). Each starts with a header (magic, version, segment number,
//! CRC32C) and holds records framed as fragments (type, length, CRC32C, payload); a record
//! never spans segments. The log knows segments, fragments and checksums, never what a record
//! means: the series, sample and exemplar codecs live elsewhere. The layout is drawn field by
//! field in `FORMAT.md` beside this file, and [`format`](mod@crate::format) holds it as constants.
//!
//! - [`Wal::open`] opens or creates a log, reads it through, and repairs a torn or corrupt
//!   tail by cutting it after the last whole record (the [`Recovery`] it returns says where).
//! - [`Wal::append`] buffers a record; [`Wal::commit`] writes and syncs by the
//!   [`SyncPolicy`].
//! - [`Reader`] yields records in order with their [`RecordPos`]; damage is an
//!   [`Error::Corrupt`] naming the file, segment and byte offset, never a panic.
//! - All I/O goes through [`Storage`]: [`FsStorage`] in production, [`MemStorage`] in crash
//!   tests, which keeps a live and a durable image, tears writes and fails syncs on demand.
//!
//! ```
//! use cairn_wal::{Options, RecordPos, Wal};
//!
//! let dir = tempfile::tempdir()?;
//! let (mut wal, recovery) = Wal::open(dir.path(), Options::default())?;
//! assert!(recovery.is_clean());
//! let first = wal.append(b"series 1: {job=\"api\"}")?;
//! wal.append_batch(&[b"sample".as_slice(), b"exemplar"])?;
//! wal.commit()?;
//! wal.close()?;
//!
//! let records: Vec<(RecordPos, Vec<u8>)> =
//!     Wal::read_all(dir.path())?.collect::<Result<_, _>>()?;
//! assert_eq!(records.len(), 3);
//! assert_eq!(records[0], (first, b"series 1: {job=\"api\"}".to_vec()));
//! assert_eq!(records[2].1, b"exemplar");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
// Segment bytes come from disk: reading them must not panic.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod error;
pub mod format;
#[doc(hidden)]
pub mod fuzzing;
mod mem;
mod reader;
mod segments;
mod storage;
mod wal;

pub use error::{Corruption, CorruptionReason, Error, Result};
pub use mem::MemStorage;
pub use reader::Reader;
pub use storage::{FsStorage, Storage, StorageFile};
pub use wal::{Options, RecordPos, Recovery, RemovedSegment, SyncPolicy, Truncation, Wal};
