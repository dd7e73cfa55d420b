//! Blocks: round trips through `BlockWriter` and `Block`, the writer's rules, `open_all`,
//! the layout of `src/block/FORMAT.md` byte for byte, and damage at every byte of every file.

use std::fs;
use std::path::{Path, PathBuf};

use cairn_chunkenc::XorAppender;
use cairn_chunkenc::exemplar::ExemplarAppender;
use cairn_index::LabelIndex;
use cairn_model::{Labels, Matcher};
use cairn_store::block::format::{
    CHUNK_CRC_LEN, CHUNK_ENCODING_LEN, FOOTER_COUNT_OFFSET, FOOTER_CRC_OFFSET,
    FOOTER_ENDS_CRC_OFFSET, FOOTER_ENTRIES_CRC_OFFSET, MAX_CHUNK_LEN, SEGMENT_HEADER_LEN,
    SEGMENT_MAGIC, SEGMENT_PADDING_OFFSET, SEGMENT_SIZE, SEGMENT_VERSION_OFFSET, SERIES_END_LEN,
    SERIES_FLAGS_OFFSET, SERIES_FOOTER_LEN, SERIES_HEADER_CRC_OFFSET, SERIES_HEADER_LEN,
    SERIES_MAGIC, SERIES_VERSION_OFFSET,
};
use cairn_store::block::{
    self, Block, BlockMeta, BlockWriter, ChunkData, ChunkMeta, ErrorKind, SeriesChunks, SeriesFile,
    SeriesFileWriter,
};
use proptest::prelude::*;

/// Start of the test blocks' time range: 2023-11-14T22:13:20Z.
const T0: i64 = 1_700_000_000_000;
/// Two hours, the default block range.
const RANGE: i64 = 2 * 3_600_000;

/// A chunk as the writer gets it, owned.
#[derive(Clone, Debug)]
struct Chunk {
    mint: i64,
    maxt: i64,
    bytes: Vec<u8>,
}

impl Chunk {
    fn data(&self) -> ChunkData<'_> {
        ChunkData {
            mint: self.mint,
            maxt: self.maxt,
            bytes: &self.bytes,
        }
    }
}

#[derive(Clone, Debug)]
struct Series {
    labels: Labels,
    samples: Vec<Chunk>,
    exemplars: Vec<Chunk>,
}

/// `n` samples from `start`, `step` ms apart.
fn sample_chunk(start: i64, n: usize, step: i64, seed: f64) -> Chunk {
    let mut app = XorAppender::new();
    let mut t = start;
    for i in 0..n {
        t = start + i as i64 * step;
        app.append(t, seed + (i as f64) * 0.25);
    }
    Chunk {
        mint: start,
        maxt: t,
        bytes: app.into_bytes(),
    }
}

/// `n` exemplars from `start`, `step` ms apart, with W3C trace and span ids.
fn exemplar_chunk(start: i64, n: usize, step: i64) -> Chunk {
    let mut app = ExemplarAppender::new();
    let mut t = start;
    for i in 0..n {
        t = start + i as i64 * step;
        let trace = format!("{:032x}", 0x0af7_6519_16cd_43dd_u128 * (i as u128 + 1));
        let span = format!(
            "{:016x}",
            0xb7ad_6b71_6920_3331_u64.wrapping_mul(i as u64 + 1)
        );
        app.append(
            t,
            0.125 * i as f64,
            &[("service", "api"), ("span_id", &span), ("trace_id", &trace)],
        )
        .unwrap();
    }
    Chunk {
        mint: start,
        maxt: t,
        bytes: app.into_bytes(),
    }
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs.iter().copied())
}

/// Series of every shape: one sample chunk, several, exemplars only, both kinds, and one
/// with no chunks at all (skipped by the writer). Sorted by labels.
fn fixture() -> Vec<Series> {
    let minute = 60_000;
    vec![
        Series {
            labels: labels(&[("__name__", "http_requests_total"), ("code", "200")]),
            samples: vec![
                sample_chunk(T0, 120, 15_000, 1.0),
                sample_chunk(T0 + 30 * minute, 120, 15_000, 2.0),
                sample_chunk(T0 + 60 * minute, 60, 15_000, 3.0),
            ],
            exemplars: vec![
                exemplar_chunk(T0 + 5_000, 20, 30_000),
                exemplar_chunk(T0 + 60 * minute, 5, 60_000),
            ],
        },
        Series {
            labels: labels(&[("__name__", "http_requests_total"), ("code", "500")]),
            samples: vec![sample_chunk(T0 + 10 * minute, 40, 15_000, 0.0)],
            exemplars: vec![],
        },
        Series {
            labels: labels(&[("__name__", "idle"), ("job", "none")]),
            samples: vec![],
            exemplars: vec![],
        },
        Series {
            labels: labels(&[("__name__", "latency_seconds_bucket"), ("le", "0.5")]),
            samples: vec![],
            exemplars: vec![exemplar_chunk(T0 + RANGE - 10 * minute, 10, minute - 1)],
        },
        Series {
            labels: labels(&[("__name__", "up"), ("instance", "a:9090"), ("job", "api")]),
            samples: vec![sample_chunk(T0, 480, 15_000, 1.0)],
            exemplars: vec![],
        },
        Series {
            labels: labels(&[("__name__", "up"), ("instance", "b:9090"), ("job", "api")]),
            samples: vec![sample_chunk(T0 + RANGE - 1, 1, 1, 0.0)],
            exemplars: vec![exemplar_chunk(T0 + RANGE - 1, 1, 1)],
        },
    ]
}

