//! Block label indexes: arbitrary bytes opened, validated and queried.
//! The body is `cairn_index::fuzzing::run`, which the crate's corruption tests also run.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| cairn_index::fuzzing::run(data));
