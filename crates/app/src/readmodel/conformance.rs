//! The suite every [`ReadModel`] backend must pass (SQLite here, PostgreSQL
//! for the cluster). Each check takes a fresh, empty read model and panics
//! with what broke, like a test. Cases are named per check, so a backend
//! shared between checks (one PostgreSQL schema) does not mix them up.

use exhibit_core::digest::{Digests, Sha256Digest};
use exhibit_core::event::{Action, Actor, CustodyEvent, Outcome};
use exhibit_core::ids::{ArtefactId, CaseId, ExhibitRef};
use exhibit_core::manifest::{
    ArtefactKind, ArtefactManifest, MANIFEST_FORMAT, MediaType, RecordedPath, SourceInfo, Timestamps, ToolInfo,
};
use serde_json::json;

use super::{Cursor, JobRecord, JobStatus, NotableEvent, Problem, Projection, ReadModel};
use crate::AppError;

/// Runs every check on `make()`'s read models, one fresh model per check.
pub async fn run_all<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Box<dyn ReadModel>>,
{
    empty_model_knows_nothing(make().await.as_ref()).await;
    cursor_is_compare_and_set(make().await.as_ref()).await;
    lost_apply_writes_nothing(make().await.as_ref()).await;
    artefacts_ordered_filtered_and_replaced(make().await.as_ref()).await;
    exhibits_keep_latest_item(make().await.as_ref()).await;
    events_jobs_and_problems(make().await.as_ref()).await;
    failures_done_later_are_resolved(make().await.as_ref()).await;
    drop_forgets_one_case_only(make().await.as_ref()).await;
}

/// A case ID for a check.
pub fn case(name: &str) -> CaseId {
    name.parse().expect("a valid case ID")
}

fn exhibit(name: &str) -> ExhibitRef {
    name.parse().expect("a valid exhibit")
}

fn cursor(seq: u64) -> Cursor {
    Cursor { seq, entry_sha256: Sha256Digest::of(&seq.to_le_bytes()).to_hex() }
}

/// A manifest of `case`, `exhibit` and source `path`, with `flags`.
pub fn manifest(case: &CaseId, exhibit_ref: &str, path: Option<&str>, flags: &[&str]) -> ArtefactManifest {
    let exhibit = exhibit(exhibit_ref);
    let content = Sha256Digest::of(format!("{exhibit_ref}/{path:?}").as_bytes());
    ArtefactManifest {
        format: MANIFEST_FORMAT.to_owned(),
        id: ArtefactId::derive(case, &exhibit, path.unwrap_or("-").as_bytes(), &content),
        case: case.clone(),
        exhibit,
        kind: if path.is_some() { ArtefactKind::Original } else { ArtefactKind::Derivative },
        source: path.map(|p| SourceInfo {
            path: RecordedPath::from_bytes(p.as_bytes()),
            name: RecordedPath::from_bytes(p.as_bytes()),
        }),
        size: 1,
        digests: Digests { sha256: content, md5: None, sha1: None },
        media_type: MediaType {
            mime: "text/plain".into(),
            extension: None,
            detected_by: "test".into(),
            ..Default::default()
        },
        timestamps: Timestamps::default(),
        parent: None,
        inside: None,
        view: None,
        derivation: None,
        operator: "Conformance".into(),
        tool: ToolInfo::exhibit("conformance"),
        flags: flags.iter().map(|f| (*f).to_owned()).collect(),
    }
}

/// An event of `case` about `exhibit`.
pub fn event(case: &CaseId, exhibit_ref: Option<&str>, action: Action, outcome: Outcome) -> CustodyEvent {
    CustodyEvent {
        at: time::OffsetDateTime::UNIX_EPOCH,
        case: case.clone(),
        exhibit: exhibit_ref.map(exhibit),
        action,
        artefact: None,
        inputs: Vec::new(),
        tool: ToolInfo::exhibit("conformance"),
        params: Default::default(),
        actor: Actor { operator: "Conformance".into(), host: "test".into(), process: 1, public_key: "key".into() },
        outcome,
    }
}

