//! Views whose runs hold a file's stored, compressed bytes: the reader
//! decodes them one block (zisofs) or compression unit (LZNT1) at a time.
//! Every pointer and length read from the media is checked against the
//! encoded stream before it is used, and no buffer is sized from the media
//! beyond one block or unit, whose size the transform record bounds.

use std::io;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::read_at::{ReadAt, read_exact_at};
use crate::view::{ViewError, ViewRun};

/// The zisofs file header's magic ("zisofs" v1, mkzftree).
pub const ZISOFS_MAGIC: [u8; 8] = [0x37, 0xE4, 0x53, 0x96, 0xC9, 0xDB, 0xD6, 0x07];
/// Block sizes zisofs allows: 2^15, 2^16 or 2^17 bytes.
pub const ZISOFS_BLOCK_LOG2: std::ops::RangeInclusive<u8> = 15..=17;
/// The largest LZNT1 compression unit accepted (NTFS writes 16 clusters of
/// at most 4 KiB; 2^8 clusters of 4 KiB is the format's own ceiling).
pub const MAX_LZNT1_UNIT: u64 = 1 << 20;

/// How a view's runs become the file's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Transform {
    /// Rock Ridge `ZF` zisofs: a 16-byte header, a table of little-endian
    /// u32 block pointers, then one zlib stream per block (an empty one is
    /// a block of zeros).
    Zisofs {
        /// Bytes before the pointer table (16 in zisofs v1).
        header_size: u64,
        /// log2 of the decoded block size.
        block_log2: u8,
    },
    /// NTFS compression: compression units of `unit_size` bytes in the
    /// runs; a unit wholly from the base is raw, one wholly fill is zeros,
    /// and one whose stored bytes end in a sparse tail is LZNT1.
    Lznt1 {
        /// Bytes per compression unit (clusters x 2^compression unit).
        unit_size: u64,
    },
}

impl Transform {
    /// Checks that `encoded` bytes of runs can hold a file of `size` bytes.
    pub fn check(&self, encoded: u64, size: u64) -> Result<(), ViewError> {
        let bad = |why: String| Err(ViewError(why));
        match *self {
            Self::Zisofs { header_size, block_log2 } => {
                if !ZISOFS_BLOCK_LOG2.contains(&block_log2) {
                    return bad(format!("zisofs block size 2^{block_log2} is not 2^15..2^17"));
                }
                if header_size != 16 {
                    return bad(format!("zisofs header of {header_size} bytes; version 1 has 16"));
                }
                if size > u64::from(u32::MAX) {
                    return bad(format!("zisofs file of {size} bytes; its header holds 32 bits"));
                }
                let table = header_size + 4 * (zisofs_blocks(size, block_log2) + 1);
                if table > encoded {
                    return bad(format!("zisofs pointer table ends at {table}, past the {encoded}-byte stream"));
                }
            }
            Self::Lznt1 { unit_size } => {
                if !unit_size.is_power_of_two() || !(512..=MAX_LZNT1_UNIT).contains(&unit_size) {
                    return bad(format!("LZNT1 compression unit of {unit_size} bytes"));
                }
                if size > encoded {
                    return bad(format!("{size} decoded bytes in {encoded} bytes of compression units"));
                }
            }
        }
        Ok(())
    }

    /// Decoded bytes per block or unit.
    fn block_size(&self) -> u64 {
        match *self {
            Self::Zisofs { block_log2, .. } => 1 << block_log2,
            Self::Lznt1 { unit_size } => unit_size,
        }
    }
}

fn zisofs_blocks(size: u64, block_log2: u8) -> u64 {
    size.div_ceil(1 << block_log2)
}

fn corrupt(why: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, why)
}

/// Positional reads of a transformed view: decodes the block under each
/// read and keeps the last one decoded.
pub struct TransformAt {
    encoded: Arc<dyn ReadAt>,
    runs: Arc<[ViewRun]>,
    transform: Transform,
    size: u64,
    last: Mutex<Option<(u64, Arc<[u8]>)>>,
}

impl TransformAt {
    /// A reader of `size` decoded bytes over `encoded`, the stream the
    /// view's `runs` (already checked) describe.
    pub fn new(encoded: Arc<dyn ReadAt>, runs: Arc<[ViewRun]>, transform: Transform, size: u64) -> Self {
        Self { encoded, runs, transform, size, last: Mutex::new(None) }
    }

    fn block(&self, index: u64) -> io::Result<Arc<[u8]>> {
        if let Ok(last) = self.last.lock()
            && let Some((i, bytes)) = last.as_ref()
            && *i == index
        {
            return Ok(bytes.clone());
        }
        let bytes: Arc<[u8]> = self.decode(index)?.into();
        if let Ok(mut last) = self.last.lock() {
            *last = Some((index, bytes.clone()));
        }
        Ok(bytes)
    }

    /// The decoded bytes of block `index`: exactly the block size, or what
    /// is left of the file for the last one.
    fn decode(&self, index: u64) -> io::Result<Vec<u8>> {
        let block = self.transform.block_size();
        let start = index * block;
        // `block` is at most 1 MiB (checked), so this fits any usize.
        let want = usize::try_from(block.min(self.size - start)).unwrap_or(0);
        match self.transform {
            Transform::Zisofs { header_size, block_log2 } => self.zisofs(index, want, header_size, block_log2),
            Transform::Lznt1 { unit_size } => self.lznt1(index, want, unit_size),
        }
    }

