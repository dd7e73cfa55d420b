//! OpenMetrics 1.0 exposition rules, checked in strict mode.
//!
//! The grammar is the parser's job; this module checks what the grammar cannot: metadata
//! order, families whose names clash, grouping and timestamp order within a family, the labels
//! and values each metric type requires, where exemplars may stand, and the consistency of
//! histogram buckets. Rules follow the OpenMetrics 1.0 specification as its own test suite
//! encodes it.
//!
//! Strict mode keeps one key per family name and per label group of the current family, so
//! its memory grows with the exposition (never with a single line beyond the line limit).

use std::collections::HashSet;

use cairn_model::MetricType;

use crate::number::parse_f64;
use crate::parser::Sample;

/// A metadata line, as the validator sees it.
pub(crate) enum Meta<'a> {
    Help,
    Type(MetricType),
    Unit(&'a [u8]),
}

/// Histogram consistency within one group and timestamp.
#[derive(Default)]
struct Hist {
    last_le: Option<f64>,
    last_bucket_value: f64,
    count: Option<f64>,
    negative_buckets: bool,
    has_sum: bool,
    has_gsum: bool,
    negative_gsum: bool,
}

struct Family<'a> {
    name: &'a [u8],
    kind: Option<MetricType>,
    help: bool,
    unit: Option<&'a [u8]>,
    has_samples: bool,
    group: Option<Vec<u8>>,
    group_ts: Option<i64>,
    seen_groups: HashSet<Vec<u8>>,
    hist_key: Option<(Vec<u8>, Option<i64>)>,
    hist: Hist,
}

impl<'a> Family<'a> {
    fn new(name: &'a [u8], kind: Option<MetricType>) -> Family<'a> {
        Family {
            name,
            kind,
            help: false,
            unit: None,
            has_samples: false,
            group: None,
            group_ts: None,
            seen_groups: HashSet::new(),
            hist_key: None,
            hist: Hist::default(),
        }
    }

    fn kind(&self) -> MetricType {
        self.kind.unwrap_or(MetricType::Unknown)
    }

    fn display_name(&self) -> String {
        String::from_utf8_lossy(self.name).into_owned()
    }

    /// The suffix of `sample` if it is a sample name of this family.
    fn suffix_of<'s>(&self, sample: &'s [u8]) -> Option<&'s [u8]> {
        let suffix = sample.strip_prefix(self.name)?;
        let suffixes: &[&str] = match self.kind {
            None => &[""],
            Some(k) => k.openmetrics_suffixes(),
        };
        suffixes
            .iter()
            .any(|s| s.as_bytes() == suffix)
            .then_some(suffix)
    }

    fn check_hist(&self) -> Result<(), String> {
        let h = &self.hist;
        let name = self.display_name();
        if h.last_le != Some(f64::INFINITY) {
            return Err(format!("histogram {name}: the +Inf bucket is missing"));
        }
        if let Some(count) = h.count
            && count != h.last_bucket_value
        {
            return Err(format!(
                "histogram {name}: count {count} does not equal the +Inf bucket's value {}",
                h.last_bucket_value
            ));
        }
        if h.has_sum && h.count.is_none() {
            return Err(format!("histogram {name}: _sum is present without _count"));
        }
        if h.has_gsum && h.count.is_none() {
            return Err(format!(
                "gauge histogram {name}: _gsum is present without _gcount"
            ));
        }
        if !(h.has_sum || h.has_gsum) && h.count.is_some() {
            return Err(format!(
                "histogram {name}: a count is present without a sum"
            ));
        }
        if h.negative_buckets && h.has_sum {
            return Err(format!(
                "histogram {name}: a histogram with negative buckets cannot have _sum"
            ));
        }
        if !h.negative_buckets && h.negative_gsum {
            return Err(format!(
                "gauge histogram {name}: _gsum is negative but no bucket is"
            ));
        }
        Ok(())
    }
}

/// The strict-mode state across an exposition.
pub(crate) struct Validator<'a> {
    scratch: Vec<u8>,
    seen_names: HashSet<Vec<u8>>,
    family: Option<Family<'a>>,
}

