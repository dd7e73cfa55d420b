//! Damaged records: the table of exact errors in `testdata/record/errors.txt`, and the fuzz
//! body over random bytes, mutated records and every cut and bit flip of the examples.

use cairn_store::record::fuzzing;
use cairn_store::record::{DecodeErrorKind, Record};
use proptest::prelude::*;

use crate::common::{any_record, crate_dir, examples, hex, splitmix64};

#[test]
fn error_table() {
    let path = crate_dir().join("testdata/record/errors.txt");
    let table = std::fs::read_to_string(&path).unwrap();
    let mut failures = Vec::new();
    let mut cases = 0;
    for (i, line) in table.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let [how, bytes, want] = line.splitn(3, '|').map(str::trim).collect::<Vec<_>>()[..] else {
            panic!(
                "{}:{}: expected `how | hex | message`",
                path.display(),
                i + 1
            );
        };
        let bytes = hex(bytes);
        let err = match how {
            "one" => Record::decode(&bytes).err(),
            "all" => Record::decode_all(&bytes).find_map(Result::err),
            _ => panic!("{}:{}: `how` is `one` or `all`", path.display(), i + 1),
        };
        let got = err
            .map(|e| e.to_string())
            .unwrap_or_else(|| "no error".to_owned());
        if got != want {
            failures.push(format!("line {}:\n  want {want}\n  got  {got}", i + 1));
        }
        fuzzing::run(&bytes);
        cases += 1;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(cases >= 30, "{cases}");
}

#[test]
fn the_unknown_type_message_starts_as_documented() {
    let e = Record::decode(&[7, 0]).unwrap_err();
    assert!(e.to_string().starts_with("unknown record type 7 at byte 0"));
    assert_eq!(e.kind(), &DecodeErrorKind::UnknownType { tag: 7 });
    assert_eq!(e.offset(), 0);
}

#[test]
fn every_cut_and_bit_flip_of_the_examples() {
    let mut runs = 0;
    for (_, encoded) in examples() {
        for cut in 0..=encoded.len() {
            fuzzing::run(&encoded[..cut]);
            runs += 1;
        }
        for bit in 0..encoded.len() * 8 {
            let mut flipped = encoded.clone();
            flipped[bit / 8] ^= 1 << (bit % 8);
            fuzzing::run(&flipped);
            runs += 1;
        }
    }
    // All four examples back to back, as one WAL record.
    let all: Vec<u8> = examples().into_iter().flat_map(|(_, b)| b).collect();
    for cut in 0..=all.len() {
        fuzzing::run(&all[..cut]);
        runs += 1;
    }
    assert_eq!(runs, (217 + 4) + 217 * 8 + 218);
}

/// The densest inputs for memory: entries, labels and intervals of their smallest size, where
/// the fuzz body checks the decoded records' heap bytes against the input's length.
#[test]
fn smallest_entries_stay_within_the_memory_bound() {
    let n = 5_000usize;
    let count = [0x88, 0x27]; // 5000
    let mut wal_record = Vec::new();
    // `n` each of empty series, samples, exemplars and tombstones.
    for (tag, each, base) in [(1u8, 9, 0), (2, 10, 16), (3, 11, 16), (4, 9, 0)] {
        wal_record.push(tag);
        wal_record.extend(count);
        wal_record.extend(std::iter::repeat_n(0, base + each * n));
    }
    // `n` series labelled `{""=""}`: 11 bytes each.
    wal_record.push(1);
    wal_record.extend(count);
    for _ in 0..n {
        wal_record.extend([0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0]);
    }
    // One tombstone of `n` intervals `0..=0`: 2 bytes each.
    wal_record.extend([4, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    wal_record.extend(count);
    wal_record.extend(std::iter::repeat_n(0, 2 * n));

    let records: Vec<Record<'_>> = Record::decode_all(&wal_record)
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        records.iter().map(Record::len).collect::<Vec<_>>(),
        [n, n, n, n, n, 1]
    );
    fuzzing::run(&wal_record);

    // A label count the bytes can hold, of names that repeat: the decoder stops at the
    // second name.
    let mut labels = vec![1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0x88, 0x27];
    labels.extend(std::iter::repeat_n(0, 2 * n));
    assert_eq!(
        Record::decode(&labels).unwrap_err().to_string(),
        r#"duplicate label name "" at byte 15"#
    );
    fuzzing::run(&labels);
}

/// Seeded random bytes behind each tag and a small count, so that decoding gets past the
/// first byte: 4000 inputs.
#[test]
fn seeded_random_bodies() {
    let mut state = 0x5eed;
    for i in 0..4000u64 {
        let len = (splitmix64(&mut state) % 120) as usize;
        let mut data: Vec<u8> = (0..len).map(|_| splitmix64(&mut state) as u8).collect();
        if let Some(first) = data.first_mut() {
            *first = (i % 5) as u8; // 0 and the four known tags
        }
        if let Some(count) = data.get_mut(1) {
            *count %= 4;
        }
        fuzzing::run(&data);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn random_bytes(data in prop::collection::vec(any::<u8>(), 0..300)) {
        fuzzing::run(&data);
    }

    #[test]
    fn mutated_records(
        parts in prop::collection::vec(any_record(5), 1..4),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..4), 1..4),
    ) {
        let mut data = parts.concat();
        for (at, byte, how) in edits {
            if data.is_empty() {
                break;
            }
            let i = at.index(data.len());
            match how {
                0 => data[i] ^= byte | 1,      // flip bits
                1 => data.truncate(i),         // cut
                2 => data.insert(i, byte),     // insert a byte
                _ => { data.remove(i); }       // drop a byte
            }
        }
        fuzzing::run(&data);
    }
}
