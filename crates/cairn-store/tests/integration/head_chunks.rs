//! Head chunk files: round trips across files and reopens, reads that remap as a file grows,
//! a torn tail at every length, a damaged byte at every offset, `truncate_before`, bad refs,
//! the format's constants and the worked example of `HEAD_CHUNKS_FORMAT.md` byte for byte.

use std::fs;
use std::path::{Path, PathBuf};

use cairn_chunkenc::exemplar::ENCODING_EXEMPLAR;
use cairn_chunkenc::{ENCODING_XOR, XorAppender};
use cairn_store::head_chunks::{
    CRC_LEN, ChunkBytes, CorruptionReason, DATA_LEN_OFFSET, DEFAULT_FILE_SIZE, ENCODING_OFFSET,
    Error, HEADER_LEN, HeadChunkRef, HeadChunks, MAGIC, MAGIC_OFFSET, MAX_CHUNK_LEN,
    MAX_DATA_LEN_LEN, MAX_FILE_SIZE, MAXT_OFFSET, MIN_FILE_SIZE, MINT_OFFSET, Options,
    PADDING_OFFSET, RecoveredChunk, Recovery, SERIES_REF_OFFSET, VERSION, VERSION_OFFSET,
    encoded_len, file_name,
};
use proptest::prelude::*;

use crate::common::{T0, crate_dir, hex, splitmix64};

/// A chunk as written: what recovery must report, and its data.
#[derive(Clone, Debug)]
struct Written {
    meta: RecoveredChunk,
    data: Vec<u8>,
}

fn metas(written: &[Written]) -> Vec<RecoveredChunk> {
    written.iter().map(|w| w.meta).collect()
}

fn open(dir: &Path, max_file_size: u64) -> (HeadChunks, Recovery) {
    HeadChunks::open(dir, Options::default().max_file_size(max_file_size)).unwrap()
}

fn file_path(dir: &Path, seq: u32) -> PathBuf {
    dir.join(file_name(seq))
}

/// The file numbers in `dir`, ascending.
fn files_in(dir: &Path) -> Vec<u32> {
    let mut seqs: Vec<u32> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_file())
        .map(|e| e.file_name().into_string().unwrap())
        .filter_map(|n| n.parse().ok().filter(|&s| s != 0 && file_name(s) == n))
        .collect();
    seqs.sort_unstable();
    seqs
}

/// Writes `n` chunks of varied sizes (0 to 150 bytes of data, so some lengths take a 2-byte
/// uvarint), both encodings, deterministic from `seed`.
fn write_chunks(hc: &mut HeadChunks, n: usize, seed: u64) -> Vec<Written> {
    let mut rng = seed;
    let lens: Vec<usize> = (0..n)
        .map(|_| usize::try_from(splitmix64(&mut rng) % 151).unwrap())
        .collect();
    write_sized(hc, &lens, seed)
}

/// Writes one chunk of each data length in `lens`, deterministic from `seed`.
fn write_sized(hc: &mut HeadChunks, lens: &[usize], seed: u64) -> Vec<Written> {
    let mut rng = seed;
    lens.iter()
        .enumerate()
        .map(|(i, &len)| {
            let data: Vec<u8> = (0..len).map(|_| splitmix64(&mut rng) as u8).collect();
            let series_ref = splitmix64(&mut rng) % 50;
            let mint = T0 + i64::try_from(i).unwrap() * 1_000;
            let maxt = mint + i64::try_from(splitmix64(&mut rng) % 5_000).unwrap();
            let encoding = if i % 3 == 0 {
                ENCODING_EXEMPLAR
            } else {
                ENCODING_XOR
            };
            let chunk_ref = hc.write(series_ref, mint, maxt, encoding, &data).unwrap();
            Written {
                meta: RecoveredChunk {
                    series_ref,
                    mint,
                    maxt,
                    encoding,
                    chunk_ref,
                },
                data,
            }
        })
        .collect()
}

fn assert_chunk(c: &ChunkBytes, w: &Written) {
    assert_eq!(&**c, w.data.as_slice(), "data of {}", w.meta.chunk_ref);
    assert_eq!(
        (c.series_ref(), c.mint(), c.maxt(), c.encoding()),
        (w.meta.series_ref, w.meta.mint, w.meta.maxt, w.meta.encoding),
        "fields of {}",
        w.meta.chunk_ref
    );
}

fn assert_reads(hc: &HeadChunks, written: &[Written]) {
    for w in written {
        assert_chunk(&hc.chunk(w.meta.chunk_ref).unwrap(), w);
    }
}

