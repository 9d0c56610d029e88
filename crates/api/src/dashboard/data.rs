//! The dashboard's [`DashboardData`] over the read model, filtered by the
//! access state exactly as the API is: a case the principal's organisation
//! neither owns nor was shared is `None`, as one that does not exist.
//!
//! Done and failed jobs are the read model's (what the ledger records).
//! Queued and running ones are recorded nowhere in the ledger: they come
//! from the run records of the case in the store
//! ([`exhibit_pipeline::run_progress`], what `exhibit status` reads). Those
//! name each job's exhibit but the read model's stages are recorded
//! actions, so an exhibit's jobs in flight are one row of their own.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use exhibit_app::access::{CaseAccess, Org, VisibleCase, names};
use exhibit_app::page_review;
use exhibit_app::readmodel::{JobCount, JobStatus};
use exhibit_app::readmodel::{NotableEvent, open_failures};
use exhibit_core::event::{Action, Outcome};
use exhibit_core::ids::{CaseId, ExhibitRef};
use exhibit_dashboard::{
    CaseDetail, CaseSummary, DashboardData, ExhibitProgress, Failure, HookError, JobCounts, Principal, ReviewItem,
    StageProgress,
};

use crate::ApiState;
use crate::case_names::CaseNames;

/// The advice for each recorded kind of fault.
fn what_to_do(fault: Option<&str>) -> &'static str {
    match fault {
        Some("damaged-record") => {
            "The record is damaged on the evidence itself. Note it for the examiner, or ingest a better copy of the media"
        }
        Some("unconverted") => {
            "No decoder accepts it; the original is stored. Open it with a tool that knows its format"
        }
        Some("limit") => "A configured limit refused it. If the evidence is genuine, raise that limit and ingest again",
        Some("incomplete-set") => {
            "A set in the folder lacks a member: find the missing file, put it beside the others and ingest the folder again"
        }
        _ => "Read the problem, fix its cause, then ingest the exhibit again",
    }
}

/// The stage row of an exhibit's jobs queued or running, whose stage
/// records nothing yet.
pub const IN_FLIGHT_STAGE: &str = "not recorded yet (queued or running)";

/// Queued and running jobs by exhibit reference.
type InFlight = BTreeMap<String, JobCounts>;

/// Cases for the dashboard, from the API's state.
#[derive(Debug)]
pub struct ReadModelData {
    state: Arc<ApiState>,
    /// Runs that are over, read once (see [`exhibit_pipeline::OverRuns`]).
    over: exhibit_pipeline::OverRuns,
}

impl ReadModelData {
    /// Data over the API's access state and read model.
    pub fn new(state: Arc<ApiState>) -> Self {
        Self { state, over: exhibit_pipeline::OverRuns::default() }
    }

    async fn org(&self, principal: &Principal) -> Result<Option<Org>, HookError> {
        self.state.access.org(&principal.org).await.map_err(failed)
    }

    /// The jobs of `case` on the queue or in a worker's hands, by exhibit.
    /// An abandoned run's jobs will not complete: they count as neither.
    async fn in_flight(&self, case: &CaseId) -> Result<InFlight, HookError> {
        let runs = exhibit_pipeline::run_progress_keeping(self.state.store.clone(), case, &self.over)
            .await
            .map_err(|e| HookError::Failed(e.to_string()))?;
        let mut by_exhibit = InFlight::new();
        for run in runs.iter().filter(|r| !r.abandoned) {
            for (exhibit, c) in &run.exhibits {
                let now = JobCounts { queued: c.queued as u64, running: c.running as u64, ..JobCounts::default() };
                let counts = by_exhibit.entry(exhibit.clone()).or_default();
                *counts = counts.plus(now);
            }
        }
        Ok(by_exhibit)
    }

