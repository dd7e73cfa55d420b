//! Pinned sizes and one byte-exact segment, so that the code and `FORMAT.md` cannot drift.

use cairn_wal::format::{
    DEFAULT_SEGMENT_SIZE, FLAGS_OFFSET, FRAGMENT_CRC_OFFSET, FRAGMENT_HEADER_LEN,
    FRAGMENT_LEN_OFFSET, FRAGMENT_TYPE_OFFSET, FragmentType, HEADER_CRC_OFFSET, HEADER_LEN, MAGIC,
    MAGIC_OFFSET, MAX_FRAGMENT_LEN, MAX_RECORD_LEN, MAX_SEGMENT_SIZE, MIN_SEGMENT_SIZE,
    SEGMENT_OFFSET, VERSION, VERSION_OFFSET, encoded_len, max_record_len,
};
use cairn_wal::{CorruptionReason, Error, MemStorage, Options, RecordPos};

use crate::common::{dir, open, read_all, read_until_error, seg_path};

/// The example of `FORMAT.md`: segment 1 holding `"cairn"` and `""`.
const GOLDEN: [u8; 35] = [
    0x43, 0x57, 0x41, 0x4c, // magic "CWAL"
    0x01, // version 1
    0x00, 0x00, 0x00, // flags
    0x01, 0x00, 0x00, 0x00, // segment 1
    0xa8, 0xdb, 0x54, 0x0d, // CRC32C of bytes 0..12
    0x01, // full
    0x05, 0x00, // len 5
    0x37, 0xb7, 0x68, 0x23, // CRC32C(01 05 00 "cairn")
    0x63, 0x61, 0x69, 0x72, 0x6e, // "cairn"
    0x01, // full
    0x00, 0x00, // len 0
    0x04, 0x31, 0x25, 0xc5, // CRC32C(01 00 00)
];

#[test]
fn header_and_fragment_constants() {
    assert_eq!(MAGIC, *b"CWAL");
    assert_eq!(VERSION, 1);
    assert_eq!(
        [
            MAGIC_OFFSET,
            VERSION_OFFSET,
            FLAGS_OFFSET,
            SEGMENT_OFFSET,
            HEADER_CRC_OFFSET,
            HEADER_LEN
        ],
        [0, 4, 5, 8, 12, 16]
    );
    assert_eq!(
        [
            FRAGMENT_TYPE_OFFSET,
            FRAGMENT_LEN_OFFSET,
            FRAGMENT_CRC_OFFSET,
            FRAGMENT_HEADER_LEN
        ],
        [0, 1, 3, 7]
    );
    assert_eq!(MAX_FRAGMENT_LEN, 65_535);
    assert_eq!(MIN_SEGMENT_SIZE, 64);
    assert_eq!(DEFAULT_SEGMENT_SIZE, 128 << 20);
    assert_eq!(MAX_SEGMENT_SIZE, 1 << 30);
    // The sizes FORMAT.md quotes.
    assert_eq!(max_record_len(DEFAULT_SEGMENT_SIZE), 134_203_376);
    assert_eq!(MAX_RECORD_LEN, 1_073_627_127);
    assert_eq!(max_record_len(MIN_SEGMENT_SIZE), 41);
    assert_eq!(encoded_len(0), 7);
    assert_eq!(encoded_len(65_535), 65_542);
    assert_eq!(encoded_len(65_536), 65_550);
    for (b, t) in [
        (1, Some(FragmentType::Full)),
        (2, Some(FragmentType::First)),
        (3, Some(FragmentType::Middle)),
        (4, Some(FragmentType::Last)),
        (0, None),
        (5, None),
        (255, None),
    ] {
        assert_eq!(FragmentType::from_byte(b), t);
    }
}

/// The checksum is CRC32C (Castagnoli), not the zlib CRC-32: pin the standard check values.
#[test]
fn checksum_is_castagnoli() {
    assert_eq!(crc32c::crc32c(b"123456789"), 0xe306_9283);
    assert_ne!(
        crc32c::crc32c(b"123456789"),
        0xcbf4_3926,
        "that is CRC-32/ISO-HDLC"
    );
    // The header checksum in the golden segment, recomputed with a bitwise reference.
    assert_eq!(bitwise_crc32c(&GOLDEN[..12]), 0x0d54_dba8);
    let mut fragment = GOLDEN[16..19].to_vec();
    fragment.extend_from_slice(b"cairn");
    assert_eq!(bitwise_crc32c(&fragment), 0x2368_b737);
    assert_eq!(crc32c::crc32c(&fragment), 0x2368_b737);
}

/// CRC32C one bit at a time, independent of the `crc32c` crate.
fn bitwise_crc32c(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0x82f6_3b78
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn golden_segment_is_written_byte_for_byte() {
    let mem = MemStorage::new();
    let (mut wal, _) = open(&mem, Options::default());
    assert_eq!(wal.cut_segment().unwrap(), 1);
    assert_eq!(wal.truncate_before(1).unwrap(), 1);
    let a = wal.append(b"cairn").unwrap();
    let b = wal.append(b"").unwrap();
    wal.close().unwrap();
    assert_eq!(
        a,
        RecordPos {
            segment: 1,
            offset: 16
        }
    );
    assert_eq!(
        b,
        RecordPos {
            segment: 1,
            offset: 28
        }
    );
    assert_eq!(mem.live_bytes(&seg_path(1)).unwrap(), GOLDEN);
    assert_eq!(mem.live_bytes(&seg_path(0)), None);
}

#[test]
fn golden_segment_reads_back() {
    let mem = MemStorage::new();
    mem.put_file(&seg_path(1), &GOLDEN);
    assert_eq!(
        read_all(&mem),
        vec![
            (RecordPos::start_of(1), b"cairn".to_vec()),
            (
                RecordPos {
                    segment: 1,
                    offset: 28
                },
                Vec::new()
            )
        ]
    );
}

/// The golden segment with the last fragment's CRC damaged: the first record survives, the
/// error names the file, segment, byte and reason in words.
#[test]
fn golden_corrupt_segment() {
    let mut bad = GOLDEN;
    bad[31] ^= 0x10;
    let mem = MemStorage::new();
    mem.put_file(&seg_path(1), &bad);

    let (records, err) = read_until_error(&mem);
    assert_eq!(records.len(), 1);
    let Some(Error::Corrupt(c)) = err else {
        panic!("expected corruption, got {err:?}");
    };
    assert_eq!((c.segment, c.offset, c.record_start), (1, 31, 28));
    assert_eq!(
        c.reason,
        CorruptionReason::FragmentChecksum {
            stored: 0xc525_3114,
            computed: 0xc525_3104
        }
    );
    assert_eq!(
        c.to_string(),
        "/data/wal/00000001: WAL segment 1 is corrupt at byte 31: fragment checksum mismatch: \
         stored CRC32C 0xc5253114, computed 0xc5253104; whole records end at byte 28"
    );

    let (_, recovery) = open(&mem, Options::default());
    assert_eq!(recovery.corruption, Some(c));
    let t = recovery.truncated.as_ref().unwrap();
    assert_eq!((t.segment, t.old_len, t.new_len), (1, 35, 28));
    assert_eq!(t.path, dir().join("00000001"));
    assert_eq!(mem.live_bytes(&seg_path(1)).unwrap(), GOLDEN[..28]);
}
