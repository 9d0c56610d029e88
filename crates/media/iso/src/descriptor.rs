//! The volume descriptor set (ECMA-119 8): the primary descriptor and a
//! Joliet supplementary descriptor, each giving a root directory.

use exhibit_media_core::{MediaError, ReadAt, read_exact_at};

use crate::record::{DirRecord, le_u16, ucs2_be};

/// Bytes per descriptor and per logical sector.
pub(crate) const SECTOR: u64 = 2048;
/// Byte offset of the first descriptor (sector 16).
pub(crate) const FIRST_DESCRIPTOR: u64 = 16 * SECTOR;
/// Descriptors read before giving up on a terminator.
const MAX_DESCRIPTORS: u64 = 64;
/// Standard identifier of every descriptor.
const STANDARD_ID: &[u8] = b"CD001";
/// Joliet escape sequences (UCS-2 levels 1, 2, 3).
const JOLIET_ESCAPES: [&[u8]; 3] = [b"%/@", b"%/C", b"%/E"];

/// A directory extent: first logical block and length in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DirExtent {
    /// First logical block.
    pub lba: u32,
    /// Length in bytes.
    pub len: u32,
}

/// One directory tree described by a volume descriptor.
#[derive(Debug, Clone)]
pub(crate) struct Tree {
    /// Volume identifier, trailing padding removed.
    pub label: Option<String>,
    /// Logical block size in bytes.
    pub block_size: u64,
    /// The root directory.
    pub root: DirExtent,
    /// Bytes the descriptor says the volume spans (volume space size).
    pub declared: u64,
}

/// The trees this volume offers.
#[derive(Debug, Clone)]
pub(crate) struct Descriptors {
    /// From the primary volume descriptor.
    pub primary: Tree,
    /// From a Joliet supplementary descriptor, when there is one.
    pub joliet: Option<Tree>,
}

/// Whether the first descriptor carries the ISO 9660 signature.
pub(crate) fn has_signature(volume: &dyn ReadAt) -> bool {
    let mut head = [0u8; 7];
    read_exact_at(volume, FIRST_DESCRIPTOR, &mut head).is_ok() && head.get(1..6) == Some(STANDARD_ID) && head[6] == 1
}

/// Reads descriptors from sector 16 until the terminator.
pub(crate) fn read_descriptors(volume: &dyn ReadAt) -> Result<Descriptors, MediaError> {
    if !has_signature(volume) {
        return Err(MediaError::not_recognised(format!(
            "no ISO 9660 volume descriptor (CD001) at byte {FIRST_DESCRIPTOR}"
        )));
    }
    let (mut primary, mut joliet) = (None, None);
    let mut buf = vec![0u8; SECTOR as usize];
    for index in 0..MAX_DESCRIPTORS {
        let offset = FIRST_DESCRIPTOR + index * SECTOR;
        if read_exact_at(volume, offset, &mut buf).is_err() || buf.get(1..6) != Some(STANDARD_ID) {
            break;
        }
        match buf[0] {
            1 if primary.is_none() => primary = Some(parse_tree(&buf, offset, false)?),
            2 if joliet.is_none() && is_joliet(&buf) => joliet = parse_tree(&buf, offset, true).ok(),
            255 => break,
            _ => {}
        }
    }
    let primary = primary.ok_or_else(|| {
        MediaError::corrupt(format!("no primary volume descriptor in the set starting at byte {FIRST_DESCRIPTOR}"))
    })?;
    Ok(Descriptors { primary, joliet })
}

fn is_joliet(desc: &[u8]) -> bool {
    let escapes = desc.get(88..120).unwrap_or_default();
    JOLIET_ESCAPES.iter().any(|e| escapes.windows(3).any(|w| w == *e))
}

fn parse_tree(desc: &[u8], offset: u64, joliet: bool) -> Result<Tree, MediaError> {
    let what = if joliet { "Joliet supplementary" } else { "primary" };
    let block_size = le_u16(desc, 128).map(u64::from).unwrap_or(0);
    if !matches!(block_size, 512 | 1024 | 2048) {
        return Err(MediaError::unsupported(format!(
            "{what} volume descriptor at byte {offset}: logical block size {block_size} (512, 1024 or 2048 handled)"
        )));
    }
    let root = desc.get(156..190).and_then(DirRecord::parse).ok_or_else(|| {
        MediaError::corrupt(format!("{what} volume descriptor at byte {offset}: root directory record is malformed"))
    })?;
    let raw_label = desc.get(40..72).unwrap_or_default();
    let label = if joliet { ucs2_be(raw_label).0 } else { String::from_utf8_lossy(raw_label).into_owned() };
    let label = label.trim_end_matches([' ', '\0']).to_owned();
    Ok(Tree {
        label: (!label.is_empty()).then_some(label),
        block_size,
        root: DirExtent { lba: root.lba, len: root.data_len },
        declared: desc.get(80..84).map_or(0, |b| u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))) * block_size,
    })
}
