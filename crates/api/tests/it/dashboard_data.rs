//! The dashboard's data over the API's state: done and failed jobs from
//! the read model, queued and running ones from the case's run records in
//! the store (the ledger records neither).

use exhibit_api::dashboard::{IN_FLIGHT_STAGE, ReadModelData};
use exhibit_app::access::Role;
use exhibit_core::ids::{CaseId, ExhibitRef};
use exhibit_dashboard::{DashboardData, JobCounts, Principal};
use exhibit_pipeline::{Completion, Completions, JobOutcome, RunId};
use exhibit_queue::{Job, JobId, JobInput};
use serde_json::json;

use crate::common::{Server, post_json};

const CASE: &str = "2024/00777/POL";

fn job(case: &CaseId, exhibit: &str, n: u32) -> Job {
    Job {
        job_id: JobId(format!("{n:032x}")),
        case: case.clone(),
        exhibit: exhibit.parse::<ExhibitRef>().unwrap(),
        stage: "explore".into(),
        input: JobInput::Unreadable(json!({})),
        attempt: 0,
        run: None,
        signature: None,
        after: Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_and_running_jobs_come_from_the_run_records() {
    let server = Server::start().await;
    let token = server.token("Force A", "alice", Role::Submitter).await;
    assert_eq!(post_json(&server, "/v1/cases", &token, json!({"case": CASE})).await.status, 201);
    server.ingest(CASE, 2).await;
    let case: CaseId = CASE.parse().unwrap();
    let stored: CaseId = server.stored(CASE).await;
    let data = ReadModelData::new(server.state.clone());
    let alice =
        Principal { org: "Force A".into(), user: "alice".into(), role: "submitter".into(), credential: String::new() };

    let recorded = data.cases(&alice).await.unwrap()[0].jobs;
    assert_eq!((recorded.queued, recorded.running), (0, 0), "an ingest that ran here left nothing in flight");
    assert!(recorded.done > 0, "{recorded:?}");

    // A run handed to workers: three jobs, one of them started.
    let completions = Completions::new(server.store.clone(), &stored, RunId::new());
    let jobs = [job(&stored, "JS/1", 1), job(&stored, "JS/1", 2), job(&stored, "JS/2", 3)];
    completions.put_roots(&jobs).await.unwrap();
    completions.mark_started(&jobs[0].job_id).await.unwrap();

    let listed = data.cases(&alice).await.unwrap()[0].jobs;
    assert_eq!(listed, JobCounts { queued: 2, running: 1, ..recorded });
    let detail = data.case(&alice, &case, None).await.unwrap().unwrap();
    assert_eq!(detail.summary.jobs, listed);
    let js1 = detail.exhibits.iter().find(|e| e.exhibit.as_str() == "JS/1").unwrap();
    let in_flight = js1.stages.iter().find(|s| s.stage == IN_FLIGHT_STAGE).unwrap();
    assert_eq!(in_flight.jobs, JobCounts { queued: 1, running: 1, done: 0, failed: 0 });
    assert!(js1.stages.iter().filter(|s| s.stage != IN_FLIGHT_STAGE).all(|s| s.jobs.queued + s.jobs.running == 0));
}

fn done(job: &Job) -> Completion {
    Completion {
        job_id: job.job_id.clone(),
        stage: job.stage.clone(),
        outcome: JobOutcome::Done,
        follow_ups: Vec::new(),
    }
}

/// A run that is over is read once: later views do not read its records
/// again (shown by removing them from the store after the first view),
/// while a run still going is read on every view.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_that_is_over_is_read_once_and_a_run_still_going_every_time() {
    let server = Server::start().await;
    let token = server.token("Force A", "alice", Role::Submitter).await;
    assert_eq!(post_json(&server, "/v1/cases", &token, json!({"case": CASE})).await.status, 201);
    let stored: CaseId = server.stored(CASE).await;
    let data = ReadModelData::new(server.state.clone());
    let alice =
        Principal { org: "Force A".into(), user: "alice".into(), role: "submitter".into(), credential: String::new() };

    let over_run = RunId::new();
    let over = Completions::new(server.store.clone(), &stored, over_run.clone());
    let over_jobs = [job(&stored, "JS/1", 1), job(&stored, "JS/1", 2)];
    over.put_roots(&over_jobs).await.unwrap();
    for j in &over_jobs {
        over.put(&done(j)).await.unwrap();
    }
    over.hand_off().await.unwrap();
    let going = Completions::new(server.store.clone(), &stored, RunId::new());
    let going_jobs = [job(&stored, "JS/2", 3), job(&stored, "JS/2", 4)];
    going.put_roots(&going_jobs).await.unwrap();
    going.hand_off().await.unwrap();

    let first = data.cases(&alice).await.unwrap()[0].jobs;
    assert_eq!((first.queued, first.running), (2, 0), "{first:?}");

    // The finished run's records go; a view that read them again would
    // count its jobs as queued.
    let case_dir = exhibit_core::layout::case_prefix(&stored);
    let records = server.dir.path().join("store").join(case_dir).join("runs").join(over_run.as_str()).join("jobs");
    std::fs::remove_dir_all(&records).unwrap_or_else(|e| panic!("{}: {e}", records.display()));
    going.mark_started(&going_jobs[0].job_id).await.unwrap();

    let second = data.cases(&alice).await.unwrap()[0].jobs;
    assert_eq!((second.queued, second.running), (1, 1), "the run still going is read again; the one over is not");
}

/// An upload that arrived whole but whose ingest failed is the case's
/// failure on the dashboard too (the attacker saw "Nothing has failed"
/// beside the API's status listing two).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_whose_ingest_failed_is_a_failure_on_the_dashboard() {
    use exhibit_app::intake::{UploadEntry, UploadState};
    let server = Server::start().await;
    let token = server.token("Force A", "alice", Role::Submitter).await;
    assert_eq!(post_json(&server, "/v1/cases", &token, json!({"case": CASE})).await.status, 201);
    let case: CaseId = CASE.parse().unwrap();
    let stored: CaseId = server.stored(CASE).await;
    let alice =
        Principal { org: "Force A".into(), user: "alice".into(), role: "submitter".into(), credential: String::new() };
    let org = server.access.org("Force A").await.unwrap().unwrap();
    let entry = UploadEntry {
        id: "put-0123456789abcdef".into(),
        case: stored.clone(),
        org: org.id,
        operator: "alice (Force A)".into(),
        exhibit: "JS/3".parse().unwrap(),
        filename: "scan 7.tif".into(),
        size: 5,
        sha256: exhibit_core::Sha256Digest::of(b"bytes"),
        state: UploadState::Failed,
        reason: Some("the ingest stopped: the store is full; send the file again".into()),
        updated_at: time::OffsetDateTime::now_utc(),
    };
    server.access.intake().record_upload(&entry).await.unwrap();
    let data = ReadModelData::new(server.state.clone());
    let listed = data.cases(&alice).await.unwrap()[0].jobs;
    assert_eq!(listed.failed, 1, "{listed:?}");
    let detail = data.case(&alice, &case, None).await.unwrap().unwrap();
    let shown = detail.failures.iter().find(|f| f.item == "scan 7.tif").expect("the failed upload is listed");
    assert_eq!((shown.stage.as_str(), shown.exhibit.as_ref().map(|e| e.as_str())), ("upload", Some("JS/3")));
    assert!(shown.problem.contains("the store is full"), "{shown:?}");

    // Bytes refused as they arrived are on the dashboard too.
    let refusal = exhibit_app::intake::Refusal {
        case: stored.clone(),
        org: org.id,
        operator: "bob (Force A)".into(),
        exhibit: Some("JS/4".into()),
        filename: Some("scan 8.tif".into()),
        upload: None,
        reason: "the body's SHA-256 is not the Content-Digest sent".into(),
        at: time::OffsetDateTime::now_utc(),
    };
    server.access.intake().record_refusal(&refusal).await.unwrap();
    let detail = data.case(&alice, &case, None).await.unwrap().unwrap();
    let refused = detail.failures.iter().find(|f| f.item == "scan 8.tif").expect("the refusal is listed");
    assert_eq!(refused.stage, "upload refused");
    assert!(refused.problem.contains("Content-Digest") && refused.problem.contains("bob (Force A)"), "{refused:?}");
}

