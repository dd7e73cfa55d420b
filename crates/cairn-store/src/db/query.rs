//! Reading series back: matchers and a time range over blocks and head, merged by labels.

use super::window::OldSeries;
use super::*;

impl Db {
    /// The series matching every matcher (all series when there is none) that have data in
    /// `[mint, maxt]`, in label order, merged across blocks and head; each series' samples
    /// and exemplars are read when the iterator reaches it.
    ///
    /// # Errors
    /// None today when listing; reading a series reports damaged chunks.
    pub fn query(
        &self,
        matchers: &[Matcher],
        mint: TimestampMs,
        maxt: TimestampMs,
    ) -> Result<SeriesSet<'_>, Error> {
        let blocks: Vec<Arc<Block>> = self
            .blocks()
            .into_iter()
            .filter(|b| b.meta().min_time <= maxt && b.meta().max_time > mint)
            .collect();
        let mut entries: Vec<(Labels, Source)> = Vec::new();
        for (i, b) in blocks.iter().enumerate() {
            let ids = select(b.index(), matchers);
            for id in &ids {
                if let Some(labels) = b.index().series_labels(id) {
                    entries.push((labels, Source::Block(i, id)));
                }
            }
        }
        {
            let st = self.lock();
            let ids = select(st.head.index(), matchers);
            let refs = st.head.sorted_series(ids.iter().map(u64::from));
            entries.extend(refs.into_iter().map(|(l, r)| (l, Source::Head(r))));
        }
        entries.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.order().cmp(&b.1.order())));
        let mut grouped: Vec<(Labels, Vec<Source>)> = Vec::new();
        for (labels, source) in entries {
            match grouped.last_mut() {
                Some((l, sources)) if *l == labels => sources.push(source),
                _ => grouped.push((labels, vec![source])),
            }
        }
        Ok(SeriesSet {
            db: self,
            blocks,
            series: grouped.into_iter(),
            mint,
            maxt,
        })
    }

    fn read_series(
        &self,
        blocks: &[Arc<Block>],
        labels: Labels,
        sources: &[Source],
        mint: TimestampMs,
        maxt: TimestampMs,
    ) -> Result<SeriesData, Error> {
        let mut sample_lists = Vec::new();
        let mut exemplar_lists = Vec::new();
        for source in sources {
            match *source {
                Source::Block(i, id) => {
                    let Some(b) = blocks.get(i) else { continue };
                    let o = OldSeries {
                        block: Arc::clone(b),
                        id,
                    };
                    sample_lists.push(o.samples(mint, maxt)?);
                    exemplar_lists.push(o.exemplars(mint, maxt)?);
                }
                Source::Head(r) => {
                    let st = self.lock();
                    let chunks = st.head.chunks(r, mint, maxt, &st.files)?;
                    drop(st);
                    let path = self.dir.join("chunks_head");
                    let mut samples = Vec::new();
                    for (_, _, bytes) in &chunks.samples {
                        decode_samples(bytes, mint, maxt, &mut samples).map_err(|what| {
                            Error::Chunk {
                                path: path.clone(),
                                chunk_ref: 0,
                                what,
                            }
                        })?;
                    }
                    let mut exemplars = Vec::new();
                    for (_, _, bytes) in &chunks.exemplars {
                        decode_exemplars(bytes, mint, maxt, &mut exemplars).map_err(|what| {
                            Error::Chunk {
                                path: path.clone(),
                                chunk_ref: 0,
                                what,
                            }
                        })?;
                    }
                    sample_lists.push(samples);
                    exemplar_lists.push(exemplars);
                }
            }
        }
        Ok(SeriesData {
            labels,
            samples: merge_samples(sample_lists),
            exemplars: merge_exemplars(exemplar_lists),
        })
    }

    /// Whether the head holds data in `[mint, maxt]`.
    pub(crate) fn head_overlaps(&self, mint: TimestampMs, maxt: TimestampMs) -> bool {
        let st = self.lock();
        st.head
            .time_range()
            .is_some_and(|(a, b)| a <= maxt && b >= mint)
    }

    /// The head's samples and exemplars of series `labels` in `[mint, maxt]`, if the head
    /// has the series.
    pub(crate) fn head_data(
        &self,
        labels: &Labels,
        mint: TimestampMs,
        maxt: TimestampMs,
    ) -> Result<Option<SeriesData>, Error> {
        let r = {
            let st = self.lock();
            st.head
                .lookup(&crate::labels::CompactLabels::from_labels(labels))
        };
        match r {
            None => Ok(None),
            Some(r) => self
                .read_series(&[], labels.clone(), &[Source::Head(r)], mint, maxt)
                .map(Some),
        }
    }
}

pub(super) fn select<I: LabelIndex + ?Sized>(index: &I, matchers: &[Matcher]) -> RoaringBitmap {
    if matchers.is_empty() {
        index.all().into_owned()
    } else {
        index.select(matchers)
    }
}

/// Where a queried series' data lives.
#[derive(Clone, Copy, Debug)]
pub(super) enum Source {
    Block(usize, u32),
    Head(SeriesRef),
}

impl Source {
    /// Blocks (in time order) before the head: where timestamps tie, the first wins.
    fn order(&self) -> (u8, u64) {
        match *self {
            Source::Block(i, _) => (0, i as u64),
            Source::Head(r) => (1, r.0),
        }
    }
}

/// One series of a query, with its samples and exemplars in the query's range.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesData {
    /// The series' labels.
    pub labels: Labels,
    /// Its samples in time order, one per timestamp.
    pub samples: Vec<(TimestampMs, f64)>,
    /// Its exemplars in time order.
    pub exemplars: Vec<StoredExemplar>,
}

/// The series of a query, read one at a time.
pub struct SeriesSet<'db> {
    db: &'db Db,
    blocks: Vec<Arc<Block>>,
    series: std::vec::IntoIter<(Labels, Vec<Source>)>,
    mint: TimestampMs,
    maxt: TimestampMs,
}

impl SeriesSet<'_> {
    /// How many series are left to read (some may turn out to have no data in range).
    pub fn remaining(&self) -> usize {
        self.series.len()
    }
}

impl Iterator for SeriesSet<'_> {
    type Item = Result<SeriesData, Error>;

    fn next(&mut self) -> Option<Result<SeriesData, Error>> {
        loop {
            let (labels, sources) = self.series.next()?;
            match self
                .db
                .read_series(&self.blocks, labels, &sources, self.mint, self.maxt)
            {
                Ok(s) if s.samples.is_empty() && s.exemplars.is_empty() => continue,
                other => return Some(other),
            }
        }
    }
}
