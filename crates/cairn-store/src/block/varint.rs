//! Go-compatible varints (`binary.AppendUvarint`, `binary.AppendVarint`) and a cursor that
//! reads them from a borrowed slice without indexing it.

use super::error::{ErrorKind, Fault};

/// The longest varint of a 64-bit value: 10 groups of 7 bits.
pub(crate) const MAX_VARINT_LEN: usize = 10;

// The writers are the WAL records' (the same Go-compatible varints).
pub(crate) use crate::record::buf::{put_uvarint, put_varint};

/// A read position in a byte slice; failures carry the absolute offset of the field.
#[derive(Debug)]
pub(crate) struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor over `bytes` at byte `pos`.
    pub(crate) fn at(bytes: &'a [u8], pos: usize) -> Cursor<'a> {
        Cursor { bytes, pos }
    }

    /// Offset of the next byte to read.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// Bytes left from the position on.
    pub(crate) fn remaining(&self) -> usize {
        self.bytes.len().saturating_sub(self.pos)
    }

    fn rest(&self) -> &'a [u8] {
        self.bytes.get(self.pos..).unwrap_or_default()
    }

    fn truncated(&self, what: &'static str) -> Fault {
        Fault::new(self.pos, ErrorKind::Truncated { what })
    }

    /// The next `n` bytes.
    pub(crate) fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], Fault> {
        let taken = self.rest().get(..n).ok_or_else(|| self.truncated(what))?;
        self.pos += n;
        Ok(taken)
    }

    /// The next byte.
    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8, Fault> {
        let (&b, _) = self
            .rest()
            .split_first()
            .ok_or_else(|| self.truncated(what))?;
        self.pos += 1;
        Ok(b)
    }

    /// A big-endian `u32`.
    pub(crate) fn u32_be(&mut self, what: &'static str) -> Result<u32, Fault> {
        let (word, _) = self
            .rest()
            .split_first_chunk::<4>()
            .ok_or_else(|| self.truncated(what))?;
        self.pos += 4;
        Ok(u32::from_be_bytes(*word))
    }

    /// An unsigned varint. Overlong encodings (`80 00` for 0) are accepted, as Go accepts
    /// them; more than 64 bits (or 10 bytes) are not.
    pub(crate) fn uvarint(&mut self, what: &'static str) -> Result<u64, Fault> {
        let mut x = 0u64;
        for (i, &b) in self.rest().iter().take(MAX_VARINT_LEN).enumerate() {
            if i == MAX_VARINT_LEN - 1 && b > 1 {
                return Err(Fault::new(
                    self.pos,
                    ErrorKind::Malformed("varint does not fit in 64 bits"),
                ));
            }
            x |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                self.pos += i + 1;
                return Ok(x);
            }
        }
        // Ten bytes always end the loop above, so the bytes ran out.
        Err(self.truncated(what))
    }

    /// A zigzag-encoded signed varint.
    pub(crate) fn varint(&mut self, what: &'static str) -> Result<i64, Fault> {
        let u = self.uvarint(what)?;
        Ok((u >> 1).cast_signed() ^ -((u & 1).cast_signed()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_lengths() {
        for x in [0, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX] {
            let mut buf = Vec::new();
            put_uvarint(&mut buf, x);
            let mut c = Cursor::at(&buf, 0);
            assert_eq!(c.uvarint("x").unwrap(), x);
            assert_eq!(c.pos(), buf.len());
        }
        for x in [0, -1, 1, i64::MIN, i64::MAX] {
            let mut buf = Vec::new();
            put_varint(&mut buf, x);
            assert_eq!(Cursor::at(&buf, 0).varint("x").unwrap(), x);
        }
    }

    #[test]
    fn rejects_overflow_and_truncation() {
        let eleven = [0xff; 11];
        assert!(matches!(
            Cursor::at(&eleven, 0).uvarint("x").unwrap_err().kind,
            ErrorKind::Malformed(_)
        ));
        let max = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert_eq!(Cursor::at(&max, 0).uvarint("x").unwrap(), u64::MAX);
        let ten = [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02];
        assert!(Cursor::at(&ten, 0).uvarint("x").is_err());
        let fault = Cursor::at(&[0x80, 0x80], 0)
            .uvarint("a length")
            .unwrap_err();
        assert!(matches!(
            fault.kind,
            ErrorKind::Truncated { what: "a length" }
        ));
        assert_eq!(fault.offset, 0);
    }
}