/// Copies every file of `from` into a new temporary directory.
fn copy_dir(from: &Path) -> tempfile::TempDir {
    let to = tempfile::tempdir().unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), to.path().join(entry.file_name())).unwrap();
    }
    to
}

#[test]
fn round_trip_across_files_and_reopens() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("chunks_head");
    let (mut hc, recovery) = open(&dir, 512);
    assert!(recovery.is_clean() && recovery.chunks.is_empty());
    assert_eq!(files_in(&dir), [1], "open creates the first file");

    let mut written = write_chunks(&mut hc, 300, 1);
    // Readable while buffered, then after the flush through the maps.
    assert_reads(&hc, &written);
    hc.flush().unwrap();
    assert_reads(&hc, &written);
    let files = files_in(&dir);
    assert!(files.len() > 20, "{files:?}");
    assert_eq!(files, (1..=hc.current_file()).collect::<Vec<_>>());
    let on_disk: u64 = files
        .iter()
        .map(|&s| fs::metadata(file_path(&dir, s)).unwrap().len())
        .sum();
    assert_eq!(hc.size_bytes(), on_disk);
    for &s in &files[..files.len() - 1] {
        let len = fs::metadata(file_path(&dir, s)).unwrap().len();
        assert!(len <= 512, "file {s} is {len} bytes");
    }
    // Refs are in write order.
    assert!(
        written
            .windows(2)
            .all(|w| w[0].meta.chunk_ref < w[1].meta.chunk_ref)
    );
    hc.close().unwrap();

    let (mut hc, recovery) = open(&dir, 512);
    assert!(recovery.is_clean(), "{recovery}");
    assert_eq!(recovery.chunks, metas(&written));
    assert_eq!(recovery.truncated_bytes, 0);
    assert!(recovery.removed.is_empty());
    assert_reads(&hc, &written);

    // Writing resumes in the newest file, and the old chunks stay readable.
    let last = hc.current_file();
    let more = write_chunks(&mut hc, 50, 2);
    assert_eq!(more[0].meta.chunk_ref.file(), last);
    written.extend(more);
    assert_reads(&hc, &written);
    hc.close().unwrap();

    let (hc, recovery) = open(&dir, 512);
    assert!(recovery.is_clean(), "{recovery}");
    assert_eq!(recovery.chunks, metas(&written));
    assert_reads(&hc, &written);
}

#[test]
fn reads_remap_as_the_file_grows() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut hc, _) = open(tmp.path(), DEFAULT_FILE_SIZE);
    let mut written = write_chunks(&mut hc, 10, 3);
    hc.flush().unwrap();
    assert_reads(&hc, &written); // maps the file as it is
    for round in 0..5 {
        written.extend(write_chunks(&mut hc, 10, 10 + round));
        hc.flush().unwrap();
        // The newest chunks lie past the map made before: the read remaps.
        assert_reads(&hc, &written[written.len() - 10..]);
        assert_reads(&hc, &written);
    }
    // Past the write buffer's 256 KiB the writer flushes on its own; chunks on both sides of
    // that stay readable.
    let big = vec![0xa5; 100_000];
    for i in 0..6 {
        let r = hc.write(9, T0 + i, T0 + i, ENCODING_XOR, &big).unwrap();
        written.push(Written {
            meta: RecoveredChunk {
                series_ref: 9,
                mint: T0 + i,
                maxt: T0 + i,
                encoding: ENCODING_XOR,
                chunk_ref: r,
            },
            data: big.clone(),
        });
        assert_reads(&hc, &written);
    }
    assert_eq!(hc.current_file(), 1);
    // A ChunkBytes stays valid after later writes and remaps.
    let first = hc.chunk(written[0].meta.chunk_ref).unwrap();
    written.extend(write_chunks(&mut hc, 10, 20));
    hc.flush().unwrap();
    assert_reads(&hc, &written);
    assert_chunk(&first, &written[0]);
}

#[test]
fn concurrent_reads() {
    fn is_send_sync<T: Send + Sync>() {}
    is_send_sync::<HeadChunks>();
    is_send_sync::<ChunkBytes>();

    let tmp = tempfile::tempdir().unwrap();
    let (mut hc, _) = open(tmp.path(), 4096);
    let written = write_chunks(&mut hc, 200, 4);
    hc.flush().unwrap();
    std::thread::scope(|s| {
        for t in 0..4 {
            let (hc, written) = (&hc, &written);
            s.spawn(move || {
                for w in written.iter().skip(t).step_by(3) {
                    assert_chunk(&hc.chunk(w.meta.chunk_ref).unwrap(), w);
                }
            });
        }
    });
}

