//! `exhibit introduce-key`: key rotation. The configured key, which must
//! already sign the case, records another public key in a `key-added`
//! entry; a verifier that trusts the configured key then trusts the new
//! one from that entry on, without the new key being in its file.

use std::io::Read as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use exhibit_core::event::{Action, CustodyEvent, Outcome};
use exhibit_core::ids::CaseId;
use exhibit_core::manifest::ToolInfo;
use exhibit_custody::{Ledger, fingerprint};
use time::OffsetDateTime;

use crate::config::Config;
use crate::ledger_gate::checked_entries;
use crate::session::{actor, check_operator, open_existing_store, open_signer};
use crate::trust::{TrustArgs, load_trusted};

/// Largest public key file read; an Ed25519 line is under 100 bytes.
const PUBLIC_KEY_LIMIT: u64 = 16 * 1024;

#[derive(Debug, clap::Args)]
pub struct IntroduceKeyArgs {
    /// Case ID.
    #[arg(long)]
    case: CaseId,
    /// The new key's public half (`id_ed25519.pub`, one OpenSSH line).
    #[arg(long, value_name = "FILE")]
    public_key: PathBuf,
    /// Name of the person responsible for the rotation.
    #[arg(long)]
    operator: String,
    #[command(flatten)]
    trust: TrustArgs,
}

pub async fn run(mut args: IntroduceKeyArgs, config: Config) -> anyhow::Result<ExitCode> {
    let operator = check_operator(&args.operator)?;
    let new_key = read_public_key(&args.public_key)?;
    let store = open_existing_store(&config)?;
    args.case = crate::spelling::resolve_case(store.as_ref(), &args.case).await?;
    let signer = open_signer(&config)?;
    let trusted = load_trusted(&args.trust, &config)?;
    checked_entries(store.as_ref(), &args.case, trusted.as_ref()).await?;
    let ledger = Ledger::open(store, args.case.clone(), signer.clone())
        .await
        .with_context(|| format!("cannot open the ledger of case {}", args.case))?;
    if ledger.head_seq().await == 0 || ledger.would_add_key().await {
        anyhow::bail!(
            "the signing key {} has never signed case {}: only a key that already signs a case can introduce another",
            signer.path().display(),
            args.case
        );
    }
    let template = CustodyEvent {
        at: OffsetDateTime::now_utc(),
        case: args.case.clone(),
        exhibit: None,
        action: Action::KeyAdded,
        artefact: None,
        inputs: Vec::new(),
        tool: ToolInfo::exhibit("introduce-key"),
        params: Default::default(),
        actor: actor(&operator, &signer),
        outcome: Outcome::Ok,
    };
    let added = ledger.introduce_key(&new_key, &template).await?;
    crate::logging::report(&format!(
        "case {}: entry {} introduces key {}, signed by {}",
        args.case,
        added.seq,
        fingerprint(&new_key).unwrap_or_default(),
        fingerprint(&signer.public_key_openssh()).unwrap_or_default()
    ));
    Ok(ExitCode::SUCCESS)
}

fn read_public_key(path: &std::path::Path) -> anyhow::Result<String> {
    let meta = std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    anyhow::ensure!(meta.is_file(), "{} is not a regular file", path.display());
    let mut text = String::new();
    std::fs::File::open(path)?.take(PUBLIC_KEY_LIMIT).read_to_string(&mut text)?;
    let line = text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#')).unwrap_or_default();
    anyhow::ensure!(
        fingerprint(line).is_some(),
        "{} does not hold an OpenSSH public key line (ssh-ed25519 AAAA...)",
        path.display()
    );
    // exhibit signs only with Ed25519; a key of another type could never
    // sign an entry of this case.
    anyhow::ensure!(
        line.split_whitespace().next() == Some("ssh-ed25519"),
        "{} is not an Ed25519 key: exhibit signs ledgers only with ssh-ed25519 keys (make one with `ssh-keygen -t ed25519`)",
        path.display()
    );
    Ok(line.to_owned())
}