    async fn summary(&self, visible: &VisibleCase, in_flight: &InFlight) -> Result<CaseSummary, HookError> {
        self.state.reader.refresh(&visible.case).await.map_err(failed)?;
        let counts = self.state.reader.model().job_counts(&visible.case).await.map_err(failed)?;
        let recorded = counts.iter().fold(JobCounts::default(), |all, c| all.plus(count(c)));
        let jobs = in_flight.values().fold(recorded, |all, c| all.plus(*c));
        // Uploads not ingested yet, or whose ingest failed, are the
        // case's too: the ledger records neither.
        let uploads = self.state.access.intake().case_intake(&visible.case).await.map_err(failed)?.counts;
        let jobs = jobs.plus(JobCounts {
            queued: uploads.queued,
            running: uploads.running,
            failed: uploads.failed,
            ..JobCounts::default()
        });
        // The dashboard shows and links cases by name, as the API does.
        Ok(CaseSummary { case: visible.name.clone(), description: None, owner: visible.owner.clone(), jobs })
    }

    async fn detail(&self, visible: &VisibleCase) -> Result<CaseDetail, HookError> {
        let in_flight = self.in_flight(&visible.case).await?;
        let summary = self.summary(visible, &in_flight).await?;
        let model = self.state.reader.model();
        let case = &visible.case;
        let counts = model.job_counts(case).await.map_err(failed)?;
        let exhibits = model
            .exhibits(case)
            .await
            .map_err(failed)?
            .into_iter()
            .map(|row| ExhibitProgress {
                description: row
                    .item
                    .as_ref()
                    .and_then(|i| i.get("description"))
                    .and_then(|d| d.as_str())
                    .map(str::to_owned),
                stages: stages(&counts, &row.exhibit, in_flight.get(row.exhibit.as_str())),
                exhibit: row.exhibit,
            })
            .collect();
        // The ledger's own problems first: a history that lost or changed
        // entries outweighs any job.
        let checked = self.state.reader.checked_status(case, self.state.options.trusted.as_deref());
        let names = CaseNames { id: case.clone(), name: visible.name.clone() };
        let mut failures: Vec<Failure> =
            checked.await.map_err(failed)?.problems.iter().map(|p| ledger_problem(p, &names)).collect();
        failures.extend(open_failures(model.as_ref(), case, None).await.map_err(failed)?.iter().filter_map(failure));
        let intake = self.state.access.intake().case_intake(case).await.map_err(failed)?;
        failures.extend(intake.failed.iter().map(upload_failure));
        failures.extend(intake.refusals.iter().map(refused_upload));
        let review = review_items(&model.artefacts(case, None).await.map_err(failed)?);
        Ok(CaseDetail { summary, shared_read_only: visible.access == CaseAccess::Shared, exhibits, failures, review })
    }
}

/// What a reviewer should look at: one row per source whose OCR outputs
/// are flagged `needs-review` (its text, hOCR and PDF are flagged alike),
/// named by the source's path (a derivative has none of its own) and
/// pointing at the output to open: the searchable PDF where there is one.
/// Its advice is the CLI summary's (`exhibit_app::page_review`): a damaged
/// page image when any flagged page's reason says so, else "OCR was unsure".
fn review_items(artefacts: &[exhibit_core::manifest::ArtefactManifest]) -> Vec<ReviewItem> {
    let path_of = |id: &exhibit_core::ids::ArtefactId| {
        artefacts.iter().find(|a| &a.id == id).and_then(|a| a.source.as_ref()).map(|s| s.path.display.clone())
    };
    let mut rows: Vec<(Option<exhibit_core::ids::ArtefactId>, ReviewItem, bool)> = Vec::new();
    for flagged in artefacts.iter().filter(|a| a.flags.iter().any(|f| f == "needs-review")) {
        let parent = flagged.parent.as_ref().map(|p| p.id.clone());
        let is_pdf = flagged.media_type.mime == "application/pdf";
        let advice = page_review::document_review_advice(
            flagged.derivation.as_ref().map(|d| page_review::flagged_page_reasons(&d.details)).unwrap_or_default(),
        );
        if let Some(row) = rows.iter_mut().find(|(p, _, _)| parent.is_some() && *p == parent) {
            if advice == page_review::DAMAGED_PAGE {
                row.1.reason = advice.into();
            }
            if is_pdf && !row.2 {
                row.1.artefact = flagged.id.to_string();
                row.2 = true;
            }
            continue;
        }
        let own = flagged.source.as_ref().map(|s| s.path.display.clone());
        let item = own.or_else(|| parent.as_ref().and_then(path_of)).unwrap_or_else(|| flagged.id.to_string());
        let row = ReviewItem {
            item,
            artefact: flagged.id.to_string(),
            exhibit: flagged.exhibit.clone(),
            reason: advice.into(),
        };
        rows.push((parent, row, is_pdf));
    }
    rows.into_iter().map(|(_, row, _)| row).collect()
}

