//! `show`, `get`, `hash` and `cases` on a real ingest.

use std::process::Command;

use crate::common::{Sandbox, overwrite, stderr};

const CASE: &str = "42AB1234520";

#[test]
fn show_lists_every_file_with_digests_type_and_flags() {
    let sb = Sandbox::new();
    let src = sb.sources();
    assert!(sb.ingest(CASE, &src).status.success());
    let listing = sb.show_json(CASE);
    let artefacts = listing["artefacts"].as_array().unwrap();
    assert_eq!(artefacts.len(), 4, "{listing:#}");
    let by_name = |n: &str| artefacts.iter().find(|a| a["source"]["name"]["display"] == n).unwrap();
    let gif = by_name("photo.gif");
    assert_eq!(gif["media_type"]["mime"], "image/gif");
    assert_eq!(gif["kind"], "original");
    assert_eq!(gif["exhibit"], "JS/1");
    assert!(gif["digests"]["md5"].is_string() && gif["digests"]["sha1"].is_string());
    assert_eq!(by_name("statement.txt")["media_type"]["mime"], "text/plain");
    assert_eq!(by_name("empty")["size"], 0);
    let link = by_name("link");
    assert_eq!(link["flags"][0], "symlink");
    assert_eq!(link["media_type"]["mime"], "inode/symlink");
    let text = sb.run(&["show", "--case", CASE, "--exhibit", "JS/1"]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("statement.txt"));
    let cases = sb.run(&["cases"]);
    assert_eq!(String::from_utf8_lossy(&cases.stdout).trim(), CASE);
}

#[test]
fn get_streams_the_original_and_refuses_a_damaged_one() {
    let sb = Sandbox::new();
    let src = sb.sources();
    assert!(sb.ingest(CASE, &src).status.success());
    let listing = sb.show_json(CASE);
    let a = listing["artefacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["source"]["name"]["display"] == "statement.txt")
        .unwrap();
    let id = a["id"].as_str().unwrap();
    let out_file = sb.dir.path().join("out.txt");
    let out = sb.run(&["get", "--case", CASE, id, "-o", out_file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read(&out_file).unwrap(), std::fs::read(src.join("statement.txt")).unwrap());
    let ledger = sb.ledger(CASE);
    assert_eq!(ledger.last().unwrap().1["action"], "accessed");

    let object = sb.case_dir(CASE).join("objects/sha256").join(a["digests"]["sha256"].as_str().unwrap());
    let mut bytes = std::fs::read(&object).unwrap();
    bytes[0] ^= 0xff;
    overwrite(&object, &bytes);
    let damaged = sb.dir.path().join("damaged.txt");
    let out = sb.run(&["get", "--case", CASE, id, "-o", damaged.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(!damaged.exists(), "no partial output is left behind");
}

#[test]
fn hash_output_is_checked_by_coreutils() {
    let sb = Sandbox::new();
    let src = sb.sources();
    for (args, checker) in [
        (vec!["hash"], "sha256sum"),
        (vec!["hash", "--algorithms", "md5"], "md5sum"),
        (vec!["hash", "--algorithms", "sha1"], "sha1sum"),
        (vec!["hash", "--algorithms", "sha256,md5,sha1"], "cksum"),
    ] {
        let mut full = args.clone();
        full.push(src.to_str().unwrap());
        let out = sb.run(&full);
        assert!(out.status.success(), "{}", stderr(&out));
        let sums = sb.dir.path().join("sums");
        std::fs::write(&sums, &out.stdout).unwrap();
        let check = Command::new(checker).arg("-c").arg(&sums).output().unwrap();
        assert!(check.status.success(), "{checker} -c rejected: {}", String::from_utf8_lossy(&check.stdout));
        assert!(String::from_utf8_lossy(&check.stdout).contains("statement.txt: OK"));
    }
}
