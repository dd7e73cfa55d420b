//! Integration tests of cairn-chunkenc: round trips, pinned sizes and layout, the
//! rusty-chunkenc oracle, golden chunks written by Prometheus itself, corrupt input, and the
//! fuzz body.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "a failing test panics, that is how it reports"
)]

mod common;
mod corrupt;
mod fuzz;
mod golden;
mod oracle;
mod pinned;
mod roundtrip;
