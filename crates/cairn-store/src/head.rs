//! The head: the series being written, their open chunks, and their full chunks in
//! `chunks_head/`.
//!
//! The head is not synchronized: the database keeps it under its lock. It never writes the
//! log itself; the database logs a commit first and then applies it here, and replay applies
//! the logged records the same way, so the head after a replay is the head before the crash.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use cairn_chunkenc::exemplar::{ENCODING_EXEMPLAR, ExemplarAppender, ExemplarIterator};
use cairn_chunkenc::{ENCODING_XOR, SAMPLES_PER_CHUNK, XorAppender};
use cairn_index::MemIndex;
use cairn_model::{Labels, TimestampMs};

use crate::head_chunks::{HeadChunkRef, HeadChunks};
use crate::labels::{CompactLabels, hash_bytes};
use crate::options::ExemplarOptions;
use crate::summary::Rejection;
use crate::{Error, SeriesRef};

/// The most label code points (names and values together) an exemplar may carry, as in
/// Prometheus and the OpenMetrics specification.
pub const MAX_EXEMPLAR_LABEL_CHARS: usize = 128;

/// Per series beyond `MemSeries` itself: its 16-byte map entry and the allocator's header
/// of its box (an estimate; the map's empty buckets are not counted).
const BOXED_ENTRY_BYTES: usize = 32;

/// A full chunk of the head, in `chunks_head/`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct HeadChunkMeta {
    pub(crate) mint: TimestampMs,
    pub(crate) maxt: TimestampMs,
    pub(crate) chunk_ref: HeadChunkRef,
}

/// The chunk being appended to.
#[derive(Debug)]
struct OpenChunk {
    app: XorAppender,
    mint: TimestampMs,
    maxt: TimestampMs,
}

/// The exemplar chunk being appended to.
#[derive(Debug)]
struct OpenExemplars {
    app: ExemplarAppender,
    mint: TimestampMs,
    maxt: TimestampMs,
}

/// The newest exemplar of a series, for the duplicate and order checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct NewestExemplar {
    t: TimestampMs,
    v_bits: u64,
    labels_hash: u64,
}

/// One series of the head.
#[derive(Debug)]
pub(crate) struct MemSeries {
    pub(crate) labels: CompactLabels,
    /// Whether the series' record is in the log. A series is created when an appender first
    /// names it and logged with the first commit that uses it.
    pub(crate) logged: bool,
    /// The head's truncation count when the series was created: a series never logged is
    /// dropped once it is empty and a truncation older than it has passed (an appender that
    /// named it and never committed), not sooner (one may be about to commit it).
    born: u32,
    chunks: Vec<HeadChunkMeta>,
    open: Option<OpenChunk>,
    /// When the open chunk is cut, at the latest: Prometheus' rule, which spreads a window's
    /// samples evenly over its chunks and never lets a chunk cross a block boundary.
    next_at: TimestampMs,
    /// The newest sample's timestamp and value bits.
    last: Option<(TimestampMs, u64)>,
    ex_chunks: Vec<HeadChunkMeta>,
    ex_open: Option<Box<OpenExemplars>>,
    ex_newest: Option<NewestExemplar>,
    /// Exemplars this series holds in the head.
    ex_count: u64,
    /// Exemplar counts of `ex_chunks`, in the same order (for eviction).
    ex_chunk_counts: Vec<u32>,
}

impl MemSeries {
    fn new(labels: CompactLabels, born: u32) -> MemSeries {
        MemSeries {
            labels,
            logged: false,
            born,
            chunks: Vec::new(),
            open: None,
            next_at: TimestampMs::MIN,
            last: None,
            ex_chunks: Vec::new(),
            ex_open: None,
            ex_newest: None,
            ex_count: 0,
            ex_chunk_counts: Vec::new(),
        }
    }

    /// The newest sample's timestamp.
    pub(crate) fn last_t(&self) -> Option<TimestampMs> {
        self.last.map(|(t, _)| t)
    }

    /// Whether the series holds nothing: no chunk, no exemplar.
    fn is_empty(&self) -> bool {
        self.chunks.is_empty()
            && self.open.is_none()
            && self.ex_chunks.is_empty()
            && self.ex_open.is_none()
    }

    /// The newest timestamp of any sample chunk on disk (replay skips what it holds).
    fn mmapped_maxt(&self) -> Option<TimestampMs> {
        self.chunks.last().map(|c| c.maxt)
    }

    fn ex_mmapped_maxt(&self) -> Option<TimestampMs> {
        self.ex_chunks.last().map(|c| c.maxt)
    }

    /// Checks a sample against the newest one (`last`, which the caller may have advanced
    /// within a commit).
    fn check_sample(last: Option<(TimestampMs, u64)>, t: TimestampMs, v: f64) -> SampleVerdict {
        match last {
            Some((lt, _)) if t < lt => SampleVerdict::Reject(Rejection::OutOfOrderSample),
            Some((lt, bits)) if t == lt && bits == v.to_bits() => SampleVerdict::Duplicate,
            Some((lt, _)) if t == lt => SampleVerdict::Reject(Rejection::DuplicateTimestamp),
            _ => SampleVerdict::Accept,
        }
    }

