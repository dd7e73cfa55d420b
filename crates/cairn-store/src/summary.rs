//! What a commit or an import did: counts, and why anything was rejected.

use std::collections::BTreeMap;
use std::fmt;

/// Why a sample or exemplar was not stored. A rejection never fails a commit: the rest of it
/// is stored, and the rejection counted in its summary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Rejection {
    /// A sample older than its series' newest.
    OutOfOrderSample,
    /// A sample at its series' newest timestamp with another value.
    DuplicateTimestamp,
    /// A sample older than the head's lower bound: its window is in a block already.
    OutOfBounds,
    /// A series ref the head does not know (never handed out, or collected since).
    UnknownSeries,
    /// An exemplar older than its series' newest (and outside the out-of-order window).
    ExemplarOutOfOrder,
    /// An exemplar whose label names and values pass 128 code points.
    ExemplarLabelsTooLong,
    /// An exemplar older than the head's lower bound.
    ExemplarOutOfBounds,
    /// An exemplar without a timestamp, where one is needed (import).
    ExemplarWithoutTimestamp,
    /// A sample without a timestamp, where one is needed (import).
    SampleWithoutTimestamp,
}

impl Rejection {
    /// A short snake-case name, for counters and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Rejection::OutOfOrderSample => "out_of_order_sample",
            Rejection::DuplicateTimestamp => "duplicate_sample_for_timestamp",
            Rejection::OutOfBounds => "out_of_bounds",
            Rejection::UnknownSeries => "unknown_series",
            Rejection::ExemplarOutOfOrder => "out_of_order_exemplar",
            Rejection::ExemplarLabelsTooLong => "exemplar_labels_too_long",
            Rejection::ExemplarOutOfBounds => "exemplar_out_of_bounds",
            Rejection::ExemplarWithoutTimestamp => "exemplar_without_timestamp",
            Rejection::SampleWithoutTimestamp => "sample_without_timestamp",
        }
    }

    /// Whether this is an exemplar's rejection.
    pub fn is_exemplar(self) -> bool {
        matches!(
            self,
            Rejection::ExemplarOutOfOrder
                | Rejection::ExemplarLabelsTooLong
                | Rejection::ExemplarOutOfBounds
                | Rejection::ExemplarWithoutTimestamp
        )
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Rejection::OutOfOrderSample => "out of order sample",
            Rejection::DuplicateTimestamp => "duplicate sample for timestamp",
            Rejection::OutOfBounds => "out of bounds (older than the head)",
            Rejection::UnknownSeries => "unknown series ref",
            Rejection::ExemplarOutOfOrder => "out of order exemplar",
            Rejection::ExemplarLabelsTooLong => "exemplar labels longer than 128 code points",
            Rejection::ExemplarOutOfBounds => "exemplar out of bounds (older than the head)",
            Rejection::ExemplarWithoutTimestamp => "exemplar without timestamp",
            Rejection::SampleWithoutTimestamp => "sample without timestamp",
        })
    }
}

/// What a commit stored.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CommitSummary {
    /// Series created and logged by this commit.
    pub series_created: u64,
    /// Samples stored.
    pub samples: u64,
    /// Exemplars stored.
    pub exemplars: u64,
    /// Samples equal to their series' newest (same time and value): not stored again.
    pub duplicate_samples: u64,
    /// Exemplars equal to their series' newest: not stored again.
    pub duplicate_exemplars: u64,
    /// Rejections by reason.
    pub rejected: BTreeMap<Rejection, u64>,
}

impl CommitSummary {
    /// Rejected samples and exemplars in all.
    pub fn rejected_total(&self) -> u64 {
        self.rejected.values().sum()
    }

    pub(crate) fn reject(&mut self, why: Rejection) {
        *self.rejected.entry(why).or_default() += 1;
    }

    /// Adds another summary's counts to this one.
    pub fn merge(&mut self, other: &CommitSummary) {
        self.series_created += other.series_created;
        self.samples += other.samples;
        self.exemplars += other.exemplars;
        self.duplicate_samples += other.duplicate_samples;
        self.duplicate_exemplars += other.duplicate_exemplars;
        for (&k, &v) in &other.rejected {
            *self.rejected.entry(k).or_default() += v;
        }
    }
}
