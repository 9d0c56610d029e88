//! Which signing keys a command trusts: the organisation's `allowed_signers`
//! file (`--trusted-keys` or `[verify] trusted_keys`), and the rule that a
//! key joins an existing case only when that file lists it or the operator
//! says so with `--introduce-key`.

use std::path::PathBuf;

use anyhow::Context as _;
use exhibit_custody::{Ledger, TrustedKeys, fingerprint};

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

/// Refuses to append with a signing key that would join the case unseen:
/// a key new to a case that has entries, or a key outside the configured
/// trusted keys on a new case, unless the file lists it or `--introduce-key`.
pub async fn admit_signer(ledger: &Ledger, args: &KeyArgs, config: &Config) -> anyhow::Result<()> {
    if args.introduce_key {
        return Ok(());
    }
    let trusted = load_trusted(&args.trust, config)?;
    let signer = ledger.signer();
    let key = signer.public_key_openssh();
    let listed = trusted.as_ref().is_some_and(|t| t.lists(&key));
    let fp = fingerprint(&key).unwrap_or_default();
    let case = ledger.case();
    let key_file = signer.path().display();
    if ledger.would_add_key().await && !listed {
        anyhow::bail!(
            "signing key {fp} ({key_file}) has never signed case {case}, which other keys signed so far. \
             Use the key this case was signed with (set signing.key_file), or pass --introduce-key to add this key \
             to the case, and have the organisation add it to its trusted keys (allowed_signers) so verify trusts it"
        );
    }
    if let (Some(trusted), 0, false) = (&trusted, ledger.head_seq().await, listed) {
        anyhow::bail!(
            "signing key {fp} ({key_file}) is not in the trusted keys file {}, so verify would reject every entry \
             of the new case {case}. Have the organisation add it there, or pass --introduce-key",
            trusted.source().display()
        );
    }
    Ok(())
}
