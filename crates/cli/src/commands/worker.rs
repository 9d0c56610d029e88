//! `exhibit worker`: a long-running process that takes jobs of its stages
//! off the queue, for any case, and records into the store. SIGTERM or
//! SIGINT stops it taking jobs; the jobs in hand finish (or, on a second
//! signal, are left unacked for the broker to deliver again), then it
//! exits 0.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use exhibit_pipeline::{JobObserver, Worker, WorkerConfig};
use exhibit_store::{ObjectStore, StoreErrorKind};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;
use tracing::{info, warn};

use crate::cluster::metrics::{Served, WorkerMetrics, router};
use crate::cluster::scopes::CaseScopes;
use crate::cluster::stages::stages;
use crate::config::Config;
use crate::session::{actor, check_operator, open_signer, open_store};
use crate::trust::KeyArgs;

/// Exit code when a second signal cuts the jobs in hand short.
const EXIT_INTERRUPTED: u8 = 130;

#[derive(Debug, Clone, clap::Args)]
pub struct WorkerArgs {
    /// Stages to take jobs for, comma-separated: acquire, identify,
    /// explore, transcode, ocr, ocr-bundle.
    #[arg(long, value_name = "LIST", default_value = "explore,transcode,ocr,ocr-bundle")]
    stages: String,
    /// Name of the person responsible for what this worker records.
    #[arg(long)]
    operator: String,
    /// Jobs run at once per stage (stages that share group commits run
    /// more), 1 to 64.
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=64))]
    concurrency: usize,
    /// Address of /healthz and /metrics; port 0 picks one (printed on stderr).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// After SIGTERM, how long the jobs in hand may run on before they go
    /// back to the queue for another worker and this one exits; 0 waits
    /// for them however long.
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    drain_timeout: u64,
    #[command(flatten)]
    keys: KeyArgs,
}

pub async fn run(args: WorkerArgs, config: Config) -> anyhow::Result<ExitCode> {
    let operator = check_operator(&args.operator)?;
    let stages = stages(&args.stages, &config)?;
    config.ocr.validate()?;
    let store = open_store(&config)?;
    let queue = exhibit_queue::open_queue_with(&config.queue.uri, config.queue.options())
        .context("cannot open the job queue ([queue] uri)")?;
    let signer = open_signer(&config)?;
    let trusted = crate::trust::load_trusted(&args.keys.trust, &config)?;
    let metrics = Arc::new(WorkerMetrics::new());
    let refused = {
        let metrics = metrics.clone();
        Arc::new(move |stage: &str| metrics.refused(stage)) as exhibit_queue::signed::RefusalHook
    };
    // Beneath the signature check, so its refusals are recorded too.
    let queue = exhibit_pipeline::RecordedDeadLetters::wrap(queue, store.clone());
    let queue = exhibit_app::job_keys::signed_queue_counting(queue, signer.clone(), trusted, Some(refused));
    let actor = actor(&operator, &signer);
    let scopes = Arc::new(CaseScopes::new(store.clone(), signer, actor, args.keys.clone(), config.clone()));
    let names: Vec<&'static str> = stages.iter().map(|s| s.name()).collect();
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {} (--listen)", args.listen))?;
    let addr = listener.local_addr().context("cannot read the listening address")?;
    eprintln!("exhibit worker: stages {}; metrics on http://{addr}/metrics", names.join(","));
    let served = Arc::new(Served {
        metrics: metrics.clone(),
        queue: queue.clone(),
        stages: names,
        scopes: scopes.clone(),
        waiting: Mutex::new(Some("checking the object store".into())),
    });
    let (stop_tx, stop) = watch::channel(false);
    let server = tokio::spawn(serve(listener, served.clone(), stop.clone()));
    tokio::spawn(stop_on_signals(stop_tx, Duration::from_secs(args.drain_timeout))?);
    if !wait_for_store(store.as_ref(), &served, stop.clone()).await? {
        server.abort();
        return Ok(ExitCode::SUCCESS);
    }
    let worker_config = WorkerConfig {
        concurrency: args.concurrency,
        max_attempts: config.ingest.max_attempts,
        observer: Some(metrics as Arc<dyn JobObserver>),
        ..WorkerConfig::new(stages)
    };
    let mut stopping = stop.clone();
    let summary = Worker::with_scopes(scopes, queue)
        .run(worker_config, async move {
            let _stopped = stopping.wait_for(|s| *s).await;
        })
        .await
        .context("the worker stopped: its job queue failed")?;
    info!(?summary, "worker stopped");
    eprintln!(
        "exhibit worker: stopped after {} jobs ({} retried, {} dead-lettered)",
        summary.deliveries, summary.retries, summary.dead_lettered
    );
    server.abort();
    Ok(ExitCode::SUCCESS)
}

