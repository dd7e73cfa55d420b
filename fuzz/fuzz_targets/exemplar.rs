//! Exemplar chunks: arbitrary bytes decoded and sought.
//! The body is `cairn_chunkenc::fuzzing::fuzz_exemplar_decode`, which the crate's tests also run.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| cairn_chunkenc::fuzzing::fuzz_exemplar_decode(data));
