//! The worked examples of `RECORD_FORMAT.md` byte for byte, the error at every truncation of
//! each, the format's constants and pinned encoded sizes, so that code and document cannot
//! drift.

use cairn_model::Labels;
use cairn_store::record::{
    self, BASE_LEN, COUNT_OFFSET, DecodeErrorKind, Field, MIN_EXEMPLAR_LEN, MIN_INTERVAL_LEN,
    MIN_LABEL_LEN, MIN_LABELS_LEN, MIN_RECORD_LEN, MIN_SAMPLE_LEN, MIN_SERIES_LEN,
    MIN_TOMBSTONE_LEN, REF_LEN, Record, RecordType, RefExemplar, RefSample, TIMESTAMP_LEN,
    TYPE_LEN, TYPE_OFFSET, VALUE_LEN,
};

use crate::common::{
    T0, doc_example, example_exemplars, example_samples, example_series, example_tombstones,
    examples, labels,
};

#[test]
fn constants() {
    assert_eq!(
        [
            TYPE_OFFSET,
            TYPE_LEN,
            COUNT_OFFSET,
            REF_LEN,
            TIMESTAMP_LEN,
            VALUE_LEN,
            BASE_LEN
        ],
        [0, 1, 1, 8, 8, 8, 16]
    );
    assert_eq!(
        [
            MIN_RECORD_LEN,
            MIN_LABELS_LEN,
            MIN_LABEL_LEN,
            MIN_SERIES_LEN,
            MIN_SAMPLE_LEN,
            MIN_EXEMPLAR_LEN,
            MIN_TOMBSTONE_LEN,
            MIN_INTERVAL_LEN,
        ],
        [2, 1, 2, 9, 10, 11, 9, 2]
    );
    let tags: Vec<(u8, &str)> = RecordType::ALL
        .iter()
        .map(|t| (t.tag(), t.name()))
        .collect();
    assert_eq!(
        tags,
        [
            (1, "series"),
            (2, "samples"),
            (3, "exemplars"),
            (4, "tombstones")
        ]
    );
    for tag in 0..=u8::MAX {
        assert_eq!(
            RecordType::from_tag(tag).map(RecordType::tag),
            (1..=4).contains(&tag).then_some(tag)
        );
    }
}

#[test]
fn worked_examples_match_the_document_byte_for_byte() {
    for (name, encoded) in examples() {
        let rows = doc_example(name);
        let mut offset = 0;
        for row in &rows {
            assert_eq!(row.offset, offset, "{name}: offset column at {row:?}");
            offset += row.bytes.len();
        }
        let doc: Vec<u8> = rows.iter().flat_map(|r| r.bytes.iter().copied()).collect();
        assert_eq!(
            doc, encoded,
            "{name}: RECORD_FORMAT.md and the encoder disagree"
        );
    }
}

#[test]
fn worked_examples_decode_to_their_input() {
    let ex = examples();
    assert_eq!(
        ex.iter().map(|(n, b)| (*n, b.len())).collect::<Vec<_>>(),
        [
            ("series", 59),
            ("samples", 50),
            ("exemplars", 82),
            ("tombstones", 26)
        ]
    );
    let Record::Series(series) = Record::decode(&ex[0].1).unwrap() else {
        panic!()
    };
    assert_eq!(series, example_series());
    assert_eq!(
        Record::decode(&ex[1].1).unwrap(),
        Record::Samples(example_samples())
    );
    let Record::Exemplars(exemplars) = Record::decode(&ex[2].1).unwrap() else {
        panic!()
    };
    assert_eq!(exemplars, example_exemplars());
    assert_eq!(
        Record::decode(&ex[3].1).unwrap(),
        Record::Tombstones(example_tombstones())
    );
}

/// The fewest bytes after a count field that its entries take: (each, once when non-empty).
fn count_minimum(field: &str) -> Option<(u64, u64)> {
    Some(match field {
        "series count" => (9, 0),
        "sample count" => (10, 16),
        "exemplar count" => (11, 16),
        "tombstone count" => (9, 0),
        "label count" | "interval count" => (2, 0),
        _ => return None,
    })
}

fn uvarint(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .enumerate()
        .fold(0, |x, (i, b)| x | (u64::from(b & 0x7f) << (7 * i)))
}

/// Cuts every example at every length and checks the error against the document's field
/// table: the first count whose entries cannot fit in what is left is too large (at the
/// count); otherwise the first field that runs past the cut is truncated (at its start).
#[test]
fn every_truncation_of_every_example_names_the_field_and_offset() {
    for (name, encoded) in examples() {
        let rows = doc_example(name);
        for cut in 0..encoded.len() {
            let err = Record::decode(&encoded[..cut]).unwrap_err();
            // (offset, field, for a count: the bytes left after it)
            let mut expected = None;
            for row in &rows {
                let end = row.offset + row.bytes.len();
                if end > cut {
                    expected = Some((row, None));
                    break;
                }
                if let Some((each, extra)) = count_minimum(&row.field) {
                    let count = uvarint(&row.bytes);
                    let needed = if count == 0 { 0 } else { count * each + extra };
                    if needed > (cut - end) as u64 {
                        expected = Some((row, Some(cut - end)));
                        break;
                    }
                }
            }
            let (row, after_count) = expected.unwrap();
            let offset = row.offset;
            let what = format!("{name} cut at {cut}: {err}");
            assert_eq!(err.offset(), offset, "{what}");
            match (err.kind(), after_count) {
                (
                    DecodeErrorKind::CountTooLarge {
                        field, available, ..
                    },
                    Some(left),
                ) => {
                    assert_eq!(field.name(), row.field, "{what}");
                    assert_eq!(*available, left, "{what}");
                }
                (
                    DecodeErrorKind::Truncated {
                        field,
                        needed,
                        available,
                    },
                    None,
                ) => {
                    assert_eq!(field.name(), row.field, "{what}");
                    assert_eq!(*available, cut - offset, "{what}");
                    if field.is_varint() {
                        assert_eq!(*needed, *available as u64 + 1, "{what}");
                    } else {
                        assert_eq!(*needed, row.bytes.len() as u64, "{what}");
                    }
                }
                (other, _) => panic!("{what}: unexpected {other:?}"),
            }
            assert!(
                err.to_string().contains(&format!("at byte {offset}")),
                "{what}"
            );
        }
        assert!(Record::decode(&encoded).is_ok());
    }
}