/// Longest pause between two checks of an unreachable object store.
const STORE_LONGEST_PAUSE: Duration = Duration::from_secs(30);

/// Checks the store's create-only writes before the first job. A store
/// that cannot be reached (a worker started during an outage, or before
/// the server) is checked again with doubling pauses, and `/healthz` says
/// why the worker waits; a store that refuses is an error. False when a
/// signal stopped the worker while it waited.
async fn wait_for_store(
    store: &dyn ObjectStore,
    served: &Served,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<bool> {
    let mut pause = Duration::from_secs(1);
    loop {
        match store.check_create_only().await {
            Ok(()) => {
                served.set_waiting(None);
                return Ok(true);
            }
            Err(e) if e.kind() == StoreErrorKind::Io => {
                warn!(error = %e, pause_s = pause.as_secs(), "the object store is unreachable; the worker waits for it");
                eprintln!(
                    "exhibit worker: waiting for the object store (checking again in {} s): {e}",
                    pause.as_secs()
                );
                served.set_waiting(Some(format!("the object store is unreachable: {e}")));
                tokio::select! {
                    () = tokio::time::sleep(pause) => {}
                    _ = stop.wait_for(|s| *s) => return Ok(false),
                }
                pause = (pause * 2).min(STORE_LONGEST_PAUSE);
            }
            Err(e) => return Err(e).context("cannot keep a custody ledger in this store"),
        }
    }
}

async fn serve(listener: tokio::net::TcpListener, served: Arc<Served>, mut stop: watch::Receiver<bool>) {
    let shutdown = async move {
        let _stopped = stop.wait_for(|s| *s).await;
    };
    if let Err(e) = axum::serve(listener, router(served)).with_graceful_shutdown(shutdown).await {
        tracing::warn!(error = %e, "the metrics server stopped");
    }
}

/// The first SIGTERM or SIGINT stops the worker taking jobs; a second, or
/// the end of `drain` (unless zero), exits at once, leaving the jobs in
/// hand unacked (the broker delivers them again).
fn stop_on_signals(
    stop: watch::Sender<bool>,
    drain: Duration,
) -> anyhow::Result<impl std::future::Future<Output = ()>> {
    let mut term = signal(SignalKind::terminate()).context("cannot watch for SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot watch for SIGINT")?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        let limit = if drain.is_zero() { "no time limit".to_owned() } else { format!("at most {} s", drain.as_secs()) };
        eprintln!("exhibit worker: stopping: finishing the jobs in hand ({limit}; signal again to stop at once)");
        let _none_left = stop.send(true);
        let drained = async {
            if drain.is_zero() { std::future::pending::<()>().await } else { tokio::time::sleep(drain).await }
        };
        tokio::select! {
            _ = term.recv() => {
                eprintln!("exhibit worker: stopped at once; the jobs in hand go back to the queue");
                std::process::exit(i32::from(EXIT_INTERRUPTED));
            }
            _ = int.recv() => {
                eprintln!("exhibit worker: stopped at once; the jobs in hand go back to the queue");
                std::process::exit(i32::from(EXIT_INTERRUPTED));
            }
            () = drained => {
                warn!(drain_s = drain.as_secs(), "the jobs in hand outran --drain-timeout; they go back to the queue");
                eprintln!(
                    "exhibit worker: stopped: the jobs in hand ran past --drain-timeout ({} s) and go back to the queue for another worker",
                    drain.as_secs()
                );
                std::process::exit(0);
            }
        }
    })
}