/// The fixture's series that have chunks: the block's series, by id.
fn stored(series: &[Series]) -> Vec<&Series> {
    series
        .iter()
        .filter(|s| !s.samples.is_empty() || !s.exemplars.is_empty())
        .collect()
}

fn write_block(blocks: &Path, series: &[Series], segment_size: u64) -> BlockMeta {
    let mut writer = BlockWriter::create(blocks, T0, T0 + RANGE)
        .unwrap()
        .with_segment_size(segment_size);
    for s in series {
        let samples: Vec<_> = s.samples.iter().map(Chunk::data).collect();
        let exemplars: Vec<_> = s.exemplars.iter().map(Chunk::data).collect();
        writer.add_series(&s.labels, &samples, &exemplars).unwrap();
    }
    writer.finish().unwrap()
}

fn block_dir(blocks: &Path, meta: &BlockMeta) -> PathBuf {
    blocks.join(meta.ulid.to_string())
}

fn count(bytes: &[u8]) -> u64 {
    u16::from_be_bytes([bytes[0], bytes[1]]).into()
}

#[test]
fn round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let series = fixture();
    // Small segments, so that chunks spread over several of each kind.
    let meta = write_block(tmp.path(), &series, 1_024);
    let dir = block_dir(tmp.path(), &meta);
    let block = Block::open(&dir).unwrap();

    assert_eq!(block.meta(), &meta);
    assert_eq!(block.ulid(), meta.ulid);
    assert_eq!(block.dir(), dir);
    assert_eq!((meta.min_time, meta.max_time), (T0, T0 + RANGE));
    assert_eq!(meta.version, 1);
    assert_eq!(meta.compaction.level, 1);
    assert_eq!(meta.compaction.sources, [meta.ulid]);
    assert!(meta.compaction.parents.is_empty());

    let stored = stored(&series);
    let all_samples = || stored.iter().flat_map(|s| &s.samples);
    let all_exemplars = || stored.iter().flat_map(|s| &s.exemplars);
    assert_eq!(meta.stats.num_series, stored.len() as u64);
    assert_eq!(meta.stats.num_chunks, all_samples().count() as u64);
    assert_eq!(
        meta.stats.num_samples,
        all_samples().map(|c| count(&c.bytes)).sum::<u64>()
    );
    assert_eq!(
        meta.stats.num_exemplar_chunks,
        all_exemplars().count() as u64
    );
    assert_eq!(
        meta.stats.num_exemplars,
        all_exemplars().map(|c| count(&c.bytes)).sum::<u64>()
    );

    let index = block.index();
    assert_eq!(index.series_count() as usize, stored.len());
    let mut segments_seen = [0u64; 2];
    for (id, s) in stored.iter().enumerate() {
        let id = id as u32;
        assert_eq!(index.series_labels(id).unwrap(), s.labels);
        let chunks = block.series_chunks(id).unwrap();
        assert_eq!(chunks.samples.len(), s.samples.len());
        assert_eq!(chunks.exemplars.len(), s.exemplars.len());
        for (meta, chunk) in chunks.samples.iter().zip(&s.samples) {
            assert_eq!((meta.mint, meta.maxt), (chunk.mint, chunk.maxt));
            assert_eq!(block.chunk(meta.chunk_ref).unwrap(), chunk.bytes);
            segments_seen[0] = segments_seen[0].max(meta.chunk_ref >> 32);
        }
        for (meta, chunk) in chunks.exemplars.iter().zip(&s.exemplars) {
            assert_eq!((meta.mint, meta.maxt), (chunk.mint, chunk.maxt));
            assert_eq!(block.exemplar_chunk(meta.chunk_ref).unwrap(), chunk.bytes);
            segments_seen[1] = segments_seen[1].max(meta.chunk_ref >> 32);
        }
    }
    assert!(
        segments_seen[0] >= 1 && segments_seen[1] >= 1,
        "{segments_seen:?}"
    );
    let no_such = block.series_chunks(stored.len() as u32).unwrap_err();
    assert!(matches!(no_such.kind(), ErrorKind::NoSuchSeries { .. }));

    // Labels through the index.
    let select = |m: &[Matcher]| index.select(m).iter().collect::<Vec<_>>();
    assert_eq!(
        select(&[Matcher::equal("__name__", "http_requests_total")]),
        [0, 1]
    );
    assert_eq!(select(&[Matcher::regex("code", "5..").unwrap()]), [1]);
    assert_eq!(select(&[Matcher::equal("job", "api")]), [3, 4]);
    assert!(select(&[Matcher::equal("__name__", "idle")]).is_empty());

    block.verify().unwrap();

    let size = block.size();
    let file_len = |p: PathBuf| fs::metadata(p).unwrap().len();
    let dir_len = |p: PathBuf| {
        fs::read_dir(p)
            .unwrap()
            .map(|e| e.unwrap().metadata().unwrap().len())
            .sum::<u64>()
    };
    assert_eq!(size.meta, file_len(dir.join("meta.json")));
    assert_eq!(size.index, file_len(dir.join("index")));
    assert_eq!(size.series, file_len(dir.join("series")));
    assert_eq!(size.chunks, dir_len(dir.join("chunks")));
    assert_eq!(size.exemplars, dir_len(dir.join("exemplars")));
    assert_eq!(
        size.total(),
        size.meta + size.index + size.series + size.chunks + size.exemplars
    );
    // Nothing else in the block directory, and no temporary directory left.
    let mut names: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["chunks", "exemplars", "index", "meta.json", "series"]
    );
    assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 1);
}

