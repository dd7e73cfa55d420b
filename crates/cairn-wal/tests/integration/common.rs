//! Helpers shared by the test modules.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use cairn_wal::{Error, MemStorage, Options, RecordPos, Recovery, Wal};

/// Where every in-memory log lives.
pub(crate) fn dir() -> &'static Path {
    Path::new("/data/wal")
}

pub(crate) fn seg_path(n: u32) -> PathBuf {
    dir().join(format!("{n:08}"))
}

pub(crate) fn open(mem: &MemStorage, options: Options) -> (Wal, Recovery) {
    Wal::open_with(Arc::new(mem.clone()), dir(), options).unwrap()
}

/// Every record with its position; panics on any error.
pub(crate) fn read_all(mem: &MemStorage) -> Vec<(RecordPos, Vec<u8>)> {
    Wal::read_all_with(Arc::new(mem.clone()), dir())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

pub(crate) fn read_data(mem: &MemStorage) -> Vec<Vec<u8>> {
    read_all(mem).into_iter().map(|(_, d)| d).collect()
}

/// The records up to the first error, and that error.
pub(crate) fn read_until_error(mem: &MemStorage) -> (Vec<(RecordPos, Vec<u8>)>, Option<Error>) {
    let mut out = Vec::new();
    for r in Wal::read_all_with(Arc::new(mem.clone()), dir()).unwrap() {
        match r {
            Ok(x) => out.push(x),
            Err(e) => return (out, Some(e)),
        }
    }
    (out, None)
}

/// A record of `len` bytes whose content depends on `id`, so that records differ.
pub(crate) fn record(id: u64, len: usize) -> Vec<u8> {
    let mut state = id.wrapping_mul(0x2545_f491_4f6c_dd1d) ^ len as u64;
    (0..len).map(|_| splitmix64(&mut state) as u8).collect()
}

/// SplitMix64: a small deterministic generator for seeded test loops.
pub(crate) fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        splitmix64(&mut self.0) % n
    }

    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// Writes `records` to a fresh in-memory log, closes it, and returns the storage and the
/// position of each record.
pub(crate) fn write_log(options: Options, records: &[Vec<u8>]) -> (MemStorage, Vec<RecordPos>) {
    let mem = MemStorage::new();
    let (mut wal, _) = open(&mem, options);
    let pos = wal.append_batch(records).unwrap();
    wal.close().unwrap();
    (mem, pos)
}
