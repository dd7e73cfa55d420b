//! The appender: samples and exemplars buffered until one commit.

use super::*;

/// Buffers samples and exemplars and commits them as one log record: all or nothing.
///
/// Keeps a labels → series cache, so appending to a series it has seen costs no head lookup;
/// [`Appender::append_ref`] skips even the cache. Dropping an appender discards what was not
/// committed.
#[derive(Debug)]
pub struct Appender<'db> {
    db: &'db Db,
    cache: std::collections::HashMap<Labels, SeriesRef>,
    generation: u64,
    samples: Vec<(SeriesRef, TimestampMs, f64)>,
    exemplars: Vec<PendingExemplar>,
}

impl<'db> Appender<'db> {
    pub(super) fn new(db: &'db Db) -> Appender<'db> {
        Appender {
            db,
            cache: std::collections::HashMap::new(),
            generation: db.generation(),
            samples: Vec::new(),
            exemplars: Vec::new(),
        }
    }

    /// The ref of the series with `labels`, created in the head if new. Refs stay valid
    /// while the series is in the head; [`Appender::refs_valid`] says when they may not be.
    ///
    /// # Errors
    /// [`Error::InvalidLabels`] for an empty label set or an empty name;
    /// [`Error::TooManySeries`].
    pub fn series_ref(&mut self, labels: &Labels) -> Result<SeriesRef, Error> {
        if !self.refs_valid() {
            self.cache.clear();
            self.generation = self.db.generation();
        }
        if let Some(&r) = self.cache.get(labels) {
            return Ok(r);
        }
        let r = self.db.series_ref(labels)?;
        self.cache.insert(labels.clone(), r);
        Ok(r)
    }

    /// Whether refs handed out before are still good: false once a compaction dropped
    /// series from the head (get them again with [`Appender::series_ref`]).
    pub fn refs_valid(&self) -> bool {
        self.generation == self.db.generation()
    }

    /// Adds a sample to series `labels`; returns the series' ref.
    ///
    /// # Errors
    /// As [`Appender::series_ref`].
    pub fn append(&mut self, labels: &Labels, t: TimestampMs, v: f64) -> Result<SeriesRef, Error> {
        let r = self.series_ref(labels)?;
        self.append_ref(r, t, v);
        Ok(r)
    }

    /// Adds a sample to a series by ref.
    pub fn append_ref(&mut self, r: SeriesRef, t: TimestampMs, v: f64) {
        self.samples.push((r, t, v));
    }

    /// Adds an exemplar to a series by ref: its timestamp, value and labels.
    pub fn append_exemplar(&mut self, r: SeriesRef, t: TimestampMs, v: f64, labels: &Labels) {
        self.exemplars.push(PendingExemplar::new(r, t, v, labels));
    }

    /// Samples and exemplars waiting for the commit.
    pub fn pending(&self) -> usize {
        self.samples.len() + self.exemplars.len()
    }

    /// Checks, logs and applies everything added since the last commit, as one log record.
    /// When this returns `Ok` the data is in the log per the sync policy (with the default,
    /// synced). Rejected samples and exemplars are counted in the summary and do not fail the
    /// commit.
    ///
    /// # Errors
    /// A log error: the batch is not acknowledged (after a failed sync the log refuses
    /// further writes until the database is opened again). A head chunk file error after the
    /// log write: the batch is in the log and the next open replays it, but this process's
    /// head may miss part of it. Compaction errors do not fail a commit
    /// ([`Db::compaction_error`]).
    pub fn commit(&mut self) -> Result<CommitSummary, Error> {
        let samples = std::mem::take(&mut self.samples);
        let exemplars = std::mem::take(&mut self.exemplars);
        self.db.commit_batch(&samples, &exemplars)
    }

    /// Discards everything added since the last commit.
    pub fn rollback(&mut self) {
        self.samples.clear();
        self.exemplars.clear();
    }
}
