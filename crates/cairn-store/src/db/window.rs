//! Writing a window into a block: new series (from the head or an import) merged with the
//! blocks already holding the window, which the new block replaces.

use super::*;

impl Db {
    /// Writes window `[start, end)`: `input` (series in label order) merged with the
    /// blocks already holding that window, into one new block that replaces them. Writes
    /// nothing when `input` adds no sample and no exemplar to what those blocks hold.
    pub(crate) fn write_window(
        &self,
        start: TimestampMs,
        end: TimestampMs,
        level: u32,
        input: impl Iterator<Item = Result<NewSeries, Error>>,
    ) -> Result<WindowOutcome, Error> {
        let _writing = self
            .window_writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let range = self.options.block_range_ms;
        let existing: Vec<Arc<Block>> = self
            .blocks()
            .into_iter()
            // Only blocks within the window are merged (and replaced): one reaching past it
            // (made with another block range) stays, and queries merge the overlap.
            .filter(|b| b.meta().min_time >= start && b.meta().max_time <= end)
            .collect();
        // Blocks overlapping the window without lying within it: what they hold is not
        // written again.
        let held: Vec<Arc<Block>> = self
            .blocks()
            .into_iter()
            .filter(|b| b.meta().min_time < end && b.meta().max_time > start)
            .filter(|b| !(b.meta().min_time >= start && b.meta().max_time <= end))
            .collect();
        let mut writer = BlockWriter::create(&self.dir.join("blocks"), start, end)?;
        let parents: Vec<ulid::Ulid> = existing.iter().map(|b| b.ulid()).collect();
        let mut sources: Vec<ulid::Ulid> = parents.clone();
        sources.push(writer.ulid());
        writer.set_compaction(level, sources, parents.clone());

        let mut outcome = WindowOutcome::default();
        let mut cursors: Vec<BlockCursor> = existing
            .iter()
            .map(|b| BlockCursor::new(Arc::clone(b)))
            .collect::<Result<_, _>>()?;
        let mut input = input.peekable();
        loop {
            // The smallest label set among the input and the existing blocks.
            let next_new = match input.peek() {
                Some(Err(_)) => {
                    return Err(input.next().and_then(Result::err).unwrap_or(Error::Closed));
                }
                Some(Ok(s)) => Some(s.labels.clone()),
                None => None,
            };
            let next_old = cursors
                .iter()
                .filter_map(|c| c.current.as_ref().map(|(l, _)| l))
                .min()
                .cloned();
            let labels = match (next_new, next_old) {
                (None, None) => break,
                (Some(a), None) => a,
                (None, Some(b)) => b,
                (Some(a), Some(b)) => a.min(b),
            };
            let new = match input.peek() {
                Some(Ok(s)) if s.labels == labels => input.next().and_then(Result::ok),
                _ => None,
            };
            let mut old = Vec::new();
            for c in &mut cursors {
                if c.current.as_ref().is_some_and(|(l, _)| *l == labels) {
                    old.push(c.take()?);
                }
            }
            let new = match new {
                Some(n) if !held.is_empty() => Some(without_held(n, &held, start, end)?),
                other => other,
            };
            self.write_series(
                &mut writer,
                &labels,
                new,
                old,
                start,
                end,
                range,
                &mut outcome,
            )?;
        }
        if outcome.samples_added == 0 && outcome.exemplars_added == 0 {
            writer.abort();
            return Ok(outcome);
        }
        let meta = writer.finish()?;
        outcome.block = Some(meta.ulid);
        let block = Block::open(&self.dir.join("blocks").join(meta.ulid.to_string()))?;
        outcome.bytes_written = block.size().total();
        {
            let mut blocks = self
                .blocks
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            blocks.retain(|b| !parents.contains(&b.ulid()));
            blocks.push(Arc::new(block));
            blocks.sort_by_key(|b| (b.meta().min_time, b.ulid()));
        }
        for b in &existing {
            fs::remove_dir_all(b.dir()).map_err(Error::io("remove replaced block", b.dir()))?;
        }
        sync_dir(&self.dir.join("blocks"))?;
        Ok(outcome)
    }

