//! Write-ahead log segments: arbitrary bytes opened, repaired and read back.
//! The body is `cairn_wal::fuzzing::run`, which the crate's corruption tests also run.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| cairn_wal::fuzzing::run(data));
