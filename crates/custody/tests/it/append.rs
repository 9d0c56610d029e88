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

    assert_chain(&fx, WRITERS, WRITERS * EACH).await;
    eprintln!("total {:?}", started.elapsed());
}

/// Batched appends (group commit) and single appends by other ledger
/// instances interleave into one chain, with no gap, fork or lost event.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn batched_and_single_appenders_interleave_without_gaps_or_forks() {
    const EVENTS: u64 = 200;
    const BATCH: u64 = 20;
    let fx = Fixture::new();
    let mut tasks = Vec::new();
    for w in 0..4u64 {
        let signer = fx.other_signer(&format!("writer-{w}"));
        let ledger = fx.ledger_with(signer.clone()).await;
        let case = fx.case.clone();
        tasks.push(tokio::spawn(async move {
            let events: Vec<_> = (0..EVENTS).map(|i| event(&case, &signer, Action::Accessed, w * EVENTS + i)).collect();
            if w % 2 == 0 {
                for chunk in events.chunks(BATCH as usize) {
                    let appended = ledger.append_batch(chunk).await.unwrap();
                    assert_eq!(appended.len(), chunk.len(), "every event of a batch lands");
                    assert!(appended.windows(2).all(|p| p[0].seq == p[1].seq), "a batch is one signed entry");
                }
            } else {
                for e in events {
                    ledger.append(e).await.unwrap();
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_chain(&fx, 4, 4 * EVENTS).await;
}

/// The ledger is one unbroken, validly signed chain holding each of
/// `events` `accessed` events once, after one key-added entry per writer.
async fn assert_chain(fx: &Fixture, writers: u64, events: u64) {
    let entries = read_entries(fx.store.as_ref(), &fx.case).await.unwrap();
    let recorded: usize = entries.iter().map(|s| s.parsed.as_ref().unwrap().events().len()).sum();
    assert_eq!(recorded as u64, events + writers, "one key-added event per writer");
    let mut prev = None;
    let mut seen = BTreeSet::new();
    for (i, stored) in entries.iter().enumerate() {
        assert_eq!(stored.seq, i as u64 + 1, "no gap");
        let entry = stored.parsed.as_ref().unwrap();
        assert_eq!(entry.seq, stored.seq);
        assert_eq!(entry.prev, prev, "entry {} links to its predecessor", entry.seq);
        let body = entry.body_bytes().unwrap();
        assert!(verify_signature(entry.signer_key(), &body, &entry.sig), "entry {}", entry.seq);
        prev = Some(entry.body_sha256().unwrap());
        for event in entry.events().iter().filter(|e| e.action == Action::Accessed) {
            assert!(seen.insert(event.params["n"].as_u64().unwrap()), "event recorded twice");
        }
    }
    assert_eq!(seen.len() as u64, events, "every event recorded");

    let report = verify_case(fx.store.as_ref(), &fx.case).await.unwrap();
    assert!(report.is_clean(), "{report}");
    assert_eq!(report.keys.len() as u64, writers);
}
