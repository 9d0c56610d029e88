//! Which signing keys a command trusts: the organisation's `allowed_signers`
//! file (`--trusted-keys` or `[verify] trusted_keys`), and `--introduce-key`
//! (the rule itself is `exhibit_app::case_open::admit_signer`).

use std::path::PathBuf;

use anyhow::Context as _;
use exhibit_custody::TrustedKeys;

use crate::config::Config;

/// The trusted-keys flag shared by the commands that make a trust decision.
#[derive(Debug, Clone, clap::Args)]
pub struct TrustArgs {
    /// The organisation's pinned keys, in OpenSSH allowed_signers format
    /// (overrides verify.trusted_keys).
    #[arg(long, value_name = "FILE")]
    pub trusted_keys: Option<PathBuf>,
}

/// Flags of the commands that append to a ledger.
#[derive(Debug, Clone, clap::Args)]
pub struct KeyArgs {
    #[command(flatten)]
    pub trust: TrustArgs,
    /// Let this signing key join a case that other keys signed so far. It
    /// signs its own introduction, so verify trusts it only once the
    /// organisation adds it to the trusted keys.
    #[arg(long)]
    pub introduce_key: bool,
}

/// Loads the trusted keys the flag or the configuration names, if any.
pub fn load_trusted(args: &TrustArgs, config: &Config) -> anyhow::Result<Option<TrustedKeys>> {
    let Some(path) = args.trusted_keys.as_ref().or(config.verify.trusted_keys.as_ref()) else {
        return Ok(None);
    };
    let keys =
        TrustedKeys::load(path).with_context(|| format!("cannot use the trusted keys file {}", path.display()))?;
    Ok(Some(keys))
}
