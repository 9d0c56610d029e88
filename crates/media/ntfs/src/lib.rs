//! NTFS reader for exhibit: lists every entry of an NTFS volume (system
//! metafiles, allocated files and directories, alternate data streams,
//! deleted records) with timestamps, DOS attributes and the extents of its
//! data, never changing the volume.
//!
//! The boot sector is parsed by the `ntfs` crate; MFT records, attributes,
//! data runs and $I30 indexes are parsed here, by hand, because the `ntfs`
//! crate 0.4 indexes and slices unchecked on several hostile-input paths
//! (attribute header fields past a short attribute, index entries shorter
//! than their header, overflowing index sizes) and allocates index records
//! of any size the disk claims; this crate must never panic or over-allocate.
//!
//! ```no_run
//! use std::sync::Arc;
//! use exhibit_media_core::{FileAt, Limits, ReadAt};
//! let volume: Arc<dyn ReadAt> = Arc::new(FileAt::open("ntfs.img".as_ref())?);
//! let fs = exhibit_media_ntfs::open(volume, &Limits::default())?;
//! fs.walk(&Limits::default(), &mut |entry| {
//!     println!("{}", String::from_utf8_lossy(&entry.path.to_bytes()));
//!     Ok(())
//! })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod bytes;
mod compressed;
mod deleted;
mod entry;
mod index;
mod lznt1;
mod mft;
mod record;
mod runs;
mod values;
mod walk;

use std::io::Read;
use std::sync::Arc;

use exhibit_media_core::{BytesAt, FileSystem, Limits, MediaError, ReadAt, ReadSeekAt, open_content};

use crate::mft::{Geometry, MAX_RECORD_SIZE, Mft};
pub use crate::walk::NtfsFs;

/// Record number of $Volume.
const VOLUME: u64 = 3;

/// Whether the volume starts with an NTFS boot sector.
pub fn probe(volume: &dyn ReadAt) -> bool {
    let mut boot = [0u8; 512];
    exhibit_media_core::read_exact_at(volume, 0, &mut boot).is_ok()
        && boot.get(3..11) == Some(b"NTFS    ")
        && boot.get(510..512) == Some(&[0x55, 0xAA])
}

/// Opens an NTFS volume: boot sector, $MFT and the $Volume label.
pub fn open(volume: Arc<dyn ReadAt>, limits: &Limits) -> Result<Box<dyn FileSystem>, MediaError> {
    Ok(Box::new(open_ntfs(volume, limits)?))
}

/// [`open`], returning the concrete type.
pub fn open_ntfs(volume: Arc<dyn ReadAt>, limits: &Limits) -> Result<NtfsFs, MediaError> {
    let span = tracing::info_span!("ntfs.open", size = volume.size());
    let _guard = span.enter();
    if !probe(&*volume) {
        return Err(MediaError::not_recognised("no NTFS boot sector at byte 0 (OEM id \"NTFS\" and 0x55AA)"));
    }
    let geo = geometry(volume.clone())?;
    let mft = Mft::open(volume, geo, limits)?;
    let label = mft.record(VOLUME, limits).ok().and_then(|rec| {
        rec.resident(record::ty::VOLUME_NAME, &[]).map(|v| String::from_utf16_lossy(&bytes::utf16_units(v)))
    });
    Ok(NtfsFs { mft, label })
}

/// Volume geometry from the boot sector, checked against the medium.
fn geometry(volume: Arc<dyn ReadAt>) -> Result<Geometry, MediaError> {
    let size = volume.size();
    let boot = ntfs::Ntfs::new(&mut ReadSeekAt::new(volume))
        .map_err(|e| MediaError::corrupt(format!("NTFS boot sector at byte 0: {e}")))?;
    let record_size = u64::from(boot.file_record_size());
    if !(512..=MAX_RECORD_SIZE).contains(&record_size) || !record_size.is_power_of_two() {
        return Err(MediaError::unsupported(format!("NTFS boot sector at byte 0: file record size {record_size}")));
    }
    let mft_offset = boot.mft_position().value().map_or(0, |p| p.get());
    if mft_offset.checked_add(record_size).is_none_or(|end| end > size) {
        return Err(MediaError::corrupt(format!(
            "NTFS boot sector at byte 0: $MFT at byte {mft_offset} is past the volume end {size}"
        )));
    }
    let cluster_size = u64::from(boot.cluster_size());
    Ok(Geometry { cluster_size, total_clusters: boot.size() / cluster_size, record_size, mft_offset })
}

/// Opens `data` as a volume, walks it and reads every entry's content,
/// ignoring errors (for fuzzing: it must only never panic or hang).
pub fn fuzz_one(data: &[u8]) {
    let volume: Arc<dyn ReadAt> = Arc::new(BytesAt::new(data.to_vec()));
    let limits = Limits { max_alloc: 16 << 20, ..Limits::default() };
    let Ok(fs) = open(volume.clone(), &limits) else { return };
    let _ = fs.label();
    let mut budget = volume.size().saturating_mul(limits.max_expansion_ratio);
    let _ = fs.walk(&limits, &mut |entry| {
        if entry.has_content() {
            let mut reader = open_content(fs.volume(), &entry).take(budget);
            let read = std::io::copy(&mut reader, &mut std::io::sink()).unwrap_or(0);
            budget = budget.saturating_sub(read);
        }
        Ok(())
    });
}
