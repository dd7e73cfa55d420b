//! encode → decode == input, for every record type, with proptest and at the extremes.

use cairn_model::{Labels, STALE_NAN_BITS};
use cairn_store::record::{
    self, Interval, LabelsRef, Record, RecordType, RefExemplar, RefSample, RefSeries, Tombstone,
};
use proptest::prelude::*;

use crate::common::{T0, any_record, exemplar, labels, sample, scrape_samples, series, tombstone};

fn decoded(buf: &[u8]) -> Record<'_> {
    Record::decode(buf).unwrap_or_else(|e| panic!("{e}"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn series_round_trip(input in prop::collection::vec(series(), 0..12)) {
        let mut buf = Vec::new();
        record::encode_series(&input, &mut buf);
        let Record::Series(out) = decoded(&buf) else { panic!("not a series record") };
        prop_assert_eq!(&out, &input);
        let owned: Vec<Labels> = out.iter().map(|s| s.labels.to_labels()).collect();
        let expected: Vec<Labels> = input.iter().map(|s| s.labels.clone()).collect();
        prop_assert_eq!(owned, expected);
    }

    #[test]
    fn samples_round_trip(input in prop::collection::vec(sample(), 0..40)) {
        let mut buf = Vec::new();
        record::encode_samples(&input, &mut buf);
        prop_assert_eq!(decoded(&buf), Record::Samples(input.clone()));
        // The bits, spelled out: equality on RefSample is bit-exact, and so must be the trip.
        let Record::Samples(out) = decoded(&buf) else { unreachable!() };
        for (a, b) in out.iter().zip(&input) {
            prop_assert_eq!(a.v.to_bits(), b.v.to_bits());
        }
    }

    #[test]
    fn scrape_samples_round_trip_at_10_to_13_bytes_each(input in scrape_samples()) {
        let mut buf = Vec::new();
        record::encode_samples(&input, &mut buf);
        prop_assert_eq!(decoded(&buf), Record::Samples(input.clone()));
        if !input.is_empty() {
            // Tag, count, base; then ref deltas below 5000 and time deltas below 60 s.
            let body = buf.len() - 2 - 16;
            prop_assert!(body >= 10 * input.len() && body <= 13 * input.len(), "{body}");
        }
    }

    #[test]
    fn exemplars_round_trip(input in prop::collection::vec(exemplar(), 0..12)) {
        let mut buf = Vec::new();
        record::encode_exemplars(&input, &mut buf);
        let Record::Exemplars(out) = decoded(&buf) else { panic!("not an exemplars record") };
        prop_assert_eq!(out, input);
    }

    #[test]
    fn tombstones_round_trip(input in prop::collection::vec(tombstone(), 0..8)) {
        let mut buf = Vec::new();
        record::encode_tombstones(&input, &mut buf);
        prop_assert_eq!(decoded(&buf), Record::Tombstones(input));
    }

    /// Records back to back, as a commit writes them into one WAL record, come back in
    /// order; each re-encodes to its own bytes.
    #[test]
    fn concatenated_records_round_trip(parts in prop::collection::vec(any_record(6), 0..6)) {
        let all: Vec<u8> = parts.concat();
        let mut records = Record::decode_all(&all);
        for part in &parts {
            let r = records.next().unwrap().unwrap_or_else(|e| panic!("{e}"));
            let mut again = Vec::new();
            r.encode(&mut again);
            prop_assert_eq!(&again, part);
        }
        prop_assert!(records.next().is_none());
        prop_assert_eq!(records.offset(), all.len());
    }
}

#[test]
fn empty_batches_are_two_bytes() {
    let mut buf = Vec::new();
    record::encode_series::<Labels>(&[], &mut buf);
    record::encode_samples(&[], &mut buf);
    record::encode_exemplars::<Labels>(&[], &mut buf);
    record::encode_tombstones(&[], &mut buf);
    assert_eq!(buf, [1, 0, 2, 0, 3, 0, 4, 0]);
    let types: Vec<RecordType> = Record::decode_all(&buf)
        .map(|r| {
            let r = r.unwrap();
            assert!(r.is_empty());
            r.record_type()
        })
        .collect();
    assert_eq!(types, RecordType::ALL);
    // No bytes are no records.
    assert_eq!(Record::decode_all(&[]).count(), 0);
}

#[test]
fn extreme_refs_and_timestamps_round_trip_next_to_each_other() {
    let samples = vec![
        RefSample {
            series_ref: 0,
            t: i64::MIN,
            v: 0.0,
        },
        RefSample {
            series_ref: u64::MAX,
            t: i64::MAX,
            v: -0.0,
        },
        RefSample {
            series_ref: 0,
            t: i64::MIN,
            v: f64::from_bits(STALE_NAN_BITS),
        },
        RefSample {
            series_ref: 1 << 63,
            t: 0,
            v: f64::NEG_INFINITY,
        },
        RefSample {
            series_ref: u64::MAX,
            t: -1,
            v: f64::from_bits(0x7ff0_0000_0000_0001),
        },
    ];
    let mut buf = Vec::new();
    record::encode_samples(&samples, &mut buf);
    let Record::Samples(out) = decoded(&buf) else {
        unreachable!()
    };
    assert_eq!(out, samples);
    // -0.0 stays -0.0: equality is on bits.
    assert_ne!(
        RefSample {
            series_ref: 0,
            t: 0,
            v: 0.0
        },
        RefSample {
            series_ref: 0,
            t: 0,
            v: -0.0
        }
    );
    assert_eq!(out[2].v.to_bits(), STALE_NAN_BITS);

    let exemplars = vec![
        RefExemplar {
            series_ref: u64::MAX,
            t: i64::MAX,
            v: 1.0,
            labels: labels(&[("", "")]),
        },
        RefExemplar {
            series_ref: 0,
            t: i64::MIN,
            v: f64::NAN,
            labels: Labels::new(),
        },
    ];
    let mut buf = Vec::new();
    record::encode_exemplars(&exemplars, &mut buf);
    let Record::Exemplars(out) = decoded(&buf) else {
        unreachable!()
    };
    assert_eq!(out, exemplars);

    let stones = vec![Tombstone {
        series_ref: u64::MAX,
        intervals: vec![
            Interval {
                mint: i64::MIN,
                maxt: i64::MAX,
            },
            Interval { mint: 5, maxt: -5 },
        ],
    }];
    let mut buf = Vec::new();
    record::encode_tombstones(&stones, &mut buf);
    assert_eq!(decoded(&buf), Record::Tombstones(stones));
}

#[test]
fn unicode_labels_round_trip_and_borrow_from_the_input() {
    let l = labels(&[
        ("__name__", "température_°C"),
        ("城市", "東京"),
        ("emoji", "🦀\u{0}\n\"\\"),
        ("z", ""),
    ]);
    let mut buf = Vec::new();
    record::encode_series(
        &[RefSeries {
            series_ref: 9,
            labels: &l,
        }],
        &mut buf,
    );
    let Record::Series(out) = decoded(&buf) else {
        unreachable!()
    };
    let got: &LabelsRef<'_> = &out[0].labels;
    assert_eq!(*got, l);
    assert_eq!(got.get("城市"), Some("東京"));
    assert_eq!(got.get("missing"), None);
    assert_eq!(got.len(), 4);
    // Borrowed: the text points into the buffer.
    let range = buf.as_ptr_range();
    for (n, v) in got.iter() {
        assert!(range.contains(&n.as_ptr()) || n.is_empty());
        assert!(range.contains(&v.as_ptr()) || v.is_empty());
    }
    // Re-encoding a decoded record (its LabelsRef) gives the same bytes.
    let mut again = Vec::new();
    record::encode_series(&out, &mut again);
    assert_eq!(again, buf);
    assert_eq!(LabelsRef::from(&l), *got);
}

#[test]
fn encoders_append_to_the_callers_buffer() {
    let mut buf = b"kept".to_vec();
    let s = [RefSample {
        series_ref: 1,
        t: T0,
        v: 1.0,
    }];
    record::encode_samples(&s, &mut buf);
    assert_eq!(&buf[..4], b"kept");
    assert_eq!(decoded(&buf[4..]), Record::Samples(s.to_vec()));
}
