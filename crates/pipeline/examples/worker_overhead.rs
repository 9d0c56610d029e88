//! Per-job overhead of the worker loop: empty jobs through the in-process
//! queue, each received, run (a stage that does nothing), given its
//! durable completion record and acked. Run by `benches/worker-overhead.sh`.
//!
//! Usage: `worker_overhead [JOBS] [CONCURRENCY] [store|memory]` (defaults
//! 20000, 1, store): `memory` keeps completion records in the process, as
//! `exhibit ingest` does on the in-memory queue.

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use exhibit_core::event::Actor;
use exhibit_custody::{Ledger, Signer};
use exhibit_pipeline::{CaseIndex, Completions, RunId, Stage, StageContext, StageError, WorkerConfig, run_in_process};
use exhibit_queue::{Job, JobId, MemoryQueue};
use exhibit_store::{LocalStore, ObjectStore};

struct Empty;

#[async_trait]
impl Stage for Empty {
    fn name(&self) -> &'static str {
        "empty"
    }

    async fn run(&self, _ctx: &StageContext, _job: &Job) -> Result<Vec<Job>, StageError> {
        Ok(Vec::new())
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let jobs: u32 = args.next().map_or(Ok(20_000), |a| a.parse())?;
    let concurrency: usize = args.next().map_or(Ok(1), |a| a.parse())?;
    let records = args.next().unwrap_or_else(|| "store".into());
    let dir = tempfile::tempdir()?;
    let store: Arc<dyn ObjectStore> = Arc::new(LocalStore::open(dir.path().join("data"))?);
    let signer = Arc::new(Signer::load_or_create(&dir.path().join("key"))?);
    let case: exhibit_core::ids::CaseId = "BENCH-1".parse()?;
    let ledger = Arc::new(Ledger::open(store.clone(), case.clone(), signer.clone()).await?);
    let actor =
        Actor { operator: "Bench".into(), host: "bench".into(), process: 1, public_key: signer.public_key_openssh() };
    let ctx = Arc::new(StageContext::new(case.clone(), store.clone(), ledger, actor, CaseIndex::default()));
    let template = exhibit_queue::conformance::sample_job("empty", 0);
    let roots: Vec<Job> = (0..jobs)
        .map(|n| Job { job_id: JobId::derive("empty", &n.to_be_bytes(), "bench"), ..template.clone() })
        .collect();
    let completions = Arc::new(match records.as_str() {
        "memory" => Completions::in_process(store, &case, RunId::new()),
        _ => Completions::new(store, &case, RunId::new()),
    });
    let config = WorkerConfig { concurrency, ..WorkerConfig::new(vec![Arc::new(Empty)]) };
    let started = Instant::now();
    let summary = run_in_process(ctx, Arc::new(MemoryQueue::new()), completions, config, (roots, false)).await?;
    let elapsed = started.elapsed();
    assert_eq!(summary.jobs, jobs as usize, "every job completed");
    println!(
        "{jobs} empty jobs, concurrency {concurrency}, records in {records}: {:.3} s, {:.3} ms per job",
        elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1e3 / f64::from(jobs)
    );
    Ok(())
}
