//! Structured attribute values: $STANDARD_INFORMATION, $FILE_NAME and
//! $ATTRIBUTE_LIST entries.

use crate::bytes::{field, le16, le32, le64, utf16_units};

/// File-name namespaces.
pub(crate) const NS_DOS: u8 = 2;

/// The four NTFS times, in on-disk order.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Times {
    pub created: u64,
    pub modified: u64,
    pub changed: u64,
    pub accessed: u64,
}

impl Times {
    fn parse(buf: &[u8], off: usize) -> Option<Self> {
        Some(Self {
            created: le64(buf, off)?,
            modified: le64(buf, off + 8)?,
            changed: le64(buf, off + 16)?,
            accessed: le64(buf, off + 24)?,
        })
    }
}

/// $STANDARD_INFORMATION.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StdInfo {
    pub times: Times,
    pub file_attributes: u32,
}

/// Parses $STANDARD_INFORMATION (at least 48 bytes).
pub(crate) fn std_info(v: &[u8]) -> Option<StdInfo> {
    Some(StdInfo { times: Times::parse(v, 0)?, file_attributes: le32(v, 32)? })
}

/// $FILE_NAME.
#[derive(Debug, Clone)]
pub(crate) struct FileName {
    pub parent: u64,
    pub times: Times,
    pub namespace: u8,
    pub name: Vec<u16>,
}

/// Parses $FILE_NAME (66 bytes plus the name).
pub(crate) fn file_name(v: &[u8]) -> Option<FileName> {
    let parent_ref = le64(v, 0)?;
    let len = usize::from(*v.get(64)?) * 2;
    Some(FileName {
        parent: parent_ref & 0xFFFF_FFFF_FFFF,
        times: Times::parse(v, 8)?,
        namespace: *v.get(65)?,
        name: utf16_units(field(v, 66, len)?),
    })
}

/// One $ATTRIBUTE_LIST entry: which record holds an attribute.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ListEntry {
    pub record: u64,
}

/// Parses $ATTRIBUTE_LIST entries; stops at the first malformed one.
pub(crate) fn attribute_list(v: &[u8]) -> Vec<ListEntry> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    while let Some(len) = le16(v, pos + 4) {
        let len = usize::from(len);
        let Some(reference) = le64(v, pos + 16) else { break };
        if len < 26 {
            break;
        }
        out.push(ListEntry { record: reference & 0xFFFF_FFFF_FFFF });
        pos += len;
    }
    out
}

/// DOS/Windows file attribute bits and the names they are listed under.
pub(crate) const FILE_ATTRIBUTE_NAMES: [(u32, &str); 14] = [
    (0x0001, "readonly"),
    (0x0002, "hidden"),
    (0x0004, "system"),
    (0x0010, "directory"),
    (0x0020, "archive"),
    (0x0040, "device"),
    (0x0100, "temporary"),
    (0x0200, "sparse"),
    (0x0400, "reparse_point"),
    (0x0800, "compressed"),
    (0x1000, "offline"),
    (0x2000, "not_content_indexed"),
    (0x4000, "encrypted"),
    (0x10000000, "index_view"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_values_are_rejected() {
        assert!(std_info(&[0; 34]).is_none());
        let mut fname = vec![0u8; 66];
        fname[64] = 3;
        assert!(file_name(&fname).is_none());
        assert!(attribute_list(&[0xFF; 10]).is_empty());
        assert!(
            attribute_list(&[0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0]).is_empty()
        );
    }
}
