//! The database: a directory holding the log, the head's chunk files and the blocks.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use cairn_index::LabelIndex;
use cairn_model::{Labels, Matcher, TimestampMs};
use cairn_wal::{RecordPos, Wal};
use roaring::RoaringBitmap;

use crate::block::{self, Block, BlockWriter, ChunkData};
use crate::chunks::{
    EncodedChunk, StoredExemplar, chunk_count, decode_exemplars, decode_samples, encode_exemplars,
    encode_samples, merge_exemplars, merge_samples,
};
use crate::head::{
    ChunkSource, ExemplarVerdict, Head, HeadChunkMeta, PendingExemplar, SampleVerdict, window_start,
};
use crate::head_chunks::HeadChunks;
use crate::record::{self, Record, RefExemplar, RefSample, RefSeries};
use crate::{CommitSummary, Error, Options, SeriesRef};

/// Series logged per record when the live series are logged again after a WAL truncation.
const RELOG_BATCH: usize = 10_000;

/// What opening a database found and repaired.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct OpenReport {
    /// The log's repair, if its tail was torn or corrupt (file and offset).
    pub wal_repair: Option<String>,
    /// The head chunk files' repair, if a chunk was torn or corrupt (file and offset).
    pub head_chunks_repair: Option<String>,
    /// Blocks that did not open, with why; they are left on disk and not read.
    pub failed_blocks: Vec<(PathBuf, String)>,
    /// Blocks deleted because a block made from them was complete (a crash between the two).
    pub removed_parent_blocks: Vec<PathBuf>,
    /// What the head's replay read and applied.
    pub replay: ReplayCounts,
}

/// What the replay of the log applied.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReplayCounts {
    /// Log records read.
    pub records: u64,
    /// Series the head holds after the replay.
    pub series: u64,
    /// Chunks recovered from `chunks_head/`.
    pub mapped_chunks: u64,
    /// Samples replayed from the log (not already in a recovered chunk or a block).
    pub samples: u64,
    /// Exemplars replayed from the log.
    pub exemplars: u64,
}

/// The database.
///
/// One process opens a directory at a time (`LOCK`). `Db` is `Send + Sync`: appenders,
/// queries and compaction may run from many threads; commits are serialized.
///
/// ```
/// use cairn_model::{Labels, Matcher};
/// use cairn_store::{Db, Options};
///
/// let dir = tempfile::tempdir()?;
/// let db = Db::open(dir.path(), Options::default())?;
/// let mut app = db.appender();
/// let series = Labels::from_pairs([("__name__", "http_requests_total"), ("job", "api")]);
/// let r = app.append(&series, 1_000, 1.0)?;
/// app.append_exemplar(r, 1_000, 1.0, &Labels::from_pairs([("trace_id", "4bf92f3577b34da6a3ce929d0e0e4736")]));
/// app.append_ref(r, 2_000, 3.0);
/// let summary = app.commit()?; // durable when this returns
/// assert_eq!((summary.samples, summary.exemplars), (2, 1));
///
/// let found: Vec<_> = db.query(&[Matcher::equal("job", "api")], 0, 10_000)?.collect::<Result<_, _>>()?;
/// assert_eq!(found[0].samples, [(1_000, 1.0), (2_000, 3.0)]);
/// assert_eq!(found[0].exemplars[0].labels.get("trace_id"), Some("4bf92f3577b34da6a3ce929d0e0e4736"));
/// db.close()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Db {
    dir: PathBuf,
    options: Options,
    state: Mutex<State>,
    blocks: RwLock<Vec<Arc<Block>>>,
    /// Held while a window is written: an import and a compaction of the same window must
    /// not both merge the same old block. Taken after `state` when both are needed.
    window_writer: Mutex<()>,
    /// The last failure of a compaction run by a commit.
    compaction_error: Mutex<Option<String>>,
    /// Bumped when the head drops series, so that appenders' caches drop their refs.
    generation: AtomicU64,
    report: OpenReport,
    _lock: File,
}

#[derive(Debug)]
struct State {
    head: Head,
    wal: Wal,
    files: HeadChunks,
    /// The newest sample or exemplar time each log segment holds (segments without any are
    /// absent), to know which segments a block has made redundant.
    segment_max_t: BTreeMap<u32, TimestampMs>,
    buf: Vec<u8>,
}

impl Db {
    /// Opens (or creates) the database in `dir`: repairs a torn log or head chunk file,
    /// finishes or undoes an interrupted block write, replays the head, and applies
    /// retention.
    ///
    /// # Errors
    /// [`Error::Locked`] when another process has it open; I/O errors; damage that cannot
    /// be repaired by cutting a torn tail (for example a log segment missing in the middle).
    pub fn open(dir: impl AsRef<Path>, options: Options) -> Result<Db, Error> {
        let dir = dir.as_ref().to_path_buf();
        fs::create_dir_all(&dir).map_err(Error::io("create directory", &dir))?;
        let lock = lock_dir(&dir)?;
        let mut report = OpenReport::default();

        let blocks_dir = dir.join("blocks");
        fs::create_dir_all(&blocks_dir).map_err(Error::io("create directory", &blocks_dir))?;
        let mut blocks = open_blocks(&blocks_dir, &mut report);

        let head_meta = dir.join(HEAD_META);
        let min_valid = match read_head_meta(&head_meta) {
            Ok(t) => t,
            Err(e) => {
                // The lower bound only saves work: without it the log's samples already in
                // blocks are replayed again, and merge with them at the next compaction.
                report.wal_repair = Some(format!("{e}; replaying the whole log"));
                TimestampMs::MIN
            }
        };
        let mut head = Head::new(options.block_range_ms, options.exemplars, min_valid);

        let (mut files, hc_recovery) = HeadChunks::open(
            dir.join("chunks_head"),
            crate::head_chunks::Options::default().max_file_size(options.head_chunk_file_bytes),
        )?;
        if let Some(c) = &hc_recovery.corruption {
            report.head_chunks_repair = Some(c.to_string());
        }

        let wal_options = cairn_wal::Options::default()
            .segment_size(options.wal_segment_bytes)
            .sync(options.sync);
        let (mut wal, wal_recovery) = Wal::open(dir.join("wal"), wal_options)?;
        if let Some(c) = &wal_recovery.corruption {
            let repair = format!("{c}");
            report.wal_repair = Some(match report.wal_repair.take() {
                Some(before) => format!("{before}; {repair}"),
                None => repair,
            });
        }

        let mut segment_max_t = BTreeMap::new();
        replay(
            &mut wal,
            &mut head,
            &mut files,
            &hc_recovery.chunks,
            &mut segment_max_t,
            &mut report.replay,
        )?;
        head.truncate(min_valid);
        // Chunks evicted by the head-wide cap are still in `chunks_head/`: evict again.
        head.enforce_total_cap();
        files.flush()?;
        report.replay.series = head.counts().series;

        blocks.sort_by_key(|b| (b.meta().min_time, b.ulid()));
        let db = Db {
            dir,
            options,
            state: Mutex::new(State {
                head,
                wal,
                files,
                segment_max_t,
                buf: Vec::new(),
            }),
            blocks: RwLock::new(blocks.into_iter().map(Arc::new).collect()),
            window_writer: Mutex::new(()),
            compaction_error: Mutex::new(None),
            generation: AtomicU64::new(0),
            report,
            _lock: lock,
        };
        {
            let mut st = db.lock();
            db.compact_due(&mut st)?;
        }
        db.apply_retention()?;
        Ok(db)
    }

