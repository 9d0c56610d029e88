//! RFC 3161 anchors against a loopback TSA (`openssl ts -reply`): they
//! verify with exhibit and `openssl ts -verify`, and they catch the
//! attacks that a valid chain of signatures cannot: a rewrite with a new
//! key, and a cut of the chain's end.

use std::time::Duration;

use exhibit_core::event::Action;
use exhibit_core::layout::anchor_key;
use exhibit_custody::{
    AnchorOutcome, Anchorer, LedgerEntry, Problem, Signer, VerifyOptions, VerifyReport, anchor_head, verify_case,
    verify_case_with,
};
use exhibit_timestamp::loopback::{KeyKind, LoopbackTsa, Mode, unreachable_url};
use exhibit_timestamp::{TsaClient, TsaTrust};
use serde_json::Value;

use crate::common::{Fixture, overwrite};

struct Tsa {
    _dir: tempfile::TempDir,
    tsa: LoopbackTsa,
}

impl Tsa {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let tsa = LoopbackTsa::start(dir.path(), KeyKind::EcP256).unwrap();
        Self { _dir: dir, tsa }
    }

    fn trust(&self) -> TsaTrust {
        TsaTrust::load(&self.tsa.ca_file(), None).unwrap()
    }

    fn anchorer(&self) -> Anchorer {
        anchorer_at(&self.tsa.url(), Some(self.trust()))
    }
}

fn anchorer_at(url: &str, trust: Option<TsaTrust>) -> Anchorer {
    Anchorer::new(TsaClient::new(url, Duration::from_secs(10), None).unwrap(), trust)
}

async fn verify_with(fx: &Fixture, tsa: &Tsa) -> VerifyReport {
    let options = VerifyOptions { tsa_trust: Some(tsa.trust()), ..Default::default() };
    verify_case_with(fx.store.as_ref(), &fx.case, &options).await.unwrap()
}

fn anchor_file(fx: &Fixture, seq: u64) -> String {
    anchor_key(&fx.case, seq).to_string()
}

#[tokio::test]
async fn an_anchor_verifies_with_exhibit_and_openssl_and_is_made_once() {
    let (fx, tsa) = (Fixture::new(), Tsa::start());
    fx.append_n(5).await;
    let outcome = anchor_head(&fx.store, &fx.case, &tsa.anchorer()).await.unwrap();
    let AnchorOutcome::Anchored { seq: 6, body_sha256, .. } = outcome else { panic!("{outcome:?}") };
    let again = anchor_head(&fx.store, &fx.case, &tsa.anchorer()).await.unwrap();
    assert_eq!(again, AnchorOutcome::AlreadyAnchored { seq: 6 });
    assert_eq!(tsa.tsa.tokens_issued(), 1, "an unchanged head got a second token");

    // The imprint is what the next entry's `prev` holds.
    fx.append_n(1).await;
    let next = LedgerEntry::parse(&std::fs::read(fx.entry_path(7)).unwrap()).unwrap();
    assert_eq!(next.prev, Some(body_sha256));
    let path = fx.local.path_of(&anchor_key(&fx.case, 6)).unwrap();
    let out = std::process::Command::new("openssl")
        .args(["ts", "-verify", "-digest", &body_sha256.to_hex(), "-in"])
        .arg(&path)
        .arg("-CAfile")
        .arg(tsa.tsa.ca_file())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let report = verify_with(&fx, &tsa).await;
    assert!(report.is_clean(), "{report}");
    assert_eq!((report.anchors.found, report.anchors.latest), (1, Some(6)));
    assert!(report.to_string().contains("anchors: 1 checked against"), "{report}");
}

#[tokio::test]
async fn without_a_ca_anchors_are_reported_as_not_checked() {
    let (fx, tsa) = (Fixture::new(), Tsa::start());
    fx.append_n(2).await;
    anchor_head(&fx.store, &fx.case, &tsa.anchorer()).await.unwrap();
    let report = verify_case(fx.store.as_ref(), &fx.case).await.unwrap();
    assert!(report.is_clean());
    assert_eq!(report.anchors.checked_against, None);
    assert!(report.to_string().contains("WARNING: 1 timestamp anchor(s) were NOT checked"), "{report}");
}

