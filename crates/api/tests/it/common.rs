//! A real server on a loopback port over a real local store, with cases
//! ingested through the real intake stages, and a real HTTP client.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use exhibit_api::{ApiOptions, ApiState};
use exhibit_app::CaseReader;
use exhibit_app::access::{AccessState, IssuedToken, Role, SqliteAccessState};
use exhibit_app::readmodel::SqliteReadModel;
use exhibit_core::event::{Action, Actor, CustodyEvent};
use exhibit_core::ids::{CaseId, ExhibitRef};
use exhibit_custody::{Ledger, Signer};
use exhibit_intake::{AcquireStage, IdentifyStage, acquire_jobs, plan_sources};
use exhibit_pipeline::{CaseIndex, Completions, RunId, Stage, StageContext, WorkerConfig, run_in_process};
use exhibit_queue::{JobQueue, MemoryQueue};
use exhibit_store::{LocalStore, ObjectStore};
use serde_json::Value;
use tokio::sync::oneshot;

/// A running API server and what it serves from.
pub struct Server {
    pub base: String,
    pub store: Arc<dyn ObjectStore>,
    pub access: Arc<dyn AccessState>,
    pub key: PathBuf,
    pub dir: tempfile::TempDir,
    pub tus: Arc<exhibit_tus::TusService>,
    /// What the handlers share (for the dashboard's hooks).
    pub state: Arc<ApiState>,
    stop: Option<oneshot::Sender<()>>,
}

/// The largest PUT body the test server takes.
pub const MAX_PUT: u64 = 1 << 20;

fn tus_config(dir: &tempfile::TempDir) -> exhibit_tus::TusConfig {
    exhibit_tus::TusConfig { staging_dir: dir.path().join("staging/tus"), ..Default::default() }
}

/// Ingest as the server runs it: acquire and identify, sets, explore (no
/// transcode or OCR, which need the worker crates).
fn intake_config(
    dir: &tempfile::TempDir,
    store: Arc<dyn ObjectStore>,
    signer: Arc<Signer>,
    options: &ApiOptions,
) -> exhibit_api::intake::IntakeConfig {
    use exhibit_app::ingest::{IngestDeps, IngestOptions, IngestStages};
    let stages = IngestStages {
        intake: vec![Arc::new(AcquireStage::default()), Arc::new(IdentifyStage::default())],
        assemble: Arc::new(exhibit_intake::AssembleStage),
        explore: vec![Arc::new(exhibit_intake::ExploreStage::default())],
        derive: Vec::new(),
    };
    let trusted = options.trusted.as_deref().cloned();
    let queue: Arc<dyn JobQueue> = Arc::new(MemoryQueue::new());
    let queue = exhibit_app::job_keys::signed_queue(queue, signer.clone(), trusted.clone());
    let trust = exhibit_app::case_open::TrustPolicy { trusted, introduce_key: options.introduce_key };
    exhibit_api::intake::IntakeConfig {
        deps: IngestDeps { store, queue, signer, trust, stages },
        options: IngestOptions { workers: 2, ..IngestOptions::default() },
        staging_dir: dir.path().join("staging"),
        max_put_bytes: MAX_PUT,
        body_idle: std::time::Duration::from_secs(10),
        tus: tus_config(dir),
    }
}

