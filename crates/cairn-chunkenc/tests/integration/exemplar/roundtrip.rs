//! Property tests: whatever is appended decodes back exactly (labels byte for byte, values
//! bit for bit); what the appender refuses leaves the chunk as it was.

use std::collections::BTreeMap;

use cairn_chunkenc::exemplar::{
    AppendError, ExemplarAppender, ExemplarIterator, MAX_LABEL_BYTES, MAX_LABELS,
};
use proptest::prelude::*;

use super::{Owned, decode, encode, exemplar};
use crate::common::STALE_NAN;

/// How the next timestamp follows the last (never earlier).
fn delta() -> impl Strategy<Value = u64> {
    prop_oneof![
        3 => Just(0u64),
        4 => 1_000u64..15_000,
        2 => 0u64..(1 << 20),
        1 => 0u64..(1 << 40),
        1 => any::<u64>(),
    ]
}

fn value() -> impl Strategy<Value = u64> {
    prop_oneof![
        3 => (0u32..5_000).prop_map(|ms| f64::from(ms).to_bits()),
        2 => (0.0f64..10.0).prop_map(f64::to_bits),
        // Short decimals of either sign, as an exposition prints them (the decimal form).
        2 => (-10_000_000i64..10_000_000, 0i32..16)
            .prop_map(|(m, k)| (m as f64 / 10f64.powi(k)).to_bits()),
        3 => any::<u64>(),
        1 => prop_oneof![
            Just(STALE_NAN),
            Just(0x7ff8_0000_0000_0001),
            Just(0xfff8_dead_beef_0001),
            Just(f64::NAN.to_bits()),
            Just(f64::INFINITY.to_bits()),
            Just(f64::NEG_INFINITY.to_bits()),
            Just((-0.0f64).to_bits()),
            Just(0.0f64.to_bits()),
            Just(1),
            Just(u64::MAX),
        ],
    ]
}

/// Any string, unicode and control characters included; mostly short.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-z_]{1,10}",
        2 => ".{0,12}",
        1 => any::<String>().prop_map(|s| s.chars().take(20).collect()),
        1 => Just(String::new()),
    ]
}

/// A `trace_id` or `span_id` value of `hex` digits: usually W3C form, sometimes one of the
/// forms that must take the string path.
fn id(hex: usize) -> impl Strategy<Value = Option<String>> {
    let w3c = prop::collection::vec(0u8..16, hex).prop_map(|d| {
        d.iter()
            .map(|&x| char::from_digit(u32::from(x), 16).unwrap())
            .collect::<String>()
    });
    prop_oneof![
        2 => Just(None),
        6 => w3c.clone().prop_map(Some),
        1 => w3c.clone().prop_map(|s| Some(s.to_uppercase())),
        1 => w3c.clone().prop_map(|s| Some(s[1..].to_owned())),
        1 => w3c.prop_map(|s| Some(format!("{s}0"))),
        1 => text().prop_map(Some),
    ]
}

/// A label set without IDs: sorted by name (byte order), names unique.
fn base_set() -> impl Strategy<Value = BTreeMap<String, String>> {
    prop::collection::btree_map(text(), text(), 0..6)
}

/// One exemplar's choices: time step, value, which base set, and its IDs.
fn step() -> impl Strategy<
    Value = (
        u64,
        u64,
        prop::sample::Index,
        Option<String>,
        Option<String>,
    ),
> {
    (
        delta(),
        value(),
        any::<prop::sample::Index>(),
        id(32),
        id(16),
    )
}

