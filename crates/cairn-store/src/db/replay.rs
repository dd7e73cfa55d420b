//! Replaying the write-ahead log and the head chunk files into the head at open.

use super::*;

/// Replays the log into the head: series first (the whole log, so a series logged again
/// after a truncation is known before its samples), then the chunks recovered from
/// `chunks_head/`, then samples and exemplars.
pub(super) fn replay(
    wal: &mut Wal,
    head: &mut Head,
    files: &mut HeadChunks,
    recovered: &[crate::head_chunks::RecoveredChunk],
    segment_max_t: &mut BTreeMap<u32, TimestampMs>,
    counts: &mut ReplayCounts,
) -> Result<(), Error> {
    let start = RecordPos::start_of(wal.first_segment());
    let mut aliases: crate::head::RefMap<u64> = crate::head::RefMap::default();
    {
        let mut reader = wal.reader(start)?;
        while let Some((_, bytes)) = reader.next_record()? {
            counts.records += 1;
            for rec in Record::decode_all(bytes) {
                let Ok(Record::Series(series)) = rec else {
                    continue;
                };
                for s in series {
                    let r = head.replay_series(s.series_ref, &s.labels.to_labels())?;
                    if r.0 != s.series_ref {
                        aliases.insert(s.series_ref, r.0);
                    }
                }
            }
        }
    }
    let resolve = |r: u64| SeriesRef(aliases.get(&r).copied().unwrap_or(r));

    if let Some(max) = recovered.iter().map(|c| c.series_ref).max() {
        head.reserve_refs_through(max);
    }
    for c in recovered {
        let count = match files.chunk(c.chunk_ref) {
            Ok(bytes) => chunk_count(&bytes),
            Err(_) => continue,
        };
        let meta = HeadChunkMeta {
            mint: c.mint,
            maxt: c.maxt,
            chunk_ref: c.chunk_ref,
        };
        head.attach_recovered(resolve(c.series_ref), c.encoding, meta, count);
        counts.mapped_chunks += 1;
    }
    head.finish_recovery();
    for (r, chunk_ref) in head.recovered_exemplar_tails() {
        if let Ok(bytes) = files.chunk(chunk_ref) {
            head.set_recovered_newest_exemplar(r, &bytes);
        }
    }
    for (r, chunk_ref) in head.recovered_tails() {
        let Ok(bytes) = files.chunk(chunk_ref) else {
            continue;
        };
        if let Some(last) = cairn_chunkenc::XorIterator::new(&bytes).last() {
            head.set_recovered_last(r, last.0, last.1.to_bits());
        }
    }

    let mut reader = wal.reader(start)?;
    while let Some((pos, bytes)) = reader.next_record()? {
        for rec in Record::decode_all(bytes) {
            match rec {
                Ok(Record::Samples(samples)) => {
                    for s in samples {
                        note_segment(segment_max_t, pos.segment, s.t);
                        if head.replay_sample(resolve(s.series_ref), s.t, s.v, files)? {
                            counts.samples += 1;
                        }
                    }
                }
                Ok(Record::Exemplars(exemplars)) => {
                    for e in exemplars {
                        note_segment(segment_max_t, pos.segment, e.t);
                        let pending = PendingExemplar::new(
                            resolve(e.series_ref),
                            e.t,
                            e.v,
                            &e.labels.to_labels(),
                        );
                        if head.replay_exemplar(&pending, files)? {
                            counts.exemplars += 1;
                        }
                    }
                }
                // A record that does not decode was checksummed intact: it was written by
                // a newer cairn, or is a bug; its commit is skipped, the rest replays.
                _ => {}
            }
        }
    }
    Ok(())
}

pub(super) fn note_segment(map: &mut BTreeMap<u32, TimestampMs>, segment: u32, t: TimestampMs) {
    let e = map.entry(segment).or_insert(TimestampMs::MIN);
    *e = (*e).max(t);
}
