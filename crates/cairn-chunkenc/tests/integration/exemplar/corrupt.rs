//! Hand-made broken exemplar chunks: each gives an error that says what and where, never a
//! panic; and every truncation of the golden chunk is an error at its end.

use cairn_chunkenc::exemplar::{ExemplarAppender, ExemplarErrorKind as Kind, ExemplarIterator};

use super::{decode, encode, exemplar, golden_chunk};

/// Builds chunk bytes bit by bit, most significant bit first, like the format.
struct Bits {
    bytes: Vec<u8>,
    /// Bits used in the last byte, 0..=7 (0: the last byte is complete).
    used: u32,
}

impl Bits {
    /// A chunk header counting `count` exemplars.
    fn chunk(count: u16) -> Self {
        Bits {
            bytes: count.to_be_bytes().to_vec(),
            used: 0,
        }
    }

    /// Continues `bytes`, which end on a byte boundary.
    fn after(bytes: Vec<u8>) -> Self {
        Bits { bytes, used: 0 }
    }

    fn bits(mut self, value: u64, n: u32) -> Self {
        for i in (0..n).rev() {
            let bit = ((value >> i) & 1) as u8;
            if self.used == 0 {
                self.bytes.push(0);
            }
            *self.bytes.last_mut().unwrap() |= bit << (7 - self.used);
            self.used = (self.used + 1) % 8;
        }
        self
    }

    fn align(mut self) -> Self {
        self.used = 0;
        self
    }

    fn bytes(mut self, bytes: &[u8]) -> Self {
        assert_eq!(self.used, 0, "byte fields start at a byte boundary");
        self.bytes.extend_from_slice(bytes);
        self
    }

    /// Exemplar 0 up to its set reference: timestamp 0 (varint byte 0), value 0.0 in the
    /// plain form (`0` and 64 raw bits), ending at bit 1 of byte 11.
    fn first(self) -> Self {
        self.bytes(&[0x00]).bits(0b0, 1).bits(0, 64)
    }

    /// `11`, padding: a new set whose count follows, at byte 12 after [`first`].
    fn new_set(self) -> Self {
        self.bits(0b11, 2).align()
    }

    fn done(self) -> Vec<u8> {
        self.bytes
    }
}

/// The error a chunk decodes to, with its offset and message.
fn error_of(chunk: &[u8]) -> (Kind, usize, String) {
    let err = decode(chunk).unwrap_err();
    (err.kind().clone(), err.offset(), err.to_string())
}

#[test]
fn missing_header() {
    for chunk in [&[][..], &[0x00]] {
        let (kind, offset, msg) = error_of(chunk);
        assert_eq!(kind, Kind::MissingHeader { len: chunk.len() });
        assert_eq!(offset, chunk.len());
        assert_eq!(
            msg,
            format!(
                "exemplar chunk truncated at byte offset {0}: expected a 2-byte exemplar count, found {0} byte(s)",
                chunk.len()
            )
        );
        assert_eq!(ExemplarIterator::new(chunk).num_exemplars(), 0);
        assert!(ExemplarAppender::resume(chunk.to_vec()).is_err());
    }
}

#[test]
fn more_exemplars_promised_than_stored() {
    for labels in [&[][..], &[("trace_id", "0af7651916cd43dd8448eb211c80319c")]] {
        let mut chunk = encode(&[exemplar(1, 1.0, labels)]);
        chunk[1] = 3;
        let mut it = ExemplarIterator::new(&chunk);
        assert_eq!(it.next().map(|e| e.t), Some(1));
        assert!(it.next().is_none());
        let err = it.err().unwrap().clone();
        assert_eq!(
            *err.kind(),
            Kind::Truncated {
                exemplar: 1,
                exemplars: 3
            }
        );
        assert_eq!(err.offset(), chunk.len());
        assert_eq!(
            err.to_string(),
            format!(
                "exemplar chunk truncated at byte offset {}: exemplar 1 of the 3 the header promises runs past the end",
                chunk.len()
            )
        );
        assert!(it.next().is_none(), "stays stopped");
        assert!(it.seek(0).is_none());
    }
}

#[test]
fn first_timestamp_varint_overflow() {
    let chunk = Bits::chunk(1).bytes(&[0xff; 10]).bytes(&[0; 10]).done();
    let (kind, offset, msg) = error_of(&chunk);
    assert_eq!(kind, Kind::VarintOverflow { exemplar: 0 });
    assert_eq!(offset, 2);
    assert_eq!(
        msg,
        "exemplar chunk corrupt at byte offset 2: a varint of exemplar 0 does not fit in 64 bits"
    );
}

#[test]
fn label_count_varint_overflow() {
    let chunk = Bits::chunk(1)
        .first()
        .new_set()
        .bytes(&[0xff; 10])
        .bytes(&[0; 4])
        .done();
    assert_eq!(error_of(&chunk).0, Kind::VarintOverflow { exemplar: 0 });
    assert_eq!(error_of(&chunk).1, 12);
}

