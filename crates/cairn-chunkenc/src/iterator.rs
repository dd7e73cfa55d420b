//! Decoding: walk a chunk's samples in order.

use crate::bitstream::BitReader;
use crate::error::{Error, ErrorKind};
use crate::varbit::{self, BadWindow, DOD_BUFFERED_BITS, WINDOW_HEADER_BITS, XorReader, XorWriter};
use crate::{FIRST_SAMPLE_OFFSET, NUM_SAMPLES_OFFSET};

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
    /// The last timestamp delta, kept unsigned and wrapping exactly as Prometheus does.
    t_delta: u64,
    /// The current value and XOR window.
    xor: XorReader,
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
            t_delta: 0,
            xor: XorReader::new(),
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
        (self.t, f64::from_bits(self.xor.v))
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
    /// `(t, t_delta, value and window)`.
    pub(crate) fn appender_state(&self) -> (i64, u64, XorWriter) {
        (self.t, self.t_delta, XorWriter::resume(&self.xor))
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

    /// Stops the iteration: the value just read has an impossible window. The reader
    /// stands right after the window's header.
    #[inline(always)]
    fn bad_window(&mut self, bad: BadWindow) -> Option<(i64, f64)> {
        let offset = self
            .reader
            .bit_position()
            .saturating_sub(WINDOW_HEADER_BITS as usize)
            / 8;
        let kind = ErrorKind::BadXorWindow {
            sample: self.index(),
            leading: bad.leading,
            significant: bad.significant,
        };
        self.corrupt(kind, offset)
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
            let Some(zigzag) = varbit::read_uvarint(&mut self.reader) else {
                return self.corrupt(ErrorKind::VarintOverflow { sample: 0 }, start);
            };
            self.t = varbit::unzigzag(zigzag);
            self.xor.v = self.reader.read_wide(64);
        } else {
            let Some(delta) = varbit::read_uvarint(&mut self.reader) else {
                return self.corrupt(ErrorKind::VarintOverflow { sample: 1 }, start);
            };
            self.t_delta = delta;
            self.t = self.t.wrapping_add(delta as i64);
            if let Err(bad) = self.xor.read(&mut self.reader) {
                return self.bad_window(bad);
            }
        }
        self.finish_sample()
    }

    /// Samples 2 and later: a delta-of-delta timestamp, then an XOR value.
    #[inline(always)]
    fn next_tail(&mut self) -> Option<(i64, f64)> {
        let r = &mut self.reader;
        // Enough for the 2-bit common case below and for any small bucket with its prefix
        // (up to 24 bits) without a second refill; longer fields refill as they read.
        r.ensure(DOD_BUFFERED_BITS);
        if r.peek(2) == 0b00 {
            // The most common sample of all: same interval, same value.
            r.consume(2);
            self.t = self.t.wrapping_add(self.t_delta as i64);
            return self.finish_sample();
        }
        let dod = varbit::read_dod_buffered(r);
        self.t_delta = self.t_delta.wrapping_add(dod as u64);
        self.t = self.t.wrapping_add(self.t_delta as i64);
        if let Err(bad) = self.xor.read(&mut self.reader) {
            return self.bad_window(bad);
        }
        self.finish_sample()
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
