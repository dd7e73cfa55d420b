//! Matcher evaluation, written once over [`LabelIndex`].

use std::borrow::Cow;

use cairn_model::{Matcher, Pattern};
use roaring::{MultiOps, RoaringBitmap};

/// What `select` needs from an index: postings by label, the sorted values of a label name,
/// and every series. [`MemIndex`](crate::MemIndex) and [`IndexReader`](crate::IndexReader)
/// implement it, and the provided methods (`select` and the listings) work on both.
///
/// Labels with an empty value are not indexed: an empty value means "no such label", as in
/// Prometheus. The trait is object safe.
pub trait LabelIndex {
    /// Every series in the index.
    fn all(&self) -> Cow<'_, RoaringBitmap>;

    /// The label names of the indexed series, sorted.
    fn label_names(&self) -> Vec<&str>;

    /// The values of label `name`, sorted; empty when no series has it.
    fn label_values(&self, name: &str) -> Vec<&str>;

    /// The series whose label `name` has `value`; empty when none has (always for `""`).
    fn postings(&self, name: &str, value: &str) -> Cow<'_, RoaringBitmap>;

    /// The series that have label `name`, with whatever value.
    fn postings_for_name(&self, name: &str) -> Cow<'_, RoaringBitmap>;

    /// The union of the postings of the values of `name` that start with `prefix` and that
    /// `keep` accepts, each first intersected with `within` when given (cheap when `within` is
    /// small, and then the union is too). Indexes keep values sorted, so only the prefix's
    /// range is visited.
    fn postings_where(
        &self,
        name: &str,
        prefix: &str,
        keep: &mut dyn FnMut(&str) -> bool,
        within: Option<&RoaringBitmap>,
    ) -> RoaringBitmap;

    /// The union of the postings of `values` of label `name`: direct lookups, no scan.
    fn postings_for_values(&self, name: &str, values: &[String]) -> RoaringBitmap {
        values
            .iter()
            .map(|v| self.postings(name, v))
            .collect::<Vec<_>>()
            .iter()
            .map(AsRef::as_ref)
            .union()
    }

    /// The series that match every matcher, with Prometheus' semantics (see [`select`]).
    fn select(&self, matchers: &[Matcher]) -> RoaringBitmap {
        select(self, matchers)
    }

    /// The label names of the series that match `matchers`, sorted; all names when
    /// `matchers` is empty.
    fn matching_label_names(&self, matchers: &[Matcher]) -> Vec<&str> {
        let names = self.label_names();
        if matchers.is_empty() {
            return names;
        }
        let selected = select(self, matchers);
        names
            .into_iter()
            .filter(|n| !self.postings_for_name(n).is_disjoint(&selected))
            .collect()
    }

    /// The values of label `name` among the series that match `matchers`, sorted; all its
    /// values when `matchers` is empty.
    fn matching_label_values(&self, name: &str, matchers: &[Matcher]) -> Vec<&str> {
        let values = self.label_values(name);
        if matchers.is_empty() {
            return values;
        }
        let selected = select(self, matchers);
        values
            .into_iter()
            .filter(|v| !self.postings(name, v).is_disjoint(&selected))
            .collect()
    }
}

