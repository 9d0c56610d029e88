//! `exhibit get`: stream an artefact out, checking its SHA-256 on the way,
//! and record the access in the ledger (disclosure needs every access on
//! record).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use exhibit_app::artefact::get::MANIFEST_LIMIT;
use exhibit_app::artefact::{open_artefact as open_recorded, read_manifest};
use exhibit_core::ids::{ArtefactId, CaseId};
use exhibit_core::manifest::ArtefactManifest;
use exhibit_custody::RecordedArtefact;

use crate::config::Config;
use crate::logging::notice;
use crate::session::{actor, app_error, open_existing_store, open_signer, operator_or_user, trust_policy};
use crate::stored_damage::classify;
use crate::trust::KeyArgs;
use crate::{EXIT_USAGE, EXIT_VERIFY_FAILED};

#[derive(Debug, clap::Args)]
pub struct GetArgs {
    /// Case ID.
    #[arg(long)]
    case: CaseId,
    /// Artefact ID (from `exhibit show`).
    artefact: ArtefactId,
    /// Write here instead of standard output (`-` is standard output).
    /// Nothing is left there if the hash check fails.
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Who is accessing it (default: $USER).
    #[arg(long)]
    operator: Option<String>,
    /// Replace the -o file if it exists (without this, an existing file is
    /// a usage error, exit 2).
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    keys: KeyArgs,
}

/// Why a copy did not finish.
enum CopyError {
    /// The output file exists and --force was not given.
    Exists(PathBuf),
    /// The output path is not a regular file (--force replaces only those).
    NotAFile(PathBuf),
    /// The hash check failed or the output could not be written.
    Failed(anyhow::Error),
}

pub async fn run(mut args: GetArgs, config: Config) -> anyhow::Result<ExitCode> {
    // `-` is standard output, as everywhere else.
    if args.output.as_deref().is_some_and(|p| p.as_os_str() == "-") {
        args.output = None;
    }
    if let Some(path) = args.output.as_ref().filter(|p| !args.force && p.symlink_metadata().is_ok()) {
        return Ok(refuse_existing(path));
    }
    if let Some((path, what)) = args.output.as_ref().and_then(|p| not_a_regular_file(p).map(|what| (p, what))) {
        return Ok(refuse_not_a_file(path, what));
    }
    let store = open_existing_store(&config)?;
    args.case = crate::spelling::resolve_case(store.as_ref(), &args.case).await?;
    let stored = read_manifest(store.as_ref(), &args.case, &args.artefact, MANIFEST_LIMIT).await.map_err(app_error)?;
    // The access is recorded after the copy, so the key must be admitted first.
    let operator = operator_or_user(args.operator.as_deref())?;
    let anchorer = super::anchor::anchorer(&config.anchoring)?;
    let signer = open_signer(&config)?;
    let trust = trust_policy((&args.keys, &config))?;
    let signing = (signer.clone(), actor(&operator, &signer));
    let artefact = open_recorded(store, signing, &trust, &args.case, stored).await.map_err(app_error)?;
    if args.output.is_none() {
        // A pipe cannot take bytes back: check the whole artefact first, and
        // write only once it matched (the copy is checked again as it goes).
        let check = artefact.content().await.map_err(app_error)?;
        if let Err(e) = tokio::task::spawn_blocking(move || std::io::copy(&mut { check }, &mut std::io::sink())).await?
        {
            notice(&format!(
                "artefact {} failed its hash check; nothing was written to standard output: {e:#}",
                args.artefact
            ));
            return Ok(ExitCode::from(EXIT_VERIFY_FAILED));
        }
    }
    let reader = artefact.content().await.map_err(app_error)?;
    let (output, force) = (args.output.clone(), args.force);
    match tokio::task::spawn_blocking(move || copy_out(reader, output, force)).await? {
        Ok(()) => {}
        Err(CopyError::Exists(path)) => return Ok(refuse_existing(&path)),
        Err(CopyError::NotAFile(path)) => {
            let what = not_a_regular_file(&path).unwrap_or("no longer a file");
            return Ok(refuse_not_a_file(&path, what));
        }
        Err(CopyError::Failed(e)) => {
            notice(&format!("artefact {} failed its hash check or could not be written: {e:#}", args.artefact));
            return Ok(ExitCode::from(EXIT_VERIFY_FAILED));
        }
    }
    let target = args.output.map_or_else(|| "stdout".to_owned(), |p| p.display().to_string());
    artefact.record_access("get", target).await.map_err(app_error)?;
    super::anchor::anchor_after_record(&artefact.context, anchorer.as_deref(), &artefact.manifest.exhibit).await;
    Ok(ExitCode::SUCCESS)
}

