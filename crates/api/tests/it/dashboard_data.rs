//! The dashboard's data over the API's state: done and failed jobs from
//! the read model, queued and running ones from the case's run records in
//! the store (the ledger records neither).

use exhibit_api::dashboard::{IN_FLIGHT_STAGE, ReadModelData};
use exhibit_app::access::Role;
use exhibit_core::ids::{CaseId, ExhibitRef};
use exhibit_dashboard::{DashboardData, JobCounts, Principal};
use exhibit_pipeline::{Completions, RunId};
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
    let data = ReadModelData::new(server.state.clone());
    let alice =
        Principal { org: "Force A".into(), user: "alice".into(), role: "submitter".into(), credential: String::new() };

    let recorded = data.cases(&alice).await.unwrap()[0].jobs;
    assert_eq!((recorded.queued, recorded.running), (0, 0), "an ingest that ran here left nothing in flight");
    assert!(recorded.done > 0, "{recorded:?}");

    // A run handed to workers: three jobs, one of them started.
    let completions = Completions::new(server.store.clone(), &case, RunId::new());
    let jobs = [job(&case, "JS/1", 1), job(&case, "JS/1", 2), job(&case, "JS/2", 3)];
    completions.put_roots(&jobs).await.unwrap();
    completions.mark_started(&jobs[0].job_id).await.unwrap();

    let listed = data.cases(&alice).await.unwrap()[0].jobs;
    assert_eq!(listed, JobCounts { queued: 2, running: 1, ..recorded });
    let detail = data.case(&alice, &case).await.unwrap().unwrap();
    assert_eq!(detail.summary.jobs, listed);
    let js1 = detail.exhibits.iter().find(|e| e.exhibit.as_str() == "JS/1").unwrap();
    let in_flight = js1.stages.iter().find(|s| s.stage == IN_FLIGHT_STAGE).unwrap();
    assert_eq!(in_flight.jobs, JobCounts { queued: 1, running: 1, done: 0, failed: 0 });
    assert!(js1.stages.iter().filter(|s| s.stage != IN_FLIGHT_STAGE).all(|s| s.jobs.queued + s.jobs.running == 0));
}
