//! Reading numbers out of a TIFF (or an Exif block, which is one) in the
//! byte order its header names, without trusting any offset: every read
//! past the end is `None`. Shared by the photo check and the page size.

/// A TIFF's bytes and its byte order.
pub(crate) struct TiffBytes<'a> {
    bytes: &'a [u8],
    little_endian: bool,
}

impl<'a> TiffBytes<'a> {
    /// The bytes, if they start with a TIFF header (`II*\0` or `MM\0*`).
    pub(crate) fn new(bytes: &'a [u8]) -> Option<Self> {
        let little_endian = match bytes.get(..4)? {
            b"II*\0" => true,
            b"MM\0*" => false,
            _ => return None,
        };
        Some(Self { bytes, little_endian })
    }

    /// The 16-bit number at `offset`.
    pub(crate) fn u16_at(&self, offset: usize) -> Option<u16> {
        let b: [u8; 2] = self.bytes.get(offset..offset.checked_add(2)?)?.try_into().ok()?;
        Some(if self.little_endian { u16::from_le_bytes(b) } else { u16::from_be_bytes(b) })
    }

    /// The 32-bit number at `offset`.
    pub(crate) fn u32_at(&self, offset: usize) -> Option<u32> {
        let b: [u8; 4] = self.bytes.get(offset..offset.checked_add(4)?)?.try_into().ok()?;
        Some(if self.little_endian { u32::from_le_bytes(b) } else { u32::from_be_bytes(b) })
    }
}

#[cfg(test)]
mod tests {
    use super::TiffBytes;

    #[test]
    fn both_byte_orders_and_no_read_past_the_end() {
        let le = TiffBytes::new(b"II*\0\x08\0\0\0").unwrap();
        assert_eq!((le.u16_at(0), le.u32_at(4)), (Some(0x4949), Some(8)));
        let be = TiffBytes::new(b"MM\0*\0\0\0\x08").unwrap();
        assert_eq!(be.u32_at(4), Some(8));
        assert_eq!((be.u32_at(5), be.u16_at(usize::MAX)), (None, None));
        assert!(TiffBytes::new(b"GIF8").is_none());
    }
}