#[test]
fn first_exemplar_without_a_set() {
    let chunk = Bits::chunk(1).first().bits(0b0, 1).done();
    let (kind, offset, msg) = error_of(&chunk);
    assert_eq!(kind, Kind::NoPreviousLabelSet);
    assert_eq!(offset, 11);
    assert_eq!(
        msg,
        "exemplar chunk corrupt at byte offset 11: exemplar 0 refers to the previous exemplar's \
         label set; expected a new set"
    );

    // `10` with no set defined: index 0 of 0.
    let chunk = Bits::chunk(1).first().bits(0b10, 2).done();
    assert_eq!(
        error_of(&chunk).0,
        Kind::BadLabelSetIndex {
            exemplar: 0,
            index: 0,
            sets: 0
        }
    );
}

#[test]
fn set_index_past_the_dictionary() {
    // Three sets, each ending byte-aligned; then exemplar 3: same time (0), same value
    // (`0` plain, `0` same), `10` and the 2-bit index 3.
    let mut chunk = encode(&[
        exemplar(0, 0.0, &[]),
        exemplar(0, 0.0, &[("a", "")]),
        exemplar(0, 0.0, &[("b", "")]),
    ]);
    chunk[1] = 4;
    let len = chunk.len();
    let base = chunk.clone();
    let chunk = Bits::after(chunk)
        .bits(0, 3)
        .bits(0b10, 2)
        .bits(3, 2)
        .done();
    let (kind, offset, msg) = error_of(&chunk);
    assert_eq!(
        kind,
        Kind::BadLabelSetIndex {
            exemplar: 3,
            index: 3,
            sets: 3
        }
    );
    assert_eq!(offset, len);
    assert_eq!(
        msg,
        format!(
            "exemplar chunk corrupt at byte offset {len}: exemplar 3 refers to label set 3; \
             expected one of the 3 defined before"
        )
    );
    // Index 2 is fine.
    let ok = Bits::after(base).bits(0, 3).bits(0b10, 2).bits(2, 2).done();
    assert_eq!(decode(&ok).unwrap()[3].2, [("b".to_owned(), String::new())]);
}

#[test]
fn too_many_labels() {
    let chunk = Bits::chunk(1)
        .first()
        .new_set()
        .bytes(&[0x81, 0x01])
        .bytes(&[0; 300])
        .done();
    let (kind, offset, msg) = error_of(&chunk);
    assert_eq!(
        kind,
        Kind::TooManyLabels {
            exemplar: 0,
            labels: 129
        }
    );
    assert_eq!(offset, 12);
    assert_eq!(
        msg,
        "exemplar chunk corrupt at byte offset 12: the label set of exemplar 0 has 129 labels; \
         expected at most 128"
    );
}

#[test]
fn bad_string_tags() {
    // Kind 3 as a name; the slot tag as a name; kind 2 with more bits as a value.
    for (body, tag, offset) in [
        (&[0x01, 0x03][..], 3, 13),
        (&[0x01, 0x02][..], 2, 13),
        (&[0x01, 0x04, b'x', 0x06][..], 6, 15),
    ] {
        let chunk = Bits::chunk(1)
            .first()
            .new_set()
            .bytes(body)
            .bytes(&[0; 4])
            .done();
        let (kind, at, msg) = error_of(&chunk);
        assert_eq!(kind, Kind::BadStringTag { exemplar: 0, tag });
        assert_eq!(at, offset);
        assert_eq!(
            msg,
            format!(
                "exemplar chunk corrupt at byte offset {offset}: exemplar 0 has string tag {tag}; \
                 expected a literal (kind 0), a reference (kind 1) or, as a trace_id or span_id \
                 value, the ID slot 2"
            )
        );
    }
}

#[test]
fn string_too_long() {
    // A literal of 1025 bytes: tag 4100 = 0x84 0x20.
    let chunk = Bits::chunk(1)
        .first()
        .new_set()
        .bytes(&[0x01, 0x84, 0x20])
        .bytes(&[b'x'; 1100])
        .done();
    let (kind, offset, msg) = error_of(&chunk);
    assert_eq!(
        kind,
        Kind::StringTooLong {
            exemplar: 0,
            len: 1025
        }
    );
    assert_eq!(offset, 13);
    assert_eq!(
        msg,
        "exemplar chunk corrupt at byte offset 13: exemplar 0 has a string of 1025 bytes; \
         expected at most 1024"
    );
}

