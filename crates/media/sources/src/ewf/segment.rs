//! Walks the section chain of one EWF-E01 segment file: every descriptor's
//! Adler-32 is checked, offsets must move forward and stay inside the file,
//! and only small sections (headers, volume, hashes, table headers) are read.

use std::io::Read;

use exhibit_media_core::{MediaError, ReadAt, read_exact_at};
use flate2::read::ZlibDecoder;

use super::{ParseCtx, read_failed};

/// The EWF-E01 (EnCase) signature that starts every segment file.
pub const EVF_SIGNATURE: [u8; 8] = *b"EVF\x09\x0d\x0a\xff\x00";
const FILE_HEADER: u64 = 13;
const DESCRIPTOR: u64 = 76;
const TABLE_HEADER: u64 = 24;
/// Header sections are a few hundred bytes; anything beyond this is hostile.
const MAX_HEADER_BYTES: u64 = 1 << 20;

/// Media geometry from a `volume`, `disk` or `data` section.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Volume {
    pub chunk_count: u32,
    pub sectors_per_chunk: u32,
    pub bytes_per_sector: u32,
    pub sector_count: u64,
}

/// A `table` section: where its entries are and where its chunk data ends.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TableRef {
    pub segment: usize,
    pub entries_at: u64,
    pub count: u32,
    pub base: u64,
    pub data_end: u64,
    pub checksummed: bool,
}

/// What one segment file holds.
#[derive(Debug, Default)]
pub(crate) struct SegmentScan {
    pub volume: Option<Volume>,
    pub header: Option<Vec<u8>>,
    pub header2: Option<Vec<u8>>,
    pub md5: Option<[u8; 16]>,
    pub sha1: Option<[u8; 20]>,
    pub tables: Vec<TableRef>,
    pub last: bool,
}

fn le32(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4).and_then(|s| s.try_into().ok()).map_or(0, u32::from_le_bytes)
}

fn le64(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8).and_then(|s| s.try_into().ok()).map_or(0, u64::from_le_bytes)
}

fn read(seg: &dyn ReadAt, at: u64, len: u64, ctx: &ParseCtx, what: &str) -> Result<Vec<u8>, MediaError> {
    let mut buf = vec![0u8; ctx.limits.check_alloc(len, what)?];
    read_exact_at(seg, at, &mut buf).map_err(|e| read_failed(format!("{what} in {} at byte {at}", ctx.name), e))?;
    Ok(buf)
}

/// Checks the 13-byte file header and returns the segment number.
pub(crate) fn segment_number(seg: &dyn ReadAt, ctx: &ParseCtx) -> Result<u16, MediaError> {
    let mut head = [0u8; FILE_HEADER as usize];
    read_exact_at(seg, 0, &mut head).map_err(|e| read_failed(format!("EWF file header of {}", ctx.name), e))?;
    if head[..8] != EVF_SIGNATURE {
        return Err(MediaError::not_recognised(format!("{} has no EWF-E01 signature at byte 0", ctx.name)));
    }
    Ok(u16::from_le_bytes([head[9], head[10]]))
}

/// Walks the sections of segment `index`.
pub(crate) fn scan(seg: &dyn ReadAt, index: usize, ctx: &ParseCtx) -> Result<SegmentScan, MediaError> {
    let size = seg.size();
    let mut out = SegmentScan::default();
    let mut sectors: Option<(u64, u64)> = None;
    let mut at = FILE_HEADER;
    loop {
        let desc = read(seg, at, DESCRIPTOR, ctx, "EWF section descriptor")?;
        if adler2::adler32_slice(desc.get(..72).unwrap_or_default()) != le32(&desc, 72) {
            return Err(MediaError::corrupt(format!(
                "EWF section descriptor in {} at byte {at}: bad checksum",
                ctx.name
            )));
        }
        let kind = desc.get(..16).unwrap_or_default().split(|&b| b == 0).next().unwrap_or_default().to_vec();
        let (next, sec_size) = (le64(&desc, 16), le64(&desc, 24));
        if kind == b"next" || kind == b"done" {
            out.last = kind == b"done";
            return Ok(out);
        }
        let end = at.checked_add(sec_size).filter(|&e| e <= size && sec_size >= DESCRIPTOR);
        let Some(end) = end else {
            return Err(MediaError::corrupt(format!(
                "EWF section {:?} in {} at byte {at}: size {sec_size} runs past the file ({size} bytes)",
                String::from_utf8_lossy(&kind),
                ctx.name
            )));
        };
        let data = (at + DESCRIPTOR, end - at - DESCRIPTOR);
        match kind.as_slice() {
            b"header" | b"header2" => read_header(seg, &kind, data, ctx, &mut out)?,
            b"volume" | b"disk" | b"data" if out.volume.is_none() => out.volume = Some(read_volume(seg, data, ctx)?),
            b"sectors" => sectors = Some((data.0, end)),
            b"table" => out.tables.push(read_table(seg, index, at, data, end, sectors, ctx)?),
            b"hash" if data.1 >= 16 && out.md5.is_none() => {
                let md5: Option<[u8; 16]> = read(seg, data.0, 16, ctx, "EWF hash")?.try_into().ok();
                out.md5 = md5.filter(|m| m.iter().any(|&b| b != 0));
            }
            b"digest" if data.1 >= 36 => read_digest(seg, data.0, ctx, &mut out)?,
            _ => tracing::trace!(section = %String::from_utf8_lossy(&kind), at, "EWF section skipped"),
        }
        if next <= at || next > size {
            return Err(MediaError::corrupt(format!(
                "EWF section in {} at byte {at}: next section offset {next} does not move forward inside the file",
                ctx.name
            )));
        }
        at = next;
    }
}

