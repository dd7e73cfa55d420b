//! Reading a block: open checks every file once, then lookups read the maps in place.

use std::fs::File;
use std::path::{Path, PathBuf};

use cairn_chunkenc::{ExemplarIterator, XorIterator};
use cairn_index::IndexReader;
use ulid::Ulid;

use super::error::{Error, ErrorKind};
use super::format::{INDEX_FILE, META_FILE, SERIES_FILE};
use super::meta::{BlockMeta, BlockStats, Checked};
use super::segment::{ChunkKind, Segments};
use super::series::{ChunkMeta, SeriesChunks, SeriesFile, broken_time_rule};
use crate::mmap::Map;

/// An open block: its metadata, index and series file, and its chunk segments, all mapped
/// read-only.
///
/// [`Block::open`] checks every file once; chunk checksums are checked as chunks are read,
/// and [`Block::verify`] reads them all.
#[derive(Debug)]
pub struct Block {
    dir: PathBuf,
    meta: BlockMeta,
    meta_len: u64,
    index: IndexReader<Map>,
    series: SeriesFile<Map>,
    chunks: Segments,
    exemplars: Segments,
}

/// A block's bytes on disk, by kind of file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlockSize {
    /// `meta.json`.
    pub meta: u64,
    /// `index`.
    pub index: u64,
    /// `series`.
    pub series: u64,
    /// The sample chunk segments.
    pub chunks: u64,
    /// The exemplar chunk segments.
    pub exemplars: u64,
}

impl BlockSize {
    /// All of it.
    pub fn total(&self) -> u64 {
        self.meta + self.index + self.series + self.chunks + self.exemplars
    }
}

impl Block {
    /// Opens the block in `dir`: parses and checks `meta.json`; checks the size and CRC32C
    /// of `index` and `series` against it, and their own checksums and structure; maps the
    /// chunk segments and checks their sizes and headers.
    ///
    /// # Errors
    /// The first problem found, naming its file and, where the file has one, the byte offset.
    pub fn open(dir: &Path) -> Result<Block, Error> {
        let meta_path = dir.join(META_FILE);
        let (meta, manifest, meta_len) = BlockMeta::read(&meta_path)?;
        let index = open_index(&dir.join(INDEX_FILE), manifest.index)?;
        let series = open_series(&dir.join(SERIES_FILE), manifest.series)?;
        if series.series_count() != index.series_count() {
            return Err(Error::file(
                series.path(),
                ErrorKind::Malformed("holds another number of series than the index"),
            ));
        }
        let num_series = u64::from(index.series_count());
        if meta.stats.num_series != num_series {
            return Err(Error::file(
                &meta_path,
                ErrorKind::Stats {
                    field: "numSeries",
                    recorded: meta.stats.num_series,
                    actual: num_series,
                },
            ));
        }
        Ok(Block {
            chunks: Segments::open(dir, ChunkKind::Sample, &manifest.chunks)?,
            exemplars: Segments::open(dir, ChunkKind::Exemplar, &manifest.exemplars)?,
            dir: dir.to_path_buf(),
            meta,
            meta_len,
            index,
            series,
        })
    }

    /// The block's metadata.
    pub fn meta(&self) -> &BlockMeta {
        &self.meta
    }

    /// The block's directory, as given to [`Block::open`].
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The block's ULID.
    pub fn ulid(&self) -> Ulid {
        self.meta.ulid
    }

    /// The block's label index; series ids are dense `0..n` in label order.
    pub fn index(&self) -> &IndexReader<Map> {
        &self.index
    }

    /// The chunk metas of series `id`.
    ///
    /// # Errors
    /// [`ErrorKind::NoSuchSeries`] for an id past the block's series.
    pub fn series_chunks(&self, id: u32) -> Result<SeriesChunks, Error> {
        self.series.get(id)
    }

    /// The bytes of the sample chunk at `chunk_ref` (starting with its 2-byte sample count),
    /// after checking its CRC32C and XOR encoding.
    ///
    /// # Errors
    /// A reference outside the segments, a damaged length, checksum or encoding, with the
    /// segment file and the chunk's offset.
    pub fn chunk(&self, chunk_ref: u64) -> Result<&[u8], Error> {
        self.chunks.chunk(chunk_ref)
    }

    /// As [`Block::chunk`], for an exemplar chunk.
    ///
    /// # Errors
    /// As [`Block::chunk`].
    pub fn exemplar_chunk(&self, chunk_ref: u64) -> Result<&[u8], Error> {
        self.exemplars.chunk(chunk_ref)
    }

    /// Reads every chunk of every series: checks each chunk's checksum and encoding, decodes
    /// it and checks its timestamps against its chunk meta, checks the metas against the
    /// block's rules, and the totals against `meta.json`'s stats.
    ///
    /// # Errors
    /// The first problem found.
    pub fn verify(&self) -> Result<(), Error> {
        let mut stats = BlockStats {
            num_series: u64::from(self.series.series_count()),
            ..BlockStats::default()
        };
        for id in 0..self.series.series_count() {
            let series = self.series_chunks(id)?;
            self.check_metas(id, ChunkKind::Sample, &series.samples)?;
            self.check_metas(id, ChunkKind::Exemplar, &series.exemplars)?;
            for meta in &series.samples {
                stats.num_samples += self.verify_sample_chunk(meta)?;
            }
            for meta in &series.exemplars {
                stats.num_exemplars += self.verify_exemplar_chunk(meta)?;
            }
            stats.num_chunks += series.samples.len() as u64;
            stats.num_exemplar_chunks += series.exemplars.len() as u64;
        }
        self.check_stats(&stats)
    }