#[test]
fn string_index_past_the_table() {
    let chunk = Bits::chunk(1)
        .first()
        .new_set()
        .bytes(&[0x01, 0x01])
        .bytes(&[0; 4])
        .done();
    let (kind, offset, msg) = error_of(&chunk);
    assert_eq!(
        kind,
        Kind::BadStringIndex {
            exemplar: 0,
            index: 0,
            strings: 0
        }
    );
    assert_eq!(offset, 13);
    assert_eq!(
        msg,
        "exemplar chunk corrupt at byte offset 13: exemplar 0 refers to string 0; expected one \
         of the 0 stored before"
    );
}

#[test]
fn invalid_utf8() {
    let chunk = Bits::chunk(1)
        .first()
        .new_set()
        .bytes(&[0x01, 0x08, 0xff, 0xfe])
        .bytes(&[0; 4])
        .done();
    let (kind, offset, msg) = error_of(&chunk);
    assert_eq!(kind, Kind::InvalidUtf8 { exemplar: 0 });
    assert_eq!(offset, 14);
    assert_eq!(
        msg,
        "exemplar chunk corrupt at byte offset 14: exemplar 0 has a string that is not UTF-8"
    );
}

#[test]
fn unsorted_and_repeated_names() {
    // {b="", a=""}: label 1 starts at byte 16.
    for second in [b'a', b'b'] {
        let chunk = Bits::chunk(1)
            .first()
            .new_set()
            .bytes(&[0x02, 0x04, b'b', 0x00, 0x04, second, 0x00])
            .done();
        let (kind, offset, msg) = error_of(&chunk);
        assert_eq!(
            kind,
            Kind::UnsortedLabels {
                exemplar: 0,
                label: 1
            }
        );
        assert_eq!(offset, 16);
        assert_eq!(
            msg,
            "exemplar chunk corrupt at byte offset 16: in the label set of exemplar 0, the name \
             of label 1 is not greater than the one before it"
        );
    }
}

#[test]
fn id_slot_on_another_label() {
    let chunk = Bits::chunk(1)
        .first()
        .new_set()
        .bytes(&[0x01, 0x04, b'x', 0x02])
        .bytes(&[0; 4])
        .done();
    let (kind, offset, msg) = error_of(&chunk);
    assert_eq!(
        kind,
        Kind::MisplacedIdSlot {
            exemplar: 0,
            label: 0
        }
    );
    assert_eq!(offset, 15);
    assert_eq!(
        msg,
        "exemplar chunk corrupt at byte offset 15: in the label set of exemplar 0, label 0 has \
         an ID slot; expected one only on trace_id or span_id"
    );
}

#[test]
fn timestamps_that_go_back_or_overflow() {
    // Exemplar 1 with a delta of delta of -1 after a delta of 0: a delta of -1; then value
    // `0` plain, `0` same, set `0` previous.
    let mut chunk = encode(&[exemplar(0, 0.0, &[])]);
    chunk[1] = 2;
    let len = chunk.len();
    let back = Bits::after(chunk.clone())
        .bits(0b10, 2)
        .bits(0x3fff, 14)
        .bits(0, 3)
        .align()
        .done();
    let (kind, offset, msg) = error_of(&back);
    assert_eq!(kind, Kind::TimestampOutOfOrder { exemplar: 1 });
    assert_eq!(offset, len);
    assert_eq!(
        msg,
        format!(
            "exemplar chunk corrupt at byte offset {len}: the timestamp of exemplar 1 is before \
             the previous one or past the largest i64"
        )
    );

    // Past i64::MAX.
    let mut chunk = encode(&[exemplar(i64::MAX - 5, 0.0, &[])]);
    chunk[1] = 2;
    let over = Bits::after(chunk)
        .bits(0b10, 2)
        .bits(10, 14)
        .bits(0, 3)
        .align()
        .done();
    assert_eq!(error_of(&over).0, Kind::TimestampOutOfOrder { exemplar: 1 });
}

#[test]
fn xor_window_over_64_bits() {
    let mut chunk = encode(&[exemplar(0, 0.0, &[])]);
    chunk[1] = 2;
    let len = chunk.len();
    // Same time, then the plain value form `0` and a header `11` with 31 leading zeros and
    // 63 significant bits.
    let chunk = Bits::after(chunk)
        .bits(0, 1)
        .bits(0b0, 1)
        .bits(0b11, 2)
        .bits(31, 5)
        .bits(63, 6)
        .bits(0, 64)
        .done();
    let (kind, offset, msg) = error_of(&chunk);
    assert_eq!(
        kind,
        Kind::BadXorWindow {
            exemplar: 1,
            leading: 31,
            significant: 63
        }
    );
    assert_eq!(offset, len);
    assert_eq!(
        msg,
        format!(
            "exemplar chunk corrupt at byte offset {len}: the value of exemplar 1 has 31 leading \
             zero bits and 63 significant bits, more than 64"
        )
    );
}

