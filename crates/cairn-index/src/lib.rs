//! The label inverted index of cairn: label name → value → postings (roaring bitmaps of
//! series ids), and matcher evaluation with Prometheus' semantics.
//!
//! - [`MemIndex`] is the head's index, in memory, fed as series arrive.
//! - [`IndexWriter`] encodes a block's index; [`IndexReader`] reads it from its bytes (a
//!   read-only mmap in the store) after checking them once. The layout is drawn in
//!   `FORMAT.md`, and [`format`](mod@crate::format) holds it as constants.
//! - Both implement [`LabelIndex`], on which [`select`] and the listings
//!   ([`LabelIndex::matching_label_names`], [`LabelIndex::matching_label_values`]) are written
//!   once.
//!
//! Series ids are `u32`: the store's series refs in the head, dense `0..n` in label order in a
//! block. A label with an empty value is a missing label and is not indexed.
//!
//! ```
//! use cairn_index::{LabelIndex, MemIndex, needs_non_empty_matcher};
//! use cairn_model::{Labels, Matcher};
//!
//! let mut head = MemIndex::new();
//! head.add(1, &Labels::from_pairs([("__name__", "http_requests_total"), ("code", "200")]));
//! head.add(2, &Labels::from_pairs([("__name__", "http_requests_total"), ("code", "500")]));
//! head.add(3, &Labels::from_pairs([("__name__", "up")]));
//!
//! let errors = [Matcher::equal("__name__", "http_requests_total"), Matcher::regex("code", "5..")?];
//! assert_eq!(head.select(&errors).iter().collect::<Vec<_>>(), [2]);
//! // `code=""` matches the series without `code`.
//! assert_eq!(head.select(&[Matcher::equal("code", "")]).iter().collect::<Vec<_>>(), [3]);
//! // PromQL refuses a selector whose matchers all match "": it would select everything.
//! assert!(needs_non_empty_matcher(&[Matcher::equal("code", "")]));
//! assert_eq!(head.matching_label_values("code", &errors), ["500"]);
//! # Ok::<(), cairn_model::RegexError>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]
// Index bytes come from disk: reading them must not panic.
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod error;
pub mod format;
#[doc(hidden)]
pub mod fuzzing;
mod mem;
mod reader;
mod select;
mod writer;

pub use error::{Corruption, CorruptionReason, Error};
pub use format::Section;
pub use mem::MemIndex;
pub use reader::IndexReader;
pub use select::{LabelIndex, needs_non_empty_matcher, select};
pub use writer::IndexWriter;