#[test]
fn torn_tail_at_every_length() {
    let src = tempfile::tempdir().unwrap();
    let (mut hc, _) = open(src.path(), 400);
    let written = write_chunks(&mut hc, 30, 5);
    hc.close().unwrap();
    let last = written.last().unwrap().meta.chunk_ref;
    let path = file_path(src.path(), last.file());
    let end = fs::metadata(&path).unwrap().len();
    let start = u64::from(last.offset());
    assert!(end - start > 100, "the last chunk should be a long one");

    for cut in start..end {
        let tmp = copy_dir(src.path());
        let torn = file_path(tmp.path(), last.file());
        fs::OpenOptions::new()
            .write(true)
            .open(&torn)
            .unwrap()
            .set_len(cut)
            .unwrap();
        let (mut hc, recovery) = open(tmp.path(), 400);
        let kept = &written[..written.len() - 1];
        assert_eq!(recovery.chunks, metas(kept), "cut at {cut}");
        if cut == start {
            assert!(recovery.is_clean(), "a cut between chunks is no damage");
        } else {
            let c = recovery.corruption.as_ref().unwrap();
            assert!(c.is_torn(), "cut at {cut}: {c}");
            assert_eq!(
                (c.path.as_path(), c.file, c.offset),
                (torn.as_path(), last.file(), start)
            );
            assert_eq!(recovery.truncated_bytes, cut - start);
            assert!(recovery.removed.is_empty());
            let shown = recovery.to_string();
            assert!(
                shown.contains(&torn.display().to_string())
                    && shown.contains(&format!("at byte {start}")),
                "{shown}"
            );
        }
        assert_eq!(fs::metadata(&torn).unwrap().len(), start);
        assert_reads(&hc, kept);

        // New chunks go after the cut and survive another reopen.
        let mut all = kept.to_vec();
        let more = write_chunks(&mut hc, 3, cut);
        let first = more[0].meta.chunk_ref;
        if first.file() == last.file() {
            assert_eq!(
                first, last,
                "the first new chunk takes the torn one's place"
            );
        } else {
            assert_eq!(first, HeadChunkRef::new(last.file() + 1, 8));
        }
        all.extend(more);
        assert_reads(&hc, &all);
        hc.close().unwrap();
        let (hc, recovery) = open(tmp.path(), 400);
        assert!(recovery.is_clean(), "{recovery}");
        assert_eq!(recovery.chunks, metas(&all));
        assert_reads(&hc, &all);
    }
}