    /// What opening found and repaired.
    pub fn report(&self) -> &OpenReport {
        &self.report
    }

    /// The database directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The options it was opened with.
    pub fn options(&self) -> &Options {
        &self.options
    }

    /// A new appender: it buffers samples and exemplars until [`Appender::commit`].
    pub fn appender(&self) -> Appender<'_> {
        Appender {
            db: self,
            cache: std::collections::HashMap::new(),
            generation: self.generation.load(Ordering::Acquire),
            samples: Vec::new(),
            exemplars: Vec::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves the head as the last commit did; the log
        // is the truth either way, so go on rather than propagate the poison.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn blocks(&self) -> Vec<Arc<Block>> {
        self.blocks
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The ref of the series with `labels`, creating it in the head if new.
    pub(crate) fn series_ref(&self, labels: &Labels) -> Result<SeriesRef, Error> {
        check_labels(labels)?;
        let mut st = self.lock();
        Ok(st.head.get_or_create(labels)?.0)
    }

    /// Checks, logs and applies a batch: one log record, so that after a crash the batch is
    /// there whole or not at all.
    pub(crate) fn commit_batch(
        &self,
        samples: &[(SeriesRef, TimestampMs, f64)],
        exemplars: &[PendingExemplar],
    ) -> Result<CommitSummary, Error> {
        let mut summary = CommitSummary::default();
        let mut guard = self.lock();
        let st = &mut *guard;
        let (sample_verdicts, exemplar_verdicts) = st.head.check(samples, exemplars);

        let mut accepted = Vec::new();
        for (&(r, t, v), verdict) in samples.iter().zip(&sample_verdicts) {
            match verdict {
                SampleVerdict::Accept => accepted.push(RefSample {
                    series_ref: r.0,
                    t,
                    v,
                }),
                SampleVerdict::Duplicate => summary.duplicate_samples += 1,
                SampleVerdict::Reject(why) => summary.reject(*why),
            }
        }
        let mut accepted_exemplars = Vec::new();
        for (e, verdict) in exemplars.iter().zip(&exemplar_verdicts) {
            match verdict {
                ExemplarVerdict::Append | ExemplarVerdict::Insert => {
                    accepted_exemplars.push((e, *verdict));
                }
                ExemplarVerdict::Duplicate => summary.duplicate_exemplars += 1,
                ExemplarVerdict::Reject(why) => summary.reject(*why),
            }
        }
        if accepted.is_empty() && accepted_exemplars.is_empty() {
            return Ok(summary);
        }
        // Late exemplars go in before the batch's appends could cut the chunk they were
        // checked against; the log holds them in this order, so replay does the same.
        accepted_exemplars.sort_by_key(|(_, v)| *v != ExemplarVerdict::Insert);

        let mut new_series: Vec<SeriesRef> = accepted
            .iter()
            .map(|s| SeriesRef(s.series_ref))
            .chain(accepted_exemplars.iter().map(|(e, _)| e.series_ref))
            .filter(|r| st.head.series(*r).is_some_and(|s| !s.logged))
            .collect();
        new_series.sort_unstable();
        new_series.dedup();

        st.buf.clear();
        if !new_series.is_empty() {
            let labels: Vec<(u64, Labels)> = new_series
                .iter()
                .filter_map(|&r| st.head.series(r).map(|s| (r.0, s.labels.to_labels())))
                .collect();
            let refs: Vec<RefSeries<&Labels>> = labels
                .iter()
                .map(|(r, l)| RefSeries {
                    series_ref: *r,
                    labels: l,
                })
                .collect();
            record::encode_series(&refs, &mut st.buf);
        }
        let mut max_t = TimestampMs::MIN;
        if !accepted.is_empty() {
            record::encode_samples(&accepted, &mut st.buf);
            max_t = accepted.iter().map(|s| s.t).max().unwrap_or(max_t);
        }
        if !accepted_exemplars.is_empty() {
            let refs: Vec<RefExemplar<&Labels>> = accepted_exemplars
                .iter()
                .map(|(e, _)| RefExemplar {
                    series_ref: e.series_ref.0,
                    t: e.t,
                    v: e.v,
                    labels: &e.labels,
                })
                .collect();
            record::encode_exemplars(&refs, &mut st.buf);
            max_t = max_t.max(
                accepted_exemplars
                    .iter()
                    .map(|(e, _)| e.t)
                    .max()
                    .unwrap_or(max_t),
            );
        }
        let pos = st.wal.append(&st.buf)?;
        st.wal.commit()?;
        note_segment(&mut st.segment_max_t, pos.segment, max_t);

        st.head.mark_logged(&new_series);
        summary.series_created = new_series.len() as u64;
        for s in &accepted {
            st.head
                .append_sample(SeriesRef(s.series_ref), s.t, s.v, &mut st.files)?;
        }
        summary.samples = accepted.len() as u64;
        for (e, verdict) in &accepted_exemplars {
            st.head.append_exemplar(e, *verdict, &mut st.files)?;
        }
        summary.exemplars = accepted_exemplars.len() as u64;
        st.head.enforce_total_cap();
        st.files.flush()?;
        // The commit is durable and applied: a failed compaction or retention must not make
        // it look failed (a caller retrying would only meet duplicates). It is kept for
        // `compaction_error` and retried at the next commit.
        let compacted = self.compact_due(st);
        drop(guard);
        let result = match compacted {
            Ok(0) => Ok(()),
            Ok(_) => self.apply_retention(),
            Err(e) => Err(e),
        };
        *self
            .compaction_error
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) =
            result.err().map(|e| e.to_string());
        Ok(summary)
    }