fn read_header(
    seg: &dyn ReadAt,
    kind: &[u8],
    (at, len): (u64, u64),
    ctx: &ParseCtx,
    out: &mut SegmentScan,
) -> Result<(), MediaError> {
    let slot = if kind == b"header" { &mut out.header } else { &mut out.header2 };
    if slot.is_some() {
        return Ok(());
    }
    let packed = read(seg, at, len.min(MAX_HEADER_BYTES), ctx, "EWF header section")?;
    let mut text = Vec::new();
    ZlibDecoder::new(packed.as_slice()).take(MAX_HEADER_BYTES).read_to_end(&mut text).map_err(|e| {
        MediaError::corrupt(format!("EWF {} section in {} at byte {at}: {e}", String::from_utf8_lossy(kind), ctx.name))
    })?;
    *slot = Some(text);
    Ok(())
}

fn read_volume(seg: &dyn ReadAt, (at, len): (u64, u64), ctx: &ParseCtx) -> Result<Volume, MediaError> {
    if len < 24 {
        return Err(MediaError::corrupt(format!("EWF volume section in {} at byte {at}: only {len} bytes", ctx.name)));
    }
    let body = read(seg, at, len.min(1052), ctx, "EWF volume section")?;
    let sector_count = if len >= 1052 { le64(&body, 16) } else { u64::from(le32(&body, 16)) };
    Ok(Volume {
        chunk_count: le32(&body, 4),
        sectors_per_chunk: le32(&body, 8),
        bytes_per_sector: le32(&body, 12),
        sector_count,
    })
}

fn read_table(
    seg: &dyn ReadAt,
    segment: usize,
    section_at: u64,
    (at, len): (u64, u64),
    end: u64,
    sectors: Option<(u64, u64)>,
    ctx: &ParseCtx,
) -> Result<TableRef, MediaError> {
    let head = read(seg, at, TABLE_HEADER.min(len), ctx, "EWF table header")?;
    if len < TABLE_HEADER || adler2::adler32_slice(head.get(..20).unwrap_or_default()) != le32(&head, 20) {
        return Err(MediaError::corrupt(format!("EWF table header in {} at byte {at}: bad checksum", ctx.name)));
    }
    let count = le32(&head, 0);
    let entries = u64::from(count) * 4;
    if TABLE_HEADER + entries > len {
        return Err(MediaError::corrupt(format!(
            "EWF table in {} at byte {at}: {count} entries do not fit its {len} bytes",
            ctx.name
        )));
    }
    let base = le64(&head, 8);
    // Chunks live in the preceding `sectors` section (EnCase 2+) or, in the
    // oldest layout, after the entries inside the table section itself.
    let data_end = match sectors {
        Some((start, stop)) if (start.saturating_sub(DESCRIPTOR)..stop).contains(&base) => stop,
        _ => end,
    };
    let checksummed = TABLE_HEADER + entries + 4 <= len;
    tracing::trace!(section_at, count, base, "EWF table");
    Ok(TableRef { segment, entries_at: at + TABLE_HEADER, count, base, data_end, checksummed })
}

fn read_digest(seg: &dyn ReadAt, at: u64, ctx: &ParseCtx, out: &mut SegmentScan) -> Result<(), MediaError> {
    let body = read(seg, at, 36, ctx, "EWF digest section")?;
    out.md5 = body.get(..16).and_then(|b| b.try_into().ok()).filter(|m: &[u8; 16]| m.iter().any(|&b| b != 0));
    out.sha1 = body.get(16..36).and_then(|b| b.try_into().ok()).filter(|s: &[u8; 20]| s.iter().any(|&b| b != 0));
    Ok(())
}
