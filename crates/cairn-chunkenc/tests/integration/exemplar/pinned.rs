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
    assert_eq!(ENCODING_EXEMPLAR, 0x46);
    assert_eq!(MAX_LABELS, 128);
    assert_eq!(MAX_LABEL_BYTES, 1024);
    assert_eq!(TARGET_BYTES_PER_CHUNK, 4096);
    // 160 bits of timestamp, value and set reference (68 + 1 + 77 + 14), 7 of padding, a
    // set of at most 2 + 128 * 4 + 1024 bytes, two ID slots of at most 24 bits: 12 519 bits.
    assert_eq!(
        MAX_EXEMPLAR_BYTES,
        (160 + 7 + 8 * (2 + 128 * 4 + 1024) + 2 * 24usize).div_ceil(8)
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
        "91 96", // e0 value 1 + k 2 + m 0x32 (zigzag 25): 0.25; set 11 (new) at 9.5, 1 padding bit
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
        "db d6 b5 b8 b4 90 19 98", // e0 1 + span_id (64 bits), 1 + trace_id (128 bits), to bit 2 of byte 66
        "c2 bd d9 46 45 b3 50 f7",
        "61 12 3a c8 47 20 0c 67",
        "22 71 22 14", // e1 dod 10 + 2500; value 1 + k 1 + m 0x0a (zigzag 5) at 68.2: 0.5; set 0 (previous) at 69.7
        "80 78 33 d5 05 d4 81 5b", //    1 + span_id from 70.0, 1 + trace_id from 78.1, to bit 2 of byte 94
        "d2 fe 4b cd 5d ec d3 69",
        "a8 f3 a4 a7 43 83 91 cd",
        "a1 77 0c", // e2 dod 10 + 1500; value 0 (plain) 0 (same) at 96.2; set 11 (new) at 96.4; 2 padding bits
        "02", //    label count = 2
        "01", //    name: ref string 0 ("service")
        "0c", //    value: literal, 3 bytes (string 4)
        "77 65 62", //    "web"
        "0d", //    name: ref string 3 ("trace_id")
        "02", //    value: ID slot
        "00", //    trace_id: 0 (string), 7 padding bits
        "0c", //    literal, 3 bytes (string 5)
        "41 62 63", //    "Abc"
        "b0 60", // e3 dod 10 - 4000
        "6c 07 36", //    value 0 (plain) 11 + L 12 + S 1 + 1 bit; set 10 + index 0 (1 bit) at 113.7; 1 + span_id from 114.2
        "f5 ad 6e 2d 24 06 66 30", //    span_id, 1 + trace_id from 122.3, 4 padding bits
        "af 76 51 91 6c d4 3d d8",
        "44 8e b2 11 c8 03 19 c0",
    ]);
    let chunk = encode(&worked_example());
    assert_eq!(chunk, want);
    assert_eq!(chunk.len(), 139);
    assert_eq!(decode(&chunk).unwrap(), worked_example());
}

/// Every version of the format keeps decoding: this file was written by version 1.
#[test]
fn golden_chunk_is_stable() {
    let golden = include_bytes!("../../../../../testdata/chunkenc/exemplar_golden_v2.bin");
    assert_eq!(decode(golden).unwrap(), golden_exemplars());
    assert_eq!(golden_chunk(), golden, "the encoder writes other bytes");
    assert_eq!(golden.len(), 1226);
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
/// in whole milliseconds: 29.25 bytes each, the 24 bytes of IDs included. (28.85 before
/// values had a decimal form: whole milliseconds XOR well, and a decimal taken where it is
/// shorter keeps the XOR window from adapting, so later values pay for it.)
#[test]
fn trace_span_and_service_in_whole_milliseconds() {
    let len = pinned_len(&realistic(120, SPAN_AND_SERVICE, Latency::WholeMs, 42));
    assert_eq!(len, 3_510);
    assert!(
        len as f64 / 120.0 <= 32.0,
        "{} bytes per exemplar",
        len as f64 / 120.0
    );
}

/// The same with only a trace ID (and `service`): 21.05 bytes each.
#[test]
fn trace_and_service_in_whole_milliseconds() {
    let shape = Shape {
        span_id: false,
        service: true,
    };
    let len = pinned_len(&realistic(120, shape, Latency::WholeMs, 42));
    assert_eq!(len, 2_526);
    assert!(len as f64 / 120.0 <= 32.0);
}

/// Only a trace ID: 20.95 bytes each.
#[test]
fn trace_only_in_whole_milliseconds() {
    let shape = Shape {
        span_id: false,
        service: false,
    };
    let len = pinned_len(&realistic(120, shape, Latency::WholeMs, 42));
    assert_eq!(len, 2_514);
}

/// Latencies as Go's `Duration.Seconds()` makes them (`ns / 1e9`) have a random 52-bit
/// mantissa that no XOR can shrink, but they are decimals of at most 9 places: a scale and
/// an integer of at most 5 bytes (45 bits with the mode bit) instead of a 60-odd-bit XOR. 32.14 bytes
/// each (33.94 as XOR); IDs (24 bytes) and a uniform 1 to 15 s interval (almost 14 bits)
/// leave little more to take.
#[test]
fn trace_span_and_service_in_full_precision_seconds() {
    let len = pinned_len(&realistic(
        120,
        SPAN_AND_SERVICE,
        Latency::NanosAsSeconds,
        42,
    ));
    assert_eq!(len, 3_857);
    assert!(len as f64 / 120.0 <= 32.5);
    let shape = Shape {
        span_id: false,
        service: true,
    };
    let len = pinned_len(&realistic(120, shape, Latency::NanosAsSeconds, 42));
    assert_eq!(len, 2_873);
}

/// Latencies in seconds as an exposition prints them to the microsecond (`0.473598`): as
/// full-mantissa as `ns / 1e9`, but each a decimal of 6 places, a scale and an integer of
/// at most 4 bytes: 30.59 bytes each (34.07 in the plain form).
#[test]
fn trace_span_and_service_in_seconds_printed_to_microseconds() {
    let len = pinned_len(&realistic(
        120,
        SPAN_AND_SERVICE,
        Latency::MicrosAsSeconds,
        42,
    ));
    assert_eq!(len, 3_671);
}

/// A steady exemplar (same interval, value and set, one trace ID) costs 4 bits and its ID.
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
    // The first: header, timestamp, value 1.0 as a decimal (13 bits) and `11` in 2 bytes,
    // the set, and the ID ending at bit 1 of the last byte. The second (dod 20 bits, value
    // 2, set 1, ID 129) ends there too; then 118 exemplars of 1 + 2 + 1 + 129 bits.
    assert_eq!(one, 2 + 6 + 2 + 1 + 9 + 1 + 16 + 1);
    assert_eq!(two, one + (1 + 152usize).div_ceil(8) - 1);
    assert_eq!(
        encode(&exemplars).len(),
        two + (1 + 118 * 133usize).div_ceil(8) - 1
    );
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
    // 16 exemplars of dod 0, value `0` (plain) `0` (same) and `10` + 1 bit: 6 bits each.
    assert_eq!(encode(&exemplars).len(), base + 12);
    exemplars.push(exemplar(0, 1.0, &c));
    let with_c = encode(&exemplars).len();
    for i in 0..16 {
        exemplars.push(exemplar(0, 1.0, if i % 2 == 0 { &a } else { &b }));
    }
    // Now 7 bits each; the bits after the byte-aligned set start on a fresh byte.
    assert_eq!(encode(&exemplars).len(), with_c + 14);
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
