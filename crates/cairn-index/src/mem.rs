use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ops::Bound;

use cairn_model::Labels;
use roaring::{MultiOps, RoaringBitmap};

use crate::select::LabelIndex;

/// The head's index: label name → value → postings, in memory, updated as series arrive.
///
/// Series ids are the caller's (the store's series refs); the index keeps no labels per id,
/// since the store owns them. Names and values are kept sorted (B-trees), so listings are in
/// order and a prefix or regex scans only the range of its literal prefix. Labels with an
/// empty value are not indexed (an empty value is a missing label).
///
/// Not synchronized: the store wraps it in its own lock.
///
/// ```
/// use cairn_index::{LabelIndex, MemIndex};
/// use cairn_model::{Labels, Matcher};
///
/// let mut index = MemIndex::new();
/// index.add(7, &Labels::from_pairs([("__name__", "up"), ("job", "api")]));
/// index.add(9, &Labels::from_pairs([("__name__", "up"), ("job", "db")]));
/// let ids = index.select(&[Matcher::equal("__name__", "up"), Matcher::not_equal("job", "db")]);
/// assert_eq!(ids.iter().collect::<Vec<_>>(), [7]);
/// assert_eq!(index.label_values("job"), ["api", "db"]);
/// ```
#[derive(Clone, Debug, Default)]
pub struct MemIndex {
    all: RoaringBitmap,
    names: BTreeMap<String, NameEntry>,
}

#[derive(Clone, Debug, Default)]
struct NameEntry {
    /// Every series with the label: `l=~".+"` and `l!=""` without a union.
    series: RoaringBitmap,
    values: BTreeMap<String, RoaringBitmap>,
}

impl MemIndex {
    /// An empty index.
    pub fn new() -> MemIndex {
        MemIndex::default()
    }

    /// Indexes series `id` with `labels`. Each id is added once (or again after
    /// [`MemIndex::remove`]); adding an id twice with other labels files it under both.
    pub fn add(&mut self, id: u32, labels: &Labels) {
        self.all.insert(id);
        for label in labels.iter().filter(|l| !l.value.is_empty()) {
            let entry = match self.names.get_mut(label.name.as_str()) {
                Some(entry) => entry,
                None => self.names.entry(label.name.clone()).or_default(),
            };
            entry.series.insert(id);
            match entry.values.get_mut(label.value.as_str()) {
                Some(postings) => {
                    postings.insert(id);
                }
                None => {
                    entry
                        .values
                        .insert(label.value.clone(), RoaringBitmap::from_iter([id]));
                }
            }
        }
    }

    /// Removes series `id`, which was added with `labels` (head garbage collection). Values
    /// and names left without series are dropped. Removing an id that is not there does
    /// nothing.
    pub fn remove(&mut self, id: u32, labels: &Labels) {
        if !self.all.remove(id) {
            return;
        }
        for label in labels.iter().filter(|l| !l.value.is_empty()) {
            let Some(entry) = self.names.get_mut(label.name.as_str()) else {
                continue;
            };
            entry.series.remove(id);
            if let Some(postings) = entry.values.get_mut(label.value.as_str()) {
                postings.remove(id);
                if postings.is_empty() {
                    entry.values.remove(label.value.as_str());
                }
            }
            if entry.series.is_empty() {
                self.names.remove(label.name.as_str());
            }
        }
    }

    /// How many series are indexed.
    pub fn len(&self) -> u64 {
        self.all.len()
    }

    /// Whether no series is indexed.
    pub fn is_empty(&self) -> bool {
        self.all.is_empty()
    }

    /// Whether series `id` is indexed.
    pub fn contains(&self, id: u32) -> bool {
        self.all.contains(id)
    }
}

impl LabelIndex for MemIndex {
    fn all(&self) -> Cow<'_, RoaringBitmap> {
        Cow::Borrowed(&self.all)
    }

    fn label_names(&self) -> Vec<&str> {
        self.names.keys().map(String::as_str).collect()
    }

    fn label_values(&self, name: &str) -> Vec<&str> {
        self.names
            .get(name)
            .map(|e| e.values.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }

    fn postings(&self, name: &str, value: &str) -> Cow<'_, RoaringBitmap> {
        match self.names.get(name).and_then(|e| e.values.get(value)) {
            Some(postings) => Cow::Borrowed(postings),
            None => Cow::Owned(RoaringBitmap::new()),
        }
    }

    fn postings_for_name(&self, name: &str) -> Cow<'_, RoaringBitmap> {
        match self.names.get(name) {
            Some(entry) => Cow::Borrowed(&entry.series),
            None => Cow::Owned(RoaringBitmap::new()),
        }
    }

    fn postings_where(
        &self,
        name: &str,
        prefix: &str,
        keep: &mut dyn FnMut(&str) -> bool,
        within: Option<&RoaringBitmap>,
    ) -> RoaringBitmap {
        let Some(entry) = self.names.get(name) else {
            return RoaringBitmap::new();
        };
        let values = entry
            .values
            .range::<str, _>((Bound::Included(prefix), Bound::Unbounded))
            .take_while(|(v, _)| v.starts_with(prefix))
            .filter(|(v, _)| keep(v))
            .map(|(_, postings)| postings);
        match within {
            Some(within) => values.map(|p| p & within).union(),
            None => values.union(),
        }
    }

    fn postings_for_values(&self, name: &str, values: &[String]) -> RoaringBitmap {
        let Some(entry) = self.names.get(name) else {
            return RoaringBitmap::new();
        };
        values
            .iter()
            .filter_map(|v| entry.values.get(v.as_str()))
            .union()
    }
}
