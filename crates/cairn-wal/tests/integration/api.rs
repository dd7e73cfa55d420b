//! The API around records and segments: limits, batches, cuts, truncation, size accounting,
//! readers from a position, and error messages.

use std::sync::Arc;

use cairn_wal::format::HEADER_LEN;
use cairn_wal::{Error, MemStorage, Options, RecordPos, Wal};

use crate::common::{dir, open, read_all, read_data, record, seg_path};

#[test]
fn record_too_large_is_rejected_without_harm() {
    let mem = MemStorage::new();
    let options = Options::default().segment_size(1_024);
    let max = options.max_record_len();
    assert_eq!(max, 1_024 - HEADER_LEN - 7);
    let (mut wal, _) = open(&mem, options);
    wal.append(b"before").unwrap();
    let err = wal.append(&vec![7; max + 1]).unwrap_err();
    assert!(matches!(err, Error::RecordTooLarge { len, max: m } if len == max + 1 && m == max));
    assert_eq!(
        err.to_string(),
        format!(
            "WAL record of {} bytes is longer than the {max} bytes a segment can hold",
            max + 1
        )
    );
    // A batch with one record too large appends none of it.
    let err = wal
        .append_batch(&[b"a".to_vec(), vec![0; max + 1], b"c".to_vec()])
        .unwrap_err();
    assert!(matches!(err, Error::RecordTooLarge { .. }));
    // The log is still usable, and a record of exactly the maximum fits.
    let big = record(1, max);
    let pos = wal.append(&big).unwrap();
    assert_eq!(pos, RecordPos::start_of(1));
    wal.close().unwrap();
    assert_eq!(read_data(&mem), [b"before".to_vec(), big]);
    assert_eq!(mem.live_bytes(&seg_path(1)).unwrap().len(), 1_024);
}

#[test]
fn invalid_segment_sizes() {
    for size in [0, 63, (1 << 30) + 1] {
        let err = Wal::open_with(
            Arc::new(MemStorage::new()),
            dir(),
            Options::default().segment_size(size),
        )
        .unwrap_err();
        assert!(matches!(err, Error::InvalidSegmentSize { size: s } if s == size));
        assert_eq!(
            err.to_string(),
            format!("WAL segment size {size} is outside 64..=1073741824")
        );
    }
}

#[test]
fn batches_cuts_truncation_and_size() {
    let mem = MemStorage::new();
    let (mut wal, _) = open(&mem, Options::default());
    assert_eq!(wal.size_bytes(), HEADER_LEN as u64);
    let pos = wal.append_batch(&[b"a".as_slice(), b"bb", b"ccc"]).unwrap();
    assert_eq!(
        pos,
        [
            RecordPos {
                segment: 0,
                offset: 16
            },
            RecordPos {
                segment: 0,
                offset: 24
            },
            RecordPos {
                segment: 0,
                offset: 33
            },
        ]
    );
    assert_eq!(wal.size_bytes(), 43, "buffered bytes count");
    assert_eq!(wal.cut_segment().unwrap(), 1);
    assert_eq!(wal.cut_segment().unwrap(), 2);
    wal.append(b"dddd").unwrap();
    assert_eq!(wal.current_segment(), 2);
    assert_eq!(wal.first_segment(), 0);
    wal.commit().unwrap();
    let on_disk: u64 = (0..3)
        .map(|s| mem.live_bytes(&seg_path(s)).unwrap().len() as u64)
        .sum();
    assert_eq!(wal.size_bytes(), on_disk);
    assert_eq!(on_disk, 43 + 16 + 16 + 11);

    // Never removes the current segment, whatever it is asked.
    assert_eq!(wal.truncate_before(1).unwrap(), 1);
    assert_eq!(wal.first_segment(), 1);
    assert_eq!(wal.truncate_before(99).unwrap(), 1);
    assert_eq!(wal.first_segment(), 2);
    assert_eq!(wal.size_bytes(), 27);
    assert_eq!(mem.durable_bytes(&seg_path(0)), None, "removal is synced");
    wal.close().unwrap();

    let (wal, recovery) = open(&mem, Options::default());
    assert_eq!(
        (recovery.first_segment, recovery.last_segment),
        (Some(2), Some(2))
    );
    assert_eq!(wal.size_bytes(), 27);
    assert_eq!(read_all(&mem), [(RecordPos::start_of(2), b"dddd".to_vec())]);
}

