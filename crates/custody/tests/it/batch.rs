//! Batch entries: one signed entry records many events. Verify, stock
//! tools and the appender all read them, and tampering with one event
//! inside a batch is caught and named.

use std::process::{Command, Stdio};

use exhibit_core::event::Action;
use exhibit_custody::{
    BATCH_EVENTS, BatchFault, EntryBody, EntryFault, LedgerEntry, NAMESPACE, Problem, VerifyReport, read_entries,
    verify_case,
};

use crate::common::{Fixture, event, overwrite};

/// key-added (1), a batch of five events (2), one more event (3).
async fn batched() -> Fixture {
    let fx = Fixture::new();
    let ledger = fx.ledger().await;
    let events: Vec<_> = (0..5).map(|n| event(&fx.case, &fx.signer, Action::Accessed, n)).collect();
    let landed = ledger.append_batch(&events).await.unwrap();
    assert_eq!(landed.iter().map(|a| a.seq).collect::<Vec<_>>(), vec![2; 5], "one entry for the batch");
    ledger.append(event(&fx.case, &fx.signer, Action::Accessed, 5)).await.unwrap();
    fx
}

async fn verify(fx: &Fixture) -> VerifyReport {
    verify_case(fx.store.as_ref(), &fx.case).await.unwrap()
}

fn read_entry(fx: &Fixture, seq: u64) -> LedgerEntry {
    LedgerEntry::parse(&std::fs::read(fx.entry_path(seq)).unwrap()).unwrap()
}

fn batch_events(entry: &mut LedgerEntry) -> &mut Vec<exhibit_core::event::CustodyEvent> {
    match &mut entry.body {
        EntryBody::Batch { events, .. } => events,
        EntryBody::Single(_) => panic!("entry {} is not a batch", entry.seq),
    }
}

fn tamper(fx: &Fixture, seq: u64, change: impl FnOnce(&mut Vec<exhibit_core::event::CustodyEvent>)) {
    let mut entry = read_entry(fx, seq);
    change(batch_events(&mut entry));
    overwrite(&fx.entry_path(seq), &entry.file_bytes().unwrap());
}

fn changed(seq: u64, fault: BatchFault) -> Problem {
    Problem::BatchEventChanged { seq, fault }
}

#[tokio::test]
async fn a_batch_is_one_signed_entry_and_verifies_clean() {
    let fx = batched().await;
    let report = verify(&fx).await;
    assert_eq!(report.problems, vec![]);
    assert_eq!(report.entries, 3);
    let stored = read_entries(fx.store.as_ref(), &fx.case).await.unwrap();
    let actions: Vec<usize> = stored.iter().map(|s| s.parsed.as_ref().unwrap().events().len()).collect();
    assert_eq!(actions, vec![1, 5, 1]);
    let numbers: Vec<u64> =
        stored[1].parsed.as_ref().unwrap().events().iter().map(|e| e.params["n"].as_u64().unwrap()).collect();
    assert_eq!(numbers, vec![0, 1, 2, 3, 4], "events keep their order");
}

#[tokio::test]
async fn an_altered_event_inside_a_batch_is_named() {
    let fx = batched().await;
    tamper(&fx, 2, |events| events[2].actor.operator = "someone else".into());
    let report = verify(&fx).await;
    assert_eq!(
        report.problems,
        vec![
            Problem::EntryAltered { seq: 2, cause: EntryFault::SignatureAndLink, detail: None },
            changed(2, BatchFault::Altered { event: 3 }),
        ]
    );
    assert!(report.to_string().contains("entry 2: event 3 altered"), "{report}");
}

#[tokio::test]
async fn a_removed_event_inside_a_batch_is_named() {
    let fx = batched().await;
    tamper(&fx, 2, |events| {
        events.remove(1);
    });
    let problems = verify(&fx).await.problems;
    assert!(problems.contains(&changed(2, BatchFault::Removed { event: 2 })), "{problems:?}");
    assert!(problems.iter().any(|p| matches!(p, Problem::EntryAltered { seq: 2, .. })), "{problems:?}");
}

