//! Writes a synthetic case for the read-model benchmark: `ENTRIES` signed
//! ledger entries through the ledger's own batch append, alternating an
//! `acquired` event and an `identified` event whose manifest is stored, so
//! half the entries add an artefact to `show`.
//!
//! Usage: synthetic_case STORE_DIR CASE ENTRIES KEY_FILE

use std::sync::Arc;

use exhibit_app::readmodel::conformance::{event, manifest};
use exhibit_core::digest::Sha256Digest;
use exhibit_core::event::{Action, ArtefactRef, Outcome};
use exhibit_core::layout::manifest_key;
use exhibit_custody::{Ledger, Signer};
use exhibit_store::{LocalStore, ObjectStore};

const BATCH: usize = 1000;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, dir, case, entries, key] = args.as_slice() else {
        return Err("usage: synthetic_case STORE_DIR CASE ENTRIES KEY_FILE".into());
    };
    let case: exhibit_core::ids::CaseId = case.parse()?;
    let entries: usize = entries.parse()?;
    let store: Arc<dyn ObjectStore> = Arc::new(LocalStore::open(dir)?);
    let signer = Arc::new(Signer::load_or_create(std::path::Path::new(key))?);
    let ledger = Ledger::open(store.clone(), case.clone(), signer.clone()).await?;
    let mut batch = Vec::with_capacity(BATCH);
    for i in 0..entries / 2 {
        let exhibit = format!("JS/{}", 1 + i / 10_000);
        let path = format!("folder{:03}/file{i:06}.txt", i % 997);
        let m = manifest(&case, &exhibit, Some(&path), if i % 100 == 0 { &["needs-review"] } else { &[] });
        let bytes = serde_json::to_vec(&m)?;
        let manifest_sha256 = Sha256Digest::of(&bytes);
        store.put_new(&manifest_key(&case, &m.id), Box::new(std::io::Cursor::new(bytes)), Default::default()).await?;
        let artefact =
            ArtefactRef { id: Some(m.id.clone()), sha256: m.digests.sha256, size: m.size, manifest_sha256: None };
        let mut acquired = event(&case, Some(&exhibit), Action::Acquired, Outcome::Ok);
        acquired.actor.public_key = signer.public_key_openssh();
        acquired.artefact = Some(artefact.clone());
        let mut identified = acquired.clone();
        identified.action = Action::Identified;
        identified.artefact = Some(ArtefactRef { manifest_sha256: Some(manifest_sha256), ..artefact });
        batch.extend([acquired, identified]);
        if batch.len() >= BATCH {
            ledger.append_batch(&batch).await?;
            batch.clear();
        }
    }
    ledger.append_batch(&batch).await?;
    println!("case {case}: {} entries", ledger.head_seq().await);
    Ok(())
}
