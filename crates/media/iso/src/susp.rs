//! System Use Sharing Protocol (IEEE P1281) areas and the Rock Ridge
//! (RRIP, IEEE P1282) entries this reader uses: NM, PX, PN, SL, TF, CL, PL,
//! RE, following CE continuation areas within bounds.

use exhibit_media_core::{Limits, MediaError, ReadAt, read_exact_at};
use time::OffsetDateTime;

use crate::record::{le_u32, long_time, short_time};

/// Continuation areas followed per record before giving up.
const MAX_CONTINUATIONS: usize = 16;
/// Largest continuation area accepted.
const MAX_CONTINUATION_LEN: u32 = 64 * 1024;
/// TF flag bits in order, with the names their timestamps are recorded under.
const TF_FIELDS: [(u8, &str); 7] = [
    (0x01, "rockridge.TF.create"),
    (0x02, "rockridge.TF.modify"),
    (0x04, "rockridge.TF.access"),
    (0x08, "rockridge.TF.attributes"),
    (0x10, "rockridge.TF.backup"),
    (0x20, "rockridge.TF.expiration"),
    (0x40, "rockridge.TF.effective"),
];

/// POSIX attributes from a PX entry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Posix {
    /// `st_mode`.
    pub mode: u32,
    /// `st_nlink`.
    pub links: u32,
    /// `st_uid`.
    pub uid: u32,
    /// `st_gid`.
    pub gid: u32,
}

/// What the Rock Ridge entries of one record say.
#[derive(Debug, Clone, Default)]
pub(crate) struct RockRidge {
    /// Alternate name (NM), continuation parts joined.
    pub name: Option<Vec<u8>>,
    name_complete: bool,
    /// PX.
    pub posix: Option<Posix>,
    /// PN device number: (high, low).
    pub device: Option<(u32, u32)>,
    /// SL target, components joined with `/`.
    pub symlink: Option<Vec<u8>>,
    component_continues: bool,
    /// TF timestamps, by recorded name.
    pub times: Vec<(&'static str, OffsetDateTime)>,
    /// CL: the relocated directory's block.
    pub child_link: Option<u32>,
    /// RE: this record is a relocated directory, shown at its CL instead.
    pub relocated: bool,
    /// Set by the walk: marked RE, but no CL led to it.
    pub unreached_relocation: bool,
    /// ZF: the file's data is zisofs-compressed.
    pub zisofs: Option<ZfRecord>,
}

/// Where SUSP areas are read from.
pub(crate) struct Susp<'a> {
    /// The medium.
    pub volume: &'a dyn ReadAt,
    /// Logical block size.
    pub block_size: u64,
    /// Bytes to skip at the start of each system use area (SP `LEN_SKP`).
    pub skip: usize,
}

/// The SP entry's skip length, if `system_use` starts with one.
pub(crate) fn sp_skip(system_use: &[u8]) -> Option<usize> {
    match system_use.get(..7)? {
        [b'S', b'P', 7, _, 0xBE, 0xEF, skip] => Some(usize::from(*skip)),
        _ => None,
    }
}

impl Susp<'_> {
    /// Parses a record's system use area and its continuations.
    pub(crate) fn parse(&self, system_use: &[u8], limits: &Limits) -> Result<RockRidge, MediaError> {
        let mut rr = RockRidge::default();
        let mut area = system_use.get(self.skip..).unwrap_or_default().to_vec();
        for _ in 0..=MAX_CONTINUATIONS {
            match walk_area(&area, &mut rr) {
                Some((block, offset, len)) => area = self.continuation(block, offset, len, limits)?,
                None => return Ok(rr),
            }
        }
        Err(MediaError::corrupt(format!("SUSP: more than {MAX_CONTINUATIONS} CE continuation areas for one record")))
    }

    fn continuation(&self, block: u32, offset: u32, len: u32, limits: &Limits) -> Result<Vec<u8>, MediaError> {
        let at = u64::from(block).checked_mul(self.block_size).and_then(|b| b.checked_add(u64::from(offset)));
        let at = at.filter(|a| a.saturating_add(u64::from(len)) <= self.volume.size()).ok_or_else(|| {
            MediaError::corrupt(format!(
                "SUSP CE entry: continuation at block {block} + {offset} lies outside the medium"
            ))
        })?;
        if len > MAX_CONTINUATION_LEN {
            return Err(MediaError::corrupt(format!("SUSP CE entry: continuation at byte {at} claims {len} bytes")));
        }
        let mut buf = vec![0u8; limits.check_alloc(u64::from(len), "SUSP continuation area")?];
        read_exact_at(self.volume, at, &mut buf)
            .map_err(|e| MediaError::io(format!("SUSP continuation at byte {at}"), e))?;
        Ok(buf)
    }
}

