//! The volume structure (ECMA-167 part 3): Volume Recognition Sequence,
//! Anchor Volume Descriptor Pointer and the Volume Descriptor Sequence
//! (Primary, Partition and Logical Volume descriptors).

use exhibit_media_core::{MediaError, ReadAt, read_exact_at};

use crate::names::decode_dstring;
use crate::tag::{self, bytes_at, u16_at, u32_at};

/// Sector sizes tried, most common first.
const SECTOR_SIZES: [u32; 3] = [2048, 512, 4096];
/// Volume descriptor sectors read at most (pointers included).
const MAX_VDS_SECTORS: u32 = 4096;

/// A Partition Descriptor.
#[derive(Debug, Clone, Copy)]
pub struct PartitionDesc {
    /// Partition number that maps refer to.
    pub number: u16,
    /// First sector.
    pub start: u32,
    /// Length in sectors.
    pub len: u32,
}

/// What the Volume Descriptor Sequence says.
#[derive(Debug, Clone, Default)]
pub struct Descriptors {
    /// Logical Volume Identifier, decoded.
    pub label: Option<Vec<u8>>,
    /// Logical block size.
    pub block_size: u32,
    /// File Set Descriptor location (long_ad bytes).
    pub fsd: [u8; 16],
    /// The partition map table.
    pub maps: Vec<u8>,
    /// Number of partition maps.
    pub map_count: u32,
    /// Partition Descriptors.
    pub partitions: Vec<PartitionDesc>,
}

/// Whether the Volume Recognition Sequence holds NSR02 or NSR03.
pub fn has_nsr(volume: &dyn ReadAt) -> bool {
    // VRS descriptors start at byte 32768, one per 2048 bytes (or per
    // sector when sectors are larger); 64 covers every layout seen.
    [2048u64, 4096].iter().any(|&step| {
        (0..64u64).any(|i| {
            let mut id = [0u8; 6];
            read_exact_at(volume, 32768 + i * step, &mut id).is_ok() && matches!(&id[1..], b"NSR02" | b"NSR03")
        })
    })
}

/// Finds the sector size and the main and reserve VDS extents from an anchor
/// at sector 256, N-256 or N (N the last sector).
pub fn find_anchor(volume: &dyn ReadAt) -> Result<(u32, [(u32, u32); 2]), MediaError> {
    for ss in SECTOR_SIZES {
        let last = (volume.size() / u64::from(ss)).saturating_sub(1);
        for sector in [256, last.saturating_sub(256), last] {
            if let Ok(extents) = read_anchor(volume, ss, sector) {
                return Ok((ss, extents));
            }
        }
    }
    Err(MediaError::corrupt(
        "no valid Anchor Volume Descriptor Pointer at sector 256, N-256 or N for sector sizes 2048, 512, 4096",
    ))
}

fn read_anchor(volume: &dyn ReadAt, ss: u32, sector: u64) -> Result<[(u32, u32); 2], MediaError> {
    let at = sector * u64::from(ss);
    let mut buf = [0u8; 512];
    read_exact_at(volume, at, &mut buf).map_err(|e| MediaError::io(format!("anchor at byte {at}"), e))?;
    let t = tag::expect(&buf, tag::AVDP, "anchor volume descriptor pointer", at)?;
    if u64::from(t.location) != sector {
        return Err(MediaError::corrupt(format!("anchor at byte {at} names sector {}", t.location)));
    }
    let extent = |off| -> Result<(u32, u32), MediaError> {
        let len = u32_at(&buf, off, "anchor", at)?;
        Ok((u32_at(&buf, off + 4, "anchor", at)?, len / ss))
    };
    Ok([extent(16)?, extent(24)?])
}

/// Reads the main VDS, falling back to the reserve copy when it is damaged.
pub fn read_descriptors(volume: &dyn ReadAt, ss: u32, extents: [(u32, u32); 2]) -> Result<Descriptors, MediaError> {
    let main = read_sequence(volume, ss, extents[0]);
    match main {
        Ok(d) => Ok(d),
        Err(e) => {
            tracing::warn!(error = %e, "udf: main volume descriptor sequence unusable, trying the reserve");
            read_sequence(volume, ss, extents[1]).map_err(|_| e)
        }
    }
}

fn read_sequence(volume: &dyn ReadAt, ss: u32, (mut loc, mut count): (u32, u32)) -> Result<Descriptors, MediaError> {
    let mut out = Descriptors::default();
    let (mut read, mut have_lvd) = (0u32, false);
    let mut buf = vec![0u8; ss as usize];
    while count > 0 && read < MAX_VDS_SECTORS {
        let at = u64::from(loc) * u64::from(ss);
        read_exact_at(volume, at, &mut buf)
            .map_err(|e| MediaError::io(format!("volume descriptor at byte {at}"), e))?;
        let t = tag::parse(&buf, "volume descriptor", at)?;
        match t.id {
            tag::PD => out.partitions.push(partition_desc(&buf, at)?),
            tag::LVD => {
                logical_volume(&buf, at, &mut out)?;
                have_lvd = true;
            }
            tag::VDP => {
                let len = u32_at(&buf, 20, "volume descriptor pointer", at)?;
                (loc, count) = (u32_at(&buf, 24, "volume descriptor pointer", at)?, len / ss);
                read += 1;
                continue;
            }
            tag::TD | 0 => break,
            _ => {}
        }
        (loc, count, read) = (loc.saturating_add(1), count - 1, read + 1);
    }
    if !have_lvd || out.partitions.is_empty() {
        return Err(MediaError::corrupt(format!(
            "volume descriptor sequence at sector {loc} lacks a Logical Volume or Partition Descriptor"
        )));
    }
    Ok(out)
}

fn partition_desc(buf: &[u8], at: u64) -> Result<PartitionDesc, MediaError> {
    let what = "partition descriptor";
    Ok(PartitionDesc {
        number: u16_at(buf, 22, what, at)?,
        start: u32_at(buf, 188, what, at)?,
        len: u32_at(buf, 192, what, at)?,
    })
}

fn logical_volume(buf: &[u8], at: u64, out: &mut Descriptors) -> Result<(), MediaError> {
    let what = "logical volume descriptor";
    let label = decode_dstring(bytes_at(buf, 84, 128, what, at)?);
    out.label = (!label.is_empty()).then_some(label);
    out.block_size = u32_at(buf, 212, what, at)?;
    out.fsd.copy_from_slice(bytes_at(buf, 248, 16, what, at)?);
    let table_len = u32_at(buf, 264, what, at)?;
    out.map_count = u32_at(buf, 268, what, at)?;
    let table_len = usize::try_from(table_len).unwrap_or(usize::MAX);
    out.maps = bytes_at(buf, 440, table_len, what, at)
        .map_err(|_| {
            MediaError::corrupt(format!(
                "{what} at byte {at}: partition map table of {table_len} bytes does not fit its sector"
            ))
        })?
        .to_vec();
    Ok(())
}
