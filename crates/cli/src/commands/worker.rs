//! `exhibit worker`: a long-running process that takes jobs of its stages
//! off the queue, for any case, and records into the store. SIGTERM or
//! SIGINT stops it taking jobs; the jobs in hand finish (or, on a second
//! signal, are left unacked for the broker to deliver again), then it
//! exits 0.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use exhibit_pipeline::{JobObserver, Worker, WorkerConfig};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;
use tracing::info;

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
    #[command(flatten)]
    keys: KeyArgs,
}

pub async fn run(args: WorkerArgs, config: Config) -> anyhow::Result<ExitCode> {
    let operator = check_operator(&args.operator)?;
    let stages = stages(&args.stages, &config)?;
    config.ocr.validate()?;
    let store = open_store(&config)?;
    let queue = exhibit_queue::open_queue(&config.queue.uri).context("cannot open the job queue ([queue] uri)")?;
    let signer = open_signer(&config)?;
    let actor = actor(&operator, &signer);
    let scopes = Arc::new(CaseScopes::new(store, signer, actor, args.keys.clone(), config.clone()));
    let metrics = Arc::new(WorkerMetrics::new());
    let names: Vec<&'static str> = stages.iter().map(|s| s.name()).collect();
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {} (--listen)", args.listen))?;
    let addr = listener.local_addr().context("cannot read the listening address")?;
    eprintln!("exhibit worker: stages {}; metrics on http://{addr}/metrics", names.join(","));
    let served =
        Arc::new(Served { metrics: metrics.clone(), queue: queue.clone(), stages: names, scopes: scopes.clone() });
    let (stop_tx, stop) = watch::channel(false);
    let server = tokio::spawn(serve(listener, served, stop.clone()));
    tokio::spawn(stop_on_signals(stop_tx)?);
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

async fn serve(listener: tokio::net::TcpListener, served: Arc<Served>, mut stop: watch::Receiver<bool>) {
    let shutdown = async move {
        let _stopped = stop.wait_for(|s| *s).await;
    };
    if let Err(e) = axum::serve(listener, router(served)).with_graceful_shutdown(shutdown).await {
        tracing::warn!(error = %e, "the metrics server stopped");
    }
}

/// The first SIGTERM or SIGINT stops the worker taking jobs; a second
/// exits at once, leaving the jobs in hand unacked (the broker delivers
/// them again).
fn stop_on_signals(stop: watch::Sender<bool>) -> anyhow::Result<impl std::future::Future<Output = ()>> {
    let mut term = signal(SignalKind::terminate()).context("cannot watch for SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot watch for SIGINT")?;
    Ok(async move {
        for n in 0..2 {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
            if n == 0 {
                eprintln!("exhibit worker: stopping: finishing the jobs in hand (signal again to stop at once)");
                let _none_left = stop.send(true);
            }
        }
        eprintln!("exhibit worker: stopped at once; the jobs in hand go back to the queue");
        std::process::exit(i32::from(EXIT_INTERRUPTED));
    })
}
