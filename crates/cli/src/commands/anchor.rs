//! Anchoring during `exhibit ingest`: the ledger head is timestamped by the
//! configured TSA at the end of the run, and every `interval_secs` while a
//! long run goes on. A TSA that fails never fails the ingest: the failure
//! is printed as a warning and recorded as a `failed` event, and that
//! newer head is anchored on the next run.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use exhibit_core::event::{Action, Outcome};
use exhibit_core::ids::ExhibitRef;
use exhibit_core::manifest::ToolInfo;
use exhibit_core::params::{EventParams, FailedParams};
pub use exhibit_custody::Anchorer;
use exhibit_custody::{AnchorError, AnchorOutcome, anchor_head};
use exhibit_pipeline::StageContext;
use exhibit_timestamp::{TsaClient, TsaTrust};
use serde_json::json;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::config::AnchoringConfig;

/// The TSA timeouts allowed, in seconds.
const TIMEOUT_SECS: std::ops::RangeInclusive<u64> = 1..=600;

/// The anchorer the config describes; `None` when no `tsa_url` is set.
/// Checks the URL, policy and CA file before anything is written.
pub fn anchorer(config: &AnchoringConfig) -> anyhow::Result<Option<Arc<Anchorer>>> {
    let Some(url) = &config.tsa_url else { return Ok(None) };
    // Bounded: a huge timeout overflows inside the HTTP client (it panicked).
    if !TIMEOUT_SECS.contains(&config.timeout_secs) {
        anyhow::bail!(
            "[anchoring] timeout_secs is {}; it must be {}..={} seconds",
            config.timeout_secs,
            TIMEOUT_SECS.start(),
            TIMEOUT_SECS.end()
        );
    }
    let client = TsaClient::new(url, Duration::from_secs(config.timeout_secs), config.policy.as_deref())
        .context("[anchoring] is not usable")?
        .with_max_response(config.max_response_bytes);
    Ok(Some(Arc::new(Anchorer::new(client, tsa_trust(config)?))))
}

/// The TSA CA to check tokens against; `None` when no `ca_file` is set.
pub fn tsa_trust(config: &AnchoringConfig) -> anyhow::Result<Option<TsaTrust>> {
    let Some(ca) = &config.ca_file else { return Ok(None) };
    let trust = TsaTrust::load(ca, config.untrusted_file.as_deref())
        .context("[anchoring] ca_file or untrusted_file is not usable")?;
    Ok(Some(trust))
}

/// Anchors taken and failures seen during one run.
#[derive(Debug, Default)]
pub struct AnchorLog {
    lines: Mutex<Vec<String>>,
    failures: Mutex<Vec<String>>,
    /// Woken after each attempt, for whoever waits on the next one.
    attempted: Notify,
}

impl AnchorLog {
    /// Prints what happened: anchors to stdout (stderr when stdout carries
    /// a JSON document), failures as loud warnings.
    pub fn print(&self, json: bool) {
        for line in self.lines.lock().map(|l| l.clone()).unwrap_or_default() {
            if json { eprintln!("{line}") } else { crate::logging::report(&line) }
        }
        for failure in self.failures.lock().map(|f| f.clone()).unwrap_or_default() {
            eprintln!(
                "WARNING: the ledger head was NOT timestamped: {failure}. Nothing is lost: the failure is recorded in the ledger, and the next command that records in this case (ingest, get, reproduce) timestamps the head."
            );
        }
    }
}

/// Timestamps the head once; on failure records a `failed` event. A stored
/// token for the head that does not check out is recorded the same way, and
/// the new head (that record) is then timestamped.
pub async fn anchor_now(ctx: &StageContext, anchorer: &Anchorer, exhibit: &ExhibitRef, log: &AnchorLog) {
    for _attempt in 0..2 {
        let line = match anchor_head(&ctx.store, &ctx.case, anchorer).await {
            Ok(AnchorOutcome::Anchored { seq, body_sha256, key }) => {
                format!(
                    "anchored: ledger entry {seq} (sha256 {body_sha256}) timestamped by {} in {key}",
                    anchorer.url()
                )
            }
            Ok(AnchorOutcome::AlreadyAnchored { seq }) => {
                format!("anchored: ledger entry {seq} already has a timestamp")
            }
            Ok(AnchorOutcome::EmptyLedger) => return,
            Err(e) => {
                let invalid_existing = matches!(e, AnchorError::InvalidExisting { .. });
                record_failure(ctx, anchorer, exhibit, log, e).await;
                if invalid_existing {
                    continue;
                }
                return;
            }
        };
        if let Ok(mut l) = log.lines.lock() {
            l.push(line);
        }
        log.attempted.notify_one();
        return;
    }
}

