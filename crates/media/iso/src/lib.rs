//! ISO 9660 reader: owns parsing of CD/DVD images' volume descriptors and
//! directory trees, with Joliet names, Rock Ridge (SUSP/RRIP) POSIX
//! metadata, symlinks, device nodes and relocated directories, and
//! multi-extent files (including files over 4 GiB).
//!
//! One tree is chosen per open, deterministically: the primary tree with
//! Rock Ridge when it carries RR (the richest source: POSIX names, modes,
//! links, devices), else the Joliet tree when present, else the plain
//! primary tree. Each entry records the choice in its `iso9660.namespace`
//! attribute, and [`IsoFs::namespace`] reports it.
//!
//! ```no_run
//! use std::sync::Arc;
//! use exhibit_media_core::{FileAt, Limits};
//! let image = Arc::new(FileAt::open("disc.iso".as_ref()).unwrap());
//! let fs = exhibit_media_iso::open(image, &Limits::default()).unwrap();
//! fs.walk(&Limits::default(), &mut |e| {
//!     println!("{} {:?}", e.path.recorded().display, e.kind);
//!     Ok(())
//! })
//! .unwrap();
//! ```

mod build;
mod descriptor;
mod record;
mod susp;
mod walk;

use std::io;
use std::sync::Arc;

use exhibit_media_core::{BytesAt, FileSystem, FsEntry, Limits, MediaError, ReadAt, open_content, read_exact_at};

use descriptor::{Tree, read_descriptors};
use record::DirRecord;
use susp::{Susp, sp_skip};

/// Which directory tree and naming an open volume uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Namespace {
    /// Primary tree, ISO 9660 identifiers (version suffix dropped).
    Iso9660,
    /// Joliet supplementary tree, UCS-2 names.
    Joliet,
    /// Primary tree with Rock Ridge names and POSIX metadata.
    RockRidge,
}

impl Namespace {
    /// `iso9660`, `joliet` or `rock-ridge`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Iso9660 => "iso9660",
            Self::Joliet => "joliet",
            Self::RockRidge => "rock-ridge",
        }
    }
}

/// Which extensions an open may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IsoOptions {
    /// Use the Joliet tree when there is no Rock Ridge.
    pub joliet: bool,
    /// Use Rock Ridge on the primary tree when present.
    pub rock_ridge: bool,
}

impl Default for IsoOptions {
    fn default() -> Self {
        Self { joliet: true, rock_ridge: true }
    }
}

/// An opened ISO 9660 volume.
pub struct IsoFs {
    volume: Arc<dyn ReadAt>,
    tree: Tree,
    namespace: Namespace,
    susp_skip: usize,
}

impl IsoFs {
    /// The tree and naming this volume was opened with.
    pub fn namespace(&self) -> Namespace {
        self.namespace
    }
}

impl FileSystem for IsoFs {
    fn kind(&self) -> &'static str {
        "iso9660"
    }

    fn label(&self) -> Option<String> {
        self.tree.label.clone()
    }

    fn walk(
        &self,
        limits: &Limits,
        visit: &mut dyn FnMut(FsEntry) -> Result<(), MediaError>,
    ) -> Result<(), MediaError> {
        let _span = tracing::info_span!("iso9660.walk", namespace = self.namespace.as_str()).entered();
        walk::Walker::new(self, limits).run(visit)
    }

    fn volume(&self) -> Arc<dyn ReadAt> {
        self.volume.clone()
    }

    fn declared_size(&self) -> Option<u64> {
        Some(self.tree.declared).filter(|&d| d > 0)
    }
}

/// Whether `volume` carries an ISO 9660 volume descriptor at sector 16.
pub fn probe(volume: &dyn ReadAt) -> bool {
    descriptor::has_signature(volume)
}

/// Opens with Rock Ridge and Joliet enabled.
pub fn open(volume: Arc<dyn ReadAt>, limits: &Limits) -> Result<Box<dyn FileSystem>, MediaError> {
    open_with(volume, limits, IsoOptions::default())
}

/// Opens with the given extensions enabled.
pub fn open_with(
    volume: Arc<dyn ReadAt>,
    limits: &Limits,
    options: IsoOptions,
) -> Result<Box<dyn FileSystem>, MediaError> {
    Ok(Box::new(open_iso(volume, limits, options)?))
}

/// Opens and returns the concrete type (for [`IsoFs::namespace`]).
pub fn open_iso(volume: Arc<dyn ReadAt>, limits: &Limits, options: IsoOptions) -> Result<IsoFs, MediaError> {
    let _span = tracing::info_span!("iso9660.open", size = volume.size()).entered();
    let descriptors = read_descriptors(&*volume)?;
    let rr_skip = if options.rock_ridge { rock_ridge_skip(&*volume, &descriptors.primary, limits) } else { None };
    let (tree, namespace, susp_skip) = match (rr_skip, descriptors.joliet) {
        (Some(skip), _) => (descriptors.primary, Namespace::RockRidge, skip),
        (None, Some(joliet)) if options.joliet => (joliet, Namespace::Joliet, 0),
        _ => (descriptors.primary, Namespace::Iso9660, 0),
    };
    let root_at = u64::from(tree.root.lba) * tree.block_size;
    if root_at >= volume.size() {
        return Err(MediaError::corrupt(format!(
            "root directory at byte {root_at} lies beyond the medium's {} bytes",
            volume.size()
        )));
    }
    tracing::debug!(namespace = namespace.as_str(), label = ?tree.label, "iso9660: opened");
    Ok(IsoFs { volume, tree, namespace, susp_skip })
}

/// Up to 255 bytes at `offset` (one directory record at most), fewer at the end.
pub(crate) fn record_head(volume: &dyn ReadAt, offset: u64) -> Vec<u8> {
    let len = volume.size().saturating_sub(offset).min(255) as usize;
    let mut buf = vec![0u8; len];
    if read_exact_at(volume, offset, &mut buf).is_err() {
        buf.clear();
    }
    buf
}

/// The SUSP skip length when the primary root's `.` record announces SUSP
/// (SP) or, for writers that omit SP, already carries Rock Ridge entries.
fn rock_ridge_skip(volume: &dyn ReadAt, primary: &Tree, limits: &Limits) -> Option<usize> {
    let head = record_head(volume, u64::from(primary.root.lba) * primary.block_size);
    let dot = DirRecord::parse(&head).filter(DirRecord::is_dot_or_dotdot)?;
    if let Some(skip) = sp_skip(dot.system_use) {
        return Some(skip);
    }
    let susp = Susp { volume, block_size: primary.block_size, skip: 0 };
    let rr = susp.parse(dot.system_use, limits).ok()?;
    (rr.posix.is_some() || rr.name.is_some()).then_some(0)
}

/// Opens `data` every way and reads every entry's content, ignoring errors
/// (for cargo-fuzz).
pub fn fuzz_one(data: &[u8]) {
    let volume: Arc<dyn ReadAt> = Arc::new(BytesAt::new(data.to_vec()));
    let limits = Limits { max_alloc: 16 << 20, ..Limits::default() };
    let ways = [
        IsoOptions::default(),
        IsoOptions { joliet: true, rock_ridge: false },
        IsoOptions { joliet: false, rock_ridge: false },
    ];
    for options in ways {
        let Ok(fs) = open_with(volume.clone(), &limits, options) else { continue };
        let _ = fs.walk(&limits, &mut |entry| {
            if entry.has_content() {
                let _ = io::copy(&mut open_content(volume.clone(), &entry), &mut io::sink());
            }
            Ok(())
        });
    }
}