/// 0..=150 exemplars over a pool of base sets, so sets repeat (previous, by index) and new
/// ones appear.
fn exemplars() -> impl Strategy<Value = Vec<Owned>> {
    let start = prop_oneof![
        Just(i64::MIN),
        Just(i64::MAX - (1 << 20)),
        Just(0i64),
        any::<i64>(),
        1_600_000_000_000i64..1_800_000_000_000,
    ];
    (
        start,
        prop::collection::vec(base_set(), 1..8),
        prop::collection::vec(step(), 0..150),
    )
        .prop_map(|(t0, pool, steps)| {
            let mut t = t0;
            steps
                .into_iter()
                .map(|(d, v, pick, trace, span)| {
                    t = t.saturating_add_unsigned(d);
                    let mut set = pool[pick.index(pool.len())].clone();
                    if let Some(trace) = trace {
                        set.insert("trace_id".to_owned(), trace);
                    }
                    if let Some(span) = span {
                        set.insert("span_id".to_owned(), span);
                    }
                    (t, v, set.into_iter().collect())
                })
                .collect()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn append_then_iterate_is_identity(exemplars in exemplars()) {
        let chunk = encode(&exemplars);
        prop_assert_eq!(decode(&chunk).unwrap(), exemplars.clone());
        prop_assert_eq!(usize::from(u16::from_be_bytes([chunk[0], chunk[1]])), exemplars.len());
        prop_assert_eq!(ExemplarIterator::new(&chunk).num_exemplars(), exemplars.len());
    }

    #[test]
    fn resume_anywhere_then_append_the_rest(exemplars in exemplars(), split in any::<prop::sample::Index>()) {
        let k = split.index(exemplars.len() + 1);
        let mut app = ExemplarAppender::resume(encode(&exemplars[..k])).unwrap();
        prop_assert_eq!(app.num_exemplars(), k);
        for (t, v, labels) in &exemplars[k..] {
            app.append(*t, f64::from_bits(*v), labels).unwrap();
        }
        prop_assert_eq!(decode(app.bytes()).unwrap(), exemplars.clone());
        if k == 0 || k == exemplars.len() {
            prop_assert_eq!(app.bytes(), &encode(&exemplars)[..]);
        }
    }

    #[test]
    fn refused_exemplars_leave_the_chunk_unchanged(
        exemplars in exemplars(),
        back in 1u64..1_000_000,
        bad in prop::collection::vec(("[a-c]{1,2}", ".{0,3}"), 2..6),
    ) {
        let mut app = ExemplarAppender::resume(encode(&exemplars)).unwrap();
        let before = app.bytes().to_vec();
        if let Some((t, _, _)) = exemplars.last().filter(|(t, _, _)| *t > i64::MIN + 1_000_000) {
            let early = t - back as i64;
            prop_assert_eq!(
                app.append(early, 1.0, &[("a", "b")]),
                Err(AppendError::OutOfOrder { t: early, last: *t })
            );
        }
        // Reversed names are unsorted, or repeat a name.
        let mut names: Vec<(String, String)> = bad;
        names.sort();
        names.reverse();
        let sorted_unique = names.windows(2).all(|w| w[0].0 < w[1].0);
        prop_assume!(!sorted_unique);
        let t = exemplars.last().map_or(0, |e| e.0);
        let refused = matches!(app.append(t, 1.0, &names), Err(AppendError::UnsortedLabels { .. }));
        prop_assert!(refused);
        prop_assert_eq!(app.bytes(), &before[..]);
        prop_assert_eq!(app.num_exemplars(), exemplars.len());
    }
}

/// Values at the edges of the decimal form: every scale, the largest exact integers, and
/// decimals whose double is not the shortest, all bit for bit.
#[test]
fn decimal_values_survive() {
    let mut values = vec![
        0.1,
        -0.1,
        0.473598,
        -2.5,
        1e-15,
        123_456_789.012_345,
        9_007_199_254_740_991.0,
        -9_007_199_254_740_991.0,
        9_007_199_254_740_992.0,
        1e15,
        1e16,
        0.1 + 0.2,
        1.0 / 3.0,
    ];
    values.extend((0..16).map(|k| 7.0 / 10f64.powi(k)));
    let exemplars: Vec<Owned> = values
        .iter()
        .enumerate()
        .map(|(i, &v)| exemplar(i as i64, v, &[("a", "b")]))
        .collect();
    assert_eq!(decode(&encode(&exemplars)).unwrap(), exemplars);
}

#[test]
fn nan_payloads_and_special_values_survive() {
    let values = [
        STALE_NAN,
        STALE_NAN,
        0x7ff0_0000_0000_0002,
        0x7ff8_0000_0000_0001,
        0xfff8_dead_beef_0001,
        0x7ff0_0000_0000_0001,
        f64::INFINITY.to_bits(),
        f64::NEG_INFINITY.to_bits(),
        (-0.0f64).to_bits(),
        0.0f64.to_bits(),
        f64::MAX.to_bits(),
        f64::MIN_POSITIVE.to_bits(),
        1,
    ];
    let exemplars: Vec<Owned> = values
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            (
                i as i64,
                v,
                vec![("trace_id".to_owned(), format!("{i:032x}"))],
            )
        })
        .collect();
    assert_eq!(decode(&encode(&exemplars)).unwrap(), exemplars);
}

