//! Fills in the Type 2 maps whose tables live on the medium: sparing tables
//! (UDF 2.2.12), the Virtual Allocation Table (UDF 2.2.11) and the metadata
//! file with its mirror as fallback (UDF 2.2.13).

use std::io::Read;
use std::sync::Arc;

use exhibit_media_core::{EntryKind, FsEntry, Limits, MediaError, NamePath, ReadAt, open_content, read_exact_at};

use crate::icb::{self, Icb, IcbData, LbAddr};
use crate::partition::{Deferred, Map, Partitions, SparingTables};
use crate::tag::{self, u16_at, u32_at};

/// Sectors searched back from the end of the medium for the VAT's entry.
const VAT_SEARCH: u64 = 64;

/// Resolves every pending map in place.
pub fn resolve(
    volume: &Arc<dyn ReadAt>,
    parts: &mut Partitions,
    deferred: &[Deferred],
    sparing: &[SparingTables],
    limits: &Limits,
) -> Result<(), MediaError> {
    for tables in sparing {
        let table = read_sparing(&**volume, parts.block_size, tables, limits)?;
        if let Some(Map::Sparable { remap, .. }) = parts.maps.get_mut(tables.index) {
            *remap = table;
        }
    }
    for d in deferred.iter().filter(|d| matches!(d, Deferred::Virtual { .. })) {
        if let Deferred::Virtual { index, base } = *d {
            let vat = read_vat(volume, parts, base, limits)?;
            set(parts, index, Map::Virtual { base, vat });
        }
    }
    for d in deferred {
        if let Deferred::Metadata { index, base, file, mirror } = *d {
            let runs = metadata_runs(volume, parts, base, file, limits).or_else(|e| {
                tracing::warn!(error = %e, "udf: metadata file unusable, trying its mirror");
                metadata_runs(volume, parts, base, mirror, limits).map_err(|_| e)
            })?;
            set(parts, index, Map::Metadata { base, runs });
        }
    }
    Ok(())
}

fn set(parts: &mut Partitions, index: usize, map: Map) {
    if let Some(slot) = parts.maps.get_mut(index) {
        *slot = map;
    }
}

fn read_sparing(
    volume: &dyn ReadAt,
    block_size: u64,
    tables: &SparingTables,
    limits: &Limits,
) -> Result<Vec<(u32, u32)>, MediaError> {
    let size = limits.check_alloc(u64::from(tables.size).max(56), "UDF sparing table")?;
    let mut buf = vec![0u8; size];
    for &loc in &tables.locations {
        let at = u64::from(loc) * block_size;
        let parsed = read_exact_at(volume, at, &mut buf)
            .map_err(|e| MediaError::io(format!("sparing table at byte {at}"), e))
            .and_then(|()| tag::parse(&buf, "sparing table", at))
            .and_then(|_| sparing_entries(&buf, at));
        match parsed {
            Ok(entries) => return Ok(entries),
            Err(e) => tracing::warn!(error = %e, "udf: sparing table copy unusable"),
        }
    }
    Err(MediaError::corrupt(format!("partition map {}: no readable sparing table", tables.index)))
}

fn sparing_entries(buf: &[u8], at: u64) -> Result<Vec<(u32, u32)>, MediaError> {
    if !buf.get(17..).unwrap_or_default().starts_with(b"*UDF Sparing Table") {
        return Err(MediaError::corrupt(format!("sparing table at byte {at}: identifier missing")));
    }
    let count = usize::from(u16_at(buf, 48, "sparing table", at)?);
    let mut out = Vec::new();
    for i in 0..count {
        let orig = u32_at(buf, 56 + 8 * i, "sparing table entry", at)?;
        if orig < 0xFFFF_FFF0 {
            out.push((orig, u32_at(buf, 60 + 8 * i, "sparing table entry", at)?));
        }
    }
    Ok(out)
}

