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

mod appender;
mod files;
mod query;
mod replay;
mod stats;
mod window;

pub use appender::Appender;
use files::{HEAD_META, lock_dir, open_blocks, read_head_meta, sync_dir, write_head_meta};
pub use query::{SeriesData, SeriesSet};
use replay::{note_segment, replay};
pub use stats::{DiskBytes, Stats};
pub(crate) use window::{ExemplarInput, NewSeries, SampleInput};

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
        Appender::new(self)
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
