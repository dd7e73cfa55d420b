//! Decoding: walk a chunk's samples in order.

use crate::bitstream::BitReader;
use crate::error::{Error, ErrorKind};
use crate::{FIRST_SAMPLE_OFFSET, NUM_SAMPLES_OFFSET};

/// Longest varint: 10 bytes of 7 bits cover 64 bits.
const MAX_VARINT_LEN: usize = 10;

/// Iterates the samples of an XOR chunk, oldest first.
///
/// Borrows the chunk's bytes and never writes to them, so they may live in a read-only
/// mapping. Construction reads only the 2-byte sample count; every sample is decoded on
/// demand. A truncated or corrupt chunk ends the iteration early and leaves the reason in
/// [`err`](Self::err); arbitrary bytes never panic, and iteration always ends (after at most
/// the header's sample count, which is below 65 536).
///
/// It is a plain [`Iterator`] of `(timestamp_ms, value)` pairs, plus Prometheus'
/// [`seek`](Self::seek) and [`at`](Self::at):
///
/// ```
/// use cairn_chunkenc::{XorAppender, XorIterator};
///
/// let mut app = XorAppender::new();
/// for i in 0..10 {
///     app.append(1_000 * i, i as f64);
/// }
/// let mut it = XorIterator::new(app.bytes());
/// assert_eq!(it.seek(4_500), Some((5_000, 5.0)));
/// assert_eq!(it.next(), Some((6_000, 6.0)));
/// assert_eq!(it.count(), 3);
/// ```
#[derive(Clone, Debug)]
pub struct XorIterator<'a> {
    reader: BitReader<'a>,
    /// The header's sample count.
    samples: u16,
    /// Samples to decode: `samples`, lowered to `read` when an error stops the iteration.
    /// (This and `read` are `u32`, not `u16`: a 16-bit store followed by a wider load of the
    /// same field stalls store forwarding in the hot loop.)
    total: u32,
    /// Samples decoded so far.
    read: u32,
    t: i64,
    /// The current value's bits.
    v: u64,
    /// The last timestamp delta, kept unsigned and wrapping exactly as Prometheus does.
    t_delta: u64,
    /// The current XOR window: significant bits and trailing zeros (the leading zeros are
    /// the rest of 64). Before any window is stored, it is Prometheus' initial 64 / 0.
    significant: u32,
    trailing: u32,
    err: Option<Error>,
}

impl<'a> XorIterator<'a> {
    /// An iterator over `chunk`, the chunk's bytes from its sample count on (without the
    /// length, encoding byte or CRC of a chunks file).
    pub fn new(chunk: &'a [u8]) -> Self {
        let (total, err) = match chunk
            .get(NUM_SAMPLES_OFFSET..)
            .and_then(<[u8]>::first_chunk::<2>)
        {
            Some(count) => (u16::from_be_bytes(*count), None),
            None => (
                0,
                Some(Error::new(
                    ErrorKind::MissingHeader { len: chunk.len() },
                    chunk.len(),
                )),
            ),
        };
        XorIterator {
            reader: BitReader::new(chunk, FIRST_SAMPLE_OFFSET),
            samples: total,
            total: u32::from(total),
            read: 0,
            t: 0,
            v: 0,
            t_delta: 0,
            significant: 64,
            trailing: 0,
            err,
        }
    }

    /// The sample count the chunk's header states (0 if the header itself is missing).
    pub fn num_samples(&self) -> usize {
        usize::from(self.samples)
    }

    /// The sample the last successful [`next`](Iterator::next) or [`seek`](Self::seek)
    /// returned. Before the first one, and after an error, it means nothing.
    pub fn at(&self) -> (i64, f64) {
        (self.t, f64::from_bits(self.v))
    }

    /// Why the iteration stopped early, if it did: the chunk is truncated or corrupt.
    ///
    /// `None` after a complete iteration. Check it once `next` or `seek` returned `None`,
    /// as with Prometheus' `Iterator.Err`.
    pub fn err(&self) -> Option<&Error> {
        self.err.as_ref()
    }

    /// Like [`next`](Iterator::next), but a truncated or corrupt chunk is an `Err` instead
    /// of an early `None`.
    ///
    /// # Errors
    ///
    /// The chunk's bytes end inside a sample or are inconsistent; the error says where.
    pub fn try_next(&mut self) -> Result<Option<(i64, f64)>, Error> {
        match self.next() {
            Some(sample) => Ok(Some(sample)),
            None => match &self.err {
                Some(e) => Err(e.clone()),
                None => Ok(None),
            },
        }
    }