impl<'a> Validator<'a> {
    pub(crate) fn new() -> Validator<'a> {
        Validator {
            scratch: Vec::new(),
            seen_names: HashSet::new(),
            family: None,
        }
    }

    /// Closes the current family: name clashes, unit rules, the last histogram group.
    pub(crate) fn finish(&mut self) -> Result<(), String> {
        let Some(fam) = self.family.take() else {
            return Ok(());
        };
        let kind = fam.kind();
        let suffixes = kind.openmetrics_suffixes();
        let bare = (!suffixes.contains(&"")).then_some("");
        for suffix in bare.into_iter().chain(suffixes.iter().copied()) {
            let mut full = fam.name.to_vec();
            full.extend_from_slice(suffix.as_bytes());
            if self.seen_names.contains(&full) {
                if suffix.is_empty() {
                    return Err(format!(
                        "metric family {} appears twice, or clashes with an earlier family's sample names",
                        fam.display_name()
                    ));
                }
                return Err(format!(
                    "{} family {}'s sample name {} clashes with an earlier family",
                    kind,
                    fam.display_name(),
                    String::from_utf8_lossy(&full)
                ));
            }
            self.seen_names.insert(full);
        }
        if let Some(unit) = fam.unit.filter(|u| !u.is_empty())
            && matches!(kind, MetricType::Info | MetricType::StateSet)
        {
            return Err(format!(
                "{kind} family {} cannot have a unit (found \"{}\")",
                fam.display_name(),
                String::from_utf8_lossy(unit)
            ));
        }
        if fam.hist_key.is_some() {
            fam.check_hist()?;
        }
        Ok(())
    }

    pub(crate) fn metadata(&mut self, name: &'a [u8], meta: Meta<'a>) -> Result<(), String> {
        let same = self.family.as_ref().is_some_and(|f| f.name == name);
        if same {
            if self.family.as_ref().is_some_and(|f| f.has_samples) {
                return Err(format!(
                    "metadata for {} comes after its samples; it must come first",
                    String::from_utf8_lossy(name)
                ));
            }
        } else {
            self.finish()?;
            self.family = Some(Family::new(name, None));
        }
        let Some(fam) = self.family.as_mut() else {
            return Ok(());
        };
        let dup = |what: &str| {
            format!(
                "a second {what} line for {}; each family has at most one",
                fam.display_name()
            )
        };
        match meta {
            Meta::Help if fam.help => return Err(dup("HELP")),
            Meta::Help => fam.help = true,
            Meta::Type(_) if fam.kind.is_some() => return Err(dup("TYPE")),
            Meta::Type(k) => fam.kind = Some(k),
            Meta::Unit(_) if fam.unit.is_some() => return Err(dup("UNIT")),
            Meta::Unit(u) => fam.unit = Some(u),
        }
        Ok(())
    }

    pub(crate) fn sample(&mut self, s: &Sample<'a>) -> Result<(), String> {
        let name = s.name.raw().as_bytes();
        let belongs = self
            .family
            .as_ref()
            .is_some_and(|f| f.suffix_of(name).is_some());
        if !belongs {
            self.finish()?;
            self.family = Some(Family::new(name, Some(MetricType::Unknown)));
        }
        let Some(fam) = self.family.as_mut() else {
            return Ok(());
        };
        let scratch = &mut self.scratch;
        let suffix = fam.suffix_of(name).unwrap_or_default();
        let kind = fam.kind();
        let sname = s.name.raw();
        use MetricType as T;

        if s.exemplar.is_some() {
            let allowed = (matches!(kind, T::Histogram | T::GaugeHistogram)
                && suffix == b"_bucket")
                || (kind == T::Counter && suffix == b"_total");
            if !allowed {
                return Err(format!(
                    "exemplar on {sname} (a {kind} sample): OpenMetrics allows exemplars only on counter _total and histogram _bucket samples"
                ));
            }
        }

        let v = s.value;
        let counter_like = matches!(
            (kind, suffix),
            (T::Counter, b"_total")
                | (T::Histogram, b"_bucket" | b"_count" | b"_sum")
                | (T::GaugeHistogram, b"_bucket" | b"_gcount")
                | (T::Summary, b"_count" | b"_sum")
        );
        if counter_like && (v.is_nan() || v < 0.0) {
            return Err(format!(
                "{sname} is {v}; a {kind}'s {} cannot be NaN or negative",
                String::from_utf8_lossy(suffix)
            ));
        }
        match (kind, suffix) {
            (T::GaugeHistogram, b"_gsum") if v.is_nan() => {
                return Err(format!(
                    "{sname} is NaN; a gauge histogram's _gsum cannot be NaN"
                ));
            }
            (T::Summary, b"") if v < 0.0 => {
                return Err(format!(
                    "{sname} is {v}; summary quantile values cannot be negative"
                ));
            }
            (T::Info, _) if v != 1.0 => {
                return Err(format!(
                    "{sname} is {v}; info samples must have the value 1"
                ));
            }
            (T::StateSet, _) if v != 0.0 && v != 1.0 => {
                return Err(format!("{sname} is {v}; stateset samples must be 0 or 1"));
            }
            _ => {}
        }

        let mut le_bound = f64::NAN;
        // The label a type requires, which also does not count toward the group.
        let special: Option<&[u8]> = match (kind, suffix) {
            (T::Summary, b"") => {
                let q = s
                    .labels
                    .get("quantile")
                    .ok_or_else(|| format!("summary sample {sname} has no quantile label"))?;
                let qv = parse_f64(q.raw().as_bytes());
                if !qv.is_some_and(|q| (0.0..=1.0).contains(&q)) {
                    return Err(format!(
                        "summary sample {sname} has quantile=\"{}\"; it must be a number from 0 to 1",
                        q.raw()
                    ));
                }
                Some(b"quantile")
            }
            (T::Histogram | T::GaugeHistogram, b"_bucket") => {
                let le = s
                    .labels
                    .get("le")
                    .ok_or_else(|| format!("bucket {sname} has no le label"))?;
                let raw = le.raw();
                let bound = parse_f64(raw.as_bytes())
                    .filter(|b| !b.is_nan())
                    .ok_or_else(|| {
                        format!("bucket {sname} has le=\"{raw}\"; it must be a number")
                    })?;
                if bound.is_infinite() && raw != "+Inf" && raw != "-Inf" {
                    return Err(format!(
                        "bucket {sname} has le=\"{raw}\"; infinity is written +Inf"
                    ));
                }
                le_bound = bound;
                Some(b"le")
            }
            (T::StateSet, _) => {
                if !s.labels.iter().any(|l| l.name.raw().as_bytes() == fam.name) {
                    return Err(format!(
                        "stateset sample {sname} has no label named {}",
                        fam.display_name()
                    ));
                }
                Some(fam.name)
            }
            _ => None,
        };

        // Grouping: all samples of one label group stand together, in time order.
        scratch.clear();
        if kind != T::Info {
            group_key(s, special, scratch);
        }
        let key: &Vec<u8> = scratch;
        if let Some(group) = &fam.group {
            if group != key {
                if fam.seen_groups.contains(key) {
                    return Err(format!(
                        "{sname}: the samples of family {} with these labels are not together; OpenMetrics requires each label group in one run",
                        fam.display_name()
                    ));
                }
            } else {
                match (fam.group_ts, s.timestamp) {
                    (Some(_), None) | (None, Some(_)) => {
                        return Err(format!(
                            "{sname}: some samples of this group have a timestamp and some do not"
                        ));
                    }
                    (Some(prev), Some(t)) if t < prev && kind != T::Info => {
                        return Err(format!(
                            "{sname}: timestamps went backwards within a group ({t} ms after {prev} ms)"
                        ));
                    }
                    _ => {}
                }
            }
        }
        fam.group_ts = s.timestamp;
        if fam.group.as_ref() != Some(key) {
            fam.seen_groups.insert(key.clone());
            fam.group = Some(key.clone());
        }

        // Histogram buckets, per group and timestamp.
        if matches!(kind, T::Histogram | T::GaugeHistogram) && !suffix.is_empty() {
            let same = fam
                .hist_key
                .as_ref()
                .is_some_and(|(k, t)| k == key && *t == s.timestamp);
            if !same {
                if fam.hist_key.is_some() {
                    fam.check_hist()?;
                }
                fam.hist = Hist::default();
                fam.hist_key = Some((key.clone(), s.timestamp));
            }
            let h = &mut fam.hist;
            match suffix {
                b"_bucket" => {
                    let bound = le_bound;
                    if bound < 0.0 {
                        h.negative_buckets = true;
                    }
                    if h.last_le.is_some_and(|prev| bound <= prev) {
                        return Err(format!(
                            "{sname}: buckets are not in increasing order of le"
                        ));
                    }
                    if v < h.last_bucket_value {
                        return Err(format!(
                            "{sname}: bucket values decrease ({v} after {})",
                            h.last_bucket_value
                        ));
                    }
                    h.last_le = Some(bound);
                    h.last_bucket_value = v;
                }
                b"_count" | b"_gcount" => h.count = Some(v),
                b"_sum" => h.has_sum = true,
                b"_gsum" => {
                    h.has_gsum = true;
                    if v < 0.0 {
                        h.negative_gsum = true;
                    }
                }
                _ => {}
            }
        }
        fam.has_samples = true;
        Ok(())
    }
}

/// The labels of a sample less `special`, sorted, as one byte string. Names and values are
/// UTF-8, so 0xff cannot occur in them and separates them unambiguously.
fn group_key(s: &Sample<'_>, special: Option<&[u8]>, key: &mut Vec<u8>) {
    let mut pairs: Vec<(std::borrow::Cow<'_, str>, std::borrow::Cow<'_, str>)> =
        Vec::with_capacity(s.labels.len());
    pairs.extend(
        s.labels
            .iter()
            .filter(|l| Some(l.name.raw().as_bytes()) != special)
            .map(|l| (l.name.unescaped(), l.value.unescaped())),
    );
    if !pairs.is_sorted() {
        pairs.sort();
    }
    for (n, v) in pairs {
        key.extend_from_slice(n.as_bytes());
        key.push(0xff);
        key.extend_from_slice(v.as_bytes());
        key.push(0xff);
    }
}
