//! Damaged indexes: every flipped bit of the golden index is caught by a checksum and named by
//! section and offset; truncations and extensions are refused; bytes whose checksums were
//! recomputed after the damage hit the structural checks; random bytes never panic.

use cairn_index::format::{
    ENTRY_CRC_OFFSET, ENTRY_LEN, ENTRY_LEN_OFFSET, ENTRY_OFFSET_OFFSET, HEADER_CRC_OFFSET,
    HEADER_LEN, MAGIC, SECTION_COUNT, TOC_CRC_OFFSET, TOC_LEN, VERSION_OFFSET,
};
use cairn_index::{Corruption, CorruptionReason, Error, IndexReader, Section, fuzzing};
use cairn_model::Labels;
use proptest::prelude::*;

use crate::common::{block_series, labels, write};
use crate::pinned::{GOLDEN, GOLDEN_PARTS};

fn open_err(bytes: &[u8]) -> Error {
    let err = IndexReader::from_bytes(bytes).unwrap_err();
    fuzzing::run(bytes);
    err
}

fn part_of(offset: usize) -> (Section, usize) {
    let (section, start, _) = GOLDEN_PARTS
        .iter()
        .copied()
        .find(|&(_, start, end)| (start..end).contains(&offset))
        .unwrap();
    (section, start)
}

#[test]
fn every_bit_flip_is_detected_and_located() {
    for i in 0..GOLDEN.len() {
        for bit in 0..8 {
            let mut bytes = GOLDEN;
            bytes[i] ^= 1 << bit;
            let Error::Corrupt(Corruption {
                section,
                offset,
                reason,
            }) = open_err(&bytes)
            else {
                panic!("flip at {i}: not reported as corruption");
            };
            let (part, start) = part_of(i);
            assert_eq!(section, part, "flip at {i}");
            let want_offset = match part {
                Section::Header if i < MAGIC.len() => 0,
                Section::Header => HEADER_CRC_OFFSET,
                Section::Toc => GOLDEN.len() - TOC_LEN + TOC_CRC_OFFSET,
                _ => start,
            };
            assert_eq!(offset as usize, want_offset, "flip at {i}");
            match reason {
                CorruptionReason::BadMagic { .. } => assert!(i < MAGIC.len()),
                CorruptionReason::Checksum { stored, computed } => assert_ne!(stored, computed),
                other => panic!("flip at {i}: {other:?}"),
            }
        }
    }
}

#[test]
fn error_messages_name_section_and_offset() {
    let mut bytes = GOLDEN;
    bytes[40] ^= 0xff;
    assert_eq!(
        open_err(&bytes).to_string(),
        "corrupt index: postings at byte 36: CRC32C mismatch: stored 0xef6a28dc, computed 0x359e62a5"
    );
    let mut bytes = GOLDEN;
    bytes[0] = b'X';
    assert_eq!(
        open_err(&bytes).to_string(),
        "corrupt index: header at byte 0: expected magic 43 49 44 58 (\"CIDX\"), found 58 49 44 58"
    );
    // 100 bytes: the "table of contents" read from the last 84 is bytes 16..100.
    assert!(
        open_err(&GOLDEN[..100])
            .to_string()
            .starts_with("corrupt index: table of contents at byte 96: CRC32C mismatch: stored ")
    );
}

#[test]
fn truncated_and_extended_indexes_are_refused() {
    for len in 0..GOLDEN.len() {
        assert!(
            matches!(open_err(&GOLDEN[..len]), Error::Corrupt(_)),
            "len {len}"
        );
    }
    assert_eq!(
        open_err(&GOLDEN[..5]),
        Error::Corrupt(Corruption {
            section: Section::Header,
            offset: 5,
            reason: CorruptionReason::TooShort { len: 5 }
        })
    );
    let mut longer = GOLDEN.to_vec();
    longer.push(0);
    assert!(matches!(open_err(&longer), Error::Corrupt(_)));
    let mut doubled = GOLDEN.to_vec();
    doubled.extend_from_slice(&GOLDEN);
    assert!(matches!(open_err(&doubled), Error::Corrupt(_)));
}

#[test]
fn other_versions_are_unsupported_not_corrupt() {
    let mut bytes = GOLDEN;
    bytes[VERSION_OFFSET] = 2;
    bytes[VERSION_OFFSET + 1] = 1;
    let crc = crc32c::crc32c(&bytes[..HEADER_CRC_OFFSET]);
    bytes[HEADER_CRC_OFFSET..HEADER_LEN].copy_from_slice(&crc.to_le_bytes());
    let err = open_err(&bytes);
    assert_eq!(
        err,
        Error::Unsupported {
            version: 2,
            flags: [1, 0, 0]
        }
    );
    assert_eq!(
        err.to_string(),
        "unsupported index: version 2 with flags 010000, expected version 1 with no flags"
    );
}