    /// The error of the last compaction or retention run by a commit, if it failed (the
    /// commit itself succeeded; the work is tried again at the next commit).
    pub fn compaction_error(&self) -> Option<String> {
        self.compaction_error
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Compacts every window of the head that is due: while the head spans more than one and
    /// a half block ranges, its oldest window goes into a block (Prometheus' rule). Returns
    /// how many windows were written.
    ///
    /// # Errors
    /// I/O errors writing the block or truncating the log.
    pub fn compact(&self) -> Result<usize, Error> {
        let n = {
            let mut st = self.lock();
            self.compact_due(&mut st)?
        };
        self.apply_retention()?;
        Ok(n)
    }

    /// Writes the whole head into blocks, window by window, and empties it (as on a clean
    /// shutdown of a store that will not run again, or before a backup). Returns how many
    /// windows were written.
    ///
    /// # Errors
    /// As [`Db::compact`].
    pub fn flush_head(&self) -> Result<usize, Error> {
        let mut st = self.lock();
        let mut n = 0;
        while let Some((mint, _)) = st.head.time_range() {
            let start = window_start(mint, self.options.block_range_ms);
            self.compact_window(
                &mut st,
                start,
                start.saturating_add(self.options.block_range_ms),
            )?;
            n += 1;
        }
        drop(st);
        self.apply_retention()?;
        Ok(n)
    }

    fn compact_due(&self, st: &mut State) -> Result<usize, Error> {
        let range = self.options.block_range_ms;
        let mut n = 0;
        while let Some((mint, maxt)) = st.head.time_range() {
            if maxt.saturating_sub(mint) <= range / 2 * 3 {
                break;
            }
            let start = window_start(mint, range);
            self.compact_window(st, start, start.saturating_add(range))?;
            n += 1;
        }
        Ok(n)
    }

    /// Writes the head's window `[start, end)` into a block (merged with any block already
    /// holding that window), then drops it from the head and the log.
    fn compact_window(
        &self,
        st: &mut State,
        start: TimestampMs,
        end: TimestampMs,
    ) -> Result<(), Error> {
        let sorted = st.head.sorted_series(st.head.all_refs().into_iter());
        let head = &st.head;
        let files = &st.files;
        let input = sorted.into_iter().filter_map(|(labels, r)| {
            match head.chunks(r, start, end.saturating_sub(1), files) {
                Err(e) => Some(Err(e)),
                Ok(c) if c.samples.is_empty() && c.exemplars.is_empty() => None,
                Ok(c) => Some(Ok(NewSeries {
                    labels,
                    samples: SampleInput::Chunks(c.samples),
                    exemplars: ExemplarInput::Chunks(c.exemplars),
                })),
            }
        });
        self.write_window(start, end, 1, input)?;

        st.head.truncate(end);
        st.files.truncate_before(end)?;
        write_head_meta(&self.dir.join(HEAD_META), st.head.min_valid())?;
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.truncate_wal(st, end)
    }

    /// Drops the log segments whose every sample is now in a block: cuts a new segment,
    /// logs the live series there again (so that no series record is lost with the old
    /// segments), and removes the segments before the first that still holds data at or
    /// after `end`.
    fn truncate_wal(&self, st: &mut State, end: TimestampMs) -> Result<(), Error> {
        let fresh = st.wal.cut_segment()?;
        let refs = st.head.all_refs();
        for batch in refs.chunks(RELOG_BATCH) {
            let labels: Vec<(u64, Labels)> = batch
                .iter()
                .filter_map(|&r| {
                    st.head
                        .series(SeriesRef(r))
                        .filter(|s| s.logged)
                        .map(|s| (r, s.labels.to_labels()))
                })
                .collect();
            if labels.is_empty() {
                continue;
            }
            let series: Vec<RefSeries<&Labels>> = labels
                .iter()
                .map(|(r, l)| RefSeries {
                    series_ref: *r,
                    labels: l,
                })
                .collect();
            st.buf.clear();
            record::encode_series(&series, &mut st.buf);
            st.wal.append(&st.buf)?;
        }
        st.wal.commit()?;
        let keep = st
            .segment_max_t
            .iter()
            .find(|&(&seg, &t)| seg >= fresh || t >= end)
            .map_or(fresh, |(&seg, _)| seg.min(fresh));
        st.wal.truncate_before(keep)?;
        st.segment_max_t = st.segment_max_t.split_off(&keep);
        Ok(())
    }

    /// Writes window `[start, end)`: `input` (series in label order) merged with the
    /// blocks already holding that window, into one new block that replaces them. Writes
    /// nothing when `input` adds no sample and no exemplar to what those blocks hold.
    pub(crate) fn write_window(
        &self,
        start: TimestampMs,
        end: TimestampMs,
        level: u32,
        input: impl Iterator<Item = Result<NewSeries, Error>>,
    ) -> Result<WindowOutcome, Error> {
        let _writing = self
            .window_writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let range = self.options.block_range_ms;
        let existing: Vec<Arc<Block>> = self
            .blocks()
            .into_iter()
            // Only blocks within the window are merged (and replaced): one reaching past it
            // (made with another block range) stays, and queries merge the overlap.
            .filter(|b| b.meta().min_time >= start && b.meta().max_time <= end)
            .collect();
        // Blocks overlapping the window without lying within it: what they hold is not
        // written again.
        let held: Vec<Arc<Block>> = self
            .blocks()
            .into_iter()
            .filter(|b| b.meta().min_time < end && b.meta().max_time > start)
            .filter(|b| !(b.meta().min_time >= start && b.meta().max_time <= end))
            .collect();
        let mut writer = BlockWriter::create(&self.dir.join("blocks"), start, end)?;
        let parents: Vec<ulid::Ulid> = existing.iter().map(|b| b.ulid()).collect();
        let mut sources: Vec<ulid::Ulid> = parents.clone();
        sources.push(writer.ulid());
        writer.set_compaction(level, sources, parents.clone());

        let mut outcome = WindowOutcome::default();
        let mut cursors: Vec<BlockCursor> = existing
            .iter()
            .map(|b| BlockCursor::new(Arc::clone(b)))
            .collect::<Result<_, _>>()?;
        let mut input = input.peekable();
        loop {
            // The smallest label set among the input and the existing blocks.
            let next_new = match input.peek() {
                Some(Err(_)) => {
                    return Err(input.next().and_then(Result::err).unwrap_or(Error::Closed));
                }
                Some(Ok(s)) => Some(s.labels.clone()),
                None => None,
            };
            let next_old = cursors
                .iter()
                .filter_map(|c| c.current.as_ref().map(|(l, _)| l))
                .min()
                .cloned();
            let labels = match (next_new, next_old) {
                (None, None) => break,
                (Some(a), None) => a,
                (None, Some(b)) => b,
                (Some(a), Some(b)) => a.min(b),
            };
            let new = match input.peek() {
                Some(Ok(s)) if s.labels == labels => input.next().and_then(Result::ok),
                _ => None,
            };
            let mut old = Vec::new();
            for c in &mut cursors {
                if c.current.as_ref().is_some_and(|(l, _)| *l == labels) {
                    old.push(c.take()?);
                }
            }
            let new = match new {
                Some(n) if !held.is_empty() => Some(without_held(n, &held, start, end)?),
                other => other,
            };
            self.write_series(
                &mut writer,
                &labels,
                new,
                old,
                start,
                end,
                range,
                &mut outcome,
            )?;
        }
        if outcome.samples_added == 0 && outcome.exemplars_added == 0 {
            writer.abort();
            return Ok(outcome);
        }
        let meta = writer.finish()?;
        outcome.block = Some(meta.ulid);
        let block = Block::open(&self.dir.join("blocks").join(meta.ulid.to_string()))?;
        outcome.bytes_written = block.size().total();
        {
            let mut blocks = self
                .blocks
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            blocks.retain(|b| !parents.contains(&b.ulid()));
            blocks.push(Arc::new(block));
            blocks.sort_by_key(|b| (b.meta().min_time, b.ulid()));
        }
        for b in &existing {
            fs::remove_dir_all(b.dir()).map_err(Error::io("remove replaced block", b.dir()))?;
        }
        sync_dir(&self.dir.join("blocks"))?;
        Ok(outcome)
    }

    /// Writes one series of a window: as given when no existing block has it (chunks are
    /// copied as they are), merged otherwise.
    #[allow(
        clippy::too_many_arguments,
        reason = "one call site, the window's whole state"
    )]
    fn write_series(
        &self,
        writer: &mut BlockWriter,
        labels: &Labels,
        new: Option<NewSeries>,
        old: Vec<OldSeries>,
        start: TimestampMs,
        end: TimestampMs,
        range: i64,
        outcome: &mut WindowOutcome,
    ) -> Result<(), Error> {
        let maxt = end.saturating_sub(1);
        let in_window = |mint: TimestampMs, max: TimestampMs| mint >= start && max <= maxt;
        if old.is_empty() {
            let Some(new) = new else {
                return Ok(());
            };
            // Fast path: chunks already cut for this window go in as they are.
            let samples: Vec<(TimestampMs, TimestampMs, std::borrow::Cow<'_, [u8]>)> =
                match &new.samples {
                    SampleInput::Chunks(c) if c.iter().all(|(a, b, _)| in_window(*a, *b)) => c
                        .iter()
                        .map(|(a, b, bytes)| (*a, *b, std::borrow::Cow::Borrowed(&bytes[..])))
                        .collect(),
                    other => owned(encode_samples(&other.decode(start, maxt)?, range)),
                };
            let (exemplars, refused) = match &new.exemplars {
                ExemplarInput::Chunks(c) if c.iter().all(|(a, b, _)| in_window(*a, *b)) => (
                    c.iter()
                        .map(|(a, b, bytes)| (*a, *b, std::borrow::Cow::Borrowed(&bytes[..])))
                        .collect(),
                    0,
                ),
                other => {
                    let (chunks, refused) = encode_exemplars(&other.decode(start, maxt)?, range);
                    (owned(chunks), refused)
                }
            };
            outcome.exemplars_refused += refused;
            outcome.samples_added += samples
                .iter()
                .map(|(_, _, b)| u64::from(chunk_count(b)))
                .sum::<u64>();
            outcome.exemplars_added += exemplars
                .iter()
                .map(|(_, _, b)| u64::from(chunk_count(b)))
                .sum::<u64>();
            return add_series(writer, labels, &samples, &exemplars);
        }
        if new.is_none() && old.len() == 1 {
            // Unchanged: copy the old block's chunks.
            let o = old.into_iter().next().ok_or(Error::Closed)?;
            let samples = o.sample_chunks()?;
            let exemplars = o.exemplar_chunks()?;
            return add_series(writer, labels, &samples, &exemplars);
        }
        let mut sample_lists = Vec::new();
        let mut exemplar_lists = Vec::new();
        for o in &old {
            sample_lists.push(o.samples(start, maxt)?);
            exemplar_lists.push(o.exemplars(start, maxt)?);
        }
        let before_samples = merge_samples(sample_lists.clone()).len();
        let before_exemplars = merge_exemplars(exemplar_lists.clone()).len();
        if let Some(new) = &new {
            sample_lists.push(new.samples.decode(start, maxt)?);
            exemplar_lists.push(new.exemplars.decode(start, maxt)?);
        }
        let samples = merge_samples(sample_lists);
        let exemplars = merge_exemplars(exemplar_lists);
        outcome.samples_added += (samples.len() - before_samples.min(samples.len())) as u64;
        outcome.exemplars_added += (exemplars.len() - before_exemplars.min(exemplars.len())) as u64;
        let sample_chunks = owned(encode_samples(&samples, range));
        let (exemplar_chunks, refused) = encode_exemplars(&exemplars, range);
        outcome.exemplars_refused += refused;
        add_series(writer, labels, &sample_chunks, &owned(exemplar_chunks))
    }

    /// Deletes blocks past the retention: wholly older than the newest data less the time
    /// retention, then the oldest while everything on disk passes the size retention.
    fn apply_retention(&self) -> Result<(), Error> {
        // The state lock is never taken while the blocks lock is held (compaction takes
        // them the other way round).
        let (head_max, other_bytes) = {
            let st = self.lock();
            (
                st.head.time_range().map(|(_, maxt)| maxt),
                st.wal.size_bytes() + st.files.size_bytes(),
            )
        };
        let mut blocks = self
            .blocks
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let newest = blocks
            .iter()
            .map(|b| b.meta().max_time.saturating_sub(1))
            .chain(head_max)
            .max();
        let mut doomed: Vec<Arc<Block>> = Vec::new();
        if let (Some(retention), Some(newest)) = (self.options.retention_ms, newest) {
            let cutoff = newest.saturating_sub(retention);
            let (old, keep): (Vec<_>, Vec<_>) =
                blocks.drain(..).partition(|b| b.meta().max_time <= cutoff);
            *blocks = keep;
            doomed.extend(old);
        }
        if let Some(limit) = self.options.retention_bytes {
            let mut total: u64 = other_bytes + blocks.iter().map(|b| b.size().total()).sum::<u64>();
            while total > limit && !blocks.is_empty() {
                let b = blocks.remove(0);
                total = total.saturating_sub(b.size().total());
                doomed.push(b);
            }
        }
        drop(blocks);
        for b in &doomed {
            fs::remove_dir_all(b.dir())
                .map_err(Error::io("remove block past retention", b.dir()))?;
        }
        if !doomed.is_empty() {
            sync_dir(&self.dir.join("blocks"))?;
        }
        Ok(())
    }

    /// The series matching every matcher (all series when there is none) that have data in
    /// `[mint, maxt]`, in label order, merged across blocks and head; each series' samples
    /// and exemplars are read when the iterator reaches it.
    ///
    /// # Errors
    /// None today when listing; reading a series reports damaged chunks.
    pub fn query(
        &self,
        matchers: &[Matcher],
        mint: TimestampMs,
        maxt: TimestampMs,
    ) -> Result<SeriesSet<'_>, Error> {
        let blocks: Vec<Arc<Block>> = self
            .blocks()
            .into_iter()
            .filter(|b| b.meta().min_time <= maxt && b.meta().max_time > mint)
            .collect();
        let mut entries: Vec<(Labels, Source)> = Vec::new();
        for (i, b) in blocks.iter().enumerate() {
            let ids = select(b.index(), matchers);
            for id in &ids {
                if let Some(labels) = b.index().series_labels(id) {
                    entries.push((labels, Source::Block(i, id)));
                }
            }
        }
        {
            let st = self.lock();
            let ids = select(st.head.index(), matchers);
            let refs = st.head.sorted_series(ids.iter().map(u64::from));
            entries.extend(refs.into_iter().map(|(l, r)| (l, Source::Head(r))));
        }
        entries.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.order().cmp(&b.1.order())));
        let mut grouped: Vec<(Labels, Vec<Source>)> = Vec::new();
        for (labels, source) in entries {
            match grouped.last_mut() {
                Some((l, sources)) if *l == labels => sources.push(source),
                _ => grouped.push((labels, vec![source])),
            }
        }
        Ok(SeriesSet {
            db: self,
            blocks,
            series: grouped.into_iter(),
            mint,
            maxt,
        })
    }

    fn read_series(
        &self,
        blocks: &[Arc<Block>],
        labels: Labels,
        sources: &[Source],
        mint: TimestampMs,
        maxt: TimestampMs,
    ) -> Result<SeriesData, Error> {
        let mut sample_lists = Vec::new();
        let mut exemplar_lists = Vec::new();
        for source in sources {
            match *source {
                Source::Block(i, id) => {
                    let Some(b) = blocks.get(i) else { continue };
                    let o = OldSeries {
                        block: Arc::clone(b),
                        id,
                    };
                    sample_lists.push(o.samples(mint, maxt)?);
                    exemplar_lists.push(o.exemplars(mint, maxt)?);
                }
                Source::Head(r) => {
                    let st = self.lock();
                    let chunks = st.head.chunks(r, mint, maxt, &st.files)?;
                    drop(st);
                    let path = self.dir.join("chunks_head");
                    let mut samples = Vec::new();
                    for (_, _, bytes) in &chunks.samples {
                        decode_samples(bytes, mint, maxt, &mut samples).map_err(|what| {
                            Error::Chunk {
                                path: path.clone(),
                                chunk_ref: 0,
                                what,
                            }
                        })?;
                    }
                    let mut exemplars = Vec::new();
                    for (_, _, bytes) in &chunks.exemplars {
                        decode_exemplars(bytes, mint, maxt, &mut exemplars).map_err(|what| {
                            Error::Chunk {
                                path: path.clone(),
                                chunk_ref: 0,
                                what,
                            }
                        })?;
                    }
                    sample_lists.push(samples);
                    exemplar_lists.push(exemplars);
                }
            }
        }
        Ok(SeriesData {
            labels,
            samples: merge_samples(sample_lists),
            exemplars: merge_exemplars(exemplar_lists),
        })
    }

    /// Whether the head holds data in `[mint, maxt]`.
    pub(crate) fn head_overlaps(&self, mint: TimestampMs, maxt: TimestampMs) -> bool {
        let st = self.lock();
        st.head
            .time_range()
            .is_some_and(|(a, b)| a <= maxt && b >= mint)
    }

    /// The head's samples and exemplars of series `labels` in `[mint, maxt]`, if the head
    /// has the series.
    pub(crate) fn head_data(
        &self,
        labels: &Labels,
        mint: TimestampMs,
        maxt: TimestampMs,
    ) -> Result<Option<SeriesData>, Error> {
        let r = {
            let st = self.lock();
            st.head
                .lookup(&crate::labels::CompactLabels::from_labels(labels))
        };
        match r {
            None => Ok(None),
            Some(r) => self
                .read_series(&[], labels.clone(), &[Source::Head(r)], mint, maxt)
                .map(Some),
        }
    }

    /// Counts and sizes: series, samples, exemplars, time range, bytes on disk by kind.
    ///
    /// # Errors
    /// I/O errors listing the directory.
    pub fn stats(&self) -> Result<Stats, Error> {
        let mut stats = Stats::default();
        let blocks = self.blocks();
        let mut labels = std::collections::HashSet::new();
        for b in &blocks {
            let meta = b.meta();
            stats.blocks += 1;
            stats.block_samples += meta.stats.num_samples;
            stats.block_exemplars += meta.stats.num_exemplars;
            let size = b.size();
            stats.bytes.sample_chunks += size.chunks;
            stats.bytes.exemplars += size.exemplars;
            stats.bytes.index += size.index + size.series;
            stats.bytes.other += size.meta;
            for id in 0..b.index().series_count() {
                let chunks = b.series_chunks(id)?;
                for c in chunks.samples.iter().chain(&chunks.exemplars) {
                    stats.min_time = Some(stats.min_time.map_or(c.mint, |m: i64| m.min(c.mint)));
                    stats.max_time = Some(stats.max_time.map_or(c.maxt, |m: i64| m.max(c.maxt)));
                }
                if let Some(l) = b.index().series_labels(id) {
                    labels.insert(l);
                }
            }
        }
        {
            let st = self.lock();
            let counts = st.head.counts();
            stats.head_series = counts.series;
            stats.head_exemplars = counts.exemplars;
            stats.exemplars_evicted = counts.exemplars_evicted;
            stats.head_chunks = counts.chunks;
            stats.head_bytes_estimate = st.head.approx_series_bytes() as u64;
            for (l, r) in st.head.sorted_series(st.head.all_refs().into_iter()) {
                if let Some(s) = st.head.series(r)
                    && s.last_t().is_some()
                {
                    labels.insert(l);
                }
            }
            if let Some((a, b)) = st.head.time_range() {
                stats.min_time = Some(stats.min_time.map_or(a, |m| m.min(a)));
                stats.max_time = Some(stats.max_time.map_or(b, |m| m.max(b)));
            }
            stats.head_samples = st.head.sample_count(&st.files);
            stats.bytes.wal = st.wal.size_bytes();
            stats.bytes.head_chunks = st.files.size_bytes();
        }
        stats.series = labels.len() as u64;
        stats.bytes.other += dir_size(&self.dir.join(HEAD_META)) + dir_size(&self.dir.join("LOCK"));
        Ok(stats)
    }

    /// Syncs and closes: the log, the head chunk files, the lock.
    ///
    /// # Errors
    /// I/O errors syncing.
    pub fn close(self) -> Result<(), Error> {
        let state = self
            .state
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        state.wal.close()?;
        state.files.close()?;
        Ok(())
    }
}

