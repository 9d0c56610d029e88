//! Partition maps (ECMA-167 3/10.7, UDF 2.2.8-2.2.10): each maps a logical
//! block number to a byte offset on the volume. Type 1 maps are plain
//! partitions; Type 2 maps are sparable (relocated packets), virtual (VAT) or
//! metadata partitions (blocks of the metadata file) layered on a Type 1.

use exhibit_media_core::MediaError;

use crate::volume::{Descriptors, PartitionDesc};

/// How one partition reference number maps blocks.
#[derive(Debug, Clone)]
pub enum Map {
    /// Blocks `start..start+len` of the volume, in sectors.
    Physical { start: u64, len: u32 },
    /// A physical partition whose packets may be relocated.
    Sparable { start: u64, len: u32, packet: u32, remap: Vec<(u32, u32)> },
    /// Virtual blocks, looked up in the VAT, on map `base`.
    Virtual { base: usize, vat: Vec<u32> },
    /// Metadata blocks: runs `(first, count, base_block)` of the metadata file on map `base`.
    Metadata { base: usize, runs: Vec<(u32, u32, u32)> },
    /// Not yet resolved (VAT or metadata file still to read).
    Pending,
}

/// A Type 2 map whose table lives in a file, resolved after the Type 1 maps.
#[derive(Debug, Clone)]
pub enum Deferred {
    /// The VAT, found at the end of the recorded area of map `base`.
    Virtual { index: usize, base: usize },
    /// The metadata file (and its mirror) at these blocks of map `base`.
    Metadata { index: usize, base: usize, file: u32, mirror: u32 },
}

/// A Sparable map's sparing-table locations, read by the caller.
#[derive(Debug, Clone)]
pub struct SparingTables {
    /// Map index.
    pub index: usize,
    /// Absolute sectors of each copy.
    pub locations: Vec<u32>,
    /// Size of each copy in bytes.
    pub size: u32,
}

/// Every map of the logical volume.
#[derive(Debug, Clone)]
pub struct Partitions {
    /// Logical block size.
    pub block_size: u64,
    /// Volume size in bytes.
    pub volume_size: u64,
    /// Maps by partition reference number.
    pub maps: Vec<Map>,
}

/// Parses the map table into maps, plus the Type 2 work left to do.
pub fn parse_maps(
    d: &Descriptors,
    volume_size: u64,
) -> Result<(Partitions, Vec<Deferred>, Vec<SparingTables>), MediaError> {
    let mut parts = Partitions { block_size: u64::from(d.block_size), volume_size, maps: Vec::new() };
    let (mut deferred, mut sparing) = (Vec::new(), Vec::new());
    let mut rest = d.maps.as_slice();
    for index in 0..d.map_count.min(64) as usize {
        let (&kind, &len) = (rest.first().unwrap_or(&0), rest.get(1).unwrap_or(&0));
        let Some(map) = rest.get(..usize::from(len)).filter(|_| len >= 6) else {
            return Err(MediaError::corrupt(format!(
                "partition map {index}: length {len} is invalid or past the table"
            )));
        };
        rest = rest.get(usize::from(len)..).unwrap_or_default();
        let number = u16le(map, if kind == 1 { 4 } else { 38 });
        let pd = find_pd(d, number, index)?;
        let ident = map.get(5..28).unwrap_or_default();
        let physical = Map::Physical { start: u64::from(pd.start), len: pd.len };
        let base = || parts.maps.iter().position(|m| matches!(m, Map::Physical { .. } | Map::Sparable { .. }));
        match kind {
            1 => parts.maps.push(physical),
            2 if ident.starts_with(b"*UDF Sparable Partition") => {
                let count = usize::from(*map.get(42).unwrap_or(&0)).min(4);
                let locations = (0..count).map(|i| u32le(map, 48 + 4 * i)).collect();
                sparing.push(SparingTables { index, locations, size: u32le(map, 44) });
                let packet = u32::from(u16le(map, 40)).max(1);
                parts.maps.push(Map::Sparable { start: u64::from(pd.start), len: pd.len, packet, remap: Vec::new() });
            }
            2 if ident.starts_with(b"*UDF Virtual Partition") => {
                let base = base().ok_or_else(|| no_base(index))?;
                deferred.push(Deferred::Virtual { index, base });
                parts.maps.push(Map::Pending);
            }
            2 if ident.starts_with(b"*UDF Metadata Partition") => {
                let base = base().ok_or_else(|| no_base(index))?;
                deferred.push(Deferred::Metadata { index, base, file: u32le(map, 40), mirror: u32le(map, 44) });
                parts.maps.push(Map::Pending);
            }
            _ => {
                let name = String::from_utf8_lossy(ident).trim_end_matches('\0').to_owned();
                return Err(MediaError::unsupported(format!(
                    "partition map {index}: type {kind} `{name}` is not handled"
                )));
            }
        }
    }
    Ok((parts, deferred, sparing))
}

