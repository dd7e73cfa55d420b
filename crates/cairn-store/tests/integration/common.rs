//! Helpers shared by the test modules: the worked examples, the tables of
//! `RECORD_FORMAT.md`, and proptest strategies.

use std::path::PathBuf;

use cairn_model::{Labels, NORMAL_NAN_BITS, STALE_NAN_BITS};
use cairn_store::record::{self, Interval, RefExemplar, RefSample, RefSeries, Tombstone};
use proptest::prelude::*;

pub(crate) const T0: i64 = 1_700_000_000_000;

/// The crate's directory.
pub(crate) fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub(crate) fn labels(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs.iter().copied())
}

/// The inputs of the worked examples in `RECORD_FORMAT.md`.
pub(crate) fn example_series() -> Vec<RefSeries<Labels>> {
    vec![
        RefSeries {
            series_ref: 1,
            labels: labels(&[("__name__", "up"), ("job", "api")]),
        },
        RefSeries {
            series_ref: 2,
            labels: labels(&[("__name__", "up"), ("job", "db")]),
        },
    ]
}

pub(crate) fn example_samples() -> Vec<RefSample> {
    vec![
        RefSample {
            series_ref: 1,
            t: T0,
            v: 1.0,
        },
        RefSample {
            series_ref: 2,
            t: T0,
            v: f64::from_bits(STALE_NAN_BITS),
        },
        RefSample {
            series_ref: 1,
            t: T0 + 15_000,
            v: 2.5,
        },
    ]
}

pub(crate) fn example_exemplars() -> Vec<RefExemplar<Labels>> {
    vec![
        RefExemplar {
            series_ref: 3,
            t: T0 + 123,
            v: 0.25,
            labels: labels(&[("trace_id", "4bf92f3577b34da6a3ce929d0e0e4736")]),
        },
        RefExemplar {
            series_ref: 5,
            t: T0 + 100,
            v: 1.5,
            labels: Labels::new(),
        },
    ]
}

pub(crate) fn example_tombstones() -> Vec<Tombstone> {
    vec![Tombstone {
        series_ref: 7,
        intervals: vec![
            Interval { mint: 0, maxt: 999 },
            Interval {
                mint: T0,
                maxt: T0 + 60_000,
            },
        ],
    }]
}

/// The name of each worked example in `RECORD_FORMAT.md` and its encoder's output.
pub(crate) fn examples() -> Vec<(&'static str, Vec<u8>)> {
    let mut series = Vec::new();
    record::encode_series(&example_series(), &mut series);
    let mut samples = Vec::new();
    record::encode_samples(&example_samples(), &mut samples);
    let mut exemplars = Vec::new();
    record::encode_exemplars(&example_exemplars(), &mut exemplars);
    let mut tombstones = Vec::new();
    record::encode_tombstones(&example_tombstones(), &mut tombstones);
    vec![
        ("series", series),
        ("samples", samples),
        ("exemplars", exemplars),
        ("tombstones", tombstones),
    ]
}

/// One row of an example table: a field of the record.
#[derive(Debug)]
pub(crate) struct Row {
    pub(crate) offset: usize,
    pub(crate) bytes: Vec<u8>,
    pub(crate) field: String,
}

/// The rows of the table that follows `<!-- example: NAME -->` in `RECORD_FORMAT.md`.
pub(crate) fn doc_example(name: &str) -> Vec<Row> {
    let doc = std::fs::read_to_string(crate_dir().join("src/RECORD_FORMAT.md")).unwrap();
    let marker = format!("<!-- example: {name} -->");
    let start = doc.find(&marker).unwrap_or_else(|| panic!("no {marker}"));
    let table = doc[start + marker.len()..]
        .lines()
        .skip_while(|l| l.trim().is_empty())
        .take_while(|l| l.starts_with('|'))
        .skip(2); // header and separator
    table
        .map(|line| {
            let cols: Vec<&str> = line.split('|').map(str::trim).collect();
            let [_, offset, bytes, field, _value, _] = cols.as_slice() else {
                panic!("not a row of 4 columns: {line}");
            };
            Row {
                offset: offset.parse().unwrap(),
                bytes: bytes
                    .trim_matches('`')
                    .split_whitespace()
                    .map(|h| u8::from_str_radix(h, 16).unwrap())
                    .collect(),
                field: (*field).to_owned(),
            }
        })
        .collect()
}