fn failed(e: exhibit_app::AppError) -> HookError {
    HookError::Failed(e.to_string())
}

fn count(c: &JobCount) -> JobCounts {
    match c.status {
        JobStatus::Done => JobCounts { done: c.count, ..JobCounts::default() },
        JobStatus::Failed => JobCounts { failed: c.count, ..JobCounts::default() },
    }
}

/// The exhibit's stages (recorded actions), in the order first recorded,
/// then its jobs in flight, if any.
fn stages(counts: &[JobCount], exhibit: &ExhibitRef, in_flight: Option<&JobCounts>) -> Vec<StageProgress> {
    let mut stages: Vec<StageProgress> = Vec::new();
    for c in counts.iter().filter(|c| c.exhibit.as_ref() == Some(exhibit)) {
        match stages.iter_mut().find(|s| s.stage == c.action) {
            Some(stage) => stage.jobs = stage.jobs.plus(count(c)),
            None => stages.push(StageProgress { stage: c.action.clone(), jobs: count(c) }),
        }
    }
    if let Some(jobs) = in_flight.filter(|j| j.queued + j.running > 0) {
        stages.push(StageProgress { stage: IN_FLIGHT_STAGE.into(), jobs: *jobs });
    }
    stages
}

/// A `failed` event as a failure to attend to.
/// An upload that arrived whole but whose ingest failed (the intake
/// journal's, not the ledger's).
fn upload_failure(upload: &exhibit_app::intake::UploadEntry) -> Failure {
    Failure {
        exhibit: Some(upload.exhibit.clone()),
        item: upload.filename.clone(),
        stage: "upload".into(),
        problem: upload.reason.clone().unwrap_or_else(|| "the ingest of this upload failed".into()),
        what_to_do: "Read the problem and fix its cause; a tus upload is ingested again when the server starts, a PUT must be sent again".into(),
    }
}

/// A problem of the case's ledger (an entry lost, altered or unlinked, a
/// manifest that does not match) as a row of the failures table, worded
/// with the case's name.
fn ledger_problem(problem: &exhibit_app::readmodel::Problem, names: &CaseNames) -> Failure {
    Failure {
        exhibit: None,
        item: format!("ledger entry {}", problem.seq),
        stage: "ledger".into(),
        problem: crate::case_names::hidden(&problem.text, names),
        what_to_do: "The case's record of custody may have been altered: nothing more is recorded in it. Have an archivist run exhibit verify on the case and compare the ledger with its anchored timestamps and backups".into(),
    }
}

/// Bytes refused as they arrived (a chunk or PUT whose hash did not
/// match what the client sent): nothing was stored, and the sender was
/// told, but a supervisor should see that it happened.
fn refused_upload(refusal: &exhibit_app::intake::Refusal) -> Failure {
    Failure {
        exhibit: refusal.exhibit.as_deref().and_then(|e| e.parse().ok()),
        item: refusal.filename.clone().or_else(|| refusal.upload.clone()).unwrap_or_default(),
        stage: "upload refused".into(),
        problem: format!("{} (sent by {})", refusal.reason, refusal.operator),
        what_to_do:
            "The refused bytes were not kept. A tus client sends the chunk again and carries on; a PUT must be sent again. If it is refused again, check the sending system and the file"
                .into(),
    }
}

