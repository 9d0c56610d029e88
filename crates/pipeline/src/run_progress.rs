//! How far each ingest run of a case has got, from data alone: the run's
//! root jobs (`runs/<run>/roots`, written by an ingest that hands its jobs
//! to other processes), a marker per job a worker has started
//! (`runs/<run>/started/<job_id>`), and the completion records, whose
//! follow-ups name the rest of the run's jobs; dead-letter records
//! (`runs/<run>/dead/<job_id>`) of jobs moved aside without one; and the
//! owner's records (see [`crate::run_owner`]), which say whether a run was
//! abandoned. `exhibit status` reads it.
//!
//! A run that is over (handed off, no job queued or running, none
//! dead-lettered) never changes again: its records are create-only and
//! name every job it has. A long-lived reader (the dashboard) keeps such
//! runs in [`OverRuns`] and reads only the runs still going.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use exhibit_core::digest::HashSelection;
use exhibit_core::ids::CaseId;
use exhibit_core::layout::ObjectKey;
use exhibit_queue::{Job, JobId};
use exhibit_store::{ObjectStore, StoreErrorKind, read_small};
use serde::Serialize;

use crate::completion::{Completions, JobOutcome, RunId};
use crate::error::StageError;

/// Largest roots record read, in bytes.
const ROOTS_LIMIT: u64 = 256 << 20;

/// One exhibit's jobs in one run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct JobCounts {
    /// On the queue, never started.
    pub queued: usize,
    /// Started by a worker (perhaps one that died, and the job is back on
    /// the queue), not yet complete.
    pub running: usize,
    /// Complete, its work recorded.
    pub done: usize,
    /// Failed for good, with a `failed` event, or dead-lettered.
    pub failed: usize,
}

/// A job of a run dead-lettered without a completion record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeadJob {
    /// The job.
    pub job_id: String,
    /// Its stage.
    pub stage: String,
    /// Its exhibit.
    pub exhibit: String,
    /// Why it was dead-lettered.
    pub reason: String,
}

/// One run's jobs, by exhibit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunProgress {
    /// The run.
    pub run: String,
    /// Exhibit reference to its jobs.
    pub exhibits: BTreeMap<String, JobCounts>,
    /// Jobs dead-lettered without a completion record (counted failed).
    pub dead_letters: Vec<DeadJob>,
    /// Its ingest stopped before handing its jobs to the workers, and has
    /// not been heard from since: its queued and running jobs will not
    /// complete.
    pub abandoned: bool,
}

impl RunProgress {
    /// Whether any job is queued or running in a run that is not abandoned.
    pub fn outstanding(&self) -> bool {
        !self.abandoned && self.has_jobs_left()
    }

    fn has_jobs_left(&self) -> bool {
        self.exhibits.values().any(|c| c.queued + c.running > 0)
    }

    /// Whether any job failed for good, or the run was abandoned.
    pub fn failed(&self) -> bool {
        self.abandoned || self.exhibits.values().any(|c| c.failed > 0)
    }
}

/// What a listing of a run's records says.
#[derive(Debug, Default)]
struct RunKeys {
    started: HashSet<String>,
    dead: HashSet<String>,
    /// The latest heartbeat, in Unix seconds.
    alive: Option<i64>,
    handed_off: bool,
}

impl RunKeys {
    fn note(&mut self, what: &str) {
        if let Some(id) = what.strip_prefix("started/") {
            self.started.insert(id.to_owned());
        } else if let Some(id) = what.strip_prefix("dead/") {
            self.dead.insert(id.to_owned());
        } else if let Some(secs) = what.strip_prefix("alive/").and_then(|s| s.parse::<i64>().ok()) {
            self.alive = Some(self.alive.map_or(secs, |a| a.max(secs)));
        } else if what == "handed-off" {
            self.handed_off = true;
        }
    }
}

impl Completions {
    pub(crate) fn run_key(&self, rest: &str) -> Result<ObjectKey, StageError> {
        let base = self.prefix.strip_suffix("jobs/").unwrap_or(&self.prefix);
        ObjectKey::new(format!("{base}{rest}"))
            .ok_or_else(|| StageError::input(format!("{rest:?} cannot name a run record")))
    }