async fn empty_model_knows_nothing(model: &dyn ReadModel) {
    let c = case("CONF1");
    assert_eq!(model.cursor(&c).await.unwrap(), None);
    assert!(model.cases().await.unwrap().is_empty());
    assert!(model.artefacts(&c, None).await.unwrap().is_empty());
    assert!(model.exhibits(&c).await.unwrap().is_empty());
    assert!(model.job_counts(&c).await.unwrap().is_empty());
}

async fn cursor_is_compare_and_set(model: &dyn ReadModel) {
    let c = case("CONF2");
    let empty = Projection::default();
    model.apply(&c, None, &cursor(3), &empty).await.unwrap();
    assert_eq!(model.cursor(&c).await.unwrap(), Some(cursor(3)));
    // A second writer that also started from nothing, or from a stale
    // cursor, loses.
    assert!(matches!(model.apply(&c, None, &cursor(4), &empty).await, Err(AppError::Conflict { .. })));
    assert!(matches!(model.apply(&c, Some(&cursor(2)), &cursor(4), &empty).await, Err(AppError::Conflict { .. })));
    let same_seq_other_entry = Cursor { seq: 3, entry_sha256: "0".repeat(64) };
    assert!(matches!(
        model.apply(&c, Some(&same_seq_other_entry), &cursor(4), &empty).await,
        Err(AppError::Conflict { .. })
    ));
    model.apply(&c, Some(&cursor(3)), &cursor(5), &empty).await.unwrap();
    assert_eq!(model.cursor(&c).await.unwrap(), Some(cursor(5)));
    let cases = model.cases().await.unwrap();
    assert_eq!((cases.len(), cases[0].head_seq), (1, 5));
}

async fn lost_apply_writes_nothing(model: &dyn ReadModel) {
    let c = case("CONF3");
    model.apply(&c, None, &cursor(1), &Projection::default()).await.unwrap();
    let late = Projection { artefacts: vec![manifest(&c, "A/1", Some("a.txt"), &[])], ..Projection::default() };
    assert!(model.apply(&c, None, &cursor(2), &late).await.is_err());
    assert!(model.artefacts(&c, None).await.unwrap().is_empty(), "a lost apply must write nothing");
}

async fn artefacts_ordered_filtered_and_replaced(model: &dyn ReadModel) {
    let c = case("CONF4");
    let (b, a2, a1, derived) = (
        manifest(&c, "B/1", Some("z.txt"), &["needs-review"]),
        manifest(&c, "A/1", Some("b.txt"), &["needs-review", "deleted"]),
        manifest(&c, "A/1", Some("a.txt"), &[]),
        manifest(&c, "A/1", None, &[]),
    );
    let first =
        Projection { artefacts: vec![b.clone(), a2.clone(), a1.clone(), derived.clone()], ..Default::default() };
    model.apply(&c, None, &cursor(4), &first).await.unwrap();
    let ids = |list: Vec<ArtefactManifest>| list.into_iter().map(|m| m.id).collect::<Vec<_>>();
    // By exhibit, artefacts without a source first, then by path.
    assert_eq!(
        ids(model.artefacts(&c, None).await.unwrap()),
        vec![derived.id.clone(), a1.id.clone(), a2.id.clone(), b.id.clone()]
    );
    assert_eq!(ids(model.artefacts(&c, Some(&exhibit("B/1"))).await.unwrap()), vec![b.id.clone()]);
    assert_eq!(model.artefacts(&c, None).await.unwrap()[2], a2, "a manifest comes back as it went in");
    assert_eq!(model.flags(&c).await.unwrap(), vec![("deleted".into(), 1), ("needs-review".into(), 2)]);
    // The same artefact again replaces it, flags included.
    let mut a2_again = a2.clone();
    a2_again.flags = vec!["damaged".into()];
    let second = Projection { artefacts: vec![a2_again.clone()], ..Default::default() };
    model.apply(&c, Some(&cursor(4)), &cursor(5), &second).await.unwrap();
    assert_eq!(model.artefacts(&c, None).await.unwrap().len(), 4);
    assert_eq!(model.flags(&c).await.unwrap(), vec![("damaged".into(), 1), ("needs-review".into(), 1)]);
    assert_eq!(model.cases().await.unwrap()[0].artefacts, 4);
}

