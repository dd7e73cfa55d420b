//! rusty-chunkenc, an independent implementation of the same format, as an oracle: each
//! decodes what the other writes, and both write the same bytes.
//!
//! rusty-chunkenc refuses decreasing timestamps when writing and adds timestamps without
//! wrapping when reading, so these series increase and stay far from `i64` overflow.

use proptest::prelude::*;
use rusty_chunkenc::XORSample;
use rusty_chunkenc::xor::{XORChunk, read_xor_chunk_data};

use crate::common::{Bits, STALE_NAN, decode, encode};

fn rusty_decode(chunk: &[u8]) -> Vec<Bits> {
    let (_, parsed) = read_xor_chunk_data(chunk).expect("rusty-chunkenc decodes cairn's chunk");
    parsed
        .samples()
        .iter()
        .map(|s| (s.timestamp, s.value.to_bits()))
        .collect()
}

pub(crate) fn rusty_encode(samples: &[Bits]) -> Vec<u8> {
    let chunk = XORChunk::new(
        samples
            .iter()
            .map(|&(timestamp, v)| XORSample {
                timestamp,
                value: f64::from_bits(v),
            })
            .collect(),
    );
    let mut out = Vec::new();
    chunk.write(&mut out).expect("rusty-chunkenc encodes");
    out
}

fn increasing() -> impl Strategy<Value = Vec<Bits>> {
    let delta = prop_oneof![
        4 => Just(15_000i64),
        3 => 0i64..100_000,
        1 => 0i64..(1 << 40),
    ];
    let value = prop_oneof![
        3 => (0u32..1_000_000).prop_map(|x| f64::from(x).to_bits()),
        2 => any::<u64>(),
        1 => Just(STALE_NAN),
        1 => Just((-0.0f64).to_bits()),
        1 => Just(f64::INFINITY.to_bits()),
    ];
    (
        -(1i64 << 60)..(1i64 << 60),
        prop::collection::vec((delta, value), 1..=240),
    )
        .prop_map(|(t0, steps)| {
            let mut t = t0;
            steps
                .into_iter()
                .map(|(d, v)| {
                    t += d;
                    (t, v)
                })
                .collect()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn rusty_chunkenc_decodes_cairn(samples in increasing()) {
        prop_assert_eq!(rusty_decode(&encode(&samples)), samples);
    }

    #[test]
    fn cairn_decodes_rusty_chunkenc_and_writes_the_same_bytes(samples in increasing()) {
        let theirs = rusty_encode(&samples);
        prop_assert_eq!(decode(&theirs).unwrap(), samples.clone());
        prop_assert_eq!(encode(&samples), theirs);
    }
}

#[test]
fn pinned_series_match_rusty_chunkenc() {
    const T0: i64 = 1_700_000_000_000;
    let series: [Vec<Bits>; 3] = [
        (0..120)
            .map(|i| (T0 + i * 15_000, 42.0f64.to_bits()))
            .collect(),
        (0..120)
            .map(|i| (T0 + i * 15_000, ((1_000 + 7 * i) as f64).to_bits()))
            .collect(),
        (0..120)
            .map(|i| (T0 + i * 15_000 + (i * i) % 997, (i as f64 / 3.0).to_bits()))
            .collect(),
    ];
    for samples in series {
        assert_eq!(encode(&samples), rusty_encode(&samples));
        assert_eq!(rusty_decode(&encode(&samples)), samples);
    }
}