#[test]
fn default_segment_size_keeps_one_segment() {
    let tmp = tempfile::tempdir().unwrap();
    let meta = write_block(tmp.path(), &fixture(), u64::MAX);
    let names: Vec<_> = meta.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        ["index", "series", "chunks/000001", "exemplars/000001"]
    );
}

#[test]
fn meta_json_fields() {
    let tmp = tempfile::tempdir().unwrap();
    let meta = write_block(tmp.path(), &fixture(), 2_048);
    let dir = block_dir(tmp.path(), &meta);
    let json: serde_json::Value =
        serde_json::from_slice(&fs::read(dir.join("meta.json")).unwrap()).unwrap();
    let ulid = meta.ulid.to_string();
    assert_eq!(json["ulid"], ulid.as_str());
    assert_eq!(json["minTime"], T0);
    assert_eq!(json["maxTime"], T0 + RANGE);
    assert_eq!(json["version"], 1);
    for (field, value) in [
        ("numSeries", meta.stats.num_series),
        ("numSamples", meta.stats.num_samples),
        ("numChunks", meta.stats.num_chunks),
        ("numExemplars", meta.stats.num_exemplars),
        ("numExemplarChunks", meta.stats.num_exemplar_chunks),
    ] {
        assert_eq!(json["stats"][field], value, "{field}");
    }
    assert_eq!(json["compaction"]["level"], 1);
    assert_eq!(json["compaction"]["sources"], serde_json::json!([ulid]));
    assert_eq!(json["compaction"]["parents"], serde_json::json!([]));

    let files = json["files"].as_array().unwrap();
    for (name, path) in [("index", "index"), ("series", "series")] {
        let bytes = fs::read(dir.join(path)).unwrap();
        let entry = files.iter().find(|f| f["name"] == name).unwrap();
        assert_eq!(entry["size"], bytes.len() as u64);
        assert_eq!(entry["crc32c"], crc32c::crc32c(&bytes));
    }
    for entry in files
        .iter()
        .filter(|f| f["name"] != "index" && f["name"] != "series")
    {
        let name = entry["name"].as_str().unwrap();
        assert!(name.starts_with("chunks/") || name.starts_with("exemplars/"));
        assert_eq!(entry["size"], fs::metadata(dir.join(name)).unwrap().len());
        assert!(entry.get("crc32c").is_none(), "{name}");
    }
}

#[test]
fn compaction_is_recorded() {
    let tmp = tempfile::tempdir().unwrap();
    let parents = [ulid::Ulid::new(), ulid::Ulid::new()];
    let mut writer = BlockWriter::create(tmp.path(), T0, T0 + RANGE).unwrap();
    writer.set_compaction(3, vec![parents[1], parents[0]], parents.to_vec());
    let meta = writer.finish().unwrap();
    let block = Block::open(&block_dir(tmp.path(), &meta)).unwrap();
    assert_eq!(block.meta().compaction.level, 3);
    assert_eq!(block.meta().compaction.sources, [parents[1], parents[0]]);
    assert_eq!(block.meta().compaction.parents, parents);
}

#[test]
fn empty_block_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let mut writer = BlockWriter::create(tmp.path(), T0, T0 + 1).unwrap();
    writer
        .add_series(&labels(&[("__name__", "idle")]), &[], &[])
        .unwrap();
    let meta = writer.finish().unwrap();
    assert_eq!(meta.stats, block::BlockStats::default());
    let block = Block::open(&block_dir(tmp.path(), &meta)).unwrap();
    assert_eq!(block.index().series_count(), 0);
    block.verify().unwrap();
    assert_eq!(block.size().chunks + block.size().exemplars, 0);
}

