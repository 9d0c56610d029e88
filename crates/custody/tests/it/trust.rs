//! The insider attacks of issue 10 against the ledger: each is caught by
//! pinned keys or by a receipt, and a legitimate rotation stays clean.

use exhibit_core::event::Action;
use exhibit_custody::{
    HeadReceipt, LedgerEntry, Problem, Signer, TrustedKeys, VerifyOptions, VerifyReport, fingerprint, verify_case_with,
};

use crate::common::{Fixture, event, overwrite};

/// An `allowed_signers` file, as an organisation writes it, for `keys`.
fn trust(fx: &Fixture, keys: &[&Signer]) -> TrustedKeys {
    let mut text = String::from("# keys our force signs custody ledgers with\n\n");
    for (i, key) in keys.iter().enumerate() {
        text.push_str(&format!(
            "officer{i}@force.example namespaces=\"exhibit-ledger\" {}\n",
            key.public_key_openssh()
        ));
    }
    let path = fx.dir.path().join("allowed_signers");
    std::fs::write(&path, text).unwrap();
    TrustedKeys::load(&path).unwrap()
}

async fn verify(fx: &Fixture, trusted: Option<TrustedKeys>, receipt: Option<HeadReceipt>) -> VerifyReport {
    let options = VerifyOptions { trusted_keys: trusted, expect_head: receipt, ..Default::default() };
    verify_case_with(fx.store.as_ref(), &fx.case, &options).await.unwrap()
}

fn entries(fx: &Fixture) -> Vec<LedgerEntry> {
    let mut out = Vec::new();
    for seq in 1.. {
        match std::fs::read(fx.entry_path(seq)) {
            Ok(bytes) => out.push(LedgerEntry::parse(&bytes).unwrap()),
            Err(_) => return out,
        }
    }
    out
}

/// Rewrites the whole ledger as an insider with a fresh key would: the
/// `key-added` entry names the new key, the operator is renamed, every
/// entry is re-signed and re-linked.
fn rewrite_with(fx: &Fixture, mallory: &Signer) {
    let mut prev = None;
    for mut entry in entries(fx) {
        entry.prev = prev;
        entry.events_mut()[0].actor.public_key = mallory.public_key_openssh();
        entry.events_mut()[0].actor.operator = "DC Someone Else".into();
        if entry.events()[0].action == Action::KeyAdded {
            entry.events_mut()[0].params.insert("public_key".into(), mallory.public_key_openssh().into());
        }
        entry.sig = mallory.sign(&entry.body_bytes().unwrap()).unwrap();
        prev = Some(entry.body_sha256().unwrap());
        overwrite(&fx.entry_path(entry.seq), &entry.file_bytes().unwrap());
    }
}

