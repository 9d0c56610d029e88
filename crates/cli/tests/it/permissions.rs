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
