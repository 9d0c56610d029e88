//! MFT file records: update-sequence fixups, the header and the attribute
//! headers, each bounds-checked against the record (hand-written: see lib docs).

use exhibit_media_core::MediaError;

use crate::bytes::{field, le16, le32, le64, utf16_units};

/// Attribute type codes used here.
pub(crate) mod ty {
    pub const STANDARD_INFORMATION: u32 = 0x10;
    pub const ATTRIBUTE_LIST: u32 = 0x20;
    pub const FILE_NAME: u32 = 0x30;
    pub const VOLUME_NAME: u32 = 0x60;
    pub const DATA: u32 = 0x80;
    pub const INDEX_ROOT: u32 = 0x90;
    pub const INDEX_ALLOCATION: u32 = 0xA0;
    pub const BITMAP: u32 = 0xB0;
    pub const REPARSE_POINT: u32 = 0xC0;
    pub const END: u32 = 0xFFFF_FFFF;
}

/// Attribute flags.
pub(crate) const ATTR_COMPRESSED: u16 = 0x0001;
/// Attribute flags.
pub(crate) const ATTR_ENCRYPTED: u16 = 0x4000;

/// Record header flags.
const FLAG_IN_USE: u16 = 0x0001;
const FLAG_DIRECTORY: u16 = 0x0002;

/// The stride of update-sequence fixups, fixed by the format.
const FIXUP_STRIDE: usize = 512;

/// A non-resident attribute's header fields and raw mapping pairs.
#[derive(Debug, Clone)]
pub(crate) struct NonResident {
    pub lowest_vcn: u64,
    pub data_size: u64,
    pub initialized_size: u64,
    /// Compression unit as a power of two of clusters (0: not compressed).
    pub compression_unit: u8,
    pub mapping_pairs: Vec<u8>,
    /// Byte offset of the mapping pairs on the volume, for messages.
    pub pairs_at: u64,
}

/// Where an attribute's value is.
#[derive(Debug, Clone)]
pub(crate) enum Body {
    Resident(Vec<u8>),
    NonResident(NonResident),
}

/// One attribute of a record.
#[derive(Debug, Clone)]
pub(crate) struct Attr {
    pub ty: u32,
    pub name: Vec<u16>,
    pub flags: u16,
    pub body: Body,
}

/// A parsed file record.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    pub number: u64,
    pub sequence: u16,
    pub flags: u16,
    pub base_record: u64,
    pub attrs: Vec<Attr>,
}

impl Record {
    /// Whether the in-use flag is set.
    pub fn in_use(&self) -> bool {
        self.flags & FLAG_IN_USE != 0
    }

    /// Whether the directory flag is set.
    pub fn is_directory(&self) -> bool {
        self.flags & FLAG_DIRECTORY != 0
    }

    /// Attributes of one type.
    pub fn of_type(&self, ty: u32) -> impl Iterator<Item = &Attr> {
        self.attrs.iter().filter(move |a| a.ty == ty)
    }

    /// The first resident attribute of a type and name.
    pub fn resident(&self, ty: u32, name: &[u16]) -> Option<&[u8]> {
        self.of_type(ty).find(|a| a.name == name).and_then(|a| match &a.body {
            Body::Resident(v) => Some(v.as_slice()),
            Body::NonResident(_) => None,
        })
    }
}

/// Whether `buf` starts with a file record signature.
pub(crate) fn has_signature(buf: &[u8]) -> bool {
    buf.get(..4) == Some(b"FILE")
}

/// Applies the update-sequence fixups of a `FILE` or `INDX` record in place.
pub(crate) fn fixup(buf: &mut [u8], at: u64, what: &str) -> Result<(), MediaError> {
    let bad = |why: &str| MediaError::corrupt(format!("{what} at byte {at}: update sequence {why}"));
    let usa_off = usize::from(le16(buf, 4).ok_or_else(|| bad("header is cut short"))?);
    let count = usize::from(le16(buf, 6).ok_or_else(|| bad("header is cut short"))?);
    let sectors = count.checked_sub(1).ok_or_else(|| bad("count is 0"))?;
    if sectors * FIXUP_STRIDE > buf.len() {
        return Err(bad("covers more sectors than the record holds"));
    }
    let usn: [u8; 2] = field(buf, usa_off, 2).and_then(|b| b.try_into().ok()).ok_or_else(|| bad("is out of bounds"))?;
    for i in 0..sectors {
        let fix_at = usa_off + 2 + 2 * i;
        let fix: [u8; 2] =
            field(buf, fix_at, 2).and_then(|b| b.try_into().ok()).ok_or_else(|| bad("is out of bounds"))?;
        let end = (i + 1) * FIXUP_STRIDE;
        let tail = buf.get_mut(end - 2..end).ok_or_else(|| bad("is out of bounds"))?;
        if tail != usn {
            return Err(bad(&format!("mismatch in sector {i} (torn write or damage)")));
        }
        tail.copy_from_slice(&fix);
    }
    Ok(())
}

