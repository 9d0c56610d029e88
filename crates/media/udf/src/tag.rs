//! Descriptor tags (ECMA-167 3/7.2) and checked little-endian field reads.
//! Every descriptor starts with a 16-byte tag whose checksum and CRC are
//! verified before any other field is trusted.

use exhibit_media_core::MediaError;

/// Anchor Volume Descriptor Pointer.
pub const AVDP: u16 = 2;
/// Volume Descriptor Pointer.
pub const VDP: u16 = 3;
/// Partition Descriptor.
pub const PD: u16 = 5;
/// Logical Volume Descriptor.
pub const LVD: u16 = 6;
/// Terminating Descriptor.
pub const TD: u16 = 8;
/// File Set Descriptor.
pub const FSD: u16 = 256;
/// File Identifier Descriptor.
pub const FID: u16 = 257;
/// Allocation Extent Descriptor.
pub const AED: u16 = 258;
/// Indirect Entry.
pub const IE: u16 = 259;
/// File Entry.
pub const FE: u16 = 261;
/// Extended File Entry.
pub const EFE: u16 = 266;

/// A parsed, verified tag.
#[derive(Debug, Clone, Copy)]
pub struct Tag {
    /// Tag identifier.
    pub id: u16,
    /// Tag location: the logical sector or block the descriptor claims to be at.
    pub location: u32,
}

/// A little-endian `u16` at `off`, or a Corrupt error naming `what` and `at`.
pub fn u16_at(buf: &[u8], off: usize, what: &str, at: u64) -> Result<u16, MediaError> {
    field::<2>(buf, off, what, at).map(u16::from_le_bytes)
}

/// A little-endian `u32` at `off`.
pub fn u32_at(buf: &[u8], off: usize, what: &str, at: u64) -> Result<u32, MediaError> {
    field::<4>(buf, off, what, at).map(u32::from_le_bytes)
}

/// A little-endian `u64` at `off`.
pub fn u64_at(buf: &[u8], off: usize, what: &str, at: u64) -> Result<u64, MediaError> {
    field::<8>(buf, off, what, at).map(u64::from_le_bytes)
}

/// A byte at `off`.
pub fn u8_at(buf: &[u8], off: usize, what: &str, at: u64) -> Result<u8, MediaError> {
    field::<1>(buf, off, what, at).map(|b| b[0])
}

/// `len` bytes at `off`.
pub fn bytes_at<'a>(buf: &'a [u8], off: usize, len: usize, what: &str, at: u64) -> Result<&'a [u8], MediaError> {
    off.checked_add(len)
        .and_then(|end| buf.get(off..end))
        .ok_or_else(|| MediaError::corrupt(format!("{what} at byte {at}: field at {off}+{len} is past its end")))
}

fn field<const N: usize>(buf: &[u8], off: usize, what: &str, at: u64) -> Result<[u8; N], MediaError> {
    let slice = bytes_at(buf, off, N, what, at)?;
    let mut out = [0u8; N];
    out.copy_from_slice(slice);
    Ok(out)
}

/// CRC-16/CCITT (polynomial 0x1021, initial 0) as ECMA-167 1/7.2.6 defines.
pub fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &byte in data {
        crc ^= u16::from(byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 { (crc << 1) ^ 0x1021 } else { crc << 1 };
        }
    }
    crc
}

/// Parses and verifies the tag at the start of `buf` (read from byte `at`):
/// checksum, and the CRC over the `crc_length` bytes that follow the tag.
pub fn parse(buf: &[u8], what: &str, at: u64) -> Result<Tag, MediaError> {
    let head = bytes_at(buf, 0, 16, what, at)?;
    let sum = head.iter().enumerate().filter(|(i, _)| *i != 4).fold(0u8, |acc, (_, b)| acc.wrapping_add(*b));
    if sum != head[4] {
        return Err(MediaError::corrupt(format!(
            "{what} at byte {at}: tag checksum {:#04x} does not match the computed {sum:#04x}",
            head[4]
        )));
    }
    let id = u16_at(head, 0, what, at)?;
    let crc = u16_at(head, 8, what, at)?;
    let crc_len = usize::from(u16_at(head, 10, what, at)?);
    let location = u32_at(head, 12, what, at)?;
    let body = buf.get(16..16 + crc_len).ok_or_else(|| {
        MediaError::corrupt(format!("{what} at byte {at}: tag CRC length {crc_len} runs past the descriptor"))
    })?;
    let computed = crc16(body);
    if computed != crc {
        return Err(MediaError::corrupt(format!(
            "{what} at byte {at}: descriptor CRC {crc:#06x} does not match the computed {computed:#06x}"
        )));
    }
    Ok(Tag { id, location })
}

/// Parses the tag and requires identifier `want`.
pub fn expect(buf: &[u8], want: u16, what: &str, at: u64) -> Result<Tag, MediaError> {
    let tag = parse(buf, what, at)?;
    if tag.id != want {
        return Err(MediaError::corrupt(format!(
            "{what} at byte {at}: tag identifier {} where {want} was expected",
            tag.id
        )));
    }
    Ok(tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_the_ecma_example() {
        // ECMA-167 1/7.2.6: the CRC of bytes 0x70 0x6A 0x77 is 0x3299.
        assert_eq!(crc16(&[0x70, 0x6a, 0x77]), 0x3299);
    }

    #[test]
    fn short_buffers_are_corrupt_not_panics() {
        assert!(parse(&[0u8; 3], "test", 0).is_err());
        assert!(u64_at(&[0u8; 7], 0, "test", 0).is_err());
    }
}
