//! The use cases `get`, `verify`, `listing` and `reproduce`, called as the
//! CLI and the HTTP API call them, over a store that counts ledger reads:
//! each reads the case's ledger once (before issue 12's move, `get`,
//! `reproduce` and `verify` read it twice: once to open it for appending or
//! to verify, once more to check the chain or gather the notes).

use std::io::Read;
use std::sync::Arc;

use async_trait::async_trait;
use exhibit_app::artefact::ArtefactRequest;
use exhibit_app::artefact::get::open_for_access;
use exhibit_app::artefact::reproduce::{Comparison, Rederive, Sources, reproduce};
use exhibit_app::case_open::TrustPolicy;
use exhibit_app::readmodel::SqliteReadModel;
use exhibit_app::{AppError, CaseReader};
use exhibit_core::digest::Sha256Digest;
use exhibit_core::event::{Action, Actor, ArtefactRef, InputRef, Outcome};
use exhibit_core::ids::ArtefactId;
use exhibit_core::layout::{object_key, objects_prefix};
use exhibit_core::manifest::{ArtefactManifest, Derivation, ParentRef, ToolInfo};
use exhibit_custody::{LedgerSnapshot, Signer, VerifyOptions};
use exhibit_intake::explore::listing::ListingLine;
use exhibit_report::Verdict;
use exhibit_store::ObjectStore;

use crate::common::{CountingStore, case, context, exhibit, folder, ingest};

/// A case of `n` files, its artefacts, and the number of ledger entries.
async fn ingested(dir: &std::path::Path, n: usize) -> (Arc<CountingStore>, Vec<ArtefactManifest>, u64) {
    let store = CountingStore::open(&dir.join("store"));
    ingest(store.clone(), &dir.join("key"), &folder(dir, n)).await;
    let reader = CaseReader::new(store.clone(), Arc::new(SqliteReadModel::in_memory().await.unwrap()));
    let artefacts = reader.show(&case(), None).await.unwrap().artefacts;
    let entries = LedgerSnapshot::read(store.as_ref(), &case()).await.unwrap().entries.len() as u64;
    store.take();
    (store, artefacts, entries)
}

fn request(dir: &std::path::Path, artefact: &ArtefactId) -> ArtefactRequest {
    let signer = Arc::new(Signer::load_or_create(&dir.join("key")).unwrap());
    let actor = Actor {
        operator: "DC Reader".into(),
        host: "test".into(),
        process: 1,
        public_key: signer.public_key_openssh(),
    };
    ArtefactRequest { case: case(), artefact: artefact.clone(), actor, signer }
}