#[test]
fn damaged_byte_at_every_offset() {
    let src = tempfile::tempdir().unwrap();
    let (mut hc, _) = open(src.path(), 300);
    // Three files of 4, 3 and 2 chunks; some lengths take a 2-byte uvarint.
    let written = write_sized(&mut hc, &[5, 130, 20, 5, 130, 20, 5, 130, 20], 6);
    hc.close().unwrap();
    let files = files_in(src.path());
    assert_eq!(files, [1, 2, 3]);
    let target = files[1];
    let in_target: Vec<&Written> = written
        .iter()
        .filter(|w| w.meta.chunk_ref.file() == target)
        .collect();
    assert_eq!(in_target.len(), 3);
    let before: Vec<Written> = written
        .iter()
        .filter(|w| w.meta.chunk_ref.file() < target)
        .cloned()
        .collect();
    let len = fs::metadata(file_path(src.path(), target)).unwrap().len();
    let original_lens: Vec<u64> = files
        .iter()
        .map(|&s| fs::metadata(file_path(src.path(), s)).unwrap().len())
        .collect();

    for offset in 0..len {
        for mask in [0x01u8, 0x80, 0xff] {
            let tmp = copy_dir(src.path());
            let path = file_path(tmp.path(), target);
            let mut bytes = fs::read(&path).unwrap();
            bytes[usize::try_from(offset).unwrap()] ^= mask;
            fs::write(&path, &bytes).unwrap();
            let what = format!("byte {offset} ^ {mask:#04x}");

            let opened = HeadChunks::open(tmp.path(), Options::default().max_file_size(300));
            if (VERSION_OFFSET as u64..HEADER_LEN as u64).contains(&offset) {
                // An intact magic with another version or padding is refused, not repaired.
                let Err(e @ Error::Unsupported { .. }) = opened else {
                    panic!("{what}: expected Unsupported, got {opened:?}");
                };
                assert!(e.to_string().contains(&path.display().to_string()), "{e}");
                let lens: Vec<u64> = files
                    .iter()
                    .map(|&s| fs::metadata(file_path(tmp.path(), s)).unwrap().len())
                    .collect();
                assert_eq!(lens, original_lens, "{what}: nothing changed");
                continue;
            }
            let (hc, recovery) = opened.unwrap();
            let c = recovery.corruption.as_ref().expect(&what);
            // The damaged chunk is the last one starting at or before the byte.
            let chunk_start = if offset < HEADER_LEN as u64 {
                0
            } else {
                in_target
                    .iter()
                    .map(|w| u64::from(w.meta.chunk_ref.offset()))
                    .rfind(|&s| s <= offset)
                    .unwrap()
            };
            assert_eq!(
                (c.path.as_path(), c.file, c.offset),
                (path.as_path(), target, chunk_start),
                "{what}: {c}"
            );
            if offset < MAGIC.len() as u64 {
                assert!(
                    matches!(c.reason, CorruptionReason::BadMagic { .. }),
                    "{what}: {c}"
                );
            }
            let mut kept = before.clone();
            kept.extend(
                in_target
                    .iter()
                    .filter(|w| u64::from(w.meta.chunk_ref.offset()) < chunk_start)
                    .map(|w| (*w).clone()),
            );
            assert_eq!(recovery.chunks, metas(&kept), "{what}");
            assert_reads(&hc, &kept);
            // Later files are gone, and the damaged one is cut (or gone with its header).
            let removed: Vec<u32> = recovery.removed.iter().map(|r| r.file).collect();
            let mut expect_removed: Vec<u32> = files[2..].iter().rev().copied().collect();
            if chunk_start == 0 {
                expect_removed.push(target);
                assert_eq!(files_in(tmp.path()), [files[0]], "{what}");
            } else {
                assert_eq!(files_in(tmp.path()), [files[0], target], "{what}");
                assert_eq!(fs::metadata(&path).unwrap().len(), chunk_start, "{what}");
            }
            assert_eq!(removed, expect_removed, "{what}");
            assert!(recovery.truncated_bytes > 0);
            drop(hc);
            let (_, again) = open(tmp.path(), 300);
            assert!(again.is_clean(), "{what}: {again}");
            assert_eq!(again.chunks, metas(&kept), "{what}");
        }
    }
}

#[test]
fn empty_headerless_and_foreign_files() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (mut hc, _) = open(dir, 4096);
    let written = write_chunks(&mut hc, 3, 7);
    hc.close().unwrap();
    assert_eq!(files_in(dir), [1]);
    // Not ours: left alone.
    fs::write(dir.join("000002.tmp"), b"x").unwrap();
    fs::write(dir.join("2"), b"x").unwrap();
    fs::write(dir.join("000000"), b"x").unwrap();
    fs::create_dir(dir.join("000009")).unwrap();

    // A crash right after creating a file leaves it empty, or with part of its header.
    for (seq, bytes) in [
        (2, &b""[..]),
        (3, &b"CHC"[..]),
        (4, &b"CHCK\x01\x00\x00"[..]),
    ] {
        fs::write(file_path(dir, seq), bytes).unwrap();
    }
    let (mut hc, recovery) = open(dir, 4096);
    let c = recovery.corruption.clone().unwrap();
    assert_eq!((c.file, c.offset), (2, 0));
    assert_eq!(c.reason, CorruptionReason::TruncatedHeader { len: 0 });
    assert!(c.is_torn());
    let removed: Vec<(u32, u64)> = recovery.removed.iter().map(|r| (r.file, r.len)).collect();
    assert_eq!(removed, [(4, 7), (3, 3), (2, 0)]);
    assert_eq!(recovery.truncated_bytes, 10);
    assert_eq!(recovery.chunks, metas(&written));
    assert_eq!(files_in(dir), [1]);
    for name in ["000002.tmp", "2", "000000", "000009"] {
        assert!(dir.join(name).exists(), "{name}");
    }
    // Writing resumes in file 1.
    assert_eq!(hc.current_file(), 1);
    let more = write_chunks(&mut hc, 1, 8);
    assert_eq!(more[0].meta.chunk_ref.file(), 1);
    hc.close().unwrap();

    // Only a headerless file: it is replaced by a new one.
    let tmp = tempfile::tempdir().unwrap();
    fs::write(file_path(tmp.path(), 1), b"").unwrap();
    let (hc, recovery) = open(tmp.path(), 300);
    assert_eq!(recovery.corruption.unwrap().file, 1);
    assert_eq!(hc.current_file(), 2);
    assert_eq!(files_in(tmp.path()), [2]);
}