#[test]
fn series_out_of_order_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let chunk = sample_chunk(T0, 3, 1_000, 1.0);
    let b = labels(&[("__name__", "b")]);
    let mut writer = BlockWriter::create(tmp.path(), T0, T0 + RANGE).unwrap();
    writer.add_series(&b, &[chunk.data()], &[]).unwrap();
    for again in [labels(&[("__name__", "a")]), b.clone()] {
        let err = writer.add_series(&again, &[chunk.data()], &[]).unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::OutOfOrder { series } if *series == again.to_string()),
            "{err}"
        );
        assert_eq!(err.path(), writer.tmp_dir());
    }
    // Nothing was written for the refused series: the block goes on.
    let c = labels(&[("__name__", "c")]);
    writer.add_series(&c, &[chunk.data()], &[]).unwrap();
    let meta = writer.finish().unwrap();
    assert_eq!(meta.stats.num_series, 2);
    assert_eq!(meta.stats.num_chunks, 2);
    let block = Block::open(&block_dir(tmp.path(), &meta)).unwrap();
    assert_eq!(block.index().series_labels(1).unwrap(), c);
    block.verify().unwrap();
}

#[test]
fn invalid_chunks_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let up = labels(&[("__name__", "up")]);
    let good = sample_chunk(T0 + 10_000, 3, 1_000, 1.0);
    let at = |mint: i64, maxt: i64| ChunkData {
        mint,
        maxt,
        bytes: &good.bytes,
    };
    let huge = vec![0; MAX_CHUNK_LEN + 1];
    let cases: Vec<(&str, Vec<ChunkData<'_>>, Vec<ChunkData<'_>>)> = vec![
        ("before the block", vec![at(T0 - 1, T0 + 5)], vec![]),
        ("at the exclusive end", vec![at(T0, T0 + RANGE)], vec![]),
        ("mint after maxt", vec![at(T0 + 5, T0 + 4)], vec![]),
        (
            "overlapping sample chunks",
            vec![at(T0, T0 + 10), at(T0 + 10, T0 + 20)],
            vec![],
        ),
        (
            "exemplar chunks going back",
            vec![],
            vec![at(T0 + 10, T0 + 20), at(T0 + 9, T0 + 30)],
        ),
        (
            "no count",
            vec![ChunkData {
                mint: T0,
                maxt: T0,
                bytes: &[1],
            }],
            vec![],
        ),
        (
            "too long",
            vec![ChunkData {
                mint: T0,
                maxt: T0,
                bytes: &huge,
            }],
            vec![],
        ),
    ];
    let mut writer = BlockWriter::create(tmp.path(), T0, T0 + RANGE).unwrap();
    for (case, samples, exemplars) in &cases {
        let err = writer.add_series(&up, samples, exemplars).unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::InvalidChunk { .. }),
            "{case}: {err}"
        );
    }
    // Exemplar chunks may overlap; they only must not start earlier.
    let overlapping = [at(T0 + 10, T0 + 20), at(T0 + 10, T0 + 15)];
    writer.add_series(&up, &[], &overlapping).unwrap();
    let meta = writer.finish().unwrap();
    assert_eq!(meta.stats.num_exemplar_chunks, 2);
}

#[test]
fn empty_time_range_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    for (min, max) in [(T0, T0), (T0, T0 - 1)] {
        let err = BlockWriter::create(tmp.path(), min, max).unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::EmptyTimeRange { .. }),
            "{err}"
        );
    }
    assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 0);
}

#[test]
fn abort_and_drop_remove_the_temporary_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let chunk = sample_chunk(T0, 10, 1_000, 1.0);
    let up = labels(&[("__name__", "up")]);

    let mut writer = BlockWriter::create(tmp.path(), T0, T0 + RANGE).unwrap();
    writer.add_series(&up, &[chunk.data()], &[]).unwrap();
    let dir = writer.tmp_dir().to_path_buf();
    assert!(dir.ends_with(format!("{}.tmp", writer.ulid())));
    assert!(dir.join("chunks/000001").exists());
    writer.abort();
    assert!(!dir.exists());

    let mut writer = BlockWriter::create(tmp.path(), T0, T0 + RANGE).unwrap();
    writer.add_series(&up, &[chunk.data()], &[]).unwrap();
    let dir = writer.tmp_dir().to_path_buf();
    drop(writer);
    assert!(!dir.exists());
    assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 0);
}

#[test]
fn open_all_sorts_removes_leftovers_and_reports_failures() {
    let tmp = tempfile::tempdir().unwrap();
    let blocks = tmp.path().join("blocks");
    let chunk = |t| sample_chunk(t, 10, 1_000, 1.0);
    let up = labels(&[("__name__", "up")]);
    let write = |min: i64| {
        let mut w = BlockWriter::create(&blocks, min, min + RANGE).unwrap();
        w.add_series(&up, &[chunk(min).data()], &[]).unwrap();
        w.finish().unwrap()
    };
    // Written out of time order.
    let late = write(T0 + RANGE);
    let early = write(T0);
    let broken = write(T0 + 2 * RANGE);
    fs::remove_file(block_dir(&blocks, &broken).join("index")).unwrap();

    // A crash mid-write: the writer never ran its Drop.
    let mut crashed = BlockWriter::create(&blocks, T0, T0 + RANGE).unwrap();
    crashed.add_series(&up, &[chunk(T0).data()], &[]).unwrap();
    let leftover = crashed.tmp_dir().to_path_buf();
    std::mem::forget(crashed);
    // Entries that are not blocks are left alone.
    fs::create_dir(blocks.join("lost+found")).unwrap();
    fs::create_dir(blocks.join("not-a-ulid.tmp")).unwrap();
    fs::write(blocks.join("README"), "hello").unwrap();

    let (opened, failed) = block::open_all(&blocks);
    let ulids: Vec<_> = opened.iter().map(Block::ulid).collect();
    assert_eq!(ulids, [early.ulid, late.ulid]);
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].0, block_dir(&blocks, &broken));
    assert_eq!(
        failed[0].1.path(),
        block_dir(&blocks, &broken).join("index")
    );
    assert!(matches!(failed[0].1.kind(), ErrorKind::Io { .. }));
    assert!(!leftover.exists());
    assert!(blocks.join("lost+found").exists());
    assert!(blocks.join("not-a-ulid.tmp").exists());
    assert!(blocks.join("README").exists());

    assert_eq!(block::open_all(&tmp.path().join("none")).0.len(), 0);
}

