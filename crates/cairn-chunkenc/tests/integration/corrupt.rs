//! Hand-made broken chunks: each gives an error that says what and where, never a panic.

use cairn_chunkenc::{ErrorKind, XorAppender, XorIterator};

use crate::common::{decode, encode};

#[test]
fn missing_header() {
    for chunk in [&[][..], &[0x00]] {
        let err = decode(chunk).unwrap_err();
        assert_eq!(*err.kind(), ErrorKind::MissingHeader { len: chunk.len() });
        assert_eq!(err.offset(), chunk.len());
        assert_eq!(
            err.to_string(),
            format!(
                "XOR chunk truncated at byte offset {0}: expected a 2-byte sample count, found {0} byte(s)",
                chunk.len()
            )
        );
        assert_eq!(XorIterator::new(chunk).num_samples(), 0);
        assert!(XorAppender::resume(chunk.to_vec()).is_err());
    }
}

#[test]
fn more_samples_promised_than_stored() {
    let mut chunk = encode(&[(1, 1.0f64.to_bits())]);
    chunk[1] = 3;
    let mut it = XorIterator::new(&chunk);
    assert_eq!(it.next(), Some((1, 1.0)));
    assert_eq!(it.next(), None);
    let err = it.err().unwrap().clone();
    assert_eq!(
        *err.kind(),
        ErrorKind::Truncated {
            sample: 1,
            samples: 3
        }
    );
    assert_eq!(err.offset(), 11);
    assert_eq!(
        err.to_string(),
        "XOR chunk truncated at byte offset 11: sample 1 of the 3 the header promises runs past the end"
    );
    assert_eq!(it.next(), None, "stays stopped");
    assert_eq!(it.seek(0), None);
}

#[test]
fn varint_overflow() {
    let mut chunk = vec![0x00, 0x01];
    chunk.extend([0xff; 10]);
    chunk.extend([0; 8]);
    let err = decode(&chunk).unwrap_err();
    assert_eq!(*err.kind(), ErrorKind::VarintOverflow { sample: 0 });
    assert_eq!(err.offset(), 2);
    assert!(err.to_string().contains("byte offset 2"), "{err}");

    // Ten bytes whose last one carries more than the 64th bit.
    let mut chunk = encode(&[(0, 0.0f64.to_bits())]);
    chunk[1] = 2;
    chunk.extend([0x80; 9]);
    chunk.extend([0x02, 0x00]);
    let err = decode(&chunk).unwrap_err();
    assert_eq!(*err.kind(), ErrorKind::VarintOverflow { sample: 1 });
    assert_eq!(err.offset(), 11);
}

#[test]
fn xor_window_over_64_bits() {
    // Sample 0: t = 0, v = 0.0; sample 1: delta 1, then a value header `11` with 31 leading
    // zeros and 63 significant bits.
    let mut chunk = vec![0x00, 0x02, 0x00];
    chunk.extend([0; 8]);
    chunk.push(0x01);
    chunk.extend([0b1111_1111, 0b1111_1000, 0, 0, 0, 0, 0, 0, 0, 0]);
    let err = decode(&chunk).unwrap_err();
    assert_eq!(
        *err.kind(),
        ErrorKind::BadXorWindow {
            sample: 1,
            leading: 31,
            significant: 63
        }
    );
    assert_eq!(err.offset(), 12);
    assert_eq!(
        err.to_string(),
        "XOR chunk corrupt at byte offset 12: the value of sample 1 has 31 leading zero bits \
         and 63 significant bits, more than 64"
    );
}

#[test]
fn every_truncation_of_a_chunk_errors_at_its_end() {
    let samples: Vec<_> = (0..50)
        .map(|i| (i * 15_000 + i % 3, ((i * i) as f64).to_bits()))
        .collect();
    let chunk = encode(&samples);
    for len in 0..chunk.len() {
        let cut = &chunk[..len];
        let err = decode(cut).unwrap_err();
        assert_eq!(err.offset(), len, "cut at {len}: {err}");
        assert!(
            matches!(
                err.kind(),
                ErrorKind::Truncated { .. } | ErrorKind::MissingHeader { .. }
            ),
            "cut at {len}: {err}"
        );
    }
}

#[test]
fn resume_refuses_trailing_bytes() {
    let mut chunk = encode(&[(1, 1.0f64.to_bits()), (2, 2.0f64.to_bits())]);
    let end = chunk.len();
    chunk.push(0);
    // Readers ignore what follows the last sample, as Prometheus does.
    assert_eq!(decode(&chunk).unwrap().len(), 2);
    let err = XorAppender::resume(chunk).unwrap_err();
    assert_eq!(*err.kind(), ErrorKind::TrailingBytes { len: end + 1 });
    assert_eq!(err.offset(), end);
    assert_eq!(
        err.to_string(),
        format!(
            "XOR chunk has 1 byte(s) after its last sample, from byte offset {end}; expected the chunk to end there"
        )
    );
}

#[test]
fn errors_are_std_errors() {
    fn takes(_: &dyn std::error::Error) {}
    takes(&decode(&[]).unwrap_err());
}
