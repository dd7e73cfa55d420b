//! Gorilla XOR sample chunks, bit for bit in Prometheus' XOR chunk layout.
//!
//! A chunk holds up to a few hundred `(timestamp, value)` samples of one series: timestamps
//! in milliseconds as delta-of-delta in variable-width buckets, values as the XOR with the
//! previous value inside a window of significant bits. The bytes are exactly those of
//! Prometheus' `chunkenc.XORChunk` (encoding 1 in a chunks file), so cairn's chunks can be
//! checked against Prometheus' own output and copied into Prometheus, Thanos or Mimir blocks
//! as they are. The layout is described field by field in the crate's `FORMAT.md`.
//!
//! - [`XorAppender`] builds a chunk in an owned buffer, or reopens one to continue it.
//! - [`XorIterator`] decodes a borrowed `&[u8]` (a read-only mapping is fine) without
//!   allocating, with Prometheus' `seek`; a truncated or corrupt chunk yields an [`Error`]
//!   with its byte offset, never a panic.
//! - [`exemplar`] holds the exemplar chunks kept beside the sample chunks (cairn's own
//!   format, described in the crate's `EXEMPLAR_FORMAT.md`): [`ExemplarAppender`] and
//!   [`ExemplarIterator`].
//!
//! ```
//! use cairn_chunkenc::{XorAppender, XorIterator};
//!
//! let mut app = XorAppender::new();
//! let mut t = 1_700_000_000_000;
//! while !app.is_full() && app.num_samples() < cairn_chunkenc::SAMPLES_PER_CHUNK {
//!     app.append(t, 42.0);
//!     t += 15_000;
//! }
//! // 120 samples at a steady 15 s with a constant value: 2 bits each after the first two.
//! assert_eq!(app.bytes().len(), 48);
//!
//! let mut it = XorIterator::new(app.bytes());
//! assert_eq!(it.seek(1_700_000_029_999), Some((1_700_000_030_000, 42.0)));
//! assert_eq!(it.by_ref().count(), 117);
//! assert!(it.err().is_none());
//! # Ok::<(), cairn_chunkenc::Error>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
// Chunk bytes come from disk and the network: decoding must not panic on them.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod appender;
mod bitstream;
mod error;
pub mod exemplar;
#[doc(hidden)]
pub mod fuzzing;
mod iterator;
mod varbit;

pub use appender::XorAppender;
pub use error::{Error, ErrorKind};
pub use exemplar::{ExemplarAppender, ExemplarIterator, ExemplarRef};
pub use iterator::XorIterator;

/// Byte offset of the big-endian `u16` sample count.
pub const NUM_SAMPLES_OFFSET: usize = 0;
/// Byte offset of the first sample, right after the sample count.
pub const FIRST_SAMPLE_OFFSET: usize = NUM_SAMPLES_OFFSET + 2;
/// Size of the chunk header (the sample count), in bytes.
pub const HEADER_LEN: usize = FIRST_SAMPLE_OFFSET;

/// Encoding byte of an XOR chunk in a Prometheus chunks file (`chunkenc.EncXOR`).
pub const ENCODING_XOR: u8 = 1;

/// Samples per chunk that a head aims for (Prometheus' default `samplesPerChunk`).
///
/// Prometheus' head cuts chunks by time, estimating from the first quarter of a chunk the
/// time at which it reaches this many samples, and cuts at twice this many regardless. That
/// policy belongs to the head; the chunk only enforces its byte limit.
pub const SAMPLES_PER_CHUNK: usize = 120;

/// The largest an XOR chunk gets when its writer cuts on [`XorAppender::is_full`]
/// (Prometheus' `MaxBytesPerXORChunk`).
pub const MAX_BYTES_PER_CHUNK: usize = 1024;

/// The most bytes one sample after the second adds: a 68-bit timestamp field and a 77-bit
/// value field, 145 bits, touch at most 19 new bytes.
pub const MAX_SAMPLE_BYTES: usize = 19;