/// Recomputes every checksum of `bytes` that its own table of contents lets us find, so that a
/// mutation reaches the structural checks behind them.
fn rechecksum(bytes: &mut [u8]) {
    if bytes.len() < HEADER_LEN + TOC_LEN {
        return;
    }
    let crc = crc32c::crc32c(&bytes[..HEADER_CRC_OFFSET]);
    bytes[HEADER_CRC_OFFSET..HEADER_LEN].copy_from_slice(&crc.to_le_bytes());
    let toc = bytes.len() - TOC_LEN;
    for i in 0..SECTION_COUNT {
        let entry = toc + i * ENTRY_LEN;
        let field = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap());
        let offset = field(entry + ENTRY_OFFSET_OFFSET) as usize;
        let len = field(entry + ENTRY_LEN_OFFSET) as usize;
        if let Some(section) = offset
            .checked_add(len)
            .filter(|&e| e <= toc)
            .map(|e| &bytes[offset..e])
        {
            let crc = crc32c::crc32c(section);
            bytes[entry + ENTRY_CRC_OFFSET..entry + ENTRY_CRC_OFFSET + 4]
                .copy_from_slice(&crc.to_le_bytes());
        }
    }
    let crc = crc32c::crc32c(&bytes[toc..toc + TOC_CRC_OFFSET]);
    bytes[toc + TOC_CRC_OFFSET..].copy_from_slice(&crc.to_le_bytes());
}

fn medium_index() -> Vec<u8> {
    let mut series = Vec::new();
    for i in 0..40 {
        series.push(labels(&[
            ("__name__", if i % 3 == 0 { "up" } else { "http_total" }),
            ("instance", &format!("h{}", i % 7)),
            ("code", &format!("{}", 200 + i % 4)),
        ]));
    }
    write(&block_series(&series))
}

/// With the checksums made to hold again, damage must still be refused by the structural
/// checks, or be harmless: lookups on what opens never panic.
#[test]
fn damage_behind_valid_checksums_is_refused_or_harmless() {
    let mut refused = 0;
    let mut opened = 0;
    for base in [GOLDEN.to_vec(), medium_index()] {
        let body_end = base.len() - TOC_LEN;
        for i in 0..base.len() {
            for x in [0x01, 0x80, 0xff] {
                let mut bytes = base.clone();
                bytes[i] ^= x;
                rechecksum(&mut bytes);
                fuzzing::run(&bytes);
                match IndexReader::from_bytes(bytes.as_slice()) {
                    Ok(_) => opened += 1,
                    Err(Error::Corrupt(c)) => {
                        refused += 1;
                        if (HEADER_LEN..body_end).contains(&i) {
                            assert!(
                                matches!(c.reason, CorruptionReason::Malformed(_)),
                                "byte {i} ^ {x:#x}: {c}"
                            );
                        }
                    }
                    Err(Error::Unsupported { .. }) => refused += 1,
                    Err(other) => panic!("byte {i}: {other}"),
                }
            }
        }
    }
    // Most damage breaks a rule; some (a changed symbol that stays sorted) is just other data.
    assert!(refused > 4 * opened, "refused {refused}, opened {opened}");
}

#[test]
fn fuzzing_run_on_valid_indexes() {
    fuzzing::run(&GOLDEN);
    fuzzing::run(&medium_index());
    fuzzing::run(&write(&[Labels::new()]));
    fuzzing::run(&[]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        fuzzing::run(&bytes);
    }

    /// Random section bodies inside a valid frame, checksums right: only structure checks
    /// stand between them and the lookups.
    #[test]
    fn random_sections_in_a_valid_frame_never_panic(
        sections in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..48), 4),
        counts in prop::collection::vec(0u32..6, 4),
    ) {
        let mut bytes = GOLDEN[..HEADER_LEN].to_vec();
        let mut toc = Vec::new();
        for (body, count) in sections.iter().zip(&counts) {
            let mut section = count.to_le_bytes().to_vec();
            section.extend_from_slice(body);
            toc.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
            toc.extend_from_slice(&(section.len() as u64).to_le_bytes());
            toc.extend_from_slice(&crc32c::crc32c(&section).to_le_bytes());
            bytes.extend_from_slice(&section);
        }
        toc.extend_from_slice(&crc32c::crc32c(&toc).to_le_bytes());
        bytes.extend_from_slice(&toc);
        fuzzing::run(&bytes);
        if let Err(Error::Corrupt(c)) = IndexReader::from_bytes(bytes.as_slice()) {
            prop_assert!(matches!(c.reason, CorruptionReason::Malformed(_)), "{}", c);
        }
    }
}
