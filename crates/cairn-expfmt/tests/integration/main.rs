//! Integration tests of cairn-expfmt: the conformance suites in `../shared/conformance`, the
//! parser's own cases, and encode/parse round trips.

mod cases;
mod openmetrics_suite;
mod roundtrip;
mod shared;
mod textparse;
