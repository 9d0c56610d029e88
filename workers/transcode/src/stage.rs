//! The transcode stage: runs the policy's rules on one stored audio or
//! video artefact (in an isolated child process) and records each output as
//! a derivative artefact linked to its source.

use async_trait::async_trait;
use exhibit_core::event::{Action, ArtefactRef, InputRef};
use exhibit_core::ids::ArtefactId;
use exhibit_core::manifest::{ArtefactManifest, Derivation, MediaType, ParentRef, ToolInfo};
use exhibit_core::params::{EventParams, TranscodedParams};
use exhibit_pipeline::derive::{DeriveInput, TRANSCODE};
use exhibit_pipeline::{ArtefactBatch, Stage, StageContext, StageError, derivative_manifest};
use exhibit_queue::Job;
use tracing::instrument;

use crate::error::ErrorKind;
use crate::policy::{Container, Policy};
use crate::report::{OutputReport, TranscodeOutcome};
use crate::{Limits, transcode};

/// The policy shipped in `config/normalisation.toml`, used when none is
/// configured.
pub const DEFAULT_POLICY: &str = include_str!("../../../config/normalisation.toml");

/// Transcodes audio and video under a declared policy.
#[derive(Debug, Clone)]
pub struct TranscodeStage {
    /// The normalisation policy.
    pub policy: Policy,
    /// Caps on each job.
    pub limits: Limits,
}

fn mime_of(container: &Container) -> (&'static str, &'static str) {
    match container {
        Container::Mp4 => ("video/mp4", "mp4"),
        Container::M4a => ("audio/mp4", "m4a"),
        Container::Matroska => ("video/x-matroska", "mkv"),
        Container::Flac => ("audio/flac", "flac"),
        Container::Mp3 => ("audio/mpeg", "mp3"),
    }
}

impl TranscodeStage {
    /// The policy's identity in derive job IDs: its version plus a SHA-256
    /// of every setting, so any change to `normalisation.toml` that shapes
    /// the outputs gives new jobs.
    pub fn policy_identity(&self) -> Result<String, crate::TranscodeError> {
        exhibit_pipeline::derive::policy_identity(&self.policy.version, &self.policy)
            .map_err(|e| crate::TranscodeError::new(ErrorKind::Internal, format!("cannot serialise the policy: {e}")))
    }
}

fn stage_error(path: &str, e: crate::TranscodeError) -> StageError {
    let message = format!("{path}: {e}");
    match e.kind {
        ErrorKind::Io | ErrorKind::Internal => StageError::transient(message),
        // The message names the key and the size; a rerun refuses it again.
        ErrorKind::LimitExceeded | ErrorKind::Timeout => StageError::limit(format!("{path}: {}", e.reason)),
        _ => StageError::input(message),
    }
}

#[async_trait]
impl Stage for TranscodeStage {
    fn name(&self) -> &'static str {
        TRANSCODE
    }

    /// The caps a recording is refused under, and this build's decoders.
    fn fault_settings(&self) -> Option<String> {
        let l = &self.limits;
        Some(format!(
            "transcode:max-frame-pixels={}:max-duration={}s:max-sample-rate={}:max-channels={}:timeout={}s:max-cpu={}s:max-address-space={}:max-alloc={}:v={}",
            l.max_frame_pixels,
            l.max_duration.as_secs(),
            l.max_sample_rate,
            l.max_channels,
            l.timeout.as_secs(),
            l.max_cpu.as_secs(),
            l.max_address_space,
            l.max_alloc,
            env!("CARGO_PKG_VERSION")
        ))
    }

    #[instrument(name = "transcode", skip_all, fields(job = %job.job_id.0))]
    async fn run(&self, ctx: &StageContext, job: &Job) -> Result<Vec<Job>, StageError> {
        let Some((input, source, scratch)) = exhibit_pipeline::derive::start(ctx, job).await? else {
            return Ok(Vec::new());
        };
        let (policy, limits, out) = (self.policy.clone(), self.limits.clone(), scratch.path().to_owned());
        let outcome = tokio::task::spawn_blocking(move || transcode(source.path(), &policy, &out, &limits))
            .await
            .map_err(|e| StageError::transient(format!("transcode task failed: {e}")))?
            .map_err(|e| stage_error(&input.path, e))?;
        // Every output through one batch: a redelivered or duplicated job
        // skips outputs already recorded, and the ledger guard drops any
        // that another worker records meanwhile.
        let mut batch = ArtefactBatch::new(ctx);
        let count = outcome.outputs.len();
        for (i, output) in outcome.outputs.iter().enumerate() {
            let last = i + 1 == count;
            stage_output(&mut batch, ctx, job, &input, &outcome, output, last).await?;
        }
        match batch.commit().await?.into_iter().next() {
            Some(failed) => Err(StageError::input(format!("{}: {}", failed.label, failed.reason))),
            None => Ok(Vec::new()),
        }
    }
}

