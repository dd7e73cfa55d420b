//! Integration tests of cairn-index: matcher semantics from a table, `select` and the listings
//! against a brute-force oracle on the head and block indexes, the block format's round trip,
//! its pinned layout, and corruption.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "a failing test panics, that is how it reports"
)]

mod common;

mod corrupt;
mod matchers;
mod pinned;
mod roundtrip;
mod select;