    fn zisofs(&self, index: u64, want: usize, header_size: u64, block_log2: u8) -> io::Result<Vec<u8>> {
        let mut header = [0u8; 16];
        read_exact_at(&*self.encoded, 0, &mut header)?;
        let declared = u32::from_le_bytes([header[8], header[9], header[10], header[11]]);
        if header[..8] != ZISOFS_MAGIC
            || u64::from(declared) != self.size
            || u64::from(header[12]) * 4 != header_size
            || header[13] != block_log2
        {
            return Err(corrupt(format!(
                "zisofs header does not match its ZF record ({} bytes, blocks of 2^{block_log2})",
                self.size
            )));
        }
        let mut pointers = [0u8; 8];
        read_exact_at(&*self.encoded, header_size + 4 * index, &mut pointers)?;
        let from = u64::from(u32::from_le_bytes([pointers[0], pointers[1], pointers[2], pointers[3]]));
        let to = u64::from(u32::from_le_bytes([pointers[4], pointers[5], pointers[6], pointers[7]]));
        let table_end = header_size + 4 * (zisofs_blocks(self.size, block_log2) + 1);
        let encoded = self.encoded.size();
        // zlib's worst case for a block: stored sub-blocks, 5 bytes per 16 KiB, plus header and checksum.
        let most = (1u64 << block_log2) + (5 << (block_log2 - 14)) + 16;
        if from < table_end || to < from || to > encoded || to - from > most {
            return Err(corrupt(format!(
                "zisofs block {index}: pointers {from}..{to} are out of order or outside the {encoded}-byte stream \
                 (data starts at {table_end}, a block holds at most {most} bytes)"
            )));
        }
        let mut out = vec![0u8; want];
        if from == to {
            return Ok(out);
        }
        let mut input = vec![0u8; (to - from) as usize];
        read_exact_at(&*self.encoded, from, &mut input)?;
        inflate_exact(&input, &mut out).map_err(|why| corrupt(format!("zisofs block {index}: {why}")))?;
        Ok(out)
    }

    fn lznt1(&self, index: u64, want: usize, unit_size: u64) -> io::Result<Vec<u8>> {
        let start = index * unit_size;
        let stored = stored_prefix(&self.runs, start, unit_size)
            .map_err(|why| corrupt(format!("LZNT1 unit {index} (stream byte {start}): {why}")))?;
        let mut out = Vec::with_capacity(want);
        if stored == 0 {
            out.resize(want, 0);
        } else {
            let mut raw = vec![0u8; stored as usize];
            read_exact_at(&*self.encoded, start, &mut raw)?;
            if stored == unit_size {
                raw.truncate(want);
                return Ok(raw);
            }
            // One byte past the unit tells data that claims too much.
            let limit = unit_size as usize + 1;
            crate::lznt1::decompress(&raw, limit, &mut out)
                .map_err(|why| corrupt(format!("LZNT1 unit {index}: {why}")))?;
            if out.len() as u64 > unit_size {
                return Err(corrupt(format!("LZNT1 unit {index} decodes to more than its {unit_size} bytes")));
            }
            out.resize(unit_size as usize, 0);
            out.truncate(want);
        }
        Ok(out)
    }
}

/// Bytes of `[start, start + len)` that the runs take from the base, which
/// must come before any fill in it (a compressed unit's layout).
fn stored_prefix(runs: &[ViewRun], start: u64, len: u64) -> Result<u64, String> {
    let end = start + len;
    let (mut stored, mut filled) = (0u64, false);
    for run in runs.iter().filter(|r| r.file_offset < end && r.file_offset + r.len > start) {
        let overlap = (run.file_offset + run.len).min(end) - run.file_offset.max(start);
        match run.base_offset {
            Some(_) if filled => return Err("stored clusters follow a sparse run inside the unit".into()),
            Some(_) => stored += overlap,
            None => filled = true,
        }
    }
    Ok(stored)
}

/// Inflates one zlib stream into exactly `out`: more output, less, or a
/// stream that does not end is an error.
fn inflate_exact(input: &[u8], out: &mut [u8]) -> Result<(), String> {
    let mut z = flate2::Decompress::new(true);
    let status = z.decompress(input, out, flate2::FlushDecompress::Finish).map_err(|e| e.to_string());
    let made = z.total_out() as usize;
    match status? {
        flate2::Status::StreamEnd if made == out.len() => Ok(()),
        flate2::Status::StreamEnd => Err(format!("decodes to {made} bytes, not {}", out.len())),
        _ if made == out.len() => Err(format!("decodes to more than {} bytes", out.len())),
        _ => Err(format!("the zlib stream is cut short after {made} bytes")),
    }
}

impl ReadAt for TransformAt {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        if offset >= self.size || buf.is_empty() {
            return Ok(0);
        }
        let block = self.transform.block_size();
        let bytes = self.block(offset / block)?;
        let within = (offset % block) as usize;
        let avail = bytes.get(within..).unwrap_or_default();
        let n = avail.len().min(buf.len());
        buf[..n].copy_from_slice(&avail[..n]);
        Ok(n)
    }

    fn size(&self) -> u64 {
        self.size
    }
}

#[cfg(test)]
#[path = "view_transform_tests.rs"]
mod tests;
