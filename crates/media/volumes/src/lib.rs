//! Partition tables of disk images: this crate owns reading MBR (with the
//! extended partition's EBR chain) and GPT (header and entry CRCs, backup
//! header, 512- and 4096-byte sectors), and telling a real MBR from the boot
//! sector of a partitionless "superfloppy".
//!
//! ```no_run
//! use std::sync::Arc;
//! use exhibit_media_core::{FileAt, Limits, ReadAt};
//! use exhibit_media_volumes::{VolumeSystem, partitions, slice};
//!
//! let disk: Arc<dyn ReadAt> = Arc::new(FileAt::open("disk.img".as_ref()).unwrap());
//! if let Ok(VolumeSystem::Mbr(parts) | VolumeSystem::Gpt(parts)) = partitions(&*disk, &Limits::default()) {
//!     for p in parts.iter().filter(|p| !p.container) {
//!         let _volume = slice(disk.clone(), p); // hand to a file-system probe
//!     }
//! }
//! ```
//!
//! Hand-written rather than on `mbrman`/`gpt`: both want a writable
//! `Read + Write + Seek`, and this reader must own EBR-loop detection, the
//! allocation limits and the backup-GPT fallback; MBR and GPT are small.

mod gpt;
mod mbr;
mod names;

use std::sync::Arc;

use exhibit_media_core::{Limits, MediaError, ReadAt, SliceAt, read_exact_at};

/// Which kind of table a partition came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// DOS/MBR, primary or logical (EBR chain).
    Mbr,
    /// GUID Partition Table.
    Gpt,
}

/// One partition as its table records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partition {
    /// Linux-style number: MBR primaries 1–4, logicals from 5; GPT entry + 1.
    pub index: u32,
    /// Table it came from.
    pub scheme: Scheme,
    /// Start on the disk, in bytes.
    pub start: u64,
    /// Length in bytes, as recorded (may reach past the end of a truncated image).
    pub len: u64,
    /// `0x0c` style MBR type, or the GPT type GUID in upper case.
    pub type_id: String,
    /// A human name for the type, when known.
    pub type_name: Option<String>,
    /// GPT partition name.
    pub name: Option<String>,
    /// GPT unique partition GUID.
    pub guid: Option<String>,
    /// MBR boot flag (0x80).
    pub bootable: bool,
    /// An extended partition entry itself (holds logicals, not a file system).
    pub container: bool,
}

/// What partitioning a disk has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VolumeSystem {
    /// No partition table: the disk is one volume (a superfloppy or a bare file system).
    None,
    /// An MBR: primaries, the extended container, and every logical partition.
    Mbr(Vec<Partition>),
    /// A GPT (the protective MBR is not listed).
    Gpt(Vec<Partition>),
}

/// Reads the partition table of `disk`.
pub fn partitions(disk: &dyn ReadAt, limits: &Limits) -> Result<VolumeSystem, MediaError> {
    let span = tracing::info_span!("partitions", size = disk.size());
    let _enter = span.enter();
    let mut sector = [0u8; 512];
    if disk.size() < 512 {
        return Ok(VolumeSystem::None);
    }
    read_exact_at(disk, 0, &mut sector).map_err(|e| MediaError::io("MBR at byte 0", e))?;
    match mbr::classify(&sector, disk.size()) {
        mbr::Classified::NoTable => Ok(VolumeSystem::None),
        mbr::Classified::Protective => gpt::read(disk, limits).map(VolumeSystem::Gpt),
        mbr::Classified::Table(entries) => mbr::read(disk, &entries, limits).map(VolumeSystem::Mbr),
    }
}

/// The bytes of partition `p` on `disk`, clipped to the disk's end.
pub fn slice(disk: Arc<dyn ReadAt>, p: &Partition) -> SliceAt {
    SliceAt::new(disk, p.start, p.len)
}

/// Fuzzing entry: parses `data` as a disk and reads a little of every partition.
pub fn fuzz_one(data: &[u8]) {
    let disk: Arc<dyn ReadAt> = Arc::new(exhibit_media_core::BytesAt::new(data.to_vec()));
    let limits = Limits { max_alloc: 16 << 20, ..Limits::default() };
    if let Ok(VolumeSystem::Mbr(parts) | VolumeSystem::Gpt(parts)) = partitions(&*disk, &limits) {
        for p in &parts {
            let mut buf = [0u8; 512];
            let _ = slice(disk.clone(), p).read_at(0, &mut buf);
        }
    }
}

pub(crate) fn read_sector(disk: &dyn ReadAt, offset: u64, buf: &mut [u8], what: &str) -> Result<(), MediaError> {
    read_exact_at(disk, offset, buf).map_err(|e| MediaError::io(format!("{what} at byte {offset}"), e))
}
