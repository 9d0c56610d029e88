//! What the operator is told when a signing key is made: where it is, its
//! fingerprint (the one `ssh-keygen -lf` prints), and to back it up. The key
//! is the identity every ledger entry is signed with; it is made silently
//! on first use, so this is the one moment to say so.

use exhibit_custody::Signer;
use ssh_key::{HashAlg, PublicKey};

use crate::logging::notice;
use crate::terminal::escape_name;

/// The SHA-256 fingerprint of the signer's public key, `SHA256:...`.
pub fn fingerprint(signer: &Signer) -> Option<String> {
    let key = PublicKey::from_openssh(&signer.public_key_openssh()).ok()?;
    Some(key.fingerprint(HashAlg::Sha256).to_string())
}

/// Prints the new key's path and fingerprint on stderr, even with `-q`:
/// it is said once, and losing the key cannot be undone.
pub fn announce_new_key(signer: &Signer) {
    let path = escape_name(&signer.path().display().to_string()).into_owned();
    let fingerprint = fingerprint(signer).unwrap_or_else(|| "unknown".into());
    notice(&format!("created a new signing key {path}"));
    notice(&format!("fingerprint {fingerprint} (check it with `ssh-keygen -lf {path}`)"));
    notice(
        "back this key up now (an offline copy kept as securely as the evidence). \
         Entries it signed stay checkable without it, but a lost key cannot sign again as the same identity, \
         and anyone who copies it can sign as you.",
    );
}
