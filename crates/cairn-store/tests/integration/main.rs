//! Integration tests of cairn-store's WAL record codecs: round trips, the worked examples of
//! `RECORD_FORMAT.md` byte for byte, pinned sizes, damaged input and a trip through
//! `cairn-wal`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "a failing test panics, that is how it reports"
)]

mod block;
mod common;
mod corrupt;
mod corruption;
mod db;
mod head_chunks;
mod pinned;
mod roundtrip;
mod wal;