    /// Appends a checked sample, cutting the open chunk into `chunks_head/` first when it
    /// is due.
    fn append_sample(
        &mut self,
        series_ref: SeriesRef,
        t: TimestampMs,
        v: f64,
        chunk_range: i64,
        files: &mut HeadChunks,
    ) -> Result<(), Error> {
        let cut = match &self.open {
            None => true,
            Some(open) => {
                let n = open.app.num_samples();
                if n == SAMPLES_PER_CHUNK / 4 {
                    self.next_at = chunk_end_time(open.mint, open.maxt, self.next_at);
                }
                t >= self.next_at || n >= 2 * SAMPLES_PER_CHUNK || open.app.is_full()
            }
        };
        if cut {
            self.flush_open(series_ref, files)?;
            self.next_at = range_end(t, chunk_range);
        }
        let open = self.open.get_or_insert_with(|| OpenChunk {
            app: XorAppender::new(),
            mint: t,
            maxt: t,
        });
        open.app.append(t, v);
        open.maxt = t;
        self.last = Some((t, v.to_bits()));
        Ok(())
    }

    /// Moves the open sample chunk to `chunks_head/`.
    fn flush_open(&mut self, series_ref: SeriesRef, files: &mut HeadChunks) -> Result<(), Error> {
        if let Some(open) = self.open.take()
            && open.app.num_samples() > 0
        {
            let chunk_ref = files.write(
                series_ref.0,
                open.mint,
                open.maxt,
                ENCODING_XOR,
                open.app.bytes(),
            )?;
            self.chunks.push(HeadChunkMeta {
                mint: open.mint,
                maxt: open.maxt,
                chunk_ref,
            });
        }
        Ok(())
    }

    /// Moves the open exemplar chunk to `chunks_head/`.
    fn flush_open_exemplars(
        &mut self,
        series_ref: SeriesRef,
        files: &mut HeadChunks,
    ) -> Result<(), Error> {
        if let Some(open) = self.ex_open.take() {
            let n = open.app.num_exemplars();
            if n > 0 {
                let chunk_ref = files.write(
                    series_ref.0,
                    open.mint,
                    open.maxt,
                    ENCODING_EXEMPLAR,
                    open.app.bytes(),
                )?;
                self.ex_chunks.push(HeadChunkMeta {
                    mint: open.mint,
                    maxt: open.maxt,
                    chunk_ref,
                });
                self.ex_chunk_counts
                    .push(u32::try_from(n).unwrap_or(u32::MAX));
            }
        }
        Ok(())
    }

    /// Checks an exemplar by Prometheus' rules and cairn's window. `newest` is the series'
    /// newest exemplar, which the caller may have advanced within a commit.
    fn check_exemplar(
        &self,
        newest: Option<NewestExemplar>,
        e: &NewestExemplar,
        window: i64,
    ) -> ExemplarVerdict {
        let Some(newest) = newest else {
            return ExemplarVerdict::Append;
        };
        if newest == *e {
            return ExemplarVerdict::Duplicate;
        }
        if e.t >= newest.t {
            return ExemplarVerdict::Append;
        }
        // Older than the newest: re-scraped (Prometheus issue 9377) unless within the window,
        // and then only into the open chunk, which stays ordered.
        if window <= 0 || e.t < newest.t.saturating_sub(window) {
            return ExemplarVerdict::Reject(Rejection::ExemplarOutOfOrder);
        }
        match &self.ex_open {
            Some(open) if e.t >= open.mint => ExemplarVerdict::Insert,
            _ => ExemplarVerdict::Reject(Rejection::ExemplarOutOfOrder),
        }
    }
}

/// What becomes of a sample.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SampleVerdict {
    Accept,
    /// The same timestamp and value as the newest sample: a silent no-op, as in Prometheus.
    Duplicate,
    Reject(Rejection),
}

/// What becomes of an exemplar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ExemplarVerdict {
    /// At or after the newest: appended.
    Append,
    /// Within the out-of-order window: inserted into the open chunk in time order.
    Insert,
    /// The series' newest exemplar again: a silent no-op.
    Duplicate,
    Reject(Rejection),
}

/// Prometheus' estimate of where a chunk should end: once a chunk holds a quarter of its
/// target, the rest of the window is split into chunks of the rate seen so far.
pub(crate) fn chunk_end_time(
    start: TimestampMs,
    cur: TimestampMs,
    max: TimestampMs,
) -> TimestampMs {
    let span = cur
        .saturating_sub(start)
        .saturating_add(1)
        .saturating_mul(4);
    let n = if span > 0 {
        max.saturating_sub(start) / span
    } else {
        0
    };
    if n <= 1 {
        max
    } else {
        start.saturating_add(max.saturating_sub(start) / n)
    }
}

/// The end of the block window holding `t` (Prometheus' `rangeForTimestamp`).
pub(crate) fn range_end(t: TimestampMs, width: i64) -> TimestampMs {
    window_start(t, width).saturating_add(width)
}

/// The start of the block window holding `t`: windows are aligned to multiples of the width
/// (floor division, so negative times fall in the window below them).
pub(crate) fn window_start(t: TimestampMs, width: i64) -> TimestampMs {
    t.div_euclid(width.max(1)).saturating_mul(width.max(1))
}