async fn exhibits_keep_latest_item(model: &dyn ReadModel) {
    let c = case("CONF5");
    let exhibits = vec![(exhibit("A/1"), Some(json!({"description": "first"}))), (exhibit("B/1"), None)];
    model.apply(&c, None, &cursor(1), &Projection { exhibits, ..Default::default() }).await.unwrap();
    // An event naming the exhibit without an item keeps the item; a later
    // description replaces it.
    let exhibits = vec![(exhibit("A/1"), None), (exhibit("B/1"), Some(json!({"description": "bag"})))];
    model.apply(&c, Some(&cursor(1)), &cursor(2), &Projection { exhibits, ..Default::default() }).await.unwrap();
    let rows = model.exhibits(&c).await.unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].item, Some(json!({"description": "first"})));
    assert_eq!(rows[1].item, Some(json!({"description": "bag"})));
}

async fn events_jobs_and_problems(model: &dyn ReadModel) {
    let c = case("CONF6");
    let failed = Outcome::Failed { reason: "unreadable".into() };
    let notable = vec![
        NotableEvent { seq: 7, pos: 0, event: event(&c, Some("B/1"), Action::Failed, failed.clone()) },
        NotableEvent { seq: 2, pos: 1, event: event(&c, Some("A/1"), Action::Described, Outcome::Ok) },
        NotableEvent { seq: 2, pos: 0, event: event(&c, Some("A/1"), Action::Failed, failed) },
    ];
    let job = |id: &str, status| JobRecord {
        job_id: id.into(),
        exhibit: Some(exhibit("A/1")),
        action: "identified".into(),
        status,
    };
    let jobs = vec![job("j1", JobStatus::Failed), job("j2", JobStatus::Done), job("j3", JobStatus::Failed)];
    let problems = vec![Problem { seq: 9, text: "entry 9 does not parse".into() }];
    model
        .apply(
            &c,
            None,
            &cursor(9),
            &Projection { notable: notable.clone(), jobs, problems: problems.clone(), ..Default::default() },
        )
        .await
        .unwrap();
    let all = model.notable_events(&c, None).await.unwrap();
    assert_eq!(all.iter().map(|n| (n.seq, n.pos)).collect::<Vec<_>>(), vec![(2, 0), (2, 1), (7, 0)], "ledger order");
    assert_eq!(all[2], notable[0], "an event comes back as it went in");
    assert_eq!(model.notable_events(&c, Some(&exhibit("B/1"))).await.unwrap().len(), 1);
    // A job retried after a failure is done.
    let retried = Projection { jobs: vec![job("j1", JobStatus::Done)], ..Default::default() };
    model.apply(&c, Some(&cursor(9)), &cursor(10), &retried).await.unwrap();
    let counts: Vec<(JobStatus, u64)> =
        model.job_counts(&c).await.unwrap().iter().map(|j| (j.status, j.count)).collect();
    assert_eq!(counts, vec![(JobStatus::Done, 2), (JobStatus::Failed, 1)]);
    assert_eq!(model.problems(&c).await.unwrap(), problems);
    // Counts are kept per exhibit (jobs of no exhibit first) and action.
    let other = |id: &str, exhibit_ref: Option<&str>, action: &str| JobRecord {
        job_id: id.into(),
        exhibit: exhibit_ref.map(exhibit),
        action: action.into(),
        status: JobStatus::Done,
    };
    let more = Projection {
        jobs: vec![
            other("j4", None, "planned"),
            other("j5", Some("B/1"), "acquired"),
            other("j6", Some("A/1"), "acquired"),
        ],
        ..Default::default()
    };
    model.apply(&c, Some(&cursor(10)), &cursor(11), &more).await.unwrap();
    let counts: Vec<(Option<String>, String, JobStatus, u64)> = model
        .job_counts(&c)
        .await
        .unwrap()
        .into_iter()
        .map(|j| (j.exhibit.map(|e| e.to_string()), j.action, j.status, j.count))
        .collect();
    let row = |e: Option<&str>, a: &str, s, n| (e.map(str::to_owned), a.to_owned(), s, n);
    assert_eq!(
        counts,
        vec![
            row(None, "planned", JobStatus::Done, 1),
            row(Some("A/1"), "acquired", JobStatus::Done, 1),
            row(Some("A/1"), "identified", JobStatus::Done, 2),
            row(Some("A/1"), "identified", JobStatus::Failed, 1),
            row(Some("B/1"), "acquired", JobStatus::Done, 1),
        ]
    );
}

