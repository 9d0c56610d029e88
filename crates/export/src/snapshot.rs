//! What an export is made from: the case's records as read from the store
//! (manifests, ledger entries and anchors, as stored bytes) and a way to
//! read artefact content. The caller reads them; this crate never opens
//! the store.

use std::io::Read;

use exhibit_core::event::CustodyEvent;
use exhibit_core::ids::{CaseId, ExhibitRef};
use exhibit_core::manifest::ArtefactManifest;

/// One artefact's manifest, parsed and as stored.
#[derive(Debug, Clone)]
pub struct StoredManifest {
    /// The parsed manifest.
    pub manifest: ArtefactManifest,
    /// Its stored bytes, copied into the bag as they are.
    pub bytes: Vec<u8>,
}

/// One stored ledger entry or anchor, by sequence number.
#[derive(Debug, Clone)]
pub struct StoredRecord {
    /// The entry's sequence number (an anchor's: the entry it stamps).
    pub seq: u64,
    /// The stored bytes.
    pub bytes: Vec<u8>,
}

/// Everything an export writes, but the content.
#[derive(Debug, Clone)]
pub struct CaseSnapshot {
    /// The case.
    pub case: CaseId,
    /// The exhibit exported, or `None` for the whole case.
    pub exhibit: Option<ExhibitRef>,
    /// The exported artefacts (only those of `exhibit` when it is set).
    pub artefacts: Vec<StoredManifest>,
    /// Every ledger entry of the case (the whole chain, whatever
    /// `exhibit` is: a chain with gaps cannot be checked).
    pub ledger: Vec<StoredRecord>,
    /// The parsed events of `ledger`, with their sequence numbers.
    pub events: Vec<(u64, CustodyEvent)>,
    /// Every RFC 3161 anchor of the case.
    pub anchors: Vec<StoredRecord>,
    /// The ledger's head: sequence number and body SHA-256.
    pub head: Option<(u64, String)>,
    /// The integrity report (`exhibit verify --report`), when one is given.
    pub report: Option<Vec<u8>>,
    /// The DFXML listing of each exhibit's images (every entry found,
    /// extracted or not), as files to copy in: they can be large.
    pub listings: Vec<(ExhibitRef, std::path::PathBuf)>,
}

/// Who made the export and for whom: the `bag-info.txt` facts that are
/// not in the case records.
#[derive(Debug, Clone)]
pub struct ExportFacts {
    /// The person exporting.
    pub operator: String,
    /// The organisation the case comes from.
    pub organisation: Option<String>,
    /// When, UTC.
    pub at: time::OffsetDateTime,
    /// This tool and version, e.g. `exhibit 0.1.0`.
    pub software: String,
}

/// Reads artefact content, the one way `exhibit get` does.
pub trait ContentSource: Sync {
    /// Opens the artefact's content. The reader must fail (with
    /// [`std::io::ErrorKind::InvalidData`]) before or at its end when the
    /// bytes are not the SHA-256 `artefact.digests.sha256`: the bag's
    /// SHA-256 manifest is taken from that check, not computed again.
    fn open(&self, artefact: &ArtefactManifest) -> std::io::Result<Box<dyn Read + Send>>;
}
