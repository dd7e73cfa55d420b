//! Encoding: append samples to a chunk.

use crate::bitstream::BitWriter;
use crate::error::{Error, ErrorKind};
use crate::iterator::XorIterator;
use crate::varbit::{self, XorWriter};
use crate::{MAX_BYTES_PER_CHUNK, MAX_SAMPLE_BYTES, NUM_SAMPLES_OFFSET};

/// Builds an XOR chunk in an owned, growable buffer, one sample at a time.
///
/// Produces exactly Prometheus' bytes for the same samples (its `xorAppender` on a new
/// chunk). The buffer is a valid chunk after every append: [`bytes`](Self::bytes) can be
/// read, copied or written to disk at any time.
///
/// When to cut: the appender reports [`is_full`](Self::is_full) once one more sample could
/// take the chunk past [`MAX_BYTES_PER_CHUNK`], the check Prometheus' head makes before each
/// append. Aiming at [`SAMPLES_PER_CHUNK`](crate::SAMPLES_PER_CHUNK) samples by time range is
/// the head's policy, not the chunk's, and stays with the caller.
///
/// ```
/// use cairn_chunkenc::{XorAppender, XorIterator};
///
/// let mut app = XorAppender::new();
/// app.append(1_700_000_000_000, 1.0);
/// app.append(1_700_000_015_000, 2.0);
/// assert_eq!(app.num_samples(), 2);
/// let samples: Vec<_> = XorIterator::new(app.bytes()).collect();
/// assert_eq!(samples, [(1_700_000_000_000, 1.0), (1_700_000_015_000, 2.0)]);
/// ```
#[derive(Clone, Debug)]
pub struct XorAppender {
    out: BitWriter,
    num: u16,
    t: i64,
    /// The last timestamp delta, unsigned and wrapping like Prometheus' `tDelta`.
    t_delta: u64,
    /// The last value and the stored XOR window.
    xor: XorWriter,
}

impl Default for XorAppender {
    fn default() -> Self {
        Self::new()
    }
}

impl XorAppender {
    /// An empty chunk: a sample count of 0 and nothing else.
    pub fn new() -> Self {
        // Prometheus starts a chunk with room for 128 bytes.
        let mut buf = Vec::with_capacity(128);
        buf.extend_from_slice(&0u16.to_be_bytes());
        XorAppender {
            out: BitWriter::from_parts(buf, 0),
            num: 0,
            t: 0,
            t_delta: 0,
            xor: XorWriter::new(),
        }
    }

    /// Reopens an existing chunk to append more samples, as Prometheus' `XORChunk.Appender`
    /// does: decodes every sample to rebuild the appender's state, then continues at the
    /// exact bit where the last sample ends (not at the next byte: the zero padding bits are
    /// filled in).
    ///
    /// Like Prometheus, a reopened chunk of one or more samples starts from the decoder's
    /// view of the XOR window, which is the full 64-bit window if no window was stored yet.
    /// So reopening can produce different (equally valid, slightly longer) bytes than
    /// appending the same samples in one go; reopening an empty chunk never does.
    ///
    /// # Errors
    ///
    /// The chunk is truncated or corrupt ([`XorIterator`]'s errors), or bytes follow the
    /// last sample ([`ErrorKind::TrailingBytes`]): appending after them would corrupt it.
    pub fn resume(chunk: Vec<u8>) -> Result<Self, Error> {
        let mut it = XorIterator::new(&chunk);
        for _ in it.by_ref() {}
        if let Some(e) = it.err() {
            return Err(e.clone());
        }
        let num = u16::try_from(it.num_samples()).unwrap_or(u16::MAX);
        let end_bits = it.bit_position();
        let (t, t_delta, xor) = it.appender_state();
        let len = chunk.len();
        let out = BitWriter::resume(chunk, end_bits)
            .map_err(|used| Error::new(ErrorKind::TrailingBytes { len }, used))?;
        Ok(XorAppender {
            out,
            num,
            t,
            t_delta,
            xor: if num == 0 { XorWriter::new() } else { xor },
        })
    }

    /// Number of samples in the chunk.
    pub fn num_samples(&self) -> usize {
        usize::from(self.num)
    }

    /// The chunk's bytes: a complete chunk, from the 2-byte sample count to the last
    /// (zero-padded) byte.
    pub fn bytes(&self) -> &[u8] {
        self.out.bytes()
    }

    /// The chunk's bytes, giving up the appender.
    pub fn into_bytes(self) -> Vec<u8> {
        self.out.into_bytes()
    }

    /// The last sample appended, if any.
    pub fn last(&self) -> Option<(i64, f64)> {
        (self.num > 0).then(|| (self.t, f64::from_bits(self.xor.v)))
    }

    /// Whether the chunk should be cut before the next append.
    ///
    /// True once the chunk is over `MAX_BYTES_PER_CHUNK - MAX_SAMPLE_BYTES` (1005) bytes, so
    /// that a chunk whose writer stops here never exceeds [`MAX_BYTES_PER_CHUNK`] (1024):
    /// Prometheus' head makes the same check before each append, since it cannot know the
    /// next sample's size. Also true at 65 535 samples, the most the header can count (far
    /// beyond the byte limit in practice).
    pub fn is_full(&self) -> bool {
        self.out.bytes().len() > MAX_BYTES_PER_CHUNK - MAX_SAMPLE_BYTES || self.num == u16::MAX
    }

    /// Appends a sample: a timestamp in milliseconds and a value, stored bit-exactly (every
    /// NaN payload, such as Prometheus' stale marker, survives).
    ///
    /// Timestamps are expected to increase, but any order is encoded and decoded faithfully:
    /// deltas wrap around 64 bits exactly as in Prometheus, at a cost in size.
    ///
    /// # Panics
    ///
    /// If the chunk already holds 65 535 samples, the most its 16-bit header can count.
    /// [`is_full`](Self::is_full) turns true long before (at about 1 KiB).
    pub fn append(&mut self, t: i64, v: f64) {
        assert!(self.num < u16::MAX, "XOR chunk already holds 65535 samples");
        let v = v.to_bits();
        let mut t_delta = 0;
        match self.num {
            0 => {
                varbit::write_uvarint(&mut self.out, varbit::zigzag(t));
                self.out.write_bits(v, 64);
                self.xor.v = v;
            }
            1 => {
                t_delta = t.wrapping_sub(self.t) as u64;
                varbit::write_uvarint(&mut self.out, t_delta);
                self.xor.write(&mut self.out, v);
            }
            _ => {
                t_delta = t.wrapping_sub(self.t) as u64;
                let dod = t_delta.wrapping_sub(self.t_delta) as i64;
                varbit::write_dod(&mut self.out, dod);
                self.xor.write(&mut self.out, v);
            }
        }
        self.t = t;
        self.t_delta = t_delta;
        self.num += 1;
        self.out.put_u16(NUM_SAMPLES_OFFSET, self.num);
    }
}
