//! The cairn database: the head, its write-ahead log and chunk files, immutable blocks,
//! compaction, retention, and exemplars stored beside the samples for the whole retention.
//!
//! - [`Db`] opens a directory (see the workspace's `ARCHITECTURE.md` for its layout),
//!   repairs what a crash left, and replays the head.
//! - An [`Appender`] buffers samples and exemplars; [`Appender::commit`] writes them to the
//!   log as one record (so a commit is there whole or not at all after a crash) and applies
//!   them. Rejections (out of order, duplicates, exemplar rules) are counted in the
//!   [`CommitSummary`] and never fail the commit.
//! - [`ingest`] stores a parsed exposition at a scrape timestamp through a [`ScrapeCache`]
//!   that maps a line's series text to its ref, so a known series costs no label parsing.
//! - An [`Importer`] writes blocks straight from timestamped data of any age, merging with
//!   blocks already there: importing the same data twice changes nothing.
//! - [`Db::query`] reads series matching label matchers over a time range, merged across
//!   blocks and head.
//! - [`record`] holds the codecs of the log's records.
//!
//! ```
//! use cairn_model::Labels;
//! use cairn_store::{Db, Options};
//!
//! let dir = tempfile::tempdir()?;
//! let db = Db::open(dir.path(), Options::default())?;
//! let mut app = db.appender();
//! app.append(&Labels::from_pairs([("__name__", "up"), ("job", "api")]), 1_000, 1.0)?;
//! app.commit()?;
//! db.close()?;
//!
//! let db = Db::open(dir.path(), Options::default())?; // replays the log
//! let all: Vec<_> = db.query(&[], 0, 2_000)?.collect::<Result<_, _>>()?;
//! assert_eq!(all[0].samples, [(1_000, 1.0)]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
// `unsafe` lives only in `mmap`, each block with its `// SAFETY:` comment.
#![deny(unsafe_code)]
#![deny(missing_docs)]
// Everything the store reads comes from disk: reading it must not panic.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

pub mod block;
mod chunks;
mod db;
mod error;
mod head;
pub mod head_chunks;
mod import;
mod ingest;
mod labels;
#[allow(
    unsafe_code,
    reason = "memory maps of the store's files; see the module docs"
)]
pub mod mmap;
mod options;
pub mod record;
mod summary;

pub use chunks::StoredExemplar;
pub use db::{Appender, Db, DiskBytes, OpenReport, ReplayCounts, SeriesData, SeriesSet, Stats};
pub use error::Error;
pub use head::MAX_EXEMPLAR_LABEL_CHARS;
pub use import::{ImportSummary, Importer};
pub use ingest::{IngestSummary, ScrapeCache, ingest, sample_key, sample_labels};
pub use options::{
    DEFAULT_BLOCK_RANGE_MS, DEFAULT_RETENTION_MS, ExemplarOptions, Options, SyncPolicy,
};
pub use summary::{CommitSummary, Rejection};

/// A series' ref in the head: stable while the series is in the head (see
/// [`Appender::refs_valid`]). Blocks number their series on their own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SeriesRef(pub u64);