    pub(crate) async fn put_once(&self, key: ObjectKey, bytes: Vec<u8>) -> Result<(), StageError> {
        match self.store.put_new(&key, Box::new(std::io::Cursor::new(bytes)), HashSelection::SHA256_ONLY).await {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == StoreErrorKind::AlreadyExists => Ok(()),
            Err(e) => Err(StageError::from_kind(e.kind().into(), format!("cannot record {key}: {e}"))),
        }
    }

    /// Records the run's root jobs, so that `exhibit status` can follow
    /// the run from them. Nothing for records kept in this process.
    pub async fn put_roots(&self, roots: &[Job]) -> Result<(), StageError> {
        if self.in_process.is_some() {
            return Ok(());
        }
        let bytes = serde_json::to_vec(roots).map_err(|e| StageError::input(e.to_string()))?;
        self.put_once(self.run_key("roots")?, bytes).await
    }

    /// Records jobs its ingest added to the run after its roots (the
    /// bundle-planning barrier), so `exhibit status` follows them too.
    /// Create-only: one such record per run.
    pub async fn put_more_roots(&self, jobs: &[Job]) -> Result<(), StageError> {
        if self.in_process.is_some() {
            return Ok(());
        }
        let bytes = serde_json::to_vec(jobs).map_err(|e| StageError::input(e.to_string()))?;
        self.put_once(self.run_key("roots-more")?, bytes).await
    }

    /// Marks `job` started (create-only, so a redelivery keeps the first
    /// mark). Nothing for records kept in this process.
    pub async fn mark_started(&self, job: &JobId) -> Result<(), StageError> {
        if self.in_process.is_some() {
            return Ok(());
        }
        self.put_once(self.run_key(&format!("started/{}", job.0))?, Vec::new()).await
    }

    async fn roots(&self) -> Result<Option<Vec<Job>>, StageError> {
        let Some(mut roots) = self.read_jobs("roots").await? else { return Ok(None) };
        roots.extend(self.read_jobs("roots-more").await?.unwrap_or_default());
        Ok(Some(roots))
    }

    async fn read_jobs(&self, name: &str) -> Result<Option<Vec<Job>>, StageError> {
        let key = self.run_key(name)?;
        match read_small(self.store.as_ref(), &key, ROOTS_LIMIT).await {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| StageError::input(format!("run record {key} is not valid: {e}"))),
            Err(e) if e.kind() == StoreErrorKind::NotFound => Ok(None),
            Err(e) => Err(StageError::from_kind(e.kind().into(), format!("cannot read {key}: {e}"))),
        }
    }
}

/// Runs that are over, kept by a reader that asks again and again, so
/// that each view reads only the records of runs still going. Bounded by
/// the runs of the cases it was asked about (one small entry each).
#[derive(Debug, Default)]
pub struct OverRuns {
    runs: Mutex<HashMap<(CaseId, String), RunProgress>>,
}

impl OverRuns {
    fn get(&self, case: &CaseId, run: &RunId) -> Option<RunProgress> {
        let runs = self.runs.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        runs.get(&(case.clone(), run.as_str().to_owned())).cloned()
    }

    fn keep(&self, case: &CaseId, progress: &RunProgress) {
        let mut runs = self.runs.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        runs.insert((case.clone(), progress.run.clone()), progress.clone());
    }
}

/// Whether a run can never change again: its ingest handed it off (so no
/// more roots come), every job it reached has a completion record, and
/// none was dead-lettered (a dead-lettered job may be replayed).
fn is_over(progress: &RunProgress, seen: &RunKeys) -> bool {
    seen.handed_off && !progress.has_jobs_left() && progress.dead_letters.is_empty()
}

/// The progress of every run of `case` that recorded its roots, oldest
/// run ID first.
pub async fn run_progress(store: Arc<dyn ObjectStore>, case: &CaseId) -> Result<Vec<RunProgress>, StageError> {
    run_progress_keeping(store, case, &OverRuns::default()).await
}