/// Issue 10's first attack: a fresh key re-signs every entry, with the
/// operator renamed, as one consistent chain.
fn rewrite_with_new_key(fx: &Fixture, forger: &Signer) {
    let key = forger.public_key_openssh();
    let mut prev = None;
    for seq in 1.. {
        let Ok(bytes) = std::fs::read(fx.entry_path(seq)) else { break };
        let mut entry = LedgerEntry::parse(&bytes).unwrap();
        entry.events_mut()[0].actor.public_key = key.clone();
        entry.events_mut()[0].actor.operator = "Someone Else".into();
        if entry.events()[0].action == Action::KeyAdded {
            entry.events_mut()[0].params.insert("public_key".into(), Value::String(key.clone()));
        }
        entry.prev = prev;
        entry.sig = forger.sign(&entry.body_bytes().unwrap()).unwrap();
        prev = Some(entry.body_sha256().unwrap());
        overwrite(&fx.entry_path(seq), &entry.file_bytes().unwrap());
    }
}

#[tokio::test]
async fn a_rewrite_with_a_new_key_is_caught_by_the_anchor() {
    let (fx, tsa) = (Fixture::new(), Tsa::start());
    fx.append_n(5).await;
    anchor_head(&fx.store, &fx.case, &tsa.anchorer()).await.unwrap();
    fx.append_n(2).await;
    rewrite_with_new_key(&fx, &fx.other_signer("forger"));
    // The chain alone is consistent: the attack works without anchors.
    let report = verify_case(fx.store.as_ref(), &fx.case).await.unwrap();
    let chain_only: Vec<_> = report.problems.iter().filter(|p| !matches!(p, Problem::AnchorMismatch { .. })).collect();
    assert!(chain_only.is_empty(), "{report}");

    let report = verify_with(&fx, &tsa).await;
    let Some(Problem::AnchorMismatch { seq: 6, file, found: Some(_), .. }) = report.problems.first() else {
        panic!("{report}")
    };
    assert_eq!(file, &anchor_file(&fx, 6));
    let text = report.to_string();
    assert!(text.contains(&format!("entry 6 altered: anchor {} timestamped sha256", anchor_file(&fx, 6))), "{text}");
}

#[tokio::test]
async fn cutting_off_the_end_past_the_latest_anchor_names_the_missing_entry() {
    let (fx, tsa) = (Fixture::new(), Tsa::start());
    fx.append_n(3).await;
    anchor_head(&fx.store, &fx.case, &tsa.anchorer()).await.unwrap();
    fx.append_n(3).await;
    anchor_head(&fx.store, &fx.case, &tsa.anchorer()).await.unwrap();
    for seq in 4..=7 {
        std::fs::remove_file(fx.entry_path(seq)).unwrap();
    }
    let report = verify_with(&fx, &tsa).await;
    let expected = vec![
        Problem::AnchorEntryMissing { file: anchor_file(&fx, 4), seq: 4 },
        Problem::AnchorEntryMissing { file: anchor_file(&fx, 7), seq: 7 },
    ];
    assert_eq!(report.problems, expected, "{report}");
    let text = report.to_string();
    assert!(text.contains(&format!("entry 7 missing: anchor {} shows it existed", anchor_file(&fx, 7))), "{text}");
}

#[tokio::test]
async fn a_token_from_another_tsa_or_over_another_hash_fails_by_name() {
    let (fx, tsa, other) = (Fixture::new(), Tsa::start(), Tsa::start());
    fx.append_n(1).await;
    // Another TSA (a CA with the same name but other keys) anchors entry 2.
    anchor_head(&fx.store, &fx.case, &other.anchorer()).await.unwrap();
    fx.append_n(1).await;
    let AnchorOutcome::Anchored { seq: 3, .. } = anchor_head(&fx.store, &fx.case, &tsa.anchorer()).await.unwrap()
    else {
        panic!()
    };
    // Entry 3's token, planted as the anchor of entry 1: another hash.
    let token = std::fs::read(fx.local.path_of(&anchor_key(&fx.case, 3)).unwrap()).unwrap();
    let planted = fx.local.path_of(&anchor_key(&fx.case, 1)).unwrap();
    std::fs::write(&planted, token).unwrap();

    let report = verify_with(&fx, &tsa).await;
    assert_eq!(report.problems.len(), 2, "{report}");
    assert!(
        matches!(&report.problems[0], Problem::AnchorMismatch { seq: 1, file, .. } if *file == anchor_file(&fx, 1))
    );
    let Problem::AnchorInvalid { seq: 2, file, reason } = &report.problems[1] else { panic!("{report}") };
    assert_eq!(file, &anchor_file(&fx, 2));
    assert!(reason.contains("does not chain"), "{reason}");
    assert_eq!(report.anchors.latest, Some(3));
}

