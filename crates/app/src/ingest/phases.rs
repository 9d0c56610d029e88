//! Running an ingest's phases: intake here; then each set recorded once
//! its members are acquired; then explore and derive, here or by workers
//! elsewhere. A phase ends when every job of its stages reachable from
//! its roots has a completion record; later phases' jobs wait on the queue
//! meanwhile (see `exhibit_pipeline::wait_for_completion`).

use std::os::unix::ffi::OsStrExt as _;
use std::sync::Arc;

use exhibit_core::event::{Action, Outcome};
use exhibit_core::manifest::ToolInfo;
use exhibit_core::params::{EventParams, FailedParams};
use exhibit_intake::{acquire_jobs, set_jobs};
use exhibit_pipeline::FAULT_INCOMPLETE_SET;
use exhibit_pipeline::run_owner::{Heartbeat, RunOwner};
use exhibit_pipeline::{
    RunFailure, RunId, RunSummary, Stage, StageError, StillWaiting, WorkerConfig, run_in_process, wait_for_completion,
};
use exhibit_queue::{Job, JobId};
use tracing::{info, instrument};

use super::{IngestOutcome, IngestPhase, IngestProgress, IngestSession, IngestStages};
use crate::Result;

/// Puts `jobs` in `run`, whose completion records workers elsewhere write;
/// `None` (a queue in this process) leaves them as they are.
pub fn in_run(jobs: Vec<Job>, run: Option<&RunId>) -> Vec<Job> {
    let Some(run) = run else { return jobs };
    jobs.into_iter().map(|job| Job { run: Some(run.as_str().to_owned()), ..job }).collect()
}

impl IngestSession {
    /// Runs the ingest: the intake phase here, each set recorded, then
    /// explore and derive (here, or waited for when workers elsewhere take
    /// them). With `detach`, returns once the later jobs are queued.
    #[instrument(name = "ingest", skip_all, fields(case = %self.ctx.case, exhibit = %self.exhibit))]
    pub async fn run<P: IngestProgress + ?Sized>(&self, stages: &IngestStages, progress: &P) -> Result<IngestOutcome> {
        let run = self.run.as_ref();
        self.record_incomplete_sets().await?;
        self.record_entry_faults().await?;
        let mut jobs = in_run(acquire_jobs(&self.plan, &self.ctx.case, &self.exhibit), run);
        let sets = in_run(set_jobs(&self.plan, &self.ctx.case, &self.exhibit), run);
        let roots: Vec<Job> = jobs.iter().chain(&sets).cloned().collect();
        self.completions.put_roots(&roots).await?;
        // The run is this process's until its jobs are on the queue: a
        // heartbeat says it is still here (see `exhibit_pipeline::run_owner`).
        self.completions.put_owner(&RunOwner::this_process(self.options.heartbeat)).await?;
        let _beating = self.run.is_some().then(|| Heartbeat::start(self.completions.clone(), self.options.heartbeat));
        let mut outcome = IngestOutcome { sources: self.plan.items.len(), ..IngestOutcome::default() };
        let phases = [
            (IngestPhase::Acquire, stages.intake.clone()),
            (IngestPhase::Explore, stages.explore.clone()),
            (IngestPhase::Derive, stages.derive.clone()),
        ];
        let mut sets = Some(sets);
        for (phase, phase_stages) in phases {
            let sources = (self.plan.items.len() as u64, self.plan.total_bytes);
            let phase_stages = progress.phase_started(phase, phase_stages, &jobs, sources);
            let summary = self.run_phase(phase, phase_stages, jobs).await?;
            (outcome.jobs, outcome.failed) = (outcome.jobs + summary.jobs, outcome.failed + summary.failed);
            outcome.dead_letters.extend(summary.dead_letters);
            jobs = summary.deferred;
            // Every member of every set is acquired now: record each set
            // and queue its explore job, here, before any worker explores.
            if let Some(sets) = sets.take().filter(|s| !s.is_empty()) {
                let assembled = self.run_here(vec![stages.assemble.clone()], sets, self.options.workers).await?;
                (outcome.jobs, outcome.failed) = (outcome.jobs + assembled.jobs, outcome.failed + assembled.failed);
                jobs.extend(assembled.deferred);
            }
            if phase == IngestPhase::Acquire {
                self.queue_bundle_gate(&mut jobs).await?;
                // Everything left is on the queue for the workers.
                self.completions.hand_off().await?;
            }
            progress.phase_ended();
            info!(?phase, jobs = summary.jobs, retries = summary.workers.retries, "phase finished");
            if self.options.detach {
                outcome.detached = Some(jobs.len());
                return Ok(outcome);
            }
        }
        Ok(outcome)
    }

    /// Records each set found in a folder without all its members, as a
    /// fault the summary lists (`incomplete-set`): its head is acquired as
    /// a plain file, and the rest of the folder goes ahead. Once per set
    /// and reason (the ledger's guard drops a rerun's repeat).
    async fn record_incomplete_sets(&self) -> Result<()> {
        for incomplete in &self.plan.incomplete_sets {
            let head = incomplete.head.to_string_lossy();
            let mut event = self.ctx.event(Action::Failed, Some(&self.exhibit), ToolInfo::exhibit("plan"));
            event.outcome = Outcome::Failed { reason: incomplete.reason.clone() };
            let id =
                JobId::derive("plan", format!("{}\0{head}", self.exhibit).as_bytes(), exhibit_intake::POLICY_VERSION);
            event.set_params(EventParams::Failed(FailedParams {
                job_id: Some(id.0),
                stage: Some("plan".into()),
                input: Some(serde_json::json!({ "path": head })),
                fault: Some(FAULT_INCOMPLETE_SET.into()),
                ..Default::default()
            }));
            self.ctx.record(event).await?;
            self.ctx.progress.problem(&format!("incomplete set: {}", incomplete.reason));
        }
        Ok(())
    }