/// A hasher for series refs, which are small sequential integers: one multiply spreads them.
#[derive(Default)]
pub(crate) struct RefHasher(u64);

impl Hasher for RefHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// A map keyed by series refs (or by label hashes, already spread).
pub(crate) type RefMap<V> = HashMap<u64, V, BuildHasherDefault<RefHasher>>;

/// A chunk's bytes for a query: from `chunks_head/` (mapped) or a copy of an open chunk.
#[derive(Debug)]
pub(crate) enum ChunkSource {
    Mapped(crate::head_chunks::ChunkBytes),
    Open(Vec<u8>),
}

impl std::ops::Deref for ChunkSource {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            ChunkSource::Mapped(bytes) => bytes,
            ChunkSource::Open(bytes) => bytes,
        }
    }
}

/// A series' chunks overlapping a time range.
#[derive(Debug, Default)]
pub(crate) struct SeriesChunks {
    pub(crate) samples: Vec<(TimestampMs, TimestampMs, ChunkSource)>,
    pub(crate) exemplars: Vec<(TimestampMs, TimestampMs, ChunkSource)>,
}

/// Head-wide counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct HeadCounts {
    pub(crate) series: u64,
    pub(crate) exemplars: u64,
    pub(crate) exemplars_evicted: u64,
    pub(crate) chunks: u64,
    pub(crate) exemplar_chunks: u64,
}

/// The head.
#[derive(Debug)]
pub(crate) struct Head {
    /// Boxed: the map's table grows by doubling, and 16-byte entries keep its empty buckets
    /// cheap (a `MemSeries` inline made each of them 272 bytes).
    series: RefMap<Box<MemSeries>>,
    /// Label-bytes hash → series ref; `collisions` holds any further refs of a hash.
    by_hash: RefMap<u64>,
    collisions: RefMap<Vec<u64>>,
    index: MemIndex,
    next_ref: u64,
    /// Samples below this are out of bounds: their window is in a block already.
    min_valid: TimestampMs,
    /// The oldest and newest sample in the head (`MAX`/`MIN` when empty).
    mint: TimestampMs,
    maxt: TimestampMs,
    chunk_range: i64,
    exemplar_options: ExemplarOptions,
    exemplars: u64,
    exemplars_evicted: u64,
    /// How many times [`Head::truncate`] ran.
    truncations: u32,
}

impl Head {
    pub(crate) fn new(
        chunk_range: i64,
        exemplar_options: ExemplarOptions,
        min_valid: TimestampMs,
    ) -> Head {
        Head {
            series: RefMap::default(),
            by_hash: RefMap::default(),
            collisions: RefMap::default(),
            index: MemIndex::new(),
            next_ref: 1,
            min_valid,
            mint: TimestampMs::MAX,
            maxt: TimestampMs::MIN,
            chunk_range,
            exemplar_options,
            exemplars: 0,
            exemplars_evicted: 0,
            truncations: 0,
        }
    }

    pub(crate) fn min_valid(&self) -> TimestampMs {
        self.min_valid
    }

    /// The head's time range, if it holds any sample.
    pub(crate) fn time_range(&self) -> Option<(TimestampMs, TimestampMs)> {
        (self.mint <= self.maxt).then_some((self.mint, self.maxt))
    }

    pub(crate) fn index(&self) -> &MemIndex {
        &self.index
    }

    pub(crate) fn counts(&self) -> HeadCounts {
        HeadCounts {
            series: self.series.len() as u64,
            exemplars: self.exemplars,
            exemplars_evicted: self.exemplars_evicted,
            chunks: self
                .series
                .values()
                .map(|s| s.chunks.len() as u64 + u64::from(s.open.is_some()))
                .sum(),
            exemplar_chunks: self
                .series
                .values()
                .map(|s| s.ex_chunks.len() as u64 + u64::from(s.ex_open.is_some()))
                .sum(),
        }
    }

    pub(crate) fn series(&self, series_ref: SeriesRef) -> Option<&MemSeries> {
        self.series.get(&series_ref.0).map(|s| &**s)
    }

    /// The ref of the series with these packed labels, if it exists.
    pub(crate) fn lookup(&self, labels: &CompactLabels) -> Option<SeriesRef> {
        let hash = hash_bytes(labels.as_bytes());
        let first = *self.by_hash.get(&hash)?;
        let same = |r: &u64| self.series.get(r).is_some_and(|s| s.labels == *labels);
        if same(&first) {
            return Some(SeriesRef(first));
        }
        self.collisions
            .get(&hash)?
            .iter()
            .find(|r| same(r))
            .map(|&r| SeriesRef(r))
    }

    /// The series with these labels, created (not yet logged) if new.
    ///
    /// # Errors
    /// [`Error::TooManySeries`] once refs would pass `u32::MAX` (the head index's ids).
    pub(crate) fn get_or_create(&mut self, labels: &Labels) -> Result<(SeriesRef, bool), Error> {
        let packed = CompactLabels::from_labels(labels);
        if let Some(r) = self.lookup(&packed) {
            return Ok((r, false));
        }
        let r = self.next_ref;
        self.insert_series(r, packed, labels)?;
        Ok((SeriesRef(r), true))
    }

