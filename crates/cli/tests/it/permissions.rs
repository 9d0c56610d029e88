//! The evidence is the owner's alone: a new data folder is 0700 and stored
//! files 0400, so another local user can read neither.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use crate::common::{Sandbox, stderr};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// `cat FILE` run as `nobody` (root reads any file whatever its mode).
fn cat_as_nobody(file: &Path) -> std::process::Output {
    Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "cat"])
        .arg(file)
        .output()
        .expect("setpriv (util-linux)")
}

#[test]
fn another_local_user_cannot_read_the_evidence() {
    let sb = Sandbox::new();
    // The sandbox itself is open to all, as a shared /srv would be.
    std::fs::set_permissions(sb.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = sb.ingest("C1", &sb.sources());
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(mode(&sb.data()), 0o700, "a new data folder is the owner's alone");
    let mut objects = 0;
    for entry in walkdir::WalkDir::new(sb.data()) {
        let entry = entry.unwrap();
        let m = mode(entry.path());
        if entry.file_type().is_dir() {
            assert_eq!(m, 0o700, "{}", entry.path().display());
        } else if entry.file_type().is_file() {
            assert_eq!(m, 0o400, "{}", entry.path().display());
            objects += 1;
        }
    }
    assert!(objects > 3, "objects, manifests and ledger entries were checked");
    let ledger = sb.ledger("C1");
    let out = cat_as_nobody(&ledger[0].0);
    assert!(!out.status.success() && out.stdout.is_empty(), "nobody read {}", ledger[0].0.display());
    // Even with the data folder opened up, the files stay unreadable.
    std::fs::set_permissions(sb.data(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = cat_as_nobody(&ledger[0].0);
    assert!(!out.status.success() && out.stdout.is_empty(), "nobody read {}", ledger[0].0.display());
}

/// `cat FILE` as `nobody` with `daemon` (gid 1, on every Debian system) as
/// its only supplementary group.
fn cat_as_nobody_in_daemon(file: &Path) -> std::process::Output {
    Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--groups=1", "cat"])
        .arg(file)
        .output()
        .expect("setpriv (util-linux)")
}

#[test]
fn a_configured_group_can_read_and_others_still_cannot() {
    use std::os::unix::fs::MetadataExt;
    let sb = Sandbox::new();
    std::fs::set_permissions(sb.dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = sb
        .exhibit()
        .env("EXHIBIT__STORE__GROUP", "daemon")
        .args(["ingest", "--case", "C1", "--exhibit", "JS/1", "--operator", "PC Smith"])
        .arg(sb.sources())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    for entry in walkdir::WalkDir::new(sb.data()) {
        let entry = entry.unwrap();
        let meta = entry.metadata().unwrap();
        if entry.path() == sb.data().join(".tmp") {
            assert_eq!(mode(entry.path()), 0o700, "temporary files stay the writer's");
            continue;
        }
        let want = if meta.is_dir() { 0o750 } else { 0o440 };
        assert_eq!((mode(entry.path()), meta.gid()), (want, 1), "{}", entry.path().display());
    }
    let ledger = sb.ledger("C1");
    let out = cat_as_nobody_in_daemon(&ledger[0].0);
    assert!(out.status.success(), "a group member reads the ledger: {}", stderr(&out));
    assert_eq!(out.stdout, std::fs::read(&ledger[0].0).unwrap());
    let out = cat_as_nobody(&ledger[0].0);
    assert!(!out.status.success() && out.stdout.is_empty(), "a non-member read {}", ledger[0].0.display());
}

#[test]
fn an_unknown_group_is_refused_before_anything_is_written() {
    let sb = Sandbox::new();
    let out = sb
        .exhibit()
        .env("EXHIBIT__STORE__GROUP", "no-such-group-exhibit")
        .args(["ingest", "--case", "C1", "--exhibit", "JS/1", "--operator", "PC Smith"])
        .arg(sb.sources())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("not a group"), "{}", stderr(&out));
    assert!(!sb.data().exists(), "nothing may be created");
}
