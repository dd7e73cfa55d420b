//! An owned view of a whole exposition: metric families with their samples.
//!
//! The streaming [`Parser`] is the fast path; this is for callers that want the whole
//! exposition at once (the encoder's input, tests, `cairn check`'s counts).

use cairn_model::{Exemplar, Labels, MetricType};

use crate::{Entry, Error, Format, Mode, Parser, Sample};

/// One sample of a [`MetricFamily`].
#[derive(Debug, Clone, PartialEq)]
pub struct FamilySample {
    /// The sample name, suffix included (`http_requests_total`, `latency_bucket`).
    pub name: String,
    /// The labels, without `__name__`.
    pub labels: Labels,
    /// The value.
    pub value: f64,
    /// Milliseconds since the epoch, if the exposition gave one.
    pub timestamp: Option<i64>,
    /// The sample's exemplar.
    pub exemplar: Option<Exemplar>,
}

/// A metric family: metadata and the samples that belong to it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MetricFamily {
    /// The family name (for a counter, without `_total`).
    pub name: String,
    /// The declared type, [`MetricType::Unknown`] when none was declared.
    pub kind: MetricType,
    /// The HELP text, unescaped.
    pub help: Option<String>,
    /// The UNIT (OpenMetrics).
    pub unit: Option<String>,
    /// The samples, in exposition order.
    pub samples: Vec<FamilySample>,
}

/// A parsed exposition.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Exposition {
    /// The families, in exposition order.
    pub families: Vec<MetricFamily>,
    /// Exemplars dropped in scrape mode.
    pub dropped_exemplars: u64,
    /// Why they were dropped (at most [`crate::Limits::max_warnings`]).
    pub warnings: Vec<Error>,
    /// Every error, in order. The families hold what parsed; an exposition with errors is
    /// invalid as a whole.
    pub errors: Vec<Error>,
}

impl Exposition {
    /// How many samples all families hold.
    pub fn sample_count(&self) -> usize {
        self.families.iter().map(|f| f.samples.len()).sum()
    }

    /// How many distinct series (sample name and label set) the samples belong to.
    pub fn series_count(&self) -> usize {
        let series: std::collections::HashSet<(&str, &Labels)> = self
            .families
            .iter()
            .flat_map(|f| &f.samples)
            .map(|s| (s.name.as_str(), &s.labels))
            .collect();
        series.len()
    }

    /// How many exemplars all samples carry.
    pub fn exemplar_count(&self) -> usize {
        self.families
            .iter()
            .flat_map(|f| &f.samples)
            .filter(|s| s.exemplar.is_some())
            .count()
    }
}

/// Converts a borrowed label set to owned labels.
pub(crate) fn owned_labels(set: crate::LabelSet<'_>) -> Labels {
    let mut labels = Labels::new();
    for l in set {
        labels.set(
            l.name.unescaped().into_owned(),
            l.value.unescaped().into_owned(),
        );
    }
    labels
}

fn owned_sample(s: &Sample<'_>) -> FamilySample {
    FamilySample {
        name: s.name.unescaped().into_owned(),
        labels: owned_labels(s.labels),
        value: s.value,
        timestamp: s.timestamp,
        exemplar: s.exemplar.as_ref().map(|e| Exemplar {
            labels: owned_labels(e.labels),
            value: e.value,
            timestamp: e.timestamp,
        }),
    }
}

fn belongs(fam: &MetricFamily, sample: &str) -> bool {
    match sample.strip_prefix(fam.name.as_str()) {
        Some("") => true,
        Some(suffix) => fam.kind.openmetrics_suffixes().contains(&suffix),
        None => false,
    }
}

/// Parses a whole exposition into owned families.
///
/// # Errors
/// Every error the parser reports, in order; an exposition with any error is rejected whole.
pub fn parse_families(buf: &[u8], format: Format, mode: Mode) -> Result<Exposition, Vec<Error>> {
    let exposition = parse_exposition(buf, format, mode);
    if exposition.errors.is_empty() {
        Ok(exposition)
    } else {
        Err(exposition.errors)
    }
}

/// Parses a whole exposition into owned families, keeping what parsed and every error.
pub fn parse_exposition(buf: &[u8], format: Format, mode: Mode) -> Exposition {
    let mut parser = Parser::new(buf, format, mode);
    let mut families: Vec<MetricFamily> = Vec::new();
    let mut errors = Vec::new();
    for entry in parser.by_ref() {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let meta_name = match &entry {
            Entry::Help { name, .. } | Entry::Type { name, .. } | Entry::Unit { name, .. } => {
                Some(name.unescaped().into_owned())
            }
            _ => None,
        };
        if let Some(name) = meta_name {
            let current = families
                .last_mut()
                .filter(|f| f.name == name && f.samples.is_empty());
            let fam = match current {
                Some(f) => f,
                None => {
                    families.push(MetricFamily {
                        name,
                        ..MetricFamily::default()
                    });
                    let Some(f) = families.last_mut() else {
                        continue;
                    };
                    f
                }
            };
            match entry {
                Entry::Help { text, .. } => fam.help = Some(text.unescaped().into_owned()),
                Entry::Type { kind, .. } => fam.kind = kind,
                Entry::Unit { unit, .. } => fam.unit = Some(unit.unescaped().into_owned()),
                _ => {}
            }
            continue;
        }
        if let Entry::Sample(s) = entry {
            let sample = owned_sample(&s);
            match families.last_mut() {
                Some(f) if belongs(f, &sample.name) => f.samples.push(sample),
                _ => families.push(MetricFamily {
                    name: sample.name.clone(),
                    samples: vec![sample],
                    ..MetricFamily::default()
                }),
            }
        }
    }
    Exposition {
        families,
        dropped_exemplars: parser.dropped_exemplars(),
        warnings: parser.warnings().to_vec(),
        errors,
    }
}