    /// Creates the series `r` (from the log on replay, or a new one).
    fn insert_series(
        &mut self,
        r: u64,
        packed: CompactLabels,
        labels: &Labels,
    ) -> Result<(), Error> {
        let id = u32::try_from(r).map_err(|_| Error::TooManySeries)?;
        let hash = hash_bytes(packed.as_bytes());
        match self.by_hash.entry(hash) {
            std::collections::hash_map::Entry::Vacant(v) => {
                v.insert(r);
            }
            std::collections::hash_map::Entry::Occupied(_) => {
                self.collisions.entry(hash).or_default().push(r);
            }
        }
        self.index.add(id, labels);
        self.series
            .insert(r, Box::new(MemSeries::new(packed, self.truncations)));
        self.next_ref = self.next_ref.max(r.saturating_add(1));
        Ok(())
    }

    /// Never hands out refs up to `r`: refs that `chunks_head/` holds chunks of, though the
    /// log no longer names their series (a log repaired after damage), must not go to new
    /// series, or a later open would give those chunks to them.
    pub(crate) fn reserve_refs_through(&mut self, r: u64) {
        self.next_ref = self.next_ref.max(r.saturating_add(1));
    }

    /// Replays a series record: creates the series under its logged ref, or, when the same
    /// labels already have another ref (a series recreated after garbage collection), says
    /// which ref to use instead.
    pub(crate) fn replay_series(&mut self, r: u64, labels: &Labels) -> Result<SeriesRef, Error> {
        if let Some(existing) = self.series.get_mut(&r) {
            existing.logged = true;
            return Ok(SeriesRef(r));
        }
        let packed = CompactLabels::from_labels(labels);
        if let Some(existing) = self.lookup(&packed) {
            return Ok(existing);
        }
        self.insert_series(r, packed, labels)?;
        if let Some(s) = self.series.get_mut(&r) {
            s.logged = true;
        }
        Ok(SeriesRef(r))
    }

    /// Attaches a chunk found in `chunks_head/` at open.
    pub(crate) fn attach_recovered(
        &mut self,
        series_ref: SeriesRef,
        encoding: u8,
        meta: HeadChunkMeta,
        count: u32,
    ) {
        if meta.maxt < self.min_valid {
            return;
        }
        let Some(s) = self.series.get_mut(&series_ref.0) else {
            return;
        };
        if encoding == ENCODING_XOR {
            s.chunks.push(meta);
            self.mint = self.mint.min(meta.mint);
            self.maxt = self.maxt.max(meta.maxt);
        } else if encoding == ENCODING_EXEMPLAR {
            self.mint = self.mint.min(meta.mint);
            self.maxt = self.maxt.max(meta.maxt);
            s.ex_chunks.push(meta);
            s.ex_chunk_counts.push(count);
            s.ex_count += u64::from(count);
            self.exemplars += u64::from(count);
        }
    }

    /// Orders every series' recovered chunks by time and sets what the newest of them says
    /// (the newest sample, the cut boundary), before the log replays on top.
    pub(crate) fn finish_recovery(&mut self) {
        let range = self.chunk_range;
        for s in self.series.values_mut() {
            sort_chunks(&mut s.chunks, None);
            sort_chunks(&mut s.ex_chunks, Some(&mut s.ex_chunk_counts));
            if let Some(last) = s.chunks.last() {
                s.next_at = range_end(last.maxt, range);
            }
        }
    }

    /// Sets the newest sample of a series from its last recovered chunk's final sample.
    pub(crate) fn set_recovered_last(
        &mut self,
        series_ref: SeriesRef,
        t: TimestampMs,
        v_bits: u64,
    ) {
        if let Some(s) = self.series.get_mut(&series_ref.0) {
            s.last = Some((t, v_bits));
        }
    }

    /// Series refs with their last recovered exemplar chunk (to read its newest exemplar).
    pub(crate) fn recovered_exemplar_tails(&self) -> Vec<(SeriesRef, HeadChunkRef)> {
        self.series
            .iter()
            .filter_map(|(&r, s)| s.ex_chunks.last().map(|c| (SeriesRef(r), c.chunk_ref)))
            .collect()
    }

    /// Sets the newest exemplar of a series from its last recovered exemplar chunk.
    pub(crate) fn set_recovered_newest_exemplar(&mut self, series_ref: SeriesRef, chunk: &[u8]) {
        let Some(last) = ExemplarIterator::new(chunk).last() else {
            return;
        };
        if let Some(s) = self.series.get_mut(&series_ref.0) {
            s.ex_newest = Some(NewestExemplar {
                t: last.t,
                v_bits: last.v.to_bits(),
                labels_hash: hash_exemplar_labels(
                    last.labels.iter().map(|(n, v)| (n.as_ref(), v.as_ref())),
                ),
            });
        }
    }

    /// Series refs with their last recovered sample chunk (to read its final sample).
    pub(crate) fn recovered_tails(&self) -> Vec<(SeriesRef, HeadChunkRef)> {
        self.series
            .iter()
            .filter_map(|(&r, s)| s.chunks.last().map(|c| (SeriesRef(r), c.chunk_ref)))
            .collect()
    }

