//! Exemplar chunks: round trips, pinned sizes and layout, corrupt input, seek, and the fuzz
//! body. Helpers shared by those modules live here.

mod corrupt;
mod fuzz;
mod pinned;
mod roundtrip;
mod seek;

use cairn_chunkenc::exemplar::{ExemplarAppender, ExemplarError, ExemplarIterator, ExemplarRef};

use crate::common::STALE_NAN;

/// An exemplar with its value as raw bits and owned labels, so NaN payloads compare exactly.
pub(crate) type Owned = (i64, u64, Vec<(String, String)>);

pub(crate) const T0: i64 = 1_700_000_000_000;

pub(crate) fn owned(e: &ExemplarRef<'_>) -> Owned {
    let labels = e
        .labels
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    (e.t, e.v.to_bits(), labels)
}

pub(crate) fn exemplar(t: i64, v: f64, labels: &[(&str, &str)]) -> Owned {
    let labels = labels
        .iter()
        .map(|&(n, v)| (n.to_owned(), v.to_owned()))
        .collect();
    (t, v.to_bits(), labels)
}

pub(crate) fn encode(exemplars: &[Owned]) -> Vec<u8> {
    let mut app = ExemplarAppender::new();
    for (t, v, labels) in exemplars {
        app.append(*t, f64::from_bits(*v), labels).unwrap();
    }
    app.into_bytes()
}

pub(crate) fn decode(chunk: &[u8]) -> Result<Vec<Owned>, ExemplarError> {
    let mut it = ExemplarIterator::new(chunk);
    let mut out = Vec::new();
    while let Some(e) = it.try_next()? {
        out.push(owned(&e));
    }
    Ok(out)
}

/// A small deterministic generator (xorshift64), so pinned sizes do not depend on a crate's
/// random stream or on platform maths.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng(seed | 1)
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Uniform enough in `0..n` for test data.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub(crate) fn trace_id(&mut self) -> String {
        format!("{:016x}{:016x}", self.next(), self.next())
    }

    pub(crate) fn span_id(&mut self) -> String {
        format!("{:016x}", self.next())
    }
}

/// Which labels a realistic exemplar carries besides `trace_id`.
#[derive(Clone, Copy)]
pub(crate) struct Shape {
    pub(crate) span_id: bool,
    pub(crate) service: bool,
}

/// How realistic values are drawn.
#[derive(Clone, Copy)]
pub(crate) enum Latency {
    /// Whole milliseconds, skewed (5 ms to about 2 s): duration histograms recorded in ms.
    WholeMs,
    /// Seconds from nanoseconds, `ns as f64 / 1e9`, as Go's `time.Duration.Seconds()`: a
    /// full 52-bit mantissa.
    NanosAsSeconds,
    /// Seconds printed to the microsecond and parsed back (`0.473598`): the same double as
    /// `us as f64 / 1e6`, a full mantissa too, but a decimal of 6 places.
    MicrosAsSeconds,
}

impl Latency {
    fn draw(self, rng: &mut Rng) -> f64 {
        // A skewed spread: most requests fast, a tail of slow ones.
        let ms = 5 + rng.below(100) * (1 + rng.below(20));
        match self {
            Latency::WholeMs => ms as f64,
            Latency::NanosAsSeconds => (ms * 1_000_000 + rng.below(1_000_000)) as f64 / 1e9,
            Latency::MicrosAsSeconds => (ms * 1_000 + rng.below(1_000)) as f64 / 1e6,
        }
    }
}

/// `n` exemplars of one series: 1 to 15 s apart (uniform, so the intervals jitter by
/// seconds), latency-like values, a fresh W3C trace ID (and span ID) each.
pub(crate) fn realistic(n: usize, shape: Shape, latency: Latency, seed: u64) -> Vec<Owned> {
    let mut rng = Rng::new(seed);
    let mut t = T0;
    (0..n)
        .map(|_| {
            t += 1_000 + rng.below(14_001) as i64;
            let v = latency.draw(&mut rng);
            let trace = rng.trace_id();
            let span = rng.span_id();
            let mut labels = Vec::new();
            if shape.service {
                labels.push(("service".to_owned(), "api".to_owned()));
            }
            if shape.span_id {
                labels.push(("span_id".to_owned(), span));
            }
            labels.push(("trace_id".to_owned(), trace));
            (t, v.to_bits(), labels)
        })
        .collect()
}

/// The exemplars of the golden chunk: every path of the format (ID fast path and each
/// fallback, new sets, the previous set, sets by index, string references, unicode, the
/// empty set, equal timestamps, a 64-bit delta of delta, NaN payloads), then realistic ones.
pub(crate) fn golden_exemplars() -> Vec<Owned> {
    fn api(t: i64, v: f64, span: &str, trace: &str) -> Owned {
        exemplar(
            t,
            v,
            &[("service", "api"), ("span_id", span), ("trace_id", trace)],
        )
    }
    let mut out = vec![
        api(
            T0,
            0.25,
            "b7ad6b7169203331",
            "0af7651916cd43dd8448eb211c80319c",
        ),
        api(
            T0 + 2_500,
            0.5,
            "00f067aa0ba902b7",
            "4bf92f3577b34da6a3ce929d0e0e4736",
        ),
        exemplar(
            T0 + 6_500,
            0.5,
            &[
                ("service", "api"),
                ("trace_id", "0AF7651916CD43DD8448EB211C80319C"),
            ],
        ),
        exemplar(T0 + 6_500, f64::from_bits(STALE_NAN), &[]),
        api(
            T0 + 9_000,
            12.0,
            "0000000000000001",
            "00000000000000000000000000000001",
        ),
        exemplar(
            T0 + 9_001,
            f64::from_bits(0xfff8_dead_beef_0001),
            &[("méthode", "GET"), ("trace_id", "abc"), ("ünïcode", "✓ 🦀")],
        ),
        exemplar(
            T0 + 20_000,
            -0.0,
            &[
                ("service", "web"),
                ("span_id", "not-hex-at-all!!"),
                ("trace_id", "0af7651916cd43dd8448eb211c80319"),
            ],
        ),
        exemplar(
            T0 + 20_000,
            f64::INFINITY,
            &[("service", "api"), ("trace_id", "abc")],
        ),
        exemplar(T0 + (1 << 40), 1e-300, &[("a", ""), ("b", "api")]),
        exemplar(
            T0 + (1 << 40) + 1,
            3.0,
            &[("service", "web"), ("span_id", ""), ("trace_id", "")],
        ),
    ];
    let tail = realistic(
        30,
        Shape {
            span_id: true,
            service: true,
        },
        Latency::WholeMs,
        7,
    );
    let last = out.last().map_or(0, |e| e.0);
    out.extend(tail.into_iter().map(|(t, v, l)| (t - T0 + last, v, l)));
    out
}

/// The golden chunk: [`golden_exemplars`] as cairn writes them (pinned byte for byte by
/// `pinned::golden_chunk_is_stable`).
pub(crate) fn golden_chunk() -> Vec<u8> {
    encode(&golden_exemplars())
}
