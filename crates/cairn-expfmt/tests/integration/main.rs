//! Integration tests of cairn-expfmt: the conformance suites in `../shared/conformance`, the
//! parser's own cases, and encode/parse round trips.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "a test fails by panicking, with the value that broke it"
)]

mod cases;
mod fuzz_corpus;
mod openmetrics_suite;
mod roundtrip;
mod shared;
mod textparse;
