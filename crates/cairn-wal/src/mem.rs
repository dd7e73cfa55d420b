//! An in-memory [`Storage`] that keeps what was written apart from what was made durable, so
//! tests can crash it, tear writes and fail syncs on purpose.
//!
//! The idea is redb's `tests/crash_consistency.rs`: every file has a *live* image (what reads
//! see) and a *durable* image (what survives a crash); every directory has live and durable
//! entries. [`StorageFile::sync_data`] copies a file's live bytes to its durable image and
//! [`Storage::sync_dir`] a directory's live entries to its durable ones, as POSIX promises and
//! no more. [`MemStorage::crash`] throws the live images away.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::storage::{Storage, StorageFile};

/// In-memory storage with a live and a durable image, for crash tests.
///
/// Cloning gives another handle to the same files. Directories themselves are always durable;
/// only file contents and file names are modelled.
#[derive(Clone, Debug, Default)]
pub struct MemStorage {
    state: Arc<Mutex<State>>,
}

#[derive(Debug, Default)]
struct State {
    /// Bumped by every crash, so handles opened before it fail instead of writing to files
    /// that no longer exist.
    generation: u64,
    dirs: BTreeSet<PathBuf>,
    live: BTreeMap<PathBuf, u64>,
    durable: BTreeMap<PathBuf, u64>,
    inodes: BTreeMap<u64, Inode>,
    next_inode: u64,
    sync_calls: u64,
    data_syncs: u64,
    dir_syncs: u64,
    fail_at: Option<u64>,
}

#[derive(Clone, Debug, Default)]
struct Inode {
    live: Vec<u8>,
    durable: Vec<u8>,
}

impl State {
    fn new_inode(&mut self, bytes: Vec<u8>, durable: Vec<u8>) -> u64 {
        let ino = self.next_inode;
        self.next_inode += 1;
        self.inodes.insert(
            ino,
            Inode {
                live: bytes,
                durable,
            },
        );
        ino
    }

    /// Counts a sync call and says whether it is the one told to fail.
    fn sync_fails(&mut self) -> bool {
        self.sync_calls += 1;
        if self.fail_at == Some(self.sync_calls) {
            self.fail_at = None;
            return true;
        }
        false
    }

    fn crash(&mut self, mut tear: impl FnMut(usize) -> usize) {
        let mut inodes = BTreeMap::new();
        let mut files = BTreeMap::new();
        let mut next = 0;
        for (path, ino) in &self.durable {
            let Some(old) = self.inodes.get(ino) else {
                continue;
            };
            let mut bytes = old.durable.clone();
            if let Some(extra) = old.live.strip_prefix(old.durable.as_slice()) {
                let keep = tear(extra.len()).min(extra.len());
                bytes.extend_from_slice(extra.get(..keep).unwrap_or_default());
            }
            inodes.insert(
                next,
                Inode {
                    live: bytes.clone(),
                    durable: bytes,
                },
            );
            files.insert(path.clone(), next);
            next += 1;
        }
        self.inodes = inodes;
        self.live = files.clone();
        self.durable = files;
        self.next_inode = next;
        self.generation += 1;
    }
}

impl MemStorage {
    /// Empty storage.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Loses power: every file and file name goes back to its durable image; bytes and names
    /// not synced are gone. Files opened before the crash fail on every later operation.
    pub fn crash(&self) {
        self.lock().crash(|_| 0);
    }

    /// Loses power in the middle of writes: like [`crash`](Self::crash), but a file whose
    /// live bytes extend its durable bytes keeps a prefix of the unsynced extension, of a
    /// length drawn from `seed` (0 to all of it), as a disk that wrote some sectors would.
    pub fn crash_torn(&self, seed: u64) {
        let mut rng = seed;
        self.lock().crash(|n| {
            let r = splitmix64(&mut rng);
            (r % (n as u64 + 1)) as usize
        });
    }

    /// Makes the `n`-th sync call from now fail with an I/O error (1 is the next one), counting
    /// both [`StorageFile::sync_data`] and [`Storage::sync_dir`]. The failed call makes nothing
    /// durable. Only that one call fails.
    pub fn fail_sync(&self, n: u64) {
        let mut s = self.lock();
        s.fail_at = Some(s.sync_calls + n.max(1));
    }

    /// Cancels a failure set by [`fail_sync`](Self::fail_sync) that has not happened yet.
    pub fn clear_sync_failure(&self) {
        self.lock().fail_at = None;
    }

    /// Successful [`StorageFile::sync_data`] and [`Storage::sync_dir`] calls so far.
    pub fn sync_count(&self) -> u64 {
        let s = self.lock();
        s.data_syncs + s.dir_syncs
    }

    /// Successful [`StorageFile::sync_data`] calls so far.
    pub fn data_sync_count(&self) -> u64 {
        self.lock().data_syncs
    }

    /// Successful [`Storage::sync_dir`] calls so far.
    pub fn dir_sync_count(&self) -> u64 {
        self.lock().dir_syncs
    }

    /// What a read of `path` sees now, if the file exists.
    pub fn live_bytes(&self, path: &Path) -> Option<Vec<u8>> {
        let s = self.lock();
        let ino = s.live.get(path)?;
        s.inodes.get(ino).map(|i| i.live.clone())
    }

