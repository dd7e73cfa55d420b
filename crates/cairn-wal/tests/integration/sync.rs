//! Sync policies, observed through the in-memory storage's sync counters and durable image,
//! and what a failed sync does.

use std::time::Duration;

use cairn_wal::{Error, MemStorage, Options, SyncPolicy};

use crate::common::{open, read_data, record, seg_path};

#[test]
fn every_commit_syncs_before_returning() {
    let mem = MemStorage::new();
    let (mut wal, _) = open(&mem, Options::default());
    // Open leaves what it found (here a new segment's header) durable, name included.
    assert_eq!(
        mem.durable_bytes(&seg_path(0)),
        mem.live_bytes(&seg_path(0))
    );
    let before = (mem.data_sync_count(), mem.dir_sync_count());
    wal.append(b"one").unwrap();
    wal.commit().unwrap();
    assert_eq!(mem.data_sync_count(), before.0 + 1);
    assert_eq!(mem.dir_sync_count(), before.1);
    assert_eq!(
        mem.durable_bytes(&seg_path(0)),
        mem.live_bytes(&seg_path(0))
    );

    wal.append(b"two").unwrap();
    wal.commit().unwrap();
    assert_eq!(mem.data_sync_count(), before.0 + 2);
    assert_eq!(
        mem.dir_sync_count(),
        before.1,
        "no new segment, no directory sync"
    );

    // A commit with nothing appended does not sync.
    wal.commit().unwrap();
    assert_eq!(mem.data_sync_count(), before.0 + 2);

    // After a cut: the sealed segment is synced at the cut, the new one and the directory at
    // the commit.
    wal.cut_segment().unwrap();
    wal.append(b"three").unwrap();
    wal.commit().unwrap();
    assert_eq!(mem.dir_sync_count(), before.1 + 1);
    assert!(mem.durable_bytes(&seg_path(1)).is_some());
    mem.crash();
    assert_eq!(
        read_data(&mem),
        [b"one".to_vec(), b"two".to_vec(), b"three".to_vec()]
    );
}

#[test]
fn interval_commits_do_not_sync_until_the_interval_passes() {
    let mem = MemStorage::new();
    let options = Options::default().sync(SyncPolicy::Interval(Duration::from_secs(3_600)));
    let (mut wal, _) = open(&mem, options.clone());
    let before = mem.sync_count();
    for i in 0..5 {
        wal.append(&record(i, 40)).unwrap();
        wal.commit().unwrap();
    }
    assert_eq!(mem.sync_count(), before, "no sync within the interval");
    // The commits reached the OS (live image) but not the disk (durable image).
    let live = mem.live_bytes(&seg_path(0)).unwrap();
    assert!(live.len() > 5 * 40);
    assert!(
        mem.durable_bytes(&seg_path(0))
            .is_none_or(|d| d.len() < live.len())
    );

    wal.sync().unwrap();
    assert_eq!(mem.sync_count(), before + 1, "the segment");
    assert_eq!(mem.durable_bytes(&seg_path(0)).unwrap(), live);

    wal.append(&record(5, 40)).unwrap();
    wal.commit().unwrap();
    assert_eq!(mem.sync_count(), before + 1);
    drop(wal);
    mem.crash();
    let (_, recovery) = open(&mem, options);
    assert!(recovery.is_clean(), "{recovery}");
    let want: Vec<Vec<u8>> = (0..5).map(|i| record(i, 40)).collect();
    assert_eq!(read_data(&mem), want, "the commit after the sync was lost");
}

