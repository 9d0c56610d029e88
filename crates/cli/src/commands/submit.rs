//! `exhibit submit MANIFEST --server URL --token-file F`: sends every file
//! an item manifest names to `exhibit serve` by tus, then submits the rows,
//! now naming their uploads, to each case's `submissions`, and prints each
//! row's result.
//!
//! A row names its case in a `case` column (or `--case` gives it) and one
//! file in `path` (several rows may name one exhibit). What was sent is
//! kept in `MANIFEST.exhibit-submit.json`, so after an interruption the
//! same command resumes each upload from the offset the server holds and
//! sends no finished file again. A row the server refuses (an unknown
//! case, a bad name) is reported by its line and the others go ahead.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use exhibit_core::CaseId;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{Map, Value};

use super::manifest_rows::{self, BadRow, Row};
use crate::config::Config;
use crate::submit::client::{CHUNK, SubmitError, TusClient, UploadProgress};
use crate::submit::resume::{ResumeState, SentFile, default_path, file_key};
use crate::terminal::{escape_message, escape_name};

/// The largest token file read: a token is under 100 bytes.
const TOKEN_FILE_LIMIT: u64 = 4096;

#[derive(Debug, Clone, clap::Args)]
pub struct SubmitArgs {
    /// The item manifest (CSV, or JSON if named *.json): `exhibit`, `path`
    /// (one file, beside the manifest), `case` and the item columns.
    manifest: PathBuf,
    /// The server, e.g. https://exhibit.force.example
    #[arg(long, value_name = "URL")]
    server: String,
    /// A file holding the API token (`exhibit admin token add` prints one).
    #[arg(long, value_name = "FILE")]
    token_file: PathBuf,
    /// The case of rows without a `case` cell.
    #[arg(long)]
    case: Option<CaseId>,
    /// PEM certificates to trust for the server, instead of the system's.
    #[arg(long, value_name = "PEM")]
    ca_cert: Option<PathBuf>,
    /// Where to keep what was sent, for resuming (default: beside the
    /// manifest, MANIFEST.exhibit-submit.json).
    #[arg(long, value_name = "FILE")]
    state: Option<PathBuf>,
    /// Bytes per PATCH: less is resent after a cut, more goes faster.
    #[arg(long, value_name = "BYTES", default_value_t = CHUNK, value_parser = clap::value_parser!(u64).range(4096..=(1 << 30)))]
    chunk_size: u64,
}

/// Where a row stands.
enum RowState {
    /// Refused here or by the server, with why.
    Failed(String),
    /// Its file is on the server as this upload.
    Uploaded { case: CaseId, upload: String },
    /// What the server's submission said of it: accepted (with the
    /// upload's ingest state) or rejected (with why).
    Answered { accepted: bool, state: String, detail: String },
}

pub async fn run(args: SubmitArgs, _config: Config) -> anyhow::Result<ExitCode> {
    tokio::task::spawn_blocking(move || submit(&args)).await.context("the submission stopped")?
}

fn submit(args: &SubmitArgs) -> anyhow::Result<ExitCode> {
    let token = read_token(&args.token_file)?;
    let server = args.server.trim_end_matches('/').to_owned();
    let agent = crate::submit::http::agent(args.ca_cert.as_deref())?;
    let client = TusClient::new(agent.clone(), format!("{server}/v1/uploads"), token.clone(), args.chunk_size);
    let (_, rows) = manifest_rows::read_for_submit(&args.manifest)?;
    let state_path = args.state.clone().unwrap_or_else(|| default_path(&args.manifest));
    let mut state = ResumeState::load(&state_path, &server);
    let planned: Vec<Result<(&Row, CaseId), String>> = rows.iter().map(|row| plan(row, args.case.as_ref())).collect();
    let total: u64 =
        planned.iter().flatten().filter_map(|(row, _)| std::fs::metadata(&row.path).ok()).map(|m| m.len()).sum();
    let bar = bar(total);
    let mut states = Vec::with_capacity(rows.len());
    for planned in &planned {
        let row_state = match planned {
            Err(reason) => RowState::Failed(reason.clone()),
            Ok((row, case)) => match send_row(&client, &mut state, row, case, &bar) {
                Ok(upload) => RowState::Uploaded { case: case.clone(), upload },
                Err(e) if e.is_transient() => {
                    bar.abandon();
                    return Err(anyhow::anyhow!(e)).with_context(|| resume_advice(&args.manifest));
                }
                Err(e) => RowState::Failed(e.to_string()),
            },
        };
        states.push(row_state);
    }
    bar.finish_and_clear();
    submit_cases(&agent, (&server, &token), &rows, &mut states)?;
    Ok(ExitCode::from(print_results(&rows, &states)))
}

