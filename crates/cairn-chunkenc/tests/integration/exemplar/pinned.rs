//! Pinned sizes, the worked example of `EXEMPLAR_FORMAT.md` byte for byte, and the golden
//! chunk, so that a change in encoding cannot go unnoticed and the document cannot drift.

use cairn_chunkenc::exemplar::{
    ENCODING_EXEMPLAR, ExemplarAppender, ExemplarIterator, FIRST_EXEMPLAR_OFFSET, HEADER_LEN,
    MAX_BYTES_PER_CHUNK, MAX_EXEMPLAR_BYTES, MAX_LABEL_BYTES, MAX_LABELS, NUM_EXEMPLARS_OFFSET,
    TARGET_BYTES_PER_CHUNK,
};

use super::{
    Latency, Owned, Rng, Shape, T0, decode, encode, exemplar, golden_chunk, golden_exemplars,
    realistic,
};

#[test]
fn header_constants_and_limits() {
    assert_eq!(NUM_EXEMPLARS_OFFSET, 0);
    assert_eq!(FIRST_EXEMPLAR_OFFSET, 2);
    assert_eq!(HEADER_LEN, 2);
    assert_eq!(ENCODING_EXEMPLAR, 0x45);
    assert_eq!(MAX_LABELS, 128);
    assert_eq!(MAX_LABEL_BYTES, 1024);
    assert_eq!(TARGET_BYTES_PER_CHUNK, 4096);
    // 159 bits of timestamp, value and set reference, 7 of padding, a set of at most
    // 2 + 128 * 4 + 1024 bytes, two ID slots of at most 24 bits: 12 518 bits.
    assert_eq!(
        MAX_EXEMPLAR_BYTES,
        (159 + 7 + 8 * (2 + 128 * 4 + 1024) + 2 * 24usize).div_ceil(8)
    );
    assert_eq!(MAX_BYTES_PER_CHUNK, 4095 + 1565);
}

/// The worked example's exemplars.
fn worked_example() -> Vec<Owned> {
    let first = [
        ("service", "api"),
        ("span_id", "b7ad6b7169203331"),
        ("trace_id", "0af7651916cd43dd8448eb211c80319c"),
    ];
    vec![
        exemplar(T0, 0.25, &first),
        exemplar(
            T0 + 2_500,
            0.5,
            &[
                ("service", "api"),
                ("span_id", "00f067aa0ba902b7"),
                ("trace_id", "4bf92f3577b34da6a3ce929d0e0e4736"),
            ],
        ),
        exemplar(T0 + 6_500, 0.5, &[("service", "web"), ("trace_id", "Abc")]),
        exemplar(T0 + 6_500, 0.75, &first),
    ]
}

fn hex(rows: &[&str]) -> Vec<u8> {
    rows.iter()
        .flat_map(|row| row.split_whitespace())
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect()
}

/// The worked example of `EXEMPLAR_FORMAT.md`, field by field (`e.b` is bit `b` of byte `e`,
/// bit 0 the most significant).
#[test]
fn worked_example_byte_for_byte() {
    #[rustfmt::skip]
    let want = hex(&[
        "00 04", // num_exemplars = 4
        "80 a0 ab fe f9 62", // e0 ts_0 = 1700000000000: zigzag uvarint
        "3f d0 00 00 00 00 00 00", // e0 v_0 = 0.25
        "c0", // e0 set: 11 (new), 6 padding bits
        "03", //    label count = 3
        "1c", //    name: literal, 7 bytes (string 0)
        "73 65 72 76 69 63 65", //    "service"
        "0c", //    value: literal, 3 bytes (string 1)
        "61 70 69", //    "api"
        "1c", //    name: literal, 7 bytes (string 2)
        "73 70 61 6e 5f 69 64", //    "span_id"
        "02", //    value: ID slot
        "20", //    name: literal, 8 bytes (string 3)
        "74 72 61 63 65 5f 69 64", //    "trace_id"
        "02", //    value: ID slot
        "db d6 b5 b8 b4 90 19 98", // e0 1 + span_id (64 bits), 1 + trace_id (128 bits), to bit 2 of byte 73
        "c2 bd d9 46 45 b3 50 f7",
        "61 12 3a c8 47 20 0c 67",
        "22 71 35 05 a0", // e1 dod 10 + 2500; value 11 + L 10 + S 2 + 2 bits; set 0 (previous); 1 + span_id starts at 77.2
        "1e 0c f5 41 75 20 56 f4", //    span_id and trace_id (1 + 128 bits from 85.3), to bit 4 of byte 101
        "bf 92 f3 57 7b 34 da 6a",
        "3c e9 29 d0 e0 e4 73",
        "68 5d c6", // e2 dod 10 + 1500; value 0 (same); set 11 (new) at 103.5; 1 padding bit
        "02", //    label count = 2
        "01", //    name: ref string 0 ("service")
        "0c", //    value: literal, 3 bytes (string 4)
        "77 65 62", //    "web"
        "0d", //    name: ref string 3 ("trace_id")
        "02", //    value: ID slot
        "00", //    trace_id: 0 (string), 7 padding bits
        "0c", //    literal, 3 bytes (string 5)
        "41 62 63", //    "Abc"
        "b0 60 d8 0e 6d", // e3 dod 10 - 4000; value 11 + L 12 + S 1 + 1 bit; set 10 + index 0 (1 bit); 1 + span_id from 121.1
        "eb 5a dc 5a 48 0c cc 61", //    span_id, 1 + trace_id from 129.2, 5 padding bits
        "5e ec a3 22 d9 a8 7b b0",
        "89 1d 64 23 90 06 33 80",
    ]);
    let chunk = encode(&worked_example());
    assert_eq!(chunk, want);
    assert_eq!(chunk.len(), 146);
    assert_eq!(decode(&chunk).unwrap(), worked_example());
}

