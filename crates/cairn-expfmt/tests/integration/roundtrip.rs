//! parse(encode(x)) == x for generated metric families with exemplars, by proptest.

use cairn_expfmt::{
    FamilySample, Format, MetricFamily, Mode, encode_openmetrics, encode_prometheus, parse_families,
};
use cairn_model::{Exemplar, Labels, MetricType};
use proptest::collection::{btree_set, vec};
use proptest::prelude::*;

/// OpenMetrics timestamps pass through float seconds; an f64 keeps these exact.
const MAX_OM_TS: i64 = 1 << 50;

fn label_name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z_][a-zA-Z0-9_]{0,7}",
        1 => "[a-z]{1,3}\\.[a-zé☃]{1,3}",
    ]
    .prop_filter("reserved", |n| !n.starts_with("__"))
}

fn label_value() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-zA-Z0-9 _./:-]{0,12}",
        1 => any::<String>().prop_map(|s| s.chars().take(12).collect()),
        1 => Just("a\\b\"c\nd\\z".to_string()),
    ]
}

fn labels(max: usize) -> impl Strategy<Value = Labels> {
    vec((label_name(), label_value()), 0..=max).prop_map(Labels::from_pairs)
}

fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => any::<f64>(),
        2 => (-1_000_000i64..1_000_000).prop_map(|v| v as f64),
        1 => Just(f64::NAN),
        1 => Just(f64::INFINITY),
        1 => Just(f64::NEG_INFINITY),
        1 => Just(-0.0),
    ]
}

fn exemplar(ts_max: i64) -> impl Strategy<Value = Exemplar> {
    (
        vec((label_name(), "[0-9a-f]{0,16}"), 0..=3),
        value(),
        proptest::option::of(-ts_max..ts_max),
    )
        .prop_map(|(labels, value, timestamp)| Exemplar {
            labels: Labels::from_pairs(labels),
            value,
            timestamp,
        })
}

/// A family of `kind` whose samples use the type's suffixes.
fn family(index: usize, om: bool) -> impl Strategy<Value = MetricFamily> {
    let kinds: Vec<MetricType> = if om {
        MetricType::ALL.to_vec()
    } else {
        MetricType::ALL
            .iter()
            .copied()
            .filter(|k| k.as_prometheus().is_some())
            .collect()
    };
    let ts_max = if om { MAX_OM_TS } else { i64::MAX };
    (
        prop_oneof![3 => "[a-z]{1,4}", 1 => "[a-z]{1,3}\\.[a-zé]{1,3}"],
        proptest::sample::select(kinds),
        proptest::option::of(any::<String>().prop_map(|s| s.chars().take(20).collect::<String>())),
        proptest::option::of("[a-z]{0,4}"),
        vec(
            (
                any::<proptest::sample::Index>(),
                labels(3),
                value(),
                proptest::option::of(-ts_max..ts_max),
                proptest::option::of(exemplar(ts_max)),
            ),
            1..5,
        ),
    )
        .prop_map(move |(base, kind, help, unit, samples)| {
            let unit = if om { unit } else { None };
            let mut name = format!("{base}_f{index}");
            if let Some(u) = unit.as_deref().filter(|u| !u.is_empty()) {
                name = format!("{name}_{u}");
            }
            let mut suffixes: Vec<&str> = kind.openmetrics_suffixes().to_vec();
            if !om && kind == MetricType::Counter {
                suffixes.push("");
            }
            let samples = samples
                .into_iter()
                .map(|(pick, labels, value, timestamp, ex)| FamilySample {
                    name: format!("{name}{}", pick.get(&suffixes)),
                    labels,
                    value,
                    timestamp,
                    exemplar: if om { ex } else { None },
                })
                .collect();
            MetricFamily {
                name,
                kind,
                help,
                unit,
                samples,
            }
        })
}

fn families(om: bool) -> impl Strategy<Value = Vec<MetricFamily>> {
    (1usize..6).prop_flat_map(move |n| (0..n).map(|i| family(i, om)).collect::<Vec<_>>())
}

fn round_trip(families: &[MetricFamily], format: Format, mode: Mode) -> Result<(), TestCaseError> {
    let mut text = String::new();
    match format {
        Format::OpenMetrics => encode_openmetrics(families, &mut text),
        Format::PrometheusText => encode_prometheus(families, &mut text),
    }
    let parsed = parse_families(text.as_bytes(), format, mode)
        .map_err(|e| TestCaseError::fail(format!("{e:?}\n{text}")))?;
    // Debug form: NaN equals itself there.
    prop_assert_eq!(
        format!("{families:?}"),
        format!("{:?}", parsed.families),
        "{}",
        text
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn openmetrics_round_trip(fams in families(true)) {
        round_trip(&fams, Format::OpenMetrics, Mode::Scrape)?;
    }

    #[test]
    fn prometheus_round_trip(fams in families(false)) {
        round_trip(&fams, Format::PrometheusText, Mode::Scrape)?;
    }

    /// Well-formed histograms and counters with exemplars pass strict mode and round-trip.
    #[test]
    fn strict_histograms_and_counters_round_trip(
        pods in btree_set("[a-z0-9-]{1,8}", 1..4),
        bounds in btree_set(1u32..10_000, 1..8),
        increments in vec(0u32..50, 9),
        exemplars in vec(proptest::option::of(exemplar(MAX_OM_TS)), 9),
        ts in proptest::option::of(0i64..MAX_OM_TS),
    ) {
        let mut hist = MetricFamily {
            name: "request_duration_seconds".into(),
            kind: MetricType::Histogram,
            help: Some("Request latency.".into()),
            unit: Some("seconds".into()),
            samples: Vec::new(),
        };
        let mut counter = MetricFamily {
            name: "requests".into(),
            kind: MetricType::Counter,
            help: None,
            unit: None,
            samples: Vec::new(),
        };
        let sample = |name: &str, labels: Labels, value: f64, exemplar: Option<Exemplar>| FamilySample {
            name: name.into(), labels, value, timestamp: ts, exemplar,
        };
        for pod in &pods {
            let mut cumulative = 0.0;
            let les: Vec<String> = bounds.iter().map(|b| format!("{}", f64::from(*b) / 1000.0))
                .chain(["+Inf".to_string()]).collect();
            for (i, le) in les.iter().enumerate() {
                cumulative += f64::from(increments[i]);
                let labels = Labels::from_pairs([("pod", pod.as_str()), ("le", le.as_str())]);
                hist.samples.push(sample("request_duration_seconds_bucket", labels, cumulative, exemplars[i].clone()));
            }
            let labels = Labels::from_pairs([("pod", pod.as_str())]);
            hist.samples.push(sample("request_duration_seconds_count", labels.clone(), cumulative, None));
            hist.samples.push(sample("request_duration_seconds_sum", labels.clone(), cumulative * 0.25, None));
            counter.samples.push(sample("requests_total", labels, cumulative, exemplars[8].clone()));
        }
        round_trip(&[hist, counter], Format::OpenMetrics, Mode::Strict)?;
    }
}
