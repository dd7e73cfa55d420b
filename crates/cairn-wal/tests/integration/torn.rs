//! A torn tail: the newest segment cut at every byte length. Open must keep exactly the
//! records wholly before the cut, report the cut with file and offset, and accept new appends.

use cairn_wal::format::{FRAGMENT_HEADER_LEN, HEADER_LEN, MAX_FRAGMENT_LEN, encoded_len};
use cairn_wal::{CorruptionReason, MemStorage, Options, RecordPos};

use crate::common::{open, read_all, record, seg_path, write_log};

struct Log {
    options: Options,
    /// Every segment's bytes, oldest first.
    segments: Vec<(u32, Vec<u8>)>,
    records: Vec<(RecordPos, Vec<u8>)>,
}

fn make_log(segment_size: u64, lens: &[usize]) -> Log {
    let options = Options::default().segment_size(segment_size);
    let records: Vec<Vec<u8>> = lens
        .iter()
        .enumerate()
        .map(|(i, &n)| record(i as u64, n))
        .collect();
    let (mem, pos) = write_log(options.clone(), &records);
    let last = pos.last().unwrap().segment;
    let segments = (0..=last)
        .map(|s| (s, mem.live_bytes(&seg_path(s)).unwrap()))
        .collect();
    Log {
        options,
        segments,
        records: pos.into_iter().zip(records).collect(),
    }
}

/// Cuts the newest segment to `cut` bytes, opens, and checks everything the test promises.
fn check_cut(log: &Log, cut: usize) {
    let (last, last_bytes) = log.segments.last().unwrap();
    let last = *last;
    let mem = MemStorage::new();
    for (s, bytes) in &log.segments {
        let bytes = if *s == last { &bytes[..cut] } else { bytes };
        mem.put_file(&seg_path(*s), bytes);
    }
    let end = |(p, d): &(RecordPos, Vec<u8>)| p.offset as usize + encoded_len(d.len());
    let kept: Vec<(RecordPos, Vec<u8>)> = log
        .records
        .iter()
        .filter(|r| r.0.segment < last || end(r) <= cut)
        .cloned()
        .collect();
    let boundary = log
        .records
        .iter()
        .filter(|r| r.0.segment == last && end(r) <= cut)
        .map(end)
        .max()
        .unwrap_or(HEADER_LEN);

    let (mut wal, recovery) = open(&mem, log.options.clone());
    let ctx = format!("cut at {cut} of {}: {recovery}", last_bytes.len());
    assert_eq!(recovery.records, kept.len() as u64, "{ctx}");
    if cut < HEADER_LEN {
        let c = recovery.corruption.as_ref().expect(&ctx);
        assert_eq!(
            c.reason,
            CorruptionReason::TruncatedHeader { len: cut as u64 },
            "{ctx}"
        );
        assert_eq!(
            (c.segment, c.offset, c.record_start),
            (last, cut as u64, 0),
            "{ctx}"
        );
        assert!(c.is_torn());
        assert_eq!(recovery.removed.len(), 1, "{ctx}");
        assert_eq!(recovery.removed[0].segment, last);
        assert_eq!(recovery.removed[0].path, seg_path(last));
        assert_eq!(recovery.truncated, None);
    } else if cut == boundary {
        assert!(recovery.is_clean(), "{ctx}");
        assert_eq!(recovery.truncated, None);
        assert!(recovery.removed.is_empty());
    } else {
        let c = recovery.corruption.as_ref().expect(&ctx);
        assert!(c.is_torn(), "{ctx}");
        assert_eq!(c.path, seg_path(last), "{ctx}");
        assert_eq!(c.segment, last);
        assert_eq!(c.offset, cut as u64, "{ctx}");
        assert_eq!(c.record_start, boundary as u64, "{ctx}");
        let shown = c.to_string();
        assert!(
            shown.contains(&format!("{}", seg_path(last).display())),
            "{shown}"
        );
        assert!(shown.contains(&format!("at byte {cut}")), "{shown}");
        let t = recovery.truncated.as_ref().expect(&ctx);
        assert_eq!(t.path, seg_path(last));
        assert_eq!(
            (t.segment, t.old_len, t.new_len),
            (last, cut as u64, boundary as u64)
        );
        assert!(recovery.removed.is_empty());
        assert_eq!(
            mem.live_bytes(&seg_path(last)).unwrap(),
            last_bytes[..boundary]
        );
        assert_eq!(
            mem.durable_bytes(&seg_path(last)).unwrap(),
            last_bytes[..boundary]
        );
    }
    assert_eq!(read_all(&mem), kept, "{ctx}");

    // The repaired log takes new records after the kept ones.
    let a = wal.append(b"new 1").unwrap();
    let b = wal.append(&record(999, 70)).unwrap();
    wal.commit().unwrap();
    drop(wal);
    let (_, again) = open(&mem, log.options.clone());
    assert!(again.is_clean(), "{ctx}: {again}");
    let mut want = kept;
    want.push((a, b"new 1".to_vec()));
    want.push((b, record(999, 70)));
    assert_eq!(read_all(&mem), want, "{ctx}");
}

#[test]
fn one_segment_cut_at_every_byte() {
    let lens: Vec<usize> = (0..40).map(|i| (i * 13) % 90).collect();
    let log = make_log(64 * 1024, &lens);
    assert_eq!(log.segments.len(), 1);
    for cut in 0..=log.segments[0].1.len() {
        check_cut(&log, cut);
    }
}

#[test]
fn newest_of_several_segments_cut_at_every_byte() {
    let lens: Vec<usize> = (0..60).map(|i| (i * 29) % 120).collect();
    let log = make_log(512, &lens);
    assert!(log.segments.len() >= 4, "{} segments", log.segments.len());
    for cut in 0..=log.segments.last().unwrap().1.len() {
        check_cut(&log, cut);
    }
}

/// A record of three fragments: every cut near a fragment boundary, and a sample between.
#[test]
fn multi_fragment_record_cut_near_every_boundary() {
    let big = 2 * MAX_FRAGMENT_LEN + 1_000;
    let log = make_log(300_000, &[10, big, 20]);
    let len = log.segments[0].1.len();
    let start = HEADER_LEN + encoded_len(10);
    let boundaries = [
        0,
        HEADER_LEN,
        start,
        start + FRAGMENT_HEADER_LEN + MAX_FRAGMENT_LEN,
        start + 2 * (FRAGMENT_HEADER_LEN + MAX_FRAGMENT_LEN),
        start + encoded_len(big),
        len,
    ];
    let mut cuts: Vec<usize> = boundaries
        .iter()
        .flat_map(|&b| b.saturating_sub(9)..=(b + 9).min(len))
        .chain((0..len).step_by(1_009))
        .collect();
    cuts.sort_unstable();
    cuts.dedup();
    for cut in cuts {
        check_cut(&log, cut);
    }
}