    /// Checks a commit's samples and exemplars in order without changing anything, and says
    /// what becomes of each.
    pub(crate) fn check(
        &self,
        samples: &[(SeriesRef, TimestampMs, f64)],
        exemplars: &[PendingExemplar],
    ) -> (Vec<SampleVerdict>, Vec<ExemplarVerdict>) {
        let mut last: RefMap<Option<(TimestampMs, u64)>> = RefMap::default();
        let sample_verdicts = samples
            .iter()
            .map(|&(r, t, v)| {
                let Some(series) = self.series.get(&r.0) else {
                    return SampleVerdict::Reject(Rejection::UnknownSeries);
                };
                if t < self.min_valid {
                    return SampleVerdict::Reject(Rejection::OutOfBounds);
                }
                let newest = last.entry(r.0).or_insert(series.last);
                let verdict = MemSeries::check_sample(*newest, t, v);
                if verdict == SampleVerdict::Accept {
                    *newest = Some((t, v.to_bits()));
                }
                verdict
            })
            .collect();
        let mut newest: RefMap<Option<NewestExemplar>> = RefMap::default();
        let window = self.exemplar_options.out_of_order_window_ms;
        let exemplar_verdicts = exemplars
            .iter()
            .map(|e| {
                let Some(series) = self.series.get(&e.series_ref.0) else {
                    return ExemplarVerdict::Reject(Rejection::UnknownSeries);
                };
                if let Some(reason) = e.invalid {
                    return ExemplarVerdict::Reject(reason);
                }
                if e.t < self.min_valid {
                    return ExemplarVerdict::Reject(Rejection::ExemplarOutOfBounds);
                }
                let key = e.key();
                let current = newest.entry(e.series_ref.0).or_insert(series.ex_newest);
                // Inserts are checked against the open chunk as it is before the batch; the
                // database applies (and logs) a batch's inserts before its appends, which
                // may cut that chunk.
                let mut verdict = series.check_exemplar(*current, &key, window);
                if verdict == ExemplarVerdict::Insert && series.open_holds(&key) {
                    verdict = ExemplarVerdict::Duplicate;
                }
                if verdict == ExemplarVerdict::Append {
                    *current = Some(key);
                }
                verdict
            })
            .collect();
        (sample_verdicts, exemplar_verdicts)
    }

    /// Appends a checked sample.
    pub(crate) fn append_sample(
        &mut self,
        r: SeriesRef,
        t: TimestampMs,
        v: f64,
        files: &mut HeadChunks,
    ) -> Result<(), Error> {
        let range = self.chunk_range;
        let Some(s) = self.series.get_mut(&r.0) else {
            return Ok(());
        };
        s.append_sample(r, t, v, range, files)?;
        self.mint = self.mint.min(t);
        self.maxt = self.maxt.max(t);
        Ok(())
    }

    /// Replays a logged sample: skipped when out of bounds or already in a recovered chunk,
    /// otherwise checked (a logged sample was accepted once, but a series recreated under
    /// another ref may repeat one) and appended.
    pub(crate) fn replay_sample(
        &mut self,
        r: SeriesRef,
        t: TimestampMs,
        v: f64,
        files: &mut HeadChunks,
    ) -> Result<bool, Error> {
        if t < self.min_valid {
            return Ok(false);
        }
        let Some(s) = self.series.get(&r.0) else {
            return Ok(false);
        };
        if s.mmapped_maxt().is_some_and(|m| t <= m)
            || MemSeries::check_sample(s.last, t, v) != SampleVerdict::Accept
        {
            return Ok(false);
        }
        self.append_sample(r, t, v, files)?;
        Ok(true)
    }

    /// Appends or inserts a checked exemplar, then enforces the caps.
    pub(crate) fn append_exemplar(
        &mut self,
        e: &PendingExemplar,
        verdict: ExemplarVerdict,
        files: &mut HeadChunks,
    ) -> Result<(), Error> {
        let range = self.chunk_range;
        let per_series_chunk = self.exemplar_chunk_cap();
        let r = e.series_ref;
        let Some(s) = self.series.get_mut(&r.0) else {
            return Ok(());
        };
        match verdict {
            ExemplarVerdict::Append => {
                let cut = match &s.ex_open {
                    None => true,
                    Some(open) => {
                        open.app.is_full()
                            || e.t >= range_end(open.mint, range)
                            || open.app.num_exemplars() >= per_series_chunk
                    }
                };
                if cut {
                    s.flush_open_exemplars(r, files)?;
                }
                let open = s.ex_open.get_or_insert_with(|| {
                    Box::new(OpenExemplars {
                        app: ExemplarAppender::new(),
                        mint: e.t,
                        maxt: e.t,
                    })
                });
                if open.app.append(e.t, e.v, &e.pairs()).is_err() {
                    // Checked before (labels sorted and within limits, time in order); a
                    // refusal here leaves the chunk unchanged and the exemplar uncounted.
                    return Ok(());
                }
                open.maxt = e.t;
                s.ex_newest = Some(e.key());
            }
            ExemplarVerdict::Insert => {
                let Some(open) = s.ex_open.as_mut() else {
                    return Ok(());
                };
                let Some(app) = insert_exemplar(open.app.bytes(), e) else {
                    return Ok(());
                };
                open.app = app;
                open.mint = open.mint.min(e.t);
            }
            ExemplarVerdict::Duplicate | ExemplarVerdict::Reject(_) => return Ok(()),
        }
        s.ex_count += 1;
        self.exemplars += 1;
        // Exemplars count in the head's range: a window holding only exemplars is
        // compacted like any other.
        self.mint = self.mint.min(e.t);
        self.maxt = self.maxt.max(e.t);
        self.enforce_series_cap(r);
        Ok(())
    }

