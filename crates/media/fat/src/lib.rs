//! FAT12/16/32 and exFAT readers for exhibit, deleted entries included.
//!
//! This crate owns the parsing of FAT-family volumes (USB sticks, memory
//! cards, floppies, superfloppies and partitions sliced out by the volumes
//! crate). Both readers are hand-written: `fatfs` cannot list deleted entries
//! and the `exfat` crate is thin and has no timestamps. Every structure read
//! from the medium is validated against the medium size and [`Limits`];
//! directories are walked iteratively with loop detection; problems are
//! reported as typed [`MediaError`]s after the rest of the volume was listed.
//!
//! Deleted entries are listed with `allocated: false` and a [`Recovery`]:
//! the data is assumed contiguous from the start cluster (as sleuthkit does)
//! and is recoverable while those clusters are still free. Such an entry keeps
//! its declared `size`, but its extents cover only
//! `recovery.recoverable_bytes`; read exactly that many bytes.
//!
//! ```no_run
//! use std::sync::Arc;
//! use exhibit_media_core::{FileAt, Limits, ReadAt};
//!
//! let image: Arc<dyn ReadAt> = Arc::new(FileAt::open("stick.img".as_ref())?);
//! let limits = Limits::default();
//! let fs = exhibit_media_fat::open(image, &limits)?;
//! fs.walk(&limits, &mut |entry| {
//!     println!("{} deleted={}", entry.path.recorded().display, !entry.allocated);
//!     Ok(())
//! })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`Recovery`]: exhibit_media_core::Recovery

mod cache;
mod chain;
mod dirstream;
pub mod exfat;
pub mod fat;
mod util;
mod walk;

use std::io::Read;
use std::sync::Arc;

use exhibit_media_core::{BytesAt, FileSystem, Limits, MediaError, ReadAt, open_content};

pub use exfat::{ExfatFs, open_exfat, probe_exfat};
pub use fat::{FatFs, FatKind, open_fat, probe_fat};

/// Which reader a volume needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// FAT12, FAT16 or FAT32.
    Fat,
    /// exFAT.
    Exfat,
}

/// The format `volume` looks like, from its boot sector alone.
pub fn detect(volume: &dyn ReadAt) -> Option<Kind> {
    if probe_exfat(volume) {
        Some(Kind::Exfat)
    } else if probe_fat(volume) {
        Some(Kind::Fat)
    } else {
        None
    }
}

/// Whether `volume` holds FAT12/16/32 or exFAT.
pub fn probe(volume: &dyn ReadAt) -> bool {
    detect(volume).is_some()
}

/// Opens `volume` with the reader its boot sector names.
pub fn open(volume: Arc<dyn ReadAt>, limits: &Limits) -> Result<Box<dyn FileSystem>, MediaError> {
    match detect(volume.as_ref()) {
        Some(Kind::Exfat) => open_exfat(volume, limits),
        Some(Kind::Fat) => open_fat(volume, limits),
        None => Err(MediaError::not_recognised("no FAT or exFAT boot sector at byte 0")),
    }
}

/// Fuzz entry: opens `data` as both formats, walks fully and reads every
/// entry's content (recoverable bytes for deleted ones), ignoring errors.
/// Total bytes read are capped at `max_expansion_ratio` times the input.
pub fn fuzz_one(data: &[u8]) {
    let volume: Arc<dyn ReadAt> = Arc::new(BytesAt::new(data.to_vec()));
    let limits = Limits { max_alloc: 16 << 20, max_entries: 100_000, ..Limits::default() };
    let mut budget = (data.len() as u64).saturating_mul(limits.max_expansion_ratio).max(1 << 20);
    for fs in [open_fat(volume.clone(), &limits), open_exfat(volume.clone(), &limits)].into_iter().flatten() {
        let _ = fs.walk(&limits, &mut |entry| {
            let want = if entry.allocated { entry.size } else { entry.recovery.map_or(0, |r| r.recoverable_bytes) };
            let take = want.min(budget);
            if entry.has_content() && take > 0 {
                let mut reader = open_content(fs.volume(), &entry).take(take);
                let copied = std::io::copy(&mut reader, &mut std::io::sink()).unwrap_or(0);
                budget = budget.saturating_sub(copied.max(1));
            }
            Ok(())
        });
    }
}
