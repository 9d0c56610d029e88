//! How a source is named in the ledger: by where it was found (its
//! folder's canonical path), not by how the operator spelled the path or
//! where the command ran. So the same folder reached another way is the
//! same sources, and a rerun records nothing new (issue 13's desk attack).

use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::common::{Sandbox, stderr};

const CASE: &str = "DESK-PATHS";

fn ingest_from(sb: &Sandbox, cwd: &Path, path: &str) -> Output {
    sb.exhibit()
        .current_dir(cwd)
        .args(["ingest", "--case", CASE, "--exhibit", "JS/1", "--operator", "Test Officer", path])
        .output()
        .expect("run exhibit")
}

/// The `path` of every `acquired` event's source, in ledger order.
fn acquired_paths(sb: &Sandbox) -> Vec<String> {
    sb.ledger(CASE)
        .into_iter()
        .map(|(_, e)| e)
        .filter(|e| e["action"] == "acquired")
        .map(|e| e["params"]["facts"]["source"]["path"]["display"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn a_folder_reached_by_any_spelling_or_from_any_folder_is_the_same_sources() {
    let sb = Sandbox::new();
    let desk = sb.dir.path().join("desk");
    std::fs::create_dir_all(desk.join("in/scans/box")).unwrap();
    std::fs::write(desk.join("in/scans/page1.txt"), "page one\n").unwrap();
    std::fs::write(desk.join("in/scans/box/page2.txt"), "page two\n").unwrap();
    std::os::unix::fs::symlink(desk.join("in"), desk.join("via-link")).unwrap();
    let scans = std::fs::canonicalize(desk.join("in/scans")).unwrap();

    let first = ingest_from(&sb, &desk.join("in"), "scans");
    assert!(first.status.success(), "{}", stderr(&first));
    let mut recorded = acquired_paths(&sb);
    recorded.sort();
    let expected = [scans.join("box/page2.txt"), scans.join("page1.txt")].map(|p| p.to_string_lossy().into_owned());
    assert_eq!(recorded, expected, "recorded by where they were found");

    let absolute = scans.to_string_lossy().into_owned();
    let spellings = [
        (desk.clone(), "in/scans"),
        (desk.join("in"), "./scans/"),
        (desk.join("in/scans"), "."),
        (desk.join("in/scans/box"), ".."),
        (desk.clone(), absolute.as_str()),
        (desk.clone(), "via-link/scans"),
        (desk.clone(), "in/../via-link/./scans"),
    ];
    for (cwd, spelling) in spellings {
        let out = ingest_from(&sb, &cwd, spelling);
        assert!(out.status.success(), "{spelling}: {}", stderr(&out));
        assert_eq!(acquired_paths(&sb).len(), 2, "{spelling} from {}: nothing new recorded", cwd.display());
    }
    let actions: Vec<Value> = sb.ledger(CASE).into_iter().map(|(_, e)| e["action"].clone()).collect();
    assert_eq!(actions.iter().filter(|a| *a == "identified").count(), 2, "identified once each");
}

#[test]
fn a_named_symlink_is_still_recorded_as_a_link_in_its_folder() {
    let sb = Sandbox::new();
    let desk = sb.dir.path().join("desk");
    std::fs::create_dir_all(&desk).unwrap();
    std::fs::write(desk.join("statement.txt"), "I saw it.\n").unwrap();
    std::os::unix::fs::symlink("statement.txt", desk.join("link")).unwrap();
    let out = ingest_from(&sb, &desk, "link");
    assert!(out.status.success(), "{}", stderr(&out));
    let folder = std::fs::canonicalize(&desk).unwrap();
    assert_eq!(acquired_paths(&sb), [folder.join("link").to_string_lossy()]);
    let flags = &sb.ledger(CASE).into_iter().find(|(_, e)| e["action"] == "acquired").unwrap().1["params"]["facts"];
    assert_eq!(flags["flags"], serde_json::json!(["symlink"]), "not followed: {flags}");
}