/// Applies every entry in one area; returns the CE target, if any.
fn walk_area(area: &[u8], rr: &mut RockRidge) -> Option<(u32, u32, u32)> {
    let mut next = None;
    let mut pos = 0usize;
    while let Some(head) = area.get(pos..pos + 4) {
        let len = usize::from(head[2]);
        let Some(data) = area.get(pos + 4..pos + len.max(4)).filter(|_| len >= 4) else { break };
        match &head[..2] {
            b"CE" => next = Some((le_u32(data, 0)?, le_u32(data, 8)?, le_u32(data, 16)?)),
            b"ST" => break,
            sig => apply(sig, data, rr),
        }
        pos += len;
    }
    next
}

fn apply(sig: &[u8], data: &[u8], rr: &mut RockRidge) {
    match sig {
        b"NM" => name(data, rr),
        b"PX" => {
            let field = |i: usize| le_u32(data, i * 8);
            if let (Some(mode), Some(links), Some(uid), Some(gid)) = (field(0), field(1), field(2), field(3)) {
                rr.posix = Some(Posix { mode, links, uid, gid });
            }
        }
        b"PN" => rr.device = le_u32(data, 0).zip(le_u32(data, 8)),
        b"SL" => symlink(data, rr),
        b"TF" => times(data, rr),
        b"CL" => rr.child_link = le_u32(data, 0),
        b"RE" => rr.relocated = true,
        // ZF: algorithm `pz`, header size, log2 block size, then the
        // decoded size in both byte orders.
        b"ZF" if data.get(..2) == Some(b"pz") => rr.zisofs = zf(data),
        _ => {}
    }
}

/// A `ZF` entry: how a zisofs file is encoded, as its record says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZfRecord {
    /// Decoded size in bytes.
    pub size: u64,
    /// Bytes of the zisofs file header.
    pub header_size: u64,
    /// log2 of the decoded block size.
    pub block_log2: u8,
}

fn zf(data: &[u8]) -> Option<ZfRecord> {
    let (header, log2) = (*data.get(2)?, *data.get(3)?);
    let size = u64::from(le_u32(data, 4)?);
    Some(ZfRecord { size, header_size: u64::from(header) * 4, block_log2: log2 })
}

fn name(data: &[u8], rr: &mut RockRidge) {
    let Some((&flags, part)) = data.split_first() else { return };
    if rr.name_complete || flags & 0x06 != 0 {
        return;
    }
    rr.name.get_or_insert_with(Vec::new).extend_from_slice(part);
    rr.name_complete = flags & 0x01 == 0;
}

fn symlink(data: &[u8], rr: &mut RockRidge) {
    let mut rest = data.get(1..).unwrap_or_default();
    let target = rr.symlink.get_or_insert_with(Vec::new);
    while let [flags, len, tail @ ..] = rest {
        let Some(content) = tail.get(..usize::from(*len)) else { break };
        if !rr.component_continues && !target.is_empty() && target.last() != Some(&b'/') {
            target.push(b'/');
        }
        match flags & 0x0E {
            0x02 => target.push(b'.'),
            0x04 => target.extend_from_slice(b".."),
            0x08 if target.is_empty() => target.push(b'/'),
            _ => target.extend_from_slice(content),
        }
        rr.component_continues = flags & 0x01 != 0;
        rest = tail.get(usize::from(*len)..).unwrap_or_default();
    }
}

fn times(data: &[u8], rr: &mut RockRidge) {
    let Some((&flags, mut rest)) = data.split_first() else { return };
    let width = if flags & 0x80 != 0 { 17 } else { 7 };
    for (bit, label) in TF_FIELDS {
        if flags & bit == 0 {
            continue;
        }
        let Some(field) = rest.get(..width) else { return };
        let at = if width == 17 { long_time(field) } else { short_time(field) };
        if let Some(at) = at {
            rr.times.push((label, at));
        }
        rest = rest.get(width..).unwrap_or_default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_links_and_truncated_entries() {
        let mut rr = RockRidge::default();
        let area = [
            b"NM\x07\x01\x01ab".as_slice(),
            b"NM\x06\x01\x00c",
            b"SL\x10\x01\x00\x08\x00\x00\x03usr\x01\x02ab",
            b"SL\x08\x01\x00\x00\x01c",
            b"PX\x05",
        ]
        .concat();
        assert_eq!(walk_area(&area, &mut rr), None);
        assert_eq!(rr.name.as_deref(), Some(b"abc".as_slice()));
        assert_eq!(rr.symlink.as_deref(), Some(b"/usr/abc".as_slice()));
        assert_eq!(sp_skip(b"SP\x07\x01\xbe\xef\x00"), Some(0));
    }
}
