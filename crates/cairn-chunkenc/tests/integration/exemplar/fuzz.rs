//! The exemplar fuzz body, run by stable `cargo test` over random bytes, mutated chunks and
//! every prefix and many bit flips of the golden chunk.

use cairn_chunkenc::fuzzing::fuzz_exemplar_decode;
use proptest::prelude::*;

use super::{Latency, Shape, encode, golden_chunk, realistic};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn random_bytes(data in prop::collection::vec(any::<u8>(), 0..400)) {
        fuzz_exemplar_decode(&data);
    }

    #[test]
    fn random_bytes_with_a_small_count(count in 0u16..40, body in prop::collection::vec(any::<u8>(), 0..600)) {
        let mut data = count.to_be_bytes().to_vec();
        data.extend(body);
        fuzz_exemplar_decode(&data);
    }

    #[test]
    fn mutated_chunks(
        n in 1usize..60,
        seed in any::<u64>(),
        flips in prop::collection::vec(any::<prop::sample::Index>(), 1..4),
    ) {
        let shape = Shape { span_id: seed % 2 == 0, service: seed % 3 == 0 };
        // Whole milliseconds mix decimal and XOR values; seconds from ns are mostly decimals.
        let latency = if seed % 5 < 2 { Latency::WholeMs } else { Latency::NanosAsSeconds };
        let mut chunk = encode(&realistic(n, shape, latency, seed));
        let bits = chunk.len() * 8;
        for flip in flips {
            let bit = flip.index(bits);
            chunk[bit / 8] ^= 0x80 >> (bit % 8);
        }
        fuzz_exemplar_decode(&chunk);
    }
}

#[test]
fn every_prefix_of_the_golden_chunk() {
    let chunk = golden_chunk();
    for len in 0..=chunk.len() {
        fuzz_exemplar_decode(&chunk[..len]);
    }
}

#[test]
fn bit_flips_and_byte_changes_of_the_golden_chunk() {
    let chunk = golden_chunk();
    // Every single-bit flip of the first 160 bytes: header, the first exemplars, the first
    // set definitions, a fallback ID and the unicode strings.
    for bit in 0..chunk.len().min(160) * 8 {
        let mut flipped = chunk.clone();
        flipped[bit / 8] ^= 0x80 >> (bit % 8);
        fuzz_exemplar_decode(&flipped);
    }
    // Every byte, replaced by a few values that make lengths, counts and tags extreme.
    for i in 0..chunk.len() {
        for b in [0x00, 0xff, 0x80, 0x7f, chunk[i] ^ 0x55] {
            let mut changed = chunk.clone();
            changed[i] = b;
            fuzz_exemplar_decode(&changed);
        }
    }
}
