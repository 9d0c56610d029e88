//! Opening what a command works on: the store, the signing key, a case's
//! ledger and the index of work it records.

use std::sync::Arc;

use anyhow::Context as _;
use exhibit_app::AppError;
use exhibit_app::case_open::TrustPolicy;
use exhibit_core::event::Actor;
use exhibit_core::ids::CaseId;
use exhibit_custody::Signer;
use exhibit_store::{Access, ObjectStore};

use crate::config::Config;
use crate::trust::{KeyArgs, load_trusted};

pub use exhibit_app::case_open::OpenCase;

/// Opens the configured object store, creating it if needed (ingest).
pub fn open_store(config: &Config) -> anyhow::Result<Arc<dyn ObjectStore>> {
    exhibit_store::open_store_with(&config.store.uri, store_access(config)?)
        .with_context(|| format!("cannot open the store {}", config.store.uri))
}

/// The modes (and group) what the store creates gets, from `[store] group`.
fn store_access(config: &Config) -> anyhow::Result<Access> {
    Ok(match &config.store.group {
        None => Access::owner_only(),
        Some(name) => match crate::group::group_id(name).context("cannot look up [store] group")? {
            Some(gid) => Access::with_group(gid),
            None => anyhow::bail!("[store] group {name:?} is not a group on this system; check the name or unset it"),
        },
    })
}

/// Opens the configured object store only if it exists: every command but
/// ingest, so a mistyped `--store` creates nothing.
pub fn open_existing_store(config: &Config) -> anyhow::Result<Arc<dyn ObjectStore>> {
    exhibit_store::open_existing_store(&config.store.uri, store_access(config)?)
        .with_context(|| format!("cannot open the store {}", config.store.uri))
}

/// Loads (or on first use creates) the signing key.
pub fn open_signer(config: &Config) -> anyhow::Result<Arc<Signer>> {
    load_signer(config).map(Arc::new)
}

/// [`open_signer`] for a key its holder signs with for others (a server
/// for its users): the `key-added` entry that brings it into a case names
/// `holder`.
pub fn open_signer_held_by(config: &Config, holder: String) -> anyhow::Result<Arc<Signer>> {
    load_signer(config).map(|signer| Arc::new(signer.held_by(holder)))
}

fn load_signer(config: &Config) -> anyhow::Result<Signer> {
    let existed = config.signing.key_file.symlink_metadata().is_ok();
    let signer = Signer::load_or_create(&config.signing.key_file)
        .with_context(|| format!("cannot use the signing key {}", config.signing.key_file.display()))?;
    if !existed {
        crate::signing_notice::announce_new_key(&signer);
    }
    Ok(signer)
}

/// Who is acting: the operator, this host and process, and the signing key.
pub fn actor(operator: &str, signer: &Signer) -> Actor {
    exhibit_app::case_open::actor(operator, signer)
}

/// An application-layer error as the CLI reports it: a ledger that fails
/// its check is a verify failure (exit 1, [`crate::ledger_gate::Refused`]),
/// and so is damaged stored content ([`crate::stored_damage::StoredDamage`]);
/// anything else is said as it is (exit 2).
pub fn app_error(e: AppError) -> anyhow::Error {
    match e {
        AppError::Refused(reason) => crate::ledger_gate::Refused(reason).into(),
        AppError::Damaged(reason) => crate::stored_damage::StoredDamage(reason).into(),
        other => other.into(),
    }
}

/// Checks an operator name: not blank, one line, at most 200 characters.
/// The operator from `--operator`, else `$USER`; refused when neither is
/// set, rather than recording an anonymous "unknown".
pub fn operator_or_user(flag: Option<&str>) -> anyhow::Result<String> {
    match flag.map(str::to_owned).or_else(|| std::env::var("USER").ok()) {
        Some(operator) => check_operator(&operator),
        None => {
            anyhow::bail!("no operator: give --operator with the name of the person responsible ($USER is not set)")
        }
    }
}

pub fn check_operator(operator: &str) -> anyhow::Result<String> {
    exhibit_app::case_open::check_operator(operator).map_err(app_error)
}

/// The trust policy of a command that appends: the trusted keys the flag
/// or the configuration names, and `--introduce-key`.
pub fn trust_policy(keys: (&KeyArgs, &Config)) -> anyhow::Result<TrustPolicy> {
    Ok(TrustPolicy { trusted: load_trusted(&keys.0.trust, keys.1)?, introduce_key: keys.0.introduce_key })
}

/// Opens a case's ledger for appending once its chain checks out (refused,
/// exit 1, otherwise), with the index of what it records, once the signing
/// key is admitted (see [`exhibit_app::case_open::open_case`]).
pub async fn open_case(
    store: Arc<dyn ObjectStore>,
    case: &CaseId,
    signer: Arc<Signer>,
    keys: (&KeyArgs, &Config),
) -> anyhow::Result<OpenCase> {
    let trust = trust_policy(keys)?;
    exhibit_app::case_open::open_case(store, case, signer, &trust).await.map_err(app_error)
}

/// A reader of cases through the configured read model (`[read_model]`,
/// by default the file beside a local store). A read model that cannot be
/// opened is replaced by one in memory, rebuilt from the ledger, with a
/// warning: it is a cache, and the ledger has the answer.
pub async fn case_reader(config: &Config, store: Arc<dyn ObjectStore>) -> anyhow::Result<exhibit_app::CaseReader> {
    let uri = config.read_model.uri.as_deref();
    let model = match exhibit_app::readmodel::open_read_model(uri, &config.store.uri).await {
        Ok(model) => model,
        Err(e) if uri.is_none() => {
            crate::logging::notice(&format!("{e}; reading the ledger into memory instead"));
            exhibit_app::readmodel::open_read_model(Some("sqlite::memory:"), &config.store.uri).await?
        }
        Err(e) => return Err(e).context("cannot open the read model ([read_model] uri)"),
    };
    Ok(exhibit_app::CaseReader::new(store, model))
}
