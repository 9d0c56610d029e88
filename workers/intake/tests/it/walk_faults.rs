//! Entries of a walked folder that cannot be read fail alone (issue 13,
//! repro 2): a path longer than `PATH_MAX` failed the whole plan.

use std::path::{Path, PathBuf};
use std::process::Command;

use exhibit_intake::{EntryFaultKind, PlanError, plan_sources};

/// Folders named 200 `d`s, nested 25 deep inside `top` (over 5,000 bytes
/// of path), made by Python changing folder step by step (a shell's `cd` joins the whole path), with `bottom.txt` at
/// the bottom. Returns the first folder whose path is over 4,096 bytes.
pub fn deep_tree(top: &Path) -> PathBuf {
    let script = "import os\nfor _ in range(25):\n    os.mkdir('d' * 200)\n    os.chdir('d' * 200)\nopen('bottom.txt', 'w').write('deep')\n";
    let status = Command::new("python3").current_dir(top).args(["-c", script]).status().unwrap();
    assert!(status.success());
    let name = "d".repeat(200);
    let mut path = top.to_owned();
    while path.as_os_str().len() < 4096 {
        path.push(&name);
    }
    path
}

#[test]
fn a_path_longer_than_path_max_fails_only_its_entry() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("top.txt"), b"top").unwrap();
    let too_long = deep_tree(dir.path());
    let plan = plan_sources(&[dir.path().to_owned()]).unwrap();
    let names: Vec<&Path> = plan.items.iter().map(|i| i.path.strip_prefix(dir.path()).unwrap()).collect();
    assert_eq!(names, [Path::new("top.txt")], "the rest of the folder is planned");
    assert_eq!(plan.entry_faults.len(), 1, "{:?}", plan.entry_faults);
    let fault = &plan.entry_faults[0];
    assert_eq!(fault.kind, EntryFaultKind::PathTooLong, "{fault:?}");
    assert_eq!(fault.path, too_long);
    assert!(fault.reason().contains("the path is too long for this system to open"), "{}", fault.reason());
}

#[test]
fn a_root_that_cannot_be_read_still_fails_the_plan() {
    let dir = tempfile::tempdir().unwrap();
    let too_long = deep_tree(dir.path());
    let err = plan_sources(std::slice::from_ref(&too_long)).unwrap_err();
    assert!(matches!(&err, PlanError::Unreadable { path, .. } if *path == too_long), "{err}");
}