#[test]
fn zero_filled_tail() {
    // A file system may leave zeros where a crash cut off a write.
    let tmp = tempfile::tempdir().unwrap();
    let (mut hc, _) = open(tmp.path(), DEFAULT_FILE_SIZE);
    let written = write_chunks(&mut hc, 5, 9);
    hc.close().unwrap();
    let path = file_path(tmp.path(), 1);
    let mut bytes = fs::read(&path).unwrap();
    let end = bytes.len() as u64;
    bytes.extend([0; 4096]);
    fs::write(&path, &bytes).unwrap();
    let (_, recovery) = open(tmp.path(), DEFAULT_FILE_SIZE);
    let c = recovery.corruption.unwrap();
    assert_eq!(c.offset, end);
    assert_eq!(c.reason, CorruptionReason::UnknownEncoding { found: 0 });
    assert_eq!(recovery.truncated_bytes, 4096);
    assert_eq!(recovery.chunks, metas(&written));
}

#[test]
fn unsupported_files_are_refused_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut hc, _) = open(tmp.path(), 200);
    write_chunks(&mut hc, 10, 11);
    hc.close().unwrap();
    let files = files_in(tmp.path());
    assert!(files.len() >= 3);

    // A later file from a newer writer: the torn file before it is not repaired either,
    // since that would remove the newer file.
    let newer = file_path(tmp.path(), files[2]);
    let mut bytes = fs::read(&newer).unwrap();
    bytes[VERSION_OFFSET] = 2;
    fs::write(&newer, &bytes).unwrap();
    let torn = file_path(tmp.path(), files[1]);
    let torn_len = fs::metadata(&torn).unwrap().len();
    fs::OpenOptions::new()
        .write(true)
        .open(&torn)
        .unwrap()
        .set_len(torn_len - 1)
        .unwrap();
    let e = HeadChunks::open(tmp.path(), Options::default()).unwrap_err();
    let Error::Unsupported {
        ref path,
        file,
        version,
        padding,
    } = e
    else {
        panic!("expected Unsupported, got {e}");
    };
    assert_eq!(
        (path, file, version, padding),
        (&newer, files[2], 2, [0; 3])
    );
    assert_eq!(
        e.to_string(),
        format!(
            "{}: head chunk file {} has format version 2 (byte 4) and padding 00 00 00 (bytes \
             5..8); this build reads version 1 with zero padding, and leaves the file alone",
            newer.display(),
            files[2]
        )
    );
    assert_eq!(files_in(tmp.path()), files);
    assert_eq!(fs::metadata(&torn).unwrap().len(), torn_len - 1);
}

#[test]
fn truncate_before_removes_whole_old_files() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (mut hc, _) = open(dir, 200);
    // Chunks of 50 bytes: three to a file, times rising with the chunk number.
    let data = [7u8; 20];
    let mut refs = Vec::new();
    for i in 0..12i64 {
        let (mint, maxt) = (i * 100, i * 100 + 99);
        refs.push(hc.write(1, mint, maxt, ENCODING_XOR, &data).unwrap());
    }
    // One old file holds a late chunk: it outlives the files around it.
    refs.push(hc.write(2, 0, 5_000, ENCODING_XOR, &data).unwrap());
    for i in 12..15i64 {
        refs.push(
            hc.write(1, i * 100, i * 100 + 99, ENCODING_XOR, &data)
                .unwrap(),
        );
    }
    assert_eq!(files_in(dir), [1, 2, 3, 4, 5, 6]);
    let file_of: Vec<u32> = refs.iter().map(|r| r.file()).collect();
    assert_eq!(file_of, [1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 5, 6]);

    assert_eq!(hc.truncate_before(0).unwrap(), 0);
    // Files 1 and 2 end before 600; file 3 ends at 899.
    assert_eq!(hc.truncate_before(600).unwrap(), 2);
    assert_eq!(files_in(dir), [3, 4, 5, 6]);
    assert!(matches!(
        hc.chunk(refs[0]),
        Err(Error::UnknownFile { chunk_ref, .. }) if chunk_ref == refs[0]
    ));
    hc.chunk(refs[6]).unwrap();
    hc.close().unwrap();

    // What each file holds is learned again at open. File 5 has the late chunk (maxt 5 000).
    let (mut hc, recovery) = open(dir, 200);
    assert_eq!(recovery.chunks.len(), 10);
    assert_eq!(hc.truncate_before(1_300).unwrap(), 2);
    assert_eq!(files_in(dir), [5, 6]);

    // The file being written qualifies: a new one is started and the old one removed.
    assert_eq!(hc.current_file(), 6);
    assert_eq!(hc.truncate_before(5_001).unwrap(), 2);
    assert_eq!(hc.current_file(), 7);
    assert_eq!(files_in(dir), [7]);
    // An empty current file is not cut again.
    assert_eq!(hc.truncate_before(i64::MAX).unwrap(), 0);
    assert_eq!(hc.current_file(), 7);
    let r = hc
        .write(3, 9_000, 9_100, ENCODING_EXEMPLAR, b"late")
        .unwrap();
    assert_eq!(r, HeadChunkRef::new(7, 8));
    assert_eq!(hc.size_bytes(), 8 + encoded_len(4) as u64);
    hc.close().unwrap();

    let (hc, recovery) = open(dir, 200);
    assert_eq!(recovery.chunks.len(), 1);
    assert_eq!(recovery.chunks[0].chunk_ref, r);
    assert_eq!(&*hc.chunk(r).unwrap(), b"late");
}

