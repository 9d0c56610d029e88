//! Chunk reads. An uncompressed chunk is followed by the Adler-32 of its
//! bytes; a compressed chunk is a zlib stream whose trailer is the Adler-32
//! of the inflated bytes. Both are checked here, on every read, so a changed
//! byte anywhere in the media data surfaces as a `Corrupt` error naming the
//! chunk.

use std::io;
use std::sync::{Arc, PoisonError};

use exhibit_media_core::{MediaError, MediaErrorKind, ReadAt, read_exact_at};
use flate2::{Decompress, FlushDecompress, Status};
use md5::{Digest, Md5};
use sha1::Sha1;

use super::{EwfImage, read_failed};

const COMPRESSED: u32 = 0x8000_0000;

/// Where one chunk is stored.
struct Location {
    segment: usize,
    offset: u64,
    stored_len: u64,
    compressed: bool,
}

/// The result of hashing all media and comparing with the stored hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EwfVerification {
    /// MD5 of the media as read.
    pub md5: [u8; 16],
    /// SHA-1 of the media as read.
    pub sha1: [u8; 20],
    /// Whether it equals the stored MD5 (`None`: none stored).
    pub md5_matches: Option<bool>,
    /// Whether it equals the stored SHA-1 (`None`: none stored).
    pub sha1_matches: Option<bool>,
    /// Chunks whose stored bytes fail their checksum or do not inflate:
    /// hashed as zeros, as libewf reads them, so the rest is still checked.
    pub damaged_chunks: u64,
    /// What is wrong with the first [`MAX_DAMAGE_NOTES`] of them.
    pub damage: Vec<String>,
}

/// How many damaged chunks a verification describes; the rest are counted.
pub const MAX_DAMAGE_NOTES: usize = 8;

impl EwfImage {
    /// The media bytes of chunk `index`, checksum verified.
    pub fn chunk(&self, index: u64) -> Result<Arc<[u8]>, MediaError> {
        if let Some(hit) = self.chunks.lock().unwrap_or_else(PoisonError::into_inner).get(index) {
            return Ok(hit);
        }
        let bytes: Arc<[u8]> = self.decode(index)?.into();
        self.chunks.lock().unwrap_or_else(PoisonError::into_inner).put(index, bytes.clone());
        Ok(bytes)
    }

    /// Hashes all media through verified chunk reads. A truncated set is
    /// hashed as far as it goes and compared with nothing: its stored hashes
    /// cover media it no longer holds.
    pub fn verify(&self) -> Result<EwfVerification, MediaError> {
        let (mut md5, mut sha1) = (Md5::new(), Sha1::new());
        let (mut damaged_chunks, mut damage) = (0u64, Vec::new());
        for index in 0..self.chunk_count() {
            let media_at = index.saturating_mul(self.chunk_size);
            let zeros = || vec![0u8; usize::try_from(self.chunk_size.min(self.media_size - media_at)).unwrap_or(0)];
            let bytes = match self.hole_end(media_at) {
                // What a missing segment held reads as zeros, as in `read_at`.
                Some(_) => zeros(),
                None => match self.decode(index) {
                    Ok(bytes) => bytes,
                    // Damage to one chunk is evidence: note it, go on.
                    Err(e) if e.kind == MediaErrorKind::Corrupt => {
                        damaged_chunks += 1;
                        if damage.len() < MAX_DAMAGE_NOTES {
                            damage.push(e.message);
                        }
                        zeros()
                    }
                    Err(e) => return Err(e),
                },
            };
            md5.update(&bytes);
            sha1.update(&bytes);
        }
        let (md5, sha1): ([u8; 16], [u8; 20]) = (md5.finalize().into(), sha1.finalize().into());
        Ok(EwfVerification {
            md5_matches: self.md5.filter(|_| self.truncation.is_none()).map(|m| m == md5),
            sha1_matches: self.sha1.filter(|_| self.truncation.is_none()).map(|s| s == sha1),
            md5,
            sha1,
            damaged_chunks,
            damage,
        })
    }

