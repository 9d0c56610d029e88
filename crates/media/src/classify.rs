//! What kind of medium a stored file is, from content signatures.

use exhibit_media_core::{Limits, ReadAt, read_exact_at};
use exhibit_media_volumes::VolumeSystem;

/// A medium exhibit can open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediumClass {
    /// An Expert Witness (E01) segment.
    Ewf,
    /// A CD cue sheet naming `.bin` files.
    CueSheet,
    /// An optical disc image (ISO 9660 or UDF).
    OpticalImage,
    /// A disk image with a partition table, or a bare file system.
    DiskImage,
}

impl MediumClass {
    /// MIME type recorded for this class.
    pub fn mime(self) -> &'static str {
        match self {
            Self::Ewf => "application/x-ewf",
            Self::CueSheet => "application/x-cue",
            Self::OpticalImage => "application/x-iso9660-image",
            Self::DiskImage => "application/x-raw-disk-image",
        }
    }

    /// The class whose MIME type this is.
    pub fn from_mime(mime: &str) -> Option<Self> {
        [Self::Ewf, Self::CueSheet, Self::OpticalImage, Self::DiskImage].into_iter().find(|c| c.mime() == mime)
    }

    /// Usual extension.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Ewf => "E01",
            Self::CueSheet => "cue",
            Self::OpticalImage => "iso",
            Self::DiskImage => "img",
        }
    }
}

/// Whether the medium starts like an EWF-E01 segment.
pub fn is_ewf(medium: &dyn ReadAt) -> bool {
    let mut head = [0u8; 8];
    read_exact_at(medium, 0, &mut head).is_ok() && head == exhibit_media_sources::EVF_SIGNATURE
}

/// Whether the medium is a small text file that parses as a cue sheet.
pub fn is_cue_sheet(medium: &dyn ReadAt) -> bool {
    let size = medium.size();
    if size == 0 || size > exhibit_media_sources::MAX_CUE_BYTES {
        return false;
    }
    let mut text = vec![0u8; usize::try_from(size).unwrap_or(0)];
    read_exact_at(medium, 0, &mut text).is_ok() && !text.contains(&0) && exhibit_media_sources::is_cue_sheet_text(&text)
}

/// Classifies a medium, or `None` when it is not one exhibit opens.
pub fn classify(medium: &dyn ReadAt) -> Option<MediumClass> {
    if is_ewf(medium) {
        return Some(MediumClass::Ewf);
    }
    if is_cue_sheet(medium) {
        return Some(MediumClass::CueSheet);
    }
    if exhibit_media_udf::probe(medium) || exhibit_media_iso::probe(medium) {
        return Some(MediumClass::OpticalImage);
    }
    let table = matches!(
        exhibit_media_volumes::partitions(medium, &Limits::default()),
        Ok(VolumeSystem::Mbr(_) | VolumeSystem::Gpt(_))
    );
    let disk = table
        || exhibit_media_ntfs::probe(medium)
        || exhibit_media_fat::probe_exfat(medium)
        || exhibit_media_fat::probe_fat(medium)
        || exhibit_media_ext::probe(medium);
    disk.then_some(MediumClass::DiskImage)
}