#[test]
fn every_field_name_in_the_document_is_a_field() {
    let names = [
        Field::RecordType,
        Field::SeriesCount,
        Field::SampleCount,
        Field::ExemplarCount,
        Field::TombstoneCount,
        Field::SeriesRef,
        Field::BaseRef,
        Field::BaseTimestamp,
        Field::RefDelta,
        Field::TimestampDelta,
        Field::Value,
        Field::LabelCount,
        Field::LabelNameLen,
        Field::LabelName,
        Field::LabelValueLen,
        Field::LabelValue,
        Field::IntervalCount,
        Field::Mint,
        Field::Maxt,
    ]
    .map(Field::name);
    for (name, _) in examples() {
        for row in doc_example(name) {
            assert!(names.contains(&row.field.as_str()), "{name}: {row:?}");
        }
    }
}

fn samples_record(samples: &[RefSample]) -> Vec<u8> {
    let mut buf = Vec::new();
    record::encode_samples(samples, &mut buf);
    assert_eq!(
        Record::decode(&buf).unwrap(),
        Record::Samples(samples.to_vec())
    );
    buf
}

/// The sizes in the table of `RECORD_FORMAT.md`, "Samples / Size".
#[test]
fn samples_sizes() {
    let v = |i: u64| 1.0 + i as f64 * 0.25;
    // 100 series, 10 samples each, all at one timestamp.
    let one_time: Vec<RefSample> = (0..1000u64)
        .map(|i| RefSample {
            series_ref: 1 + i % 100,
            t: T0,
            v: v(i),
        })
        .collect();
    // 100 series scraped 10 times, 15 s apart.
    let scrapes: Vec<RefSample> = (0..1000u64)
        .map(|i| RefSample {
            series_ref: 1 + i % 100,
            t: T0 + (i / 100) as i64 * 15_000,
            v: v(i),
        })
        .collect();
    // 1000 series, one scrape.
    let wide: Vec<RefSample> = (0..1000u64)
        .map(|i| RefSample {
            series_ref: 1 + i,
            t: T0,
            v: v(i),
        })
        .collect();
    let sizes = [one_time, scrapes, wide].map(|s| samples_record(&s).len());
    assert_eq!(sizes, [10_379, 12_179, 10_955]);
    // Per sample, the record's 19-byte header (tag, a 2-byte count, the base) included:
    // 10.379, 12.179 and 10.955 bytes.
}

#[test]
fn one_sample_takes_28_bytes_and_each_nearby_one_10_more() {
    let s = |r, t| RefSample {
        series_ref: r,
        t,
        v: 1.0,
    };
    assert_eq!(samples_record(&[s(5, T0)]).len(), 2 + 16 + 10);
    assert_eq!(
        samples_record(&[s(5, T0), s(68, T0 + 63)]).len(),
        2 + 16 + 20
    );
    // Zigzag gives one byte to -64..=63; 64 and -65 take two.
    assert_eq!(
        samples_record(&[s(5, T0), s(0, T0 - 64)]).len(),
        2 + 16 + 20
    );
    assert_eq!(
        samples_record(&[s(5, T0), s(69, T0 - 65)]).len(),
        2 + 16 + 22
    );
    // The farthest neighbours take 10-byte deltas.
    assert_eq!(
        samples_record(&[s(0, i64::MIN), s(1 << 63, 0)]).len(),
        2 + 16 + 10 + 28
    );
}

#[test]
fn exemplar_with_w3c_trace_and_span_ids_takes_78_bytes() {
    let ids = labels(&[
        ("span_id", "00f067aa0ba902b7"),
        ("trace_id", "4bf92f3577b34da6a3ce929d0e0e4736"),
    ]);
    // Nearby refs and timestamps: one-byte deltas.
    let n = |n: u64| -> Vec<RefExemplar<&Labels>> {
        (0..n)
            .map(|i| RefExemplar {
                series_ref: 1 + i,
                t: T0 + i as i64,
                v: 0.042,
                labels: &ids,
            })
            .collect()
    };
    let mut a = Vec::new();
    record::encode_exemplars(&n(1), &mut a);
    assert_eq!(a.len(), 2 + 16 + 78);
    let mut b = Vec::new();
    record::encode_exemplars(&n(32), &mut b);
    assert_eq!(b.len(), 2 + 16 + 32 * 78);
}

#[test]
fn series_of_a_typical_scrape_target() {
    let l = labels(&[
        ("__name__", "http_requests_total"),
        ("code", "200"),
        ("instance", "10.0.0.1:9100"),
        ("job", "api"),
        ("method", "GET"),
    ]);
    let mut buf = Vec::new();
    record::encode_series(
        &[record::RefSeries {
            series_ref: 42,
            labels: &l,
        }],
        &mut buf,
    );
    // Ref, count, then per label two length bytes and the text.
    let text: usize = l.iter().map(|x| x.name.len() + x.value.len()).sum();
    assert_eq!(buf.len(), 2 + 8 + 1 + 5 * 2 + text);
    assert_eq!(buf.len(), 91);
}
