//! Integration tests of the `cairn` command.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "a test fails by panicking, with the value that broke it"
)]

mod check;
mod crash;
mod import;
mod promtool_diff;
mod promtool_format;
