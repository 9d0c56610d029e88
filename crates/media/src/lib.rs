//! Every media reader of exhibit behind one door.
//!
//! [`classify`] tells what a stored original is (an E01, a cue sheet, an
//! optical image, a partitioned disk, a bare file system) from its content.
//! [`open_volumes`] finds every volume on a medium (partitions, or the
//! whole medium when it has no table) and opens the file system on each.
//!
//! The readers themselves live in sibling crates, one per format family, so
//! a change to one recompiles little:
//! `exhibit-media-{sources,volumes,iso,udf,fat,ntfs,ext}`.

mod classify;
mod volumes;

pub use classify::{MediumClass, classify, is_cue_sheet, is_ewf};
pub use exhibit_media_core::*;
pub use exhibit_media_sources as sources;
pub use volumes::{OpenedVolume, VolumeFailure, VolumePlace, open_filesystem, open_volumes};