#[test]
fn bad_refs_are_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut hc, _) = open(tmp.path(), 4096);
    let written = write_chunks(&mut hc, 6, 12);
    hc.flush().unwrap();
    let buffered = write_chunks(&mut hc, 3, 13);
    let path = file_path(tmp.path(), 1);

    for r in [
        HeadChunkRef(0),
        HeadChunkRef::new(2, 8),
        HeadChunkRef::new(u32::MAX, 8),
    ] {
        let e = hc.chunk(r).unwrap_err();
        assert!(matches!(e, Error::UnknownFile { .. }), "{e}");
        assert!(
            e.to_string().contains(&tmp.path().display().to_string()),
            "{e}"
        );
    }
    let len = hc.size_bytes();
    for offset in [0, 7, len, len + 1, u64::from(u32::MAX)] {
        let r = HeadChunkRef::new(1, u32::try_from(offset).unwrap());
        let e = hc.chunk(r).unwrap_err();
        assert!(matches!(e, Error::OutOfBounds { .. }), "{offset}: {e}");
        assert!(e.to_string().contains(&path.display().to_string()), "{e}");
    }
    // Every offset that is not a chunk's start, mapped or buffered: an error, never a panic.
    let starts: Vec<u64> = written
        .iter()
        .chain(&buffered)
        .map(|w| u64::from(w.meta.chunk_ref.offset()))
        .collect();
    for offset in 8..len {
        let r = HeadChunkRef::new(1, u32::try_from(offset).unwrap());
        match hc.chunk(r) {
            Ok(c) => {
                assert!(starts.contains(&offset), "a chunk at {offset}: {c:?}");
            }
            Err(e) => {
                assert!(!starts.contains(&offset), "{offset}: {e}");
                let Error::BadChunk { chunk_ref, .. } = e else {
                    panic!("{offset}: {e}");
                };
                assert_eq!(chunk_ref, r);
                let shown = e.to_string();
                assert!(
                    shown.contains(&path.display().to_string())
                        && shown.contains(&format!("byte {offset}")),
                    "{shown}"
                );
            }
        }
    }
    assert_reads(&hc, &written);
    assert_reads(&hc, &buffered);
}

#[test]
fn damage_after_open_is_found_by_reads() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut hc, _) = open(tmp.path(), 4096);
    let written = write_chunks(&mut hc, 3, 14);
    hc.flush().unwrap();
    let victim = written[1].meta.chunk_ref;
    let path = file_path(tmp.path(), 1);
    let mut bytes = fs::read(&path).unwrap();
    bytes[usize::try_from(victim.offset()).unwrap() + MINT_OFFSET] ^= 1;
    // Rewrite in place (same inode), as bit rot would.
    use std::io::{Seek, SeekFrom, Write};
    let mut f = fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.seek(SeekFrom::Start(0)).unwrap();
    f.write_all(&bytes).unwrap();
    drop(f);
    let e = hc.chunk(victim).unwrap_err();
    assert!(
        matches!(
            e,
            Error::BadChunk {
                reason: CorruptionReason::Checksum { .. },
                ..
            }
        ),
        "{e}"
    );
    assert_chunk(&hc.chunk(written[0].meta.chunk_ref).unwrap(), &written[0]);
}