    /// Writes one series of a window: as given when no existing block has it (chunks are
    /// copied as they are), merged otherwise.
    #[allow(
        clippy::too_many_arguments,
        reason = "one call site, the window's whole state"
    )]
    fn write_series(
        &self,
        writer: &mut BlockWriter,
        labels: &Labels,
        new: Option<NewSeries>,
        old: Vec<OldSeries>,
        start: TimestampMs,
        end: TimestampMs,
        range: i64,
        outcome: &mut WindowOutcome,
    ) -> Result<(), Error> {
        let maxt = end.saturating_sub(1);
        let in_window = |mint: TimestampMs, max: TimestampMs| mint >= start && max <= maxt;
        if old.is_empty() {
            let Some(new) = new else {
                return Ok(());
            };
            // Fast path: chunks already cut for this window go in as they are.
            let samples: Vec<(TimestampMs, TimestampMs, std::borrow::Cow<'_, [u8]>)> =
                match &new.samples {
                    SampleInput::Chunks(c) if c.iter().all(|(a, b, _)| in_window(*a, *b)) => c
                        .iter()
                        .map(|(a, b, bytes)| (*a, *b, std::borrow::Cow::Borrowed(&bytes[..])))
                        .collect(),
                    other => owned(encode_samples(&other.decode(start, maxt)?, range)),
                };
            let (exemplars, refused) = match &new.exemplars {
                ExemplarInput::Chunks(c) if c.iter().all(|(a, b, _)| in_window(*a, *b)) => (
                    c.iter()
                        .map(|(a, b, bytes)| (*a, *b, std::borrow::Cow::Borrowed(&bytes[..])))
                        .collect(),
                    0,
                ),
                other => {
                    let (chunks, refused) = encode_exemplars(&other.decode(start, maxt)?, range);
                    (owned(chunks), refused)
                }
            };
            outcome.exemplars_refused += refused;
            outcome.samples_added += samples
                .iter()
                .map(|(_, _, b)| u64::from(chunk_count(b)))
                .sum::<u64>();
            outcome.exemplars_added += exemplars
                .iter()
                .map(|(_, _, b)| u64::from(chunk_count(b)))
                .sum::<u64>();
            return add_series(writer, labels, &samples, &exemplars);
        }
        if new.is_none() && old.len() == 1 {
            // Unchanged: copy the old block's chunks.
            let o = old.into_iter().next().ok_or(Error::Closed)?;
            let samples = o.sample_chunks()?;
            let exemplars = o.exemplar_chunks()?;
            return add_series(writer, labels, &samples, &exemplars);
        }
        let mut sample_lists = Vec::new();
        let mut exemplar_lists = Vec::new();
        for o in &old {
            sample_lists.push(o.samples(start, maxt)?);
            exemplar_lists.push(o.exemplars(start, maxt)?);
        }
        let before_samples = merge_samples(sample_lists.clone()).len();
        let before_exemplars = merge_exemplars(exemplar_lists.clone()).len();
        if let Some(new) = &new {
            sample_lists.push(new.samples.decode(start, maxt)?);
            exemplar_lists.push(new.exemplars.decode(start, maxt)?);
        }
        let samples = merge_samples(sample_lists);
        let exemplars = merge_exemplars(exemplar_lists);
        outcome.samples_added += (samples.len() - before_samples.min(samples.len())) as u64;
        outcome.exemplars_added += (exemplars.len() - before_exemplars.min(exemplars.len())) as u64;
        let sample_chunks = owned(encode_samples(&samples, range));
        let (exemplar_chunks, refused) = encode_exemplars(&exemplars, range);
        outcome.exemplars_refused += refused;
        add_series(writer, labels, &sample_chunks, &owned(exemplar_chunks))
    }
}