/// A new series less the samples (by timestamp) and exemplars that blocks overlapping the
/// window already hold.
fn without_held(
    new: NewSeries,
    held: &[Arc<Block>],
    start: TimestampMs,
    end: TimestampMs,
) -> Result<NewSeries, Error> {
    let maxt = end.saturating_sub(1);
    let mut times = std::collections::HashSet::new();
    let mut exemplars = Vec::new();
    for b in held {
        let matchers: Vec<Matcher> = new
            .labels
            .iter()
            .map(|l| Matcher::equal(l.name.clone(), l.value.clone()))
            .collect();
        for id in &b.index().select(&matchers) {
            if b.index().series_labels(id).as_ref() != Some(&new.labels) {
                continue;
            }
            let o = OldSeries {
                block: Arc::clone(b),
                id,
            };
            times.extend(o.samples(start, maxt)?.into_iter().map(|(t, _)| t));
            exemplars.extend(o.exemplars(start, maxt)?);
        }
    }
    if times.is_empty() && exemplars.is_empty() {
        return Ok(new);
    }
    let mut samples = new.samples.decode(start, maxt)?;
    samples.retain(|(t, _)| !times.contains(t));
    let mut own = new.exemplars.decode(start, maxt)?;
    own.retain(|e| {
        !exemplars
            .iter()
            .any(|h| h.t == e.t && h.v.to_bits() == e.v.to_bits() && h.labels == e.labels)
    });
    Ok(NewSeries {
        labels: new.labels,
        samples: SampleInput::Raw(samples),
        exemplars: ExemplarInput::Raw(own),
    })
}