#[test]
fn bad_arguments_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    for size in [0, MIN_FILE_SIZE - 1, MAX_FILE_SIZE + 1] {
        let e = HeadChunks::open(tmp.path(), Options::default().max_file_size(size)).unwrap_err();
        assert!(
            matches!(e, Error::InvalidMaxFileSize { size: s, .. } if s == size),
            "{e}"
        );
    }
    let (mut hc, _) = open(tmp.path(), MIN_FILE_SIZE);
    let too_large = vec![0; MAX_CHUNK_LEN + 1];
    let e = hc.write(1, 0, 0, ENCODING_XOR, &too_large).unwrap_err();
    assert!(
        matches!(e, Error::ChunkTooLarge { len, .. } if len == MAX_CHUNK_LEN + 1),
        "{e}"
    );
    for encoding in [0, 2, 0x44, 0x81, 0xff] {
        let e = hc.write(1, 0, 0, encoding, b"").unwrap_err();
        assert!(matches!(e, Error::UnknownEncoding { .. }), "{e}");
    }
    let e = hc.write(1, 10, 9, ENCODING_XOR, b"").unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidTimeRange {
                mint: 10,
                maxt: 9,
                ..
            }
        ),
        "{e}"
    );
    assert_eq!(hc.size_bytes(), HEADER_LEN as u64, "nothing was written");

    // The largest chunk, alone in a file past the maximum size, and the extreme fields.
    let largest: Vec<u8> = (0..MAX_CHUNK_LEN).map(|i| i as u8).collect();
    let a = hc
        .write(u64::MAX, i64::MIN, i64::MAX, ENCODING_XOR, &largest)
        .unwrap();
    let b = hc.write(0, -1, -1, ENCODING_EXEMPLAR, b"").unwrap();
    assert_eq!((a, b), (HeadChunkRef::new(1, 8), HeadChunkRef::new(2, 8)));
    hc.close().unwrap();
    let (hc, recovery) = open(tmp.path(), MIN_FILE_SIZE);
    assert!(recovery.is_clean());
    let got: Vec<(u64, i64, i64)> = recovery
        .chunks
        .iter()
        .map(|c| (c.series_ref, c.mint, c.maxt))
        .collect();
    assert_eq!(got, [(u64::MAX, i64::MIN, i64::MAX), (0, -1, -1)]);
    assert_eq!(&*hc.chunk(a).unwrap(), largest.as_slice());
    assert!(hc.chunk(b).unwrap().is_empty());
}

#[test]
fn constants() {
    assert_eq!(
        [MAGIC_OFFSET, VERSION_OFFSET, PADDING_OFFSET, HEADER_LEN],
        [0, 4, 5, 8]
    );
    assert_eq!(
        [
            SERIES_REF_OFFSET,
            MINT_OFFSET,
            MAXT_OFFSET,
            ENCODING_OFFSET,
            DATA_LEN_OFFSET
        ],
        [0, 8, 16, 24, 25]
    );
    assert_eq!(
        (MAGIC, VERSION, CRC_LEN, MAX_DATA_LEN_LEN),
        (*b"CHCK", 1, 4, 3)
    );
    assert_eq!(MAX_CHUNK_LEN, 1_048_576);
    assert_eq!(
        (MIN_FILE_SIZE, MAX_FILE_SIZE, DEFAULT_FILE_SIZE),
        (64, 4_294_967_296, 134_217_728)
    );
    assert_eq!(Options::default().max_file_bytes(), DEFAULT_FILE_SIZE);
    for (len, encoded) in [
        (0, 30),
        (1, 31),
        (127, 157),
        (128, 159),
        (16_383, 16_414),
        (16_384, 16_416),
        (MAX_CHUNK_LEN, MAX_CHUNK_LEN + 32),
    ] {
        assert_eq!(encoded_len(len), encoded, "{len}");
    }
    let r = HeadChunkRef::new(3, 0x1234);
    assert_eq!(
        (r.0, r.file(), r.offset()),
        (0x0000_0003_0000_1234, 3, 0x1234)
    );
    assert_eq!(r.to_string(), "file 3, byte 4660");
    assert_eq!(
        [file_name(1), file_name(999_999), file_name(1_000_000)],
        ["000001", "999999", "1000000"]
    );
}

