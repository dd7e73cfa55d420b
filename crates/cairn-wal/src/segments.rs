//! Segment file names and the listing of a WAL directory.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::storage::Storage;

/// The file name of segment `n`: its number in decimal, zero-padded to 8 digits.
pub(crate) fn segment_name(n: u32) -> String {
    format!("{n:08}")
}

pub(crate) fn segment_path(dir: &Path, n: u32) -> PathBuf {
    dir.join(segment_name(n))
}

/// The segment number a file name stands for; `None` for any other file (only the exact
/// spelling [`segment_name`] writes counts, so `1` or `000000001` are left alone).
pub(crate) fn parse_segment_name(name: &str) -> Option<u32> {
    if !name.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u32 = name.parse().ok()?;
    (segment_name(n) == name).then_some(n)
}

/// The segment numbers in `dir`, ascending.
///
/// # Errors
///
/// [`Error::MissingSegment`] when the numbers have a hole, [`Error::Io`] when listing fails.
pub(crate) fn list_segments(storage: &dyn Storage, dir: &Path) -> Result<Vec<u32>> {
    let names = storage
        .list(dir)
        .map_err(|e| Error::io("list WAL directory", dir, e))?;
    let mut segments: Vec<u32> = names.iter().filter_map(|n| parse_segment_name(n)).collect();
    segments.sort_unstable();
    for pair in segments.windows(2) {
        if let [a, b] = *pair
            && b != a + 1
        {
            return Err(Error::MissingSegment {
                dir: dir.to_path_buf(),
                segment: a + 1,
            });
        }
    }
    Ok(segments)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(segment_name(1), "00000001");
        assert_eq!(segment_name(u32::MAX), "4294967295");
        for (name, n) in [
            ("00000000", Some(0)),
            ("00000001", Some(1)),
            ("12345678", Some(12_345_678)),
            ("4294967295", Some(u32::MAX)),
            ("1", None),
            ("000000001", None),
            ("0000000a", None),
            ("+0000001", None),
            ("4294967296", None),
            ("checkpoint.00000001", None),
        ] {
            assert_eq!(parse_segment_name(name), n, "{name}");
        }
    }
}
