//! The on-disk layout of a segment, as constants and the few functions that write and check it.
//!
//! `FORMAT.md` beside this file draws the same layout; `tests/integration/pinned.rs` pins the
//! sizes below and one segment byte for byte, so the two cannot drift. All integers are
//! little-endian.

use crate::error::CorruptionReason;

/// The four bytes every segment file starts with.
pub const MAGIC: [u8; 4] = *b"CWAL";
/// The segment format version this crate writes and reads.
pub const VERSION: u8 = 1;

/// Byte offset of the magic in the segment header.
pub const MAGIC_OFFSET: usize = 0;
/// Byte offset of the format version (`u8`).
pub const VERSION_OFFSET: usize = MAGIC_OFFSET + MAGIC.len();
/// Byte offset of the three reserved flag bytes, zero in version 1.
pub const FLAGS_OFFSET: usize = VERSION_OFFSET + 1;
/// Byte offset of the segment number (`u32`), the same number as the file name.
pub const SEGMENT_OFFSET: usize = FLAGS_OFFSET + 3;
/// Byte offset of the CRC32C (`u32`) of the header bytes before it.
pub const HEADER_CRC_OFFSET: usize = SEGMENT_OFFSET + 4;
/// Size of the segment header; the first fragment starts here.
pub const HEADER_LEN: usize = HEADER_CRC_OFFSET + 4;

/// Byte offset of the fragment type (`u8`) in a fragment header.
pub const FRAGMENT_TYPE_OFFSET: usize = 0;
/// Byte offset of the payload length (`u16`) in a fragment header.
pub const FRAGMENT_LEN_OFFSET: usize = FRAGMENT_TYPE_OFFSET + 1;
/// Byte offset of the CRC32C (`u32`) of type, length and payload in a fragment header.
pub const FRAGMENT_CRC_OFFSET: usize = FRAGMENT_LEN_OFFSET + 2;
/// Size of a fragment header; the payload follows it.
pub const FRAGMENT_HEADER_LEN: usize = FRAGMENT_CRC_OFFSET + 4;
/// Largest payload of one fragment: the length field is a `u16`.
pub const MAX_FRAGMENT_LEN: usize = u16::MAX as usize;

/// Smallest segment size [`Options::segment_size`](crate::Options::segment_size) accepts.
pub const MIN_SEGMENT_SIZE: u64 = 64;
/// Largest segment size [`Options::segment_size`](crate::Options::segment_size) accepts.
pub const MAX_SEGMENT_SIZE: u64 = 1 << 30;
/// Segment size used unless the options say otherwise: 128 MiB, as Prometheus.
pub const DEFAULT_SEGMENT_SIZE: u64 = 128 << 20;
/// Largest record any segment of this format can hold, whatever the segment size option.
///
/// Readers refuse a record whose fragments add up to more, before growing any buffer.
pub const MAX_RECORD_LEN: usize = max_record_len(MAX_SEGMENT_SIZE);

/// Largest record that fits in an empty segment of `segment_size` bytes: the space after the
/// header, less one fragment header per (started) [`MAX_FRAGMENT_LEN`] bytes of payload.
///
/// Records never span segments, so a writer with this segment size rejects longer ones.
pub const fn max_record_len(segment_size: u64) -> usize {
    let room = segment_size.saturating_sub(HEADER_LEN as u64);
    let per_full_fragment = (FRAGMENT_HEADER_LEN + MAX_FRAGMENT_LEN) as u64;
    let full = room / per_full_fragment;
    let rest = room % per_full_fragment;
    let header = FRAGMENT_HEADER_LEN as u64;
    let len = if rest > header {
        full * MAX_FRAGMENT_LEN as u64 + (rest - header)
    } else if full == 0 && rest == header {
        0
    } else {
        full * MAX_FRAGMENT_LEN as u64
    };
    len as usize
}

/// Bytes a record of `len` bytes takes in a segment: its payload plus one fragment header per
/// fragment (a record of 0 bytes is one empty full fragment).
pub const fn encoded_len(len: usize) -> usize {
    let fragments = if len == 0 {
        1
    } else {
        len.div_ceil(MAX_FRAGMENT_LEN)
    };
    len + fragments * FRAGMENT_HEADER_LEN
}

/// Where a fragment sits in its record.
///
/// Type byte 0 is not a fragment type on purpose: a zero-filled tail (a file extended but
/// never written, as some file systems leave after a crash) is reported as corruption at its
/// first byte instead of being read as data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FragmentType {
    /// A whole record in one fragment.
    Full = 1,
    /// The first fragment of a record split in several.
    First = 2,
    /// A fragment between the first and the last.
    Middle = 3,
    /// The last fragment of a split record.
    Last = 4,
}

impl FragmentType {
    /// The type stored in byte `b`, if it is one.
    pub const fn from_byte(b: u8) -> Option<Self> {
        match b {
            1 => Some(FragmentType::Full),
            2 => Some(FragmentType::First),
            3 => Some(FragmentType::Middle),
            4 => Some(FragmentType::Last),
            _ => None,
        }
    }