/// The rows of the example table in `HEAD_CHUNKS_FORMAT.md`: offset and bytes.
fn doc_example() -> Vec<(usize, Vec<u8>)> {
    let doc = fs::read_to_string(crate_dir().join("src/HEAD_CHUNKS_FORMAT.md")).unwrap();
    let marker = "<!-- example: file -->";
    let start = doc.find(marker).expect("the example marker");
    doc[start + marker.len()..]
        .lines()
        .skip_while(|l| l.trim().is_empty())
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .map(|line| {
            let cols: Vec<&str> = line.split('|').map(str::trim).collect();
            (cols[1].parse().unwrap(), hex(cols[2].trim_matches('`')))
        })
        .collect()
}

#[test]
fn golden_example_of_the_format_doc() {
    let mut app = XorAppender::new();
    app.append(T0, 1.0);
    app.append(T0 + 15_000, 1.0);
    let tmp = tempfile::tempdir().unwrap();
    let (mut hc, _) = open(tmp.path(), DEFAULT_FILE_SIZE);
    let r = hc
        .write(7, T0, T0 + 15_000, ENCODING_XOR, app.bytes())
        .unwrap();
    assert_eq!(r, HeadChunkRef((1 << 32) | 8));
    hc.close().unwrap();
    let file = fs::read(file_path(tmp.path(), 1)).unwrap();

    let rows = doc_example();
    let mut expected = Vec::new();
    for (offset, bytes) in &rows {
        assert_eq!(*offset, expected.len(), "the doc's offsets add up");
        expected.extend_from_slice(bytes);
    }
    assert_eq!(file, expected, "the file is the doc's example");
    assert_eq!(file.len(), 57);
    assert_eq!(
        u32::from_be_bytes(file[53..57].try_into().unwrap()),
        crc32c::crc32c(&file[8..53])
    );

    // The example's own golden copy, damaged: the one chunk is dropped, the header kept.
    let mut damaged = expected.clone();
    damaged[40] ^= 0x10;
    fs::write(file_path(tmp.path(), 1), &damaged).unwrap();
    let (_, recovery) = open(tmp.path(), DEFAULT_FILE_SIZE);
    let c = recovery.corruption.unwrap();
    assert_eq!(c.offset, 8);
    assert_eq!(
        c.reason,
        CorruptionReason::Checksum {
            stored: 0x54e2_0189,
            computed: crc32c::crc32c(&damaged[8..53])
        }
    );
    assert_eq!(fs::read(file_path(tmp.path(), 1)).unwrap(), expected[..8]);
}

/// One chunk for the proptest, or a flush between chunks.
#[derive(Clone, Debug)]
enum Op {
    Write {
        series_ref: u64,
        mint: i64,
        span: u32,
        exemplars: bool,
        data: Vec<u8>,
    },
    Flush,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        9 => (
            any::<u64>(),
            any::<i64>(),
            any::<u32>(),
            any::<bool>(),
            prop::collection::vec(any::<u8>(), 0..300),
        )
            .prop_map(|(series_ref, mint, span, exemplars, data)| Op::Write {
                series_ref,
                mint,
                span,
                exemplars,
                data,
            }),
        1 => Just(Op::Flush),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_chunk_sequences_round_trip(
        ops in prop::collection::vec(op(), 0..80),
        max_file_size in MIN_FILE_SIZE..2_048,
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let (mut hc, _) = open(tmp.path(), max_file_size);
        let mut written = Vec::new();
        for op in ops {
            match op {
                Op::Write { series_ref, mint, span, exemplars, data } => {
                    let maxt = mint.saturating_add(i64::from(span));
                    let encoding = if exemplars { ENCODING_EXEMPLAR } else { ENCODING_XOR };
                    let chunk_ref = hc.write(series_ref, mint, maxt, encoding, &data).unwrap();
                    written.push(Written {
                        meta: RecoveredChunk { series_ref, mint, maxt, encoding, chunk_ref },
                        data,
                    });
                }
                Op::Flush => hc.flush().unwrap(),
            }
        }
        assert_reads(&hc, &written);
        hc.close().unwrap();
        let (hc, recovery) = open(tmp.path(), max_file_size);
        prop_assert!(recovery.is_clean());
        prop_assert_eq!(recovery.chunks, metas(&written));
        assert_reads(&hc, &written);
        // Each file is within the maximum, unless it holds one chunk that alone is larger.
        for seq in files_in(tmp.path()) {
            let len = fs::metadata(file_path(tmp.path(), seq)).unwrap().len();
            let chunks = written.iter().filter(|w| w.meta.chunk_ref.file() == seq).count();
            prop_assert!(len <= max_file_size || chunks == 1, "file {} of {} bytes", seq, len);
        }
    }
}
