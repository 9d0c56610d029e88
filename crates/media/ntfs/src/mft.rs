//! The master file table: finds it from the boot sector and reads records
//! by number through its own data runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use exhibit_media_core::{Extent, Limits, MediaError, ReadAt, read_exact_at};

use crate::record::{self, Body, Record, ty};
use crate::runs;

/// Largest file or index record accepted (real volumes use 1-4 KiB).
pub(crate) const MAX_RECORD_SIZE: u64 = 64 * 1024;

/// Volume geometry from the boot sector.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Geometry {
    pub cluster_size: u64,
    pub total_clusters: u64,
    pub record_size: u64,
    pub mft_offset: u64,
}

/// The MFT: where its records are and how many it holds.
pub(crate) struct Mft {
    pub volume: Arc<dyn ReadAt>,
    pub geo: Geometry,
    extents: Vec<Extent>,
    pub count: u64,
    /// Bytes compressed streams may still decode to on this volume.
    decode_budget: AtomicU64,
}

impl Mft {
    /// Reads record 0 at the boot sector's MFT position and maps `$MFT`.
    pub fn open(volume: Arc<dyn ReadAt>, geo: Geometry, limits: &Limits) -> Result<Self, MediaError> {
        let buf = read_record_at(&*volume, geo.mft_offset, geo.record_size, 0, limits)?;
        let rec = record::parse(&buf, 0, geo.mft_offset)?;
        let data = rec
            .of_type(ty::DATA)
            .find(|a| a.name.is_empty())
            .ok_or_else(|| MediaError::corrupt(format!("$MFT record at byte {} has no $DATA", geo.mft_offset)))?;
        let Body::NonResident(nr) = &data.body else {
            return Err(MediaError::corrupt(format!("$MFT $DATA at byte {} is resident", geo.mft_offset)));
        };
        let runs = runs::decode(&nr.mapping_pairs, nr.lowest_vcn, geo.total_clusters, nr.pairs_at)?;
        let size = nr.data_size.min(volume.size());
        let extents = runs::extents(&runs, geo.cluster_size, size, size);
        let mapped: u64 = extents.iter().map(|e| e.len).sum();
        let count = mapped / geo.record_size;
        let decode_budget = AtomicU64::new(volume.size().saturating_mul(limits.max_expansion_ratio));
        Ok(Self { volume, geo, extents, count, decode_budget })
    }

    /// Takes `bytes` from the volume's decode budget, if that many are left.
    pub fn take_decode_budget(&self, bytes: u64) -> bool {
        self.decode_budget.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| left.checked_sub(bytes)).is_ok()
    }

    /// Reads and fixes up record `number`, returning its raw bytes.
    pub fn raw(&self, number: u64, limits: &Limits) -> Result<(Vec<u8>, u64), MediaError> {
        if number >= self.count {
            return Err(MediaError::corrupt(format!("MFT record {number} is past the MFT's {} records", self.count)));
        }
        let size = limits.check_alloc(self.geo.record_size, "MFT record")?;
        let mut buf = vec![0u8; size];
        let start = number * self.geo.record_size;
        let at = self.read(start, &mut buf)?;
        Ok((buf, at))
    }

    /// Reads, fixes up and parses record `number`.
    pub fn record(&self, number: u64, limits: &Limits) -> Result<Record, MediaError> {
        let (mut buf, at) = self.raw(number, limits)?;
        if !record::has_signature(&buf) {
            return Err(MediaError::corrupt(format!("MFT record {number} at byte {at}: no FILE signature")));
        }
        record::fixup(&mut buf, at, &format!("MFT record {number}"))?;
        record::parse(&buf, number, at)
    }

    /// Fills `buf` from MFT byte `pos`; returns the volume offset of its start.
    fn read(&self, pos: u64, buf: &mut [u8]) -> Result<u64, MediaError> {
        read_extents(&*self.volume, &self.extents, pos, buf, "$MFT")
    }
}

/// Fills `buf` from byte `pos` of a stream laid out as `extents`; returns the
/// volume offset of the first byte. Sparse parts read as zeros.
pub(crate) fn read_extents(
    volume: &dyn ReadAt,
    extents: &[Extent],
    mut pos: u64,
    mut buf: &mut [u8],
    what: &str,
) -> Result<u64, MediaError> {
    let mut first = None;
    while !buf.is_empty() {
        let e = extents
            .iter()
            .find(|e| e.file_offset <= pos && pos - e.file_offset < e.len)
            .ok_or_else(|| MediaError::corrupt(format!("{what}: byte {pos} is not mapped by its data runs")))?;
        let within = pos - e.file_offset;
        let n = usize::try_from(e.len - within).unwrap_or(usize::MAX).min(buf.len());
        let (now, rest) = buf.split_at_mut(n);
        match e.volume_offset {
            Some(base) => {
                let at = base + within;
                first.get_or_insert(at);
                read_exact_at(volume, at, now).map_err(|err| MediaError::io(format!("{what} at byte {at}"), err))?;
            }
            None => now.fill(0),
        }
        pos += n as u64;
        buf = rest;
    }
    Ok(first.unwrap_or(0))
}

/// Reads one record-sized block at a volume offset and fixes it up.
fn read_record_at(
    volume: &dyn ReadAt,
    at: u64,
    size: u64,
    number: u64,
    limits: &Limits,
) -> Result<Vec<u8>, MediaError> {
    let mut buf = vec![0u8; limits.check_alloc(size, "MFT record")?];
    read_exact_at(volume, at, &mut buf).map_err(|e| MediaError::io(format!("MFT record {number} at byte {at}"), e))?;
    record::fixup(&mut buf, at, &format!("MFT record {number}"))?;
    Ok(buf)
}