fn owned(
    chunks: Vec<EncodedChunk>,
) -> Vec<(TimestampMs, TimestampMs, std::borrow::Cow<'static, [u8]>)> {
    chunks
        .into_iter()
        .map(|c| (c.mint, c.maxt, std::borrow::Cow::Owned(c.bytes)))
        .collect()
}

fn add_series(
    writer: &mut BlockWriter,
    labels: &Labels,
    samples: &[(TimestampMs, TimestampMs, std::borrow::Cow<'_, [u8]>)],
    exemplars: &[(TimestampMs, TimestampMs, std::borrow::Cow<'_, [u8]>)],
) -> Result<(), Error> {
    writer.add_series(labels, &chunk_data(samples), &chunk_data(exemplars))?;
    Ok(())
}

fn chunk_data<'a>(
    chunks: &'a [(TimestampMs, TimestampMs, std::borrow::Cow<'_, [u8]>)],
) -> Vec<ChunkData<'a>> {
    chunks
        .iter()
        .map(|(mint, maxt, bytes)| ChunkData {
            mint: *mint,
            maxt: *maxt,
            bytes,
        })
        .collect()
}

fn select<I: LabelIndex + ?Sized>(index: &I, matchers: &[Matcher]) -> RoaringBitmap {
    if matchers.is_empty() {
        index.all().into_owned()
    } else {
        index.select(matchers)
    }
}