/// Opens an artefact's content as the ledger records it (`record`, for a
/// `manifest` checked against it), checking its SHA-256 as it is read (the
/// reader fails with `InvalidData` at the end otherwise). `export` reads
/// content through here, as `get` does through the application layer.
pub(crate) async fn open_artefact(
    store: &std::sync::Arc<dyn exhibit_store::ObjectStore>,
    case: &CaseId,
    manifest: &ArtefactManifest,
    record: &RecordedArtefact,
) -> anyhow::Result<Box<dyn std::io::Read + Send>> {
    // Stored objects and views into an image are read by the one view
    // reader, re-hashed against the ledger's SHA-256 as they stream. A
    // view's image is read in place, or by ranged reads where the store has
    // no local files (S3), at constant memory.
    let reader = exhibit_store::view::open_content_in_place(store, case, manifest, record.sha256)
        .await
        .map_err(|e| classify(e, &format!("cannot read the content of artefact {}", manifest.id)))?;
    Ok(Box::new(reader))
}

/// What sits at `path` when it exists and is not a regular file (`--force`
/// replaces regular files only: never a device such as /dev/null, a FIFO,
/// a directory or a symbolic link).
fn not_a_regular_file(path: &std::path::Path) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    let kind = path.symlink_metadata().ok()?.file_type();
    match () {
        () if kind.is_file() => None,
        () if kind.is_dir() => Some("a directory"),
        () if kind.is_symlink() => Some("a symbolic link"),
        () if kind.is_fifo() => Some("a FIFO"),
        () if kind.is_socket() => Some("a socket"),
        () => Some("a device"),
    }
}

fn refuse_not_a_file(path: &std::path::Path, what: &str) -> ExitCode {
    notice(&format!(
        "{} is {what}, not a regular file; --force replaces only a regular file: choose another -o path (or leave -o out to write to standard output)",
        path.display()
    ));
    ExitCode::from(EXIT_USAGE)
}

fn refuse_existing(path: &std::path::Path) -> ExitCode {
    notice(&format!("{} already exists; choose another -o path, or add --force to replace it", path.display()));
    ExitCode::from(EXIT_USAGE)
}

fn copy_out(mut reader: impl std::io::Read, output: Option<PathBuf>, force: bool) -> Result<(), CopyError> {
    let failed = |e: std::io::Error| CopyError::Failed(e.into());
    let Some(path) = output else {
        let mut stdout = std::io::stdout().lock();
        std::io::copy(&mut reader, &mut stdout).map_err(failed)?;
        return stdout.flush().map_err(failed);
    };
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let mut temp = tempfile_in(dir).map_err(CopyError::Failed)?;
    std::io::copy(&mut reader, temp.as_file_mut()).map_err(failed)?;
    temp.as_file().sync_all().map_err(failed)?;
    // Checked again just before the rename, which would replace anything.
    if force && not_a_regular_file(&path).is_some() {
        return Err(CopyError::NotAFile(path));
    }
    let persisted = if force { temp.persist(&path) } else { temp.persist_noclobber(&path) };
    match persisted {
        Ok(_) => Ok(()),
        Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => Err(CopyError::Exists(path)),
        Err(e) => Err(failed(e.error)),
    }
}

fn tempfile_in(dir: &std::path::Path) -> anyhow::Result<tempfile::NamedTempFile> {
    tempfile::Builder::new()
        .prefix(".exhibit-get-")
        .tempfile_in(dir)
        .with_context(|| format!("cannot write in {}", dir.display()))
}
