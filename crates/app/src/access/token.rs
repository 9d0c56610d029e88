//! API tokens: `exh_<id>_<secret>`, where `id` is 12 hex digits (48 random
//! bits, public: it names the token in listings and `revoke`) and `secret`
//! 64 hex digits (256 random bits from the operating system). Only the
//! SHA-256 of the whole text is stored, so a copy of the state database
//! gives no working token; a fast hash is enough because the secret is
//! random and 256 bits long (there is nothing to guess).

use exhibit_core::digest::Sha256Digest;
use rand_core::{OsRng, RngCore};

/// The text every token starts with, so a leaked one is recognisable.
pub const PREFIX: &str = "exh_";
const ID_HEX: usize = 12;
const SECRET_HEX: usize = 64;

/// The SHA-256 (hex) of a token's text: what the state stores.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenHash(pub String);

impl TokenHash {
    /// The hash of a presented token, or `None` when the text does not
    /// have a token's shape (then no lookup is needed: it is unknown).
    pub fn of_presented(text: &str) -> Option<Self> {
        parse(text)?;
        Some(Self(Sha256Digest::of(text.as_bytes()).to_hex()))
    }
}

/// A new token: its text, shown once, and what is stored of it.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The whole token. Give it to its user once; it is not kept.
    pub text: String,
    /// Its public ID.
    pub id: String,
    /// The SHA-256 of `text`.
    pub hash: TokenHash,
}

impl IssuedToken {
    /// A fresh random token.
    pub fn generate() -> Self {
        let mut id = [0u8; ID_HEX / 2];
        let mut secret = [0u8; SECRET_HEX / 2];
        OsRng.fill_bytes(&mut id);
        OsRng.fill_bytes(&mut secret);
        let id = hex_of(&id);
        let text = format!("{PREFIX}{id}_{}", hex_of(&secret));
        let hash = TokenHash(Sha256Digest::of(text.as_bytes()).to_hex());
        Self { text, id, hash }
    }
}

/// Whether `text` is a token's public ID.
pub fn is_token_id(text: &str) -> bool {
    text.len() == ID_HEX && is_lower_hex(text)
}

/// Splits a token into its ID and secret, if it has a token's shape.
fn parse(text: &str) -> Option<(&str, &str)> {
    let rest = text.strip_prefix(PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    (is_token_id(id) && secret.len() == SECRET_HEX && is_lower_hex(secret)).then_some((id, secret))
}

fn is_lower_hex(text: &str) -> bool {
    text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_has_its_shape_and_hash() {
        let token = IssuedToken::generate();
        assert_eq!(token.text.len(), PREFIX.len() + ID_HEX + 1 + SECRET_HEX);
        assert!(token.text.starts_with(&format!("exh_{}_", token.id)));
        assert_eq!(TokenHash::of_presented(&token.text), Some(token.hash.clone()));
        assert_ne!(IssuedToken::generate().text, token.text, "tokens are random");
    }

    #[test]
    fn text_without_a_tokens_shape_is_no_token() {
        let good = IssuedToken::generate().text;
        for bad in [
            "",
            "exh_",
            &good[..good.len() - 1],
            &good.to_uppercase(),
            &format!("{good}0"),
            &good.replace("exh_", "exx_"),
            "exh_../../etc_passwd",
        ] {
            assert_eq!(TokenHash::of_presented(bad), None, "{bad:?}");
        }
    }
}
