//! One [`StageContext`] per case, opened on a job's first use of it, and
//! the completion records of each run, for `exhibit worker`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use exhibit_core::event::Actor;
use exhibit_core::ids::CaseId;
use exhibit_custody::Signer;
use exhibit_pipeline::{Completions, JobScope, RunId, Scopes, StageContext, StageError, Tally};
use exhibit_queue::Job;
use exhibit_store::ObjectStore;
use tracing::info;

use crate::config::Config;
use crate::ledger_gate::Refused;
use crate::session::open_case;
use crate::trust::KeyArgs;

/// What a worker needs to open a case as `exhibit ingest` would.
pub struct CaseScopes {
    store: Arc<dyn ObjectStore>,
    signer: Arc<Signer>,
    actor: Actor,
    keys: KeyArgs,
    config: Config,
    /// Opened cases. An async lock: opening reads the whole ledger, and a
    /// second job of the same case must wait for it, not open it again.
    cases: tokio::sync::Mutex<HashMap<CaseId, Arc<StageContext>>>,
    runs: Mutex<HashMap<(CaseId, RunId), Arc<Completions>>>,
}

impl CaseScopes {
    /// Scopes over `store`, signing with `signer` as `actor`.
    pub fn new(store: Arc<dyn ObjectStore>, signer: Arc<Signer>, actor: Actor, keys: KeyArgs, config: Config) -> Self {
        Self { store, signer, actor, keys, config, cases: tokio::sync::Mutex::default(), runs: Mutex::default() }
    }

    /// Bytes read from sources and stored media so far, over every case.
    pub async fn bytes(&self) -> u64 {
        self.cases.lock().await.values().map(|ctx| Tally::get(&ctx.tally.bytes)).sum()
    }

    async fn context(&self, case: &CaseId) -> Result<Arc<StageContext>, StageError> {
        let mut cases = self.cases.lock().await;
        if let Some(ctx) = cases.get(case) {
            return Ok(ctx.clone());
        }
        let opened = open_case(self.store.clone(), case, self.signer.clone(), (&self.keys, &self.config))
            .await
            .map_err(|e| open_error(case, &e))?;
        // Only `exhibit ingest` starts a case: a message naming a case with
        // no ledger is not work of this store, and must not make one.
        if opened.entries.is_empty() {
            return Err(StageError::input(format!(
                "case {case} has no ledger in this store; only `exhibit ingest` starts a case"
            )));
        }
        let mut ctx =
            StageContext::new(case.clone(), self.store.clone(), opened.ledger, self.actor.clone(), opened.index);
        crate::cluster::stages::configure(&mut ctx, &self.config)
            .map_err(|e| StageError::input(format!("cannot configure the stages: {e:#}")))?;
        info!(%case, entries = opened.entries.len(), "case opened");
        let ctx = Arc::new(ctx);
        cases.insert(case.clone(), ctx.clone());
        Ok(ctx)
    }

    fn completions(&self, case: &CaseId, run: RunId) -> Arc<Completions> {
        let mut runs = self.runs.lock().unwrap_or_else(|p| p.into_inner());
        let key = (case.clone(), run);
        runs.entry(key.clone()).or_insert_with(|| Arc::new(Completions::new(self.store.clone(), case, key.1))).clone()
    }
}

#[async_trait]
impl Scopes for CaseScopes {
    async fn scope(&self, job: &Job) -> Result<JobScope, StageError> {
        // Completion records are what an ingest waits on; a job of no run
        // could never be waited for, nor told apart from a later run's.
        let run = job.run.as_deref().and_then(RunId::parse).ok_or_else(|| {
            StageError::input(format!("job {} names no ingest run; only `exhibit ingest` queues jobs", job.job_id.0))
        })?;
        let ctx = self.context(&job.case).await?;
        Ok(JobScope { ctx, completions: self.completions(&job.case, run) })
    }
}

/// A ledger that fails its check will fail it again: an input error. A
/// store that does not answer may answer later: transient.
fn open_error(case: &CaseId, e: &anyhow::Error) -> StageError {
    let message = format!("cannot open case {case}: {e:#}");
    if e.downcast_ref::<Refused>().is_some() { StageError::input(message) } else { StageError::transient(message) }
}
