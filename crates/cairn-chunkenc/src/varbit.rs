//! The bit-level fields of Prometheus' XOR chunk, each with its writer and reader: uvarints
//! and zigzag, the delta-of-delta timestamp buckets (`<varbit_ts>` in `FORMAT.md`) and the
//! windowed XOR value (`<varbit_xor>`).
//!
//! XOR sample chunks ([`XorAppender`](crate::XorAppender), [`XorIterator`](crate::XorIterator))
//! and exemplar chunks (which interleave these fields with label fields in one bit stream)
//! both use them, so the two formats cannot drift apart.
//!
//! The readers are the sample decoder's hot path: they are `#[inline(always)]` so that the
//! decoder's state stays in registers across a sample, and they leave the end-of-input check
//! to the caller (see [`BitReader`]). The writers are `#[inline]`: rustc splits a crate into
//! codegen units by module, and without the attribute the appenders would call them out of
//! line (which cost `XorAppender::append` up to a fifth of its speed).

use crate::bitstream::{BitReader, BitWriter};

/// Longest uvarint: 10 bytes of 7 bits cover 64 bits.
const MAX_UVARINT_LEN: usize = 10;

/// Marks "no XOR window stored yet": the first non-zero XOR always writes its window.
const NO_WINDOW: u8 = 0xff;

/// Bits a reader must have buffered before [`read_dod_buffered`]: the longest small bucket
/// with its prefix.
pub(crate) const DOD_BUFFERED_BITS: u32 = 4 + 20;

/// Zigzag encoding of Go's `binary.PutVarint`: small magnitudes, either sign, stay small.
#[inline]
pub(crate) fn zigzag(t: i64) -> u64 {
    ((t << 1) ^ (t >> 63)) as u64
}

/// The inverse of [`zigzag`]: the low bit is the sign.
#[inline(always)]
pub(crate) fn unzigzag(z: u64) -> i64 {
    ((z >> 1) as i64) ^ -((z & 1) as i64)
}

/// Number of bits that hold the values `0..=max`: 0 for `max == 0`.
#[inline]
pub(crate) fn bit_len(max: u64) -> u32 {
    64 - max.leading_zeros()
}

/// Bytes [`write_uvarint`] takes for `x`: one per started group of 7 significant bits.
#[inline]
pub(crate) fn uvarint_len(x: u64) -> u32 {
    (64 - x.leading_zeros()).div_ceil(7).max(1)
}

/// Writes `x` as a uvarint: 7 bits per byte, least significant group first, the high bit
/// set on every byte but the last. Byte-aligned only if the writer is.
#[inline]
pub(crate) fn write_uvarint(out: &mut BitWriter, mut x: u64) {
    let mut buf = [0u8; MAX_UVARINT_LEN];
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
    out.write_bytes(buf.get(..len).unwrap_or(&buf));
}

/// Reads a uvarint the way Go's `binary.ReadUvarint` does; `None` if it overflows 64 bits.
/// Past the end of the chunk it reads zero bytes, which end it; the caller's overrun check
/// reports the truncation.
#[inline(always)]
pub(crate) fn read_uvarint(r: &mut BitReader<'_>) -> Option<u64> {
    let mut x = 0u64;
    for i in 0..MAX_UVARINT_LEN {
        let b = r.read(8);
        if b < 0x80 {
            if i == MAX_UVARINT_LEN - 1 && b > 1 {
                return None;
            }
            return Some(x | (b << (7 * i)));
        }
        x |= (b & 0x7f) << (7 * i);
    }
    None
}

/// Whether `x` fits a `width`-bit delta-of-delta bucket (Prometheus' `bitRange`).
#[inline]
fn fits(x: i64, width: u32) -> bool {
    let half = 1i64 << (width - 1);
    -(half - 1) <= x && x <= half
}

/// Writes a delta of delta in the smallest of Prometheus' buckets that holds it. A `w`-bit
/// bucket holds `-(2^(w-1) - 1) ..= 2^(w-1)`.
#[inline]
pub(crate) fn write_dod(out: &mut BitWriter, dod: i64) {
    let raw = dod as u64;
    if dod == 0 {
        out.write_bits(0b0, 1);
    } else if fits(dod, 14) {
        out.write_bits((0b10 << 14) | (raw & 0x3fff), 2 + 14);
    } else if fits(dod, 17) {
        out.write_bits((0b110 << 17) | (raw & 0x1_ffff), 3 + 17);
    } else if fits(dod, 20) {
        out.write_bits((0b1110 << 20) | (raw & 0xf_ffff), 4 + 20);
    } else {
        out.write_bits(0b1111, 4);
        out.write_bits(raw, 64);
    }
}