async fn record_failure(
    ctx: &StageContext,
    anchorer: &Anchorer,
    exhibit: &ExhibitRef,
    log: &AnchorLog,
    e: AnchorError,
) {
    let reason = e.to_string();
    tracing::info!(error = %reason, "anchoring failed");
    let mut event = ctx.event(Action::Failed, Some(exhibit), ToolInfo::exhibit("anchor"));
    event.set_params(EventParams::Failed(FailedParams {
        anchor: Some(json!({"tsa_url": anchorer.url(), "seq": e.seq()})),
        ..Default::default()
    }));
    event.outcome = Outcome::Failed { reason: reason.clone() };
    let recorded = ctx.record(event).await;
    let note = recorded.err().map(|e| format!(" (and recording the failure failed too: {e:#})"));
    if let Ok(mut f) = log.failures.lock() {
        f.push(format!("{reason}{}", note.unwrap_or_default()));
    }
    log.attempted.notify_one();
}

/// Anchors the head after a single record (`get`, `reproduce`), and prints
/// the outcome on stderr so that stdout stays the command's own output.
pub async fn anchor_after_record(ctx: &StageContext, anchorer: Option<&Anchorer>, exhibit: &ExhibitRef) {
    let Some(anchorer) = anchorer else { return };
    let log = AnchorLog::default();
    anchor_now(ctx, anchorer, exhibit, &log).await;
    log.print(true);
}

/// A task that anchors the head every `every` until stopped.
pub struct Periodic {
    stop: Arc<Notify>,
    task: JoinHandle<()>,
}

impl Periodic {
    /// Starts anchoring every `every` seconds of a long run.
    pub fn start(
        ctx: Arc<StageContext>,
        anchorer: Arc<Anchorer>,
        exhibit: ExhibitRef,
        log: Arc<AnchorLog>,
        every: Duration,
    ) -> Self {
        let stop = Arc::new(Notify::new());
        let stopped = stop.clone();
        let task = tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.tick().await; // The first tick is immediate; the run has only begun.
            loop {
                tokio::select! {
                    biased;
                    _ = stopped.notified() => break,
                    _ = ticks.tick() => anchor_now(&ctx, &anchorer, &exhibit, &log).await,
                }
            }
        });
        Self { stop, task }
    }

    /// Stops the task, waiting for an exchange under way to finish.
    pub async fn stop(self) {
        self.stop.notify_one();
        let _ = self.task.await;
    }
}

#[cfg(test)]
mod tests {
    use exhibit_core::event::Action;
    use exhibit_custody::{Ledger, Signer};
    use exhibit_pipeline::CaseIndex;
    use exhibit_timestamp::loopback::{KeyKind, LoopbackTsa};

    use super::*;

    /// Waits (event-driven, bounded) until the log has a line containing `text`.
    async fn wait_for(log: &AnchorLog, text: &str) {
        let found = || log.lines.lock().map(|l| l.iter().any(|line| line.contains(text))).unwrap_or(false);
        let wait = async {
            while !found() {
                log.attempted.notified().await;
            }
        };
        tokio::time::timeout(Duration::from_secs(60), wait).await.unwrap_or_else(|_| panic!("no line {text:?}"));
    }

    #[tokio::test]
    async fn a_long_run_anchors_each_new_head_every_interval() {
        let dir = tempfile::tempdir().unwrap();
        let tsa_dir = dir.path().join("tsa");
        std::fs::create_dir(&tsa_dir).unwrap();
        let tsa = LoopbackTsa::start(&tsa_dir, KeyKind::EcP256).unwrap();
        let store = exhibit_store::open_store(dir.path().join("data").to_str().unwrap()).unwrap();
        let signer = Arc::new(Signer::load_or_create(&dir.path().join("key")).unwrap());
        let case: exhibit_core::ids::CaseId = "C1".parse().unwrap();
        let ledger = Arc::new(Ledger::open(store.clone(), case.clone(), signer.clone()).await.unwrap());
        let actor = crate::session::actor("T", &signer);
        let ctx = Arc::new(StageContext::new(case, store, ledger, actor, CaseIndex::default()));
        let exhibit: ExhibitRef = "JS/1".parse().unwrap();
        let record = |n: u64| {
            let mut event = ctx.event(Action::Accessed, Some(&exhibit), ToolInfo::exhibit("test"));
            event.set_params(exhibit_core::params::EventParams::Accessed(exhibit_core::params::AccessedParams {
                n: Some(n),
                ..Default::default()
            }));
            event
        };
        ctx.record(record(1)).await.unwrap();
        let client = TsaClient::new(&tsa.url(), Duration::from_secs(10), None).unwrap();
        let anchorer = Arc::new(Anchorer::new(client, None));
        let log = Arc::new(AnchorLog::default());
        let every = Duration::from_millis(50);
        let periodic = Periodic::start(ctx.clone(), anchorer, exhibit.clone(), log.clone(), every);
        wait_for(&log, "anchored: ledger entry 2 (sha256").await;
        ctx.record(record(2)).await.unwrap();
        wait_for(&log, "anchored: ledger entry 3 (sha256").await;
        wait_for(&log, "ledger entry 3 already has a timestamp").await;
        periodic.stop().await;
        assert_eq!(tsa.tokens_issued(), 2, "one token per new head, none for an unchanged one");
    }
}