/// [`run_progress`], taking the runs that are over from `over` and keeping
/// there the ones found over now. The run records are still listed each
/// time (a listing, not a read per job).
pub async fn run_progress_keeping(
    store: Arc<dyn ObjectStore>,
    case: &CaseId,
    over: &OverRuns,
) -> Result<Vec<RunProgress>, StageError> {
    let prefix = format!("{}runs/", exhibit_core::layout::case_prefix(case));
    let keys = store.list(&prefix).await.map_err(|e| StageError::from_kind(e.kind().into(), e.to_string()))?;
    let mut runs: Vec<(RunId, RunKeys)> = Vec::new();
    for key in &keys {
        let Some(rest) = key.key.as_str().strip_prefix(&prefix) else { continue };
        let Some((run, what)) = rest.split_once('/') else { continue };
        let Some(run) = RunId::parse(run) else { continue };
        if runs.last().is_none_or(|(last, _)| *last != run) {
            runs.push((run, RunKeys::default()));
        }
        if let Some((_, seen)) = runs.last_mut() {
            seen.note(what);
        }
    }
    let mut out = Vec::new();
    for (run, seen) in runs {
        if let Some(kept) = over.get(case, &run) {
            out.push(kept);
            continue;
        }
        let completions = Completions::new(store.clone(), case, run.clone());
        let Some(roots) = completions.roots().await? else { continue };
        let mut progress = follow(&completions, run, roots, &seen).await?;
        progress.abandoned = abandoned(&completions, &progress, &seen).await?;
        if is_over(&progress, &seen) {
            over.keep(case, &progress);
        }
        out.push(progress);
    }
    Ok(out)
}

/// Whether a run with jobs left was abandoned by its owner (see
/// [`crate::run_owner`]). A run without an owner record (made before
/// owners were recorded) never is.
async fn abandoned(completions: &Completions, progress: &RunProgress, seen: &RunKeys) -> Result<bool, StageError> {
    if seen.handed_off || !progress.has_jobs_left() {
        return Ok(false);
    }
    let Some(owner) = completions.owner().await? else { return Ok(false) };
    Ok(owner.stale(seen.alive.unwrap_or(owner.started), crate::run_owner::now_secs()))
}

/// The dead-letter record of `job`, where the listing shows one.
async fn dead_letter(
    completions: &Completions,
    job: &Job,
    seen: &RunKeys,
) -> Result<Option<crate::DeadLetter>, StageError> {
    if !seen.dead.contains(&job.job_id.0) {
        return Ok(None);
    }
    completions.dead(job).await
}

/// Follows a run from its roots through the completion records.
async fn follow(
    completions: &Completions,
    run: RunId,
    roots: Vec<Job>,
    seen: &RunKeys,
) -> Result<RunProgress, StageError> {
    let mut progress = RunProgress {
        run: run.as_str().to_owned(),
        exhibits: BTreeMap::new(),
        dead_letters: Vec::new(),
        abandoned: false,
    };
    let mut visited = HashSet::new();
    let mut pending = roots;
    while let Some(job) = pending.pop() {
        if !visited.insert(job.job_id.clone()) {
            continue;
        }
        let counts = progress.exhibits.entry(job.exhibit.as_str().to_owned()).or_default();
        match completions.get(&job.job_id).await? {
            Some(record) => {
                match record.outcome {
                    JobOutcome::Done => counts.done += 1,
                    JobOutcome::Failed => counts.failed += 1,
                }
                pending.extend(record.follow_ups);
            }
            None => match dead_letter(completions, &job, seen).await? {
                Some(dead) => {
                    counts.failed += 1;
                    progress.dead_letters.push(DeadJob {
                        job_id: job.job_id.0.clone(),
                        stage: job.stage.clone(),
                        exhibit: job.exhibit.as_str().to_owned(),
                        reason: dead.reason,
                    });
                }
                None if seen.started.contains(&job.job_id.0) => counts.running += 1,
                None => counts.queued += 1,
            },
        }
    }
    Ok(progress)
}