/// The dashboard's case page takes the owner, as the API's `?owner=`: a
/// name two shared cases carry, and a shared case of a name the
/// organisation also owns, are each reachable (they were the 404 page, or
/// the organisation's own case).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_of_a_name_several_organisations_hold_is_picked_by_owner() {
    let server = Server::start().await;
    let alice = server.token("Force A", "alice", Role::Admin).await;
    let bob = server.token("Force B", "bob", Role::Admin).await;
    server.token("Defence", "dave", Role::Reviewer).await;
    let c = crate::common::seg(CASE);
    for token in [&alice, &bob] {
        assert_eq!(post_json(&server, "/v1/cases", token, json!({"case": CASE})).await.status, 201);
        let shared = post_json(&server, &format!("/v1/cases/{c}/shares"), token, json!({"org": "Defence"})).await;
        assert_eq!(shared.status, 201, "{shared:?}");
    }
    let shared = post_json(&server, &format!("/v1/cases/{c}/shares"), &alice, json!({"org": "Force B"})).await;
    assert_eq!(shared.status, 201, "{shared:?}");
    let data = ReadModelData::new(server.state.clone());
    let who = |org: &str, user: &str| Principal {
        org: org.into(),
        user: user.into(),
        role: "reviewer".into(),
        credential: String::new(),
    };
    let (dave, bob) = (who("Defence", "dave"), who("Force B", "bob"));
    let case: CaseId = CASE.parse().unwrap();
    let owner_of =
        |detail: Option<exhibit_dashboard::CaseDetail>| detail.map(|d| (d.summary.owner, d.shared_read_only));
    assert_eq!(owner_of(data.case(&dave, &case, None).await.unwrap()), None, "two shared: say which");
    for owner in ["Force A", "force b"] {
        let picked = owner_of(data.case(&dave, &case, Some(owner)).await.unwrap());
        assert_eq!(picked.map(|(o, _)| o.to_lowercase()), Some(owner.to_lowercase()));
    }
    assert_eq!(owner_of(data.case(&bob, &case, None).await.unwrap()), Some(("Force B".into(), false)), "its own");
    let theirs = owner_of(data.case(&bob, &case, Some("Force A")).await.unwrap());
    assert_eq!(theirs, Some(("Force A".into(), true)), "the shared one by owner");
    assert_eq!(owner_of(data.case(&bob, &case, Some("Nobody")).await.unwrap()), None);
}