    /// Records each entry of a walked folder that could not be read (a
    /// path too long to open, an unreadable sub-folder, an entry gone) as
    /// a failure of this run, with its reason and what to do; the rest of
    /// the folder goes ahead. Once per entry and reason in the ledger (the
    /// guard drops a rerun's repeat); a failure of every run that meets it.
    async fn record_entry_faults(&self) -> Result<()> {
        for fault in &self.plan.entry_faults {
            let reason = fault.reason();
            let mut event = self.ctx.event(Action::Failed, Some(&self.exhibit), ToolInfo::exhibit("plan"));
            event.outcome = Outcome::Failed { reason: reason.clone() };
            event.set_params(EventParams::Failed(FailedParams {
                job_id: Some(fault.job_id(&self.exhibit).0),
                stage: Some("plan".into()),
                input: Some(fault.job_input()),
                ..Default::default()
            }));
            self.ctx.record(event).await?;
            // The reason says what to do first; the same command fails it again.
            self.ctx.tally.fail_noted(RunFailure {
                what: fault.path.to_string_lossy().into_owned(),
                path_bytes: Some(fault.path.as_os_str().as_bytes().to_vec()),
                reason: reason.clone(),
                rerun_may_help: false,
            });
            self.ctx.progress.problem(&reason);
        }
        Ok(())
    }

    /// Queues the bundle-planning barrier (see [`super::bundle_gate`]) for
    /// the OCR jobs among `jobs`, and adds it to them, recorded first so
    /// that `exhibit status` follows it.
    async fn queue_bundle_gate(&self, jobs: &mut Vec<Job>) -> Result<()> {
        let run = self.run.as_ref().map(RunId::as_str);
        let who = (&self.ctx.case, &self.exhibit);
        let plan_pages = super::bundle_gate::most_pages_in_a_folder(self.plan.items.iter().map(|i| i.path.as_path()));
        let pages = (self.options.bundle_pages, plan_pages);
        let Some(gate) = super::bundle_gate::bundle_gate(jobs, who, pages, run) else {
            return Ok(());
        };
        self.completions.put_more_roots(std::slice::from_ref(&gate)).await?;
        self.queue
            .publish(gate.clone())
            .await
            .map_err(|e| StageError::transient(format!("cannot queue the bundle job: {e}")))?;
        jobs.push(gate);
        Ok(())
    }

    /// Runs `jobs` of `stages` to completion with workers in this process,
    /// in this ingest's run (e.g. the bundles after the derive phase).
    pub async fn run_more(
        &self,
        stages: Vec<Arc<dyn Stage>>,
        jobs: Vec<Job>,
        concurrency: usize,
    ) -> Result<RunSummary> {
        self.run_here(stages, in_run(jobs, self.run.as_ref()), concurrency).await
    }

    /// One phase: acquire and identify read the evidence, so they run
    /// here; with a shared queue, `exhibit worker` processes run the rest
    /// and this waits for their records.
    async fn run_phase(&self, phase: IngestPhase, stages: Vec<Arc<dyn Stage>>, jobs: Vec<Job>) -> Result<RunSummary> {
        if self.run.is_some() && phase != IngestPhase::Acquire {
            return Ok(self.wait_for_workers(&stages, jobs).await?);
        }
        let config = self.worker_config(stages, self.options.workers);
        let queued = phase != IngestPhase::Acquire;
        Ok(run_in_process(self.ctx.clone(), self.queue.clone(), self.completions.clone(), config, (jobs, queued))
            .await?)
    }

    async fn run_here(&self, stages: Vec<Arc<dyn Stage>>, jobs: Vec<Job>, concurrency: usize) -> Result<RunSummary> {
        let config = self.worker_config(stages, concurrency);
        Ok(run_in_process(self.ctx.clone(), self.queue.clone(), self.completions.clone(), config, (jobs, false))
            .await?)
    }

    fn worker_config(&self, stages: Vec<Arc<dyn Stage>>, concurrency: usize) -> WorkerConfig {
        WorkerConfig { concurrency, max_attempts: self.options.max_attempts, ..WorkerConfig::new(stages) }
    }

    /// Waits until every job of `stages` reachable from `jobs` (already on
    /// the queue) has a completion record, written by workers elsewhere.
    async fn wait_for_workers(&self, stages: &[Arc<dyn Stage>], jobs: Vec<Job>) -> Result<RunSummary, StageError> {
        let names: Vec<&str> = stages.iter().map(|s| s.name()).collect();
        // No worker here sends news: the channel stays open (so the waiter
        // reads the records once a second, not in a busy loop) and silent.
        let (_silent, news) = tokio::sync::mpsc::unbounded_channel();
        let progress = self.ctx.progress.clone();
        let report = move |line: &str| progress.message(line);
        let waiting = StillWaiting { every: self.options.heartbeat, report: &report };
        wait_for_completion(&self.completions, &names, jobs, news, Some(waiting)).await
    }
}