/// Where a queried series' data lives.
#[derive(Clone, Copy, Debug)]
enum Source {
    Block(usize, u32),
    Head(SeriesRef),
}

impl Source {
    /// Blocks (in time order) before the head: where timestamps tie, the first wins.
    fn order(&self) -> (u8, u64) {
        match *self {
            Source::Block(i, _) => (0, i as u64),
            Source::Head(r) => (1, r.0),
        }
    }
}

/// One series of a query, with its samples and exemplars in the query's range.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesData {
    /// The series' labels.
    pub labels: Labels,
    /// Its samples in time order, one per timestamp.
    pub samples: Vec<(TimestampMs, f64)>,
    /// Its exemplars in time order.
    pub exemplars: Vec<StoredExemplar>,
}

/// The series of a query, read one at a time.
pub struct SeriesSet<'db> {
    db: &'db Db,
    blocks: Vec<Arc<Block>>,
    series: std::vec::IntoIter<(Labels, Vec<Source>)>,
    mint: TimestampMs,
    maxt: TimestampMs,
}

impl SeriesSet<'_> {
    /// How many series are left to read (some may turn out to have no data in range).
    pub fn remaining(&self) -> usize {
        self.series.len()
    }
}

impl Iterator for SeriesSet<'_> {
    type Item = Result<SeriesData, Error>;

    fn next(&mut self) -> Option<Result<SeriesData, Error>> {
        loop {
            let (labels, sources) = self.series.next()?;
            match self
                .db
                .read_series(&self.blocks, labels, &sources, self.mint, self.maxt)
            {
                Ok(s) if s.samples.is_empty() && s.exemplars.is_empty() => continue,
                other => return Some(other),
            }
        }
    }
}

/// Counts and sizes of a database, as `cairn stats` prints them.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct Stats {
    /// Distinct series with data, in blocks and head.
    pub series: u64,
    /// Blocks.
    pub blocks: u64,
    /// Samples in blocks.
    pub block_samples: u64,
    /// Exemplars in blocks.
    pub block_exemplars: u64,
    /// Series in the head.
    pub head_series: u64,
    /// Samples in the head.
    pub head_samples: u64,
    /// Exemplars in the head.
    pub head_exemplars: u64,
    /// Exemplars dropped by the caps since open.
    pub exemplars_evicted: u64,
    /// Sample chunks in the head (open ones included).
    pub head_chunks: u64,
    /// Estimated heap bytes of the head's series (labels, chunk lists; open chunks aside).
    pub head_bytes_estimate: u64,
    /// The oldest and newest timestamps stored.
    pub min_time: Option<TimestampMs>,
    /// See `min_time`.
    pub max_time: Option<TimestampMs>,
    /// Bytes on disk by kind.
    pub bytes: DiskBytes,
}

/// Bytes on disk by kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DiskBytes {
    /// Blocks' sample chunk segments.
    pub sample_chunks: u64,
    /// Blocks' exemplar chunk segments.
    pub exemplars: u64,
    /// Blocks' label index and series (chunk reference) files.
    pub index: u64,
    /// The write-ahead log.
    pub wal: u64,
    /// The head's chunk files.
    pub head_chunks: u64,
    /// Everything else: block meta files, `head.meta`, `LOCK`.
    pub other: u64,
}

impl DiskBytes {
    /// All bytes.
    pub fn total(&self) -> u64 {
        self.sample_chunks + self.exemplars + self.index + self.wal + self.head_chunks + self.other
    }
}

