//! The fuzz body, run by stable `cargo test` over random bytes, mutated chunks and every
//! prefix of every golden chunk.

use std::fs;

use cairn_chunkenc::fuzzing::fuzz_decode;
use proptest::prelude::*;

use crate::common::{encode, testdata};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn random_bytes(data in prop::collection::vec(any::<u8>(), 0..400)) {
        fuzz_decode(&data);
    }

    #[test]
    fn random_bytes_with_a_small_count(count in 0u16..300, body in prop::collection::vec(any::<u8>(), 0..600)) {
        let mut data = count.to_be_bytes().to_vec();
        data.extend(body);
        fuzz_decode(&data);
    }

    #[test]
    fn mutated_chunks(
        samples in prop::collection::vec((0i64..100_000, any::<u64>()), 1..120),
        flips in prop::collection::vec(any::<prop::sample::Index>(), 1..4),
    ) {
        let mut t = 0;
        let samples: Vec<_> = samples.into_iter().map(|(d, v)| { t += d; (t, v) }).collect();
        let mut chunk = encode(&samples);
        let bits = chunk.len() * 8;
        for flip in flips {
            let bit = flip.index(bits);
            chunk[bit / 8] ^= 0x80 >> (bit % 8);
        }
        fuzz_decode(&chunk);
    }
}

#[test]
fn every_prefix_and_bit_flip_of_the_golden_chunks() {
    let dir = testdata().join("golden");
    let mut seen = 0;
    for entry in fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "bin") {
            let chunk = fs::read(&path).unwrap();
            for len in 0..=chunk.len() {
                fuzz_decode(&chunk[..len]);
            }
            // Every single-bit flip of the first 64 bytes.
            for bit in 0..chunk.len().min(64) * 8 {
                let mut flipped = chunk.clone();
                flipped[bit / 8] ^= 0x80 >> (bit % 8);
                fuzz_decode(&flipped);
            }
            seen += 1;
        }
    }
    assert!(seen >= 10, "golden chunks missing in {}", dir.display());
}
