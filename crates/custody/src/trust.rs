//! Keys the organisation pins: an OpenSSH `allowed_signers` file, as
//! `ssh-keygen -Y verify` and git's SSH commit signing read it.
//!
//! Each line is `principals [options] keytype base64 [comment]`. Options are
//! comma-separated: `namespaces="..."` (a pattern list that must admit
//! `exhibit-ledger`, or the line is for something else and skipped),
//! `valid-after`/`valid-before` (UTC times, `YYYYMMDD[HHMM[SS]]Z`), and
//! `cert-authority` (skipped: exhibit signs with plain keys, which a CA line
//! never admits). The key is parsed by `ssh-key`; the principals token, the
//! options (which may quote values holding spaces, which `ssh-key`'s
//! option parser refuses) and their values are read here.

use std::path::{Path, PathBuf};

use exhibit_core::ErrorKind;
use ssh_key::{Algorithm, HashAlg, PublicKey};
use thiserror::Error;
use time::OffsetDateTime;
use time::macros::format_description;

use crate::signer::{NAMESPACE, public_key_line};

/// Largest trusted-keys file read.
const FILE_LIMIT: u64 = 1 << 20;

/// Why a trusted-keys file cannot be used.
#[derive(Debug, Error)]
pub enum TrustError {
    /// The file could not be read.
    #[error("cannot read trusted keys file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A line is not an `allowed_signers` line.
    #[error("trusted keys file {}, line {line}: {detail}; each line is `principals [options] ssh-ed25519 AAAA...`", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        detail: String,
    },
    /// Not a regular file (a FIFO would hang the read), or over the size limit.
    #[error("trusted keys file {} is {detail}; give a regular allowed_signers file", path.display())]
    Unusable {
        /// The file.
        path: PathBuf,
        /// What it is.
        detail: String,
    },
    /// No line admits a key for the ledger's namespace.
    #[error("trusted keys file {} holds no key for namespace {NAMESPACE}, so it would reject every entry", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
}

impl TrustError {
    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::Read { source, .. } if source.kind() == std::io::ErrorKind::NotFound => ErrorKind::NotFound,
            Self::Read { .. } => ErrorKind::Io,
            Self::Syntax { .. } | Self::Empty { .. } | Self::Unusable { .. } => ErrorKind::Invalid,
        }
    }
}

/// One pinned key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedKey {
    /// The principals field, as written (e.g. `jane@force.example`).
    pub principals: String,
    /// The key as one OpenSSH line with exhibit's comment.
    pub public_key: String,
    /// `SHA256:...`, as `ssh-keygen -lf` prints it.
    pub fingerprint: String,
    valid_after: Option<OffsetDateTime>,
    valid_before: Option<OffsetDateTime>,
}

impl TrustedKey {
    /// Whether this key may have signed something dated `at`.
    pub fn valid_at(&self, at: OffsetDateTime) -> bool {
        self.valid_after.is_none_or(|t| at >= t) && self.valid_before.is_none_or(|t| at <= t)
    }
}

/// The keys an organisation trusts to sign ledger entries.
#[derive(Debug, Clone)]
pub struct TrustedKeys {
    source: PathBuf,
    keys: Vec<TrustedKey>,
}

impl TrustedKeys {
    /// Reads and parses an `allowed_signers` file. Anything but a regular
    /// file of at most 1 MiB is refused before it is opened for reading.
    pub fn load(path: &Path) -> Result<Self, TrustError> {
        use std::io::Read;
        let read = |e| TrustError::Read { path: path.to_owned(), source: e };
        let unusable = |detail: &str| TrustError::Unusable { path: path.to_owned(), detail: detail.to_owned() };
        let meta = std::fs::metadata(path).map_err(read)?;
        if !meta.is_file() {
            return Err(unusable("not a regular file"));
        }
        let file = std::fs::File::open(path).map_err(read)?;
        let mut text = String::new();
        file.take(FILE_LIMIT + 1).read_to_string(&mut text).map_err(read)?;
        if text.len() as u64 > FILE_LIMIT {
            return Err(unusable("over 1 MiB"));
        }
        Self::parse(&text, path)
    }