    /// Replays a logged exemplar: skipped when out of bounds or already in a recovered chunk.
    pub(crate) fn replay_exemplar(
        &mut self,
        e: &PendingExemplar,
        files: &mut HeadChunks,
    ) -> Result<bool, Error> {
        let Some(s) = self.series.get(&e.series_ref.0) else {
            return Ok(false);
        };
        if e.t < self.min_valid || s.ex_mmapped_maxt().is_some_and(|m| e.t < m) {
            return Ok(false);
        }
        // At the last written chunk's newest timestamp an exemplar may be in that chunk or
        // after it (a chunk is cut between exemplars of one timestamp when full): look.
        if let Some(last) = s.ex_chunks.last().filter(|c| c.maxt == e.t) {
            let key = e.key();
            let bytes = files.chunk(last.chunk_ref)?;
            if ExemplarIterator::new(&bytes).any(|x| same_exemplar(&x, &key)) {
                return Ok(false);
            }
        }
        let (_, verdicts) = self.check(&[], std::slice::from_ref(e));
        let Some(&verdict) = verdicts.first() else {
            return Ok(false);
        };
        if !matches!(verdict, ExemplarVerdict::Append | ExemplarVerdict::Insert) {
            return Ok(false);
        }
        self.append_exemplar(e, verdict, files)?;
        Ok(true)
    }

    /// Exemplars per open exemplar chunk at most: a quarter of the per-series cap, so that
    /// eviction, which drops whole chunks, drops at most a quarter of a series' exemplars.
    fn exemplar_chunk_cap(&self) -> usize {
        match self.exemplar_options.max_per_series {
            0 => usize::MAX,
            cap => (cap / 4).max(1),
        }
    }

    /// Drops a series' oldest exemplar chunks while it holds more than its cap.
    fn enforce_series_cap(&mut self, r: SeriesRef) {
        let cap = self.exemplar_options.max_per_series as u64;
        if cap == 0 {
            return;
        }
        let Some(s) = self.series.get_mut(&r.0) else {
            return;
        };
        while s.ex_count > cap && !s.ex_chunks.is_empty() {
            s.ex_chunks.remove(0);
            let n = u64::from(s.ex_chunk_counts.remove(0));
            s.ex_count = s.ex_count.saturating_sub(n);
            self.exemplars = self.exemplars.saturating_sub(n);
            self.exemplars_evicted += n;
        }
    }

    /// Enforces the global exemplar cap: while the head holds more, the series holding the
    /// most exemplars loses its oldest full chunk. Runs after each commit; when it evicts,
    /// it goes down to 90% of the cap so that the scan is not repeated for every commit.
    pub(crate) fn enforce_total_cap(&mut self) {
        let cap = self.exemplar_options.max_total as u64;
        if cap == 0 || self.exemplars <= cap {
            return;
        }
        let goal = cap - cap / 10;
        let mut heap: std::collections::BinaryHeap<(u64, u64)> = self
            .series
            .iter()
            .filter(|(_, s)| !s.ex_chunks.is_empty())
            .map(|(&r, s)| (s.ex_count, r))
            .collect();
        while self.exemplars > goal {
            let Some((_, r)) = heap.pop() else {
                break;
            };
            let Some(s) = self.series.get_mut(&r) else {
                continue;
            };
            if s.ex_chunks.is_empty() {
                continue;
            }
            s.ex_chunks.remove(0);
            let n = u64::from(s.ex_chunk_counts.remove(0));
            s.ex_count = s.ex_count.saturating_sub(n);
            self.exemplars = self.exemplars.saturating_sub(n);
            self.exemplars_evicted += n;
            if !s.ex_chunks.is_empty() {
                heap.push((s.ex_count, r));
            }
        }
    }

    /// Marks series as logged.
    pub(crate) fn mark_logged(&mut self, refs: &[SeriesRef]) {
        for r in refs {
            if let Some(s) = self.series.get_mut(&r.0) {
                s.logged = true;
            }
        }
    }