#[test]
fn block_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Block>();
    check::<block::Error>();
}

// The layout, pinned.

#[test]
fn constants() {
    assert_eq!(SEGMENT_MAGIC.to_be_bytes(), [0x85, 0xbd, 0x40, 0xdd]);
    assert_eq!(
        [
            SEGMENT_VERSION_OFFSET,
            SEGMENT_PADDING_OFFSET,
            SEGMENT_HEADER_LEN,
            CHUNK_ENCODING_LEN,
            CHUNK_CRC_LEN
        ],
        [4, 5, 8, 1, 4]
    );
    assert_eq!(MAX_CHUNK_LEN, 16 * 1024 * 1024);
    assert_eq!(SEGMENT_SIZE, 512 * 1024 * 1024);
    assert_eq!(&SERIES_MAGIC, b"CSER");
    assert_eq!(
        [
            SERIES_VERSION_OFFSET,
            SERIES_FLAGS_OFFSET,
            SERIES_HEADER_CRC_OFFSET,
            SERIES_HEADER_LEN,
            SERIES_END_LEN
        ],
        [4, 5, 8, 12, 4]
    );
    assert_eq!(
        [
            FOOTER_COUNT_OFFSET,
            FOOTER_ENTRIES_CRC_OFFSET,
            FOOTER_ENDS_CRC_OFFSET,
            FOOTER_CRC_OFFSET,
            SERIES_FOOTER_LEN
        ],
        [0, 4, 8, 12, 16]
    );
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The segment example of `FORMAT.md`: one XOR chunk of the sample (1000, 1.0).
#[test]
fn golden_segment() {
    let tmp = tempfile::tempdir().unwrap();
    let mut app = XorAppender::new();
    app.append(1_000, 1.0);
    let mut writer = BlockWriter::create(tmp.path(), 0, 2_000).unwrap();
    let chunk = ChunkData {
        mint: 1_000,
        maxt: 1_000,
        bytes: app.bytes(),
    };
    writer
        .add_series(&labels(&[("a", "x")]), &[chunk], &[])
        .unwrap();
    let meta = writer.finish().unwrap();
    let dir = block_dir(tmp.path(), &meta);
    let segment = fs::read(dir.join("chunks/000001")).unwrap();
    assert_eq!(
        hex(&segment),
        "85 bd 40 dd 01 00 00 00 \
         0c 01 00 01 d0 0f 3f f0 00 00 00 00 00 00 \
         b1 83 43 01"
    );
    assert_eq!(
        crc32c::crc32c(&segment[9..22]),
        u32::from_be_bytes(segment[22..26].try_into().unwrap())
    );
    let block = Block::open(&dir).unwrap();
    assert_eq!(
        block.series_chunks(0).unwrap().samples,
        [ChunkMeta {
            mint: 1_000,
            maxt: 1_000,
            chunk_ref: 8
        }]
    );
}

fn golden_series() -> Vec<SeriesChunks> {
    let meta = |mint, maxt, chunk_ref| ChunkMeta {
        mint,
        maxt,
        chunk_ref,
    };
    vec![
        SeriesChunks {
            samples: vec![meta(1_000, 1_000, 8)],
            exemplars: vec![],
        },
        SeriesChunks {
            samples: vec![meta(1_000, 2_000, 26), meta(3_000, 4_000, 1 << 32 | 8)],
            exemplars: vec![meta(1_500, 1_500, 8)],
        },
    ]
}

/// The series file example of `FORMAT.md`.
#[test]
fn golden_series_file() {
    let mut writer = SeriesFileWriter::new("series");
    for (id, s) in golden_series().iter().enumerate() {
        assert_eq!(writer.add(s).unwrap(), id as u32);
    }
    let bytes = writer.finish();
    assert_eq!(
        hex(&bytes),
        "43 53 45 52 01 00 00 00 4d 0f 50 55 \
         01 00 d0 0f 00 08 \
         02 01 d0 0f e8 07 1a d0 0f e8 07 dc ff ff ff 1f b8 17 00 08 \
         06 00 00 00 1a 00 00 00 \
         02 00 00 00 2d 55 bd 75 f3 3b 0a 9f c9 dc 3c ca"
    );
    let file = SeriesFile::from_bytes("series", bytes.as_slice()).unwrap();
    assert_eq!(file.series_count(), 2);
    for (id, s) in golden_series().iter().enumerate() {
        assert_eq!(&file.get(id as u32).unwrap(), s);
    }
}

// Damage.

/// Flips every byte of `path` in turn (about 2000 of them, evenly spread, in a larger file),
/// calls `check` with the offset, and restores the byte.
fn flip_each_byte(path: &Path, mut check: impl FnMut(usize)) {
    let original = fs::read(path).unwrap();
    let step = (original.len() / 2_000).max(1);
    for offset in (0..original.len()).step_by(step) {
        let mut damaged = original.clone();
        damaged[offset] ^= 0xff;
        fs::write(path, &damaged).unwrap();
        check(offset);
    }
    fs::write(path, &original).unwrap();
}

/// Where an error about a flipped byte must point.
#[derive(Clone, Copy, Debug)]
enum Offset {
    /// At the flipped byte or before it: the field, or the start of its checksummed region.
    AtOrBefore,
    /// Somewhere in the file (the index reports the checksum field of a damaged header).
    InFile,
    /// Anywhere or nowhere: `meta.json` has no checksum, its errors are parse errors.
    Any,
}

/// Two blocks side by side: the one to damage and an intact one.
struct Pair {
    _tmp: tempfile::TempDir,
    blocks: PathBuf,
    victim: PathBuf,
    intact: BlockMeta,
}

fn pair() -> Pair {
    let tmp = tempfile::tempdir().unwrap();
    let blocks = tmp.path().join("blocks");
    let series = fixture();
    let victim = block_dir(&blocks, &write_block(&blocks, &series, 1_024));
    let intact = write_block(&blocks, &series[..2], 1_024);
    Pair {
        _tmp: tmp,
        blocks,
        victim,
        intact,
    }
}

impl Pair {
    /// Asserts that opening the victim fails on `file`, and that `open_all` still opens the
    /// intact block. `offset` says where the error must point: at or before the flipped
    /// byte, anywhere in the file, or nowhere in particular.
    fn open_fails(&self, file: &Path, flipped: usize, offset: Offset) {
        let err = Block::open(&self.victim).expect_err("damaged block opened");
        assert_eq!(err.path(), file, "byte {flipped}: {err}");
        assert!(err.is_corruption() || matches!(err.kind(), ErrorKind::Unsupported { .. }));
        let len = fs::metadata(file).unwrap().len();
        match (offset, err.offset()) {
            (Offset::AtOrBefore, Some(o)) => assert!(o <= flipped as u64, "byte {flipped}: {err}"),
            (Offset::InFile, Some(o)) => assert!(o < len, "byte {flipped}: {err}"),
            (Offset::Any, _) => {}
            (_, None) => panic!("byte {flipped}: no offset: {err}"),
        }
        assert!(err.to_string().starts_with(&file.display().to_string()));

        let (opened, failed) = block::open_all(&self.blocks);
        assert_eq!(opened.len(), 1, "byte {flipped}");
        assert_eq!(opened[0].ulid(), self.intact.ulid);
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].0, self.victim);
    }
}