fn read_vat(
    volume: &Arc<dyn ReadAt>,
    parts: &Partitions,
    base: usize,
    limits: &Limits,
) -> Result<Vec<u32>, MediaError> {
    let Some(&Map::Physical { start, len }) = parts.maps.get(base) else {
        return Err(MediaError::unsupported("a virtual partition over a non-physical partition"));
    };
    let part = u16::try_from(base).map_err(|_| MediaError::corrupt("partition reference out of range"))?;
    let last = (parts.volume_size / parts.block_size).saturating_sub(1);
    for sector in (last.saturating_sub(VAT_SEARCH)..=last).rev() {
        let Some(lbn) = sector.checked_sub(start).and_then(|l| u32::try_from(l).ok()).filter(|&l| l < len) else {
            continue;
        };
        let Ok(entry) = icb::read(&**volume, parts, LbAddr { lbn, part }, limits) else { continue };
        if let Some(vat) = vat_table(volume, parts, &entry, limits)? {
            tracing::debug!(sector, entries = vat.len(), "udf: virtual allocation table");
            return Ok(vat);
        }
    }
    Err(MediaError::corrupt("virtual partition: no Virtual Allocation Table in the last sectors of the medium"))
}

fn vat_table(
    volume: &Arc<dyn ReadAt>,
    parts: &Partitions,
    entry: &Icb,
    limits: &Limits,
) -> Result<Option<Vec<u32>>, MediaError> {
    let bytes = match entry.file_type {
        248 | 0 => read_all(volume, parts, entry, limits)?,
        _ => return Ok(None),
    };
    let body = if entry.file_type == 248 {
        let header = usize::from(u16_at(&bytes, 0, "VAT header", entry.at)?);
        bytes.get(header..)
    } else {
        let trailer = bytes.len().checked_sub(36);
        let ok = trailer.and_then(|t| bytes.get(t + 1..)).is_some_and(|t| t.starts_with(b"*UDF Virtual Alloc Tbl"));
        if !ok {
            return Ok(None);
        }
        trailer.and_then(|t| bytes.get(..t))
    };
    let body = body.ok_or_else(|| MediaError::corrupt(format!("VAT at byte {}: header past its end", entry.at)))?;
    Ok(Some(body.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()))
}

/// The whole content of a small metadata file, capped by `limits.max_alloc`.
pub fn read_all(
    volume: &Arc<dyn ReadAt>,
    parts: &Partitions,
    entry: &Icb,
    limits: &Limits,
) -> Result<Vec<u8>, MediaError> {
    let mut fs_entry = FsEntry::new(NamePath::root(), EntryKind::File);
    fs_entry.size = entry.size;
    fs_entry.data = entry.layout(parts, limits)?;
    let cap = limits.check_alloc(entry.size, "UDF metadata file")?;
    let mut out = Vec::with_capacity(cap.min(usize::try_from(volume.size()).unwrap_or(usize::MAX)));
    open_content(volume.clone(), &fs_entry)
        .read_to_end(&mut out)
        .map_err(|e| MediaError::corrupt(format!("file at byte {}: {e}", entry.at)))?;
    Ok(out)
}

fn metadata_runs(
    volume: &Arc<dyn ReadAt>,
    parts: &Partitions,
    base: usize,
    lbn: u32,
    limits: &Limits,
) -> Result<Vec<(u32, u32, u32)>, MediaError> {
    let part = u16::try_from(base).map_err(|_| MediaError::corrupt("partition reference out of range"))?;
    let entry = icb::read(&**volume, parts, LbAddr { lbn, part }, limits)?;
    if !matches!(entry.file_type, 250 | 251) {
        return Err(MediaError::corrupt(format!("metadata file at byte {}: file type {}", entry.at, entry.file_type)));
    }
    let IcbData::Ads(ads) = &entry.data else {
        return Err(MediaError::unsupported(format!("metadata file at byte {}: embedded data", entry.at)));
    };
    let (mut runs, mut first) = (Vec::new(), 0u32);
    for ad in ads {
        let count = u32::try_from(u64::from(ad.len).div_ceil(parts.block_size)).unwrap_or(u32::MAX);
        if ad.kind == 0 && ad.addr.part == part {
            limits.check_alloc((runs.len() as u64 + 1) * 12, "UDF metadata file runs")?;
            runs.push((first, count, ad.addr.lbn));
        }
        first = first.saturating_add(count);
    }
    Ok(runs)
}