/// The row's case and file, or why it cannot be sent.
fn plan<'a>(row: &'a Result<Row, BadRow>, default_case: Option<&CaseId>) -> Result<(&'a Row, CaseId), String> {
    let row = row.as_ref().map_err(|bad| bad.reason.clone())?;
    let case = row
        .case
        .as_ref()
        .or(default_case)
        .cloned()
        .ok_or_else(|| "no case: give the row a `case` cell, or --case for rows without one".to_owned())?;
    if !row.path.is_file() {
        return Err(format!(
            "path {}: not a file; submit sends one file per row (give each file of a folder its own row, same exhibit)",
            escape_name(&row.path.display().to_string())
        ));
    }
    Ok((row, case))
}

/// Sends a row's file, resuming an upload the state knows of; its upload ID.
fn send_row(
    client: &TusClient,
    state: &mut ResumeState,
    row: &Row,
    case: &CaseId,
    bar: &ProgressBar,
) -> Result<String, SubmitError> {
    let path = &row.path;
    let read_err = |source| SubmitError::Read { path: path.display().to_string(), source };
    let filename = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let key = format!("{}|{}|{}", file_key(path).map_err(read_err)?, case.normalised(), row.exhibit.normalised());
    let length = std::fs::metadata(path).map_err(read_err)?.len();
    bar.set_message(escape_name(&filename).into_owned());
    let base = bar.position();
    if let Some(done) = state.files.get(&key).filter(|f| f.complete) {
        tracing::info!(file = %path.display(), upload = %done.url, "sent in an earlier run; not sent again");
        bar.inc(length);
        return Ok(upload_id(&done.url).to_owned());
    }
    let held = match state.files.get(&key) {
        Some(known) => client.offset(&known.url)?.map(|offset| (known.url.clone(), offset)),
        None => None,
    };
    let (url, offset) = match held {
        Some(held) => held,
        None => {
            let metadata = [("case", case.as_str()), ("exhibit", row.exhibit.as_str()), ("filename", &filename)];
            let url = client.create(length, &metadata).map_err(|e| match e {
                SubmitError::Refused { status: 404, .. } => SubmitError::Refused {
                    what: format!("an upload to case {}", escape_name(case.as_str())),
                    status: 404,
                    body: "no such case, or not your organisation's to submit to".into(),
                },
                other => other,
            })?;
            (url, 0)
        }
    };
    state.record(key.clone(), SentFile { url: url.clone(), complete: false }).map_err(read_err)?;
    client.send(&url, path, offset, &Bar(bar, base))?;
    state.record(key, SentFile { url: url.clone(), complete: true }).map_err(read_err)?;
    Ok(upload_id(&url).to_owned())
}

struct Bar<'a>(&'a ProgressBar, u64);

impl UploadProgress for Bar<'_> {
    fn at(&self, offset: u64) {
        self.0.set_position(self.1 + offset);
    }
}

fn bar(total: u64) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if crate::logging::quiet() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    if let Ok(style) =
        ProgressStyle::with_template("{msg:30!} {wide_bar} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
    {
        bar.set_style(style);
    }
    bar
}

/// The upload's ID: the last segment of its URL.
fn upload_id(url: &str) -> &str {
    url.rsplit('/').next().unwrap_or(url)
}

/// Posts the uploaded rows of each case as one JSON manifest and records
/// each row's answer.
fn submit_cases(
    agent: &ureq::Agent,
    (server, token): (&str, &str),
    rows: &[Result<Row, BadRow>],
    states: &mut [RowState],
) -> anyhow::Result<()> {
    let mut by_case: BTreeMap<String, (CaseId, Vec<usize>)> = BTreeMap::new();
    for (i, state) in states.iter().enumerate() {
        if let RowState::Uploaded { case, .. } = state {
            by_case.entry(case.normalised()).or_insert_with(|| (case.clone(), Vec::new())).1.push(i);
        }
    }
    for (case, indexes) in by_case.into_values() {
        let items: Vec<Value> = indexes.iter().map(|&i| item(rows, states, i)).collect();
        let answer = crate::submit::http::post_submission(agent, (server, token), &case, &Value::Array(items))?;
        let results = answer["rows"].as_array().cloned().unwrap_or_default();
        anyhow::ensure!(
            results.len() == indexes.len(),
            "the server answered {} rows for the {} sent to case {case}",
            results.len(),
            indexes.len()
        );
        for (&i, result) in indexes.iter().zip(&results) {
            states[i] = answered(result);
        }
    }
    Ok(())
}