/// What writing a window did.
#[derive(Clone, Debug, Default)]
pub(crate) struct WindowOutcome {
    pub(crate) samples_added: u64,
    pub(crate) exemplars_added: u64,
    pub(crate) exemplars_refused: u64,
    pub(crate) block: Option<ulid::Ulid>,
    pub(crate) bytes_written: u64,
}

/// A series to write into a window.
pub(crate) struct NewSeries {
    pub(crate) labels: Labels,
    pub(crate) samples: SampleInput,
    pub(crate) exemplars: ExemplarInput,
}

/// A new series' samples: chunks already cut (from the head) or a time-ordered list.
pub(crate) enum SampleInput {
    Chunks(Vec<(TimestampMs, TimestampMs, ChunkSource)>),
    Raw(Vec<(TimestampMs, f64)>),
}

impl SampleInput {
    fn decode(
        &self,
        mint: TimestampMs,
        maxt: TimestampMs,
    ) -> Result<Vec<(TimestampMs, f64)>, Error> {
        match self {
            SampleInput::Raw(s) => Ok(s
                .iter()
                .copied()
                .filter(|(t, _)| (mint..=maxt).contains(t))
                .collect()),
            SampleInput::Chunks(chunks) => {
                let mut out = Vec::new();
                for (_, _, bytes) in chunks {
                    decode_samples(bytes, mint, maxt, &mut out).map_err(|what| Error::Chunk {
                        path: PathBuf::from("chunks_head"),
                        chunk_ref: 0,
                        what,
                    })?;
                }
                Ok(out)
            }
        }
    }
}

/// A new series' exemplars.
pub(crate) enum ExemplarInput {
    Chunks(Vec<(TimestampMs, TimestampMs, ChunkSource)>),
    Raw(Vec<StoredExemplar>),
}

impl ExemplarInput {
    fn decode(&self, mint: TimestampMs, maxt: TimestampMs) -> Result<Vec<StoredExemplar>, Error> {
        match self {
            ExemplarInput::Raw(s) => Ok(s
                .iter()
                .filter(|e| (mint..=maxt).contains(&e.t))
                .cloned()
                .collect()),
            ExemplarInput::Chunks(chunks) => {
                let mut out = Vec::new();
                for (_, _, bytes) in chunks {
                    decode_exemplars(bytes, mint, maxt, &mut out).map_err(|what| Error::Chunk {
                        path: PathBuf::from("chunks_head"),
                        chunk_ref: 0,
                        what,
                    })?;
                }
                Ok(out)
            }
        }
    }
}

/// A chunk with its time range, owned or borrowed.
type OwnedChunk = (TimestampMs, TimestampMs, std::borrow::Cow<'static, [u8]>);

/// A series of an existing block.
struct OldSeries {
    block: Arc<Block>,
    id: u32,
}

impl OldSeries {
    fn chunk_error(&self, kind: &str, chunk_ref: u64, what: String) -> Error {
        Error::Chunk {
            path: self.block.dir().join(kind),
            chunk_ref,
            what,
        }
    }

    fn samples(
        &self,
        mint: TimestampMs,
        maxt: TimestampMs,
    ) -> Result<Vec<(TimestampMs, f64)>, Error> {
        let mut out = Vec::new();
        for c in self.block.series_chunks(self.id)?.samples {
            if c.maxt < mint || c.mint > maxt {
                continue;
            }
            let bytes = self.block.chunk(c.chunk_ref)?;
            decode_samples(bytes, mint, maxt, &mut out)
                .map_err(|w| self.chunk_error("chunks", c.chunk_ref, w))?;
        }
        Ok(out)
    }

    fn exemplars(
        &self,
        mint: TimestampMs,
        maxt: TimestampMs,
    ) -> Result<Vec<StoredExemplar>, Error> {
        let mut out = Vec::new();
        for c in self.block.series_chunks(self.id)?.exemplars {
            if c.maxt < mint || c.mint > maxt {
                continue;
            }
            let bytes = self.block.exemplar_chunk(c.chunk_ref)?;
            decode_exemplars(bytes, mint, maxt, &mut out)
                .map_err(|w| self.chunk_error("exemplars", c.chunk_ref, w))?;
        }
        Ok(out)
    }

    fn sample_chunks(&self) -> Result<Vec<OwnedChunk>, Error> {
        self.block
            .series_chunks(self.id)?
            .samples
            .iter()
            .map(|c| {
                Ok((
                    c.mint,
                    c.maxt,
                    std::borrow::Cow::Owned(self.block.chunk(c.chunk_ref)?.to_vec()),
                ))
            })
            .collect()
    }

    fn exemplar_chunks(&self) -> Result<Vec<OwnedChunk>, Error> {
        self.block
            .series_chunks(self.id)?
            .exemplars
            .iter()
            .map(|c| {
                Ok((
                    c.mint,
                    c.maxt,
                    std::borrow::Cow::Owned(self.block.exemplar_chunk(c.chunk_ref)?.to_vec()),
                ))
            })
            .collect()
    }
}

/// Walks a block's series in label order.
struct BlockCursor {
    block: Arc<Block>,
    next_id: u32,
    current: Option<(Labels, u32)>,
}

impl BlockCursor {
    fn new(block: Arc<Block>) -> Result<BlockCursor, Error> {
        let mut c = BlockCursor {
            block,
            next_id: 0,
            current: None,
        };
        c.advance();
        Ok(c)
    }

    fn advance(&mut self) {
        self.current = None;
        while self.next_id < self.block.index().series_count() {
            let id = self.next_id;
            self.next_id += 1;
            if let Some(labels) = self.block.index().series_labels(id) {
                self.current = Some((labels, id));
                return;
            }
        }
    }

    fn take(&mut self) -> Result<OldSeries, Error> {
        let (_, id) = self.current.take().ok_or(Error::Closed)?;
        let s = OldSeries {
            block: Arc::clone(&self.block),
            id,
        };
        self.advance();
        Ok(s)
    }
}

/// Replays the log into the head: series first (the whole log, so a series logged again
/// after a truncation is known before its samples), then the chunks recovered from
/// `chunks_head/`, then samples and exemplars.
fn replay(
    wal: &mut Wal,
    head: &mut Head,
    files: &mut HeadChunks,
    recovered: &[crate::head_chunks::RecoveredChunk],
    segment_max_t: &mut BTreeMap<u32, TimestampMs>,
    counts: &mut ReplayCounts,
) -> Result<(), Error> {
    let start = RecordPos::start_of(wal.first_segment());
    let mut aliases: crate::head::RefMap<u64> = crate::head::RefMap::default();
    {
        let mut reader = wal.reader(start)?;
        while let Some((_, bytes)) = reader.next_record()? {
            counts.records += 1;
            for rec in Record::decode_all(bytes) {
                let Ok(Record::Series(series)) = rec else {
                    continue;
                };
                for s in series {
                    let r = head.replay_series(s.series_ref, &s.labels.to_labels())?;
                    if r.0 != s.series_ref {
                        aliases.insert(s.series_ref, r.0);
                    }
                }
            }
        }
    }
    let resolve = |r: u64| SeriesRef(aliases.get(&r).copied().unwrap_or(r));

    if let Some(max) = recovered.iter().map(|c| c.series_ref).max() {
        head.reserve_refs_through(max);
    }
    for c in recovered {
        let count = match files.chunk(c.chunk_ref) {
            Ok(bytes) => chunk_count(&bytes),
            Err(_) => continue,
        };
        let meta = HeadChunkMeta {
            mint: c.mint,
            maxt: c.maxt,
            chunk_ref: c.chunk_ref,
        };
        head.attach_recovered(resolve(c.series_ref), c.encoding, meta, count);
        counts.mapped_chunks += 1;
    }
    head.finish_recovery();
    for (r, chunk_ref) in head.recovered_exemplar_tails() {
        if let Ok(bytes) = files.chunk(chunk_ref) {
            head.set_recovered_newest_exemplar(r, &bytes);
        }
    }
    for (r, chunk_ref) in head.recovered_tails() {
        let Ok(bytes) = files.chunk(chunk_ref) else {
            continue;
        };
        if let Some(last) = cairn_chunkenc::XorIterator::new(&bytes).last() {
            head.set_recovered_last(r, last.0, last.1.to_bits());
        }
    }

    let mut reader = wal.reader(start)?;
    while let Some((pos, bytes)) = reader.next_record()? {
        for rec in Record::decode_all(bytes) {
            match rec {
                Ok(Record::Samples(samples)) => {
                    for s in samples {
                        note_segment(segment_max_t, pos.segment, s.t);
                        if head.replay_sample(resolve(s.series_ref), s.t, s.v, files)? {
                            counts.samples += 1;
                        }
                    }
                }
                Ok(Record::Exemplars(exemplars)) => {
                    for e in exemplars {
                        note_segment(segment_max_t, pos.segment, e.t);
                        let pending = PendingExemplar::new(
                            resolve(e.series_ref),
                            e.t,
                            e.v,
                            &e.labels.to_labels(),
                        );
                        if head.replay_exemplar(&pending, files)? {
                            counts.exemplars += 1;
                        }
                    }
                }
                // A record that does not decode was checksummed intact: it was written by
                // a newer cairn, or is a bug; its commit is skipped, the rest replays.
                _ => {}
            }
        }
    }
    Ok(())
}

fn note_segment(map: &mut BTreeMap<u32, TimestampMs>, segment: u32, t: TimestampMs) {
    let e = map.entry(segment).or_insert(TimestampMs::MIN);
    *e = (*e).max(t);
}

fn check_labels(labels: &Labels) -> Result<(), Error> {
    if labels.iter().all(|l| l.value.is_empty()) {
        return Err(Error::InvalidLabels {
            what: "a series needs at least one label with a value",
        });
    }
    if labels.iter().any(|l| l.name.is_empty()) {
        return Err(Error::InvalidLabels {
            what: "a label name is empty",
        });
    }
    Ok(())
}

fn lock_dir(dir: &Path) -> Result<File, Error> {
    let path = dir.join("LOCK");
    let file = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(Error::io("open lock file", &path))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(fs::TryLockError::WouldBlock) => Err(Error::Locked { path }),
        Err(fs::TryLockError::Error(e)) => Err(Error::io("lock", &path)(e)),
    }
}