impl Server {
    /// A server over a fresh store, access state in SQLite beside it.
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let access: Arc<dyn AccessState> =
            Arc::new(SqliteAccessState::open(&dir.path().join("access.sqlite")).await.unwrap());
        Self::start_with(dir, access, ApiOptions::default()).await
    }

    /// A server whose router is under the per-token limits of `limits`.
    pub async fn start_limited(limits: exhibit_api::limits::TokenLimitConfig) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let access: Arc<dyn AccessState> =
            Arc::new(SqliteAccessState::open(&dir.path().join("access.sqlite")).await.unwrap());
        Self::start_full(dir, access, ApiOptions::default(), Some(limits)).await
    }

    /// A server over a fresh store in `dir`, with this access state and options.
    pub async fn start_with(dir: tempfile::TempDir, access: Arc<dyn AccessState>, options: ApiOptions) -> Self {
        Self::start_full(dir, access, options, None).await
    }

    async fn start_full(
        dir: tempfile::TempDir,
        access: Arc<dyn AccessState>,
        options: ApiOptions,
        limits: Option<exhibit_api::limits::TokenLimitConfig>,
    ) -> Self {
        let store: Arc<dyn ObjectStore> = Arc::new(LocalStore::open(dir.path().join("store")).unwrap());
        let key = dir.path().join("signing_ed25519");
        let signer = Arc::new(Signer::load_or_create(&key).unwrap());
        let reader = CaseReader::new(store.clone(), Arc::new(SqliteReadModel::in_memory().await.unwrap()));
        let config = intake_config(&dir, store.clone(), signer.clone(), &options);
        let intake = exhibit_api::intake::Intake::open(config, access.clone(), reader.clone()).unwrap();
        let tus = intake.uploads().clone();
        let state = Arc::new(ApiState {
            store: store.clone(),
            reader,
            access: access.clone(),
            signer,
            options,
            intake: Some(intake),
            drain: Default::default(),
            ranged_accesses: Default::default(),
            after_response: Default::default(),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel();
        let app = exhibit_api::router(state.clone());
        let app = match limits {
            Some(limits) => {
                exhibit_api::with_token_limits(app, exhibit_api::limits::TokenLimits::new(limits, access.clone()))
            }
            None => app,
        };
        tokio::spawn(exhibit_api::serve_app(listener, None, app, async {
            let _ = stopped.await;
        }));
        Self { base, store, access, key, dir, stop: Some(stop), tus, state }
    }

    /// The folder tus stages uploads in.
    pub fn tus_staging(&self) -> PathBuf {
        tus_config(&self.dir).staging_dir
    }

    /// A token for `user` of `org` (made if new) with `role`.
    pub async fn token(&self, org: &str, user: &str, role: Role) -> String {
        let org = match self.access.org(org).await.unwrap() {
            Some(org) => org,
            None => self.access.add_org(org).await.unwrap(),
        };
        let user = self.access.user(&org, user, role).await.unwrap();
        let token = IssuedToken::generate();
        self.access.add_token(&user, &token, None).await.unwrap();
        token.text
    }

    /// Acquires and identifies `files` small files into `case` as exhibit
    /// JS/1, signed with the server's key (as an ingest on this machine).
    pub async fn ingest(&self, case: &str, files: usize) {
        self.ingest_with_key(case, files, &self.key).await;
    }

    /// As [`Server::ingest`], signed with the key at `key`.
    pub async fn ingest_with_key(&self, case: &str, files: usize, key: &Path) {
        let case: CaseId = self.stored(case).await;
        let exhibit: ExhibitRef = "JS/1".parse().unwrap();
        let source = self.dir.path().join(format!("evidence-{}", case.key_component()));
        std::fs::create_dir_all(&source).unwrap();
        for i in 0..files {
            std::fs::write(source.join(format!("file{i}.txt")), format!("{case} exhibit file {i}\n")).unwrap();
        }
        let signer = Arc::new(Signer::load_or_create(key).unwrap());
        let ledger = Arc::new(Ledger::open(self.store.clone(), case.clone(), signer.clone()).await.unwrap());
        let actor = Actor {
            operator: "DC Test".into(),
            host: "test".into(),
            process: 1,
            public_key: signer.public_key_openssh(),
        };
        let ctx = Arc::new(StageContext::new(case.clone(), self.store.clone(), ledger, actor, CaseIndex::default()));
        let plan = plan_sources(&[source]).unwrap();
        let jobs = acquire_jobs(&plan, &case, &exhibit);
        let queue: Arc<dyn JobQueue> = Arc::new(MemoryQueue::new());
        let completions = Arc::new(Completions::in_process(self.store.clone(), &case, RunId::new()));
        let stages: Vec<Arc<dyn Stage>> = vec![Arc::new(AcquireStage::default()), Arc::new(IdentifyStage::default())];
        let summary = run_in_process(ctx, queue, completions, WorkerConfig::new(stages), (jobs, false)).await.unwrap();
        assert_eq!(summary.failed, 0);
    }

    /// The storage ID of the case `name`: the ID itself for a ledger
    /// ingested under it, else the one case of that name an organisation
    /// created (API creates store under a fresh ID).
    pub async fn stored(&self, name: &str) -> CaseId {
        let typed: CaseId = name.parse().unwrap();
        if self.store.head(&exhibit_core::layout::ledger_key(&typed, 1)).await.is_ok() {
            return typed;
        }
        let named: Vec<CaseId> =
            self.access.all_cases().await.unwrap().into_iter().filter(|c| c.name == typed).map(|c| c.case).collect();
        match named.as_slice() {
            [one] => one.clone(),
            [] => typed,
            many => panic!("several cases are named {name}: {many:?}"),
        }
    }

    /// The `accessed` events of a case's ledger, in order.
    pub async fn accessed(&self, case: &str) -> Vec<CustodyEvent> {
        let case = self.stored(case).await;
        let entries = exhibit_custody::read_entries(self.store.as_ref(), &case).await.unwrap();
        let parsed: Vec<_> = entries.into_iter().map(|e| e.parsed.unwrap()).collect();
        exhibit_custody::events_of(&parsed).map(|(_, e)| e.clone()).filter(|e| e.action == Action::Accessed).collect()
    }

    /// Every event of a case's ledger, in order.
    pub async fn events(&self, case: &str) -> Vec<CustodyEvent> {
        let case = self.stored(case).await;
        let entries = exhibit_custody::read_entries(self.store.as_ref(), &case).await.unwrap();
        let parsed: Vec<_> = entries.into_iter().map(|e| e.parsed.unwrap()).collect();
        exhibit_custody::events_of(&parsed).map(|(_, e)| e.clone()).collect()
    }

    /// An expired and a revoked token of a submitter `user` of `org`.
    pub async fn spoiled_tokens(&self, org: &str, user: &str) -> (String, String) {
        let org = self.access.org(org).await.unwrap().unwrap();
        let user = self.access.user(&org, user, Role::Submitter).await.unwrap();
        let (expired, revoked) = (IssuedToken::generate(), IssuedToken::generate());
        let past = time::OffsetDateTime::now_utc() - time::Duration::hours(1);
        self.access.add_token(&user, &expired, Some(past)).await.unwrap();
        self.access.add_token(&user, &revoked, None).await.unwrap();
        self.access.revoke_token(&revoked.id, time::OffsetDateTime::now_utc()).await.unwrap();
        (expired.text, revoked.text)
    }

    /// One file acquired into `case`, signed by a key other than the
    /// server's (as a case ingested elsewhere), so the server's key may not
    /// join it unless introduced.
    pub async fn ingest_signed_by_another_key(&self, case: &str) {
        let other = self.dir.path().join("other_ed25519");
        self.ingest_with_key(case, 1, &other).await;
    }

    /// This server stopped and a new one started over the same folder,
    /// store and access state, with `--introduce-key`.
    pub async fn restart_introducing_key(mut self) -> Server {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
        let options = ApiOptions { introduce_key: true, ..ApiOptions::default() };
        Self::start_with(dir, self.access.clone(), options).await
    }

    /// The number of ledger entries of a case.
    pub async fn ledger_len(&self, case: &str) -> usize {
        let case = self.stored(case).await;
        exhibit_custody::read_entries(self.store.as_ref(), &case).await.unwrap().len()
    }

    /// `path` made absolute.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {self:?}"))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The error kind of a JSON error body.
    pub fn kind(&self) -> String {
        self.json()["kind"].as_str().unwrap_or_default().to_owned()
    }
}

/// One HTTP request through ureq (a real client), off the async threads.
pub async fn request(
    method: &str,
    url: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
    body: Option<Vec<u8>>,
) -> Reply {
    let (method, url) = (method.to_owned(), url.to_owned());
    let mut all: Vec<(String, String)> = headers.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect();
    if let Some(token) = token {
        all.push(("Authorization".into(), format!("Bearer {token}")));
    }
    tokio::task::spawn_blocking(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        let mut builder = ureq::http::Request::builder().method(method.as_str()).uri(&url);
        for (name, value) in &all {
            builder = builder.header(name, value);
        }
        let mut response = match body {
            Some(body) => agent.run(builder.body(body).unwrap()),
            None => agent.run(builder.body(()).unwrap()),
        }
        .unwrap();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or_default().to_owned()))
            .collect();
        let status = response.status().as_u16();
        let body = response.body_mut().with_config().limit(64 << 20).read_to_vec().unwrap();
        Reply { status, headers, body }
    })
    .await
    .unwrap()
}

pub async fn get(server: &Server, path: &str, token: &str) -> Reply {
    request("GET", &server.url(path), Some(token), &[], None).await
}

pub async fn post_json(server: &Server, path: &str, token: &str, body: Value) -> Reply {
    let body = serde_json::to_vec(&body).unwrap();
    request("POST", &server.url(path), Some(token), &[("Content-Type", "application/json")], Some(body)).await
}

pub async fn delete(server: &Server, path: &str, token: &str) -> Reply {
    request("DELETE", &server.url(path), Some(token), &[], None).await
}

/// A case ID as one path segment.
pub fn seg(text: &str) -> String {
    text.replace('/', "%2F").replace(' ', "%20")
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    exhibit_core::digest::Sha256Digest::of(bytes).to_hex()
}

/// Every file under `root`, relative, sorted: to show that nothing changed.
pub fn files_under(root: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        let Ok(read) = std::fs::read_dir(&dir) else { continue };
        for entry in read.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}
