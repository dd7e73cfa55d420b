//! Integration tests of cairn-chunkenc: round trips, pinned sizes and layout, the
//! rusty-chunkenc oracle, golden chunks written by Prometheus itself, corrupt input, and the
//! fuzz body; `exemplar` holds the same for exemplar chunks.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "a failing test panics, that is how it reports"
)]

mod common;
mod corrupt;
mod exemplar;
mod fuzz;
mod golden;
mod oracle;
mod pinned;
mod roundtrip;