/// Opens every block, deleting leftovers of interrupted writes: blocks that a complete
/// block names as its parents.
fn open_blocks(blocks_dir: &Path, report: &mut OpenReport) -> Vec<Block> {
    let (blocks, failed) = block::open_all(blocks_dir);
    report
        .failed_blocks
        .extend(failed.into_iter().map(|(p, e)| (p, e.to_string())));
    let parents: std::collections::HashSet<ulid::Ulid> = blocks
        .iter()
        .flat_map(|b| b.meta().compaction.parents.iter().copied())
        .collect();
    let (doomed, keep): (Vec<Block>, Vec<Block>) = blocks
        .into_iter()
        .partition(|b| parents.contains(&b.ulid()));
    for b in doomed {
        let dir = b.dir().to_path_buf();
        drop(b);
        if fs::remove_dir_all(&dir).is_ok() {
            report.removed_parent_blocks.push(dir);
        }
    }
    keep
}

const HEAD_META: &str = "head.meta";
const HEAD_META_MAGIC: &[u8; 4] = b"CHM1";

/// `head.meta`: magic `CHM1`, the head's lower bound (i64 little-endian), CRC32C of both.
fn read_head_meta(path: &Path) -> Result<TimestampMs, Error> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(TimestampMs::MIN),
        Err(e) => return Err(Error::io("read", path)(e)),
    };
    let bad = |what: String| Error::Meta {
        path: path.to_path_buf(),
        what,
    };
    let (body, crc) = bytes
        .split_at_checked(12)
        .ok_or_else(|| bad(format!("{} bytes, expected 16", bytes.len())))?;
    let crc: [u8; 4] = crc
        .try_into()
        .map_err(|_| bad(format!("{} bytes, expected 16", bytes.len())))?;
    if crc32c::crc32c(body) != u32::from_le_bytes(crc) {
        return Err(bad("checksum mismatch at byte 12".into()));
    }
    let (magic, t) = body.split_at(4);
    if magic != HEAD_META_MAGIC {
        return Err(bad("bad magic at byte 0".into()));
    }
    let t: [u8; 8] = t.try_into().map_err(|_| bad("short".into()))?;
    Ok(i64::from_le_bytes(t))
}

fn write_head_meta(path: &Path, min_valid: TimestampMs) -> Result<(), Error> {
    let mut bytes = HEAD_META_MAGIC.to_vec();
    bytes.extend_from_slice(&min_valid.to_le_bytes());
    let crc = crc32c::crc32c(&bytes);
    bytes.extend_from_slice(&crc.to_le_bytes());
    let tmp = path.with_extension("tmp");
    {
        use std::io::Write;
        let mut f = File::create(&tmp).map_err(Error::io("create", &tmp))?;
        f.write_all(&bytes).map_err(Error::io("write", &tmp))?;
        f.sync_all().map_err(Error::io("sync", &tmp))?;
    }
    fs::rename(&tmp, path).map_err(Error::io("rename", &tmp))?;
    if let Some(dir) = path.parent() {
        sync_dir(dir)?;
    }
    Ok(())
}

fn sync_dir(dir: &Path) -> Result<(), Error> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(Error::io("sync directory", dir))
}

fn dir_size(path: &Path) -> u64 {
    fs::metadata(path).map_or(0, |m| m.len())
}

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

impl Appender<'_> {
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
