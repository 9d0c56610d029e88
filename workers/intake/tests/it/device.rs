//! A device with unreadable sectors: the image is zero-filled there, the
//! mapfile lists exactly those ranges, and every file over them is flagged
//! with the byte ranges that were zero-filled.

use std::sync::Arc;

use exhibit_core::Sha256Digest;
use exhibit_core::event::{Action, Actor};
use exhibit_core::ids::{CaseId, ExhibitRef};
use exhibit_core::layout::{manifest_key, object_key};
use exhibit_core::manifest::ArtefactManifest;
use exhibit_custody::{Ledger, Signer, read_entries, verify_case};
use exhibit_intake::device::acquire_device;
use exhibit_intake::{ExploreStage, IdentifyStage, Plan, SourceItem, SourceKind, acquire_jobs};
use exhibit_media::sources::{FaultyDevice, RetryPolicy};
use exhibit_media::{BytesAt, DataLayout, EntryKind, FsEntry, Limits, ReadAt, open_volumes};
use exhibit_pipeline::{CaseIndex, Completions, RunId, Stage, StageContext, WorkerConfig, run_in_process};
use exhibit_store::{LocalStore, ObjectStore, read_small};

const SECTOR: u64 = 512;

fn fixture() -> Vec<u8> {
    std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/fat/fat12.img")).unwrap()
}

/// The first allocated file with data, and where its first byte is.
fn a_file(image: &[u8]) -> (FsEntry, u64) {
    let disk: Arc<dyn ReadAt> = Arc::new(BytesAt::new(image.to_vec()));
    let volume = open_volumes(disk, &Limits::default()).into_iter().next().unwrap().unwrap();
    let mut found = None;
    volume
        .fs
        .walk(&Limits::default(), &mut |e| {
            if found.is_none() && e.allocated && e.kind == EntryKind::File && e.size >= 2 * SECTOR {
                if let DataLayout::Extents(x) = &e.data {
                    let at = volume.place.offset + x[0].volume_offset.unwrap();
                    found = Some((e.clone(), at));
                }
            }
            Ok(())
        })
        .unwrap();
    found.expect("the fixture holds a file of at least two sectors")
}

async fn context(dir: &std::path::Path) -> (Arc<StageContext>, Arc<dyn ObjectStore>) {
    let store: Arc<dyn ObjectStore> = Arc::new(LocalStore::open(dir.join("data")).unwrap());
    let signer = Arc::new(Signer::load_or_create(&dir.join("key")).unwrap());
    let case: CaseId = "DEV-1".parse().unwrap();
    let ledger = Arc::new(Ledger::open(store.clone(), case.clone(), signer.clone()).await.unwrap());
    let actor =
        Actor { operator: "PC Test".into(), host: "test".into(), process: 1, public_key: signer.public_key_openssh() };
    (Arc::new(StageContext::new(case, store.clone(), ledger, actor, CaseIndex::default())), store)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_sectors_map_to_files() {
    let image = fixture();
    let (file, file_at) = a_file(&image);
    let size = image.len() as u64;
    let bad = [[file_at, SECTOR], [size - 4 * SECTOR, 2 * SECTOR], [size - SECTOR, SECTOR]];
    let mut device = FaultyDevice::new(image.clone(), SECTOR as u32);
    for [at, len] in bad {
        device = device.fail(at, len);
    }
    let dir = tempfile::tempdir().unwrap();
    let (ctx, store) = context(dir.path()).await;
    let exhibit: ExhibitRef = "JS/1".parse().unwrap();
    let plan = Plan {
        items: vec![SourceItem {
            path: "/dev/fake0".into(),
            kind: SourceKind::Device,
            size,
            found_beside: None,
            in_set: false,
            recorded_as: None,
        }],
        total_bytes: size,
        ..Plan::default()
    };
    let job = acquire_jobs(&plan, &ctx.case, &exhibit).remove(0);
    let next =
        acquire_device(&ctx, &job, b"/dev/fake0", Box::new(device), RetryPolicy { retries: 2, chunk_bytes: 64 * 1024 })
            .await
            .unwrap();
    let stages: Vec<Arc<dyn Stage>> = vec![Arc::new(IdentifyStage::default()), Arc::new(ExploreStage::default())];
    let queue = exhibit_queue::open_queue("memory://").unwrap();
    let completions = Arc::new(Completions::new(ctx.store.clone(), &ctx.case, RunId::new()));
    run_in_process(ctx.clone(), queue, completions, WorkerConfig::new(stages), (next, false)).await.unwrap();
    assert!(ctx.tally.failures().is_empty(), "{:?}", ctx.tally.failures());

    let mut zeroed = image.clone();
    for [at, len] in bad {
        zeroed[at as usize..(at + len) as usize].fill(0);
    }
    let events: Vec<_> = read_entries(store.as_ref(), &ctx.case)
        .await
        .unwrap()
        .into_iter()
        .flat_map(|e| e.parsed.unwrap().events().to_vec())
        .collect();
    let acquired = events.iter().find(|e| e.action == Action::Acquired).unwrap();
    assert_eq!(
        acquired.artefact.as_ref().unwrap().sha256,
        Sha256Digest::of(&zeroed),
        "the image is the zero-filled read"
    );

    let mapfile_sha: Sha256Digest = acquired.params["mapfile"]["sha256"].as_str().unwrap().parse().unwrap();
    let mapfile =
        String::from_utf8(read_small(store.as_ref(), &object_key(&ctx.case, &mapfile_sha), 1 << 20).await.unwrap())
            .unwrap();
    let bad_in_map: Vec<[u64; 2]> = mapfile
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() == 3 && f[2] == "-")
                .then(|| [u64::from_str_radix(&f[0][2..], 16).unwrap(), u64::from_str_radix(&f[1][2..], 16).unwrap()])
        })
        .collect();
    assert_eq!(bad_in_map, bad.to_vec(), "mapfile:\n{mapfile}");

    let extracted = events.iter().filter(|e| e.action == Action::Extracted);
    let mut flagged = Vec::new();
    for e in extracted {
        let id = e.artefact.as_ref().unwrap().id.clone().unwrap();
        let bytes = read_small(store.as_ref(), &manifest_key(&ctx.case, &id), 1 << 20).await.unwrap();
        let m: ArtefactManifest = serde_json::from_slice(&bytes).unwrap();
        if m.flags.iter().any(|f| f == "bad-sectors") {
            flagged.push(m);
        }
    }
    assert_eq!(flagged.len(), 1, "only the file over the first bad range is flagged");
    let inside = flagged[0].inside.as_ref().unwrap();
    assert_eq!(inside.path.display, file.path.recorded().display);
    assert_eq!(inside.zero_filled, vec![[0, SECTOR]]);
    assert!(verify_case(store.as_ref(), &ctx.case).await.unwrap().problems.is_empty());
}
