//! Test scaffolding: serves the upload router on loopback with a stub
//! authorizer, so real tus clients (tuspy) and benchmarks can talk to it
//! in its own process (whose peak RSS the tests read). Not the API server:
//! `exhibit serve` mounts the same router behind real authentication.
//!
//! The stub takes `Authorization: Bearer ORG:USER` and lets ORG upload to
//! the cases given with `--allow ORG=CASE`. Each completed upload is
//! appended to `--completions` as one JSON line.

use std::collections::HashSet;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::{Context as _, bail};
use async_trait::async_trait;
use axum::http::HeaderMap;
use clap::Parser;
use exhibit_core::CaseId;
use exhibit_tus::{
    AuthRefusal, CompletedUpload, Principal, StagedBytes, TusConfig, TusService, UploadAuthorizer, UploadCompletion,
};

#[derive(Parser)]
#[command(about = "Serve tus uploads on loopback with a stub authorizer (test scaffolding)")]
struct Args {
    /// Loopback address to listen on (port 0 picks one).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// The staging folder.
    #[arg(long)]
    staging: PathBuf,
    /// ORG=CASE: ORG may upload to CASE (repeatable).
    #[arg(long = "allow")]
    allow: Vec<String>,
    /// File to append completed uploads to, one JSON line each.
    #[arg(long)]
    completions: PathBuf,
    #[arg(long)]
    max_upload_length: Option<u64>,
    #[arg(long)]
    max_patch_body: Option<u64>,
    #[arg(long)]
    max_uploads_per_principal: Option<usize>,
}

struct StubAuthorizer {
    allowed: HashSet<(String, String)>,
}

#[async_trait]
impl UploadAuthorizer for StubAuthorizer {
    async fn authenticate(&self, headers: &HeaderMap) -> Result<Principal, AuthRefusal> {
        let token = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| AuthRefusal::Unauthenticated("send Authorization: Bearer ORG:USER".into()))?;
        let (org, id) =
            token.split_once(':').ok_or_else(|| AuthRefusal::Unauthenticated("the stub token is ORG:USER".into()))?;
        Ok(Principal { org: org.to_owned(), id: id.to_owned() })
    }

    async fn may_upload(&self, principal: &Principal, case: &CaseId) -> Result<bool, AuthRefusal> {
        Ok(self.allowed.contains(&(principal.org.clone(), case.normalised())))
    }
}

struct JsonLines {
    file: Mutex<std::fs::File>,
}

#[async_trait]
impl UploadCompletion for JsonLines {
    async fn upload_completed(&self, upload: &CompletedUpload) -> Result<StagedBytes, String> {
        let line = serde_json::json!({
            "id": upload.id.as_str(),
            "org": upload.principal.org,
            "case": upload.case.as_str(),
            "exhibit": upload.exhibit.as_str(),
            "filename": upload.filename.as_str(),
            "length": upload.length,
            "sha256": upload.sha256.to_hex(),
            "data_path": upload.data_path,
        });
        let mut file = self.file.lock().map_err(|_| "completions file lock poisoned".to_owned())?;
        writeln!(file, "{line}").and_then(|()| file.sync_data()).map_err(|e| e.to_string())?;
        Ok(StagedBytes::Keep)
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    if !args.listen.ip().is_loopback() {
        bail!("this test server listens on loopback only, not {}", args.listen);
    }
    let mut allowed = HashSet::new();
    for pair in &args.allow {
        let (org, case) = pair.split_once('=').with_context(|| format!("--allow {pair:?}: expected ORG=CASE"))?;
        let case: CaseId = case.parse()?;
        allowed.insert((org.to_owned(), case.normalised()));
    }
    let defaults = TusConfig::default();
    let config = TusConfig {
        staging_dir: args.staging,
        max_upload_length: args.max_upload_length.unwrap_or(defaults.max_upload_length),
        max_patch_body: args.max_patch_body.unwrap_or(defaults.max_patch_body),
        max_uploads_per_principal: args.max_uploads_per_principal.unwrap_or(defaults.max_uploads_per_principal),
        ..defaults
    };
    let file = std::fs::OpenOptions::new().create(true).append(true).open(&args.completions)?;
    let completion = Arc::new(JsonLines { file: Mutex::new(file) });
    let service = Arc::new(TusService::new(config, Arc::new(StubAuthorizer { allowed }), completion)?);
    service.hand_over_pending().await?;
    service.spawn_sweeper();
    let app = axum::Router::new().nest("/v1/uploads", exhibit_tus::router(service));
    let listener = tokio::net::TcpListener::bind(args.listen).await?;
    println!("listening http://{}/v1/uploads", listener.local_addr()?);
    std::io::stdout().flush()?;
    axum::serve(listener, app).await?;
    Ok(())
}
