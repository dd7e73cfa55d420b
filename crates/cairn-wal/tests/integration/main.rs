//! Integration tests of cairn-wal: round trips, the pinned layout, torn tails at every byte,
//! flipped bytes, crash consistency on the in-memory storage, sync policies and the API
//! around segments.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "a failing test panics, that is how it reports"
)]

mod api;
mod common;
mod corrupt;
mod crash;
mod pinned;
mod roundtrip;
mod sync;
mod torn;