#[test]
fn damaged_meta_json_is_refused() {
    let p = pair();
    let meta = p.victim.join("meta.json");
    flip_each_byte(&meta, |offset| p.open_fails(&meta, offset, Offset::Any));
    Block::open(&p.victim).unwrap().verify().unwrap();
}

#[test]
fn damaged_index_is_refused() {
    let p = pair();
    let index = p.victim.join("index");
    flip_each_byte(&index, |offset| {
        p.open_fails(&index, offset, Offset::InFile)
    });
    Block::open(&p.victim).unwrap().verify().unwrap();
}

#[test]
fn damaged_series_file_is_refused() {
    let p = pair();
    let series = p.victim.join("series");
    flip_each_byte(&series, |offset| {
        p.open_fails(&series, offset, Offset::AtOrBefore);
    });
    Block::open(&p.victim).unwrap().verify().unwrap();
}

#[test]
fn damaged_chunks_are_found() {
    let p = pair();
    let meta = Block::open(&p.victim).unwrap().meta().clone();
    let segments: Vec<_> = meta
        .files
        .iter()
        .filter(|f| f.crc32c.is_none())
        .map(|f| p.victim.join(&f.name))
        .collect();
    assert!(segments.len() >= 4, "{segments:?}");
    for segment in &segments {
        let exemplars = segment.parent().unwrap().ends_with("exemplars");
        flip_each_byte(segment, |offset| {
            if offset < SEGMENT_HEADER_LEN {
                p.open_fails(segment, offset, Offset::AtOrBefore);
                return;
            }
            let block = Block::open(&p.victim).unwrap();
            let err = block.verify().expect_err("damaged chunk verified");
            assert_eq!(err.path(), segment, "byte {offset}: {err}");
            assert!(err.is_corruption(), "{err}");
            assert!(
                err.offset().unwrap() <= offset as u64,
                "byte {offset}: {err}"
            );

            // Reading the damaged chunk itself fails too, naming the same file.
            let mut failures = 0;
            for id in 0..block.index().series_count() {
                let chunks = block.series_chunks(id).unwrap();
                let metas = if exemplars {
                    chunks.exemplars
                } else {
                    chunks.samples
                };
                for m in metas {
                    let read = if exemplars {
                        block.exemplar_chunk(m.chunk_ref)
                    } else {
                        block.chunk(m.chunk_ref)
                    };
                    if let Err(e) = read {
                        assert_eq!(e.path(), segment);
                        failures += 1;
                    }
                }
            }
            assert_eq!(failures, 1, "byte {offset}");
        });
    }
    Block::open(&p.victim).unwrap().verify().unwrap();
}

