//! Damaged bytes: every byte of a small segment flipped, corruption in an older segment,
//! zero-filled and garbage tails, and the files open refuses to repair.

use std::sync::Arc;

use cairn_wal::format::{HEADER_LEN, SEGMENT_OFFSET, VERSION_OFFSET, encoded_len};
use cairn_wal::{CorruptionReason, Error, MemStorage, Options, RecordPos, Wal};

use crate::common::{dir, open, read_all, read_until_error, record, seg_path, write_log};

fn small_log() -> (Vec<u8>, Vec<(RecordPos, Vec<u8>)>) {
    let lens = [0, 1, 5, 33, 2, 0, 70, 12, 3, 40];
    let records: Vec<Vec<u8>> = lens
        .iter()
        .enumerate()
        .map(|(i, &n)| record(i as u64, n))
        .collect();
    let (mem, pos) = write_log(Options::default(), &records);
    assert!(pos.iter().all(|p| p.segment == 0));
    (
        mem.live_bytes(&seg_path(0)).unwrap(),
        pos.into_iter().zip(records).collect(),
    )
}

fn end(r: &(RecordPos, Vec<u8>)) -> u64 {
    r.0.offset + encoded_len(r.1.len()) as u64
}

#[test]
fn every_byte_flipped() {
    let (clean, records) = small_log();
    for i in 0..clean.len() {
        // 0x02, 0x03 and 0x05 turn a full fragment into a middle, first or last one.
        for mask in [0x01u8, 0x02, 0x03, 0x05, 0x80, 0xff, 0x5a] {
            let mut bad = clean.clone();
            bad[i] ^= mask;
            // The shared fuzz body checks reader and open agree, the cut, and appends after.
            cairn_wal::fuzzing::run(&bad);

            let mem = MemStorage::new();
            mem.put_file(&seg_path(0), &bad);
            let (_, recovery) = open(&mem, Options::default());
            let ctx = format!("byte {i} ^ {mask:#04x}: {recovery}");
            let c = recovery.corruption.as_ref().expect(&ctx);
            assert_eq!(c.segment, 0, "{ctx}");
            assert_eq!(c.path, seg_path(0), "{ctx}");
            let want: Vec<_> = records
                .iter()
                .filter(|r| end(r) <= i as u64)
                .cloned()
                .collect();
            let start = want.last().map_or(HEADER_LEN as u64, end);
            if i < HEADER_LEN {
                assert_eq!(c.record_start, 0, "{ctx}");
                assert_eq!(recovery.removed.len(), 1, "{ctx}");
            } else {
                assert_eq!(c.record_start, start, "{ctx}");
                assert!(c.offset >= start && c.offset <= clean.len() as u64, "{ctx}");
            }
            assert_eq!(read_all(&mem), want, "{ctx}");
        }
    }
}

/// Damage in an older segment drops everything after it, later segments included.
#[test]
fn corruption_in_an_older_segment_removes_the_later_ones() {
    let lens: Vec<usize> = (0..50).map(|i| (i * 31) % 100).collect();
    let records: Vec<Vec<u8>> = lens
        .iter()
        .enumerate()
        .map(|(i, &n)| record(i as u64, n))
        .collect();
    let options = Options::default().segment_size(400);
    let (mem, pos) = write_log(options.clone(), &records);
    let last = pos.last().unwrap().segment;
    assert!(last >= 4);
    let victim = 1;
    let victim_bytes = mem.live_bytes(&seg_path(victim)).unwrap();
    let all: Vec<(RecordPos, Vec<u8>)> = pos.into_iter().zip(records).collect();
    for i in 0..victim_bytes.len() {
        let mem2 = MemStorage::new();
        for s in 0..=last {
            let mut bytes = mem.live_bytes(&seg_path(s)).unwrap();
            if s == victim {
                bytes[i] ^= 0x20;
            }
            mem2.put_file(&seg_path(s), &bytes);
        }
        let (mut wal, recovery) = open(&mem2, options.clone());
        let ctx = format!("byte {i}: {recovery}");
        let c = recovery.corruption.as_ref().expect(&ctx);
        assert_eq!(c.segment, victim, "{ctx}");
        let removed: Vec<u32> = recovery.removed.iter().map(|r| r.segment).collect();
        let mut want_removed: Vec<u32> = (victim + 1..=last).rev().collect();
        if i < HEADER_LEN {
            want_removed.push(victim);
        }
        assert_eq!(removed, want_removed, "{ctx}");
        for s in victim + 1..=last {
            assert_eq!(mem2.live_bytes(&seg_path(s)), None);
            assert_eq!(mem2.durable_bytes(&seg_path(s)), None, "removal is synced");
        }
        let want: Vec<_> = all
            .iter()
            .filter(|r| r.0.segment < victim || (r.0.segment == victim && end(r) <= i as u64))
            .cloned()
            .collect();
        assert_eq!(read_all(&mem2), want, "{ctx}");
        // Appending goes on from the repaired segment.
        let p = wal.append(b"x").unwrap();
        wal.close().unwrap();
        assert!(p.segment <= victim, "{ctx}: appended at {p}");
        assert_eq!(read_all(&mem2).len(), want.len() + 1);
    }
}

