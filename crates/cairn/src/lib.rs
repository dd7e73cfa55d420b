//! cairn: an embedded time-series database that keeps exemplars.
//!
//! This facade re-exports the crates a user links: the shared model, the exposition
//! parser and the store. The query engine and server join as they land.
//!
//! ```
//! use cairn::{Db, Options, ScrapeCache, ingest};
//! use cairn::expfmt::Format;
//! use cairn::model::Matcher;
//!
//! let dir = tempfile::tempdir()?;
//! let db = Db::open(dir.path(), Options::default())?;
//! let scrape = concat!(
//!     "# TYPE http_requests counter\n",
//!     "http_requests_total{code=\"200\"} 1027 # {trace_id=\"4bf92f3577b34da6a3ce929d0e0e4736\"} 1\n",
//!     "# EOF\n",
//! );
//! let mut cache = ScrapeCache::new();
//! let done = ingest(&db, &mut cache, scrape.as_bytes(), Format::OpenMetrics, 1_700_000_000_000)?;
//! assert_eq!((done.commit.samples, done.commit.exemplars), (1, 1));
//!
//! let series: Vec<_> = db
//!     .query(&[Matcher::equal("code", "200")], 0, i64::MAX)?
//!     .collect::<Result<_, _>>()?;
//! assert_eq!(series[0].samples, [(1_700_000_000_000, 1027.0)]);
//! db.close()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use cairn_expfmt as expfmt;
pub use cairn_model as model;
pub use cairn_store as store;
pub use cairn_store::{
    Appender, CommitSummary, Db, ExemplarOptions, ImportSummary, Importer, Options, Rejection,
    ScrapeCache, SeriesData, SeriesRef, StoredExemplar, ingest,
};

/// The code examples of README.md, run as doctests so that the README cannot drift.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
