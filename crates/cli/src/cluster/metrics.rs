//! `/metrics` (Prometheus text format) and `/healthz` of `exhibit worker`:
//! jobs by stage and outcome, job durations, jobs in hand, bytes read, and
//! each stage's queue depth where the queue can say.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use exhibit_pipeline::{JobObserver, Settled};
use exhibit_queue::JobQueue;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use super::scopes::CaseScopes;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    stage: String,
    outcome: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StageLabel {
    stage: String,
}

type Durations = Family<StageLabel, Histogram, fn() -> Histogram>;

/// The worker's metrics, fed by the worker loop ([`JobObserver`]).
pub struct WorkerMetrics {
    registry: Registry,
    jobs: Family<JobLabels, Counter>,
    durations: Durations,
    in_hand: Family<StageLabel, Gauge>,
    depth: Family<StageLabel, Gauge>,
    bytes: Counter,
    bytes_seen: Mutex<u64>,
}

fn duration_histogram() -> Histogram {
    // 5 ms to about 23 min.
    Histogram::new(exponential_buckets(0.005, 2.0, 18))
}

impl WorkerMetrics {
    /// Empty metrics, registered under `exhibit_worker_`.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("exhibit_worker");
        let jobs = Family::<JobLabels, Counter>::default();
        let durations: Durations = Family::new_with_constructor(duration_histogram);
        let in_hand = Family::<StageLabel, Gauge>::default();
        let depth = Family::<StageLabel, Gauge>::default();
        let bytes = Counter::default();
        registry.register("jobs", "Deliveries settled, by stage and outcome", jobs.clone());
        registry.register("job_duration_seconds", "Time from delivery to settle, by stage", durations.clone());
        registry.register("jobs_in_hand", "Deliveries being handled now, by stage", in_hand.clone());
        registry.register("queue_depth", "Jobs waiting in each stage's queue", depth.clone());
        registry.register("bytes_read", "Bytes read from evidence by this worker's stages", bytes.clone());
        Self { registry, jobs, durations, in_hand, depth, bytes, bytes_seen: Mutex::new(0) }
    }

    fn stage(stage: &str) -> StageLabel {
        StageLabel { stage: stage.to_owned() }
    }

    /// The text a scrape gets, after reading the queue depths and bytes.
    async fn render(&self, queue: &dyn JobQueue, stages: &[&'static str], scopes: &CaseScopes) -> String {
        for stage in stages {
            if let Ok(Some(depth)) = queue.depth(stage).await {
                self.depth.get_or_create(&Self::stage(stage)).set(i64::try_from(depth).unwrap_or(i64::MAX));
            }
        }
        let total = scopes.bytes().await;
        {
            let mut seen = self.bytes_seen.lock().unwrap_or_else(|p| p.into_inner());
            self.bytes.inc_by(total.saturating_sub(*seen));
            *seen = (*seen).max(total);
        }
        let mut text = String::new();
        if let Err(e) = prometheus_client::encoding::text::encode(&mut text, &self.registry) {
            tracing::warn!(error = %e, "cannot encode the metrics");
        }
        text
    }
}

impl Default for WorkerMetrics {
    fn default() -> Self {
        Self::new()
    }
}

impl WorkerMetrics {
    /// A job of `stage` refused unrun (unsigned, altered, or signed by a
    /// key this worker does not trust) and dead-lettered.
    pub fn refused(&self, stage: &str) {
        let labels = JobLabels { stage: stage.to_owned(), outcome: "refused".to_owned() };
        self.jobs.get_or_create(&labels).inc();
    }
}

impl JobObserver for WorkerMetrics {
    fn started(&self, stage: &str) {
        self.in_hand.get_or_create(&Self::stage(stage)).inc();
    }

    fn settled(&self, stage: &str, outcome: Settled, elapsed: Duration) {
        self.in_hand.get_or_create(&Self::stage(stage)).dec();
        let labels = JobLabels { stage: stage.to_owned(), outcome: outcome.as_str().to_owned() };
        self.jobs.get_or_create(&labels).inc();
        self.durations.get_or_create(&Self::stage(stage)).observe(elapsed.as_secs_f64());
    }
}

/// What the HTTP handlers read.
pub struct Served {
    /// The metrics.
    pub metrics: Arc<WorkerMetrics>,
    /// The queue, for its depth.
    pub queue: Arc<dyn JobQueue>,
    /// The stages this worker runs.
    pub stages: Vec<&'static str>,
    /// The open cases, for bytes read.
    pub scopes: Arc<CaseScopes>,
    /// Why the worker is not ready yet (None once it takes jobs).
    pub waiting: Mutex<Option<String>>,
}

impl Served {
    /// Records why the worker is not ready, or that it is (None).
    pub fn set_waiting(&self, why: Option<String>) {
        *self.waiting.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = why;
    }

    fn waiting(&self) -> Option<String> {
        self.waiting.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

/// `/healthz` and `/metrics`.
pub fn router(served: Arc<Served>) -> Router {
    Router::new().route("/healthz", get(healthz)).route("/metrics", get(metrics)).with_state(served)
}

/// 200 `ok` once the worker takes jobs and its queue answers; 503 with
/// the reason while it waits for the object store or cannot reach the
/// queue, so that an orchestrator does not count it as serving.
async fn healthz(State(served): State<Arc<Served>>) -> (StatusCode, String) {
    if let Some(why) = served.waiting() {
        return (StatusCode::SERVICE_UNAVAILABLE, format!("waiting: {why}\n"));
    }
    let Some(stage) = served.stages.first() else { return (StatusCode::OK, "ok\n".into()) };
    match tokio::time::timeout(HEALTH_QUEUE_TIMEOUT, served.queue.depth(stage)).await {
        Ok(Ok(_)) => (StatusCode::OK, "ok\n".into()),
        Ok(Err(e)) => (StatusCode::SERVICE_UNAVAILABLE, format!("queue unreachable: {e}\n")),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "queue unreachable: no answer within 5 s\n".into()),
    }
}

/// How long `/healthz` waits for the queue to answer.
const HEALTH_QUEUE_TIMEOUT: Duration = Duration::from_secs(5);

async fn metrics(State(served): State<Arc<Served>>) -> impl IntoResponse {
    let text = served.metrics.render(served.queue.as_ref(), &served.stages, &served.scopes).await;
    ([(CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], text)
}