    /// Lowercase name, as error messages print it.
    pub const fn name(self) -> &'static str {
        match self {
            FragmentType::Full => "full",
            FragmentType::First => "first",
            FragmentType::Middle => "middle",
            FragmentType::Last => "last",
        }
    }
}

/// The header of segment number `segment`.
pub(crate) fn encode_header(segment: u32) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    put(&mut h, MAGIC_OFFSET, &MAGIC);
    put(&mut h, VERSION_OFFSET, &[VERSION]);
    put(&mut h, SEGMENT_OFFSET, &segment.to_le_bytes());
    let crc = crc32c::crc32c(h.get(..HEADER_CRC_OFFSET).unwrap_or_default());
    put(&mut h, HEADER_CRC_OFFSET, &crc.to_le_bytes());
    h
}

/// What a well-checksummed header from a newer writer says, so that the caller can refuse the
/// file instead of repairing it away.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Unsupported {
    pub(crate) version: u8,
    pub(crate) flags: [u8; 3],
}

/// A header that cannot be read: where (from the start of the file) and why.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum HeaderError {
    Corrupt {
        offset: u64,
        reason: CorruptionReason,
    },
    Unsupported(Unsupported),
}

/// Checks the header at the start of `bytes` (the whole file if shorter than a header).
///
/// The checksum is checked before the version, so a damaged version byte is corruption while
/// an intact header of another version is [`HeaderError::Unsupported`].
pub(crate) fn check_header(bytes: &[u8], expected_segment: u32) -> Result<(), HeaderError> {
    let corrupt = |offset: usize, reason| {
        Err(HeaderError::Corrupt {
            offset: offset as u64,
            reason,
        })
    };
    let Some(h) = bytes.get(..HEADER_LEN) else {
        return corrupt(
            bytes.len(),
            CorruptionReason::TruncatedHeader {
                len: bytes.len() as u64,
            },
        );
    };
    let magic = array::<4>(h, MAGIC_OFFSET);
    if magic != MAGIC {
        return corrupt(MAGIC_OFFSET, CorruptionReason::BadMagic { found: magic });
    }
    let stored = u32::from_le_bytes(array(h, HEADER_CRC_OFFSET));
    let computed = crc32c::crc32c(h.get(..HEADER_CRC_OFFSET).unwrap_or_default());
    if stored != computed {
        return corrupt(
            HEADER_CRC_OFFSET,
            CorruptionReason::HeaderChecksum { stored, computed },
        );
    }
    let [version] = array::<1>(h, VERSION_OFFSET);
    let flags = array::<3>(h, FLAGS_OFFSET);
    if version != VERSION || flags != [0; 3] {
        return Err(HeaderError::Unsupported(Unsupported { version, flags }));
    }
    let found = u32::from_le_bytes(array(h, SEGMENT_OFFSET));
    if found != expected_segment {
        return corrupt(SEGMENT_OFFSET, CorruptionReason::SegmentMismatch { found });
    }
    Ok(())
}

/// Appends `record` to `out` as one full fragment, or as first, middles and last when it is
/// longer than [`MAX_FRAGMENT_LEN`].
pub(crate) fn encode_record(out: &mut Vec<u8>, record: &[u8]) {
    out.reserve(encoded_len(record.len()));
    if record.len() <= MAX_FRAGMENT_LEN {
        encode_fragment(out, FragmentType::Full, record);
        return;
    }
    let n = record.len().div_ceil(MAX_FRAGMENT_LEN);
    for (i, part) in record.chunks(MAX_FRAGMENT_LEN).enumerate() {
        let kind = match i {
            0 => FragmentType::First,
            _ if i + 1 == n => FragmentType::Last,
            _ => FragmentType::Middle,
        };
        encode_fragment(out, kind, part);
    }
}

fn encode_fragment(out: &mut Vec<u8>, kind: FragmentType, payload: &[u8]) {
    debug_assert!(payload.len() <= MAX_FRAGMENT_LEN);
    let len = payload.len() as u16;
    let mut head = [0u8; FRAGMENT_HEADER_LEN];
    put(&mut head, FRAGMENT_TYPE_OFFSET, &[kind as u8]);
    put(&mut head, FRAGMENT_LEN_OFFSET, &len.to_le_bytes());
    let crc = fragment_crc(head.get(..FRAGMENT_CRC_OFFSET).unwrap_or_default(), payload);
    put(&mut head, FRAGMENT_CRC_OFFSET, &crc.to_le_bytes());
    out.extend_from_slice(&head);
    out.extend_from_slice(payload);
}

/// CRC32C over the type and length bytes, then the payload. Covering the type matters: a flip
/// from `full` to `first` would otherwise pass the check and glue two records together.
fn fragment_crc(type_and_len: &[u8], payload: &[u8]) -> u32 {
    crc32c::crc32c_append(crc32c::crc32c(type_and_len), payload)
}