/// Every version of the format keeps decoding: this file was written by version 1.
#[test]
fn golden_chunk_is_stable() {
    let golden = include_bytes!("../../../../../testdata/chunkenc/exemplar_golden_v1.bin");
    assert_eq!(decode(golden).unwrap(), golden_exemplars());
    assert_eq!(golden_chunk(), golden, "the encoder writes other bytes");
    assert_eq!(golden.len(), 1416);
}

/// Bytes per exemplar of a realistic chunk, after checking that it decodes back and that
/// the writer would not have cut it.
fn pinned_len(exemplars: &[Owned]) -> usize {
    let chunk = encode(exemplars);
    assert_eq!(decode(&chunk).unwrap(), exemplars);
    let mut app = ExemplarAppender::new();
    for (t, v, labels) in exemplars {
        assert!(!app.is_full());
        app.append(*t, f64::from_bits(*v), labels).unwrap();
    }
    chunk.len()
}

const SPAN_AND_SERVICE: Shape = Shape {
    span_id: true,
    service: true,
};

/// 120 exemplars, 1 to 15 s apart, a W3C trace and span ID each, `service="api"`, latencies
/// in whole milliseconds: 28.85 bytes each, the 24 bytes of IDs included.
#[test]
fn trace_span_and_service_in_whole_milliseconds() {
    let len = pinned_len(&realistic(120, SPAN_AND_SERVICE, Latency::WholeMs, 42));
    assert_eq!(len, 3_462);
    assert!(
        len as f64 / 120.0 <= 32.0,
        "{} bytes per exemplar",
        len as f64 / 120.0
    );
}

/// The same with only a trace ID (and `service`): 20.65 bytes each.
#[test]
fn trace_and_service_in_whole_milliseconds() {
    let shape = Shape {
        span_id: false,
        service: true,
    };
    let len = pinned_len(&realistic(120, shape, Latency::WholeMs, 42));
    assert_eq!(len, 2_478);
    assert!(len as f64 / 120.0 <= 32.0);
}

/// Only a trace ID: 20.55 bytes each.
#[test]
fn trace_only_in_whole_milliseconds() {
    let shape = Shape {
        span_id: false,
        service: false,
    };
    let len = pinned_len(&realistic(120, shape, Latency::WholeMs, 42));
    assert_eq!(len, 2_466);
}

/// Latencies as Go's `Duration.Seconds()` makes them (`ns / 1e9`) have a random 52-bit
/// mantissa that no XOR can shrink: 33.94 bytes each. Over 32 by necessity, not by
/// overhead: IDs (24 bytes) and mantissa (6.5) alone take 30.5 bytes of pure entropy, and
/// a uniform 1 to 15 s interval almost 14 bits more.
#[test]
fn trace_span_and_service_in_full_precision_seconds() {
    let len = pinned_len(&realistic(
        120,
        SPAN_AND_SERVICE,
        Latency::NanosAsSeconds,
        42,
    ));
    assert_eq!(len, 4_073);
    assert!(len as f64 / 120.0 <= 34.0);
    let shape = Shape {
        span_id: false,
        service: true,
    };
    let len = pinned_len(&realistic(120, shape, Latency::NanosAsSeconds, 42));
    assert_eq!(len, 3_089);
}

