//! `exhibit ingest` over a shared queue: acquire and identify run here, on
//! the machine that holds the evidence; the later phases' jobs are on the
//! queue for `exhibit worker` processes, and the ingest waits for their
//! completion records in the store.

use std::sync::Arc;

use exhibit_pipeline::{Completions, RunId, RunSummary, Stage, StageError, wait_for_completion};
use exhibit_queue::Job;

/// Puts `jobs` in `run`, whose completion records workers elsewhere write;
/// `None` (a queue in this process) leaves them as they are.
pub fn in_run(jobs: Vec<Job>, run: Option<&RunId>) -> Vec<Job> {
    let Some(run) = run else { return jobs };
    jobs.into_iter().map(|job| Job { run: Some(run.as_str().to_owned()), ..job }).collect()
}

/// Waits until every job of `stages` reachable from `jobs` (already on the
/// queue) has a completion record, written by workers in other processes.
pub async fn wait_for_workers(
    completions: &Completions,
    stages: &[Arc<dyn Stage>],
    jobs: Vec<Job>,
) -> Result<RunSummary, StageError> {
    let names: Vec<&str> = stages.iter().map(|s| s.name()).collect();
    // No worker here sends news: the channel stays open (so the waiter
    // reads the records once a second, not in a busy loop) and silent.
    let (_silent, news) = tokio::sync::mpsc::unbounded_channel();
    wait_for_completion(completions, &names, jobs, news).await
}