/// A new series less the samples (by timestamp) and exemplars that blocks overlapping the
/// window already hold.
pub(super) fn without_held(
    new: NewSeries,
    held: &[Arc<Block>],
    start: TimestampMs,
    end: TimestampMs,
) -> Result<NewSeries, Error> {
    let maxt = end.saturating_sub(1);
    let mut times = std::collections::HashSet::new();
    let mut exemplars = Vec::new();
    for b in held {
        let matchers: Vec<Matcher> = new
            .labels
            .iter()
            .map(|l| Matcher::equal(l.name.clone(), l.value.clone()))
            .collect();
        for id in &b.index().select(&matchers) {
            if b.index().series_labels(id).as_ref() != Some(&new.labels) {
                continue;
            }
            let o = OldSeries {
                block: Arc::clone(b),
                id,
            };
            times.extend(o.samples(start, maxt)?.into_iter().map(|(t, _)| t));
            exemplars.extend(o.exemplars(start, maxt)?);
        }
    }
    if times.is_empty() && exemplars.is_empty() {
        return Ok(new);
    }
    let mut samples = new.samples.decode(start, maxt)?;
    samples.retain(|(t, _)| !times.contains(t));
    let mut own = new.exemplars.decode(start, maxt)?;
    own.retain(|e| {
        !exemplars
            .iter()
            .any(|h| h.t == e.t && h.v.to_bits() == e.v.to_bits() && h.labels == e.labels)
    });
    Ok(NewSeries {
        labels: new.labels,
        samples: SampleInput::Raw(samples),
        exemplars: ExemplarInput::Raw(own),
    })
}

pub(super) fn owned(
    chunks: Vec<EncodedChunk>,
) -> Vec<(TimestampMs, TimestampMs, std::borrow::Cow<'static, [u8]>)> {
    chunks
        .into_iter()
        .map(|c| (c.mint, c.maxt, std::borrow::Cow::Owned(c.bytes)))
        .collect()
}

pub(super) fn add_series(
    writer: &mut BlockWriter,
    labels: &Labels,
    samples: &[(TimestampMs, TimestampMs, std::borrow::Cow<'_, [u8]>)],
    exemplars: &[(TimestampMs, TimestampMs, std::borrow::Cow<'_, [u8]>)],
) -> Result<(), Error> {
    writer.add_series(labels, &chunk_data(samples), &chunk_data(exemplars))?;
    Ok(())
}

pub(super) fn chunk_data<'a>(
    chunks: &'a [(TimestampMs, TimestampMs, std::borrow::Cow<'_, [u8]>)],
) -> Vec<ChunkData<'a>> {
    chunks
        .iter()
        .map(|(mint, maxt, bytes)| ChunkData {
            mint: *mint,
            maxt: *maxt,
            bytes,
        })
        .collect()
}

/// What writing a window did.
#[derive(Clone, Debug, Default)]
pub(crate) struct WindowOutcome {
    pub(crate) samples_added: u64,
    pub(crate) exemplars_added: u64,
    pub(crate) exemplars_refused: u64,
    pub(crate) block: Option<ulid::Ulid>,
    pub(crate) bytes_written: u64,
}

/// A series to write into a window.
pub(crate) struct NewSeries {
    pub(crate) labels: Labels,
    pub(crate) samples: SampleInput,
    pub(crate) exemplars: ExemplarInput,
}

/// A new series' samples: chunks already cut (from the head) or a time-ordered list.
pub(crate) enum SampleInput {
    Chunks(Vec<(TimestampMs, TimestampMs, ChunkSource)>),
    Raw(Vec<(TimestampMs, f64)>),
}

impl SampleInput {
    fn decode(
        &self,
        mint: TimestampMs,
        maxt: TimestampMs,
    ) -> Result<Vec<(TimestampMs, f64)>, Error> {
        match self {
            SampleInput::Raw(s) => Ok(s
                .iter()
                .copied()
                .filter(|(t, _)| (mint..=maxt).contains(t))
                .collect()),
            SampleInput::Chunks(chunks) => {
                let mut out = Vec::new();
                for (_, _, bytes) in chunks {
                    decode_samples(bytes, mint, maxt, &mut out).map_err(|what| Error::Chunk {
                        path: PathBuf::from("chunks_head"),
                        chunk_ref: 0,
                        what,
                    })?;
                }
                Ok(out)
            }
        }
    }
}

/// A new series' exemplars.
pub(crate) enum ExemplarInput {
    Chunks(Vec<(TimestampMs, TimestampMs, ChunkSource)>),
    Raw(Vec<StoredExemplar>),
}

