//! Import: timestamped data of any age written straight into blocks.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use cairn_model::{Labels, TimestampMs};

use crate::chunks::{StoredExemplar, merge_exemplars};
use crate::db::{ExemplarInput, NewSeries, SampleInput};
use crate::head::{MAX_EXEMPLAR_LABEL_CHARS, window_start};
use crate::labels::FastState;
use crate::{Db, Error, Rejection};

/// What an import did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImportSummary {
    /// Distinct series read.
    pub series: u64,
    /// Samples read.
    pub samples: u64,
    /// Samples stored that the database did not hold (a sample at a timestamp the series
    /// already has is not stored again).
    pub samples_added: u64,
    /// Exemplars read.
    pub exemplars: u64,
    /// Exemplars stored that the database did not hold.
    pub exemplars_added: u64,
    /// Rejections by reason.
    pub rejected: BTreeMap<Rejection, u64>,
    /// Blocks written.
    pub blocks_written: u64,
    /// Bytes of the blocks written.
    pub bytes_written: u64,
}

/// Writes timestamped samples and exemplars into blocks, window by window (the database's
/// block range), merging with the blocks already there.
///
/// Unlike an [`Appender`](crate::Appender), an importer takes data of any age and in any
/// order (within and across series). It buffers up to
/// [`Options::import_buffer_samples`](crate::Options::import_buffer_samples) samples, then
/// writes every window it holds; [`Importer::finish`] writes the rest. A window's block is
/// written to a temporary directory, synced and renamed into place, replacing the blocks it
/// merged; so when `finish` returns the data is durable, an interrupted import leaves the
/// database as it was before each window, and importing the same data again adds nothing
/// (samples are unique per series and timestamp; exemplars per time, value and labels).
///
/// Exemplars without a timestamp take their sample's. Import does not go through the head
/// or the log, and does not apply the head's exemplar caps.
#[derive(Debug)]
pub struct Importer<'db> {
    db: &'db Db,
    /// Series by key (the caller's raw series text, or the packed labels).
    keys: HashMap<Box<[u8]>, usize, FastState>,
    /// Series by packed labels: two keys may name one label set (labels in another order,
    /// escapes written two ways).
    by_labels: HashMap<Box<[u8]>, usize, FastState>,
    series: Vec<ImportSeries>,
    buffered: usize,
    summary: ImportSummary,
}

#[derive(Debug)]
struct ImportSeries {
    labels: Labels,
    samples: Vec<(TimestampMs, f64)>,
    exemplars: Vec<StoredExemplar>,
}

