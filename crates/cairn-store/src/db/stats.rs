//! What a database holds and what it costs on disk.

use super::*;

impl Db {
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

pub(super) fn dir_size(path: &Path) -> u64 {
    fs::metadata(path).map_or(0, |m| m.len())
}