#[test]
fn interval_syncs_on_the_commit_after_it_passes() {
    let mem = MemStorage::new();
    let every = Duration::from_millis(50);
    let (mut wal, _) = open(&mem, Options::default().sync(SyncPolicy::Interval(every)));
    wal.sync().unwrap();
    let before = mem.data_sync_count();
    wal.append(b"a").unwrap();
    wal.commit().unwrap();
    // A commit within 50 ms of the sync (the test machine may be slow: only if it was).
    let quick = mem.data_sync_count() == before;
    std::thread::sleep(every * 2);
    wal.append(b"b").unwrap();
    wal.commit().unwrap();
    assert_eq!(mem.data_sync_count(), before + 1 + u64::from(!quick));
    assert_eq!(
        mem.durable_bytes(&seg_path(0)),
        mem.live_bytes(&seg_path(0))
    );
}

#[test]
fn interval_zero_syncs_every_commit() {
    let mem = MemStorage::new();
    let (mut wal, _) = open(
        &mem,
        Options::default().sync(SyncPolicy::Interval(Duration::ZERO)),
    );
    let before = mem.data_sync_count();
    for i in 0..4 {
        wal.append(&record(i, 10)).unwrap();
        wal.commit().unwrap();
    }
    assert_eq!(mem.data_sync_count(), before + 4);
}

/// A failed sync fails the commit and poisons the log: the records of that commit may or may
/// not survive a crash, nothing appended after them does, and a reopen recovers.
#[test]
fn failed_sync_fails_the_commit_and_poisons() {
    for (n, torn) in [(1, false), (1, true), (2, false), (2, true)] {
        let mem = MemStorage::new();
        let (mut wal, _) = open(&mem, Options::default().segment_size(256));
        for i in 0..3 {
            wal.append(&record(i, 30)).unwrap();
        }
        wal.commit().unwrap();
        wal.cut_segment().unwrap();
        // The n-th sync of the next commit fails: 1 is the segment, 2 the directory.
        mem.fail_sync(n);
        wal.append(&record(3, 30)).unwrap();
        wal.append(&record(4, 30)).unwrap();
        let err = wal.commit().unwrap_err();
        let Error::Io { op, .. } = &err else {
            panic!("expected an I/O error, got {err}");
        };
        assert_eq!(
            *op,
            if n == 1 {
                "sync segment"
            } else {
                "sync directory"
            }
        );
        assert!(err.to_string().starts_with("WAL I/O error: sync "), "{err}");

        let later = wal.append(&record(5, 30)).unwrap_err();
        assert!(matches!(later, Error::Poisoned { .. }), "{later}");
        assert!(later.to_string().contains("injected failure"), "{later}");
        assert!(matches!(wal.commit(), Err(Error::Poisoned { .. })));
        assert!(matches!(wal.sync(), Err(Error::Poisoned { .. })));
        assert!(matches!(wal.close(), Err(Error::Poisoned { .. })));

        if torn {
            mem.crash_torn(n);
        } else {
            mem.crash();
        }
        let (mut wal, _) = open(&mem, Options::default().segment_size(256));
        let got = read_data(&mem);
        let want: Vec<Vec<u8>> = (0..5).map(|i| record(i, 30)).collect();
        assert!((3..=5).contains(&got.len()), "{} records", got.len());
        assert_eq!(got[..], want[..got.len()]);
        wal.append(b"after").unwrap();
        wal.commit().unwrap();
        assert_eq!(read_data(&mem).last().unwrap(), b"after");
    }
}

/// Tearing keeps a prefix of unsynced bytes: repair then cuts at a record boundary.
#[test]
fn torn_crash_without_any_sync() {
    for seed in 0..50 {
        let mem = MemStorage::new();
        let options = Options::default().sync(SyncPolicy::Interval(Duration::from_secs(3_600)));
        let (mut wal, _) = open(&mem, options.clone());
        wal.sync().unwrap();
        for i in 0..20 {
            wal.append(&record(i, 25)).unwrap();
        }
        wal.commit().unwrap();
        drop(wal);
        mem.crash_torn(seed);
        let (_, recovery) = open(&mem, options);
        let got = read_data(&mem);
        let want: Vec<Vec<u8>> = (0..20).map(|i| record(i, 25)).collect();
        assert_eq!(got[..], want[..got.len()], "seed {seed}: {recovery}");
    }
}
