//! Golden chunks written by Prometheus itself (`promtool tsdb create-blocks-from
//! openmetrics`, see `testdata/chunkenc/README.md`): cairn decodes them to the dumped
//! samples and, appending those samples, writes the very same bytes.

use std::fs;

use cairn_chunkenc::{ErrorKind, XorAppender, XorIterator};

use crate::common::{Bits, decode, encode, testdata};

struct Golden {
    name: String,
    chunk: Vec<u8>,
    samples: Vec<Bits>,
}

/// Every `golden/chunk_NN.bin` with its `chunk_NN.samples`.
fn goldens() -> Vec<Golden> {
    let dir = testdata().join("golden");
    let mut names: Vec<String> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().file_name().into_string().unwrap())
        .filter_map(|name| name.strip_suffix(".samples").map(str::to_owned))
        .collect();
    names.sort();
    assert!(
        names.len() >= 9,
        "golden chunks missing in {}",
        dir.display()
    );
    names
        .into_iter()
        .map(|name| {
            let chunk = fs::read(dir.join(format!("{name}.bin"))).unwrap();
            let text = fs::read_to_string(dir.join(format!("{name}.samples"))).unwrap();
            let samples = text
                .lines()
                .filter(|l| !l.starts_with('#'))
                .map(|line| {
                    let fields: Vec<&str> = line.split(' ').collect();
                    let [t, _decimal, bits] = fields[..] else {
                        panic!("{name}: bad line {line:?}")
                    };
                    (t.parse().unwrap(), u64::from_str_radix(bits, 16).unwrap())
                })
                .collect();
            Golden {
                name,
                chunk,
                samples,
            }
        })
        .collect()
}

#[test]
fn cairn_decodes_prometheus_chunks_bit_exact() {
    for g in goldens() {
        assert_eq!(decode(&g.chunk).unwrap(), g.samples, "{}", g.name);
        assert_eq!(
            XorIterator::new(&g.chunk).num_samples(),
            g.samples.len(),
            "{}",
            g.name
        );
    }
}

#[test]
fn cairn_encodes_the_same_bytes_as_prometheus() {
    for g in goldens() {
        assert_eq!(encode(&g.samples), g.chunk, "{}", g.name);
    }
}

#[test]
fn golden_chunks_reopen_and_continue() {
    for g in goldens() {
        let mut app = XorAppender::resume(g.chunk.clone()).unwrap();
        assert_eq!(
            app.bytes(),
            g.chunk,
            "{}: reopening changes nothing",
            g.name
        );
        let (t, v) = app.last().unwrap();
        app.append(t + 15_000, v + 1.0);
        let mut want = g.samples.clone();
        want.push((t + 15_000, (v + 1.0).to_bits()));
        assert_eq!(decode(app.bytes()).unwrap(), want, "{}", g.name);
    }
}

#[test]
fn seek_in_golden_chunks() {
    for g in goldens() {
        for (i, &(t, v)) in g.samples.iter().enumerate().step_by(13) {
            let mut it = XorIterator::new(&g.chunk);
            let found = it.seek(t).map(|(t, v)| (t, v.to_bits()));
            assert_eq!(found, Some((t, v)), "{}", g.name);
            assert_eq!(it.count(), g.samples.len() - i - 1, "{}", g.name);
        }
    }
}

#[test]
fn truncated_golden_chunk_is_an_error() {
    let chunk = fs::read(testdata().join("golden/truncated.bin")).unwrap();
    let err = decode(&chunk).unwrap_err();
    assert!(matches!(err.kind(), ErrorKind::Truncated { .. }), "{err}");
    assert_eq!(err.offset(), chunk.len());
    assert!(
        err.to_string()
            .contains(&format!("byte offset {}", chunk.len())),
        "{err}"
    );
    assert_eq!(XorAppender::resume(chunk).unwrap_err(), err);
}