fn failure(notable: &NotableEvent) -> Option<Failure> {
    let e = &notable.event;
    let (Action::Failed, Outcome::Failed { reason }) = (&e.action, &e.outcome) else { return None };
    let params = e.failed_params().unwrap_or_default();
    let item = params
        .input_path()
        .map(str::to_owned)
        .unwrap_or_else(|| e.inputs.first().map(|i| i.id.to_string()).unwrap_or_default());
    let problem = without_item(reason, &item);
    Some(Failure {
        exhibit: e.exhibit.clone(),
        item,
        stage: params.stage.clone().unwrap_or_else(|| "ingest".into()),
        problem,
        what_to_do: what_to_do(params.fault.as_deref()).into(),
    })
}

/// A stage's reason without the path it opens with, as often as it does
/// (the explore stage wraps an error that names the path in one that
/// names it again: `PATH: PATH has no EWF-E01 signature`): the row is
/// headed with that path already, and the page showed it twice.
fn without_item(reason: &str, item: &str) -> String {
    let mut rest = reason;
    while let Some(after) = rest.strip_prefix(item).filter(|_| !item.is_empty()) {
        rest = after.trim_start_matches([':', ' ']);
    }
    if rest.is_empty() { reason.to_owned() } else { rest.to_owned() }
}

#[async_trait]
impl DashboardData for ReadModelData {
    #[tracing::instrument(name = "dashboard_cases", skip_all, fields(org = %principal.org, user = %principal.user))]
    async fn cases(&self, principal: &Principal) -> Result<Vec<CaseSummary>, HookError> {
        let Some(org) = self.org(principal).await? else { return Ok(Vec::new()) };
        let visible = self.state.access.visible_cases(org.id).await.map_err(failed)?;
        let mut out = Vec::with_capacity(visible.len());
        for case in &visible {
            let in_flight = self.in_flight(&case.case).await?;
            out.push(self.summary(case, &in_flight).await?);
        }
        Ok(out)
    }

    #[tracing::instrument(name = "dashboard_case", skip_all, fields(org = %principal.org, case = %case))]
    async fn case(
        &self,
        principal: &Principal,
        case: &CaseId,
        owner: Option<&str>,
    ) -> Result<Option<CaseDetail>, HookError> {
        let Some(org) = self.org(principal).await? else { return Ok(None) };
        // `case` is a name: the case of `owner` when given, else the
        // organisation's own case of it, else the one shared. Several
        // shared ones and no owner is not one case: `owners_of_name`
        // gives the page that asks which.
        match names::resolve_case(self.state.access.as_ref(), case, org.id, owner).await.map_err(failed)? {
            names::Resolved::Found(visible) => Ok(Some(self.detail(&visible).await?)),
            names::Resolved::NotFound | names::Resolved::Ambiguous(_) => Ok(None),
        }
    }

