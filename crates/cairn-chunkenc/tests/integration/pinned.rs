//! Pinned sizes and one byte-exact layout, so that a change in encoding cannot go unnoticed
//! and `FORMAT.md` cannot drift from the code.

use cairn_chunkenc::{
    FIRST_SAMPLE_OFFSET, HEADER_LEN, MAX_BYTES_PER_CHUNK, MAX_SAMPLE_BYTES, NUM_SAMPLES_OFFSET,
    XorAppender, XorIterator,
};

use crate::common::{Bits, decode, encode};
use crate::oracle::rusty_encode;

/// The encoded length, after checking that an independent writer produces the same bytes.
fn pinned_len(samples: &[Bits]) -> usize {
    let chunk = encode(samples);
    assert_eq!(
        chunk,
        rusty_encode(samples),
        "rusty-chunkenc writes other bytes"
    );
    chunk.len()
}

const T0: i64 = 1_700_000_000_000;

fn steady(n: i64, value: impl Fn(i64) -> f64) -> Vec<Bits> {
    (0..n)
        .map(|i| (T0 + i * 15_000, value(i).to_bits()))
        .collect()
}

/// A small deterministic generator for gauge-like noise (a 64-bit LCG).
fn noise(i: i64) -> f64 {
    let x = (i as u64)
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    ((x >> 11) % 100_000) as f64 / 1_000.0
}

#[test]
fn header_constants() {
    assert_eq!(NUM_SAMPLES_OFFSET, 0);
    assert_eq!(FIRST_SAMPLE_OFFSET, 2);
    assert_eq!(HEADER_LEN, 2);
    assert_eq!(MAX_BYTES_PER_CHUNK, 1024);
    assert_eq!(MAX_SAMPLE_BYTES, 19);
}

/// The worked example of `FORMAT.md`, field by field.
#[test]
fn golden_layout_of_two_samples() {
    let chunk = encode(&[
        (7_200_000, 12_000.0f64.to_bits()),
        (7_201_000, 12_001.0f64.to_bits()),
    ]);
    #[rustfmt::skip]
    let want = [
        0x00, 0x02,                                     // num_samples = 2
        0x80, 0xf4, 0xee, 0x06,                         // ts_0 = 7200000, zigzag varint
        0x40, 0xc7, 0x70, 0x00, 0x00, 0x00, 0x00, 0x00, // v_0 = 12000.0
        0xe8, 0x07,                                     // ts_1_delta = 1000, uvarint
        // v_1 xor = 0x0000_0080_0000_0000: 11, leading 24, 1 significant bit, the bit 1,
        // then 2 bits of padding: 11 11000 000001 1 00
        0xf0, 0x0c,
    ];
    assert_eq!(chunk, want);
}

#[test]
fn constant_value_at_15s() {
    let samples = steady(120, |_| 42.0);
    // 16 bytes for header and sample 0, 2 for the delta, then 1 + 118 * 2 bits.
    assert_eq!(pinned_len(&samples), 48);
}

#[test]
fn counter_at_15s() {
    let samples = steady(120, |i| (1_000 + 7 * i) as f64);
    assert_eq!(pinned_len(&samples), 206);
}

#[test]
fn gauge_noise_at_15s() {
    let samples = steady(120, noise);
    assert_eq!(pinned_len(&samples), 983);
}

#[test]
fn jittered_timestamps() {
    // Every delta-of-delta bucket: 0, 14, 17, 20 and 64 bits.
    let deltas = [
        15_000, 15_000, 15_250, 15_000, 23_192, 80_537, 539_289, 15_000, 10_000,
    ];
    let mut t = T0;
    let samples: Vec<Bits> = deltas
        .iter()
        .map(|d| {
            t += d;
            (t, 1.0f64.to_bits())
        })
        .collect();
    assert_eq!(pinned_len(&samples), 41);
}

#[test]
fn is_full_keeps_chunks_within_1024_bytes() {
    // Worst case: every sample takes the 64-bit timestamp bucket and a full 64-bit window.
    let mut app = XorAppender::new();
    let mut t = 0i64;
    let mut i = 0u64;
    while !app.is_full() {
        t = t.wrapping_add(((i % 2) as i64 * 2 - 1) * (1 << 50));
        app.append(
            t,
            f64::from_bits(0x8000_0000_0000_0001 ^ (i << 1) ^ (i << 60)),
        );
        i += 1;
    }
    let len = app.bytes().len();
    assert!(len > MAX_BYTES_PER_CHUNK - MAX_SAMPLE_BYTES, "{len}");
    assert!(len <= MAX_BYTES_PER_CHUNK, "{len}");

    // A steady chunk fills up much later.
    let mut app = XorAppender::new();
    for (t, v) in steady(4_000, noise) {
        if app.is_full() {
            break;
        }
        app.append(t, f64::from_bits(v));
    }
    assert!(app.bytes().len() <= MAX_BYTES_PER_CHUNK);
    assert_eq!(XorIterator::new(app.bytes()).count(), app.num_samples());
    assert_eq!(decode(app.bytes()).unwrap().len(), app.num_samples());
}