/// Reads a delta of delta written by [`write_dod`].
#[inline(always)]
pub(crate) fn read_dod(r: &mut BitReader<'_>) -> i64 {
    r.ensure(DOD_BUFFERED_BITS);
    read_dod_buffered(r)
}

/// [`read_dod`] for a caller that already buffered [`DOD_BUFFERED_BITS`] bits (and may have
/// peeked at them): any small bucket is then read together with its prefix, without a second
/// refill; the 64-bit bucket refills as it reads.
#[inline(always)]
pub(crate) fn read_dod_buffered(r: &mut BitReader<'_>) -> i64 {
    // The bucket prefix is at most 4 bits: 0, 10, 110, 1110 or 1111. Each small bucket is
    // read together with its prefix, whose bits the mask then drops.
    match r.peek(4) {
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

/// The writer's side of the windowed XOR: the last value and the stored window.
#[derive(Clone, Debug)]
pub(crate) struct XorWriter {
    /// The last value's bits.
    pub(crate) v: u64,
    /// Leading zeros of the stored window, or [`NO_WINDOW`].
    leading: u8,
    trailing: u8,
}

impl XorWriter {
    /// No value yet and no window stored.
    #[inline]
    pub(crate) fn new() -> Self {
        XorWriter {
            v: 0,
            leading: NO_WINDOW,
            trailing: 0,
        }
    }

    /// Continues after a reader's state, as Prometheus does when it reopens a chunk: the
    /// window is the decoder's, which is the full 64-bit window if none was stored yet. For
    /// a chunk without values, use [`new`](Self::new).
    pub(crate) fn resume(r: &XorReader) -> Self {
        // Both are below 64 by construction.
        let leading = u8::try_from(64 - r.significant - r.trailing).unwrap_or(0);
        let trailing = u8::try_from(r.trailing).unwrap_or(0);
        XorWriter {
            v: r.v,
            leading,
            trailing,
        }
    }

    /// How many bits [`write`](Self::write) would take for `v`, without writing it.
    #[inline]
    pub(crate) fn cost(&self, v: u64) -> u32 {
        let xor = v ^ self.v;
        if xor == 0 {
            return 1;
        }
        let leading = (xor.leading_zeros() as u8).min(31);
        let trailing = xor.trailing_zeros() as u8;
        if self.leading != NO_WINDOW && leading >= self.leading && trailing >= self.trailing {
            2 + 64 - u32::from(self.leading) - u32::from(self.trailing)
        } else {
            2 + 5 + 6 + 64 - u32::from(leading) - u32::from(trailing)
        }
    }

    /// Writes the XOR of `v` with the previous value and makes `v` the previous value: one 0
    /// bit if equal; else `10` and the bits inside the stored window if they fit it; else
    /// `11`, a new window (5-bit leading zeros, 6-bit significant bits) and the bits inside
    /// it.
    #[inline]
    pub(crate) fn write(&mut self, out: &mut BitWriter, v: u64) {
        let xor = v ^ self.v;
        self.v = v;
        if xor == 0 {
            out.write_bits(0b0, 1);
            return;
        }
        // Leading zeros are stored in 5 bits; more than 31 are counted as significant.
        let leading = (xor.leading_zeros() as u8).min(31);
        let trailing = xor.trailing_zeros() as u8;
        if self.leading != NO_WINDOW && leading >= self.leading && trailing >= self.trailing {
            let significant = 64 - u32::from(self.leading) - u32::from(self.trailing);
            out.write_bits(0b10, 2);
            out.write_bits(xor >> self.trailing, significant);
        } else {
            self.leading = leading;
            self.trailing = trailing;
            let significant = 64 - u32::from(leading) - u32::from(trailing);
            // 64 does not fit 6 bits and is stored as 0 (0 itself never occurs).
            let header = (0b11 << 11) | (u64::from(leading) << 6) | u64::from(significant & 0x3f);
            out.write_bits(header, 2 + 5 + 6);
            out.write_bits(xor >> trailing, significant);
        }
    }
}

/// An impossible XOR window read from a chunk: more than 64 bits.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BadWindow {
    /// The stored leading zeros.
    pub(crate) leading: u8,
    /// The significant bits, 1 to 64.
    pub(crate) significant: u8,
}

/// Bits of a new window's header: the `11` control bits, 5 of leading zeros, 6 of
/// significant bits. After a [`BadWindow`] the reader stands right after them.
pub(crate) const WINDOW_HEADER_BITS: u32 = 2 + 5 + 6;

/// The reader's side of the windowed XOR: the current value and window.
#[derive(Clone, Debug)]
pub(crate) struct XorReader {
    /// The current value's bits.
    pub(crate) v: u64,
    /// The window: significant bits and trailing zeros (the leading zeros are the rest of
    /// 64). Before any window is stored it is Prometheus' initial 64 / 0.
    significant: u32,
    trailing: u32,
}

impl XorReader {
    /// No value yet, Prometheus' initial window.
    #[inline]
    pub(crate) fn new() -> Self {
        XorReader {
            v: 0,
            significant: 64,
            trailing: 0,
        }
    }

    /// Reads one value written by [`XorWriter::write`] into [`v`](Self::v).
    #[inline(always)]
    pub(crate) fn read(&mut self, r: &mut BitReader<'_>) -> Result<(), BadWindow> {
        // The 2 control bits; longer fields check for themselves.
        r.ensure(2);
        match r.peek(2) {
            0b00 | 0b01 => {
                // Same value as before.
                r.consume(1);
                return Ok(());
            }
            0b10 => {
                let significant = self.significant;
                if significant <= 54 {
                    // Control bits and value in one read; the XOR drops the known `10`.
                    let field = r.read(2 + significant) ^ (0b10 << significant);
                    self.v ^= field << self.trailing;
                    return Ok(());
                }
                r.consume(2);
            }
            _ => {
                let header = r.read(WINDOW_HEADER_BITS);
                let leading = ((header >> 6) & 0x1f) as u32;
                let stored = (header & 0x3f) as u32;
                // 64 significant bits do not fit 6 bits; Prometheus stores them as 0, which
                // is otherwise impossible (an all-zero XOR takes the "same value" path).
                let significant = if stored == 0 { 64 } else { stored };
                if leading + significant > 64 {
                    return Err(BadWindow {
                        leading: leading as u8,
                        significant: significant as u8,
                    });
                }
                self.significant = significant;
                self.trailing = 64 - leading - significant;
            }
        }
        let bits = r.read_wide(self.significant);
        // `trailing` < 64 because `significant` >= 1.
        self.v ^= bits << self.trailing;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bits `write` adds, measured: it writes after a 1 bit and before a closing 1 bit, and
    /// the closing bit's position is the count.
    fn written_bits(write: impl FnOnce(&mut BitWriter)) -> u32 {
        let mut out = BitWriter::from_parts(Vec::new(), 0);
        out.write_bits(1, 1);
        write(&mut out);
        out.write_bits(1, 1);
        let bytes = out.bytes();
        let trailing = bytes.last().map_or(0, |b| b.trailing_zeros());
        (bytes.len() as u32) * 8 - trailing - 2
    }

    #[test]
    fn uvarint_len_is_what_write_uvarint_takes() {
        for shift in 0..64 {
            for x in [1u64 << shift, (1u64 << shift) - 1, u64::MAX >> shift, 0] {
                let bits = written_bits(|out| write_uvarint(out, x));
                assert_eq!(bits, 8 * uvarint_len(x), "{x}");
            }
        }
    }

    #[test]
    fn cost_is_what_write_takes() {
        let mut rng = 0x9e37_79b9_7f4a_7c15_u64;
        let mut xor = XorWriter::new();
        xor.v = 1.0f64.to_bits();
        for i in 0..10_000 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            // Random bits, small integers, repeats and values in a narrow range.
            let v = match i % 4 {
                0 => rng,
                1 => ((rng % 2_000) as f64).to_bits(),
                2 => xor.v,
                _ => xor.v ^ ((rng & 0xff) << 20),
            };
            let cost = xor.cost(v);
            let mut copy = xor.clone();
            assert_eq!(written_bits(|out| copy.write(out, v)), cost, "{v:#x}");
            xor = copy;
        }
    }
}