    /// Where chunk `index` is stored: the segment's index in the set, the
    /// byte offset in it and the stored length (with checksum or zlib
    /// trailer), for tools and tests that point at a chunk's bytes.
    pub fn chunk_location(&self, index: u64) -> Result<(usize, u64, u64), MediaError> {
        let loc = self.locate(index)?;
        Ok((loc.segment, loc.offset, loc.stored_len))
    }

    fn table_entries(&self, table: usize) -> Result<Arc<[u32]>, MediaError> {
        let key = table as u64;
        if let Some(hit) = self.table_cache.lock().unwrap_or_else(PoisonError::into_inner).get(key) {
            return Ok(hit);
        }
        let t = self.tables.get(table).ok_or_else(|| MediaError::corrupt(format!("EWF table {table} is missing")))?;
        let seg = self.segments.get(t.segment).ok_or_else(|| MediaError::corrupt("EWF table names no segment"))?;
        let len = u64::from(t.count) * 4 + if t.checksummed { 4 } else { 0 };
        let mut raw = vec![0u8; self.limits.check_alloc(len, "EWF table entries")?];
        read_exact_at(seg.data.as_ref(), t.entries_at, &mut raw)
            .map_err(|e| read_failed(format!("EWF table in {} at byte {}", seg.name, t.entries_at), e))?;
        let (entries, sum) = raw.split_at(raw.len().min(usize::try_from(u64::from(t.count) * 4).unwrap_or(0)));
        if t.checksummed && sum.try_into().map(u32::from_le_bytes).ok() != Some(adler2::adler32_slice(entries)) {
            return Err(MediaError::corrupt(format!(
                "EWF table in {} at byte {}: the entries' checksum does not match",
                seg.name, t.entries_at
            )));
        }
        let parsed: Arc<[u32]> =
            entries.chunks_exact(4).map(|e| u32::from_le_bytes([e[0], e[1], e[2], e[3]])).collect::<Vec<_>>().into();
        self.table_cache.lock().unwrap_or_else(PoisonError::into_inner).put(key, parsed.clone());
        Ok(parsed)
    }

    fn locate(&self, index: u64) -> Result<Location, MediaError> {
        let table = self.first_chunk.partition_point(|&f| f <= index).saturating_sub(1);
        let t = self.tables.get(table).ok_or_else(|| MediaError::corrupt(format!("EWF chunk {index} has no table")))?;
        let entries = self.table_entries(table)?;
        let at = usize::try_from(index - self.first_chunk.get(table).copied().unwrap_or(0)).unwrap_or(usize::MAX);
        let entry =
            entries.get(at).copied().ok_or_else(|| MediaError::corrupt(format!("EWF chunk {index}: no entry")))?;
        let offset = t.base.saturating_add(u64::from(entry & !COMPRESSED));
        let end = match entries.get(at + 1) {
            Some(next) => t.base.saturating_add(u64::from(next & !COMPRESSED)),
            None => t.data_end,
        };
        if end <= offset {
            return Err(MediaError::corrupt(format!(
                "EWF chunk {index}: table entry {at} at offset {offset} is empty"
            )));
        }
        Ok(Location { segment: t.segment, offset, stored_len: end - offset, compressed: entry & COMPRESSED != 0 })
    }

