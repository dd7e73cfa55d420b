//! The database directory's small files: the lock, `head.meta`, and block clean-up at open.

use super::*;

pub(super) fn lock_dir(dir: &Path) -> Result<File, Error> {
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
pub(super) fn open_blocks(blocks_dir: &Path, report: &mut OpenReport) -> Vec<Block> {
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

pub(super) const HEAD_META: &str = "head.meta";
pub(super) const HEAD_META_MAGIC: &[u8; 4] = b"CHM1";

/// `head.meta`: magic `CHM1`, the head's lower bound (i64 little-endian), CRC32C of both.
pub(super) fn read_head_meta(path: &Path) -> Result<TimestampMs, Error> {
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

pub(super) fn write_head_meta(path: &Path, min_valid: TimestampMs) -> Result<(), Error> {
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

pub(super) fn sync_dir(dir: &Path) -> Result<(), Error> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(Error::io("sync directory", dir))
}
