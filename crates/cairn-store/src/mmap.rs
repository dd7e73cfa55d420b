//! Read-only memory maps of the store's files: the one place in the crate with `unsafe`.
//!
//! Every map is read-only (`PROT_READ`): nothing in cairn writes through a map, and the
//! chunk decoders only ever read the bytes they are given. Files are mapped only once
//! their mapped range is complete on disk: a block's files after the block was renamed into
//! place (never written again), and a head chunk file up to the length already written and
//! flushed (the writer only appends past it; truncation happens only at open, before any
//! map exists, or to whole files no map refers to any more).

use std::fs::File;
use std::io;
use std::ops::Deref;
use std::sync::Arc;

/// A read-only map of a whole file (or of its first `len` bytes), shared and cheap to clone.
///
/// An empty file has an empty map (the OS refuses to map zero bytes).
#[derive(Clone, Debug)]
pub struct Map {
    inner: Option<Arc<memmap2::Mmap>>,
}

impl Map {
    /// Maps the first `len` bytes of `file` read-only.
    ///
    /// # Errors
    /// When the OS refuses the map.
    pub fn new(file: &File, len: u64) -> io::Result<Map> {
        if len == 0 {
            return Ok(Map { inner: None });
        }
        let len = usize::try_from(len)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "file too large to map"))?;
        // SAFETY: the map is read-only, and cairn never truncates or rewrites the bytes of a
        // mapped range while a map of it exists: block files are immutable once renamed into
        // place and are deleted (not truncated) when dropped, and head chunk files are only
        // appended past the mapped length (see the module docs). Another process changing
        // the file under us would break this, which is why a database directory has one
        // writer (its LOCK file) and readers must not share it with foreign writers.
        let map = unsafe { memmap2::MmapOptions::new().len(len).map(file)? };
        Ok(Map {
            inner: Some(Arc::new(map)),
        })
    }

    /// Maps all of `file` read-only.
    ///
    /// # Errors
    /// When the file's metadata cannot be read or the OS refuses the map.
    pub fn whole(file: &File) -> io::Result<Map> {
        let len = file.metadata()?.len();
        Map::new(file, len)
    }
}

impl Deref for Map {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match &self.inner {
            Some(map) => map,
            None => &[],
        }
    }
}

impl AsRef<[u8]> for Map {
    fn as_ref(&self) -> &[u8] {
        self
    }
}