/// A failure whose job's latest event is a success is not open; one
/// without a job ID, or whose job last failed, is.
async fn failures_done_later_are_resolved(model: &dyn ReadModel) {
    let c = case("CONF8");
    let failure = |seq: u64, job: Option<&str>| {
        let mut e = event(&c, Some("A/1"), Action::Failed, Outcome::Failed { reason: format!("fail {seq}") });
        if let Some(job) = job {
            e.params.insert("job_id".into(), json!(job));
        }
        NotableEvent { seq, pos: 0, event: e }
    };
    let notable = vec![failure(1, Some("j1")), failure(2, Some("j2")), failure(3, None)];
    let job = |id: &str, status| JobRecord { job_id: id.into(), exhibit: None, action: "transcoded".into(), status };
    let jobs = vec![job("j1", JobStatus::Done), job("j2", JobStatus::Failed), job("seq:3", JobStatus::Failed)];
    model.apply(&c, None, &cursor(4), &Projection { notable, jobs, ..Default::default() }).await.unwrap();
    assert_eq!(model.job_status(&c, "j1").await.unwrap(), Some(JobStatus::Done));
    assert_eq!(model.job_status(&c, "j2").await.unwrap(), Some(JobStatus::Failed));
    assert_eq!(model.job_status(&c, "nothing").await.unwrap(), None);
    let open = super::open_failures(model, &c, None).await.unwrap();
    assert_eq!(open.iter().map(|n| n.seq).collect::<Vec<_>>(), vec![2, 3]);
}

async fn drop_forgets_one_case_only(model: &dyn ReadModel) {
    let (gone, kept) = (case("CONF7"), case("CONF8"));
    for c in [&gone, &kept] {
        let p = Projection {
            artefacts: vec![manifest(c, "A/1", Some("a.txt"), &["deleted"])],
            exhibits: vec![(exhibit("A/1"), None)],
            ..Default::default()
        };
        model.apply(c, None, &cursor(1), &p).await.unwrap();
    }
    let job = JobRecord {
        job_id: "j1".into(),
        exhibit: Some(exhibit("A/1")),
        action: "acquired".into(),
        status: JobStatus::Done,
    };
    for c in [&gone, &kept] {
        let jobs = Projection { jobs: vec![job.clone()], ..Default::default() };
        model.apply(c, Some(&cursor(1)), &cursor(2), &jobs).await.unwrap();
    }
    model.drop_case(&gone).await.unwrap();
    assert_eq!(model.cursor(&gone).await.unwrap(), None);
    assert!(model.job_counts(&gone).await.unwrap().is_empty(), "a dropped case counts no jobs");
    assert_eq!(model.job_counts(&kept).await.unwrap().len(), 1, "the other case keeps its counts");
    assert!(model.artefacts(&gone, None).await.unwrap().is_empty());
    assert!(model.flags(&gone).await.unwrap().is_empty());
    assert!(model.exhibits(&gone).await.unwrap().is_empty());
    assert_eq!(model.artefacts(&kept, None).await.unwrap().len(), 1);
    // Dropped, it is rebuilt from nothing.
    model.apply(&gone, None, &cursor(1), &Projection::default()).await.unwrap();
}
