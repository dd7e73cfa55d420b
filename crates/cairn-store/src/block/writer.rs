//! Writing a block: chunks as series come, then the index, the series file and `meta.json`,
//! then the atomic rename into place.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use cairn_index::IndexWriter;
use cairn_model::Labels;
use ulid::Ulid;

use super::error::{Error, ErrorKind};
use super::format::{
    CHUNKS_DIR, EXEMPLARS_DIR, INDEX_FILE, MAX_CHUNK_LEN, META_FILE, META_VERSION, SEGMENT_SIZE,
    SERIES_FILE, TMP_SUFFIX,
};
use super::meta::{BlockMeta, BlockStats, Compaction, FileMeta, segment_files};
use super::segment::{ChunkKind, SegmentWriter, sync_dir};
use super::series::{ChunkMeta, SeriesChunks, SeriesFileWriter, broken_time_rule};

/// A chunk to write: the time range it covers and its complete bytes.
///
/// `bytes` start with the chunk's 2-byte big-endian count (samples or exemplars), as
/// `cairn-chunkenc`'s appenders produce them; the block reads only that count.
#[derive(Clone, Copy, Debug)]
pub struct ChunkData<'a> {
    /// Timestamp of the first sample (or exemplar), in milliseconds.
    pub mint: i64,
    /// Timestamp of the last sample (or exemplar), inclusive.
    pub maxt: i64,
    /// The chunk.
    pub bytes: &'a [u8],
}

/// Writes one block into `<blocks_dir>/<ULID>.tmp/` and renames it into place when finished.
///
/// Series come in label order, each with its chunks; chunks go to disk as they come, the
/// index and series file at [`finish`](BlockWriter::finish). A writer dropped before it
/// finished removes its directory, as [`abort`](BlockWriter::abort) does.
///
/// ```
/// use cairn_chunkenc::XorAppender;
/// use cairn_model::Labels;
/// use cairn_store::block::{Block, BlockWriter, ChunkData};
///
/// let blocks = tempfile::tempdir()?;
/// let mut app = XorAppender::new();
/// app.append(1_000, 1.0);
/// app.append(2_000, 2.0);
/// let chunk = ChunkData { mint: 1_000, maxt: 2_000, bytes: app.bytes() };
///
/// let mut writer = BlockWriter::create(blocks.path(), 0, 7_200_000)?;
/// writer.add_series(&Labels::from_pairs([("__name__", "up")]), &[chunk], &[])?;
/// let meta = writer.finish()?;
/// assert_eq!(meta.stats.num_samples, 2);
///
/// let block = Block::open(&blocks.path().join(meta.ulid.to_string()))?;
/// let series = block.series_chunks(0)?;
/// assert_eq!(block.chunk(series.samples[0].chunk_ref)?, app.bytes());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct BlockWriter {
    blocks_dir: PathBuf,
    tmp_dir: PathBuf,
    ulid: Ulid,
    min_time: i64,
    max_time: i64,
    compaction: Compaction,
    index: IndexWriter,
    series: SeriesFileWriter,
    chunks: SegmentWriter,
    exemplars: SegmentWriter,
    stats: BlockStats,
    state: State,
}

#[derive(Debug)]
enum State {
    Open,
    /// A write failed: the files are incomplete, only dropping the writer is left.
    Failed(String),
    /// Renamed into place: nothing to clean up.
    Finished,
}

impl BlockWriter {
    /// Starts a block in `blocks_dir/<ULID>.tmp/` (creating `blocks_dir` if needed) with the
    /// time range `[min_time, max_time)`, a new ULID, and the compaction of a level-1 block.
    ///
    /// # Errors
    /// [`ErrorKind::EmptyTimeRange`] unless `min_time < max_time`; I/O errors creating the
    /// directories.
    pub fn create(blocks_dir: &Path, min_time: i64, max_time: i64) -> Result<BlockWriter, Error> {
        if min_time >= max_time {
            return Err(Error::file(
                blocks_dir,
                ErrorKind::EmptyTimeRange { min_time, max_time },
            ));
        }
        let ulid = Ulid::new();
        let tmp_dir = blocks_dir.join(format!("{ulid}{TMP_SUFFIX}"));
        fs::create_dir_all(blocks_dir).map_err(|e| Error::io(blocks_dir, "create", e))?;
        fs::create_dir(&tmp_dir).map_err(|e| Error::io(&tmp_dir, "create", e))?;
        let segment_writers = || {
            Ok::<_, Error>((
                SegmentWriter::create(&tmp_dir, ChunkKind::Sample, SEGMENT_SIZE)?,
                SegmentWriter::create(&tmp_dir, ChunkKind::Exemplar, SEGMENT_SIZE)?,
            ))
        };
        let (chunks, exemplars) = segment_writers().inspect_err(|_| remove_quietly(&tmp_dir))?;
        Ok(BlockWriter {
            blocks_dir: blocks_dir.to_path_buf(),
            series: SeriesFileWriter::new(tmp_dir.join(SERIES_FILE)),
            tmp_dir,
            ulid,
            min_time,
            max_time,
            compaction: Compaction::level_one(ulid),
            index: IndexWriter::new(),
            chunks,
            exemplars,
            stats: BlockStats::default(),
            state: State::Open,
        })
    }

