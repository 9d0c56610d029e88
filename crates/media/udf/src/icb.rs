//! File Entries and Extended File Entries (ECMA-167 4/14.9, 4/14.17): the
//! inode of UDF. Allocation descriptors (short, long, extended, with
//! Allocation Extent Descriptor continuations) become volume extents;
//! embedded data becomes inline bytes.

use exhibit_core::manifest::Timestamps;
use exhibit_media_core::{DataLayout, Extent, Limits, MediaError, ReadAt, read_exact_at};

use crate::partition::Partitions;
use crate::tag::{self, bytes_at, u8_at, u16_at, u32_at, u64_at};
use crate::time::decode;

/// Indirect entries followed at most (ICB strategy 4096 chains).
const MAX_INDIRECT: usize = 8;
/// Allocation Extent Descriptors followed at most per file.
const MAX_AED: usize = 4096;

/// A logical block address: block number within a partition reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LbAddr {
    /// Logical block number.
    pub lbn: u32,
    /// Partition reference number.
    pub part: u16,
}

/// A long_ad (ECMA-167 4/14.14.2): raw length word and address.
pub fn long_ad(buf: &[u8], off: usize, at: u64) -> Result<(u32, LbAddr), MediaError> {
    let len = u32_at(buf, off, "long_ad", at)?;
    Ok((len, LbAddr { lbn: u32_at(buf, off + 4, "long_ad", at)?, part: u16_at(buf, off + 8, "long_ad", at)? }))
}

/// One allocation descriptor: type (0 recorded, 1 allocated only, 2 free), bytes, where.
#[derive(Debug, Clone, Copy)]
pub struct Ad {
    /// Extent type from the top two length bits.
    pub kind: u8,
    /// Length in bytes.
    pub len: u32,
    /// First block.
    pub addr: LbAddr,
}

/// Where a file's bytes are, before mapping to the volume.
#[derive(Debug, Clone)]
pub enum IcbData {
    /// Embedded in the entry.
    Inline(Vec<u8>),
    /// Allocation descriptors, in file order.
    Ads(Vec<Ad>),
}

/// A parsed (Extended) File Entry.
#[derive(Debug, Clone)]
pub struct Icb {
    /// Its address.
    pub addr: LbAddr,
    /// Byte offset on the volume.
    pub at: u64,
    /// ICB file type (4 directory, 5 file, 12 symlink...).
    pub file_type: u8,
    /// ICB flags.
    pub flags: u16,
    /// Owner, group, UDF permission bits, link count.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// UDF permissions (ECMA-167 4/14.9.5).
    pub perms: u32,
    /// Information length.
    pub size: u64,
    /// Whether it was an Extended File Entry.
    pub extended: bool,
    /// Access, modification, attribute and (EFE) creation times.
    pub times: Timestamps,
    /// Its data.
    pub data: IcbData,
}

/// Reads the entry at `addr`, following indirect entries.
pub fn read(volume: &dyn ReadAt, parts: &Partitions, mut addr: LbAddr, limits: &Limits) -> Result<Icb, MediaError> {
    let mut buf = vec![0u8; limits.check_alloc(parts.block_size, "UDF file entry block")?];
    for _ in 0..MAX_INDIRECT {
        let (at, _) = parts.block_run(addr.part, addr.lbn)?;
        read_exact_at(volume, at, &mut buf).map_err(|e| MediaError::io(format!("file entry at byte {at}"), e))?;
        let t = tag::parse(&buf, "file entry", at)?;
        match t.id {
            tag::FE | tag::EFE => return parse(&buf, t.id == tag::EFE, addr, at, volume, parts, limits),
            tag::IE => addr = long_ad(&buf, 36, at)?.1,
            id => return Err(MediaError::corrupt(format!("file entry at byte {at}: tag identifier {id} is no (E)FE"))),
        }
    }
    Err(MediaError::corrupt(format!("file entry at block {}: indirect entries chain too deep", addr.lbn)))
}

fn parse(
    buf: &[u8],
    extended: bool,
    addr: LbAddr,
    at: u64,
    volume: &dyn ReadAt,
    parts: &Partitions,
    limits: &Limits,
) -> Result<Icb, MediaError> {
    let what = if extended { "extended file entry" } else { "file entry" };
    let (prefix, times_at, ea_len_at) = if extended { ("udf.efe", 80, 208) } else { ("udf.fe", 72, 168) };
    let flags = u16_at(buf, 34, what, at)?;
    let time =
        |i: usize, name: &str| decode(buf.get(times_at + 12 * i..).unwrap_or_default(), &format!("{prefix}.{name}"));
    let times = if extended {
        Timestamps {
            accessed: time(0, "atime"),
            modified: time(1, "mtime"),
            created: time(2, "crtime"),
            changed: time(3, "attrtime"),
        }
    } else {
        Timestamps {
            accessed: time(0, "atime"),
            modified: time(1, "mtime"),
            created: None,
            changed: time(2, "attrtime"),
        }
    };
    let ea_len = u32_at(buf, ea_len_at, what, at)? as usize;
    let ad_len = u32_at(buf, ea_len_at + 4, what, at)? as usize;
    let area = (ea_len_at + 8).checked_add(ea_len).map(|start| bytes_at(buf, start, ad_len, what, at));
    let area =
        area.ok_or_else(|| MediaError::corrupt(format!("{what} at byte {at}: extended attributes overflow")))??;
    let data = match flags & 7 {
        3 => IcbData::Inline(area.to_vec()),
        kind => IcbData::Ads(read_ads(area, kind, addr.part, at, volume, parts, limits)?),
    };
    Ok(Icb {
        addr,
        at,
        file_type: u8_at(buf, 27, what, at)?,
        flags,
        uid: u32_at(buf, 36, what, at)?,
        gid: u32_at(buf, 40, what, at)?,
        perms: u32_at(buf, 44, what, at)?,
        size: u64_at(buf, 56, what, at)?,
        extended,
        times,
        data,
    })
}