pub(crate) fn hex(s: &str) -> Vec<u8> {
    s.split_whitespace()
        .map(|h| u8::from_str_radix(h, 16).unwrap_or_else(|_| panic!("not hex: {h}")))
        .collect()
}

/// A small deterministic generator for seeded loops.
pub(crate) fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

// Strategies.

pub(crate) fn series_ref() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(0),
        Just(u64::MAX),
        Just(1 << 63),
        0u64..1_000,
        any::<u64>(),
    ]
}

pub(crate) fn timestamp() -> impl Strategy<Value = i64> {
    prop_oneof![
        Just(i64::MIN),
        Just(i64::MAX),
        Just(0),
        Just(-1),
        T0..T0 + 86_400_000,
        any::<i64>(),
    ]
}

/// Values as bits, so that NaN payloads are generated and compared exactly.
pub(crate) fn value_bits() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(STALE_NAN_BITS),
        Just(NORMAL_NAN_BITS),
        Just(f64::NAN.to_bits()),
        Just(0xfff0_0000_0000_0001), // a negative signalling NaN
        Just((-0.0f64).to_bits()),
        Just(f64::INFINITY.to_bits()),
        any::<f64>().prop_map(f64::to_bits),
        any::<u64>(),
    ]
}

fn label_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("__name__".to_owned()),
        Just(String::new()),
        "[a-zA-Z_][a-zA-Z0-9_]{0,12}",
        any::<String>(),
    ]
}

fn label_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~]{0,20}",
        "[0-9a-f]{32}",
        any::<String>(), // any Unicode, controls and astral planes included
    ]
}

pub(crate) fn label_set() -> impl Strategy<Value = Labels> {
    prop::collection::btree_map(label_name(), label_value(), 0..6).prop_map(Labels::from_pairs)
}

pub(crate) fn sample() -> impl Strategy<Value = RefSample> {
    (series_ref(), timestamp(), value_bits()).prop_map(|(series_ref, t, v)| RefSample {
        series_ref,
        t,
        v: f64::from_bits(v),
    })
}

/// Samples as a scrape makes them: nearby refs and timestamps, so deltas are small.
pub(crate) fn scrape_samples() -> impl Strategy<Value = Vec<RefSample>> {
    (
        series_ref(),
        timestamp(),
        prop::collection::vec((0u64..5_000, 0i64..60_000, value_bits()), 0..64),
    )
        .prop_map(|(base, t0, rest)| {
            rest.into_iter()
                .map(|(dr, dt, v)| RefSample {
                    series_ref: base.wrapping_add(dr),
                    t: t0.wrapping_add(dt),
                    v: f64::from_bits(v),
                })
                .collect()
        })
}

pub(crate) fn exemplar() -> impl Strategy<Value = RefExemplar<Labels>> {
    (series_ref(), timestamp(), value_bits(), label_set()).prop_map(|(series_ref, t, v, labels)| {
        RefExemplar {
            series_ref,
            t,
            v: f64::from_bits(v),
            labels,
        }
    })
}

pub(crate) fn series() -> impl Strategy<Value = RefSeries<Labels>> {
    (series_ref(), label_set()).prop_map(|(series_ref, labels)| RefSeries { series_ref, labels })
}

pub(crate) fn tombstone() -> impl Strategy<Value = Tombstone> {
    (
        series_ref(),
        prop::collection::vec((timestamp(), timestamp()), 0..5),
    )
        .prop_map(|(series_ref, iv)| Tombstone {
            series_ref,
            intervals: iv
                .into_iter()
                .map(|(mint, maxt)| Interval { mint, maxt })
                .collect(),
        })
}

/// One encoded record of any type, of up to `n` entries.
pub(crate) fn any_record(n: usize) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(series(), 0..n).prop_map(|s| {
            let mut buf = Vec::new();
            record::encode_series(&s, &mut buf);
            buf
        }),
        prop::collection::vec(sample(), 0..n).prop_map(|s| {
            let mut buf = Vec::new();
            record::encode_samples(&s, &mut buf);
            buf
        }),
        prop::collection::vec(exemplar(), 0..n).prop_map(|e| {
            let mut buf = Vec::new();
            record::encode_exemplars(&e, &mut buf);
            buf
        }),
        prop::collection::vec(tombstone(), 0..n).prop_map(|t| {
            let mut buf = Vec::new();
            record::encode_tombstones(&t, &mut buf);
            buf
        }),
    ]
}