/// Ledger entries read and listings of the ledger since the last call.
fn ledger_reads(store: &CountingStore) -> (u64, u64) {
    let (reads, _heads, lists) = store.take();
    (reads, lists)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_reads_the_ledger_once_checks_the_content_and_records_the_access() {
    let dir = tempfile::tempdir().unwrap();
    let (store, artefacts, entries) = ingested(dir.path(), 5).await;
    let wanted = &artefacts[2];

    let open = open_for_access(store.clone(), &TrustPolicy::default(), request(dir.path(), &wanted.id)).await.unwrap();
    assert_eq!(ledger_reads(&store), (entries, 1), "one listing and one read of each entry, not two");
    assert_eq!((open.record.sha256, open.record.size), (wanted.digests.sha256, wanted.size));
    let mut bytes = Vec::new();
    open.content().await.unwrap().read_to_end(&mut bytes).unwrap();
    assert_eq!(bytes, b"exhibit file 2\n");
    let seq = open.record_access("get", "/tmp/copy".into()).await.unwrap();
    assert_eq!(seq, Some(entries + 1));

    let snapshot = LedgerSnapshot::read(store.as_ref(), &case()).await.unwrap();
    let (_, accessed) = snapshot.events().last().unwrap();
    assert_eq!(accessed.action, Action::Accessed);
    assert_eq!(accessed.actor.operator, "DC Reader");
    assert_eq!(accessed.tool.name, "exhibit/get");
    let artefact = accessed.artefact.as_ref().unwrap();
    assert_eq!((artefact.id.as_ref(), artefact.sha256), (Some(&wanted.id), wanted.digests.sha256));
    assert_eq!(accessed.params["output"], "/tmp/copy");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_refuses_an_artefact_whose_manifest_the_ledger_did_not_record() {
    let dir = tempfile::tempdir().unwrap();
    let (store, artefacts, _) = ingested(dir.path(), 2).await;
    let key = exhibit_core::layout::manifest_key(&case(), &artefacts[0].id);
    let mut altered = artefacts[0].clone();
    altered.size += 1;
    let path = dir.path().join("store").join(key.as_str());
    let mut writable = std::fs::metadata(&path).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    writable.set_readonly(false);
    std::fs::set_permissions(&path, writable).unwrap();
    std::fs::write(&path, serde_json::to_vec(&altered).unwrap()).unwrap();

    let refused = open_for_access(store.clone(), &TrustPolicy::default(), request(dir.path(), &artefacts[0].id)).await;
    match refused {
        Err(AppError::Refused(reason)) => assert!(reason.contains("the manifest was altered"), "{reason}"),
        Err(other) => panic!("refused for another reason: {other}"),
        Ok(_) => panic!("an altered manifest was accepted"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_reads_the_ledger_once_and_its_report_reads_no_more() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _, entries) = ingested(dir.path(), 4).await;

    let checked = exhibit_app::verify::verify_case(store.as_ref(), &case(), &VerifyOptions::default()).await.unwrap();
    assert_eq!(ledger_reads(&store), (entries, 1), "the report and the notes come from one read");
    assert_eq!(checked.verdict, Verdict::IntactUnchecked, "no trusted keys: intact, signers not checked");
    assert!(checked.report.problems.is_empty(), "{:?}", checked.report.problems);
    assert_eq!(checked.report.artefacts, 4);
    assert!(checked.notes.is_empty());
    let report = checked.integrity_report(store.as_ref()).await.unwrap();
    assert_eq!(ledger_reads(&store), (0, 0), "the integrity report reads manifests, not the ledger");
    assert_eq!(report.verdict, Verdict::IntactUnchecked);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listing_of_a_folder_exhibit_reads_the_ledger_once() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _, entries) = ingested(dir.path(), 3).await;

    let mut listing = exhibit_app::listing::listing(store.as_ref(), &case(), &exhibit()).await.unwrap().unwrap();
    let mut lines = Vec::new();
    while let Some(line) = listing.next_line().await.unwrap() {
        lines.push(line);
    }
    assert_eq!(ledger_reads(&store), (entries, 1));
    assert!(listing.images.is_empty(), "a folder exhibit has no image");
    assert!(matches!(lines[0], ListingLine::Volume(_)));
    let names: Vec<String> = lines[1..]
        .iter()
        .map(|line| match line {
            ListingLine::Entry(entry) => entry.path.display.clone(),
            other => panic!("not an entry: {other:?}"),
        })
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
    for (name, wanted) in names.iter().zip(["file000.txt", "file001.txt", "file002.txt"]) {
        assert!(name.ends_with(wanted), "{names:?}");
    }
    let other: exhibit_core::ids::ExhibitRef = "JS/2".parse().unwrap();
    assert!(exhibit_app::listing::listing(store.as_ref(), &case(), &other).await.unwrap().is_none());
}

/// Re-derives by upper-casing the source: the derivation the test records.
struct UpperCase;

#[async_trait]
impl Rederive for UpperCase {
    async fn rederive(
        &self,
        manifest: &ArtefactManifest,
        _derivation: &Derivation,
        sources: &Sources<'_>,
    ) -> exhibit_app::Result<Comparison> {
        let parent = manifest.parent.as_ref().unwrap();
        let source = sources.copy(&parent.id, &parent.sha256, "source").await?;
        let upper = std::fs::read(source.path()).unwrap().to_ascii_uppercase();
        Ok(Comparison {
            compared: "file SHA-256",
            recorded: manifest.digests.sha256.to_hex(),
            reproduced: Sha256Digest::of(&upper).to_hex(),
            inputs: Vec::new(),
        })
    }
}

/// Records an upper-cased copy of `parent` as its derivative.
async fn record_derivative(
    store: Arc<dyn ObjectStore>,
    dir: &std::path::Path,
    parent: &ArtefactManifest,
) -> ArtefactId {
    let ctx = context(store.clone(), &dir.join("key"), "DC Test").await;
    let mut bytes = Vec::new();
    let object = store.get(&object_key(&case(), &parent.digests.sha256), Some(parent.digests.sha256)).await.unwrap();
    { object }.read_to_end(&mut bytes).unwrap();
    let body = Box::new(std::io::Cursor::new(bytes.to_ascii_uppercase()));
    let stored = store.put_content(&objects_prefix(&case()), body, Default::default()).await.unwrap();
    let id = ArtefactId::derive(&case(), &exhibit(), b"upper", &stored.digests.sha256);
    let from = ParentRef { id: parent.id.clone(), sha256: parent.digests.sha256, offset: None };
    let tool = ToolInfo::exhibit("upper");
    let mut manifest = exhibit_pipeline::derivative_manifest(
        &ctx,
        &exhibit(),
        id.clone(),
        &stored,
        parent.media_type.clone(),
        from,
        tool.clone(),
    );
    manifest.derivation = Some(Derivation {
        rule: "upper".into(),
        policy_version: "1".into(),
        deterministic: true,
        details: Default::default(),
    });
    let manifest_sha256 = exhibit_pipeline::store_manifest(&ctx, &manifest).await.unwrap();
    let mut event = ctx.event(Action::Transcoded, Some(&exhibit()), tool);
    event.inputs = vec![InputRef { id: parent.id.clone(), sha256: parent.digests.sha256 }];
    event.artefact = Some(ArtefactRef {
        id: Some(id.clone()),
        sha256: stored.digests.sha256,
        size: stored.size,
        manifest_sha256: Some(manifest_sha256),
    });
    ctx.record(event).await.unwrap();
    id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reproduce_reads_the_ledger_once_and_records_the_check() {
    let dir = tempfile::tempdir().unwrap();
    let (store, artefacts, _) = ingested(dir.path(), 2).await;
    let derived = record_derivative(store.clone(), dir.path(), &artefacts[1]).await;
    let entries = LedgerSnapshot::read(store.as_ref(), &case()).await.unwrap().entries.len() as u64;
    store.take();

    let done =
        reproduce(store.clone(), &TrustPolicy::default(), request(dir.path(), &derived), &UpperCase).await.unwrap();
    assert_eq!(ledger_reads(&store), (entries, 1));
    assert!(done.same(), "{:?}", done.comparison);
    assert_eq!(done.derivation.rule, "upper");
    done.record().await.unwrap();

    let snapshot = LedgerSnapshot::read(store.as_ref(), &case()).await.unwrap();
    let (_, verified) = snapshot.events().last().unwrap();
    assert_eq!((&verified.action, &verified.outcome), (&Action::Verified, &Outcome::Ok));
    assert_eq!(verified.params["reproduced"], true);
    assert_eq!(verified.inputs[0].id, artefacts[1].id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reproduce_refuses_an_original() {
    let dir = tempfile::tempdir().unwrap();
    let (store, artefacts, _) = ingested(dir.path(), 1).await;
    let refused =
        reproduce(store.clone(), &TrustPolicy::default(), request(dir.path(), &artefacts[0].id), &UpperCase).await;
    match refused {
        Err(AppError::Request(reason)) => assert!(reason.contains("not a derivative"), "{reason}"),
        Err(other) => panic!("refused for another reason: {other}"),
        Ok(_) => panic!("an original was reproduced"),
    }
}