#[test]
fn chunk_errors_say_where() {
    let p = pair();
    let segment = p.victim.join("chunks/000001");
    let mut bytes = fs::read(&segment).unwrap();
    // The first chunk's data: after the header, a 2-byte length and the encoding.
    bytes[SEGMENT_HEADER_LEN + 3] ^= 0x01;
    fs::write(&segment, &bytes).unwrap();
    let block = Block::open(&p.victim).unwrap();
    let first = block.series_chunks(0).unwrap().samples[0].chunk_ref;
    assert_eq!(first, SEGMENT_HEADER_LEN as u64);
    let err = block.chunk(first).unwrap_err();
    let message = err.to_string();
    let expected = format!(
        "{}: at byte 8: chunk checksum mismatch (stored 0x",
        segment.display()
    );
    assert!(message.starts_with(&expected), "{message}");
    assert!(message.contains(", computed 0x"), "{message}");
    assert_eq!(err.offset(), Some(8));
    assert!(matches!(
        err.kind(),
        ErrorKind::Checksum { what: "chunk", .. }
    ));

    // A reference past the segments, into a header, past the end; an exemplar read of a
    // sample chunk.
    for bad in [7 << 32 | 8, 3, 1 << 31] {
        let err = block.chunk(bad).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::BadChunkRef { .. }), "{err}");
    }
    let second = block.series_chunks(0).unwrap().samples[1].chunk_ref;
    block.chunk(second).unwrap();
    let err = block.exemplar_chunk(second).unwrap_err();
    assert!(err.path().starts_with(p.victim.join("exemplars")), "{err}");
}

#[test]
fn missing_or_truncated_files_are_refused() {
    let p = pair();
    let segment = p.victim.join("exemplars/000002");
    let bytes = fs::read(&segment).unwrap();
    fs::write(&segment, &bytes[..bytes.len() - 1]).unwrap();
    let err = Block::open(&p.victim).unwrap_err();
    assert_eq!(err.path(), segment);
    assert!(
        matches!(err.kind(), ErrorKind::SizeMismatch { recorded, actual } if *recorded == *actual + 1),
        "{err}"
    );
    fs::remove_file(&segment).unwrap();
    let err = Block::open(&p.victim).unwrap_err();
    assert_eq!(err.path(), segment);
    assert!(matches!(err.kind(), ErrorKind::Io { .. }), "{err}");
}

/// Edits `meta.json` as JSON.
/// Edits `meta.json` and seals it again with a matching `crc32c`, as a writer that lied
/// would: the checks behind the checksum are what is tested.
fn edit_meta(dir: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let path = dir.join("meta.json");
    let mut json: serde_json::Value = serde_json::from_slice(&fs::read(&path).unwrap()).unwrap();
    edit(&mut json);
    let meta: BlockMeta = serde_json::from_value(json).unwrap();
    fs::write(&path, meta.to_json().unwrap()).unwrap();
}

#[test]
fn meta_json_changed_without_its_checksum_is_caught() {
    let p = pair();
    let path = p.victim.join("meta.json");
    let text = fs::read_to_string(&path).unwrap();
    // One digit of maxTime: still valid JSON, still a plausible block.
    let at = text.find("\"maxTime\": ").unwrap() + "\"maxTime\": ".len();
    let mut bytes = text.into_bytes();
    bytes[at] = if bytes[at] == b'9' { b'8' } else { b'9' };
    fs::write(&path, &bytes).unwrap();
    let err = Block::open(&p.victim).unwrap_err();
    assert_eq!(err.path(), path);
    assert!(err.to_string().contains("checksum"), "{err}");
}