    /// The refs of every series, with their labels, sorted by labels: for a block write or
    /// a query over the whole head.
    pub(crate) fn sorted_series(
        &self,
        refs: impl Iterator<Item = u64>,
    ) -> Vec<(Labels, SeriesRef)> {
        let mut out: Vec<(Labels, SeriesRef)> = refs
            .filter_map(|r| {
                self.series
                    .get(&r)
                    .map(|s| (s.labels.to_labels(), SeriesRef(r)))
            })
            .collect();
        out.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// The refs of every series.
    pub(crate) fn all_refs(&self) -> Vec<u64> {
        self.series.keys().copied().collect()
    }

    /// A series' sample and exemplar chunks that overlap `[mint, maxt]`, read from
    /// `chunks_head/` or copied from the open chunks.
    pub(crate) fn chunks(
        &self,
        r: SeriesRef,
        mint: TimestampMs,
        maxt: TimestampMs,
        files: &HeadChunks,
    ) -> Result<SeriesChunks, Error> {
        let mut out = SeriesChunks::default();
        let Some(s) = self.series.get(&r.0) else {
            return Ok(out);
        };
        let overlaps = |a: TimestampMs, b: TimestampMs| a <= maxt && b >= mint;
        for c in s.chunks.iter().filter(|c| overlaps(c.mint, c.maxt)) {
            out.samples.push((
                c.mint,
                c.maxt,
                ChunkSource::Mapped(files.chunk(c.chunk_ref)?),
            ));
        }
        if let Some(open) = s.open.as_ref().filter(|o| overlaps(o.mint, o.maxt)) {
            out.samples.push((
                open.mint,
                open.maxt,
                ChunkSource::Open(open.app.bytes().to_vec()),
            ));
        }
        for c in s.ex_chunks.iter().filter(|c| overlaps(c.mint, c.maxt)) {
            out.exemplars.push((
                c.mint,
                c.maxt,
                ChunkSource::Mapped(files.chunk(c.chunk_ref)?),
            ));
        }
        if let Some(open) = s.ex_open.as_ref().filter(|o| overlaps(o.mint, o.maxt)) {
            out.exemplars.push((
                open.mint,
                open.maxt,
                ChunkSource::Open(open.app.bytes().to_vec()),
            ));
        }
        Ok(out)
    }

    /// After the window ending at `end` went into a block: drops every chunk before it,
    /// raises the lower bound to `end`, and removes series left with nothing: logged ones,
    /// and unlogged ones created before the previous truncation (an appender that names a
    /// series and commits within one truncation keeps it).
    pub(crate) fn truncate(&mut self, end: TimestampMs) {
        self.min_valid = self.min_valid.max(end);
        let mut mint = TimestampMs::MAX;
        let mut dropped_exemplars = 0u64;
        let mut removed = Vec::new();
        for (&r, s) in &mut self.series {
            s.chunks.retain(|c| c.maxt >= end);
            if s.open.as_ref().is_some_and(|o| o.maxt < end) {
                s.open = None;
            }
            while s.ex_chunks.first().is_some_and(|c| c.maxt < end) {
                s.ex_chunks.remove(0);
                let n = u64::from(s.ex_chunk_counts.remove(0));
                s.ex_count = s.ex_count.saturating_sub(n);
                dropped_exemplars += n;
            }
            if s.ex_open.as_ref().is_some_and(|o| o.maxt < end) {
                let n = s
                    .ex_open
                    .as_ref()
                    .map_or(0, |o| o.app.num_exemplars() as u64);
                s.ex_open = None;
                s.ex_count = s.ex_count.saturating_sub(n);
                dropped_exemplars += n;
            }
            if let Some(first) = s.chunks.first() {
                mint = mint.min(first.mint);
            } else if let Some(open) = &s.open {
                mint = mint.min(open.mint);
            }
            if let Some(first) = s.ex_chunks.first() {
                mint = mint.min(first.mint);
            } else if let Some(open) = &s.ex_open {
                mint = mint.min(open.mint);
            }
            if s.is_empty() && (s.logged || s.born != self.truncations) {
                removed.push(r);
            }
        }
        self.exemplars = self.exemplars.saturating_sub(dropped_exemplars);
        for r in removed {
            self.remove_series(r);
        }
        self.mint = mint;
        if mint == TimestampMs::MAX {
            self.maxt = TimestampMs::MIN;
        }
        self.truncations = self.truncations.wrapping_add(1);
    }

    fn remove_series(&mut self, r: u64) {
        let Some(s) = self.series.remove(&r) else {
            return;
        };
        let hash = hash_bytes(s.labels.as_bytes());
        if self.by_hash.get(&hash) == Some(&r) {
            let next = self.collisions.get_mut(&hash).and_then(Vec::pop);
            match next {
                Some(other) => {
                    self.by_hash.insert(hash, other);
                }
                None => {
                    self.by_hash.remove(&hash);
                }
            }
        } else if let Some(list) = self.collisions.get_mut(&hash) {
            list.retain(|&x| x != r);
        }
        if self.collisions.get(&hash).is_some_and(Vec::is_empty) {
            self.collisions.remove(&hash);
        }
        if let Ok(id) = u32::try_from(r) {
            self.index.remove(id, &s.labels.to_labels());
        }
    }

    /// Samples in the head: chunk headers' counts (mapped chunks are read for it).
    pub(crate) fn sample_count(&self, files: &HeadChunks) -> u64 {
        self.series
            .values()
            .map(|s| {
                let mapped: u64 = s
                    .chunks
                    .iter()
                    .filter_map(|c| files.chunk(c.chunk_ref).ok())
                    .map(|b| u64::from(crate::chunks::chunk_count(&b)))
                    .sum();
                mapped + s.open.as_ref().map_or(0, |o| o.app.num_samples() as u64)
            })
            .sum()
    }

    /// Heap bytes the head's series take, estimated from sizes and capacities (chunk
    /// appenders counted by their bytes): for `stats` and the memory bench.
    pub(crate) fn approx_series_bytes(&self) -> usize {
        self.series
            .values()
            .map(|s| {
                std::mem::size_of::<MemSeries>()
                    + BOXED_ENTRY_BYTES
                    + s.labels.heap_bytes()
                    + s.chunks.capacity() * std::mem::size_of::<HeadChunkMeta>()
                    + s.ex_chunks.capacity() * std::mem::size_of::<HeadChunkMeta>()
            })
            .sum()
    }
}

impl MemSeries {
    /// Whether the open exemplar chunk holds this exact exemplar.
    fn open_holds(&self, e: &NewestExemplar) -> bool {
        let Some(open) = &self.ex_open else {
            return false;
        };
        ExemplarIterator::new(open.app.bytes()).any(|x| same_exemplar(&x, e))
    }
}

/// Whether a decoded exemplar is `e`.
fn same_exemplar(x: &cairn_chunkenc::exemplar::ExemplarRef<'_>, e: &NewestExemplar) -> bool {
    x.t == e.t
        && x.v.to_bits() == e.v_bits
        && hash_exemplar_labels(x.labels.iter().map(|(n, v)| (n.as_ref(), v.as_ref())))
            == e.labels_hash
}

fn sort_chunks(chunks: &mut Vec<HeadChunkMeta>, counts: Option<&mut Vec<u32>>) {
    match counts {
        None => chunks.sort_by_key(|c| (c.mint, c.maxt)),
        Some(counts) => {
            let mut paired: Vec<(HeadChunkMeta, u32)> =
                chunks.drain(..).zip(counts.drain(..)).collect();
            paired.sort_by_key(|(c, _)| (c.mint, c.maxt));
            for (c, n) in paired {
                chunks.push(c);
                counts.push(n);
            }
        }
    }
}

/// Rebuilds an exemplar chunk with `e` inserted in time order (after any exemplar with the
/// same timestamp).
fn insert_exemplar(chunk: &[u8], e: &PendingExemplar) -> Option<ExemplarAppender> {
    let mut app = ExemplarAppender::new();
    let mut inserted = false;
    for x in ExemplarIterator::new(chunk) {
        if !inserted && x.t > e.t {
            app.append(e.t, e.v, &e.pairs()).ok()?;
            inserted = true;
        }
        app.append(x.t, x.v, &x.labels).ok()?;
    }
    if !inserted {
        app.append(e.t, e.v, &e.pairs()).ok()?;
    }
    Some(app)
}

/// A hash of an exemplar's labels, for the duplicate check.
pub(crate) fn hash_exemplar_labels<'a>(labels: impl Iterator<Item = (&'a str, &'a str)>) -> u64 {
    let mut buf = Vec::new();
    for (n, v) in labels {
        buf.extend_from_slice(n.as_bytes());
        buf.push(0xff);
        buf.extend_from_slice(v.as_bytes());
        buf.push(0xff);
    }
    hash_bytes(&buf)
}

