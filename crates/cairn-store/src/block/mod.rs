//! Immutable blocks: the series of a time range with their sample and exemplar chunks.
//!
//! ```text
//! blocks/<ULID>/
//!   meta.json        time range, stats, compaction, and the size and CRC32C of the files
//!   index            label index (cairn-index); series id = position in label order
//!   series           per series id: its sample and exemplar chunk metas
//!   chunks/000001…   sample chunk segments, Prometheus' chunks file layout
//!   exemplars/000001… exemplar chunk segments, the same layout
//! ```
//!
//! The layout is drawn byte by byte in `FORMAT.md` beside this file, and [`format`](mod@format) holds
//! it as constants.
//!
//! - [`BlockWriter`] writes a block into `<ULID>.tmp/`, series by series in label order, and
//!   renames it into place once every file and directory is fsynced, so a block directory
//!   without the suffix is always complete.
//! - [`Block::open`] checks `meta.json`, the index and series files (their own checksums,
//!   then their size and CRC32C against `meta.json`) and the segment headers, then serves
//!   lookups from read-only maps. A chunk's CRC32C is checked each time it is read;
//!   [`Block::verify`] reads them all.
//! - [`open_all`] opens a directory of blocks, removing what a crash left half-written.
//!
//! Every [`Error`] names its file and, where the damage has one, the byte offset. Nothing
//! read from disk can make this module panic.
//!
//! Limits: at most `u32::MAX` series per block (the index's ids) and 4 GiB of series
//! entries; chunks of at most [`format::MAX_CHUNK_LEN`] (16 MiB) bytes, written and read;
//! segments cut at [`format::SEGMENT_SIZE`] (512 MiB), at most 2^32 of each kind; a
//! `meta.json` of at most [`format::MAX_META_LEN`] (16 MiB).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use ulid::Ulid;

mod error;
pub mod format;
mod meta;
mod reader;
mod segment;
mod series;
mod varint;
mod writer;

pub use error::{Error, ErrorKind};
pub use meta::{BlockMeta, BlockStats, Compaction, FileMeta};
pub use reader::{Block, BlockSize};
pub use series::{ChunkMeta, SeriesChunks, SeriesFile, SeriesFileWriter};
pub use writer::{BlockWriter, ChunkData};

use format::TMP_SUFFIX;

/// Opens every block in `blocks_dir`, sorted by `(min_time, ulid)`.
///
/// `<ULID>.tmp` directories, blocks whose writing a crash interrupted, are removed first;
/// other entries that are not ULID-named directories are left alone. A block that fails to
/// open is returned in the second list with its error, for the caller to report: one bad
/// block does not hide the others. A missing `blocks_dir` holds no blocks.
///
/// Call it when no [`BlockWriter`] is writing into `blocks_dir`: it would remove that
/// writer's directory.
pub fn open_all(blocks_dir: &Path) -> (Vec<Block>, Vec<(PathBuf, Error)>) {
    let mut blocks = Vec::new();
    let mut failed = Vec::new();
    let entries = match fs::read_dir(blocks_dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return (blocks, failed),
        Err(e) => {
            let error = Error::io(blocks_dir, "list", e);
            return (blocks, vec![(blocks_dir.to_path_buf(), error)]);
        }
    };
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                failed.push((blocks_dir.to_path_buf(), Error::io(blocks_dir, "list", e)));
                continue;
            }
        };
        if !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        let path = entry.path();
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        if let Some(ulid) = name.strip_suffix(TMP_SUFFIX) {
            if Ulid::from_string(ulid).is_ok()
                && let Err(e) = fs::remove_dir_all(&path)
            {
                failed.push((path.clone(), Error::io(&path, "remove", e)));
            }
            continue;
        }
        if Ulid::from_string(&name).is_err() {
            continue;
        }
        match Block::open(&path) {
            Ok(block) => blocks.push(block),
            Err(e) => failed.push((path, e)),
        }
    }
    blocks.sort_by_key(|b| (b.meta().min_time, b.ulid()));
    failed.sort_by(|a, b| a.0.cmp(&b.0));
    (blocks, failed)
}
