//! Encoding sample and exemplar lists into chunks and decoding chunks back, for blocks
//! (import, compaction) and queries.

use cairn_chunkenc::exemplar::{ExemplarAppender, ExemplarIterator};
use cairn_chunkenc::{SAMPLES_PER_CHUNK, XorAppender, XorIterator};
use cairn_model::{Labels, TimestampMs};

use crate::head::{chunk_end_time, range_end};

/// An exemplar as stored: its time, value and labels.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredExemplar {
    /// Milliseconds since the epoch.
    pub t: TimestampMs,
    /// The value, bit-exact.
    pub v: f64,
    /// Its labels (`trace_id`, `span_id`, ...).
    pub labels: Labels,
}

/// An encoded chunk with its time range.
pub(crate) struct EncodedChunk {
    pub(crate) mint: TimestampMs,
    pub(crate) maxt: TimestampMs,
    pub(crate) bytes: Vec<u8>,
}

/// Cuts time-ordered samples into XOR chunks as the head would: the same rule as
/// Prometheus' head (120 samples as target, spread over the block window, never across a
/// window boundary), and never past 1 KiB.
pub(crate) fn encode_samples(samples: &[(TimestampMs, f64)], range: i64) -> Vec<EncodedChunk> {
    let mut out = Vec::new();
    let mut cur: Option<(XorAppender, TimestampMs, TimestampMs)> = None;
    let mut next_at = TimestampMs::MIN;
    for &(t, v) in samples {
        let cut = match &cur {
            None => true,
            Some((app, mint, maxt)) => {
                let n = app.num_samples();
                if n == SAMPLES_PER_CHUNK / 4 {
                    next_at = chunk_end_time(*mint, *maxt, next_at);
                }
                t >= next_at || n >= 2 * SAMPLES_PER_CHUNK || app.is_full()
            }
        };
        if cut {
            if let Some((app, mint, maxt)) = cur.take() {
                out.push(EncodedChunk {
                    mint,
                    maxt,
                    bytes: app.into_bytes(),
                });
            }
            next_at = range_end(t, range);
        }
        let (app, _, maxt) = cur.get_or_insert_with(|| (XorAppender::new(), t, t));
        app.append(t, v);
        *maxt = t;
    }
    if let Some((app, mint, maxt)) = cur {
        out.push(EncodedChunk {
            mint,
            maxt,
            bytes: app.into_bytes(),
        });
    }
    out
}

/// Cuts time-ordered exemplars into exemplar chunks (4 KiB each, never across a window).
/// Exemplars the chunk format refuses (over its label limits) are skipped and counted.
pub(crate) fn encode_exemplars(
    exemplars: &[StoredExemplar],
    range: i64,
) -> (Vec<EncodedChunk>, u64) {
    let mut out = Vec::new();
    let mut refused = 0;
    let mut cur: Option<(ExemplarAppender, TimestampMs, TimestampMs)> = None;
    for e in exemplars {
        let cut = match &cur {
            None => true,
            Some((app, mint, _)) => app.is_full() || e.t >= range_end(*mint, range),
        };
        if cut
            && let Some((app, mint, maxt)) = cur.take()
            && app.num_exemplars() > 0
        {
            out.push(EncodedChunk {
                mint,
                maxt,
                bytes: app.into_bytes(),
            });
        }
        let (app, _, maxt) = cur.get_or_insert_with(|| (ExemplarAppender::new(), e.t, e.t));
        let pairs: Vec<(&str, &str)> = e
            .labels
            .iter()
            .map(|l| (l.name.as_str(), l.value.as_str()))
            .collect();
        if app.append(e.t, e.v, &pairs).is_ok() {
            *maxt = e.t;
        } else {
            refused += 1;
        }
    }
    if let Some((app, mint, maxt)) = cur
        && app.num_exemplars() > 0
    {
        out.push(EncodedChunk {
            mint,
            maxt,
            bytes: app.into_bytes(),
        });
    }
    (out, refused)
}

/// Decodes a sample chunk's samples within `[mint, maxt]` onto `out`.
///
/// # Errors
/// The decoder's account of the damage.
pub(crate) fn decode_samples(
    bytes: &[u8],
    mint: TimestampMs,
    maxt: TimestampMs,
    out: &mut Vec<(TimestampMs, f64)>,
) -> Result<(), String> {
    let mut it = XorIterator::new(bytes);
    while let Some((t, v)) = it.try_next().map_err(|e| e.to_string())? {
        if t > maxt {
            break;
        }
        if t >= mint {
            out.push((t, v));
        }
    }
    Ok(())
}

/// Decodes an exemplar chunk's exemplars within `[mint, maxt]` onto `out`.
///
/// # Errors
/// The decoder's account of the damage.
pub(crate) fn decode_exemplars(
    bytes: &[u8],
    mint: TimestampMs,
    maxt: TimestampMs,
    out: &mut Vec<StoredExemplar>,
) -> Result<(), String> {
    let mut it = ExemplarIterator::new(bytes);
    while let Some(e) = it.try_next().map_err(|e| e.to_string())? {
        if e.t > maxt {
            break;
        }
        if e.t >= mint {
            out.push(StoredExemplar {
                t: e.t,
                v: e.v,
                labels: Labels::from_pairs(e.labels.iter().map(|(n, v)| (n.as_ref(), v.as_ref()))),
            });
        }
    }
    Ok(())
}

/// The count in a chunk's 2-byte header (0 if the chunk is shorter).
pub(crate) fn chunk_count(bytes: &[u8]) -> u32 {
    bytes
        .first_chunk::<2>()
        .map_or(0, |c| u32::from(u16::from_be_bytes(*c)))
}

/// Merges time-ordered sample lists, keeping the first list's sample where timestamps tie.
pub(crate) fn merge_samples(lists: Vec<Vec<(TimestampMs, f64)>>) -> Vec<(TimestampMs, f64)> {
    let mut all: Vec<(usize, TimestampMs, f64)> = lists
        .into_iter()
        .enumerate()
        .flat_map(|(i, l)| l.into_iter().map(move |(t, v)| (i, t, v)))
        .collect();
    all.sort_by_key(|&(i, t, _)| (t, i));
    all.dedup_by_key(|&mut (_, t, _)| t);
    all.into_iter().map(|(_, t, v)| (t, v)).collect()
}

/// Merges exemplar lists: ordered by time, identical exemplars (time, value bits, labels)
/// kept once.
pub(crate) fn merge_exemplars(lists: Vec<Vec<StoredExemplar>>) -> Vec<StoredExemplar> {
    let mut all: Vec<StoredExemplar> = lists.into_iter().flatten().collect();
    all.sort_by(|a, b| {
        a.t.cmp(&b.t)
            .then(a.v.to_bits().cmp(&b.v.to_bits()))
            .then(a.labels.cmp(&b.labels))
    });
    all.dedup_by(|a, b| a.t == b.t && a.v.to_bits() == b.v.to_bits() && a.labels == b.labels);
    all
}