fn read_ads(
    first: &[u8],
    kind: u16,
    part: u16,
    at: u64,
    volume: &dyn ReadAt,
    parts: &Partitions,
    limits: &Limits,
) -> Result<Vec<Ad>, MediaError> {
    let step = match kind {
        0 => 8,
        1 => 16,
        2 => 20,
        _ => return Err(MediaError::corrupt(format!("file entry at byte {at}: allocation descriptor type {kind}"))),
    };
    let (mut out, mut area, mut hops) = (Vec::new(), first.to_vec(), 0);
    loop {
        let mut next = None;
        for chunk in area.chunks_exact(step) {
            let raw = u32_at(chunk, 0, "allocation descriptor", at)?;
            let (len, ad_kind) = (raw & 0x3FFF_FFFF, (raw >> 30) as u8);
            let addr = match kind {
                0 => LbAddr { lbn: u32_at(chunk, 4, "short_ad", at)?, part },
                1 => long_ad(chunk, 0, at)?.1,
                _ => LbAddr { lbn: u32_at(chunk, 12, "ext_ad", at)?, part: u16_at(chunk, 16, "ext_ad", at)? },
            };
            if len == 0 {
                return Ok(out);
            }
            if ad_kind == 3 {
                next = Some(addr);
                break;
            }
            limits.check_alloc((out.len() as u64 + 1) * 16, "UDF allocation descriptors")?;
            out.push(Ad { kind: ad_kind, len, addr });
        }
        let Some(addr) = next else { break };
        hops += 1;
        if hops > MAX_AED {
            return Err(MediaError::corrupt(format!("file entry at byte {at}: too many allocation extents")));
        }
        area = read_aed(volume, parts, addr)?;
    }
    Ok(out)
}

fn read_aed(volume: &dyn ReadAt, parts: &Partitions, addr: LbAddr) -> Result<Vec<u8>, MediaError> {
    let (at, _) = parts.block_run(addr.part, addr.lbn)?;
    let mut buf = vec![0u8; parts.block_size as usize];
    read_exact_at(volume, at, &mut buf).map_err(|e| MediaError::io(format!("allocation extent at byte {at}"), e))?;
    tag::expect(&buf, tag::AED, "allocation extent descriptor", at)?;
    let len = u32_at(&buf, 20, "allocation extent descriptor", at)? as usize;
    Ok(bytes_at(&buf, 24, len, "allocation extent descriptor", at)?.to_vec())
}

impl Icb {
    /// Where its `size` bytes are on the volume.
    pub fn layout(&self, parts: &Partitions, limits: &Limits) -> Result<DataLayout, MediaError> {
        let ads = match &self.data {
            IcbData::Inline(bytes) => {
                let len = usize::try_from(self.size).unwrap_or(usize::MAX).min(bytes.len());
                return Ok(DataLayout::Inline(bytes.get(..len).unwrap_or_default().to_vec()));
            }
            IcbData::Ads(ads) => ads,
        };
        let mut out: Vec<Extent> = Vec::new();
        let (mut pos, mut recorded) = (0u64, 0u64);
        for ad in ads {
            let take = u64::from(ad.len).min(self.size.saturating_sub(pos));
            if take == 0 {
                break;
            }
            if ad.kind == 0 {
                recorded += take;
                if recorded > parts.volume_size {
                    return Err(MediaError::corrupt(format!(
                        "file entry at byte {}: recorded extents exceed the {}-byte medium",
                        self.at, parts.volume_size
                    )));
                }
                for (off, len) in parts.byte_runs(ad.addr.part, ad.addr.lbn, take)? {
                    push(&mut out, Extent { file_offset: pos, len, volume_offset: Some(off) }, limits)?;
                    pos += len;
                }
            } else {
                push(&mut out, Extent { file_offset: pos, len: take, volume_offset: None }, limits)?;
                pos += take;
            }
        }
        Ok(if out.is_empty() { DataLayout::None } else { DataLayout::Extents(out) })
    }
}

fn push(out: &mut Vec<Extent>, e: Extent, limits: &Limits) -> Result<(), MediaError> {
    limits.check_alloc((out.len() as u64 + 1) * 32, "UDF file extents")?;
    out.push(e);
    Ok(())
}
