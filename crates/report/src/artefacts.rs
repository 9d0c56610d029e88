//! The artefact table: every artefact the ledger defines, with what its
//! manifest says when that manifest is the one the ledger recorded. A
//! manifest with any other SHA-256 is reported as altered and none of its
//! contents are used, since anyone who can write the store can rewrite it.

use std::collections::{BTreeMap, BTreeSet};

use exhibit_core::digest::{Digests, Sha256Digest};
use exhibit_core::event::{Action, CustodyEvent};
use exhibit_core::ids::{ArtefactId, ExhibitRef};
use exhibit_core::manifest::{ArtefactKind, ArtefactManifest};
use serde_json::Value;

use crate::model::{ArtefactRow, ManifestState};

/// Longest lineage followed; deeper chains (or loops) are cut there.
const MAX_LINEAGE: usize = 32;

/// A manifest as stored, not yet trusted.
#[derive(Debug, Clone)]
pub struct StoredManifest {
    /// The artefact it is stored under.
    pub id: ArtefactId,
    /// Its bytes.
    pub bytes: Vec<u8>,
}

/// A manifest whose SHA-256 the ledger recorded, with its raw JSON (for
/// fields newer than this build, such as the PRONOM PUID).
pub(crate) struct TrustedManifest {
    pub manifest: ArtefactManifest,
    pub raw: Value,
}

/// One artefact as the ledger defines it.
struct Defined {
    exhibit: Option<ExhibitRef>,
    sha256: Sha256Digest,
    size: u64,
    manifests: BTreeSet<Sha256Digest>,
}

/// Entries that read an artefact name it but do not define it.
fn defines(action: Action) -> bool {
    !matches!(action, Action::Accessed | Action::Verified | Action::Exported)
}

/// The artefacts of the case, keyed and trusted.
pub(crate) struct ArtefactIndex {
    order: Vec<ArtefactId>,
    defined: BTreeMap<ArtefactId, Defined>,
    pub trusted: BTreeMap<ArtefactId, TrustedManifest>,
    stored: BTreeSet<ArtefactId>,
}

impl ArtefactIndex {
    pub fn build(entries: &[(u64, CustodyEvent)], manifests: Vec<StoredManifest>) -> Self {
        let mut order = Vec::new();
        let mut defined: BTreeMap<ArtefactId, Defined> = BTreeMap::new();
        for (_, event) in entries.iter().filter(|(_, e)| defines(e.action)) {
            let Some(a) = &event.artefact else { continue };
            let Some(id) = &a.id else { continue };
            let d = defined.entry(id.clone()).or_insert_with(|| {
                order.push(id.clone());
                Defined { exhibit: None, sha256: a.sha256, size: a.size, manifests: BTreeSet::new() }
            });
            if d.exhibit.is_none() {
                d.exhibit = event.exhibit.clone();
            }
            d.manifests.extend(a.manifest_sha256);
        }
        let mut trusted = BTreeMap::new();
        let mut stored = BTreeSet::new();
        for m in manifests {
            stored.insert(m.id.clone());
            let Some(d) = defined.get(&m.id) else { continue };
            if !d.manifests.contains(&Sha256Digest::of(&m.bytes)) {
                continue;
            }
            let (Ok(manifest), Ok(raw)) =
                (serde_json::from_slice::<ArtefactManifest>(&m.bytes), serde_json::from_slice::<Value>(&m.bytes))
            else {
                continue;
            };
            if manifest.id == m.id && manifest.digests.sha256 == d.sha256 {
                trusted.insert(m.id, TrustedManifest { manifest, raw });
            }
        }
        Self { order, defined, trusted, stored }
    }

    /// Exhibits in the order the ledger first names their artefacts.
    pub fn exhibits(&self) -> Vec<ExhibitRef> {
        let mut seen = BTreeSet::new();
        self.order
            .iter()
            .filter_map(|id| self.exhibit_of(id))
            .filter(|e| seen.insert(e.as_str().to_owned()))
            .cloned()
            .collect()
    }

    pub fn exhibit_of(&self, id: &ArtefactId) -> Option<&ExhibitRef> {
        match self.trusted.get(id) {
            Some(t) => Some(&t.manifest.exhibit),
            None => self.defined.get(id)?.exhibit.as_ref(),
        }
    }

    /// The rows of one exhibit, in ledger order.
    pub fn rows(&self, exhibit: &ExhibitRef) -> Vec<ArtefactRow> {
        self.order.iter().filter(|id| self.exhibit_of(id) == Some(exhibit)).filter_map(|id| self.row(id)).collect()
    }

    fn row(&self, id: &ArtefactId) -> Option<ArtefactRow> {
        let d = self.defined.get(id)?;
        let Some(t) = self.trusted.get(id) else {
            let manifest = if self.stored.contains(id) && !d.manifests.is_empty() {
                ManifestState::Altered
            } else {
                ManifestState::Missing
            };
            return Some(ArtefactRow {
                id: id.clone(),
                kind: None,
                name: String::new(),
                size: d.size,
                digests: Digests { sha256: d.sha256, md5: None, sha1: None },
                mime: None,
                puid: None,
                lineage: Vec::new(),
                flags: Vec::new(),
                manifest,
            });
        };
        let m = &t.manifest;
        Some(ArtefactRow {
            id: id.clone(),
            kind: Some(m.kind),
            name: self.name(id).unwrap_or_default(),
            size: d.size,
            digests: m.digests,
            mime: Some(m.media_type.mime.clone()),
            puid: puid(&t.raw),
            lineage: self.lineage(id),
            flags: m.flags.clone(),
            manifest: ManifestState::Recorded,
        })
    }

    /// The name a reader knows an artefact by.
    pub fn name(&self, id: &ArtefactId) -> Option<String> {
        let m = &self.trusted.get(id)?.manifest;
        Some(match (m.kind, &m.source, &m.inside, &m.derivation) {
            (_, Some(source), _, _) => source.path.display.clone(),
            (_, _, Some(inside), _) => match &inside.stream {
                Some(stream) => format!("{}:{}", inside.path.display, stream.display),
                None => inside.path.display.clone(),
            },
            (_, _, _, Some(d)) => format!("{} ({})", d.rule, m.media_type.mime),
            (ArtefactKind::Original | ArtefactKind::Extracted | ArtefactKind::Derivative, ..) => String::new(),
        })
    }

    /// Ancestors from the original down to the parent.
    fn lineage(&self, id: &ArtefactId) -> Vec<ArtefactId> {
        let mut chain = Vec::new();
        let mut at = id;
        while let Some(parent) = self.trusted.get(at).and_then(|t| t.manifest.parent.as_ref()) {
            if chain.len() >= MAX_LINEAGE || chain.contains(&parent.id) || parent.id == *id {
                break;
            }
            chain.push(parent.id.clone());
            at = &parent.id;
        }
        chain.reverse();
        chain
    }
}

/// The PRONOM PUID in a manifest's media type, under whichever name the
/// identifying build used.
fn puid(raw: &Value) -> Option<String> {
    let media = raw.get("media_type")?;
    let candidates = [media.get("puid"), media.get("pronom").and_then(|p| p.get("puid")), media.get("pronom")];
    candidates.into_iter().flatten().find_map(|v| v.as_str()).map(str::to_owned)
}
