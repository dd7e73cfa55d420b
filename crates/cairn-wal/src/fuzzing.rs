//! The body of a WAL fuzz target, shared with stable `cargo test` so that the corruption
//! tests run it on every damaged segment they make.
//!
//! Not part of the API: it panics on purpose when an invariant breaks.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "a fuzz body reports a broken invariant by panicking"
)]

use std::path::Path;
use std::sync::Arc;

use crate::format::HEADER_LEN;
use crate::{Error, MemStorage, Options, Wal};

/// Treats `data` as segment 0 of a log and checks what must hold for any bytes: reading
/// never panics and stops at the first error; opening keeps exactly the records read before
/// it, reports a corruption inside the file, leaves the segment cut at the reported record
/// boundary, and then accepts appends that read back after the kept records.
pub fn run(data: &[u8]) {
    let dir = Path::new("/wal");
    let mem = MemStorage::new();
    let path = dir.join("00000000");
    mem.put_file(&path, data);
    let storage: Arc<MemStorage> = Arc::new(mem.clone());

    let mut before = Vec::new();
    let mut read_err = None;
    for r in Wal::read_all_with(storage.clone(), dir).expect("a listing of one file") {
        match r {
            Ok((_, rec)) => before.push(rec),
            Err(e) => {
                read_err = Some(e);
                break;
            }
        }
    }

    let (mut wal, recovery) = match Wal::open_with(storage.clone(), dir, Options::default()) {
        Ok(x) => x,
        Err(Error::Unsupported { .. }) => {
            assert!(matches!(read_err, Some(Error::Unsupported { .. })));
            return;
        }
        Err(e) => panic!("open failed: {e}"),
    };
    assert_eq!(recovery.records, before.len() as u64, "{recovery}");
    match (&read_err, &recovery.corruption) {
        (None, None) => {}
        (Some(Error::Corrupt(r)), Some(c)) => {
            assert_eq!(r, c);
            assert!(c.offset <= data.len() as u64, "{c}");
            assert!(c.record_start <= c.offset, "{c}");
            assert_eq!(c.segment, 0);
            assert_eq!(c.path, path);
            assert!(!c.to_string().is_empty());
            let kept = mem.live_bytes(&path);
            if c.record_start < HEADER_LEN as u64 {
                assert_eq!(recovery.removed.len(), 1);
            } else {
                let kept = kept.expect("the truncated segment");
                assert_eq!(
                    kept.as_slice(),
                    data.get(..c.record_start as usize).unwrap()
                );
            }
        }
        (r, c) => panic!("reader said {r:?}, open said {c:?}"),
    }

    wal.append(b"after repair").expect("append");
    wal.close().expect("close");
    let all: Vec<Vec<u8>> = Wal::read_all_with(storage, dir)
        .expect("listing")
        .map(|r| r.map(|(_, d)| d))
        .collect::<Result<_, _>>()
        .expect("a repaired log reads cleanly");
    assert_eq!(all.len(), before.len() + 1);
    assert_eq!(&all[..before.len()], before.as_slice());
    assert_eq!(
        all.last().map(Vec::as_slice),
        Some(b"after repair".as_slice())
    );
}