/// Parses a fixed-up file record held in `buf`, read from volume byte `at`.
pub(crate) fn parse(buf: &[u8], number: u64, at: u64) -> Result<Record, MediaError> {
    let corrupt = |why: String| MediaError::corrupt(format!("MFT record {number} at byte {at}: {why}"));
    if !has_signature(buf) {
        return Err(corrupt("no FILE signature".into()));
    }
    let header = |off| le16(buf, off).ok_or_else(|| corrupt("header is cut short".into()));
    let sequence = header(16)?;
    let first = usize::from(header(20)?);
    let flags = header(22)?;
    let used = le32(buf, 24).and_then(|u| usize::try_from(u).ok()).unwrap_or(0).min(buf.len());
    let base_record = le64(buf, 32).unwrap_or(0) & 0xFFFF_FFFF_FFFF;
    let mut attrs = Vec::new();
    let mut pos = first;
    while pos < used {
        let Some(ty) = le32(buf, pos) else { break };
        if ty == ty::END {
            break;
        }
        let attr = parse_attr(buf, pos, used, at).map_err(corrupt)?;
        pos += attr.1;
        attrs.push(attr.0);
    }
    Ok(Record { number, sequence, flags, base_record, attrs })
}

/// One attribute at `pos`; returns it and its length (at least 16, so the
/// caller always advances).
fn parse_attr(buf: &[u8], pos: usize, used: usize, at: u64) -> Result<(Attr, usize), String> {
    let here = |why: &str| format!("attribute at record offset {pos}: {why}");
    let ty = le32(buf, pos).ok_or_else(|| here("cut short"))?;
    let len = le32(buf, pos + 4).and_then(|l| usize::try_from(l).ok()).ok_or_else(|| here("cut short"))?;
    let non_resident = *buf.get(pos + 8).ok_or_else(|| here("cut short"))? != 0;
    let min = if non_resident { 64 } else { 24 };
    if len < min || pos.checked_add(len).is_none_or(|end| end > used) {
        return Err(here(&format!("length {len} is outside [{min}, {}]", used - pos)));
    }
    let attr = buf.get(pos..pos + len).ok_or_else(|| here("cut short"))?;
    let name_len = usize::from(attr.get(9).copied().unwrap_or(0)) * 2;
    let name_off = usize::from(le16(attr, 10).unwrap_or(0));
    let name = if name_len == 0 {
        Vec::new()
    } else {
        utf16_units(field(attr, name_off, name_len).ok_or_else(|| here("name lies outside the attribute"))?)
    };
    let flags = le16(attr, 12).unwrap_or(0);
    let body = if non_resident {
        let pairs_off = usize::from(le16(attr, 32).unwrap_or(0));
        let pairs =
            attr.get(pairs_off..).filter(|_| pairs_off >= 64).ok_or_else(|| here("mapping pairs offset is invalid"))?;
        Body::NonResident(NonResident {
            lowest_vcn: le64(attr, 16).unwrap_or(0),
            data_size: le64(attr, 48).unwrap_or(0),
            initialized_size: le64(attr, 56).unwrap_or(0),
            compression_unit: u8::try_from(le16(attr, 34).unwrap_or(0)).unwrap_or(u8::MAX),
            mapping_pairs: pairs.to_vec(),
            pairs_at: at + (pos + pairs_off) as u64,
        })
    } else {
        let value_len = le32(attr, 16).and_then(|l| usize::try_from(l).ok()).unwrap_or(usize::MAX);
        let value_off = usize::from(le16(attr, 20).unwrap_or(0));
        let value =
            field(attr, value_off, value_len).ok_or_else(|| here("resident value lies outside the attribute"))?;
        Body::Resident(value.to_vec())
    };
    Ok((Attr { ty, name, flags, body }, len))
}
