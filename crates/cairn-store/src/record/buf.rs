//! Bytes in and out: little-endian words and Go-compatible varints.
//!
//! The writers append to the caller's buffer. The [`Decoder`] reads a borrowed `&[u8]`, never
//! indexes it, and reports every failure with the absolute byte offset of the field it was
//! reading, so that errors of the second record in a WAL record still point into that WAL
//! record.

use super::error::{DecodeError, DecodeErrorKind, Field};

/// The longest varint of a 64-bit value: 10 groups of 7 bits.
pub(crate) const MAX_VARINT_LEN: usize = 10;

/// Appends `x` as an unsigned LEB128 varint, as Go's `binary.AppendUvarint`.
pub(crate) fn put_uvarint(buf: &mut Vec<u8>, mut x: u64) {
    while x >= 0x80 {
        buf.push((x & 0x7f) as u8 | 0x80);
        x >>= 7;
    }
    buf.push(x as u8);
}

/// Appends `x` zigzag-encoded (0, -1, 1, -2, … become 0, 1, 2, 3, …), as Go's
/// `binary.AppendVarint`.
pub(crate) fn put_varint(buf: &mut Vec<u8>, x: i64) {
    put_uvarint(buf, zigzag(x));
}

/// Appends `x` as 8 little-endian bytes.
pub(crate) fn put_u64(buf: &mut Vec<u8>, x: u64) {
    buf.extend_from_slice(&x.to_le_bytes());
}

/// Appends `s` as a uvarint byte length and the bytes.
pub(crate) fn put_str(buf: &mut Vec<u8>, s: &str) {
    put_uvarint(buf, s.len() as u64);
    buf.extend_from_slice(s.as_bytes());
}

pub(crate) fn zigzag(x: i64) -> u64 {
    ((x << 1) ^ (x >> 63)).cast_unsigned()
}

pub(crate) fn unzigzag(u: u64) -> i64 {
    (u >> 1).cast_signed() ^ -((u & 1).cast_signed())
}

/// A cursor over one WAL record's bytes.
#[derive(Debug)]
pub(crate) struct Decoder<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Decoder<'a> {
    /// A decoder over `bytes` starting at byte `pos`.
    pub(crate) fn at(bytes: &'a [u8], pos: usize) -> Self {
        Decoder { bytes, pos }
    }

    /// The offset of the next byte to read.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// How many bytes are left to read.
    pub(crate) fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.pos)
    }

    fn rest(&self) -> &'a [u8] {
        self.bytes.get(self.pos..).unwrap_or_default()
    }

    fn truncated(&self, field: Field, needed: u64) -> DecodeError {
        DecodeError::new(
            DecodeErrorKind::Truncated {
                field,
                needed,
                available: self.remaining(),
            },
            self.pos,
        )
    }

    /// The next `n` bytes.
    pub(crate) fn take(&mut self, n: u64, field: Field) -> Result<&'a [u8], DecodeError> {
        let taken = usize::try_from(n)
            .ok()
            .and_then(|n| self.rest().get(..n))
            .ok_or_else(|| self.truncated(field, n))?;
        self.pos += taken.len();
        Ok(taken)
    }

    pub(crate) fn u8(&mut self, field: Field) -> Result<u8, DecodeError> {
        let (&b, _) = self
            .rest()
            .split_first()
            .ok_or_else(|| self.truncated(field, 1))?;
        self.pos += 1;
        Ok(b)
    }

    /// A little-endian `u64`.
    pub(crate) fn u64(&mut self, field: Field) -> Result<u64, DecodeError> {
        let (word, _) = self
            .rest()
            .split_first_chunk::<8>()
            .ok_or_else(|| self.truncated(field, 8))?;
        self.pos += 8;
        Ok(u64::from_le_bytes(*word))
    }

    /// An unsigned varint. Overlong encodings of a value (`80 00` for 0) are accepted, as Go
    /// accepts them; an encoding longer than 10 bytes or beyond 64 bits is not.
    pub(crate) fn uvarint(&mut self, field: Field) -> Result<u64, DecodeError> {
        let mut x = 0u64;
        let mut shift = 0u32;
        for (i, &b) in self.rest().iter().enumerate() {
            if i == MAX_VARINT_LEN - 1 && b > 1 {
                return Err(DecodeError::new(
                    DecodeErrorKind::VarintOverflow { field },
                    self.pos,
                ));
            }
            x |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                self.pos += i + 1;
                return Ok(x);
            }
            shift += 7;
        }
        // Every byte left had its continuation bit set: at least one more was needed.
        Err(self.truncated(field, self.remaining() as u64 + 1))
    }

    /// A zigzag-encoded signed varint.
    pub(crate) fn varint(&mut self, field: Field) -> Result<i64, DecodeError> {
        self.uvarint(field).map(unzigzag)
    }

    /// A uvarint count of items that take at least `each` bytes apiece plus `extra` bytes
    /// once when there is at least one. A count the remaining bytes cannot hold is refused
    /// here, before anything is allocated for it, so that a decoder's memory stays
    /// proportional to its input.
    pub(crate) fn count(
        &mut self,
        field: Field,
        each: usize,
        extra: usize,
    ) -> Result<usize, DecodeError> {
        let at = self.pos;
        let count = self.uvarint(field)?;
        let needed = if count == 0 {
            0
        } else {
            count
                .saturating_mul(each as u64)
                .saturating_add(extra as u64)
        };
        let available = self.remaining();
        match usize::try_from(count) {
            Ok(n) if needed <= available as u64 => Ok(n),
            _ => Err(DecodeError::new(
                DecodeErrorKind::CountTooLarge {
                    field,
                    count,
                    needed,
                    available,
                },
                at,
            )),
        }
    }

    /// A uvarint length (`len_field`) and that many bytes of UTF-8 (`field`); returns the
    /// offset of the text and the text.
    pub(crate) fn str(
        &mut self,
        len_field: Field,
        field: Field,
    ) -> Result<(usize, &'a str), DecodeError> {
        let len = self.uvarint(len_field)?;
        let at = self.pos;
        let bytes = self.take(len, field)?;
        match std::str::from_utf8(bytes) {
            Ok(s) => Ok((at, s)),
            Err(e) => Err(DecodeError::new(
                DecodeErrorKind::InvalidUtf8 { field },
                at + e.valid_up_to(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zigzag_round_trips_the_extremes() {
        for x in [0, -1, 1, -64, 64, i64::MIN, i64::MAX] {
            assert_eq!(unzigzag(zigzag(x)), x);
        }
        assert_eq!(zigzag(-1), 1);
        assert_eq!(zigzag(1), 2);
        assert_eq!(zigzag(i64::MIN), u64::MAX);
    }

    #[test]
    fn uvarint_limits() {
        let mut buf = Vec::new();
        put_uvarint(&mut buf, u64::MAX);
        assert_eq!(buf.len(), MAX_VARINT_LEN);
        assert_eq!(Decoder::at(&buf, 0).uvarint(Field::RefDelta), Ok(u64::MAX));
        // Eleven bytes, or a tenth byte above 1, do not fit in 64 bits.
        let mut over = buf.clone();
        *over.last_mut().unwrap() = 0x02;
        assert!(matches!(
            Decoder::at(&over, 0)
                .uvarint(Field::RefDelta)
                .unwrap_err()
                .kind(),
            DecodeErrorKind::VarintOverflow { .. }
        ));
        // An overlong zero is accepted, as Go accepts it.
        assert_eq!(
            Decoder::at(&[0x80, 0x00], 0).uvarint(Field::RefDelta),
            Ok(0)
        );
    }
}