    /// The block's bytes on disk, by kind of file.
    pub fn size(&self) -> BlockSize {
        BlockSize {
            meta: self.meta_len,
            index: self.index.as_bytes().len() as u64,
            series: self.series.as_bytes().len() as u64,
            chunks: self.chunks.total_len(),
            exemplars: self.exemplars.total_len(),
        }
    }

    fn check_metas(&self, id: u32, kind: ChunkKind, metas: &[ChunkMeta]) -> Result<(), Error> {
        let range = (self.meta.min_time, self.meta.max_time);
        let mut prev = None;
        for (index, meta) in metas.iter().enumerate() {
            if let Some(reason) = broken_time_rule(kind, (meta.mint, meta.maxt), prev, range) {
                let (entry, _) = self.series.entry_range(id)?;
                let kind = ErrorKind::BadChunkMeta {
                    id,
                    chunk_kind: kind.name(),
                    index,
                    reason,
                };
                return Err(Error::at(self.series.path(), entry as u64, kind));
            }
            prev = Some((meta.mint, meta.maxt));
        }
        Ok(())
    }

    /// Decodes a sample chunk; returns its sample count.
    fn verify_sample_chunk(&self, meta: &ChunkMeta) -> Result<u64, Error> {
        let (data, at) = self.chunks.chunk_at(meta.chunk_ref)?;
        let path = self.chunks.path_of(meta.chunk_ref);
        let mut samples = XorIterator::new(data);
        let mut n = 0;
        while let Some((t, _)) = samples.try_next().map_err(|e| {
            let offset = at + e.offset() as u64;
            Error::at(&path, offset, ErrorKind::SampleChunk(e))
        })? {
            check_time(t, meta).map_err(|kind| Error::at(&path, at, kind))?;
            n += 1;
        }
        Ok(n)
    }

    /// Decodes an exemplar chunk; returns its exemplar count.
    fn verify_exemplar_chunk(&self, meta: &ChunkMeta) -> Result<u64, Error> {
        let (data, at) = self.exemplars.chunk_at(meta.chunk_ref)?;
        let path = self.exemplars.path_of(meta.chunk_ref);
        let mut exemplars = ExemplarIterator::new(data);
        let mut n = 0;
        while let Some(e) = exemplars.try_next().map_err(|e| {
            let offset = at + e.offset() as u64;
            Error::at(&path, offset, ErrorKind::ExemplarChunk(e))
        })? {
            check_time(e.t, meta).map_err(|kind| Error::at(&path, at, kind))?;
            n += 1;
        }
        Ok(n)
    }

    fn check_stats(&self, actual: &BlockStats) -> Result<(), Error> {
        let recorded = &self.meta.stats;
        let fields = [
            ("numSeries", recorded.num_series, actual.num_series),
            ("numSamples", recorded.num_samples, actual.num_samples),
            ("numChunks", recorded.num_chunks, actual.num_chunks),
            ("numExemplars", recorded.num_exemplars, actual.num_exemplars),
            (
                "numExemplarChunks",
                recorded.num_exemplar_chunks,
                actual.num_exemplar_chunks,
            ),
        ];
        match fields.into_iter().find(|(_, r, a)| r != a) {
            None => Ok(()),
            Some((field, recorded, actual)) => Err(Error::file(
                &self.dir.join(META_FILE),
                ErrorKind::Stats {
                    field,
                    recorded,
                    actual,
                },
            )),
        }
    }
}

fn check_time(t: i64, meta: &ChunkMeta) -> Result<(), ErrorKind> {
    if (meta.mint..=meta.maxt).contains(&t) {
        Ok(())
    } else {
        Err(ErrorKind::TimeOutOfRange {
            t,
            mint: meta.mint,
            maxt: meta.maxt,
        })
    }
}

/// Maps the file at `path` after checking its size against the one `meta.json` records.
pub(super) fn map_file(path: &Path, recorded: u64) -> Result<Map, Error> {
    let file = File::open(path).map_err(|e| Error::io(path, "open", e))?;
    let map = Map::whole(&file).map_err(|e| Error::io(path, "map", e))?;
    let actual = map.len() as u64;
    if actual != recorded {
        return Err(Error::file(
            path,
            ErrorKind::SizeMismatch { recorded, actual },
        ));
    }
    Ok(map)
}

/// Checks a whole file's CRC32C against `meta.json`, after its own checks passed (those say
/// where the damage is; a mismatch here means `meta.json` itself is damaged).
fn check_recorded_crc(path: &Path, bytes: &[u8], recorded: Checked) -> Result<(), Error> {
    let computed = crc32c::crc32c(bytes);
    if computed == recorded.crc32c {
        Ok(())
    } else {
        Err(Error::file(
            path,
            ErrorKind::MetaChecksum {
                recorded: recorded.crc32c,
                computed,
            },
        ))
    }
}

fn open_index(path: &Path, recorded: Checked) -> Result<IndexReader<Map>, Error> {
    let map = map_file(path, recorded.size)?;
    let index = IndexReader::from_bytes(map).map_err(|e| {
        let offset = match &e {
            cairn_index::Error::Corrupt(c) => Some(c.offset),
            _ => None,
        };
        Error::new(path, offset, ErrorKind::Index(e))
    })?;
    check_recorded_crc(path, index.as_bytes(), recorded)?;
    Ok(index)
}

fn open_series(path: &Path, recorded: Checked) -> Result<SeriesFile<Map>, Error> {
    let map = map_file(path, recorded.size)?;
    let series = SeriesFile::from_bytes(path, map)?;
    check_recorded_crc(path, series.as_bytes(), recorded)?;
    Ok(series)
}
