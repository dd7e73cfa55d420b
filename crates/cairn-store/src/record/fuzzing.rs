//! The body of a record fuzz target, shared with stable `cargo test`, which runs it over
//! generated and damaged inputs.
//!
//! Not part of the API: it panics on purpose when an invariant breaks.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "a fuzz body reports a broken invariant by panicking"
)]

use super::{DecodeErrorKind, Record};

/// Heap bytes a decoded record may hold per input byte. The worst case is a label set of
/// empty names and values: 2 input bytes become one `(&str, &str)` pair of 32 bytes.
pub const MAX_HEAP_BYTES_PER_INPUT_BYTE: usize = 16;

/// Decodes `data` as one WAL record's worth of records and checks what must hold for any
/// bytes: decoding never panics; an error points inside the input and says something;
/// [`Record::decode`] agrees with [`Record::decode_all`]; the decoded records hold at most
/// [`MAX_HEAP_BYTES_PER_INPUT_BYTE`] heap bytes per input byte; and the records decoded before
/// any error re-encode to bytes that decode to the same records and re-encode to the same
/// bytes. (Re-encoded bytes may be longer than the input: a decoder accepts any base, an
/// encoder takes the first entry's.)
pub fn run(data: &[u8]) {
    let mut records = Vec::new();
    let mut iter = Record::decode_all(data);
    let mut error = None;
    for r in iter.by_ref() {
        match r {
            Ok(record) => records.push(record),
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    let consumed = iter.offset();
    assert!(consumed <= data.len());
    if let Some(e) = &error {
        assert!(e.offset() >= consumed && e.offset() <= data.len(), "{e}");
        assert!(!e.to_string().is_empty());
    }

    match Record::decode(data) {
        Ok(one) => {
            assert!(error.is_none());
            assert_eq!(records.as_slice(), std::slice::from_ref(&one));
        }
        Err(e) => {
            assert!(e.offset() <= data.len(), "{e}");
            assert!(!e.to_string().is_empty());
            match e.kind() {
                DecodeErrorKind::TrailingBytes { len } => {
                    assert!(!records.is_empty());
                    assert_eq!(e.offset() + len, data.len());
                }
                // No bytes are no records to `decode_all`, but not a record to `decode`.
                _ if data.is_empty() => assert!(records.is_empty() && error.is_none()),
                _ => assert_eq!(Some(&e), error.as_ref().filter(|_| records.is_empty())),
            }
        }
    }

    let heap: usize = records.iter().map(Record::heap_bytes).sum();
    assert!(
        heap <= MAX_HEAP_BYTES_PER_INPUT_BYTE * data.len(),
        "{heap} heap bytes from {} input bytes",
        data.len()
    );

    let mut encoded = Vec::new();
    for r in &records {
        r.encode(&mut encoded);
    }
    let again: Vec<Record<'_>> = Record::decode_all(&encoded)
        .collect::<Result<_, _>>()
        .expect("encoded records decode");
    assert_eq!(again, records);
    let mut reencoded = Vec::new();
    for r in &again {
        r.encode(&mut reencoded);
    }
    assert_eq!(reencoded, encoded);
}