    #[tracing::instrument(name = "dashboard_case_owners", skip_all, fields(org = %principal.org, case = %case))]
    async fn owners_of_name(&self, principal: &Principal, case: &CaseId) -> Result<Vec<String>, HookError> {
        let Some(org) = self.org(principal).await? else { return Ok(Vec::new()) };
        // Only cases shared with the organisation are among the owners
        // resolve_case names: the ones it may see.
        match names::resolve_case(self.state.access.as_ref(), case, org.id, None).await.map_err(failed)? {
            names::Resolved::Ambiguous(owners) => Ok(owners),
            names::Resolved::Found(_) | names::Resolved::NotFound => Ok(Vec::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use exhibit_app::readmodel::conformance::manifest;
    use exhibit_core::manifest::ParentRef;

    use super::*;

    #[test]
    fn a_reason_loses_the_path_its_row_is_headed_with() {
        assert_eq!(without_item("a/b.E01 has no EWF-E01 signature", "a/b.E01"), "has no EWF-E01 signature");
        assert_eq!(without_item("a/b.E01: cannot be read", "a/b.E01"), "cannot be read");
        assert_eq!(without_item("a/b.E01: a/b.E01 has no signature", "a/b.E01"), "has no signature");
        assert_eq!(without_item("the store is full", "a/b.E01"), "the store is full");
        assert_eq!(without_item("a/b.E01", "a/b.E01"), "a/b.E01");
        assert_eq!(without_item("x", ""), "x");
    }

    #[test]
    fn a_page_whose_ocr_outputs_are_flagged_is_one_row_named_by_its_source_pointing_at_the_pdf() {
        let case: exhibit_core::ids::CaseId = "C1".parse().unwrap();
        let scan = manifest(&case, "JS/1", Some("scans/page 7.png"), &[]);
        let output = |name: &str, mime: &str| {
            let mut m = manifest(&case, "JS/1", None, &["needs-review"]);
            m.id = exhibit_core::ids::ArtefactId::derive(&case, &m.exhibit, name.as_bytes(), &m.digests.sha256);
            m.media_type.mime = mime.into();
            m.parent = Some(ParentRef { id: scan.id.clone(), sha256: scan.digests.sha256, offset: None });
            m
        };
        let (text, pdf) = (output("text", "text/plain"), output("pdf", "application/pdf"));
        let clean = manifest(&case, "JS/1", Some("scans/page 8.png"), &[]);
        let rows = review_items(&[scan, text, pdf.clone(), clean]);
        assert_eq!(rows.len(), 1, "{rows:?}");
        assert_eq!((rows[0].item.as_str(), rows[0].artefact.clone()), ("scans/page 7.png", pdf.id.to_string()));
    }

    /// Issue 13: a page flagged because its image is damaged is not "OCR was
    /// unsure": the review list gives the CLI summary's damaged-page advice.
    #[test]
    fn a_damaged_page_is_listed_as_damaged_not_as_ocr_was_unsure() {
        let case: exhibit_core::ids::CaseId = "C1".parse().unwrap();
        let output = |source: &str, reason: &str| {
            let scan = manifest(&case, "JS/1", Some(source), &[]);
            let mut pdf = manifest(&case, "JS/1", None, &["needs-review"]);
            pdf.id = exhibit_core::ids::ArtefactId::derive(&case, &pdf.exhibit, source.as_bytes(), &pdf.digests.sha256);
            pdf.media_type.mime = "application/pdf".into();
            pdf.parent = Some(ParentRef { id: scan.id.clone(), sha256: scan.digests.sha256, offset: None });
            let pages = serde_json::json!([
                {"index": 0, "needs_review": false, "reason": null},
                {"index": 1, "needs_review": true, "reason": reason},
            ]);
            let details = serde_json::Map::from_iter([("pages".to_owned(), pages)]);
            pdf.derivation = Some(exhibit_core::manifest::Derivation {
                rule: "ocr-searchable-pdf".into(),
                policy_version: "1".into(),
                deterministic: true,
                details,
            });
            [scan, pdf]
        };
        let damaged = output(
            "scans/cut.png",
            "the PNG scan: the page image is damaged (the file ends early); 900 of 1754 rows decode",
        );
        let unsure = output("scans/faint.png", "mean confidence 41 is below 60");
        let rows = review_items(&[damaged, unsure].concat());
        assert_eq!(rows.len(), 2, "{rows:?}");
        assert!(rows[0].reason.contains("damaged") && !rows[0].reason.contains("unsure"), "{:?}", rows[0]);
        assert!(rows[1].reason.contains("OCR was unsure"), "{:?}", rows[1]);
    }
}
