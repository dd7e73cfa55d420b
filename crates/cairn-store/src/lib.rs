//! The cairn database: today, the records it writes to its write-ahead log.
//!
//! The head, series registry, exemplar store, blocks, compaction and retention will live
//! here (see the workspace's `ARCHITECTURE.md`). The first piece is [`record`]: the codecs of
//! the series, samples, exemplars and tombstones records that the store appends to its
//! `cairn-wal` log, which itself knows nothing of record types.
//!
//! ```
//! use cairn_store::record::{self, Record, RefSample};
//! use cairn_model::STALE_NAN_BITS;
//!
//! let samples = [
//!     RefSample { series_ref: 7, t: 1_700_000_000_000, v: 0.5 },
//!     RefSample { series_ref: 8, t: 1_700_000_000_000, v: f64::from_bits(STALE_NAN_BITS) },
//! ];
//! let mut buf = Vec::new();
//! record::encode_samples(&samples, &mut buf);
//! // Tag, count, base ref and time, then 1 + 1 + 8 bytes per sample.
//! assert_eq!(buf.len(), 1 + 1 + 16 + 2 * 10);
//! assert_eq!(Record::decode(&buf)?, Record::Samples(samples.to_vec()));
//! # Ok::<(), record::DecodeError>(())
//! ```
// `unsafe` lives only in `mmap`, each block with its `// SAFETY:` comment.
#![deny(unsafe_code)]
#![deny(missing_docs)]
// Records come from disk: decoding them must not panic.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

pub mod block;
pub mod head_chunks;
#[allow(unsafe_code, reason = "memory maps of the store's files; see the module docs")]
pub mod mmap;
pub mod record;
