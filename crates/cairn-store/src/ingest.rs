//! Storing a scraped exposition: the scrape cache, and one commit per scrape.

use std::collections::HashMap;

use cairn_expfmt::{Entry, Format, Mode, Parser, Sample};
use cairn_model::{Labels, TimestampMs};

use crate::{CommitSummary, Db, Error, SeriesRef};

/// Maps the text of a sample line's series (name and label braces, as written) to its
/// series ref, as Prometheus' scrape cache does: a target exposes the same lines scrape
/// after scrape, so a known series costs one hash of its text, with no label parsing,
/// unescaping, sorting or head lookup. One cache per target.
#[derive(Debug, Default)]
pub struct ScrapeCache {
    refs: HashMap<Box<[u8]>, SeriesRef, crate::labels::FastState>,
    generation: u64,
    key: Vec<u8>,
}

impl ScrapeCache {
    /// An empty cache.
    pub fn new() -> ScrapeCache {
        ScrapeCache::default()
    }

    /// Series the cache knows.
    pub fn len(&self) -> usize {
        self.refs.len()
    }

    /// Whether the cache knows no series.
    pub fn is_empty(&self) -> bool {
        self.refs.is_empty()
    }
}

/// What [`ingest`] did.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct IngestSummary {
    /// What the commit stored and rejected.
    pub commit: CommitSummary,
    /// Sample lines read.
    pub samples_read: u64,
    /// Exemplars the parser dropped as malformed (the sample was kept).
    pub exemplars_dropped: u64,
    /// The parse errors; when there is any, nothing of the scrape is stored (Prometheus
    /// fails the whole scrape the same way).
    pub errors: Vec<cairn_expfmt::Error>,
}

/// The labels of a parsed sample: its name as `__name__`, its labels unescaped; labels with
/// an empty value are left out (an empty value is a missing label).
pub fn sample_labels(sample: &Sample<'_>) -> Labels {
    let mut labels = Labels::from_pairs(
        sample
            .labels
            .iter()
            .filter(|l| !l.value.raw().is_empty())
            .map(|l| {
                (
                    l.name.unescaped().into_owned(),
                    l.value.unescaped().into_owned(),
                )
            }),
    );
    labels.set("__name__", sample.name.unescaped().into_owned());
    labels
}

/// Writes the series key of a sample (its name and labels as written) into `key`.
pub fn sample_key(sample: &Sample<'_>, key: &mut Vec<u8>) {
    key.clear();
    key.extend_from_slice(sample.name.raw().as_bytes());
    key.push(0xff);
    key.extend_from_slice(sample.labels.raw().as_bytes());
}

/// Stores one scrape of an exposition as one commit: each sample at its own timestamp when
/// it has one, at `scrape_ts` otherwise; exemplars likewise. Parsed in scrape mode (a
/// malformed exemplar is dropped and counted; the sample stays).
///
/// # Errors
/// A log or head error from the commit. Parse errors are not an `Err`: they are in the
/// summary, and nothing is stored.
pub fn ingest(
    db: &Db,
    cache: &mut ScrapeCache,
    text: &[u8],
    format: Format,
    scrape_ts: TimestampMs,
) -> Result<IngestSummary, Error> {
    let mut summary = IngestSummary::default();
    if cache.generation != db.generation() {
        cache.refs.clear();
        cache.generation = db.generation();
    }
    let mut app = db.appender();
    let mut parser = Parser::new(text, format, Mode::Scrape);
    for entry in parser.by_ref() {
        let sample = match entry {
            Ok(Entry::Sample(s)) => s,
            Ok(_) => continue,
            Err(e) => {
                summary.errors.push(e);
                continue;
            }
        };
        summary.samples_read += 1;
        sample_key(&sample, &mut cache.key);
        let r = match cache.refs.get(cache.key.as_slice()) {
            Some(&r) => r,
            None => {
                let r = app.series_ref(&sample_labels(&sample))?;
                cache.refs.insert(cache.key.as_slice().into(), r);
                r
            }
        };
        let t = sample.timestamp.unwrap_or(scrape_ts);
        app.append_ref(r, t, sample.value);
        if let Some(e) = &sample.exemplar {
            let labels = Labels::from_pairs(e.labels.iter().map(|l| {
                (
                    l.name.unescaped().into_owned(),
                    l.value.unescaped().into_owned(),
                )
            }));
            app.append_exemplar(r, e.timestamp.unwrap_or(t), e.value, &labels);
        }
    }
    summary.exemplars_dropped = parser.dropped_exemplars();
    if !summary.errors.is_empty() {
        app.rollback();
        return Ok(summary);
    }
    summary.commit = app.commit()?;
    Ok(summary)
}