    /// Parses `allowed_signers` text; `source` names it in errors.
    pub fn parse(text: &str, source: &Path) -> Result<Self, TrustError> {
        let mut keys = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let syntax = |detail: String| TrustError::Syntax { path: source.to_owned(), line: i + 1, detail };
            if let Some(key) = parse_line(line).map_err(syntax)? {
                keys.push(key);
            }
        }
        if keys.is_empty() {
            return Err(TrustError::Empty { path: source.to_owned() });
        }
        Ok(Self { source: source.to_owned(), keys })
    }

    /// The file these keys came from.
    pub fn source(&self) -> &Path {
        &self.source
    }

    /// The pinned key matching `public_key_openssh` that is valid at `at`.
    pub fn admits(&self, public_key_openssh: &str, at: OffsetDateTime) -> Option<&TrustedKey> {
        let wanted = crate::signer::normalise_public_key(public_key_openssh)?;
        self.keys.iter().find(|k| k.public_key == wanted && k.valid_at(at))
    }

    /// Whether the file lists `public_key_openssh` at all (any validity).
    pub fn lists(&self, public_key_openssh: &str) -> bool {
        let wanted = crate::signer::normalise_public_key(public_key_openssh);
        self.keys.iter().any(|k| Some(&k.public_key) == wanted.as_ref())
    }
}

/// `SHA256:...` of an OpenSSH public key line, as `ssh-keygen -lf` prints it.
pub fn fingerprint(public_key_openssh: &str) -> Option<String> {
    PublicKey::from_openssh(public_key_openssh).ok().map(|k| k.fingerprint(HashAlg::Sha256).to_string())
}

/// One line: `Ok(None)` for blank lines, comments and lines for other
/// namespaces or certificate authorities.
fn parse_line(line: &str) -> Result<Option<TrustedKey>, String> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let (principals, rest) = split_principals(line)?;
    let (options, key_text) = split_options(rest.trim_start())?;
    let public = PublicKey::from_openssh(key_text).map_err(|e| format!("no valid key after the principals ({e})"))?;
    let mut key = TrustedKey {
        principals: principals.to_owned(),
        public_key: public_key_line(&public).map_err(|e| e.to_string())?,
        fingerprint: public.fingerprint(HashAlg::Sha256).to_string(),
        valid_after: None,
        valid_before: None,
    };
    for option in options.iter() {
        let (name, value) = option.split_once('=').unwrap_or((option, ""));
        let value = value.trim_matches('"');
        match name.to_ascii_lowercase().as_str() {
            "cert-authority" => return Ok(None),
            "namespaces" if !pattern_list_matches(value, NAMESPACE) => return Ok(None),
            "namespaces" => {}
            "valid-after" => key.valid_after = Some(parse_time(value)?),
            "valid-before" => key.valid_before = Some(parse_time(value)?),
            other => return Err(format!("unknown option `{other}`")),
        }
    }
    Ok(Some(key))
}

/// Splits off the principals: one token, or one double-quoted string.
fn split_principals(line: &str) -> Result<(&str, &str), String> {
    if let Some(quoted) = line.strip_prefix('"') {
        let end = quoted.find('"').ok_or("the quoted principals are not closed")?;
        return Ok((&quoted[..end], &quoted[end + 1..]));
    }
    line.split_once([' ', '\t']).ok_or_else(|| "a line needs principals and a key".to_owned())
}

/// Splits off the options, present when the next token is not a key type.
/// (`authorized_keys::Entry` guesses by counting spaces, and so misreads
/// `namespaces="x" ssh-ed25519 AAAA` without a comment.)
fn split_options(rest: &str) -> Result<(Vec<&str>, &str), String> {
    let first = rest.split([' ', '\t']).next().unwrap_or_default();
    if first.parse::<Algorithm>().is_ok() {
        return Ok((Vec::new(), rest));
    }
    // The options end at the first blank outside double quotes, as in
    // OpenSSH, so a quoted value may hold spaces.
    let mut quoted = false;
    let end = rest.find(|c: char| {
        quoted ^= c == '"';
        !quoted && (c == ' ' || c == '\t')
    });
    let (options, key) = rest.split_at(end.ok_or("a line needs a key after its options")?);
    if options.matches('"').count() % 2 == 1 {
        return Err(format!("options `{options}` have an unclosed double quote"));
    }
    Ok((split_option_list(options)?, key.trim_start()))
}

/// Splits `a,b="x, y",c` at the commas outside double quotes. (`ssh-key`'s
/// `ConfigOpts` refuses any space, even quoted, with a message about
/// character encoding.)
fn split_option_list(options: &str) -> Result<Vec<&str>, String> {
    let mut quoted = false;
    let mut list = Vec::new();
    let mut start = 0;
    for (i, c) in options.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                list.push(&options[start..i]);
                start = i + 1;
            }
            c if c.is_control() => return Err(format!("options `{options}` hold a control character")),
            _ => {}
        }
    }
    list.push(&options[start..]);
    if list.iter().any(|o| o.is_empty()) {
        return Err(format!("options `{options}` hold an empty option"));
    }
    Ok(list)
}