impl<'db> Importer<'db> {
    pub(crate) fn new(db: &'db Db) -> Importer<'db> {
        Importer {
            db,
            keys: HashMap::default(),
            by_labels: HashMap::default(),
            series: Vec::new(),
            buffered: 0,
            summary: ImportSummary::default(),
        }
    }

    /// The series for `key`, made with `labels()` when first seen. `key` must identify the
    /// label set (the same labels always give the same key, other labels another key).
    fn series_index(&mut self, key: &[u8], labels: impl FnOnce() -> Labels) -> usize {
        if let Some(&i) = self.keys.get(key) {
            return i;
        }
        let labels = labels();
        let packed = crate::labels::CompactLabels::from_labels(&labels);
        let i = match self.by_labels.get(packed.as_bytes()) {
            Some(&i) => i,
            None => {
                self.series.push(ImportSeries {
                    labels,
                    samples: Vec::new(),
                    exemplars: Vec::new(),
                });
                let i = self.series.len() - 1;
                self.by_labels.insert(packed.as_bytes().into(), i);
                i
            }
        };
        self.keys.insert(key.into(), i);
        i
    }

    /// Adds a sample of the series keyed `key` (see [`Importer::add_sample`] for the
    /// simple form): `labels` is called only the first time a key is seen.
    ///
    /// # Errors
    /// Writing blocks when the buffer is full.
    pub fn add_sample_keyed(
        &mut self,
        key: &[u8],
        labels: impl FnOnce() -> Labels,
        t: TimestampMs,
        v: f64,
    ) -> Result<usize, Error> {
        let i = self.series_index(key, labels);
        if let Some(s) = self.series.get_mut(i) {
            s.samples.push((t, v));
        }
        self.summary.samples += 1;
        self.buffered += 1;
        if self.buffered >= self.db.options().import_buffer_samples {
            self.flush()?;
        }
        Ok(i)
    }

    /// Adds samples of the series keyed `key` in one call (see
    /// [`Importer::add_sample_keyed`]); returns the series' index as that does.
    ///
    /// # Errors
    /// Writing blocks when the buffer is full.
    pub fn add_samples_keyed(
        &mut self,
        key: &[u8],
        labels: impl FnOnce() -> Labels,
        samples: Vec<(TimestampMs, f64)>,
    ) -> Result<usize, Error> {
        let i = self.series_index(key, labels);
        let n = samples.len();
        if let Some(s) = self.series.get_mut(i) {
            if s.samples.is_empty() {
                s.samples = samples;
            } else {
                s.samples.extend(samples);
            }
        }
        self.summary.samples += n as u64;
        self.buffered += n;
        if self.buffered >= self.db.options().import_buffer_samples {
            self.flush()?;
        }
        Ok(i)
    }

    /// Adds a sample.
    ///
    /// # Errors
    /// Writing blocks when the buffer is full.
    pub fn add_sample(&mut self, labels: &Labels, t: TimestampMs, v: f64) -> Result<(), Error> {
        let key = crate::labels::CompactLabels::from_labels(labels);
        self.add_sample_keyed(key.as_bytes(), || labels.clone(), t, v)?;
        Ok(())
    }

    /// Adds an exemplar to the series of an earlier sample, by the index
    /// [`Importer::add_sample_keyed`] returned. Exemplars whose labels pass 128 code points
    /// are rejected (counted).
    pub fn add_exemplar_to(&mut self, series: usize, t: TimestampMs, v: f64, labels: Labels) {
        self.summary.exemplars += 1;
        let chars: usize = labels
            .iter()
            .map(|l| l.name.chars().count() + l.value.chars().count())
            .sum();
        if chars > MAX_EXEMPLAR_LABEL_CHARS {
            *self
                .summary
                .rejected
                .entry(Rejection::ExemplarLabelsTooLong)
                .or_default() += 1;
            return;
        }
        if let Some(s) = self.series.get_mut(series) {
            s.exemplars.push(StoredExemplar { t, v, labels });
        }
    }

    /// Adds an exemplar to series `labels`.
    pub fn add_exemplar(&mut self, series: &Labels, t: TimestampMs, v: f64, labels: Labels) {
        let key = crate::labels::CompactLabels::from_labels(series);
        let i = self.series_index(key.as_bytes(), || series.clone());
        self.add_exemplar_to(i, t, v, labels);
    }

    /// Counts a rejection decided by the caller (for example a sample without timestamp).
    pub fn reject(&mut self, why: Rejection) {
        *self.summary.rejected.entry(why).or_default() += 1;
    }

    /// What the import did so far.
    pub fn summary(&self) -> &ImportSummary {
        &self.summary
    }

    /// Writes every buffered window into blocks.
    ///
    /// # Errors
    /// I/O errors writing blocks, damage in the blocks merged with.
    pub fn flush(&mut self) -> Result<(), Error> {
        let range = self.db.options().block_range_ms;
        let mut windows = BTreeSet::new();
        for s in &mut self.series {
            // Stable: of two samples at one timestamp, the first read is kept.
            s.samples.sort_by_key(|&(t, _)| t);
            s.samples.dedup_by_key(|&mut (t, _)| t);
            s.exemplars = merge_exemplars(vec![std::mem::take(&mut s.exemplars)]);
            windows.extend(s.samples.iter().map(|&(t, _)| window_start(t, range)));
            windows.extend(s.exemplars.iter().map(|e| window_start(e.t, range)));
        }
        let mut order: Vec<usize> = (0..self.series.len()).collect();
        order.sort_by(|&a, &b| {
            let la = self.series.get(a).map(|s| &s.labels);
            let lb = self.series.get(b).map(|s| &s.labels);
            la.cmp(&lb)
        });
        for start in windows {
            let end = start.saturating_add(range);
            if self.db.head_overlaps(start, end.saturating_sub(1)) {
                self.drop_what_the_head_holds(&order, start, end)?;
            }
            let series = &self.series;
            let input = order.iter().filter_map(|&i| {
                let s = series.get(i)?;
                let samples = slice_window(&s.samples, |x| x.0, start, end);
                let exemplars = slice_window(&s.exemplars, |e| e.t, start, end);
                if samples.is_empty() && exemplars.is_empty() {
                    return None;
                }
                Some(Ok(NewSeries {
                    labels: s.labels.clone(),
                    samples: SampleInput::Raw(samples.to_vec()),
                    exemplars: ExemplarInput::Raw(exemplars.to_vec()),
                }))
            });
            let outcome = self.db.write_window(start, end, 0, input)?;
            self.summary.samples_added += outcome.samples_added;
            self.summary.exemplars_added += outcome.exemplars_added;
            if outcome.block.is_some() {
                self.summary.blocks_written += 1;
                self.summary.bytes_written += outcome.bytes_written;
            }
        }
        for s in &mut self.series {
            s.samples = Vec::new();
            s.exemplars = Vec::new();
        }
        self.buffered = 0;
        Ok(())
    }

    /// Leaves out of window `[start, end)` the samples (by timestamp) and exemplars the
    /// head already holds for the same series: they are stored, and the head's value wins.
    fn drop_what_the_head_holds(
        &mut self,
        order: &[usize],
        start: TimestampMs,
        end: TimestampMs,
    ) -> Result<(), Error> {
        for &i in order {
            let Some(s) = self.series.get_mut(i) else {
                continue;
            };
            let Some(held) = self.db.head_data(&s.labels, start, end.saturating_sub(1))? else {
                continue;
            };
            let times: std::collections::HashSet<TimestampMs> =
                held.samples.iter().map(|&(t, _)| t).collect();
            s.samples.retain(|(t, _)| !times.contains(t));
            s.exemplars.retain(|e| {
                !held
                    .exemplars
                    .iter()
                    .any(|h| h.t == e.t && h.v.to_bits() == e.v.to_bits() && h.labels == e.labels)
            });
        }
        Ok(())
    }

    /// Writes what is buffered and says what the import did.
    ///
    /// # Errors
    /// As [`Importer::flush`].
    pub fn finish(mut self) -> Result<ImportSummary, Error> {
        self.flush()?;
        self.summary.series = self.series.len() as u64;
        Ok(self.summary)
    }
}

/// The part of a time-sorted list within `[start, end)`.
fn slice_window<T>(
    items: &[T],
    t: impl Fn(&T) -> TimestampMs,
    start: TimestampMs,
    end: TimestampMs,
) -> &[T] {
    let a = items.partition_point(|x| t(x) < start);
    let b = items.partition_point(|x| t(x) < end);
    items.get(a..b).unwrap_or(&[])
}

impl Db {
    /// An importer writing blocks into this database.
    pub fn importer(&self) -> Importer<'_> {
        Importer::new(self)
    }
}
