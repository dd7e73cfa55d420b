//! Gorilla XOR chunks: encode and decode throughput, cairn beside `rusty-chunkenc` (the other
//! Rust implementation of Prometheus' XOR chunk layout) on the same samples.
//!
//! Run: `cargo bench -p cairn-benches --bench chunkenc`. Results: benches/README.md.

#![allow(
    clippy::expect_used,
    reason = "a peer that fails on the bench's own input should stop the bench loudly"
)]

use std::hint::black_box;

use cairn_chunkenc::{XorAppender, XorIterator};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rusty_chunkenc::XORSample;
use rusty_chunkenc::xor::{XORChunk, read_xor_chunk_data};

/// One 120-sample chunk per series shape, 15 s apart, as a Prometheus head writes them.
fn series() -> Vec<(&'static str, Vec<(i64, f64)>)> {
    let t0 = 1_700_000_000_000i64;
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let constant = (0..120).map(|i| (t0 + i * 15_000, 42.0)).collect();
    let counter = (0..120)
        .map(|i| (t0 + i * 15_000, (1_000 + 7 * i * i) as f64))
        .collect();
    let gauge = (0..120)
        .map(|i| {
            let jitter = (next() % 40) as i64 - 20;
            (
                t0 + i * 15_000 + jitter,
                (next() % 1_000_000) as f64 / 1000.0,
            )
        })
        .collect();
    vec![
        ("constant", constant),
        ("counter", counter),
        ("gauge_jitter", gauge),
    ]
}

fn encode(samples: &[(i64, f64)]) -> Vec<u8> {
    let mut app = XorAppender::new();
    for &(t, v) in samples {
        app.append(t, v);
    }
    app.into_bytes()
}

fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("XorIterator::decode");
    for (name, samples) in series() {
        let chunk = encode(&samples);
        group.throughput(Throughput::Elements(samples.len() as u64));
        group.bench_with_input(BenchmarkId::new("cairn", name), &chunk, |b, chunk| {
            b.iter(|| {
                let mut sum = 0u64;
                for (t, v) in XorIterator::new(black_box(chunk)) {
                    sum = sum.wrapping_add(t as u64 ^ v.to_bits());
                }
                sum
            });
        });
        group.bench_with_input(
            BenchmarkId::new("rusty-chunkenc", name),
            &chunk,
            |b, chunk| {
                b.iter(|| {
                    let (_, parsed) = read_xor_chunk_data(black_box(chunk)).expect("decodes");
                    let mut sum = 0u64;
                    for s in parsed.samples() {
                        sum = sum.wrapping_add(s.timestamp as u64 ^ s.value.to_bits());
                    }
                    sum
                });
            },
        );
    }
    group.finish();
}

fn append(c: &mut Criterion) {
    let mut group = c.benchmark_group("XorAppender::append");
    for (name, samples) in series() {
        group.throughput(Throughput::Elements(samples.len() as u64));
        group.bench_with_input(BenchmarkId::new("cairn", name), &samples, |b, samples| {
            b.iter(|| encode(black_box(samples)));
        });
        group.bench_with_input(
            BenchmarkId::new("rusty-chunkenc", name),
            &samples,
            |b, samples| {
                b.iter(|| {
                    let chunk = XORChunk::new(
                        black_box(samples)
                            .iter()
                            .map(|&(timestamp, value)| XORSample { timestamp, value })
                            .collect(),
                    );
                    let mut out = Vec::new();
                    chunk.write(&mut out).expect("encodes");
                    out
                });
            },
        );
    }
    group.finish();
}

criterion_group!(benches, decode, append);
criterion_main!(benches);
