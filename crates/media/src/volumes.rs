//! Finding and opening every volume on a medium.

use std::sync::Arc;

use exhibit_media_core::{FileSystem, Limits, MediaError, ReadAt, SliceAt};
use exhibit_media_volumes::{Partition, VolumeSystem};
use tracing::{debug, info_span};

/// Where a volume sits on its medium.
#[derive(Debug, Clone)]
pub struct VolumePlace {
    /// Its partition entry, `None` for a whole unpartitioned medium.
    pub partition: Option<Partition>,
    /// Byte offset on the medium.
    pub offset: u64,
    /// Length in bytes.
    pub len: u64,
}

/// A volume whose file system opened.
pub struct OpenedVolume {
    /// Where it is.
    pub place: VolumePlace,
    /// Its file system.
    pub fs: Box<dyn FileSystem>,
}

/// A volume that holds no file system exhibit reads, or a damaged one.
#[derive(Debug)]
pub struct VolumeFailure {
    /// Where it is.
    pub place: VolumePlace,
    /// Why it was not opened.
    pub error: MediaError,
}

/// Opens the file system on a volume, trying each reader whose signature
/// matches. `None` when no signature matches.
pub fn open_filesystem(volume: Arc<dyn ReadAt>, limits: &Limits) -> Option<Result<Box<dyn FileSystem>, MediaError>> {
    let v = volume.as_ref();
    let opened = if exhibit_media_ntfs::probe(v) {
        exhibit_media_ntfs::open(volume, limits)
    } else if exhibit_media_fat::probe_exfat(v) {
        exhibit_media_fat::open_exfat(volume, limits)
    } else if exhibit_media_fat::probe_fat(v) {
        exhibit_media_fat::open_fat(volume, limits)
    } else if exhibit_media_ext::probe(v) {
        exhibit_media_ext::open(volume, limits)
    } else if exhibit_media_udf::probe(v) {
        exhibit_media_udf::open(volume, limits)
    } else if exhibit_media_iso::probe(v) {
        exhibit_media_iso::open(volume, limits)
    } else {
        return None;
    };
    Some(opened)
}

/// Every volume on `medium`: the partitions of its MBR or GPT, or the whole
/// medium. Optical images are read whole even when a hybrid MBR is present.
pub fn open_volumes(medium: Arc<dyn ReadAt>, limits: &Limits) -> Vec<Result<OpenedVolume, Box<VolumeFailure>>> {
    let _span = info_span!("open_volumes", size = medium.size()).entered();
    let whole = VolumePlace { partition: None, offset: 0, len: medium.size() };
    let optical = exhibit_media_udf::probe(medium.as_ref()) || exhibit_media_iso::probe(medium.as_ref());
    let partitions =
        if optical { Ok(VolumeSystem::None) } else { exhibit_media_volumes::partitions(medium.as_ref(), limits) };
    let places: Vec<VolumePlace> = match partitions {
        Ok(VolumeSystem::None) => vec![whole],
        Ok(VolumeSystem::Mbr(parts) | VolumeSystem::Gpt(parts)) => parts
            .into_iter()
            .filter(|p| !p.container)
            .map(|p| VolumePlace { offset: p.start, len: p.len, partition: Some(p) })
            .collect(),
        Err(error) => return vec![Err(Box::new(VolumeFailure { place: whole, error }))],
    };
    places.into_iter().map(|place| open_place(&medium, place, limits)).collect()
}

fn open_place(
    medium: &Arc<dyn ReadAt>,
    place: VolumePlace,
    limits: &Limits,
) -> Result<OpenedVolume, Box<VolumeFailure>> {
    let slice: Arc<dyn ReadAt> = Arc::new(SliceAt::new(medium.clone(), place.offset, place.len));
    match open_filesystem(slice, limits) {
        Some(Ok(fs)) => {
            debug!(offset = place.offset, kind = fs.kind(), "volume opened");
            Ok(OpenedVolume { place, fs })
        }
        Some(Err(error)) => Err(Box::new(VolumeFailure { place, error })),
        None => Err(Box::new(VolumeFailure {
            place,
            error: MediaError::not_recognised("no file system exhibit reads was found on this volume"),
        })),
    }
}