/// A steady exemplar (same interval, value and set, one trace ID) costs 3 bits and its ID.
#[test]
fn steady_exemplars() {
    let exemplars: Vec<Owned> = (0..120)
        .map(|i| {
            (
                T0 + i * 15_000,
                1.0f64.to_bits(),
                vec![("trace_id".to_owned(), format!("{i:032x}"))],
            )
        })
        .collect();
    let one = encode(&exemplars[..1]).len();
    let two = encode(&exemplars[..2]).len();
    // 118 exemplars of 3 + 1 + 128 bits after the second.
    assert_eq!(encode(&exemplars).len(), two + (118 * 132usize).div_ceil(8));
    assert_eq!(one, 2 + 6 + 8 + 1 + 1 + 9 + 1 + 16 + 1);
}

/// Two alternating sets cost `10` and a 1-bit index each; a third set widens it to 2 bits.
#[test]
fn sets_by_index() {
    let a = [("service", "api")];
    let b = [("service", "web")];
    let c = [("service", "db")];
    let mut exemplars = vec![exemplar(0, 1.0, &a), exemplar(0, 1.0, &b)];
    let base = encode(&exemplars).len();
    for i in 0..16 {
        exemplars.push(exemplar(0, 1.0, if i % 2 == 0 { &a } else { &b }));
    }
    // 16 exemplars of dod 0, value 0 and `10` + 1 bit: 5 bits each.
    assert_eq!(encode(&exemplars).len(), base + 10);
    exemplars.push(exemplar(0, 1.0, &c));
    let with_c = encode(&exemplars).len();
    for i in 0..16 {
        exemplars.push(exemplar(0, 1.0, if i % 2 == 0 { &a } else { &b }));
    }
    // Now 6 bits each; the bits after the byte-aligned set start on a fresh byte.
    assert_eq!(encode(&exemplars).len(), with_c + 12);
    assert_eq!(decode(&encode(&exemplars)).unwrap(), exemplars);
}

/// A writer cutting on `is_full` makes chunks of at least the target and at most
/// `MAX_BYTES_PER_CHUNK`, whatever the exemplars.
#[test]
fn is_full_bounds_chunk_size() {
    let mut rng = Rng::new(3);
    let mut chunks = Vec::new();
    let mut app = ExemplarAppender::new();
    let mut t = 0i64;
    for i in 0..3_000 {
        if app.is_full() {
            chunks.push(std::mem::take(&mut app).into_bytes());
        }
        t += rng.below(1 << 30) as i64;
        let big = "é".repeat(rng.below(200) as usize);
        let name = format!("l{}", rng.below(1_000_000));
        let labels = [
            ("a", big.as_str()),
            (name.as_str(), "x"),
            (
                "trace_id",
                if i % 5 == 0 {
                    "nope"
                } else {
                    "0af7651916cd43dd8448eb211c80319c"
                },
            ),
        ];
        app.append(t, f64::from_bits(rng.next()), &labels).unwrap();
    }
    assert!(chunks.len() > 10);
    for chunk in &chunks {
        assert!(chunk.len() >= TARGET_BYTES_PER_CHUNK);
        assert!(chunk.len() <= MAX_BYTES_PER_CHUNK);
        assert_eq!(
            ExemplarIterator::new(chunk).count(),
            ExemplarIterator::new(chunk).num_exemplars()
        );
    }
}

/// Adversarial exemplars after a chunk just under the target, its string table past 32
/// entries so references take two bytes: each adds at most `MAX_EXEMPLAR_BYTES`.
#[test]
fn largest_exemplars_stay_within_the_bound() {
    let mut app = ExemplarAppender::new();
    let mut t = 0;
    let mut i = 0;
    while app.bytes().len() < TARGET_BYTES_PER_CHUNK - 16 {
        app.append(t, i as f64, &[(format!("n{i}").as_str(), "")])
            .unwrap();
        t += 1;
        i += 1;
    }
    assert!(!app.is_full());
    let names: Vec<String> = (0..MAX_LABELS).map(|i| format!("n{i}")).collect();
    // 128 labels by reference (2-byte tags), values the empty string, but one long literal.
    let long = "w".repeat(MAX_LABEL_BYTES - names.iter().map(String::len).sum::<usize>() - 30);
    let mut labels: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "")).collect();
    labels.retain(|(n, _)| *n != "n99" && *n != "n98");
    labels.push(("span_id", "xyz"));
    labels.push(("trace_id", "0AF7651916CD43DD"));
    labels.sort();
    labels[0].1 = &long;
    let before = app.bytes().len();
    app.append(i64::MAX, f64::from_bits(0x8000_0000_0000_0001), &labels)
        .unwrap();
    let grew = app.bytes().len() - before;
    assert!(grew <= MAX_EXEMPLAR_BYTES, "{grew}");
    assert!(grew > 1_000, "{grew}");
    assert!(app.bytes().len() <= MAX_BYTES_PER_CHUNK);
    let decoded = decode(app.bytes()).unwrap();
    assert_eq!(decoded.last().unwrap().2.len(), MAX_LABELS);
}