#[test]
fn meta_json_that_lies_is_caught() {
    let p = pair();
    let original = fs::read(p.victim.join("meta.json")).unwrap();
    let restore = || fs::write(p.victim.join("meta.json"), &original).unwrap();
    let meta_path = p.victim.join("meta.json");

    // Valid JSON, wrong content: caught at open.
    type Edit = Box<dyn Fn(&mut serde_json::Value)>;
    let cases: Vec<(&str, Edit, PathBuf)> = vec![
        (
            "index CRC",
            Box::new(|j| j["files"][0]["crc32c"] = 1.into()),
            p.victim.join("index"),
        ),
        (
            "series size",
            Box::new(|j| j["files"][1]["size"] = 1.into()),
            p.victim.join("series"),
        ),
        (
            "segment size",
            Box::new(|j| j["files"][2]["size"] = 100_000.into()),
            p.victim.join("chunks/000001"),
        ),
        (
            "another ulid",
            Box::new(|j| j["ulid"] = ulid::Ulid::new().to_string().into()),
            meta_path.clone(),
        ),
        (
            "version",
            Box::new(|j| j["version"] = 2.into()),
            meta_path.clone(),
        ),
        (
            "empty range",
            Box::new(|j| j["maxTime"] = j["minTime"].clone()),
            meta_path.clone(),
        ),
        (
            "numSeries",
            Box::new(|j| j["stats"]["numSeries"] = 1.into()),
            meta_path.clone(),
        ),
        (
            "unknown file",
            Box::new(|j| {
                j["files"]
                    .as_array_mut()
                    .unwrap()
                    .push(serde_json::json!({"name": "tombstones", "size": 0}));
            }),
            meta_path.clone(),
        ),
        (
            "segment gap",
            Box::new(|j| {
                j["files"].as_array_mut().unwrap().remove(2);
            }),
            meta_path.clone(),
        ),
        (
            "no index",
            Box::new(|j| {
                j["files"].as_array_mut().unwrap().remove(0);
            }),
            meta_path.clone(),
        ),
    ];
    for (case, edit, file) in cases {
        edit_meta(&p.victim, edit);
        let err = Block::open(&p.victim).unwrap_err();
        assert_eq!(err.path(), file, "{case}: {err}");
        if file != meta_path {
            assert!(err.to_string().contains("meta.json"), "{case}: {err}");
        }
        restore();
    }

    // Counts that only the chunks can contradict: caught by verify.
    for field in [
        "numSamples",
        "numChunks",
        "numExemplars",
        "numExemplarChunks",
    ] {
        edit_meta(&p.victim, |j| {
            j["stats"][field] = (j["stats"][field].as_u64().unwrap() + 1).into();
        });
        let err = Block::open(&p.victim).unwrap().verify().unwrap_err();
        assert_eq!(err.path(), meta_path);
        assert!(
            matches!(err.kind(), ErrorKind::Stats { field: f, .. } if *f == field),
            "{err}"
        );
        restore();
    }

    // A chunk outside the block's time range, once the range is narrowed.
    edit_meta(&p.victim, |j| {
        j["maxTime"] = (T0 + RANGE - 1).into();
    });
    let err = Block::open(&p.victim).unwrap().verify().unwrap_err();
    assert_eq!(err.path(), p.victim.join("series"), "{err}");
    assert!(
        matches!(err.kind(), ErrorKind::BadChunkMeta { .. }),
        "{err}"
    );
    restore();
    Block::open(&p.victim).unwrap().verify().unwrap();
}

// Round trips of the series file.

fn chunk_meta() -> impl Strategy<Value = ChunkMeta> {
    (any::<i64>(), any::<i64>(), any::<u64>()).prop_map(|(mint, maxt, chunk_ref)| ChunkMeta {
        mint,
        maxt,
        chunk_ref,
    })
}

fn series_chunks() -> impl Strategy<Value = SeriesChunks> {
    (
        prop::collection::vec(chunk_meta(), 0..6),
        prop::collection::vec(chunk_meta(), 0..4),
    )
        .prop_map(|(samples, exemplars)| SeriesChunks { samples, exemplars })
}

proptest! {
    #[test]
    fn series_file_round_trips(series in prop::collection::vec(series_chunks(), 0..20)) {
        let mut writer = SeriesFileWriter::new("series");
        for s in &series {
            writer.add(s).unwrap();
        }
        prop_assert_eq!(writer.len(), series.len());
        let bytes = writer.finish();
        let file = SeriesFile::from_bytes("series", bytes.as_slice()).unwrap();
        prop_assert_eq!(file.series_count() as usize, series.len());
        for (id, s) in series.iter().enumerate() {
            prop_assert_eq!(&file.get(id as u32).unwrap(), s);
        }
        let past = file.get(series.len() as u32).unwrap_err();
        prop_assert!(matches!(past.kind(), ErrorKind::NoSuchSeries { .. }), "{}", past);
    }

    #[test]
    fn series_file_of_any_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        if let Ok(file) = SeriesFile::from_bytes("series", bytes.as_slice()) {
            for id in 0..file.series_count().min(100) {
                let _ = file.get(id);
            }
        }
    }

    #[test]
    fn series_file_damage_is_found(
        series in prop::collection::vec(series_chunks(), 1..8),
        at in any::<prop::sample::Index>(),
        flip in 1..=255u8,
    ) {
        let mut writer = SeriesFileWriter::new("series");
        for s in &series {
            writer.add(s).unwrap();
        }
        let mut bytes = writer.finish();
        let offset = at.index(bytes.len());
        bytes[offset] ^= flip;
        let err = SeriesFile::from_bytes("series", bytes.as_slice()).unwrap_err();
        prop_assert!(err.offset().unwrap() <= offset as u64, "{}", err);
    }
}
