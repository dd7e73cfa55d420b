//! Big-endian bit streams: the most significant bit of each byte comes first.
//!
//! The writer appends to an owned `Vec<u8>`; the reader walks a borrowed `&[u8]` and never
//! writes to it, so it works on a read-only mapping.

/// A mask of the `n` low bits, `1 <= n <= 64`.
#[inline]
fn low_bits(n: u32) -> u64 {
    u64::MAX >> (64 - n)
}

/// Appends bits to a byte buffer, most significant bit first.
///
/// The last byte of the buffer may be partly written; its unused low bits are zero, which is
/// also the zero padding the format asks for at the end of a chunk.
#[derive(Clone, Debug, Default)]
pub(crate) struct BitWriter {
    buf: Vec<u8>,
    /// Unused low bits of the last byte, 0..=7.
    free: u32,
}

impl BitWriter {
    /// A writer that continues after `buf`'s last byte, of which the `free` low bits are
    /// still unused (and must be zero).
    pub(crate) fn from_parts(buf: Vec<u8>, free: u32) -> Self {
        debug_assert!(free < 8 && (free == 0 || !buf.is_empty()));
        BitWriter { buf, free }
    }

    /// A writer that continues a finished stream where its last bit, bit `end_bits`, ends:
    /// the zero padding after it is cleared (readers ignore it) and filled in by the next
    /// write.
    ///
    /// # Errors
    ///
    /// Bytes follow the one `end_bits` ends in: writing after them would corrupt the stream.
    /// The error is the stream's length in bytes, where the extra bytes start.
    pub(crate) fn resume(mut buf: Vec<u8>, end_bits: usize) -> Result<Self, usize> {
        let used = end_bits.div_ceil(8);
        if buf.len() > used {
            return Err(used);
        }
        let free = (used * 8 - end_bits) as u32;
        if let Some(last) = buf.last_mut() {
            *last &= !((1u8 << free) - 1);
        }
        Ok(Self::from_parts(buf, free))
    }

    pub(crate) fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Overwrites the big-endian `u16` at byte `offset` of what was written, such as a
    /// chunk's count header; does nothing if fewer bytes were written.
    #[inline]
    pub(crate) fn put_u16(&mut self, offset: usize, n: u16) {
        if let Some(field) = self
            .buf
            .get_mut(offset..)
            .and_then(<[u8]>::first_chunk_mut::<2>)
        {
            *field = n.to_be_bytes();
        }
    }

    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    /// Appends the `n` low bits of `value`, most significant first; `1 <= n <= 64`. Bits of
    /// `value` above the `n` low ones are ignored.
    #[inline]
    pub(crate) fn write_bits(&mut self, value: u64, n: u32) {
        debug_assert!((1..=64).contains(&n));
        let value = value & low_bits(n);
        let mut n = n;
        if self.free > 0 {
            let take = self.free.min(n);
            // `take` <= 7 bits: they fit the byte.
            let head = (value >> (n - take)) as u8;
            if let Some(last) = self.buf.last_mut() {
                *last |= head << (self.free - take);
            }
            self.free -= take;
            n -= take;
        }
        while n >= 8 {
            n -= 8;
            self.buf.push((value >> n) as u8);
        }
        if n > 0 {
            self.buf.push((value << (8 - n)) as u8);
            self.free = 8 - n;
        }
    }

    /// Appends whole bytes, as [`write_bits`](Self::write_bits) with 8 bits each.
    pub(crate) fn write_bytes(&mut self, bytes: &[u8]) {
        if self.free == 0 {
            self.buf.extend_from_slice(bytes);
        } else {
            for &b in bytes {
                self.write_bits(u64::from(b), 8);
            }
        }
    }
}