#[test]
fn timestamp_extremes_and_equal_timestamps() {
    let exemplars: Vec<Owned> = [
        i64::MIN,
        i64::MIN,
        -1,
        0,
        0,
        1,
        i64::MAX - 1,
        i64::MAX,
        i64::MAX,
    ]
    .iter()
    .map(|&t| exemplar(t, 1.0, &[("service", "api")]))
    .collect();
    assert_eq!(decode(&encode(&exemplars)).unwrap(), exemplars);
}

#[test]
fn id_paths() {
    // Which values take the raw path is invisible in the output but not in the size: a
    // W3C pair costs 24 bytes and 2 bits, anything else is a string.
    let cases: [(&str, &str, bool); 8] = [
        ("0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331", true),
        (
            "0AF7651916CD43DD8448EB211C80319C",
            "B7AD6B7169203331",
            false,
        ),
        ("0af7651916cd43dd8448eb211c80319", "b7ad6b716920333", false),
        (
            "0af7651916cd43dd8448eb211c80319c0",
            "b7ad6b71692033310",
            false,
        ),
        (
            "0af7651916cd43dd8448eb211c80319g",
            "b7ad6b716920333g",
            false,
        ),
        ("", "", false),
        ("00000000000000000000000000000000", "0000000000000000", true),
        ("ffffffffffffffffffffffffffffffff", "ffffffffffffffff", true),
    ];
    for (trace, span, raw) in cases {
        let exemplars = [
            exemplar(0, 1.0, &[("span_id", span), ("trace_id", trace)]),
            exemplar(1, 1.0, &[("span_id", span), ("trace_id", trace)]),
        ];
        let chunk = encode(&exemplars);
        assert_eq!(decode(&chunk).unwrap(), exemplars, "{trace} {span}");
        if raw {
            // Second exemplar: dod 1 bucket (16 bits), same value (1), previous set (1), two
            // raw IDs (2 + 192 bits).
            let first = encode(&exemplars[..1]).len();
            assert!(
                chunk.len() - first <= 27,
                "{trace}: {}",
                chunk.len() - first
            );
        }
    }
}

