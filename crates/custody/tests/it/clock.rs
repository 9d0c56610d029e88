//! Back-dating: an entry's `at` is chosen by its signer, so a retired key
//! can date an entry inside its validity. Verify flags an entry dated over
//! an hour before its predecessor; honest interleaving (minutes) passes.

use exhibit_core::event::Action;
use exhibit_custody::{Problem, verify_case};
use time::Duration;

use crate::common::{Fixture, event};

async fn append_dated(fx: &Fixture, back: Duration) -> u64 {
    fx.append_n(3).await;
    let ledger = fx.ledger().await;
    let mut dated = event(&fx.case, &fx.signer, Action::Accessed, 99);
    dated.at -= back;
    ledger.append(dated).await.unwrap().seq
}

#[tokio::test]
async fn an_entry_dated_days_before_its_predecessor_is_flagged() {
    let fx = Fixture::new();
    let seq = append_dated(&fx, Duration::days(30)).await;
    let report = verify_case(fx.store.as_ref(), &fx.case).await.unwrap();
    let backdated: Vec<&Problem> =
        report.problems.iter().filter(|p| matches!(p, Problem::EntryBackdated { .. })).collect();
    assert_eq!(backdated.len(), 1, "{report}");
    assert!(matches!(backdated[0], Problem::EntryBackdated { seq: s, after, .. } if *s == seq && *after == seq - 1));
    assert!(report.to_string().contains(&format!("entry {seq}: back-dated?")), "{report}");
}

#[tokio::test]
async fn entries_a_few_minutes_out_of_order_are_not_flagged() {
    let fx = Fixture::new();
    append_dated(&fx, Duration::minutes(10)).await;
    let report = verify_case(fx.store.as_ref(), &fx.case).await.unwrap();
    assert!(report.is_clean(), "{report}");
}