/// Stages one output, its manifest and its `transcoded` event, unless the
/// ledger already records that output. The last output's event carries the
/// job ID, which marks the job done.
async fn stage_output(
    batch: &mut ArtefactBatch<'_>,
    ctx: &StageContext,
    job: &Job,
    input: &DeriveInput,
    outcome: &TranscodeOutcome,
    output: &OutputReport,
    last: bool,
) -> Result<(), StageError> {
    let mut tool = ToolInfo::exhibit(TRANSCODE);
    tool.libraries = outcome.libraries.clone();
    let mut event = ctx.event(Action::Transcoded, Some(&job.exhibit), tool);
    event.inputs = vec![InputRef { id: input.artefact.clone(), sha256: input.sha256 }];
    let mut params = TranscodedParams {
        rule: Some(output.rule.clone()),
        policy_version: Some(outcome.policy_version.clone()),
        ..Default::default()
    };
    event.set_params(EventParams::Transcoded(params.clone()));
    if ctx.index().records(&event) {
        return Ok(());
    }
    let file = std::fs::File::open(&output.path)
        .map_err(|e| StageError::transient(format!("cannot read output {}: {e}", output.path.display())))?;
    let receipt = batch.put_content(Box::new(file), ctx.hashes).await?;
    if receipt.digests.sha256.to_hex() != output.sha256 {
        return Err(StageError::transient(format!("output {} changed between hashing and storing", output.rule)));
    }
    let locator = format!("transcode:{}:{}:{}", input.artefact, outcome.policy_version, output.rule);
    let id = ArtefactId::derive(&ctx.case, &job.exhibit, locator.as_bytes(), &receipt.digests.sha256);
    let manifest = manifest(ctx, job, input, outcome, output, &id, &receipt);
    event.artefact =
        Some(ArtefactRef { id: Some(id), sha256: receipt.digests.sha256, size: receipt.size, manifest_sha256: None });
    params.flags = Some(outcome.flags.clone());
    params.job_id = last.then(|| job.job_id.0.clone());
    event.set_params(EventParams::Transcoded(params));
    batch.add(output.rule.clone(), manifest, event).await
}

fn manifest(
    ctx: &StageContext,
    job: &Job,
    input: &DeriveInput,
    outcome: &TranscodeOutcome,
    output: &OutputReport,
    id: &ArtefactId,
    receipt: &exhibit_store::PutReceipt,
) -> ArtefactManifest {
    let (mime, extension) = mime_of(&output.container);
    let mut details = serde_json::Map::new();
    let mut put = |k: &str, v: serde_json::Result<serde_json::Value>| {
        if let Ok(v) = v {
            details.insert(k.into(), v);
        }
    };
    put("codecs", serde_json::to_value(&output.codecs));
    put("settings", serde_json::to_value(&output.settings));
    put("validation", serde_json::to_value(&output.validation));
    if let Some(decoded) = &output.decoded_sha256 {
        put("decoded_sha256", serde_json::to_value(decoded));
    }
    put("source_streams", serde_json::to_value(&output.source));
    put("source_probe", serde_json::to_value(&outcome.probe));
    put("damaged", serde_json::to_value(&outcome.damaged));
    put("issues", serde_json::to_value(&outcome.issues));
    let mut tool = ToolInfo::exhibit(TRANSCODE);
    tool.libraries = outcome.libraries.clone();
    let media_type = MediaType {
        mime: mime.into(),
        extension: Some(extension.into()),
        detected_by: "exhibit-transcode".into(),
        ..Default::default()
    };
    let parent = ParentRef { id: input.artefact.clone(), sha256: input.sha256, offset: None };
    let mut manifest = derivative_manifest(ctx, &job.exhibit, id.clone(), receipt, media_type, parent, tool);
    manifest.derivation = Some(Derivation {
        rule: output.rule.clone(),
        policy_version: outcome.policy_version.clone(),
        deterministic: output.deterministic,
        details,
    });
    manifest.flags = outcome.flags.clone();
    manifest
}
