//! Helpers shared by the test modules.

use std::path::PathBuf;

use cairn_chunkenc::{Error, XorAppender, XorIterator};

/// Prometheus' stale marker: a NaN with a payload that must survive bit for bit.
pub(crate) const STALE_NAN: u64 = 0x7ff0_0000_0000_0002;

/// A sample with its value as raw bits, so NaN payloads compare exactly.
pub(crate) type Bits = (i64, u64);

pub(crate) fn encode(samples: &[Bits]) -> Vec<u8> {
    let mut app = XorAppender::new();
    for &(t, v) in samples {
        app.append(t, f64::from_bits(v));
    }
    app.into_bytes()
}

pub(crate) fn decode(chunk: &[u8]) -> Result<Vec<Bits>, Error> {
    let mut it = XorIterator::new(chunk);
    let mut out = Vec::new();
    while let Some((t, v)) = it.try_next()? {
        out.push((t, v.to_bits()));
    }
    Ok(out)
}

/// `testdata/chunkenc` at the workspace root.
pub(crate) fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/chunkenc")
}