#[test]
fn decimal_value_varint_overflow() {
    // Exemplar 0: timestamp 0, then a decimal value (`1`, scale 15) whose integer is 10
    // bytes of 0xff, at bit 0 of byte 3.
    let mut bits = Bits::chunk(1).bytes(&[0x00]).bits(0b1, 1).bits(15, 4);
    for _ in 0..10 {
        bits = bits.bits(0xff, 8);
    }
    let chunk = bits.bits(0, 3).bytes(&[0; 4]).done();
    let (kind, offset, msg) = error_of(&chunk);
    assert_eq!(kind, Kind::VarintOverflow { exemplar: 0 });
    assert_eq!(offset, 3);
    assert_eq!(
        msg,
        "exemplar chunk corrupt at byte offset 3: a varint of exemplar 0 does not fit in 64 bits"
    );

    // Exemplar 1: same time, then the same at bit 1 of the byte after exemplar 0.
    let mut chunk = encode(&[exemplar(0, 0.0, &[])]);
    chunk[1] = 2;
    let len = chunk.len();
    let mut bits = Bits::after(chunk).bits(0, 1).bits(0b1, 1).bits(0, 4);
    for _ in 0..10 {
        bits = bits.bits(0xff, 8);
    }
    let chunk = bits.bits(0, 2).bytes(&[0; 4]).done();
    assert_eq!(
        error_of(&chunk),
        (
            Kind::VarintOverflow { exemplar: 1 },
            len,
            format!(
                "exemplar chunk corrupt at byte offset {len}: a varint of exemplar 1 does not fit in 64 bits"
            )
        )
    );
}

#[test]
fn any_decimal_decodes() {
    // Scale 15 and the largest zigzag integer, `u64::MAX` (i64::MIN), which no writer
    // stores: the reader divides it all the same. Then `11`, 1 padding bit, an empty set.
    let mut bits = Bits::chunk(1).bytes(&[0x00]).bits(0b1, 1).bits(15, 4);
    for b in [0xff; 9].into_iter().chain([0x01]) {
        bits = bits.bits(b, 8);
    }
    let chunk = bits.bits(0b11, 2).align().bytes(&[0x00]).done();
    let want = i64::MIN as f64 / 1e15;
    assert_eq!(decode(&chunk).unwrap(), [exemplar(0, want, &[])]);
}

#[test]
fn labels_over_the_limit_through_references() {
    // {a="x"*1000, b=<the same string>}: 2002 bytes of labels in a few bytes of chunk.
    let chunk = Bits::chunk(1)
        .first()
        .new_set()
        .bytes(&[0x02, 0x04, b'a', 0xa0, 0x1f])
        .bytes(&[b'x'; 1000])
        .bytes(&[0x04, b'b', 0x05])
        .done();
    let (kind, offset, msg) = error_of(&chunk);
    assert_eq!(
        kind,
        Kind::LabelsTooLarge {
            exemplar: 0,
            bytes: 2002
        }
    );
    assert_eq!(offset, 2);
    assert_eq!(
        msg,
        "exemplar chunk corrupt at byte offset 2: the labels of exemplar 0 take 2002 bytes; \
         expected at most 1024"
    );
}

#[test]
fn resume_refuses_trailing_bytes() {
    let mut chunk = encode(&[
        exemplar(1, 1.0, &[("a", "b")]),
        exemplar(2, 2.0, &[("a", "b")]),
    ]);
    let end = chunk.len();
    chunk.push(0);
    // Readers ignore what follows the last exemplar.
    assert_eq!(decode(&chunk).unwrap().len(), 2);
    let err = ExemplarAppender::resume(chunk).unwrap_err();
    assert_eq!(*err.kind(), Kind::TrailingBytes { len: end + 1 });
    assert_eq!(err.offset(), end);
    assert_eq!(
        err.to_string(),
        format!(
            "exemplar chunk has 1 byte(s) after its last exemplar, from byte offset {end}; \
             expected the chunk to end there"
        )
    );
}

#[test]
fn every_truncation_of_the_golden_chunk_errors_at_its_end() {
    let chunk = golden_chunk();
    for len in 0..chunk.len() {
        let cut = &chunk[..len];
        let err = decode(cut).unwrap_err();
        assert_eq!(err.offset(), len, "cut at {len}: {err}");
        assert!(
            matches!(
                err.kind(),
                Kind::Truncated { .. } | Kind::MissingHeader { .. }
            ),
            "cut at {len}: {err}"
        );
        assert!(ExemplarAppender::resume(cut.to_vec()).is_err());
    }
}

#[test]
fn errors_are_std_errors() {
    fn takes(_: &dyn std::error::Error) {}
    takes(&decode(&[]).unwrap_err());
    takes(
        &ExemplarAppender::new()
            .append(0, 0.0, &[("b", ""), ("a", "")])
            .unwrap_err(),
    );
}