    /// Advances to the first sample with a timestamp at or after `t` and returns it.
    ///
    /// As in Prometheus, if the current sample (the last one returned) already qualifies,
    /// the iterator stays and returns it again; it never moves backwards. The next call to
    /// `next` returns the sample after the one found. `None` means no later sample qualifies
    /// (the iterator is then exhausted) or the chunk is corrupt (see [`err`](Self::err)).
    pub fn seek(&mut self, t: i64) -> Option<(i64, f64)> {
        if self.err.is_some() {
            return None;
        }
        if self.read > 0 && self.t >= t {
            return Some(self.at());
        }
        self.find(|&(ts, _)| ts >= t)
    }

    /// Bits of the chunk consumed so far, counted from its first byte.
    pub(crate) fn bit_position(&self) -> usize {
        self.reader.bit_position()
    }

    /// The state an appender continuing after the last decoded sample needs:
    /// `(t, value bits, t_delta, leading, trailing)`.
    pub(crate) fn appender_state(&self) -> (i64, u64, u64, u8, u8) {
        // Both are below 64 by construction.
        let leading = u8::try_from(64 - self.significant - self.trailing).unwrap_or(0);
        let trailing = u8::try_from(self.trailing).unwrap_or(0);
        (self.t, self.v, self.t_delta, leading, trailing)
    }

    /// Index of the sample being decoded, for errors.
    #[inline(always)]
    fn index(&self) -> u16 {
        // Below `samples`, a u16.
        u16::try_from(self.read).unwrap_or(u16::MAX)
    }

    /// Stops the iteration with `err`.
    #[inline(always)]
    fn stop(&mut self, err: Error) -> Option<(i64, f64)> {
        self.err = Some(err);
        self.total = self.read;
        None
    }

    /// Stops the iteration: the current sample runs past the end of the chunk.
    #[inline(always)]
    fn truncated(&mut self) -> Option<(i64, f64)> {
        let kind = ErrorKind::Truncated {
            sample: self.index(),
            samples: self.samples,
        };
        self.stop(Error::new(kind, self.reader.len()))
    }

    /// Stops the iteration with `kind` at byte `offset`, unless the bits that look wrong
    /// were read past the end of the chunk (zeros standing in for missing bytes): then the
    /// chunk is truncated, not corrupt.
    #[inline(always)]
    fn corrupt(&mut self, kind: ErrorKind, offset: usize) -> Option<(i64, f64)> {
        if self.reader.overran() {
            return self.truncated();
        }
        self.stop(Error::new(kind, offset))
    }

    /// Ends a sample: counts it, or fails if it needed bits past the end of the chunk.
    #[inline(always)]
    fn finish_sample(&mut self) -> Option<(i64, f64)> {
        if self.reader.overran() {
            return self.truncated();
        }
        self.read += 1;
        Some(self.at())
    }

    /// Samples 0 and 1, stored differently from the rest.
    #[inline(always)]
    fn next_head(&mut self) -> Option<(i64, f64)> {
        // Both samples start byte-aligned.
        let start = self.reader.bit_position() / 8;
        if self.read == 0 {
            let Some(zigzag) = self.read_uvarint() else {
                return self.corrupt(ErrorKind::VarintOverflow { sample: 0 }, start);
            };
            // Zigzag: the low bit is the sign.
            self.t = ((zigzag >> 1) as i64) ^ -((zigzag & 1) as i64);
            self.v = self.reader.read_wide(64);
        } else {
            let Some(delta) = self.read_uvarint() else {
                return self.corrupt(ErrorKind::VarintOverflow { sample: 1 }, start);
            };
            self.t_delta = delta;
            self.t = self.t.wrapping_add(delta as i64);
            self.reader.ensure(2);
            if !self.read_value() {
                return None;
            }
        }
        self.finish_sample()
    }

