//! Property tests: whatever is appended decodes back bit for bit.

use cairn_chunkenc::{XorAppender, XorIterator};
use proptest::prelude::*;

use crate::common::{Bits, STALE_NAN, decode, encode};

/// How the next timestamp follows the last: mostly like a scrape, sometimes anything.
fn delta() -> impl Strategy<Value = i64> {
    prop_oneof![
        4 => Just(15_000i64),
        3 => 15_000i64 - 600..15_000 + 600,
        2 => -1_000_000i64..1_000_000,
        1 => -(1i64 << 40)..(1i64 << 40),
        1 => any::<i64>(),
        1 => prop_oneof![Just(0i64), Just(i64::MIN), Just(i64::MAX)],
    ]
}

/// How the next value follows the last; `None` repeats it.
#[derive(Clone, Debug)]
enum Step {
    Same,
    Add(f64),
    Bits(u64),
}

fn step() -> impl Strategy<Value = Step> {
    let special = prop_oneof![
        Just(STALE_NAN),
        Just(f64::NAN.to_bits()),
        Just(0x7ff8_0000_0000_0001), // Go's math.NaN()
        Just(0xfff8_dead_beef_0001), // negative NaN with a payload
        Just(f64::INFINITY.to_bits()),
        Just(f64::NEG_INFINITY.to_bits()),
        Just((-0.0f64).to_bits()),
        Just(0.0f64.to_bits()),
        Just(f64::MIN_POSITIVE.to_bits()),
        Just(1),
        Just(u64::MAX),
    ];
    prop_oneof![
        3 => Just(Step::Same),
        3 => (-1_000i32..1_000).prop_map(|d| Step::Add(f64::from(d))),
        1 => (-1e6f64..1e6).prop_map(Step::Add),
        2 => any::<u64>().prop_map(Step::Bits),
        2 => special.prop_map(Step::Bits),
    ]
}

/// 1..=240 samples with extreme starts, deltas and values.
fn series() -> impl Strategy<Value = Vec<Bits>> {
    let start = prop_oneof![
        Just(i64::MIN),
        Just(i64::MAX),
        Just(0i64),
        any::<i64>(),
        (1_600_000_000_000i64..1_800_000_000_000),
    ];
    (
        start,
        any::<u64>(),
        prop::collection::vec((delta(), step()), 0..240),
    )
        .prop_map(|(t0, v0, rest)| {
            let mut out = vec![(t0, v0)];
            let (mut t, mut v) = (t0, v0);
            for (d, s) in rest {
                t = t.wrapping_add(d);
                v = match s {
                    Step::Same => v,
                    Step::Add(x) => (f64::from_bits(v) + x).to_bits(),
                    Step::Bits(b) => b,
                };
                out.push((t, v));
            }
            out
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn append_then_iterate_is_identity(samples in series()) {
        let chunk = encode(&samples);
        prop_assert_eq!(decode(&chunk).unwrap(), samples.clone());
        prop_assert_eq!(usize::from(u16::from_be_bytes([chunk[0], chunk[1]])), samples.len());
        prop_assert_eq!(XorIterator::new(&chunk).num_samples(), samples.len());
    }

    #[test]
    fn resume_anywhere_then_append_the_rest(samples in series(), split in any::<prop::sample::Index>()) {
        let k = split.index(samples.len() + 1);
        let mut app = XorAppender::resume(encode(&samples[..k])).unwrap();
        prop_assert_eq!(app.num_samples(), k);
        for &(t, v) in &samples[k..] {
            app.append(t, f64::from_bits(v));
        }
        prop_assert_eq!(decode(app.bytes()).unwrap(), samples.clone());
        if k == 0 || k == samples.len() {
            // Nothing was decoded into the state, or nothing appended after it.
            prop_assert_eq!(app.bytes(), &encode(&samples)[..]);
        }
    }

    #[test]
    fn seek_finds_the_first_sample_at_or_after(samples in series(), target in any::<i64>(), pick in any::<prop::sample::Index>()) {
        let chunk = encode(&samples);
        let near = samples[pick.index(samples.len())].0;
        for target in [target, near, near.wrapping_add(1), near.wrapping_sub(1), i64::MIN, i64::MAX] {
            let mut it = XorIterator::new(&chunk);
            let pos = samples.iter().position(|&(t, _)| t >= target);
            let found = it.seek(target).map(|(t, v)| (t, v.to_bits()));
            prop_assert_eq!(found, pos.map(|i| samples[i]));
            // What follows the found sample is what follows it in the input.
            let rest: Vec<Bits> = it.map(|(t, v)| (t, v.to_bits())).collect();
            let want = pos.map_or(&[][..], |i| &samples[i + 1..]);
            prop_assert_eq!(rest, want.to_vec());
        }
    }
}

#[test]
fn seek_stays_on_a_sample_that_already_qualifies() {
    let samples: Vec<Bits> = (0..10).map(|i| (i * 10, (i as f64).to_bits())).collect();
    let chunk = encode(&samples);
    let mut it = XorIterator::new(&chunk);
    assert_eq!(it.seek(35), Some((40, 4.0)));
    assert_eq!(it.seek(20), Some((40, 4.0)), "never moves backwards");
    assert_eq!(it.seek(40), Some((40, 4.0)));
    assert_eq!(it.at(), (40, 4.0));
    assert_eq!(it.next(), Some((50, 5.0)));
    assert_eq!(it.seek(1_000), None);
    assert_eq!(it.next(), None);
    assert!(it.err().is_none());
}

#[test]
fn stale_marker_and_special_values_survive() {
    let values = [
        STALE_NAN,
        STALE_NAN,
        1.5f64.to_bits(),
        STALE_NAN,
        f64::INFINITY.to_bits(),
        f64::NEG_INFINITY.to_bits(),
        (-0.0f64).to_bits(),
        0.0f64.to_bits(),
        (-0.0f64).to_bits(),
        0x7ff8_0000_0000_0001,
        f64::MAX.to_bits(),
        f64::MIN.to_bits(),
    ];
    let samples: Vec<Bits> = values
        .iter()
        .enumerate()
        .map(|(i, &v)| (i as i64 * 15_000, v))
        .collect();
    assert_eq!(decode(&encode(&samples)).unwrap(), samples);
}

#[test]
fn timestamp_extremes() {
    let samples: Vec<Bits> = [i64::MIN, i64::MAX, i64::MIN, 0, i64::MAX, i64::MAX, -1, 1]
        .iter()
        .map(|&t| (t, 1.0f64.to_bits()))
        .collect();
    assert_eq!(decode(&encode(&samples)).unwrap(), samples);
}

#[test]
fn an_empty_chunk_decodes_to_nothing_and_resumes() {
    let app = XorAppender::new();
    assert_eq!(app.bytes(), [0, 0]);
    assert_eq!(app.last(), None);
    assert_eq!(decode(app.bytes()).unwrap(), []);
    let mut again = XorAppender::resume(app.into_bytes()).unwrap();
    again.append(5, 6.0);
    assert_eq!(again.last(), Some((5, 6.0)));
    assert_eq!(decode(again.bytes()).unwrap(), [(5, 6.0f64.to_bits())]);
}