/// Reads bits from a borrowed byte slice, most significant first, 64 bits at a time.
///
/// `buf` holds the next `bits` unread bits left-aligned. [`refill`](Self::refill) tops it
/// up to at least 56 bits with one unaligned big-endian 8-byte load, so a decoder can read
/// any field of up to 56 bits after one refill without further checks. Past the end of the
/// slice the reader yields zero bits instead of failing; a decoder calls
/// [`overran`](Self::overran) once per sample to learn whether it read any of them, which
/// keeps the end-of-input test out of every field read.
#[derive(Clone, Debug)]
pub(crate) struct BitReader<'a> {
    data: &'a [u8],
    /// Next byte of `data` to load into `buf`; may pass `data.len()` (virtual zero bytes).
    pos: usize,
    /// Unread bits, left-aligned. Bits below the top `bits` are either zero or copies of the
    /// stream bits that follow, so OR-ing the next load over them is harmless.
    buf: u64,
    /// Number of unread bits in `buf`, 0..=63.
    bits: u32,
}

impl<'a> BitReader<'a> {
    /// A reader positioned at byte `pos` of `data`.
    pub(crate) fn new(data: &'a [u8], pos: usize) -> Self {
        BitReader {
            data,
            pos,
            buf: 0,
            bits: 0,
        }
    }

    /// Tops the buffer up to at least 56 unread bits.
    #[inline(always)]
    pub(crate) fn refill(&mut self) {
        match self.data.get(self.pos..).and_then(<[u8]>::first_chunk::<8>) {
            Some(word) => {
                self.buf |= u64::from_be_bytes(*word) >> self.bits;
                // Whole bytes that fit below the unread bits; the partly fitting one is
                // loaded again next time.
                self.pos += (63 - self.bits as usize) >> 3;
                self.bits |= 56;
            }
            None => {
                (self.pos, self.buf, self.bits) =
                    refill_slow(self.data, self.pos, self.buf, self.bits)
            }
        }
    }

    /// Makes sure at least `n` unread bits are buffered, `n <= 56`: refills only when fewer
    /// are, which for small samples is once every several samples.
    #[inline(always)]
    pub(crate) fn ensure(&mut self, n: u32) {
        if self.bits < n {
            self.refill();
        }
    }

    /// The top `n` unread bits, not consumed; `1 <= n <= 64`, and at most the bits a
    /// refill guarantees for the caller's use.
    #[inline(always)]
    pub(crate) fn peek(&self, n: u32) -> u64 {
        debug_assert!((1..=64).contains(&n));
        self.buf >> (64 - n)
    }

    /// Drops `n` unread bits, `1 <= n <= bits`.
    #[inline(always)]
    pub(crate) fn consume(&mut self, n: u32) {
        debug_assert!(n >= 1 && n <= self.bits);
        self.buf <<= n;
        self.bits -= n;
    }

    /// Reads `n` bits, `1 <= n <= 56`, refilling first if needed.
    #[inline(always)]
    pub(crate) fn read(&mut self, n: u32) -> u64 {
        debug_assert!((1..=56).contains(&n));
        self.ensure(n);
        let v = self.peek(n);
        self.consume(n);
        v
    }

    /// Reads `n` bits, `1 <= n <= 64`.
    #[inline(always)]
    pub(crate) fn read_wide(&mut self, n: u32) -> u64 {
        if n <= 56 {
            self.read(n)
        } else {
            let hi = self.read(n - 32);
            let lo = self.read(32);
            (hi << 32) | lo
        }
    }

    /// Bits consumed from the start of the slice (not from the starting position).
    #[inline(always)]
    pub(crate) fn bit_position(&self) -> usize {
        self.pos * 8 - self.bits as usize
    }

    /// Whether any bit read so far lay past the end of the slice.
    #[inline(always)]
    pub(crate) fn overran(&self) -> bool {
        self.bit_position() > self.data.len() * 8
    }

    /// The slice's length in bytes.
    pub(crate) fn len(&self) -> usize {
        self.data.len()
    }
}

/// Byte-wise refill for the last 8 bytes of the stream and the zeros past its end.
///
/// Takes and returns the reader's state by value, so that the hot loop calling it can keep
/// that state in registers.
#[cold]
#[inline(never)]
fn refill_slow(data: &[u8], mut pos: usize, mut buf: u64, mut bits: u32) -> (usize, u64, u32) {
    while bits <= 55 {
        let byte = data.get(pos).copied().unwrap_or(0);
        buf |= u64::from(byte) << (56 - bits);
        pos += 1;
        bits += 8;
    }
    (pos, buf, bits)
}