/// A row as the server's submissions take it: exhibit, upload, item cells.
fn item(rows: &[Result<Row, BadRow>], states: &[RowState], i: usize) -> Value {
    let mut object = Map::new();
    if let (Ok(row), RowState::Uploaded { case, upload }) = (&rows[i], &states[i]) {
        object.insert("exhibit".into(), row.exhibit.as_str().into());
        object.insert("case".into(), case.as_str().into());
        object.insert("upload".into(), upload.as_str().into());
        for (name, text) in &row.item_cells {
            object.insert((*name).into(), text.as_str().into());
        }
    }
    Value::Object(object)
}

fn answered(result: &Value) -> RowState {
    let text = |key: &str| result[key].as_str().unwrap_or_default().to_owned();
    let accepted = text("result") == "accepted";
    let detail = match (accepted, text("reason")) {
        (true, note) if note.is_empty() => format!("upload {}, {}", text("upload"), text("state")),
        (true, note) => format!("upload {}, {}; {note}", text("upload"), text("state")),
        (false, reason) => reason,
    };
    let attention = accepted && text("state") == "done" && !text("reason").is_empty();
    RowState::Answered { accepted, state: if attention { "attention".into() } else { text("state") }, detail }
}

/// Prints each row's result on stdout; the exit code: 0 when every row
/// was accepted and ingested, 3 when every row was but some need
/// attention (stored, with a later job failed), else 2.
fn print_results(rows: &[Result<Row, BadRow>], states: &[RowState]) -> u8 {
    let (mut failed, mut attention) = (0, 0);
    for (row, state) in rows.iter().zip(states) {
        let (place, exhibit) = match row {
            Ok(row) => (row.place.as_str(), row.exhibit.as_str()),
            Err(bad) => (bad.place.as_str(), bad.exhibit.as_deref().unwrap_or("-")),
        };
        let (result, detail, done) = match state {
            RowState::Failed(reason) => ("failed", reason.as_str(), false),
            RowState::Uploaded { upload, .. } => ("uploaded, not submitted", upload.as_str(), false),
            RowState::Answered { accepted: true, state, detail } => {
                attention += usize::from(state == "attention");
                ("accepted", detail.as_str(), state == "done" || state == "attention")
            }
            RowState::Answered { accepted: false, detail, .. } => ("rejected", detail.as_str(), false),
        };
        failed += usize::from(!done);
        println!("{place}: exhibit {}: {result}: {}", escape_name(exhibit), escape_message(detail));
    }
    match (failed, attention) {
        (0, 0) => 0,
        (0, _) => EXIT_NEEDS_ATTENTION,
        _ => crate::EXIT_USAGE,
    }
}

/// As `exhibit ingest`: every row stored, some need a person.
const EXIT_NEEDS_ATTENTION: u8 = 3;

/// The token in `path`, a regular file only its owner can read (a token
/// lets anyone who has it submit evidence as its user).
fn read_token(path: &Path) -> anyhow::Result<String> {
    use std::io::Read as _;
    use std::os::unix::fs::MetadataExt as _;
    let shown = path.display();
    let file = exhibit_core::regular_file::open_regular(path)
        .with_context(|| format!("cannot open the token file {shown}"))?;
    let mode = file.metadata().with_context(|| format!("cannot inspect the token file {shown}"))?.mode() & 0o777;
    anyhow::ensure!(
        mode & 0o077 == 0,
        "the token file {shown} can be read by others (mode {mode:o}); make it its owner's only: chmod 600 {shown}"
    );
    let mut text = String::new();
    file.take(TOKEN_FILE_LIMIT)
        .read_to_string(&mut text)
        .with_context(|| format!("cannot read the token file {shown} (it should hold the token as text)"))?;
    let token = text.trim().to_owned();
    anyhow::ensure!(!token.is_empty(), "the token file {shown} is empty");
    Ok(token)
}

fn resume_advice(manifest: &Path) -> String {
    format!(
        "nothing is lost: run `exhibit submit {} ...` again (the same command) to resume where the server holds each file",
        escape_name(&manifest.display().to_string())
    )
}