/// OpenSSH's `match_pattern_list`: comma-separated `*`/`?` globs, where a
/// matching `!pattern` refuses outright.
fn pattern_list_matches(list: &str, name: &str) -> bool {
    let mut matched = false;
    for pattern in list.split(',') {
        match pattern.strip_prefix('!') {
            Some(negated) if glob(negated.as_bytes(), name.as_bytes()) => return false,
            Some(_) => {}
            None => matched |= glob(pattern.as_bytes(), name.as_bytes()),
        }
    }
    matched
}

fn glob(pattern: &[u8], name: &[u8]) -> bool {
    match (pattern.split_first(), name.split_first()) {
        (None, None) => true,
        (Some((b'*', rest)), _) => glob(rest, name) || (!name.is_empty() && glob(pattern, &name[1..])),
        (Some((b'?', rest)), Some((_, tail))) => glob(rest, tail),
        (Some((p, rest)), Some((n, tail))) => p == n && glob(rest, tail),
        _ => false,
    }
}

/// `YYYYMMDD`, `YYYYMMDDHHMM` or `YYYYMMDDHHMMSS`, ending in `Z`. OpenSSH
/// reads a time without `Z` in the local time zone; that is refused here,
/// so a file means the same on every machine.
fn parse_time(value: &str) -> Result<OffsetDateTime, String> {
    let refuse = || format!("time `{value}` is not YYYYMMDD[HHMM[SS]]Z (UTC, with the Z)");
    let digits = value.strip_suffix(['Z', 'z']).ok_or_else(refuse)?;
    let padded = match digits.len() {
        8 => format!("{digits}000000"),
        12 => format!("{digits}00"),
        14 => digits.to_owned(),
        _ => return Err(refuse()),
    };
    let format = format_description!("[year][month][day][hour][minute][second]");
    time::PrimitiveDateTime::parse(&padded, format).map(|t| t.assume_utc()).map_err(|_| refuse())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPqPMRx6Q0Qgw2S/WLeXqabGFEe+a3CCezQTVyHjwf/N";

    fn parse(text: &str) -> Result<TrustedKeys, TrustError> {
        TrustedKeys::parse(text, Path::new("allowed_signers"))
    }

    #[test]
    fn reads_principals_options_comments_and_namespaces() {
        let text = format!(
            "# force keys\n\njane@force.example namespaces=\"git,exhibit-*\",valid-after=\"20240101Z\" {KEY} jane\n\
             git-only@force.example namespaces=\"git\" {KEY}\n\"ca key\" cert-authority {KEY}\n"
        );
        let keys = parse(&text).unwrap();
        assert_eq!(keys.keys.len(), 1);
        let key = &keys.keys[0];
        assert_eq!(key.principals, "jane@force.example");
        assert_eq!(key.fingerprint, "SHA256:0s4jinYgS8ZCCvbLyFhqdbScSF6KtTBo5icZB4wg4m8");
        assert!(!key.valid_at(time::macros::datetime!(2023-12-31 23:59 UTC)));
        assert!(keys.admits(&format!("{KEY} other-comment"), time::macros::datetime!(2024-06-01 0:00 UTC)).is_some());
    }

    #[test]
    fn hostile_lines_are_refused_with_their_line_number() {
        for bad in
            ["justone", &format!("p nosuchopt {KEY}"), &format!("p valid-after=\"2024\" {KEY}"), "p ssh-ed25519 !!!"]
        {
            let err = parse(&format!("# c\n{bad}\n")).unwrap_err();
            assert!(matches!(err, TrustError::Syntax { line: 2, .. }), "{bad}: {err}");
        }
        assert!(matches!(parse("# only comments\n"), Err(TrustError::Empty { .. })));
        assert!(matches!(parse(&format!("p namespaces=\"!exhibit-ledger,*\" {KEY}")), Err(TrustError::Empty { .. })));
    }

    #[test]
    fn a_quoted_option_may_hold_a_space() {
        let keys =
            parse(&format!("p namespaces=\"exhibit-ledger,git hub\",valid-after=\"20240101Z\" {KEY} c")).unwrap();
        assert_eq!(keys.keys.len(), 1);
        let err = parse(&format!("p namespaces=\"exhibit-ledger {KEY}")).unwrap_err();
        assert!(err.to_string().contains("line 1"), "{err}");
    }

    #[test]
    fn globs_follow_openssh() {
        assert!(pattern_list_matches("exhibit-ledger", NAMESPACE));
        assert!(pattern_list_matches("git,exh?bit-*", NAMESPACE));
        assert!(!pattern_list_matches("git,file", NAMESPACE));
        assert!(!pattern_list_matches("*,!exhibit-*", NAMESPACE));
    }
}
