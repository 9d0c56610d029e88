//! The checks every [`IntakeJournal`](super::IntakeJournal) backend must
//! pass; [`crate::access::conformance::run_all`] runs them on each access
//! state backend, whose database holds the journal.

use exhibit_core::Sha256Digest;
use exhibit_core::ids::CaseId;
use time::OffsetDateTime;

use super::{CaseIntake, Refusal, Submission, SubmissionRow, UploadCounts, UploadEntry, UploadState};
use crate::access::{AccessState, OrgId};

/// Runs every check, one fresh state per check.
pub async fn run_all<F, Fut>(make: &F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Box<dyn AccessState>>,
{
    uploads_move_through_states_and_are_counted(make().await.as_ref()).await;
    submissions_keep_their_rows_with_the_uploads_states(make().await.as_ref()).await;
    refusals_are_listed_newest_first_with_hostile_text_kept(make().await.as_ref()).await;
}

fn case(text: &str) -> CaseId {
    text.parse().expect("a valid case ID")
}

fn upload(id: &str, org: OrgId, case_id: &str, bytes: &[u8]) -> UploadEntry {
    UploadEntry {
        id: id.to_owned(),
        case: case(case_id),
        org,
        operator: "alice (Force A)".into(),
        exhibit: "JS/1".parse().expect("exhibit"),
        filename: "disk 1.E01".into(),
        size: bytes.len() as u64,
        sha256: Sha256Digest::of(bytes),
        state: UploadState::Queued,
        reason: None,
        updated_at: OffsetDateTime::from_unix_timestamp(1_700_000_000).expect("time"),
    }
}

async fn uploads_move_through_states_and_are_counted(state: &dyn AccessState) {
    let org = state.add_org("Force A").await.expect("org").id;
    let journal = state.intake();
    let first = upload("a1", org, "2024/00123/POL", b"one");
    journal.record_upload(&first).await.expect("record");
    journal.record_upload(&upload("a2", org, "2024/00123/POL", b"two")).await.expect("record");
    journal.record_upload(&upload("b1", org, "OTHER1", b"one")).await.expect("record");
    let later = first.updated_at + time::Duration::minutes(1);
    assert!(journal.set_upload_state("a1", UploadState::Running, None, later).await.expect("set"));
    assert!(!journal.set_upload_state("nosuch", UploadState::Done, None, later).await.expect("set"));
    let why = "the ledger of case 2024/00123/POL fails its check; run exhibit verify";
    assert!(journal.set_upload_state("a2", UploadState::Failed, Some(why), later).await.expect("set"));

    // Letter case of the case ID does not count; another case is apart.
    let found = journal.upload(&case("2024/00123/pol"), "a1").await.expect("find").expect("a1");
    assert_eq!(
        (found.state, found.sha256, found.filename.as_str()),
        (UploadState::Running, first.sha256, "disk 1.E01")
    );
    assert_eq!(journal.upload(&case("OTHER1"), "a1").await.expect("find"), None);
    let same = journal.uploads_with_sha256(&case("2024/00123/POL"), &Sha256Digest::of(b"one")).await.expect("sha");
    assert_eq!(same.iter().map(|u| u.id.as_str()).collect::<Vec<_>>(), ["a1"]);

    let intake = journal.case_intake(&case("2024/00123/POL")).await.expect("intake");
    assert_eq!(intake.counts, UploadCounts { queued: 0, running: 1, done: 0, failed: 1 });
    assert_eq!(intake.failed.len(), 1);
    assert_eq!(intake.failed[0].reason.as_deref(), Some(why));
    // Recording again replaces the state, keeps the rest.
    let mut again = upload("a2", org, "2024/00123/POL", b"changed");
    again.state = UploadState::Done;
    journal.record_upload(&again).await.expect("record");
    let kept = journal.upload(&case("2024/00123/POL"), "a2").await.expect("find").expect("a2");
    assert_eq!((kept.state, kept.reason, kept.sha256), (UploadState::Done, None, Sha256Digest::of(b"two")));

    // A failure is resolved once the same bytes are ingested into the same
    // exhibit by another upload (a PUT sent again): neither listed nor counted.
    let mut failed = upload("p1", org, "2024/00123/POL", b"three");
    failed.state = UploadState::Failed;
    failed.reason = Some("the server failed; send the file again".into());
    journal.record_upload(&failed).await.expect("record");
    assert_eq!(journal.case_intake(&case("2024/00123/POL")).await.expect("intake").failed.len(), 1);
    let mut other_exhibit = upload("p2", org, "2024/00123/POL", b"three");
    other_exhibit.exhibit = "JS/2".parse().expect("exhibit");
    other_exhibit.state = UploadState::Done;
    journal.record_upload(&other_exhibit).await.expect("record");
    assert_eq!(journal.case_intake(&case("2024/00123/POL")).await.expect("intake").failed.len(), 1, "another exhibit");
    let mut resent = upload("p3", org, "2024/00123/POL", b"three");
    resent.state = UploadState::Done;
    journal.record_upload(&resent).await.expect("record");
    let intake = journal.case_intake(&case("2024/00123/POL")).await.expect("intake");
    assert!(intake.failed.is_empty(), "{:?}", intake.failed);
    assert_eq!(intake.counts.failed, 0);

    // A refusal is resolved once its bytes are stored: its tus upload
    // completed, or the same file of the same exhibit ingested after it.
    let refused_at = resent.updated_at + time::Duration::minutes(1);
    let refusal = |upload: Option<&str>, filename: &str| Refusal {
        case: case("2024/00123/POL"),
        org,
        operator: "alice (Force A)".into(),
        exhibit: Some("JS/1".into()),
        filename: Some(filename.into()),
        upload: upload.map(str::to_owned),
        reason: "the chunk's SHA-256 does not match".into(),
        at: refused_at,
    };
    journal.record_refusal(&refusal(Some("t1"), "chunked.bin")).await.expect("refusal");
    journal.record_refusal(&refusal(None, "put.bin")).await.expect("refusal");
    let listed = |intake: &CaseIntake| intake.refusals.iter().filter_map(|r| r.filename.clone()).collect::<Vec<_>>();
    assert_eq!(listed(&journal.case_intake(&case("2024/00123/POL")).await.expect("intake")).len(), 2);
    let mut completed = upload("t1", org, "2024/00123/POL", b"chunks");
    completed.filename = "chunked.bin".into();
    (completed.state, completed.updated_at) = (UploadState::Done, refused_at + time::Duration::minutes(1));
    journal.record_upload(&completed).await.expect("record");
    let mut put_again = upload("p9", org, "2024/00123/POL", b"put");
    put_again.filename = "put.bin".into();
    (put_again.state, put_again.updated_at) = (UploadState::Done, refused_at + time::Duration::minutes(2));
    journal.record_upload(&put_again).await.expect("record");
    let intake = journal.case_intake(&case("2024/00123/POL")).await.expect("intake");
    assert!(listed(&intake).is_empty(), "{:?}", intake.refusals);
}

async fn submissions_keep_their_rows_with_the_uploads_states(state: &dyn AccessState) {
    let org = state.add_org("Force A").await.expect("org").id;
    let journal = state.intake();
    let mut done = upload("u1", org, "C1", b"x");
    done.state = UploadState::Done;
    journal.record_upload(&done).await.expect("record");
    let submission = Submission {
        id: "0123456789abcdef0123456789abcdef".into(),
        case: case("C1"),
        org,
        operator: "alice (Force A)".into(),
        manifest_sha256: Sha256Digest::of(b"manifest"),
        created_at: OffsetDateTime::from_unix_timestamp(1_700_000_000).expect("time"),
    };
    let row = |place: &str, upload: Option<&str>, reason: Option<&str>| SubmissionRow {
        place: place.into(),
        exhibit: Some("JS/1".into()),
        upload: upload.map(str::to_owned),
        accepted: reason.is_none(),
        reason: reason.map(str::to_owned),
        upload_state: None,
        upload_reason: None,
    };
    let rows = [row("line 2", Some("u1"), None), row("line 3", None, Some("no upload with that ID in this case"))];
    journal.add_submission(&submission, &rows).await.expect("add");
    assert_eq!(journal.submission(&case("C2"), &submission.id).await.expect("find"), None, "another case");
    let (found, read) = journal.submission(&case("c1"), &submission.id).await.expect("find").expect("found");
    assert_eq!(found, submission);
    assert_eq!(read.iter().map(|r| r.place.as_str()).collect::<Vec<_>>(), ["line 2", "line 3"]);
    assert_eq!((read[0].accepted, read[0].upload_state), (true, Some(UploadState::Done)));
    assert_eq!((read[1].accepted, read[1].upload_state), (false, None));
    assert!(journal.add_submission(&submission, &rows).await.is_err(), "an ID is used once");
}

async fn refusals_are_listed_newest_first_with_hostile_text_kept(state: &dyn AccessState) {
    let org = state.add_org("Force A").await.expect("org").id;
    let journal = state.intake();
    let at = OffsetDateTime::from_unix_timestamp(1_700_000_000).expect("time");
    for (n, reason) in ["first", "second with NUL \0 and 'quotes'; DROP TABLE in_refusals; --"].iter().enumerate() {
        let refusal = Refusal {
            case: case("C1"),
            org,
            operator: "alice (Force A)".into(),
            exhibit: Some("JS/1".into()),
            filename: Some(format!("file{n}")),
            upload: None,
            reason: (*reason).to_owned(),
            at,
        };
        journal.record_refusal(&refusal).await.expect("refusal");
    }
    let intake = journal.case_intake(&case("C1")).await.expect("intake");
    let reasons: Vec<&str> = intake.refusals.iter().map(|r| r.reason.as_str()).collect();
    assert_eq!(reasons, ["second with NUL \u{fffd} and 'quotes'; DROP TABLE in_refusals; --", "first"]);
    assert!(journal.case_intake(&case("C2")).await.expect("intake").refusals.is_empty());
}