#[tokio::test]
async fn a_tsa_outage_stores_nothing_and_the_next_run_anchors_the_head() {
    let (fx, tsa) = (Fixture::new(), Tsa::start());
    fx.append_n(2).await;
    let down = anchorer_at(&unreachable_url().unwrap(), Some(tsa.trust()));
    let err = anchor_head(&fx.store, &fx.case, &down).await.unwrap_err();
    assert_eq!(err.kind(), exhibit_core::ErrorKind::Io, "{err}");
    assert_eq!(err.seq(), Some(3));
    tsa.tsa.set_mode(Mode::HttpStatus(500));
    let err = anchor_head(&fx.store, &fx.case, &tsa.anchorer()).await.unwrap_err();
    assert!(err.to_string().contains("HTTP status 500"), "{err}");
    assert!(fx.store.list(&exhibit_core::layout::anchors_prefix(&fx.case)).await.unwrap().is_empty());
    tsa.tsa.set_mode(Mode::Sign);
    let outcome = anchor_head(&fx.store, &fx.case, &tsa.anchorer()).await.unwrap();
    assert!(matches!(outcome, AnchorOutcome::Anchored { seq: 3, .. }), "{outcome:?}");
}

#[tokio::test]
async fn hostile_anchor_files_are_invalid_not_fatal() {
    let (fx, tsa) = (Fixture::new(), Tsa::start());
    fx.append_n(2).await;
    let anchors = fx.local.path_of(&anchor_key(&fx.case, 1)).unwrap();
    std::fs::create_dir_all(anchors.parent().unwrap()).unwrap();
    std::fs::write(&anchors, b"\x30\x82\xff\xff garbage").unwrap();
    std::fs::write(anchors.with_file_name("notes.txt"), b"x").unwrap();
    let report = verify_with(&fx, &tsa).await;
    assert!(matches!(&report.problems[0], Problem::AnchorInvalid { seq: 1, .. }), "{report}");
    assert!(matches!(&report.problems[1], Problem::UnexpectedFile { key } if key.ends_with("notes.txt")), "{report}");
}

#[tokio::test]
async fn with_a_ca_and_no_anchors_verify_warns() {
    let (fx, tsa) = (Fixture::new(), Tsa::start());
    fx.append_n(1).await;
    let report = verify_with(&fx, &tsa).await;
    assert!(report.is_clean());
    assert!(report.to_string().contains("warning: no timestamp anchors"), "{report}");
}

/// A case idle since before a key was retired: a back-dated entry is in
/// order with its predecessor, but not with the anchor before it.
#[tokio::test]
async fn an_entry_dated_before_the_anchor_it_follows_is_flagged() {
    let (fx, tsa) = (Fixture::new(), Tsa::start());
    let ledger = fx.ledger().await;
    let dated = |n: u64, back: time::Duration| {
        let mut e = crate::common::event(&fx.case, &fx.signer, Action::Accessed, n);
        e.at -= back;
        e
    };
    ledger.append(dated(1, time::Duration::days(3))).await.unwrap();
    let outcome = anchor_head(&fx.store, &fx.case, &tsa.anchorer()).await.unwrap();
    let AnchorOutcome::Anchored { seq: anchored, .. } = outcome else { panic!("{outcome:?}") };
    let ledger = fx.ledger().await;
    let late = ledger.append(dated(2, time::Duration::days(2))).await.unwrap().seq;

    let report = verify_with(&fx, &tsa).await;
    let flagged: Vec<&Problem> =
        report.problems.iter().filter(|p| matches!(p, Problem::EntryBeforeAnchor { .. })).collect();
    assert_eq!(flagged.len(), 1, "{report}");
    assert!(
        matches!(flagged[0], Problem::EntryBeforeAnchor { seq, anchor, .. } if *seq == late && *anchor == anchored)
    );
    // (Entry 2 is flagged against the key-added entry 1, stamped now.)
    let in_order = !report.problems.iter().any(|p| matches!(p, Problem::EntryBackdated { seq, .. } if *seq == late));
    assert!(in_order, "{report}");
    // Without a CA the TSA's time is not trusted, so nothing is held to it.
    let unchecked = verify_case(fx.store.as_ref(), &fx.case).await.unwrap();
    assert!(!unchecked.problems.iter().any(|p| matches!(p, Problem::EntryBeforeAnchor { .. })), "{unchecked}");
}