#[test]
fn appender_errors() {
    let mut app = ExemplarAppender::new();
    app.append(10, 1.0, &[("a", "1")]).unwrap();
    let before = app.bytes().to_vec();
    let mut refuse = |t: i64, labels: &[(String, String)]| {
        let err = app.append(t, 1.0, labels).unwrap_err();
        assert_eq!(app.bytes(), before, "{err}: the chunk is unchanged");
        assert_eq!(app.num_exemplars(), 1);
        err
    };
    let pairs = |l: &[(&str, &str)]| -> Vec<(String, String)> {
        l.iter()
            .map(|&(n, v)| (n.to_owned(), v.to_owned()))
            .collect()
    };

    let err = refuse(9, &pairs(&[("a", "1")]));
    assert_eq!(err, AppendError::OutOfOrder { t: 9, last: 10 });
    assert_eq!(
        err.to_string(),
        "exemplar out of order: timestamp 9 is before the chunk's last exemplar at 10"
    );

    let err = refuse(10, &pairs(&[("b", "1"), ("a", "1")]));
    assert_eq!(err, AppendError::UnsortedLabels { index: 1 });
    assert_eq!(
        err.to_string(),
        "exemplar labels not sorted: the name of label 1 is not greater than the one before it"
    );
    let err = refuse(10, &pairs(&[("a", "1"), ("a", "2")]));
    assert_eq!(err, AppendError::UnsortedLabels { index: 1 });

    let many: Vec<(String, String)> = (0..=MAX_LABELS)
        .map(|i| (format!("l{i:03}"), String::new()))
        .collect();
    let err = refuse(10, &many);
    assert_eq!(err, AppendError::TooManyLabels { labels: 129 });
    assert_eq!(
        err.to_string(),
        "exemplar has 129 labels, more than the 128 a chunk can store"
    );

    let big = "x".repeat(MAX_LABEL_BYTES);
    let err = refuse(10, &pairs(&[("a", big.as_str())]));
    assert_eq!(err, AppendError::LabelsTooLarge { bytes: 1025 });
    assert_eq!(
        err.to_string(),
        "exemplar labels take 1025 bytes, more than the 1024 a chunk can store"
    );

    // Right at the limits is fine.
    app.append(10, 1.0, &many[..MAX_LABELS]).unwrap();
    app.append(10, 1.0, &[("a", &big[1..])]).unwrap();
    let decoded = decode(app.bytes()).unwrap();
    assert_eq!(decoded.len(), 3);
    assert_eq!(decoded[1].2.len(), MAX_LABELS);
    assert_eq!(decoded[2].2[0].1.len(), MAX_LABEL_BYTES - 1);
}

#[test]
fn full_at_65535_exemplars() {
    let mut app = ExemplarAppender::new();
    for i in 0..u16::MAX {
        app.append(i64::from(i), 0.0, &[("k", "v")]).unwrap();
    }
    assert!(app.is_full());
    let err = app.append(1 << 20, 0.0, &[("k", "v")]).unwrap_err();
    assert_eq!(err, AppendError::Full);
    assert_eq!(
        err.to_string(),
        "exemplar chunk full: it already holds 65535 exemplars, the most it can count"
    );
    assert_eq!(
        ExemplarIterator::new(app.bytes()).count(),
        usize::from(u16::MAX)
    );
}

#[test]
fn an_empty_chunk_decodes_to_nothing_and_resumes() {
    let app = ExemplarAppender::new();
    assert_eq!(app.bytes(), [0, 0]);
    assert_eq!(app.last(), None);
    assert!(!app.is_full());
    assert_eq!(decode(app.bytes()).unwrap(), []);
    let mut again = ExemplarAppender::resume(app.into_bytes()).unwrap();
    again.append(5, 6.0, &[("trace_id", "abc")]).unwrap();
    assert_eq!(again.last(), Some((5, 6.0)));
    assert_eq!(
        decode(again.bytes()).unwrap(),
        [exemplar(5, 6.0, &[("trace_id", "abc")])]
    );
}

#[test]
fn labels_borrow_from_the_chunk_except_raw_ids() {
    use std::borrow::Cow;
    let chunk = encode(&[exemplar(
        1,
        1.0,
        &[
            ("service", "api"),
            ("span_id", "B7AD6B7169203331"),
            ("trace_id", "0af7651916cd43dd8448eb211c80319c"),
        ],
    )]);
    let e = ExemplarIterator::new(&chunk).next().unwrap();
    let borrowed: Vec<_> = e
        .labels
        .iter()
        .map(|(n, v)| (matches!(n, Cow::Borrowed(_)), matches!(v, Cow::Borrowed(_))))
        .collect();
    assert_eq!(borrowed, [(true, true), (true, true), (true, false)]);
}