#[test]
fn zero_filled_and_garbage_tails() {
    let (clean, records) = small_log();
    let tails: [&[u8]; 6] = [
        &[0; 1],
        &[0; 4096],
        // A plausible header claiming 65 535 bytes that are not there.
        &[1, 0xff, 0xff, 1, 2, 3, 4, 5, 6],
        // A first fragment with a good checksum and no last one.
        &[],
        &[9, 9, 9],
        &[3],
    ];
    for (k, tail) in tails.iter().enumerate() {
        let mut bytes = clean.clone();
        bytes.extend_from_slice(tail);
        if k == 3 {
            // first fragment "ab", checksum over 02 02 00 "ab"
            let head = [2u8, 2, 0];
            let mut crc_in = head.to_vec();
            crc_in.extend_from_slice(b"ab");
            bytes.extend_from_slice(&head);
            bytes.extend_from_slice(&crc32c::crc32c(&crc_in).to_le_bytes());
            bytes.extend_from_slice(b"ab");
        }
        let mem = MemStorage::new();
        mem.put_file(&seg_path(0), &bytes);
        let (_, recovery) = open(&mem, Options::default());
        let c = recovery.corruption.as_ref().unwrap();
        let at = clean.len() as u64;
        assert_eq!(c.record_start, at, "tail {k}: {c}");
        match k {
            0 | 1 => assert_eq!(c.reason, CorruptionReason::BadFragmentType { found: 0 }),
            2 => assert_eq!(
                c.reason,
                CorruptionReason::TruncatedFragment {
                    needed: 7 + 65_535,
                    available: 9
                }
            ),
            3 => assert_eq!(c.reason, CorruptionReason::IncompleteRecord),
            4 => assert_eq!(c.reason, CorruptionReason::BadFragmentType { found: 9 }),
            _ => assert_eq!(
                c.reason,
                CorruptionReason::TruncatedFragment {
                    needed: 7,
                    available: 1
                }
            ),
        }
        assert_eq!(mem.live_bytes(&seg_path(0)).unwrap(), clean);
        assert_eq!(read_all(&mem), records);
        cairn_wal::fuzzing::run(&bytes);
    }
}

/// Out-of-sequence fragments with good checksums: a middle at a record boundary, a full one
/// inside a record.
#[test]
fn fragments_out_of_sequence() {
    let frag = |t: u8, payload: &[u8]| {
        let mut v = vec![t];
        v.extend_from_slice(&(payload.len() as u16).to_le_bytes());
        let crc = crc32c::crc32c_append(crc32c::crc32c(&v), payload);
        v.extend_from_slice(&crc.to_le_bytes());
        v.extend_from_slice(payload);
        v
    };
    let (clean, records) = small_log();
    let cases: [(Vec<u8>, CorruptionReason); 3] = [
        (
            frag(3, b"m"),
            CorruptionReason::UnexpectedFragment {
                found: cairn_wal::format::FragmentType::Middle,
                in_record: false,
            },
        ),
        (
            [frag(2, b"f"), frag(1, b"x")].concat(),
            CorruptionReason::UnexpectedFragment {
                found: cairn_wal::format::FragmentType::Full,
                in_record: true,
            },
        ),
        (
            [frag(2, b"f"), frag(2, b"x")].concat(),
            CorruptionReason::UnexpectedFragment {
                found: cairn_wal::format::FragmentType::First,
                in_record: true,
            },
        ),
    ];
    for (tail, reason) in cases {
        let mut bytes = clean.clone();
        bytes.extend_from_slice(&tail);
        let mem = MemStorage::new();
        mem.put_file(&seg_path(0), &bytes);
        let (got, err) = read_until_error(&mem);
        assert_eq!(got, records);
        let c = err.unwrap();
        let c = c.corruption().unwrap();
        assert_eq!(c.reason, reason);
        assert_eq!(c.record_start, clean.len() as u64);
        assert!(!c.to_string().contains("Unexpected"), "hand-written: {c}");
        cairn_wal::fuzzing::run(&bytes);
    }
}

