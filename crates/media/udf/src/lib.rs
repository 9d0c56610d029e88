//! UDF reader for exhibit: owns everything about Universal Disk Format
//! volumes (UDF 1.02 to 2.60, as on DVDs, BDs and packet-written discs).
//!
//! It reads the Volume Recognition Sequence, the anchor at sector 256 (or
//! N-256, N), the volume descriptors, Type 1, sparable, virtual (VAT) and
//! metadata partitions, then walks File Identifier Descriptors and (Extended)
//! File Entries, deleted ones included, yielding each entry's extents without
//! reading its data. Every descriptor's tag checksum and CRC are verified.
//!
//! ```no_run
//! use std::sync::Arc;
//! use exhibit_media_core::{FileAt, Limits, ReadAt};
//! let image: Arc<dyn ReadAt> = Arc::new(FileAt::open("disc.iso".as_ref())?);
//! if exhibit_media_udf::probe(&*image) {
//!     let fs = exhibit_media_udf::open(image, &Limits::default())?;
//!     fs.walk(&Limits::default(), &mut |e| Ok(println!("{:?}", e.path.recorded().display)))?;
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod dir;
mod entry;
mod icb;
mod names;
mod partition;
mod resolve;
mod tag;
mod time;
mod volume;
mod walk;

use std::io::{self, Read};
use std::sync::Arc;

use exhibit_media_core::{BytesAt, FileSystem, FsEntry, Limits, MediaError, ReadAt, open_content, read_exact_at};

use crate::icb::LbAddr;
use crate::partition::Partitions;

/// A parsed UDF logical volume.
pub struct UdfFs {
    volume: Arc<dyn ReadAt>,
    parts: Partitions,
    root: LbAddr,
    label: Option<String>,
}

/// Whether `volume` carries a UDF Volume Recognition Sequence (NSR02/NSR03).
pub fn probe(volume: &dyn ReadAt) -> bool {
    volume::has_nsr(volume)
}

/// Opens the UDF logical volume on `volume`.
pub fn open(volume: Arc<dyn ReadAt>, limits: &Limits) -> Result<Box<dyn FileSystem>, MediaError> {
    let _span = tracing::info_span!("udf.open", size = volume.size()).entered();
    if !probe(&*volume) {
        return Err(MediaError::not_recognised("no UDF NSR02/NSR03 descriptor in the Volume Recognition Sequence"));
    }
    let (sector_size, vds) = volume::find_anchor(&*volume)?;
    let d = volume::read_descriptors(&*volume, sector_size, vds)?;
    if d.block_size != sector_size {
        return Err(MediaError::unsupported(format!(
            "logical block size {} differs from the {sector_size}-byte sector size",
            d.block_size
        )));
    }
    let (mut parts, deferred, sparing) = partition::parse_maps(&d, volume.size())?;
    resolve::resolve(&volume, &mut parts, &deferred, &sparing, limits)?;
    let root = root_icb(&*volume, &parts, &d.fsd)?;
    let label = d.label.as_deref().map(names::display);
    tracing::debug!(sector_size, maps = parts.maps.len(), ?label, "udf: opened");
    Ok(Box::new(UdfFs { volume, parts, root, label }))
}

/// The root directory ICB named by the File Set Descriptor.
fn root_icb(volume: &dyn ReadAt, parts: &Partitions, fsd: &[u8; 16]) -> Result<LbAddr, MediaError> {
    let (_, addr) = icb::long_ad(fsd, 0, 0)?;
    let (at, _) = parts.block_run(addr.part, addr.lbn)?;
    let mut buf = vec![0u8; parts.block_size as usize];
    read_exact_at(volume, at, &mut buf).map_err(|e| MediaError::io(format!("file set descriptor at byte {at}"), e))?;
    tag::expect(&buf, tag::FSD, "file set descriptor", at)?;
    Ok(icb::long_ad(&buf, 400, at)?.1)
}

impl FileSystem for UdfFs {
    fn kind(&self) -> &'static str {
        "udf"
    }

    fn label(&self) -> Option<String> {
        self.label.clone()
    }

    fn walk(
        &self,
        limits: &Limits,
        visit: &mut dyn FnMut(FsEntry) -> Result<(), MediaError>,
    ) -> Result<(), MediaError> {
        let _span = tracing::info_span!("udf.walk", label = ?self.label).entered();
        walk::Walker::new(self, limits).run(visit)
    }

    fn volume(&self) -> Arc<dyn ReadAt> {
        self.volume.clone()
    }
}

/// Opens `data` as UDF, walks it and reads every entry's content, ignoring
/// errors: the body of the fuzz targets.
pub fn fuzz_one(data: &[u8]) {
    let limits = Limits { max_alloc: 16 << 20, max_entries: 10_000, max_dir_entries: 10_000, ..Limits::default() };
    let volume: Arc<dyn ReadAt> = Arc::new(BytesAt::new(data.to_vec()));
    let Ok(fs) = open(volume.clone(), &limits) else { return };
    let _ = fs.walk(&limits, &mut |entry| {
        let _ = io::copy(&mut open_content(volume.clone(), &entry).take(64 << 20), &mut io::sink());
        Ok(())
    });
}