fn no_base(index: usize) -> MediaError {
    MediaError::corrupt(format!("partition map {index}: a Type 2 map with no Type 1 partition before it"))
}

fn find_pd(d: &Descriptors, number: u16, index: usize) -> Result<PartitionDesc, MediaError> {
    d.partitions.iter().find(|p| p.number == number).copied().ok_or_else(|| {
        MediaError::corrupt(format!(
            "partition map {index} names partition {number}, which has no Partition Descriptor"
        ))
    })
}

fn u16le(b: &[u8], off: usize) -> u16 {
    b.get(off..off + 2).map_or(0, |s| u16::from_le_bytes([s[0], s[1]]))
}

fn u32le(b: &[u8], off: usize) -> u32 {
    b.get(off..off + 4).map_or(0, |s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

impl Partitions {
    /// Byte offset of block `lbn` of map `part`, and how many blocks from it
    /// are contiguous on the volume.
    pub fn block_run(&self, part: u16, lbn: u32) -> Result<(u64, u32), MediaError> {
        let map = self.maps.get(usize::from(part)).ok_or_else(|| {
            MediaError::corrupt(format!("block {lbn} names partition reference {part}, which the volume lacks"))
        })?;
        let outside = || MediaError::corrupt(format!("block {lbn} lies outside partition reference {part}"));
        match map {
            Map::Physical { len, .. } | Map::Sparable { len, .. } if lbn >= *len => Err(outside()),
            Map::Physical { start, len } => Ok(((start + u64::from(lbn)) * self.block_size, len - lbn)),
            Map::Sparable { start, packet, remap, .. } => {
                let within = lbn % packet;
                let first = lbn - within;
                let sector = match remap.iter().find(|(orig, _)| *orig == first) {
                    Some((_, mapped)) => u64::from(*mapped) + u64::from(within),
                    None => start + u64::from(lbn),
                };
                Ok((sector * self.block_size, packet - within))
            }
            Map::Virtual { base, vat } => {
                let phys = vat.get(lbn as usize).copied().filter(|&b| b != u32::MAX).ok_or_else(outside)?;
                let (off, _) = self.block_run(base_ref(*base)?, phys)?;
                Ok((off, 1))
            }
            Map::Metadata { base, runs } => {
                let (first, count, at) =
                    runs.iter().copied().find(|(f, c, _)| lbn >= *f && lbn - f < *c).ok_or_else(outside)?;
                let (off, run) = self.block_run(base_ref(*base)?, at + (lbn - first))?;
                Ok((off, run.min(count - (lbn - first))))
            }
            Map::Pending => Err(MediaError::corrupt(format!("partition reference {part} is used before it is read"))),
        }
    }

    /// The volume byte runs of `len` bytes from block `lbn` of map `part`,
    /// merged where contiguous and checked against the volume size.
    pub fn byte_runs(&self, part: u16, lbn: u32, len: u64) -> Result<Vec<(u64, u64)>, MediaError> {
        let mut out: Vec<(u64, u64)> = Vec::new();
        let (mut left, mut block) = (len, lbn);
        while left > 0 {
            let (off, blocks) = self.block_run(part, block)?;
            let take = left.min(u64::from(blocks.max(1)) * self.block_size);
            if off.checked_add(take).is_none_or(|end| end > self.volume_size) {
                return Err(MediaError::corrupt(format!(
                    "extent at block {block} of partition reference {part} (byte {off}) runs past the end of the medium"
                )));
            }
            match out.last_mut() {
                Some((o, l)) if *o + *l == off => *l += take,
                _ => out.push((off, take)),
            }
            left -= take;
            block =
                block.checked_add(blocks.max(1)).ok_or_else(|| MediaError::corrupt("extent wraps the block range"))?;
        }
        Ok(out)
    }
}

fn base_ref(base: usize) -> Result<u16, MediaError> {
    u16::try_from(base).map_err(|_| MediaError::corrupt("partition reference out of range"))
}