#[test]
fn reader_from_a_position_sees_everything_appended() {
    let mem = MemStorage::new();
    let (mut wal, _) = open(&mem, Options::default().segment_size(200));
    let records: Vec<Vec<u8>> = (0..30).map(|i| record(i, 20)).collect();
    let pos = wal.append_batch(&records).unwrap();
    // Not committed: the reader still sees all of it.
    let mut reader = wal.reader(RecordPos::start_of(0)).unwrap();
    let mut n = 0;
    while let Some((p, data)) = reader.next_record().unwrap() {
        assert_eq!((p, data), (pos[n], records[n].as_slice()));
        n += 1;
    }
    assert_eq!(n, 30);
    assert!(reader.next_record().unwrap().is_none(), "fused");
    drop(reader);

    let from = pos[17];
    let tail: Vec<_> = wal
        .reader(from)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    assert_eq!(tail.len(), 13);
    assert_eq!(tail[0], (from, records[17].clone()));

    let last = wal.current_segment();
    for (bad, want) in [
        (RecordPos::start_of(last + 1), "no WAL segment"),
        (
            RecordPos {
                segment: 0,
                offset: 3,
            },
            "outside its segment's records",
        ),
        (
            RecordPos {
                segment: 0,
                offset: 10_000,
            },
            "outside its segment's records",
        ),
    ] {
        let err = match wal.reader(bad) {
            Ok(mut r) => r.next_record().unwrap_err(),
            Err(e) => e,
        };
        assert!(err.to_string().contains(want), "{bad}: {err}");
    }
}

#[test]
fn ignores_other_files_in_the_directory() {
    let mem = MemStorage::new();
    let (mut wal, _) = open(&mem, Options::default());
    wal.append(b"x").unwrap();
    wal.close().unwrap();
    mem.put_file(&dir().join("checkpoint.00000000"), b"not a segment");
    mem.put_file(&dir().join("0"), b"not a segment either");
    let (_, recovery) = open(&mem, Options::default());
    assert!(recovery.is_clean());
    assert_eq!(read_data(&mem), [b"x".to_vec()]);
}

#[test]
fn recovery_display() {
    let mem = MemStorage::new();
    let (mut wal, _) = open(&mem, Options::default().segment_size(128));
    for i in 0..10 {
        wal.append(&record(i, 30)).unwrap();
    }
    wal.close().unwrap();
    // Three records of 37 bytes fill a 128-byte segment: the tenth is alone in segment 3.
    let mut last = mem.live_bytes(&seg_path(3)).unwrap();
    last.truncate(last.len() - 3);
    mem.put_file(&seg_path(3), &last);
    let (_, recovery) = open(&mem, Options::default().segment_size(128));
    assert_eq!(
        recovery.to_string(),
        "9 records (270 bytes) in segments 0..=3; /data/wal/00000003: WAL segment 3 is corrupt \
         at byte 50: the file ends inside a fragment: expected 37 bytes, found 34 (torn write); \
         whole records end at byte 16; truncated /data/wal/00000003 (segment 3) from 50 to 16 bytes"
    );
}

#[test]
fn send_and_errors_for_missing_directories() {
    fn is_send<T: Send>() {}
    is_send::<Wal>();
    is_send::<cairn_wal::Reader<'static>>();
    is_send::<Error>();

    let tmp = tempfile::tempdir().unwrap();
    let err = Wal::read_all(tmp.path().join("absent")).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Io {
                op: "list WAL directory",
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string()
            .starts_with("WAL I/O error: list WAL directory "),
        "{err}"
    );
}