    /// Sets the size at which chunk segments are cut, at most (and by default)
    /// [`SEGMENT_SIZE`]; larger values are clamped to it. Smaller segments are for tests
    /// and tools.
    #[must_use = "the writer is returned; dropping it aborts the block"]
    pub fn with_segment_size(mut self, bytes: u64) -> BlockWriter {
        let bytes = bytes.min(SEGMENT_SIZE);
        self.chunks.set_max_size(bytes);
        self.exemplars.set_max_size(bytes);
        self
    }

    /// The block's ULID.
    pub fn ulid(&self) -> Ulid {
        self.ulid
    }

    /// The directory being written, `<blocks_dir>/<ULID>.tmp`.
    pub fn tmp_dir(&self) -> &Path {
        &self.tmp_dir
    }

    /// Records how the block was made (by default: level 1, its own source, no parents).
    pub fn set_compaction(&mut self, level: u32, sources: Vec<Ulid>, parents: Vec<Ulid>) {
        self.compaction = Compaction {
            level,
            sources,
            parents,
        };
    }

    /// Adds the next series with its sample and exemplar chunks, each list in time order.
    ///
    /// Series come strictly increasing by labels. A series with neither sample nor exemplar
    /// chunks is skipped (and its order not checked). Every chunk lies within the block's
    /// time range (`min_time <= mint <= maxt < max_time`), has its 2-byte count and at
    /// most [`MAX_CHUNK_LEN`] bytes; sample chunks do not overlap (each `mint` after the
    /// previous `maxt`), exemplar chunks start no earlier than the previous one.
    ///
    /// # Errors
    /// [`ErrorKind::OutOfOrder`] or [`ErrorKind::InvalidChunk`], with nothing written; an
    /// I/O error, after which the writer is poisoned ([`ErrorKind::Poisoned`]) and can only
    /// be aborted.
    pub fn add_series(
        &mut self,
        labels: &Labels,
        samples: &[ChunkData<'_>],
        exemplars: &[ChunkData<'_>],
    ) -> Result<(), Error> {
        self.check_open()?;
        if samples.is_empty() && exemplars.is_empty() {
            return Ok(());
        }
        self.check_chunks(labels, ChunkKind::Sample, samples)?;
        self.check_chunks(labels, ChunkKind::Exemplar, exemplars)?;
        self.index.add(labels).map_err(|e| match e {
            cairn_index::Error::OutOfOrder { .. } => Error::file(
                &self.tmp_dir,
                ErrorKind::OutOfOrder {
                    series: labels.to_string(),
                },
            ),
            other => Error::file(&self.tmp_dir.join(INDEX_FILE), ErrorKind::Index(other)),
        })?;
        // The index holds the series now: a failure past this point leaves the files
        // inconsistent.
        let written = self.write_series(samples, exemplars);
        if let Err(e) = &written {
            self.state = State::Failed(e.to_string());
        }
        written
    }

    fn check_open(&self) -> Result<(), Error> {
        let cause = match &self.state {
            State::Open => return Ok(()),
            State::Failed(cause) => cause.clone(),
            State::Finished => "the block is already finished".to_owned(),
        };
        Err(Error::file(&self.tmp_dir, ErrorKind::Poisoned { cause }))
    }

    fn check_chunks(
        &self,
        labels: &Labels,
        kind: ChunkKind,
        chunks: &[ChunkData<'_>],
    ) -> Result<(), Error> {
        let mut prev = None;
        for (index, chunk) in chunks.iter().enumerate() {
            let reason = if chunk.bytes.len() < 2 {
                Some("it is shorter than its 2-byte count")
            } else if chunk.bytes.len() > MAX_CHUNK_LEN {
                Some("it is longer than the 16 MiB a block stores")
            } else {
                let range = (self.min_time, self.max_time);
                broken_time_rule(kind, (chunk.mint, chunk.maxt), prev, range)
            };
            if let Some(reason) = reason {
                return Err(Error::file(
                    &self.tmp_dir,
                    ErrorKind::InvalidChunk {
                        series: labels.to_string(),
                        chunk_kind: kind.name(),
                        index,
                        reason,
                    },
                ));
            }
            prev = Some((chunk.mint, chunk.maxt));
        }
        Ok(())
    }

    fn write_series(
        &mut self,
        samples: &[ChunkData<'_>],
        exemplars: &[ChunkData<'_>],
    ) -> Result<(), Error> {
        let series = SeriesChunks {
            samples: write_chunks(&mut self.chunks, ChunkKind::Sample, samples)?,
            exemplars: write_chunks(&mut self.exemplars, ChunkKind::Exemplar, exemplars)?,
        };
        self.series.add(&series)?;
        let stats = &mut self.stats;
        stats.num_series += 1;
        stats.num_chunks += samples.len() as u64;
        stats.num_samples += samples.iter().map(count).sum::<u64>();
        stats.num_exemplar_chunks += exemplars.len() as u64;
        stats.num_exemplars += exemplars.iter().map(count).sum::<u64>();
        Ok(())
    }

    /// Writes the index, the series file and `meta.json`, fsyncs every file and directory,
    /// renames `<ULID>.tmp` to `<ULID>` and fsyncs `blocks_dir`. Returns the metadata. A
    /// block without series is written too; whether to keep it is the caller's choice.
    ///
    /// # Errors
    /// [`ErrorKind::Poisoned`] after a failed [`add_series`](BlockWriter::add_series); I/O
    /// errors, after which the temporary directory is removed. A failure of the last fsync
    /// (of `blocks_dir`) leaves the renamed block in place, possibly not durable.
    pub fn finish(mut self) -> Result<BlockMeta, Error> {
        self.check_open()?;
        let meta = self.write_out()?;
        self.state = State::Finished;
        Ok(meta)
    }

    fn write_out(&mut self) -> Result<BlockMeta, Error> {
        let chunk_sizes = self.chunks.finish()?;
        let exemplar_sizes = self.exemplars.finish()?;
        let index_path = self.tmp_dir.join(INDEX_FILE);
        let index = std::mem::take(&mut self.index)
            .finish()
            .map_err(|e| Error::file(&index_path, ErrorKind::Index(e)))?;
        let series_path = self.tmp_dir.join(SERIES_FILE);
        let series =
            std::mem::replace(&mut self.series, SeriesFileWriter::new(&series_path)).finish();

        let mut files = vec![
            write_checked(&index_path, INDEX_FILE, &index)?,
            write_checked(&series_path, SERIES_FILE, &series)?,
        ];
        files.extend(segment_files(CHUNKS_DIR, &chunk_sizes));
        files.extend(segment_files(EXEMPLARS_DIR, &exemplar_sizes));
        let mut meta = BlockMeta {
            ulid: self.ulid,
            min_time: self.min_time,
            max_time: self.max_time,
            stats: self.stats,
            compaction: self.compaction.clone(),
            version: META_VERSION,
            files,
            crc32c: 0,
        };
        let meta_path = self.tmp_dir.join(META_FILE);
        meta.crc32c = meta.checksum().map_err(|e| {
            let message = e.to_string();
            Error::file(&meta_path, ErrorKind::Json { message })
        })?;
        let json = meta.to_json().map_err(|e| {
            let message = e.to_string();
            Error::file(&meta_path, ErrorKind::Json { message })
        })?;
        write_file(&meta_path, &json)?;
        sync_dir(&self.tmp_dir)?;

        let dir = self.blocks_dir.join(self.ulid.to_string());
        fs::rename(&self.tmp_dir, &dir).map_err(|e| Error::io(&self.tmp_dir, "rename", e))?;
        // Renamed: the temporary directory is gone, whatever happens next.
        self.state = State::Finished;
        sync_dir(&self.blocks_dir)?;
        Ok(meta)
    }

    /// Stops writing and removes the temporary directory.
    pub fn abort(self) {
        // Dropping an unfinished writer removes its directory.
        drop(self);
    }
}

impl Drop for BlockWriter {
    fn drop(&mut self) {
        if !matches!(self.state, State::Finished) {
            remove_quietly(&self.tmp_dir);
        }
    }
}

/// Best effort: a `.tmp` directory left behind is removed by the next
/// [`open_all`](super::open_all).
fn remove_quietly(dir: &Path) {
    let _ = fs::remove_dir_all(dir);
}

/// Writes `chunks` of `kind` and returns their metas.
fn write_chunks(
    segments: &mut SegmentWriter,
    kind: ChunkKind,
    chunks: &[ChunkData<'_>],
) -> Result<Vec<ChunkMeta>, Error> {
    chunks
        .iter()
        .map(|chunk| {
            Ok(ChunkMeta {
                mint: chunk.mint,
                maxt: chunk.maxt,
                chunk_ref: segments.write(kind.encoding(), chunk.bytes)?,
            })
        })
        .collect()
}

/// The sample or exemplar count a chunk starts with.
fn count(chunk: &ChunkData<'_>) -> u64 {
    chunk
        .bytes
        .first_chunk::<2>()
        .map_or(0, |n| u16::from_be_bytes(*n).into())
}

/// Writes a new file and fsyncs it.
fn write_file(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| Error::io(path, "create", e))?;
    file.write_all(bytes)
        .map_err(|e| Error::io(path, "write", e))?;
    file.sync_all().map_err(|e| Error::io(path, "sync", e))
}

/// Writes a file and returns its `meta.json` entry, with its CRC32C.
fn write_checked(path: &Path, name: &str, bytes: &[u8]) -> Result<FileMeta, Error> {
    write_file(path, bytes)?;
    Ok(FileMeta {
        name: name.to_owned(),
        size: bytes.len() as u64,
        crc32c: Some(crc32c::crc32c(bytes)),
    })
}