/// One checked fragment at the start of a byte window.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Parsed {
    /// A fragment whose checksum holds; its payload is the `len` bytes after the header.
    Fragment { kind: FragmentType, len: usize },
    /// The window ends before the fragment does: `needed` bytes (header included) would hold it.
    Incomplete { needed: usize },
    /// The fragment is corrupt; `offset` is relative to the window's start.
    Corrupt {
        offset: usize,
        reason: CorruptionReason,
    },
}

/// Reads the fragment at the start of `window`. Never allocates: the length field is a `u16`,
/// so `needed` is at most [`FRAGMENT_HEADER_LEN`] + [`MAX_FRAGMENT_LEN`].
pub(crate) fn parse_fragment(window: &[u8]) -> Parsed {
    let Some(head) = window.get(..FRAGMENT_HEADER_LEN) else {
        // The type byte alone can already tell garbage from a torn header.
        if let Some(&t) = window.first()
            && FragmentType::from_byte(t).is_none()
        {
            return Parsed::Corrupt {
                offset: FRAGMENT_TYPE_OFFSET,
                reason: CorruptionReason::BadFragmentType { found: t },
            };
        }
        return Parsed::Incomplete {
            needed: FRAGMENT_HEADER_LEN,
        };
    };
    let [t] = array::<1>(head, FRAGMENT_TYPE_OFFSET);
    let Some(kind) = FragmentType::from_byte(t) else {
        return Parsed::Corrupt {
            offset: FRAGMENT_TYPE_OFFSET,
            reason: CorruptionReason::BadFragmentType { found: t },
        };
    };
    let len = usize::from(u16::from_le_bytes(array(head, FRAGMENT_LEN_OFFSET)));
    let Some(payload) = window.get(FRAGMENT_HEADER_LEN..FRAGMENT_HEADER_LEN + len) else {
        return Parsed::Incomplete {
            needed: FRAGMENT_HEADER_LEN + len,
        };
    };
    let stored = u32::from_le_bytes(array(head, FRAGMENT_CRC_OFFSET));
    let computed = fragment_crc(head.get(..FRAGMENT_CRC_OFFSET).unwrap_or_default(), payload);
    if stored != computed {
        return Parsed::Corrupt {
            offset: FRAGMENT_CRC_OFFSET,
            reason: CorruptionReason::FragmentChecksum { stored, computed },
        };
    }
    Parsed::Fragment { kind, len }
}

/// `N` bytes of `b` from `offset`, zeros where `b` is shorter (callers pass windows they have
/// already checked to be long enough).
fn array<const N: usize>(b: &[u8], offset: usize) -> [u8; N] {
    let mut out = [0u8; N];
    if let Some(src) = b.get(offset..offset + N) {
        out.copy_from_slice(src);
    }
    out
}

/// Copies `src` into `dst` at `offset`; callers write constant fields into fixed-size arrays.
fn put(dst: &mut [u8], offset: usize, src: &[u8]) {
    if let Some(d) = dst.get_mut(offset..offset + src.len()) {
        d.copy_from_slice(src);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_record_len_fills_an_empty_segment_exactly() {
        for size in (MIN_SEGMENT_SIZE..200_000).step_by(997).chain([
            MIN_SEGMENT_SIZE,
            (HEADER_LEN + FRAGMENT_HEADER_LEN + MAX_FRAGMENT_LEN) as u64,
            (HEADER_LEN + FRAGMENT_HEADER_LEN + MAX_FRAGMENT_LEN + 7) as u64,
            (HEADER_LEN + FRAGMENT_HEADER_LEN + MAX_FRAGMENT_LEN + 8) as u64,
            DEFAULT_SEGMENT_SIZE,
            MAX_SEGMENT_SIZE,
        ]) {
            let room = size as usize - HEADER_LEN;
            let max = max_record_len(size);
            assert!(encoded_len(max) <= room, "size {size}");
            assert!(encoded_len(max + 1) > room, "size {size}");
        }
    }

    #[test]
    fn fragments_round_trip() {
        for len in [
            0,
            1,
            MAX_FRAGMENT_LEN,
            MAX_FRAGMENT_LEN + 1,
            3 * MAX_FRAGMENT_LEN + 5,
        ] {
            let record: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let mut out = Vec::new();
            encode_record(&mut out, &record);
            assert_eq!(out.len(), encoded_len(len));
            let mut at = 0;
            let mut back = Vec::new();
            while at < out.len() {
                let Parsed::Fragment { len, .. } = parse_fragment(&out[at..]) else {
                    panic!("bad fragment at {at}");
                };
                back.extend_from_slice(&out[at + FRAGMENT_HEADER_LEN..][..len]);
                at += FRAGMENT_HEADER_LEN + len;
            }
            assert_eq!(back, record);
        }
    }
}
