//! `verify_case` names exactly which entry was tampered with, and how.

use std::io::Cursor;

use exhibit_core::ErrorKind;
use exhibit_core::digest::HashSelection;
use exhibit_core::event::Action;
use exhibit_core::layout::{ObjectKey, ledger_key};
use exhibit_custody::{EntryBody, EntryFault, Ledger, LedgerEntry, Problem, VerifyReport, verify_case};

use crate::common::{Fixture, event, overwrite};

/// A ledger of 6 entries: key-added, then 5 events.
async fn six() -> Fixture {
    let fx = Fixture::new();
    assert_eq!(fx.append_n(5).await, 6);
    fx
}

async fn verify(fx: &Fixture) -> VerifyReport {
    verify_case(fx.store.as_ref(), &fx.case).await.unwrap()
}

fn read_entry(fx: &Fixture, seq: u64) -> LedgerEntry {
    LedgerEntry::parse(&std::fs::read(fx.entry_path(seq)).unwrap()).unwrap()
}

fn write_entry(fx: &Fixture, seq: u64, entry: &LedgerEntry) {
    overwrite(&fx.entry_path(seq), &entry.file_bytes().unwrap());
}

fn altered(seq: u64, cause: EntryFault) -> Problem {
    Problem::EntryAltered { seq, cause, detail: None }
}

#[tokio::test]
async fn a_clean_ledger_has_no_problems() {
    let fx = six().await;
    let report = verify(&fx).await;
    assert_eq!(report.problems, vec![]);
    assert!(report.to_string().starts_with("INTACT, SIGNERS NOT CHECKED: 6 entries, 0 artefacts, 0 objects intact"));
    assert_eq!(report.keys, vec![fx.signer.public_key_openssh()]);
}

#[tokio::test]
async fn an_edited_entry_is_altered() {
    let fx = six().await;
    let mut entry = read_entry(&fx, 3);
    entry.events_mut()[0].actor.operator = "someone else".into();
    write_entry(&fx, 3, &entry);
    let report = verify(&fx).await;
    assert_eq!(report.problems, vec![altered(3, EntryFault::SignatureAndLink)]);
    let text = report.to_string();
    assert!(text.starts_with("FAILED: case 42AB1234520: 1 problem"), "{text}");
    assert!(text.contains("entry 3: altered (its signature fails and entry 4 no longer links to it)"), "{text}");
}

#[tokio::test]
async fn an_edited_last_entry_has_a_bad_signature() {
    let fx = six().await;
    let mut entry = read_entry(&fx, 6);
    entry.events_mut()[0].params.insert("n".into(), 99.into());
    write_entry(&fx, 6, &entry);
    assert_eq!(verify(&fx).await.problems, vec![Problem::BadSignature { seq: 6 }]);
}

#[tokio::test]
async fn a_deleted_middle_entry_is_missing() {
    let fx = six().await;
    std::fs::remove_file(fx.entry_path(3)).unwrap();
    assert_eq!(verify(&fx).await.problems, vec![Problem::EntryMissing { seq: 3 }]);
}

#[tokio::test]
async fn swapped_entries_are_reordered() {
    let fx = six().await;
    let (a, b) = (std::fs::read(fx.entry_path(3)).unwrap(), std::fs::read(fx.entry_path(4)).unwrap());
    overwrite(&fx.entry_path(3), &b);
    overwrite(&fx.entry_path(4), &a);
    assert_eq!(
        verify(&fx).await.problems,
        vec![Problem::EntriesReordered { seq: 3, holds: 4 }, Problem::EntriesReordered { seq: 4, holds: 3 }]
    );
}

#[tokio::test]
async fn another_keys_valid_signature_is_a_bad_signature() {
    let fx = six().await;
    let mut entry = read_entry(&fx, 3);
    entry.sig = fx.other_signer("mallory").sign(&entry.body_bytes().unwrap()).unwrap();
    write_entry(&fx, 3, &entry);
    let report = verify(&fx).await;
    assert_eq!(report.problems, vec![Problem::BadSignature { seq: 3 }]);
    assert!(report.to_string().contains("entry 3: bad signature"), "{report}");
}

#[tokio::test]
async fn a_garbled_entry_is_altered() {
    let fx = six().await;
    overwrite(&fx.entry_path(3), b"{\"seq\":3,");
    let problems = verify(&fx).await.problems;
    assert!(
        matches!(&problems[..], [Problem::EntryAltered { seq: 3, cause: EntryFault::Unreadable, detail: Some(_) }]),
        "{problems:?}"
    );
}

#[tokio::test]
async fn a_replaced_and_re_signed_entry_breaks_the_next_link() {
    let fx = six().await;
    let mut entry = read_entry(&fx, 3);
    entry.events_mut()[0].actor.operator = "someone else".into();
    entry.sig = fx.signer.sign(&entry.body_bytes().unwrap()).unwrap();
    write_entry(&fx, 3, &entry);
    assert_eq!(verify(&fx).await.problems, vec![altered(3, EntryFault::Link)]);
}

#[tokio::test]
async fn an_entry_by_an_unrecorded_key_is_flagged() {
    let fx = six().await;
    let mallory = fx.other_signer("mallory");
    let mut entry = LedgerEntry {
        seq: 7,
        prev: Some(read_entry(&fx, 6).body_sha256().unwrap()),
        body: EntryBody::Single(event(&fx.case, &mallory, Action::Accessed, 7)),
        sig: String::new(),
    };
    entry.sig = mallory.sign(&entry.body_bytes().unwrap()).unwrap();
    let body = Box::new(Cursor::new(entry.file_bytes().unwrap()));
    fx.store.put_new(&ledger_key(&fx.case, 7), body, HashSelection::SHA256_ONLY).await.unwrap();
    assert_eq!(verify(&fx).await.problems, vec![Problem::UnknownKey { seq: 7 }]);
}

#[tokio::test]
async fn a_stray_file_in_the_ledger_is_flagged() {
    let fx = six().await;
    let key = ObjectKey::new(format!("cases/{}/ledger/notes.txt", fx.case)).unwrap();
    fx.store.put_new(&key, Box::new(Cursor::new(b"x".to_vec())), HashSelection::SHA256_ONLY).await.unwrap();
    assert_eq!(verify(&fx).await.problems, vec![Problem::UnexpectedFile { key: key.to_string() }]);
}

#[tokio::test]
async fn appending_after_a_garbled_head_is_refused() {
    let fx = six().await;
    overwrite(&fx.entry_path(6), b"garbage");
    let err = Ledger::open(fx.store.clone(), fx.case.clone(), fx.signer.clone()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt);
    assert!(err.to_string().contains("exhibit verify"), "{err}");
}

#[tokio::test]
async fn problems_serialise_with_a_kebab_case_kind() {
    let fx = six().await;
    std::fs::remove_file(fx.entry_path(2)).unwrap();
    let json = serde_json::to_value(verify(&fx).await).unwrap();
    assert_eq!(json["problems"], serde_json::json!([{"kind": "entry-missing", "seq": 2}]));
    assert_eq!(json["entries"], 5);
}