fn untrusted(report: &VerifyReport) -> Vec<(String, Vec<u64>)> {
    report
        .problems
        .iter()
        .filter_map(|p| match p {
            Problem::UntrustedKey { fingerprint, entries, .. } => Some((fingerprint.clone(), entries.clone())),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_clean_case_with_pinned_keys_is_trusted_and_prints_its_head() {
    let fx = Fixture::new();
    fx.append_n(3).await;
    let report = verify(&fx, Some(trust(&fx, &[&fx.signer])), None).await;
    assert!(report.is_trusted(), "{report}");
    let head = report.head.unwrap();
    assert_eq!(head.seq, 4);
    assert_eq!(head.sha256, entries(&fx)[3].body_sha256().unwrap());
    let text = report.to_string();
    assert!(text.starts_with("OK: 4 entries"), "{text}");
    assert!(text.contains(&format!("head: seq 4 sha256 {}", head.sha256)), "{text}");
    assert!(text.contains("= officer0@force.example"), "{text}");
}

#[tokio::test]
async fn without_pinned_keys_signers_are_listed_and_the_run_says_so() {
    let fx = Fixture::new();
    fx.append_n(2).await;
    let report = verify(&fx, None, None).await;
    assert!(report.is_clean() && !report.is_trusted());
    let fp = fingerprint(&fx.signer.public_key_openssh()).unwrap();
    assert_eq!(report.signers.len(), 1);
    assert_eq!((report.signers[0].fingerprint.as_str(), report.signers[0].entries), (fp.as_str(), 3));
    let text = report.to_string();
    assert!(text.starts_with("INTACT, SIGNERS NOT CHECKED"), "{text}");
    // No line says OK (a random key's fingerprint may hold the letters "OK").
    assert!(!text.lines().any(|l| l.starts_with("OK")), "{text}");
    assert!(text.contains(&format!("signer: {fp} (3 entries from entry 1)")), "{text}");
    assert!(text.contains("warning: signers were not checked"), "{text}");
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["signers_checked"], false);
}

#[tokio::test]
async fn a_rewrite_with_a_new_key_is_caught_by_pinned_keys_and_by_a_receipt() {
    let fx = Fixture::new();
    fx.append_n(4).await;
    let receipt = verify(&fx, None, None).await.head.unwrap();
    let mallory = fx.other_signer("mallory");
    rewrite_with(&fx, &mallory);

    // Consistent enough to fool the unpinned check: that is the point.
    let unpinned = verify(&fx, None, None).await;
    assert!(unpinned.is_clean() && !unpinned.is_trusted(), "{unpinned}");

    let pinned = verify(&fx, Some(trust(&fx, &[&fx.signer])), None).await;
    let mallory_fp = fingerprint(&mallory.public_key_openssh()).unwrap();
    assert_eq!(untrusted(&pinned), vec![(mallory_fp.clone(), vec![1, 2, 3, 4, 5])]);
    let text = pinned.to_string();
    assert!(text.contains(&format!("key {mallory_fp}: untrusted key")), "{text}");
    assert!(text.contains("signed entries 1-5"), "{text}");

    let with_receipt = verify(&fx, None, Some(receipt)).await;
    assert!(
        matches!(with_receipt.problems[..], [Problem::ReceiptMismatch { seq: 5, found: Some(_), .. }]),
        "{with_receipt}"
    );
    assert!(with_receipt.to_string().contains("entry 5: differs from the receipt"), "{with_receipt}");
}

#[tokio::test]
async fn an_append_with_a_self_introduced_key_is_caught_by_pinned_keys() {
    let fx = Fixture::new();
    fx.append_n(2).await;
    let mallory = fx.other_signer("mallory");
    let forged = fx.ledger_with(mallory.clone()).await;
    forged.append(event(&fx.case, &mallory, Action::Acquired, 1)).await.unwrap();
    forged.append(event(&fx.case, &mallory, Action::Identified, 2)).await.unwrap();

    let report = verify(&fx, Some(trust(&fx, &[&fx.signer])), None).await;
    let mallory_fp = fingerprint(&mallory.public_key_openssh()).unwrap();
    assert_eq!(untrusted(&report), vec![(mallory_fp, vec![4, 5, 6])], "{report}");
    assert_eq!(report.problems.len(), 1, "{report}");
}

#[tokio::test]
async fn a_key_introduced_by_a_trusted_key_is_trusted_after_rotation() {
    let fx = Fixture::new();
    fx.append_n(2).await;
    let new = fx.other_signer("new-key");
    let old_ledger = fx.ledger().await;
    let template = event(&fx.case, &fx.signer, Action::KeyAdded, 0);
    old_ledger.introduce_key(&new.public_key_openssh(), &template).await.unwrap();
    let new_ledger = fx.ledger_with(new.clone()).await;
    assert!(!new_ledger.would_add_key().await, "the rotation entry records the new key");
    new_ledger.append(event(&fx.case, &new, Action::Accessed, 9)).await.unwrap();
    assert_eq!(entries(&fx).len(), 5, "no second, self-signed key-added entry");

    let report = verify(&fx, Some(trust(&fx, &[&fx.signer])), None).await;
    assert!(report.is_trusted(), "{report}");
    assert_eq!(report.signers.len(), 2);

    // The same new key introducing itself is not trusted.
    let fx2 = Fixture::new();
    fx2.append_n(2).await;
    let new2 = fx2.other_signer("new-key");
    fx2.ledger_with(new2.clone()).await.append(event(&fx2.case, &new2, Action::Accessed, 9)).await.unwrap();
    let report = verify(&fx2, Some(trust(&fx2, &[&fx2.signer])), None).await;
    assert_eq!(untrusted(&report).len(), 1, "{report}");
    // Unless the organisation pins it too.
    assert!(verify(&fx2, Some(trust(&fx2, &[&fx2.signer, &new2])), None).await.is_trusted());
}

#[tokio::test]
async fn cutting_off_the_end_is_caught_by_a_receipt() {
    let fx = Fixture::new();
    fx.append_n(5).await;
    let receipt = verify(&fx, None, None).await.head.unwrap();
    for seq in 4..=6 {
        std::fs::remove_file(fx.entry_path(seq)).unwrap();
    }
    let report = verify(&fx, Some(trust(&fx, &[&fx.signer])), Some(receipt)).await;
    assert_eq!(report.problems, vec![Problem::ReceiptBeyondHead { seq: 6, head: 3 }], "{report}");
    assert!(report.to_string().contains("entries 4-6: missing (the ledger ends at entry 3"), "{report}");
    assert!(report.to_string().contains("receipt: seq 6"), "{report}");

    // An older receipt the cut did not reach still holds.
    let old = HeadReceipt { seq: 2, sha256: entries(&fx)[1].body_sha256().unwrap() };
    assert!(verify(&fx, Some(trust(&fx, &[&fx.signer])), Some(old)).await.is_trusted());
}

#[tokio::test]
async fn an_unknown_case_is_not_found() {
    let fx = Fixture::new();
    fx.append_n(1).await;
    let other = "NOPE".parse().unwrap();
    let err = verify_case_with(fx.store.as_ref(), &other, &VerifyOptions::default()).await.unwrap_err();
    assert_eq!(err.kind(), exhibit_core::ErrorKind::NotFound);
    assert!(err.to_string().contains("case NOPE not found"), "{err}");
    assert!(fx.store.list(&format!("cases/{other}/")).await.unwrap().is_empty());
}

#[test]
fn a_trusted_keys_file_that_is_a_fifo_a_folder_or_huge_is_refused_without_hanging() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let huge = dir.path().join("huge");
    std::fs::write(&huge, "# padding\n".repeat(200_000)).unwrap();
    for path in [fifo, dir.path().to_owned(), huge] {
        let err = TrustedKeys::load(&path).unwrap_err();
        assert!(matches!(err, exhibit_custody::TrustError::Unusable { .. }), "{}: {err}", path.display());
    }
    let err = TrustedKeys::load(&dir.path().join("absent")).unwrap_err();
    assert_eq!(err.kind(), exhibit_core::ErrorKind::NotFound);
}
