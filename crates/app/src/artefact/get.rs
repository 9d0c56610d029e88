//! The `get` use case, shared by `exhibit get` and the HTTP API's
//! download: an artefact's content handed out re-hashed against the
//! ledger's SHA-256, and an `accessed` event (who, which bytes, where to)
//! appended to the case's ledger, since disclosure needs every access on
//! record. The caller chooses the order: the CLI records after the copy
//! succeeded, the API before the first byte leaves.

use std::io::Read;
use std::sync::Arc;

use exhibit_core::event::{Action, ArtefactRef};
use exhibit_core::manifest::ToolInfo;
use exhibit_core::params::{AccessedParams, EventParams};
use exhibit_core::read_at::ReadAt;
use exhibit_pipeline::{CaseIndex, StageContext};
use exhibit_store::ObjectStore;
use tracing::instrument;

use super::{ArtefactRequest, OpenArtefact, open_artefact, read_manifest, stored_error};
use crate::Result;
use crate::case_open::TrustPolicy;

/// The largest manifest `get` reads.
pub const MANIFEST_LIMIT: u64 = 1 << 20;

/// Opens an artefact for access: its manifest, checked against a ledger
/// whose chain checks out, with the signing key admitted, before any byte
/// is read. See [`OpenArtefact::content`] and [`OpenArtefact::record_access`].
#[instrument(skip_all, fields(case = %request.case, artefact = %request.artefact))]
pub async fn open_for_access(
    store: Arc<dyn ObjectStore>,
    trust: &TrustPolicy,
    request: ArtefactRequest,
) -> Result<OpenArtefact> {
    let stored = read_manifest(store.as_ref(), &request.case, &request.artefact, MANIFEST_LIMIT).await?;
    open_artefact(store, (request.signer, request.actor), trust, &request.case, stored).await
}

impl OpenArtefact {
    /// The content as the ledger records it, re-hashed as it is read: the
    /// reader fails with `InvalidData` at its end if the bytes differ. A
    /// view's image is read in place, or by ranged reads where the store
    /// has no local files (S3), at constant memory.
    pub async fn content(&self) -> Result<Box<dyn Read + Send>> {
        let ctx = &self.context;
        let reader =
            exhibit_store::view::open_content_in_place(&ctx.store, &ctx.case, &self.manifest, self.record.sha256)
                .await
                .map_err(|e| stored_error(e, &format!("cannot read the content of artefact {}", self.manifest.id)))?;
        Ok(Box::new(reader))
    }

    /// Positional reads over the content, for one byte range. Not
    /// re-hashed (that would read everything): the client checks the
    /// assembled whole against the ledger's SHA-256.
    pub async fn content_at(&self) -> Result<Arc<dyn ReadAt>> {
        let ctx = &self.context;
        exhibit_store::view::open_content_at(&ctx.store, &ctx.case, &self.manifest)
            .await
            .map_err(|e| stored_error(e, &format!("cannot read the content of artefact {}", self.manifest.id)))
    }

    /// Appends the `accessed` event: the artefact with the ledger's
    /// SHA-256 and size, `output` saying where the bytes went, made by
    /// exhibit's `tool` (`get`, `serve`). Returns the entry's number.
    #[instrument(skip_all, fields(case = %self.context.case, artefact = %self.manifest.id))]
    pub async fn record_access(&self, tool: &str, output: String) -> Result<Option<u64>> {
        Ok(self.context.record(self.access_event(tool, output)).await?)
    }

    /// Records that an access recorded by [`record_access`](Self::record_access)
    /// did not finish (a download cut short), as a second `accessed` event.
    /// The context's index holds the first as the same fact and would drop
    /// the second, so it goes through a context of its own over the same
    /// ledger.
    pub async fn record_cut_access(&self, tool: &str, output: String) -> Result<Option<u64>> {
        let ctx = &self.context;
        let own = StageContext::new(
            ctx.case.clone(),
            ctx.store.clone(),
            ctx.ledger.clone(),
            ctx.actor.clone(),
            CaseIndex::default(),
        );
        Ok(own.record(self.access_event(tool, output)).await?)
    }

    fn access_event(&self, tool: &str, output: String) -> exhibit_core::event::CustodyEvent {
        let mut event = self.context.event(Action::Accessed, Some(&self.manifest.exhibit), ToolInfo::exhibit(tool));
        event.artefact = Some(ArtefactRef {
            id: Some(self.manifest.id.clone()),
            sha256: self.record.sha256,
            size: self.record.size,
            manifest_sha256: None,
        });
        event.set_params(EventParams::Accessed(AccessedParams { output: Some(output), ..Default::default() }));
        event
    }
}