/// A header of a newer version with a good checksum is refused, never repaired away.
#[test]
fn newer_version_is_refused_not_repaired() {
    let (mut bytes, _) = small_log();
    bytes[VERSION_OFFSET] = 2;
    let crc = crc32c::crc32c(&bytes[..12]);
    bytes[12..16].copy_from_slice(&crc.to_le_bytes());
    let mem = MemStorage::new();
    mem.put_file(&seg_path(0), &bytes);
    let err = Wal::open_with(Arc::new(mem.clone()), dir(), Options::default()).unwrap_err();
    let Error::Unsupported {
        segment, version, ..
    } = &err
    else {
        panic!("expected Unsupported, got {err}");
    };
    assert_eq!((*segment, *version), (0, 2));
    assert_eq!(
        err.to_string(),
        "/data/wal/00000000: WAL segment 0 has format version 2 with flags 00 00 00; \
         this build reads version 1 with no flags"
    );
    assert_eq!(mem.live_bytes(&seg_path(0)).unwrap(), bytes, "left alone");
    cairn_wal::fuzzing::run(&bytes);
}

/// A header naming another segment than its file is corruption of that segment.
#[test]
fn header_of_another_segment() {
    let (mut bytes, _) = small_log();
    bytes[SEGMENT_OFFSET] = 7;
    let crc = crc32c::crc32c(&bytes[..12]);
    bytes[12..16].copy_from_slice(&crc.to_le_bytes());
    let mem = MemStorage::new();
    mem.put_file(&seg_path(0), &bytes);
    let (_, recovery) = open(&mem, Options::default());
    let c = recovery.corruption.unwrap();
    assert_eq!(c.reason, CorruptionReason::SegmentMismatch { found: 7 });
    assert_eq!((c.offset, c.record_start), (SEGMENT_OFFSET as u64, 0));
}

#[test]
fn a_hole_in_segment_numbers_is_an_error() {
    let records: Vec<Vec<u8>> = (0..30).map(|i| record(i, 50)).collect();
    let (mem, _) = write_log(Options::default().segment_size(256), &records);
    let mem2 = MemStorage::new();
    for s in [0, 1, 3, 4] {
        mem2.put_file(&seg_path(s), &mem.live_bytes(&seg_path(s)).unwrap());
    }
    let err = Wal::open_with(Arc::new(mem2.clone()), dir(), Options::default()).unwrap_err();
    assert!(
        matches!(err, Error::MissingSegment { segment: 2, .. }),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "/data/wal: WAL segment 2 is missing between existing segments"
    );
    assert!(mem2.live_bytes(&seg_path(4)).is_some(), "nothing removed");
}

/// Random bytes as a segment, and random bytes after a valid header: never a panic.
#[test]
fn random_bytes() {
    let mut state = 7u64;
    let header = small_log().0[..HEADER_LEN].to_vec();
    for n in 0..300 {
        let len = (crate::common::splitmix64(&mut state) % 600) as usize;
        let mut bytes: Vec<u8> = (0..len)
            .map(|_| crate::common::splitmix64(&mut state) as u8)
            .collect();
        if n % 2 == 0 {
            bytes.splice(0..0, header.iter().copied());
        }
        cairn_wal::fuzzing::run(&bytes);
    }
}

/// A crash in the middle of repair (any of its syncs failing, then power lost) leaves a log
/// that the next open repairs to the same records: never a clean segment followed by stale
/// ones that would bring back records from after the damage.
#[test]
fn crash_during_repair() {
    let records: Vec<Vec<u8>> = (0..40).map(|i| record(i, 40)).collect();
    let options = Options::default().segment_size(300);
    let (clean, pos) = write_log(options.clone(), &records);
    let last = pos.last().unwrap().segment;
    assert!(last >= 3);
    let all: Vec<(RecordPos, Vec<u8>)> = pos.into_iter().zip(records).collect();
    // Damage the second record of segment 1, or the header of segment 1.
    for damaged in [HEADER_LEN + 47 + 3, 2] {
        let want: Vec<_> = all
            .iter()
            .filter(|r| r.0.segment < 1 || (r.0.segment == 1 && end(r) <= damaged as u64))
            .cloned()
            .collect();
        for n in 1..=6 {
            for torn in [false, true] {
                let mem = MemStorage::new();
                for s in 0..=last {
                    let mut bytes = clean.live_bytes(&seg_path(s)).unwrap();
                    if s == 1 {
                        bytes[damaged] ^= 0x40;
                    }
                    mem.put_file(&seg_path(s), &bytes);
                }
                mem.fail_sync(n);
                let first = Wal::open_with(Arc::new(mem.clone()), dir(), options.clone());
                drop(first);
                if torn {
                    mem.crash_torn(n);
                } else {
                    mem.crash();
                }
                mem.clear_sync_failure();
                let (_, recovery) = open(&mem, options.clone());
                let ctx = format!("damage at {damaged}, sync {n} failed: {recovery}");
                assert_eq!(read_all(&mem), want, "{ctx}");
            }
        }
    }
}