    /// What `path` would hold after a crash now, if its name would survive.
    pub fn durable_bytes(&self, path: &Path) -> Option<Vec<u8>> {
        let s = self.lock();
        let ino = s.durable.get(path)?;
        s.inodes.get(ino).map(|i| i.durable.clone())
    }

    /// Replaces (or creates) `path` with `bytes` in both images, as a damaged disk would hold
    /// it. Creates the parent directory.
    pub fn put_file(&self, path: &Path, bytes: &[u8]) {
        let mut s = self.lock();
        if let Some(parent) = path.parent() {
            s.dirs.insert(parent.to_path_buf());
        }
        let ino = s.new_inode(bytes.to_vec(), bytes.to_vec());
        s.live.insert(path.to_path_buf(), ino);
        s.durable.insert(path.to_path_buf(), ino);
    }
}

/// A small, well-mixed generator (Steele, Lea and Flood's SplitMix64).
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn not_found(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::NotFound,
        format!("{}: no such file", path.display()),
    )
}

impl Storage for MemStorage {
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        let mut s = self.lock();
        for d in dir.ancestors() {
            s.dirs.insert(d.to_path_buf());
        }
        Ok(())
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let s = self.lock();
        if !s.dirs.contains(dir) {
            return Err(not_found(dir));
        }
        Ok(s.live
            .keys()
            .filter(|p| p.parent() == Some(dir))
            .filter_map(|p| p.file_name()?.to_str().map(str::to_owned))
            .collect())
    }

    fn create_new(&self, path: &Path) -> io::Result<Box<dyn StorageFile>> {
        let mut s = self.lock();
        if !path.parent().is_some_and(|d| s.dirs.contains(d)) {
            return Err(not_found(path));
        }
        if s.live.contains_key(path) {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{}: file exists", path.display()),
            ));
        }
        let ino = s.new_inode(Vec::new(), Vec::new());
        s.live.insert(path.to_path_buf(), ino);
        Ok(Box::new(MemFile {
            state: Arc::clone(&self.state),
            ino,
            generation: s.generation,
        }))
    }

    fn open(&self, path: &Path) -> io::Result<Box<dyn StorageFile>> {
        let s = self.lock();
        let ino = *s.live.get(path).ok_or_else(|| not_found(path))?;
        Ok(Box::new(MemFile {
            state: Arc::clone(&self.state),
            ino,
            generation: s.generation,
        }))
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        let mut s = self.lock();
        s.live.remove(path).ok_or_else(|| not_found(path))?;
        Ok(())
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        let mut s = self.lock();
        if s.sync_fails() {
            return Err(io::Error::other("injected failure of a directory sync"));
        }
        s.dir_syncs += 1;
        let in_dir = |p: &PathBuf| p.parent() == Some(dir);
        s.durable.retain(|p, _| !in_dir(p));
        let entries: Vec<(PathBuf, u64)> = s
            .live
            .iter()
            .filter(|(p, _)| in_dir(p))
            .map(|(p, i)| (p.clone(), *i))
            .collect();
        s.durable.extend(entries);
        Ok(())
    }
}

#[derive(Debug)]
struct MemFile {
    state: Arc<Mutex<State>>,
    ino: u64,
    generation: u64,
}

impl MemFile {
    fn with<T>(&self, f: impl FnOnce(&mut State, u64) -> io::Result<T>) -> io::Result<T> {
        let mut s = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if s.generation != self.generation || !s.inodes.contains_key(&self.ino) {
            return Err(io::Error::other("file handle from before a crash"));
        }
        f(&mut s, self.ino)
    }
}

fn inode(s: &mut State, ino: u64) -> io::Result<&mut Inode> {
    s.inodes
        .get_mut(&ino)
        .ok_or_else(|| io::Error::other("file handle from before a crash"))
}

impl StorageFile for MemFile {
    fn size(&mut self) -> io::Result<u64> {
        self.with(|s, ino| Ok(inode(s, ino)?.live.len() as u64))
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        self.with(|s, ino| {
            let live = &inode(s, ino)?.live;
            let from = usize::try_from(offset)
                .unwrap_or(usize::MAX)
                .min(live.len());
            let src = live.get(from..).unwrap_or_default();
            let n = src.len().min(buf.len());
            if let (Some(dst), Some(src)) = (buf.get_mut(..n), src.get(..n)) {
                dst.copy_from_slice(src);
            }
            Ok(n)
        })
    }

    fn append(&mut self, data: &[u8]) -> io::Result<()> {
        self.with(|s, ino| {
            inode(s, ino)?.live.extend_from_slice(data);
            Ok(())
        })
    }

    fn set_len(&mut self, len: u64) -> io::Result<()> {
        self.with(|s, ino| {
            let len = usize::try_from(len).map_err(io::Error::other)?;
            inode(s, ino)?.live.resize(len, 0);
            Ok(())
        })
    }

    fn sync_data(&mut self) -> io::Result<()> {
        self.with(|s, ino| {
            if s.sync_fails() {
                return Err(io::Error::other("injected failure of a file sync"));
            }
            s.data_syncs += 1;
            let node = inode(s, ino)?;
            node.durable = node.live.clone();
            Ok(())
        })
    }
}
