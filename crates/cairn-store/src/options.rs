//! How a database is set up: the log's sync policy, block range, retention, exemplar caps.

use std::time::Duration;

pub use cairn_wal::SyncPolicy;

/// Two hours, Prometheus' block range: the head is cut into blocks of this width.
pub const DEFAULT_BLOCK_RANGE_MS: i64 = 2 * 60 * 60 * 1000;

/// Fifteen days, Prometheus' default retention.
pub const DEFAULT_RETENTION_MS: i64 = 15 * 24 * 60 * 60 * 1000;

/// How a database is opened. `Options::default()` is what `cairn` uses unless told
/// otherwise: every commit synced, 2 h blocks, 15 days of retention, exemplar caps below.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Options {
    /// When the log is synced: every commit (the default), or at most every interval.
    pub sync: SyncPolicy,
    /// The log's segment size (default 128 MiB).
    pub wal_segment_bytes: u64,
    /// The width of a block in milliseconds (default 2 h). Windows are aligned to multiples
    /// of it from the Unix epoch.
    pub block_range_ms: i64,
    /// Blocks wholly older than this, measured from the newest data, are deleted (default
    /// 15 days). `None` keeps everything.
    pub retention_ms: Option<i64>,
    /// When blocks, head chunks and log together pass this many bytes, the oldest blocks
    /// are deleted until they fit (default: no limit).
    pub retention_bytes: Option<u64>,
    /// Head chunk file size (default 128 MiB).
    pub head_chunk_file_bytes: u64,
    /// Exemplar ingest rules and caps.
    pub exemplars: ExemplarOptions,
    /// Import buffers at most this many samples in memory before writing blocks (default
    /// 16 Mi, about 256 MiB); see [`crate::Importer`].
    pub import_buffer_samples: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            sync: SyncPolicy::EveryCommit,
            wal_segment_bytes: 128 << 20,
            block_range_ms: DEFAULT_BLOCK_RANGE_MS,
            retention_ms: Some(DEFAULT_RETENTION_MS),
            retention_bytes: None,
            head_chunk_file_bytes: 128 << 20,
            exemplars: ExemplarOptions::default(),
            import_buffer_samples: 16 << 20,
        }
    }
}

impl Options {
    /// Syncs the log at most every `every` instead of at every commit: a crash may lose the
    /// commits of the last interval, never part of one.
    pub fn sync_every(mut self, every: Duration) -> Options {
        self.sync = SyncPolicy::Interval(every);
        self
    }

    /// Sets the block range.
    pub fn block_range_ms(mut self, ms: i64) -> Options {
        self.block_range_ms = ms.max(1);
        self
    }

    /// Sets the time retention (`None`: keep everything).
    pub fn retention_ms(mut self, ms: Option<i64>) -> Options {
        self.retention_ms = ms;
        self
    }

    /// Sets the size retention.
    pub fn retention_bytes(mut self, bytes: Option<u64>) -> Options {
        self.retention_bytes = bytes;
        self
    }

    /// Sets the exemplar rules and caps.
    pub fn exemplars(mut self, exemplars: ExemplarOptions) -> Options {
        self.exemplars = exemplars;
        self
    }

    /// Sets the log's segment size.
    pub fn wal_segment_bytes(mut self, bytes: u64) -> Options {
        self.wal_segment_bytes = bytes;
        self
    }

    /// Sets the import buffer.
    pub fn import_buffer_samples(mut self, samples: usize) -> Options {
        self.import_buffer_samples = samples.max(1);
        self
    }
}

/// Exemplar ingest rules and caps.
///
/// The rules are Prometheus': at most 128 code points of label names and values; the
/// series' newest exemplar again is a silent no-op; an exemplar older than the series'
/// newest is rejected as out of order (which also stops a target's re-exposed old exemplars
/// from being stored again), unless within `out_of_order_window_ms` of the newest.
///
/// The caps bound the head (what has not yet gone into a block): when a series holds more
/// than `max_per_series` exemplars its oldest exemplar chunk is dropped; when the head holds
/// more than `max_total`, the series holding the most lose their oldest chunks until the
/// head is at 90% of the cap. Dropped exemplars are counted (`exemplars_evicted`). Blocks
/// keep what the head held when they were cut, for the whole retention. Evictions are not
/// logged: after a restart the caps are applied again to what the head holds then (each
/// series keeps its newest exemplars), so the head-wide cap may keep other chunks than before.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExemplarOptions {
    /// How far before a series' newest exemplar another is still accepted (default 0, as in
    /// Prometheus). A late exemplar is inserted into the series' open exemplar chunk, so the
    /// window reaches back at most to that chunk's start.
    pub out_of_order_window_ms: i64,
    /// Exemplars a series keeps in the head (default 10 000; 0 for no cap).
    pub max_per_series: usize,
    /// Exemplars the head keeps in all (default 1 000 000, about 30 MB; 0 for no cap).
    pub max_total: usize,
}

impl Default for ExemplarOptions {
    fn default() -> ExemplarOptions {
        ExemplarOptions {
            out_of_order_window_ms: 0,
            max_per_series: 10_000,
            max_total: 1_000_000,
        }
    }
}

impl ExemplarOptions {
    /// Sets the out-of-order window.
    pub fn out_of_order_window_ms(mut self, ms: i64) -> ExemplarOptions {
        self.out_of_order_window_ms = ms.max(0);
        self
    }

    /// Sets the per-series cap (0: none).
    pub fn max_per_series(mut self, n: usize) -> ExemplarOptions {
        self.max_per_series = n;
        self
    }

    /// Sets the head-wide cap (0: none).
    pub fn max_total(mut self, n: usize) -> ExemplarOptions {
        self.max_total = n;
        self
    }
}