/// A failed job's row names its item once: the problem does not repeat
/// the path the row is headed with.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_names_its_item_once() {
    use exhibit_tus::content_digest::header_value;
    let server = Server::start().await;
    let token = server.token("Force A", "alice", Role::Submitter).await;
    assert_eq!(post_json(&server, "/v1/cases", &token, json!({"case": CASE})).await.status, 201);
    let data: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let digest = header_value(&exhibit_core::Sha256Digest::of(&data));
    let path = format!("/v1/cases/{}/exhibits/JS%2F9/files/disk1.E01", crate::common::seg(CASE));
    let headers = [("Content-Type", "application/octet-stream"), ("Content-Digest", digest.as_str())];
    let reply = crate::common::request("PUT", &server.url(&path), Some(&token), &headers, Some(data)).await;
    assert_eq!(reply.status, 201, "{reply:?}");
    let alice =
        Principal { org: "Force A".into(), user: "alice".into(), role: "submitter".into(), credential: String::new() };
    let case: CaseId = CASE.parse().unwrap();
    let detail = ReadModelData::new(server.state.clone()).case(&alice, &case, None).await.unwrap().unwrap();
    let failure = detail.failures.iter().find(|f| f.stage == "explore").expect("the failed explore is listed");
    assert!(failure.item.ends_with("disk1.E01"), "{failure:?}");
    assert!(!failure.problem.contains(&failure.item), "the path twice: {failure:?}");
    // The API's problem names it once too.
    let status = crate::common::get(&server, &format!("/v1/cases/{}/status", crate::common::seg(CASE)), &token).await;
    let problems = status.json()["problems"].clone();
    let text = problems[0]["text"].as_str().unwrap_or_default().to_owned();
    assert_eq!(text.matches(failure.item.as_str()).count(), 1, "{problems}");
}