impl ExemplarInput {
    fn decode(&self, mint: TimestampMs, maxt: TimestampMs) -> Result<Vec<StoredExemplar>, Error> {
        match self {
            ExemplarInput::Raw(s) => Ok(s
                .iter()
                .filter(|e| (mint..=maxt).contains(&e.t))
                .cloned()
                .collect()),
            ExemplarInput::Chunks(chunks) => {
                let mut out = Vec::new();
                for (_, _, bytes) in chunks {
                    decode_exemplars(bytes, mint, maxt, &mut out).map_err(|what| Error::Chunk {
                        path: PathBuf::from("chunks_head"),
                        chunk_ref: 0,
                        what,
                    })?;
                }
                Ok(out)
            }
        }
    }
}

/// A chunk with its time range, owned or borrowed.
pub(super) type OwnedChunk = (TimestampMs, TimestampMs, std::borrow::Cow<'static, [u8]>);

/// A series of an existing block.
pub(super) struct OldSeries {
    pub(super) block: Arc<Block>,
    pub(super) id: u32,
}

impl OldSeries {
    pub(super) fn chunk_error(&self, kind: &str, chunk_ref: u64, what: String) -> Error {
        Error::Chunk {
            path: self.block.dir().join(kind),
            chunk_ref,
            what,
        }
    }

    pub(super) fn samples(
        &self,
        mint: TimestampMs,
        maxt: TimestampMs,
    ) -> Result<Vec<(TimestampMs, f64)>, Error> {
        let mut out = Vec::new();
        for c in self.block.series_chunks(self.id)?.samples {
            if c.maxt < mint || c.mint > maxt {
                continue;
            }
            let bytes = self.block.chunk(c.chunk_ref)?;
            decode_samples(bytes, mint, maxt, &mut out)
                .map_err(|w| self.chunk_error("chunks", c.chunk_ref, w))?;
        }
        Ok(out)
    }

    pub(super) fn exemplars(
        &self,
        mint: TimestampMs,
        maxt: TimestampMs,
    ) -> Result<Vec<StoredExemplar>, Error> {
        let mut out = Vec::new();
        for c in self.block.series_chunks(self.id)?.exemplars {
            if c.maxt < mint || c.mint > maxt {
                continue;
            }
            let bytes = self.block.exemplar_chunk(c.chunk_ref)?;
            decode_exemplars(bytes, mint, maxt, &mut out)
                .map_err(|w| self.chunk_error("exemplars", c.chunk_ref, w))?;
        }
        Ok(out)
    }

    pub(super) fn sample_chunks(&self) -> Result<Vec<OwnedChunk>, Error> {
        self.block
            .series_chunks(self.id)?
            .samples
            .iter()
            .map(|c| {
                Ok((
                    c.mint,
                    c.maxt,
                    std::borrow::Cow::Owned(self.block.chunk(c.chunk_ref)?.to_vec()),
                ))
            })
            .collect()
    }

    pub(super) fn exemplar_chunks(&self) -> Result<Vec<OwnedChunk>, Error> {
        self.block
            .series_chunks(self.id)?
            .exemplars
            .iter()
            .map(|c| {
                Ok((
                    c.mint,
                    c.maxt,
                    std::borrow::Cow::Owned(self.block.exemplar_chunk(c.chunk_ref)?.to_vec()),
                ))
            })
            .collect()
    }
}

/// Walks a block's series in label order.
pub(super) struct BlockCursor {
    block: Arc<Block>,
    next_id: u32,
    current: Option<(Labels, u32)>,
}

impl BlockCursor {
    fn new(block: Arc<Block>) -> Result<BlockCursor, Error> {
        let mut c = BlockCursor {
            block,
            next_id: 0,
            current: None,
        };
        c.advance();
        Ok(c)
    }

    fn advance(&mut self) {
        self.current = None;
        while self.next_id < self.block.index().series_count() {
            let id = self.next_id;
            self.next_id += 1;
            if let Some(labels) = self.block.index().series_labels(id) {
                self.current = Some((labels, id));
                return;
            }
        }
    }

    fn take(&mut self) -> Result<OldSeries, Error> {
        let (_, id) = self.current.take().ok_or(Error::Closed)?;
        let s = OldSeries {
            block: Arc::clone(&self.block),
            id,
        };
        self.advance();
        Ok(s)
    }
}
