//! Concurrent appenders never fork the ledger or leave a gap.

use std::collections::BTreeSet;
use std::time::Instant;

use exhibit_core::event::Action;
use exhibit_custody::{read_entries, verify_case, verify_signature};

use crate::common::{Fixture, event};

const WRITERS: u64 = 8;
const EACH: u64 = 500;

#[tokio::test(flavor = "multi_thread", worker_threads = 8)]
async fn eight_concurrent_ledgers_append_without_gaps_or_forks() {
    let fx = Fixture::new();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        // Each writer has its own key and its own Ledger instance, so they
        // coordinate only through create-only puts.
        let signer = fx.other_signer(&format!("writer-{w}"));
        let ledger = fx.ledger_with(signer.clone()).await;
        let case = fx.case.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..EACH {
                ledger.append(event(&case, &signer, Action::Accessed, w * EACH + i)).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    eprintln!("appended {} events in {:?}", WRITERS * EACH, started.elapsed());

    let entries = read_entries(fx.store.as_ref(), &fx.case).await.unwrap();
    assert_eq!(entries.len() as u64, WRITERS * EACH + WRITERS, "one key-added entry per writer");
    let mut prev = None;
    let mut seen = BTreeSet::new();
    for (i, stored) in entries.iter().enumerate() {
        assert_eq!(stored.seq, i as u64 + 1, "no gap");
        let entry = stored.parsed.as_ref().unwrap();
        assert_eq!(entry.seq, stored.seq);
        assert_eq!(entry.prev, prev, "entry {} links to its predecessor", entry.seq);
        let body = entry.body_bytes().unwrap();
        assert!(verify_signature(&entry.event.actor.public_key, &body, &entry.sig), "entry {}", entry.seq);
        prev = Some(entry.body_sha256().unwrap());
        if entry.event.action == Action::Accessed {
            assert!(seen.insert(entry.event.params["n"].as_u64().unwrap()), "event recorded twice");
        }
    }
    assert_eq!(seen.len() as u64, WRITERS * EACH, "every event recorded");

    let report = verify_case(fx.store.as_ref(), &fx.case).await.unwrap();
    assert!(report.is_clean(), "{report}");
    assert_eq!(report.keys.len() as u64, WRITERS);
    eprintln!("{report} (total {:?})", started.elapsed());
}
