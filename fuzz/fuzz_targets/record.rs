//! WAL record codecs: arbitrary bytes decoded and, when they decode, re-encoded.
//! The body is `cairn_store::record::fuzzing::run`, which the crate's tests also run.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| cairn_store::record::fuzzing::run(data));
