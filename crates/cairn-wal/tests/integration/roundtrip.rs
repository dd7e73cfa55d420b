//! Records of every interesting size go in and come back out, identical and in order.

use proptest::prelude::*;

use cairn_wal::format::{FRAGMENT_HEADER_LEN, HEADER_LEN, MAX_FRAGMENT_LEN, encoded_len};
use cairn_wal::{MemStorage, Options, RecordPos, Wal};

use crate::common::{open, read_all, record, seg_path, write_log};

/// Reopens the log, checks it is clean, and checks every record and position.
fn check_reads_back(mem: &MemStorage, size: u64, records: &[Vec<u8>], pos: &[RecordPos]) {
    let (wal, recovery) = open(mem, Options::default().segment_size(size));
    assert!(recovery.is_clean(), "{recovery}");
    assert_eq!(recovery.records, records.len() as u64);
    let total: usize = records.iter().map(Vec::len).sum();
    assert_eq!(recovery.record_bytes, total as u64);
    drop(wal);
    let back = read_all(mem);
    assert_eq!(back.len(), records.len());
    for (i, ((p, d), (want_p, want_d))) in back.iter().zip(pos.iter().zip(records)).enumerate() {
        assert_eq!(p, want_p, "position of record {i}");
        assert!(d == want_d, "record {i} of {} bytes differs", want_d.len());
    }
    // No segment outgrows the limit.
    let mut s = pos.first().map_or(0, |p| p.segment);
    while let Some(bytes) = mem.live_bytes(&seg_path(s)) {
        assert!(
            bytes.len() as u64 <= size,
            "segment {s} has {} bytes",
            bytes.len()
        );
        s += 1;
    }
}

#[test]
fn sizes_table() {
    const SEGMENT: u64 = 300_000;
    let options = Options::default().segment_size(SEGMENT);
    let max = options.max_record_len();
    let sizes = [
        0,
        1,
        2,
        100,
        MAX_FRAGMENT_LEN - 1,
        MAX_FRAGMENT_LEN,
        MAX_FRAGMENT_LEN + 1,
        2 * MAX_FRAGMENT_LEN,
        2 * MAX_FRAGMENT_LEN + 1,
        3 * MAX_FRAGMENT_LEN + 17,
        // Fills an empty segment exactly.
        max,
        0,
        7,
        200_000,
        1,
    ];
    let records: Vec<Vec<u8>> = sizes
        .iter()
        .enumerate()
        .map(|(i, &n)| record(i as u64, n))
        .collect();
    let (mem, pos) = write_log(options.clone(), &records);
    // The full-segment record starts a segment of its own and fills it to the byte.
    let full = &pos[10];
    assert_eq!(full.offset, HEADER_LEN as u64);
    assert_eq!(
        mem.live_bytes(&seg_path(full.segment)).unwrap().len() as u64,
        SEGMENT
    );
    assert_eq!(pos[11].segment, full.segment + 1);
    check_reads_back(&mem, SEGMENT, &records, &pos);
}

/// A record whose encoding takes exactly the space left in a segment stays there; one byte
/// more and it moves to the next segment.
#[test]
fn exactly_at_the_segment_limit() {
    const SEGMENT: u64 = 1_000;
    let options = Options::default().segment_size(SEGMENT);
    for extra in [0, 1] {
        let first = record(1, 100);
        let used = HEADER_LEN + encoded_len(first.len());
        let fill = SEGMENT as usize - used - FRAGMENT_HEADER_LEN + extra;
        let records = vec![first, record(2, fill), record(3, 5)];
        let (mem, pos) = write_log(options.clone(), &records);
        if extra == 0 {
            assert_eq!(pos[1].segment, 0);
            assert_eq!(mem.live_bytes(&seg_path(0)).unwrap().len() as u64, SEGMENT);
            assert_eq!(pos[2], RecordPos::start_of(1));
        } else {
            assert_eq!(pos[1], RecordPos::start_of(1));
        }
        check_reads_back(&mem, SEGMENT, &records, &pos);
    }
}

#[test]
fn real_file_system() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("wal");
    let options = Options::default().segment_size(4096);
    let records: Vec<Vec<u8>> = (0..200)
        .map(|i| record(i, (i * 37 % 300) as usize))
        .collect();
    let (mut wal, recovery) = Wal::open(&dir, options.clone()).unwrap();
    assert!(recovery.is_clean());
    assert_eq!(recovery.first_segment, None);
    let mut pos = Vec::new();
    for (i, r) in records.iter().enumerate() {
        pos.push(wal.append(r).unwrap());
        if i % 17 == 0 {
            wal.commit().unwrap();
        }
    }
    wal.commit().unwrap();
    let size = wal.size_bytes();
    drop(wal);

    let on_disk: u64 = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    assert_eq!(size, on_disk);

    let (mut wal, recovery) = Wal::open(&dir, options).unwrap();
    assert!(recovery.is_clean(), "{recovery}");
    assert_eq!(recovery.records, 200);
    assert_eq!(wal.size_bytes(), on_disk);
    let more = wal.append(b"after reopen").unwrap();
    wal.close().unwrap();

    let back: Vec<(RecordPos, Vec<u8>)> = Wal::read_all(&dir)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut want: Vec<(RecordPos, Vec<u8>)> = pos.into_iter().zip(records).collect();
    want.push((more, b"after reopen".to_vec()));
    assert_eq!(back, want);
}

/// Record lengths: mostly small, sometimes across a fragment boundary.
fn record_len() -> impl Strategy<Value = usize> {
    prop_oneof![
        8 => 0usize..300,
        1 => 0usize..3_000,
        1 => (MAX_FRAGMENT_LEN - 3)..(2 * MAX_FRAGMENT_LEN + 3),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_records_and_segment_sizes(
        lens in prop::collection::vec(record_len(), 0..60),
        segment_size in prop_oneof![64u64..4_096, 4_096u64..300_000],
        commit_every in 1usize..20,
        seed in any::<u64>(),
    ) {
        let options = Options::default().segment_size(segment_size);
        let max = options.max_record_len();
        let records: Vec<Vec<u8>> = lens
            .iter()
            .enumerate()
            .map(|(i, &n)| record(seed ^ i as u64, n.min(max)))
            .collect();
        let mem = MemStorage::new();
        let (mut wal, _) = open(&mem, options.clone());
        let mut pos = Vec::new();
        for (i, r) in records.iter().enumerate() {
            pos.push(wal.append(r).unwrap());
            if i % commit_every == 0 {
                wal.commit().unwrap();
            }
        }
        wal.close().unwrap();
        check_reads_back(&mem, segment_size, &records, &pos);
    }
}
