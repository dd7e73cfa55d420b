//! Encoding: append samples to a chunk.

use crate::bitstream::BitWriter;
use crate::error::{Error, ErrorKind};
use crate::iterator::XorIterator;
use crate::{MAX_BYTES_PER_CHUNK, MAX_SAMPLE_BYTES, NUM_SAMPLES_OFFSET};

/// Marks "no XOR window stored yet": the first non-zero XOR always writes its window.
const NO_WINDOW: u8 = 0xff;

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
    /// The last value's bits.
    v: u64,
    /// The last timestamp delta, unsigned and wrapping like Prometheus' `tDelta`.
    t_delta: u64,
    /// The stored XOR window, or [`NO_WINDOW`] in `leading`.
    leading: u8,
    trailing: u8,
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
            v: 0,
            t_delta: 0,
            leading: NO_WINDOW,
            trailing: 0,
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
        let (t, v, t_delta, leading, trailing) = it.appender_state();
        let used = end_bits.div_ceil(8);
        if chunk.len() > used {
            let kind = ErrorKind::TrailingBytes { len: chunk.len() };
            return Err(Error::new(kind, used));
        }
        let free = (used * 8 - end_bits) as u32;
        let mut chunk = chunk;
        if let Some(last) = chunk.last_mut() {
            // Padding is ignored by readers; clear it so new bits can be OR-ed in.
            *last &= !((1u8 << free) - 1);
        }
        Ok(XorAppender {
            out: BitWriter::from_parts(chunk, free),
            num,
            t,
            v,
            t_delta,
            leading: if num == 0 { NO_WINDOW } else { leading },
            trailing,
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
        (self.num > 0).then(|| (self.t, f64::from_bits(self.v)))
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
                self.write_uvarint(zigzag(t));
                self.out.write_bits(v, 64);
            }
            1 => {
                t_delta = t.wrapping_sub(self.t) as u64;
                self.write_uvarint(t_delta);
                self.write_value(v);
            }
            _ => {
                t_delta = t.wrapping_sub(self.t) as u64;
                let dod = t_delta.wrapping_sub(self.t_delta) as i64;
                self.write_dod(dod);
                self.write_value(v);
            }
        }
        self.t = t;
        self.v = v;
        self.t_delta = t_delta;
        self.num += 1;
        if let Some(count) = self
            .out
            .bytes_mut()
            .get_mut(NUM_SAMPLES_OFFSET..)
            .and_then(<[u8]>::first_chunk_mut::<2>)
        {
            *count = self.num.to_be_bytes();
        }
    }

    fn write_uvarint(&mut self, mut x: u64) {
        let mut buf = [0u8; 10];
        let mut len = 0;
        for slot in &mut buf {
            len += 1;
            if x < 0x80 {
                *slot = x as u8;
                break;
            }
            *slot = (x as u8) | 0x80;
            x >>= 7;
        }
        self.out.write_bytes(buf.get(..len).unwrap_or(&buf));
    }

    /// Writes a delta of delta in the smallest of Prometheus' buckets that holds it. A
    /// `w`-bit bucket holds `-(2^(w-1) - 1) ..= 2^(w-1)`.
    fn write_dod(&mut self, dod: i64) {
        let raw = dod as u64;
        if dod == 0 {
            self.out.write_bits(0b0, 1);
        } else if fits(dod, 14) {
            self.out.write_bits((0b10 << 14) | (raw & 0x3fff), 2 + 14);
        } else if fits(dod, 17) {
            self.out
                .write_bits((0b110 << 17) | (raw & 0x1_ffff), 3 + 17);
        } else if fits(dod, 20) {
            self.out
                .write_bits((0b1110 << 20) | (raw & 0xf_ffff), 4 + 20);
        } else {
            self.out.write_bits(0b1111, 4);
            self.out.write_bits(raw, 64);
        }
    }

    /// Writes the XOR of `v` with the previous value: one 0 bit if equal; else `10` and the
    /// bits inside the stored window if they fit it; else `11`, a new window (5-bit leading
    /// zeros, 6-bit significant bits) and the bits inside it.
    fn write_value(&mut self, v: u64) {
        let xor = v ^ self.v;
        if xor == 0 {
            self.out.write_bits(0b0, 1);
            return;
        }
        // Leading zeros are stored in 5 bits; more than 31 are counted as significant.
        let leading = (xor.leading_zeros() as u8).min(31);
        let trailing = xor.trailing_zeros() as u8;
        if self.leading != NO_WINDOW && leading >= self.leading && trailing >= self.trailing {
            let significant = 64 - u32::from(self.leading) - u32::from(self.trailing);
            self.out.write_bits(0b10, 2);
            self.out.write_bits(xor >> self.trailing, significant);
        } else {
            self.leading = leading;
            self.trailing = trailing;
            let significant = 64 - u32::from(leading) - u32::from(trailing);
            // 64 does not fit 6 bits and is stored as 0 (0 itself never occurs).
            let header = (0b11 << 11) | (u64::from(leading) << 6) | u64::from(significant & 0x3f);
            self.out.write_bits(header, 2 + 5 + 6);
            self.out.write_bits(xor >> trailing, significant);
        }
    }
}

/// Zigzag encoding of Go's `binary.PutVarint`: small magnitudes, either sign, stay small.
fn zigzag(t: i64) -> u64 {
    ((t << 1) ^ (t >> 63)) as u64
}

/// Whether `x` fits a `width`-bit delta-of-delta bucket (Prometheus' `bitRange`).
fn fits(x: i64, width: u32) -> bool {
    let half = 1i64 << (width - 1);
    -(half - 1) <= x && x <= half
}