#[tokio::test]
async fn reordered_events_inside_a_batch_are_named() {
    let fx = batched().await;
    tamper(&fx, 2, |events| events.swap(1, 3));
    let problems = verify(&fx).await.problems;
    assert!(problems.contains(&changed(2, BatchFault::Reordered { event: 2 })), "{problems:?}");
    assert!(
        !problems.iter().any(|p| matches!(p, Problem::BatchEventChanged { fault: BatchFault::Altered { .. }, .. }))
    );
}

#[tokio::test]
async fn an_altered_last_batch_is_a_bad_signature_and_names_the_event() {
    let fx = Fixture::new();
    let ledger = fx.ledger().await;
    let events: Vec<_> = (0..3).map(|n| event(&fx.case, &fx.signer, Action::Accessed, n)).collect();
    ledger.append_batch(&events).await.unwrap();
    tamper(&fx, 2, |events| {
        events[0].params.insert("n".into(), 99.into());
    });
    assert_eq!(
        verify(&fx).await.problems,
        vec![Problem::BadSignature { seq: 2 }, changed(2, BatchFault::Altered { event: 1 })]
    );
}

#[tokio::test]
async fn a_large_batch_is_split_into_entries_under_the_limits() {
    let fx = Fixture::new();
    let ledger = fx.ledger().await;
    let n = BATCH_EVENTS as u64 + 10;
    let events: Vec<_> = (0..n).map(|n| event(&fx.case, &fx.signer, Action::Accessed, n)).collect();
    let landed = ledger.append_batch(&events).await.unwrap();
    assert_eq!(landed.len(), events.len());
    assert_eq!(landed.first().unwrap().seq, 2);
    assert_eq!(landed.last().unwrap().seq, 3);
    let stored = read_entries(fx.store.as_ref(), &fx.case).await.unwrap();
    assert!(stored.iter().all(|s| s.bytes.len() as u64 <= exhibit_custody::ENTRY_LIMIT));
    assert_eq!(verify(&fx).await.problems, vec![]);
}

#[tokio::test]
async fn ssh_keygen_verifies_a_batch_entry_rederived_by_python() {
    let fx = batched().await;
    let entry = read_entry(&fx, 2);
    let dir = fx.dir.path();
    let out = Command::new("python3")
        .args([
            "-c",
            r#"import json,sys; d=json.load(open(sys.argv[1], encoding="utf-8")); d.pop("sig"); sys.stdout.buffer.write(json.dumps(d, sort_keys=True, separators=(",",":"), ensure_ascii=False).encode("utf-8"))"#,
        ])
        .arg(fx.entry_path(2))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(out.stdout, entry.body_bytes().unwrap(), "python derives the signed body of a batch");
    std::fs::write(dir.join("allowed"), format!("exhibit namespaces=\"{NAMESPACE}\" {}\n", entry.signer_key()))
        .unwrap();
    std::fs::write(dir.join("entry.sig"), &entry.sig).unwrap();
    let mut child = Command::new("/usr/bin/ssh-keygen")
        .args(["-Y", "verify", "-f", "allowed", "-I", "exhibit", "-n", NAMESPACE, "-s", "entry.sig"])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), &out.stdout).unwrap();
    assert!(child.wait().unwrap().success(), "ssh-keygen rejected an intact batch entry");
}

#[tokio::test]
async fn a_batch_with_an_event_of_another_case_does_not_parse() {
    let fx = batched().await;
    let mut entry = read_entry(&fx, 2);
    batch_events(&mut entry)[1].case = "OTHER1".parse().unwrap();
    let bytes = entry.file_bytes().unwrap();
    assert!(LedgerEntry::parse(&bytes).is_err());
    for hostile in [
        &br#"{"batch":[],"case":"C","event_sha256":[],"prev":null,"seq":1,"sig":"s"}"#[..],
        br#"{"batch":{},"case":"C","event_sha256":[],"prev":null,"seq":1,"sig":"s"}"#,
        br#"{"batch":[1],"case":"C","event_sha256":["zz"],"prev":null,"seq":1,"sig":"s"}"#,
    ] {
        assert!(LedgerEntry::parse(hostile).is_err(), "{}", String::from_utf8_lossy(hostile));
    }
}