/// An exemplar on its way into the head: checked for its own limits when made.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct PendingExemplar {
    pub(crate) series_ref: SeriesRef,
    pub(crate) t: TimestampMs,
    pub(crate) v: f64,
    /// Sorted by name, unique.
    pub(crate) labels: Labels,
    pub(crate) labels_hash: u64,
    /// Why the exemplar cannot be stored whatever the series holds, if so.
    pub(crate) invalid: Option<Rejection>,
}

impl PendingExemplar {
    pub(crate) fn new(series_ref: SeriesRef, t: TimestampMs, v: f64, labels: &Labels) -> Self {
        let chars: usize = labels
            .iter()
            .map(|l| l.name.chars().count() + l.value.chars().count())
            .sum();
        let invalid =
            (chars > MAX_EXEMPLAR_LABEL_CHARS).then_some(Rejection::ExemplarLabelsTooLong);
        let labels_hash =
            hash_exemplar_labels(labels.iter().map(|l| (l.name.as_str(), l.value.as_str())));
        PendingExemplar {
            series_ref,
            t,
            v,
            labels: labels.clone(),
            labels_hash,
            invalid,
        }
    }

    /// The labels as the chunk appender takes them.
    pub(crate) fn pairs(&self) -> Vec<(&str, &str)> {
        self.labels
            .iter()
            .map(|l| (l.name.as_str(), l.value.as_str()))
            .collect()
    }

    fn key(&self) -> NewestExemplar {
        NewestExemplar {
            t: self.t,
            v_bits: self.v.to_bits(),
            labels_hash: self.labels_hash,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_align_like_prometheus() {
        let h = 2 * 3600 * 1000;
        assert_eq!(range_end(0, h), h);
        assert_eq!(range_end(h - 1, h), h);
        assert_eq!(range_end(h, h), 2 * h);
        assert_eq!(window_start(-1, h), -h);
    }

    #[test]
    fn chunk_end_time_spreads_the_window() {
        // 30 samples at 15 s from 0: the 2 h window holds 480 samples, 4 chunks of 120.
        let end = chunk_end_time(0, 29 * 15_000, 7_200_000);
        assert_eq!(end, 1_800_000);
        // A window too short to split ends at its end.
        assert_eq!(chunk_end_time(0, 29 * 15_000, 1_000_000), 1_000_000);
    }
}