/// The series of `index` that match every matcher, with Prometheus' semantics.
///
/// A series without label `l` reads `l` as `""`. So `l=""`, `l!="x"`, `l=~"x|"` and
/// `l!~".+"` match series without `l`; `l!=""` and `l=~".+"` are "has label `l`"; `l=~".*"`
/// matches every series.
///
/// A matcher that rejects `""` contributes the union of the postings of the values it accepts,
/// and these are intersected. A matcher that accepts `""` contributes the union of the
/// postings of the values it *rejects*, which are subtracted. When no matcher rejects `""` (an
/// empty slice too), the subtraction starts from every series: PromQL refuses such selectors
/// (see [`needs_non_empty_matcher`]), the index answers them anyway.
///
/// The value sets come from each matcher's [`Pattern`]: literals and literal sets are direct
/// lookups and `.*` and `.+` the per-name postings; these are evaluated first, smallest first.
/// Prefixes and other regexes scan the values in their literal prefix's range, and each
/// value's postings is intersected with the result so far before the union, so a selective
/// equality makes a broad regex cheap.
pub fn select<I: LabelIndex + ?Sized>(index: &I, matchers: &[Matcher]) -> RoaringBitmap {
    let (lookups, scans): (Vec<&Matcher>, Vec<&Matcher>) =
        matchers.iter().partition(|m| is_lookup(m.pattern()));
    let mut intersect: Vec<Cow<'_, RoaringBitmap>> = Vec::new();
    let mut subtract: Vec<Cow<'_, RoaringBitmap>> = Vec::new();
    for m in lookups {
        let (accepted, pattern_matches) = polarity(m);
        let series = series_with_values(index, m, pattern_matches, None);
        if accepted {
            if series.is_empty() {
                return RoaringBitmap::new();
            }
            intersect.push(series);
        } else if !series.is_empty() {
            subtract.push(series);
        }
    }
    intersect.sort_by_key(|b| b.len());
    let mut sets = intersect.into_iter();
    let mut result = sets.next().map(Cow::into_owned);
    for set in sets {
        if let Some(r) = &mut result {
            *r &= set.as_ref();
        }
    }
    // Scans that intersect, restricted to the result so far (the first one, when no lookup
    // came before it, over all values).
    for m in scans.iter().filter(|m| !m.matches_empty()) {
        if result.as_ref().is_some_and(RoaringBitmap::is_empty) {
            return RoaringBitmap::new();
        }
        let (_, pattern_matches) = polarity(m);
        let series = series_with_values(index, m, pattern_matches, result.as_ref());
        result = Some(match result {
            Some(mut r) => {
                r &= series.as_ref();
                r
            }
            None => series.into_owned(),
        });
    }
    let mut result = result.unwrap_or_else(|| index.all().into_owned());
    for set in subtract {
        if result.is_empty() {
            return result;
        }
        result -= set.as_ref();
    }
    for m in scans.iter().filter(|m| m.matches_empty()) {
        if result.is_empty() {
            return result;
        }
        let (_, pattern_matches) = polarity(m);
        let series = series_with_values(index, m, pattern_matches, Some(&result));
        result -= series.as_ref();
    }
    result
}

/// Whether the matcher's values are found by lookups, without a scan over values.
fn is_lookup(pattern: &Pattern) -> bool {
    matches!(
        pattern,
        Pattern::Any | Pattern::NonEmpty | Pattern::Literal(_) | Pattern::Set(_)
    )
}

/// Whether the matcher's series are intersected (it rejects `""`: collect the values it
/// accepts) or subtracted (it accepts `""`: collect the values it rejects), and which values
/// that is in terms of its pattern, before the operator negates it.
fn polarity(m: &Matcher) -> (bool, bool) {
    let accepted = !m.matches_empty();
    (accepted, accepted != m.op().is_negative())
}

/// The series that have label `m.name()` with a value `v` for which `m.pattern().is_match(v)`
/// is `want`, or a subset of them that keeps all of those in `within`.
fn series_with_values<'i, I: LabelIndex + ?Sized>(
    index: &'i I,
    m: &Matcher,
    want: bool,
    within: Option<&RoaringBitmap>,
) -> Cow<'i, RoaringBitmap> {
    let name = m.name();
    let matching: Cow<'i, RoaringBitmap> = match m.pattern() {
        // Indexed values are never empty, so both accept every one of them.
        Pattern::Any | Pattern::NonEmpty => {
            return if want {
                index.postings_for_name(name)
            } else {
                Cow::Owned(RoaringBitmap::new())
            };
        }
        Pattern::Literal(value) => index.postings(name, value),
        Pattern::Set(values) => Cow::Owned(index.postings_for_values(name, values)),
        Pattern::Prefix(prefix) => {
            Cow::Owned(index.postings_where(name, prefix, &mut |_| true, within))
        }
        Pattern::Regex(re) => {
            Cow::Owned(index.postings_where(name, re.prefix(), &mut |v| re.is_match(v), within))
        }
        other => Cow::Owned(index.postings_where(
            name,
            other.literal_prefix(),
            &mut |v| other.is_match(v),
            within,
        )),
    };
    if want {
        return matching;
    }
    let mut rest = index.postings_for_name(name).into_owned();
    if let Some(within) = within {
        rest &= within;
    }
    rest -= matching.as_ref();
    Cow::Owned(rest)
}

/// Whether no matcher rejects the empty string, so that the selector matches every series
/// that lacks the labels (an empty slice too).
///
/// PromQL refuses such a selector ("vector selector must contain at least one non-empty
/// matcher"); the query layer calls this to do the same. [`select`] answers it anyway.
pub fn needs_non_empty_matcher(matchers: &[Matcher]) -> bool {
    matchers.iter().all(Matcher::matches_empty)
}
