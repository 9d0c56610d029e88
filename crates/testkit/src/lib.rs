//! Helpers shared by exhibit's tests (a dev-dependency only).
//!
//! It owns two things: the S3 servers tests run against ([`servers`]), and
//! finding the shared conformance corpus, which
//! lives outside the repository (`$EXHIBIT_CORPUS`, else `../shared/corpus`
//! beside the workspace). On a developer's machine an absent corpus skips
//! the corpus tests with a message; under CI (`CI=true` or `CI=1`) it fails
//! them, so a CI run never passes by testing nothing.
//!
//! ```no_run
//! let Some(dir) = exhibit_testkit::corpus_dir() else { return };
//! assert!(dir.join("dfvfs/ext2.E01").is_file());
//! ```

use std::ffi::OsString;
use std::path::{Path, PathBuf};

pub mod servers;

/// The corpus folder, or `None` (after printing why the test is skipped)
/// when it is absent outside CI.
///
/// # Panics
/// When the corpus is absent and `CI` is `true` or `1`: corpus tests must
/// not pass silently in CI.
pub fn corpus_dir() -> Option<PathBuf> {
    let dir = corpus_path(std::env::var_os("EXHIBIT_CORPUS"));
    match absent_corpus(&dir, dir.is_dir(), std::env::var_os("CI")) {
        Absent::Present => Some(dir),
        Absent::Skip(message) => {
            println!("{message}");
            None
        }
        Absent::Fail(message) => panic!("{message}"),
    }
}

/// The workspace root (the folder holding the top `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Where the corpus should be: `$EXHIBIT_CORPUS`, else `../shared/corpus`
/// beside the workspace.
fn corpus_path(from_env: Option<OsString>) -> PathBuf {
    from_env.map_or_else(|| workspace_root().join("../shared/corpus"), PathBuf::from)
}

/// What a test does about the corpus.
#[derive(Debug, PartialEq, Eq)]
enum Absent {
    /// It is there; use it.
    Present,
    /// It is absent on a developer's machine: skip with this message.
    Skip(String),
    /// It is absent under CI: fail with this message.
    Fail(String),
}

fn absent_corpus(dir: &Path, is_dir: bool, ci: Option<OsString>) -> Absent {
    if is_dir {
        return Absent::Present;
    }
    let in_ci = ci.is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1");
    if in_ci {
        Absent::Fail(format!(
            "the conformance corpus is not at {} and CI is set: corpus tests must not pass without it; \
             set EXHIBIT_CORPUS to its folder",
            dir.display()
        ))
    } else {
        Absent::Skip(format!("skipping: corpus not found at {} (set EXHIBIT_CORPUS)", dir.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_absent_corpus_fails_under_ci_and_skips_elsewhere() {
        let dir = Path::new("/nonexistent/corpus");
        for ci in ["true", "TRUE", "1"] {
            let got = absent_corpus(dir, false, Some(ci.into()));
            assert!(matches!(&got, Absent::Fail(m) if m.contains("/nonexistent/corpus")), "CI={ci}: {got:?}");
        }
        for ci in [None, Some("false"), Some("0"), Some("")] {
            let got = absent_corpus(dir, false, ci.map(OsString::from));
            assert!(matches!(&got, Absent::Skip(m) if m.contains("/nonexistent/corpus")), "CI={ci:?}: {got:?}");
        }
        assert_eq!(absent_corpus(dir, true, Some("true".into())), Absent::Present);
    }

    #[test]
    fn the_corpus_path_comes_from_the_environment_or_beside_the_workspace() {
        assert_eq!(corpus_path(Some("/x/corpus".into())), PathBuf::from("/x/corpus"));
        let default = corpus_path(None);
        assert!(default.ends_with("../shared/corpus"), "{}", default.display());
        assert!(workspace_root().join("Cargo.toml").is_file());
    }

    #[test]
    fn a_missing_corpus_under_ci_panics_with_its_path() {
        let dir = Path::new("/nonexistent/corpus");
        let Absent::Fail(message) = absent_corpus(dir, dir.is_dir(), Some("true".into())) else {
            panic!("must fail under CI")
        };
        assert!(message.contains("EXHIBIT_CORPUS"), "{message}");
    }
}
