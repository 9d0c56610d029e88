//! Exports of a case for people who do not run exhibit: a BagIt bag
//! (RFC 8493) that carries the payload, the signed ledger, its anchors and
//! a `verify.sh` that checks all of it with stock tools; and CASE/UCO
//! JSON-LD for forensic tools.
//!
//! This crate owns the bag layout, safe names for files found inside
//! images, the offline checker, and the CASE/UCO mapping. It never opens
//! the store: the caller hands it a [`CaseSnapshot`] and a
//! [`ContentSource`] (the same reader `exhibit get` uses).
//!
//! ```no_run
//! # fn demo(snapshot: exhibit_export::CaseSnapshot, facts: exhibit_export::ExportFacts, source: &dyn exhibit_export::ContentSource) -> Result<(), exhibit_export::ExportError> {
//! let summary = exhibit_export::export_bag("/media/out/bag".as_ref(), &snapshot, &facts, source, 2)?;
//! println!("{} files, {} bytes", summary.files, summary.bytes);
//! # Ok(()) }
//! ```

mod bag;
mod bag_paths;
mod case_uco;
mod case_uco_nodes;
mod error;
mod layout;
mod payload;
mod safe_name;
mod snapshot;
mod tags;

use std::path::Path;

use tracing::info_span;

pub use bag::{BagFile, BagWriter, manifest_path};
pub use bag_paths::{BagPaths, MAX_PATH_BYTES};
pub use case_uco::{CASE_VERSION, case_uco_document};
pub use error::{ExportError, ExportErrorKind};
pub use safe_name::{MAX_COMPONENT_BYTES, safe_component};
pub use snapshot::{CaseSnapshot, ContentSource, ExportFacts, StoredManifest, StoredRecord};
pub use tags::{VERIFY_SH, VERIFYING_MD};

/// What a finished bag holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BagSummary {
    /// Payload files.
    pub files: u64,
    /// Payload bytes.
    pub bytes: u64,
    /// SHA-256 of the bag's `manifest-sha256.txt`, for the ledger.
    pub manifest_sha256: String,
}

/// Writes the bag for `snapshot` into `dir` (missing, or an empty folder),
/// copying content with `workers` threads. An artefact that cannot be read
/// or fails its hash check leaves the bag unfinished (no manifests) and is
/// named in [`ExportError::Incomplete`].
pub fn export_bag(
    dir: &Path,
    snapshot: &CaseSnapshot,
    facts: &ExportFacts,
    source: &dyn ContentSource,
    workers: usize,
) -> Result<BagSummary, ExportError> {
    let _span = info_span!("export_bag", case = %snapshot.case, dir = %dir.display()).entered();
    let mut bag = BagWriter::create(dir)?;
    let placed = layout::place_artefacts(&snapshot.artefacts);
    let (files, mut failures) = payload::copy_payload(&bag, &snapshot.artefacts, &placed, source, workers);
    if !failures.is_empty() {
        let failed = failures.len();
        return Err(ExportError::Incomplete { failed, first: Box::new(failures.swap_remove(0)) });
    }
    for file in &files {
        bag.add_payload(file.clone());
    }
    tags::write_tags(&mut bag, snapshot, &placed)?;
    let info = tags::bag_info(snapshot, facts, &files);
    bag.finish(&info)?;
    let manifest = std::fs::read(dir.join("manifest-sha256.txt")).map_err(|e| ExportError::io(dir, e))?;
    Ok(BagSummary {
        files: files.len() as u64,
        bytes: files.iter().map(|f| f.size).sum(),
        manifest_sha256: exhibit_core::Sha256Digest::of(&manifest).to_hex(),
    })
}
