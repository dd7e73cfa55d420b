//! The exposition parser: both formats, both modes, and the encode/parse round trip.
//! The body is `cairn_expfmt::fuzzing::run`, which stable `cargo test` also runs on the
//! committed corpus and on every regression input (`tests/integration/fuzz_corpus.rs`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| cairn_expfmt::fuzzing::run(data));
