//! Dashboard passwords: Argon2id hashes in PHC form (salt and parameters
//! inside), never the password. Hashing and checking cost about 19 MiB
//! and tens of milliseconds by design, so callers run them off the async
//! threads ([`tokio::task::spawn_blocking`]).

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use time::OffsetDateTime;

use super::User;
use crate::error::{AppError, Result};

/// The shortest password accepted (NCSC: length beats composition rules).
pub const MIN_CHARS: usize = 12;
/// The longest, in bytes: a longer one only costs the server time.
pub const MAX_BYTES: usize = 1024;

/// A user's stored password, for checking a sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordRecord {
    /// Whose it is.
    pub user: User,
    /// The Argon2id hash in PHC form.
    pub phc: String,
    /// When it was set: sessions signed in before a later change end.
    pub set_at: OffsetDateTime,
}

/// Checks a new password's length: 12 characters to 1024 bytes.
pub fn check_new(password: &str) -> Result<()> {
    let chars = password.chars().count();
    if chars < MIN_CHARS || password.len() > MAX_BYTES {
        return Err(AppError::Invalid {
            what: "password".into(),
            reason: format!("give {MIN_CHARS} characters or more (at most {MAX_BYTES} bytes); it has {chars}"),
        });
    }
    Ok(())
}

/// The Argon2id (default parameters) hash of a new password, in PHC form.
pub fn hash(password: &str) -> Result<String> {
    check_new(password)?;
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Invalid { what: "password".into(), reason: e.to_string() })
}

/// Whether `password` matches the stored hash. A stored value that does
/// not parse matches nothing. An oversize password is not hashed.
pub fn matches(phc: &str, password: &str) -> bool {
    if password.len() > MAX_BYTES {
        return false;
    }
    PasswordHash::new(phc).is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// A hash of no one's password, checked when the user name is unknown so
/// that a refusal takes as long either way.
pub fn decoy() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash("a password nobody has, for timing").unwrap_or_default())
}

/// The key login names are unique by: letter case does not count.
pub fn login_key(name: &str) -> String {
    name.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_matches_its_password_only() {
        let phc = hash("correct horse battery").unwrap();
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        assert!(matches(&phc, "correct horse battery"));
        assert!(!matches(&phc, "correct horse batterY"));
        assert!(!matches("not a hash", "correct horse battery"));
        assert!(!matches(&phc, &"x".repeat(MAX_BYTES + 1)));
        assert_ne!(hash("correct horse battery").unwrap(), phc, "a fresh salt each time");
    }

    #[test]
    fn short_and_huge_passwords_are_refused() {
        assert!(hash("short").is_err());
        assert!(hash("ééééééééééé").is_err(), "11 characters");
        assert!(hash("éééééééééééé").is_ok(), "12 characters");
        assert!(hash(&"x".repeat(MAX_BYTES + 1)).is_err());
    }
}