    fn decode(&self, index: u64) -> Result<Vec<u8>, MediaError> {
        let loc = self.locate(index)?;
        let seg = self.segments.get(loc.segment).ok_or_else(|| MediaError::corrupt("EWF chunk names no segment"))?;
        let media_at = index.saturating_mul(self.chunk_size);
        let expected = self.chunk_size.min(self.media_size.saturating_sub(media_at));
        let where_ = format!("EWF chunk {index} (media offset {media_at}; {} at byte {})", seg.name, loc.offset);
        let max_stored = if loc.compressed { self.chunk_size.saturating_mul(2) + 1024 } else { expected + 4 };
        let mut stored = vec![0u8; self.limits.check_alloc(loc.stored_len.min(max_stored), "EWF chunk")?];
        read_exact_at(seg.data.as_ref(), loc.offset, &mut stored).map_err(|e| read_failed(&where_, e))?;
        let data =
            if loc.compressed { inflate(&stored, expected, &where_)? } else { check_raw(stored, expected, &where_)? };
        Ok(data)
    }
}

fn check_raw(mut stored: Vec<u8>, expected: u64, where_: &str) -> Result<Vec<u8>, MediaError> {
    let n = usize::try_from(expected).unwrap_or(usize::MAX);
    let Some(sum) = stored.get(n..n + 4) else {
        return Err(MediaError::corrupt(format!(
            "{where_}: {} stored bytes, expected {expected} and a 4-byte checksum",
            stored.len()
        )));
    };
    let sum = u32::from_le_bytes([sum[0], sum[1], sum[2], sum[3]]);
    stored.truncate(n);
    let computed = adler2::adler32_slice(&stored);
    if computed != sum {
        return Err(MediaError::corrupt(format!(
            "{where_}: checksum mismatch, stored Adler-32 {sum:#010x}, computed {computed:#010x}"
        )));
    }
    Ok(stored)
}

fn inflate(stored: &[u8], expected: u64, where_: &str) -> Result<Vec<u8>, MediaError> {
    let n = usize::try_from(expected).unwrap_or(usize::MAX);
    // One byte of headroom shows a chunk that inflates to more than it may.
    let mut out = vec![0u8; n + 1];
    let mut z = Decompress::new(true);
    let status = z.decompress(stored, &mut out, FlushDecompress::Finish);
    let produced = usize::try_from(z.total_out()).unwrap_or(usize::MAX);
    let consumed = usize::try_from(z.total_in()).unwrap_or(0);
    match status {
        Ok(Status::StreamEnd) if produced == n => {}
        Ok(_) => {
            return Err(MediaError::corrupt(format!(
                "{where_}: zlib stream inflates to {produced} bytes, expected {expected}"
            )));
        }
        Err(e) => return Err(MediaError::corrupt(format!("{where_}: checksum or zlib error: {e}"))),
    }
    out.truncate(n);
    // The zlib trailer (big-endian Adler-32) is checked here as well, so the
    // guarantee does not rest on the inflate backend's own check.
    let trailer = consumed.checked_sub(4).and_then(|s| stored.get(s..consumed));
    let sum = trailer.map(|t| u32::from_be_bytes([t[0], t[1], t[2], t[3]]));
    let computed = adler2::adler32_slice(&out);
    if sum != Some(computed) {
        return Err(MediaError::corrupt(format!(
            "{where_}: checksum mismatch, zlib Adler-32 {sum:08x?}, computed {computed:#010x}"
        )));
    }
    Ok(out)
}

impl ReadAt for EwfImage {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let mut done = 0usize;
        while done < buf.len() {
            let pos = offset.saturating_add(done as u64);
            if pos >= self.available {
                break;
            }
            if let Some(end) = self.hole_end(pos) {
                let n = usize::try_from(end - pos).unwrap_or(usize::MAX).min(buf.len() - done);
                buf[done..done + n].fill(0);
                done += n;
                continue;
            }
            let chunk = self.chunk(pos / self.chunk_size).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            let within = usize::try_from(pos % self.chunk_size).unwrap_or(usize::MAX);
            let avail = chunk.get(within..).unwrap_or_default();
            let n = avail.len().min(buf.len() - done);
            if n == 0 {
                break;
            }
            buf[done..done + n].copy_from_slice(&avail[..n]);
            done += n;
        }
        Ok(done)
    }

    fn size(&self) -> u64 {
        self.available
    }
}
