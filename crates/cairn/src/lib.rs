//! cairn: an embedded time-series database that keeps exemplars.
//!
//! This facade re-exports the crates a user links: the shared model and the exposition
//! parser. The store, query engine and server join as they land.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use cairn_expfmt as expfmt;
pub use cairn_model as model;

/// The code examples of README.md, run as doctests so that the README cannot drift.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