    /// Reads a byte-aligned uvarint the way Go's `binary.ReadUvarint` does; `None` if it
    /// overflows 64 bits. Past the end of the chunk it reads zero bytes, which end it; the
    /// caller's overrun check reports the truncation.
    #[inline(always)]
    fn read_uvarint(&mut self) -> Option<u64> {
        let mut x = 0u64;
        for i in 0..MAX_VARINT_LEN {
            let b = self.reader.read(8);
            if b < 0x80 {
                if i == MAX_VARINT_LEN - 1 && b > 1 {
                    return None;
                }
                return Some(x | (b << (7 * i)));
            }
            x |= (b & 0x7f) << (7 * i);
        }
        None
    }

    /// Samples 2 and later: a delta-of-delta timestamp, then an XOR value.
    #[inline(always)]
    fn next_tail(&mut self) -> Option<(i64, f64)> {
        let r = &mut self.reader;
        // Enough for the 2-bit common case below and for any small bucket with its prefix
        // (up to 24 bits) without a second refill; longer fields refill as they read.
        r.ensure(24);
        if r.peek(2) == 0b00 {
            // The most common sample of all: same interval, same value.
            r.consume(2);
            self.t = self.t.wrapping_add(self.t_delta as i64);
            return self.finish_sample();
        }
        // The bucket prefix is at most 4 bits: 0, 10, 110, 1110 or 1111. Each small bucket is
        // read together with its prefix, whose bits the mask then drops.
        let dod = match r.peek(4) {
            0b0000..=0b0111 => {
                r.consume(1);
                0
            }
            0b1000..=0b1011 => sign_extend(r.read(2 + 14) & 0x3fff, 14),
            0b1100..=0b1101 => sign_extend(r.read(3 + 17) & 0x1_ffff, 17),
            0b1110 => sign_extend(r.read(4 + 20) & 0xf_ffff, 20),
            _ => {
                r.consume(4);
                r.read_wide(64) as i64
            }
        };
        self.t_delta = self.t_delta.wrapping_add(dod as u64);
        self.t = self.t.wrapping_add(self.t_delta as i64);
        self.reader.ensure(2);
        if !self.read_value() {
            return None;
        }
        self.finish_sample()
    }

    /// Reads one XOR-encoded value into `self.v`; `false` (with the error recorded) if its
    /// window is impossible.
    #[inline(always)]
    fn read_value(&mut self) -> bool {
        let r = &mut self.reader;
        // Callers leave at least the 2 control bits buffered; longer fields check for
        // themselves.
        match r.peek(2) {
            0b00 | 0b01 => {
                // Same value as before.
                r.consume(1);
                return true;
            }
            0b10 => {
                let significant = self.significant;
                if significant <= 54 {
                    // Control bits and value in one read; the XOR drops the known `10`.
                    let field = r.read(2 + significant) ^ (0b10 << significant);
                    self.v ^= field << self.trailing;
                    return true;
                }
                r.consume(2);
            }
            _ => {
                let header = r.read(2 + 5 + 6);
                let leading = ((header >> 6) & 0x1f) as u32;
                let stored = (header & 0x3f) as u32;
                // 64 significant bits do not fit 6 bits; Prometheus stores them as 0, which
                // is otherwise impossible (an all-zero XOR takes the "same value" path).
                let significant = if stored == 0 { 64 } else { stored };
                if leading + significant > 64 {
                    let offset = r.bit_position().saturating_sub(13) / 8;
                    let kind = ErrorKind::BadXorWindow {
                        sample: self.index(),
                        leading: leading as u8,
                        significant: significant as u8,
                    };
                    self.corrupt(kind, offset);
                    return false;
                }
                self.significant = significant;
                self.trailing = 64 - leading - significant;
            }
        }
        let bits = self.reader.read_wide(self.significant);
        // `trailing` < 64 because `significant` >= 1.
        self.v ^= bits << self.trailing;
        true
    }
}

/// Decodes a `width`-bit delta of delta exactly as Prometheus does: the stored pattern
/// `2^(width-1)` is positive, patterns above it are negative.
#[inline(always)]
fn sign_extend(raw: u64, width: u32) -> i64 {
    if raw > 1 << (width - 1) {
        raw as i64 - (1 << width)
    } else {
        raw as i64
    }
}

impl Iterator for XorIterator<'_> {
    type Item = (i64, f64);

    #[inline]
    fn next(&mut self) -> Option<(i64, f64)> {
        if self.read >= self.total {
            None
        } else if self.read >= 2 {
            self.next_tail()
        } else {
            self.next_head()
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some((self.total - self.read) as usize))
    }
}

impl std::iter::FusedIterator for XorIterator<'_> {}
