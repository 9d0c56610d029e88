//! Issue 10's insider attacks, end to end: each is caught by the
//! organisation's pinned keys or by a receipt kept from an earlier verify,
//! and the messages name the key's fingerprint or the missing entries.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use exhibit_core::Sha256Digest;
use exhibit_custody::LedgerEntry;
use serde_json::Value;

use crate::common::{Sandbox, overwrite, problems, stderr};

pub(crate) const CASE: &str = "T20247010";

pub(crate) fn ingested() -> Sandbox {
    let sb = Sandbox::new();
    let out = sb.ingest(CASE, &sb.sources());
    assert!(out.status.success(), "ingest: {}", stderr(&out));
    sb
}

/// An attacker's fresh key, made with ssh-keygen.
pub(crate) fn attacker_key(sb: &Sandbox) -> PathBuf {
    let path = sb.dir.path().join("mallory/id_ed25519");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let out =
        Command::new("ssh-keygen").args(["-q", "-t", "ed25519", "-N", "", "-C", "mallory", "-f"]).arg(&path).output();
    assert!(out.unwrap().status.success());
    path
}

/// `SHA256:...` as `ssh-keygen -lf` prints it.
pub(crate) fn ssh_fingerprint(key: &Path) -> String {
    let out = Command::new("ssh-keygen").arg("-lf").arg(key).output().unwrap();
    String::from_utf8_lossy(&out.stdout).split_whitespace().nth(1).unwrap().to_owned()
}

fn receipt(sb: &Sandbox) -> String {
    let (_, report) = sb.verify_json(CASE);
    format!("{}:{}", report["head"]["seq"], report["head"]["sha256"].as_str().unwrap())
}

fn entries(sb: &Sandbox) -> Vec<(PathBuf, LedgerEntry)> {
    // `ledger()` lists events; a batch entry's file once.
    let mut files: Vec<PathBuf> = sb.ledger(CASE).into_iter().map(|(p, _)| p).collect();
    files.dedup();
    files.into_iter().map(|p| (p.clone(), LedgerEntry::parse(&std::fs::read(&p).unwrap()).unwrap())).collect()
}

/// Swaps `statement.txt` for planted bytes with a consistent object and
/// manifest; returns the old and new content hashes and the new manifest's.
fn plant_content(sb: &Sandbox, planted: &[u8]) -> (Sha256Digest, Sha256Digest, Sha256Digest) {
    let listing = sb.show_json(CASE);
    let artefacts = listing["artefacts"].as_array().unwrap();
    let mut manifest = artefacts.iter().find(|a| a["source"]["name"]["display"] == "statement.txt").unwrap().clone();
    let old: Sha256Digest = manifest["digests"]["sha256"].as_str().unwrap().parse().unwrap();
    let new = Sha256Digest::of(planted);
    let objects = sb.case_dir(CASE).join("objects/sha256");
    std::fs::remove_file(objects.join(old.to_hex())).unwrap();
    std::fs::write(objects.join(new.to_hex()), planted).unwrap();
    let py =
        "import hashlib,sys; d=sys.stdin.buffer.read(); print(hashlib.md5(d).hexdigest(), hashlib.sha1(d).hexdigest())";
    let mut child =
        Command::new("python3").args(["-c", py]).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), planted).unwrap();
    let sums = String::from_utf8(child.wait_with_output().unwrap().stdout).unwrap();
    let sums: Vec<&str> = sums.split_whitespace().collect();
    manifest["digests"] = serde_json::json!({"sha256": new.to_hex(), "md5": sums[0], "sha1": sums[1]});
    manifest["size"] = planted.len().into();
    manifest["operator"] = "DC Someone Else".into();
    let bytes = serde_json::to_vec(&manifest).unwrap();
    let path = sb.case_dir(CASE).join("artefacts").join(format!("{}.json", manifest["id"].as_str().unwrap()));
    overwrite(&path, &bytes);
    (old, new, Sha256Digest::of(&bytes))
}

/// Re-signs every entry with `key`, replacing the key-added entry and the
/// operator, and pointing the statement's entries at the planted content.
fn rewrite_ledger(sb: &Sandbox, key: &Path, old: Sha256Digest, new: Sha256Digest, manifest: Sha256Digest, size: u64) {
    let signer = exhibit_custody::Signer::load(key).unwrap();
    let mut prev = None;
    for (path, mut entry) in entries(sb) {
        let rewrite = |event: &mut exhibit_core::event::CustodyEvent| {
            event.actor.public_key = signer.public_key_openssh();
            event.actor.operator = "DC Someone Else".into();
            if event.params.contains_key("public_key") {
                event.params.insert("public_key".into(), signer.public_key_openssh().into());
            }
            if let Some(a) = event.artefact.as_mut().filter(|a| a.sha256 == old) {
                a.sha256 = new;
                a.size = size;
                a.manifest_sha256 = a.manifest_sha256.map(|_| manifest);
            }
        };
        // A forger rewrites every event, and a batch's list of event hashes
        // with them.
        match &mut entry.body {
            exhibit_custody::EntryBody::Single(event) => rewrite(event),
            exhibit_custody::EntryBody::Batch { events, .. } => {
                let mut events = events.clone();
                events.iter_mut().for_each(rewrite);
                entry.body = exhibit_custody::EntryBody::batch(events).unwrap();
            }
        }
        entry.prev = prev;
        entry.sig = signer.sign(&entry.body_bytes().unwrap()).unwrap();
        prev = Some(entry.body_sha256().unwrap());
        overwrite(&path, &entry.file_bytes().unwrap());
    }
}

#[test]
fn a_rewrite_with_a_new_key_is_caught_by_pinned_keys_and_by_a_receipt() {
    let sb = ingested();
    let kept = receipt(&sb);
    let planted = b"I confess to everything.\n";
    let (old, new, manifest) = plant_content(&sb, planted);
    let mallory = attacker_key(&sb);
    rewrite_ledger(&sb, &mallory, old, new, manifest, planted.len() as u64);

    // Without pinned keys the forgery is intact, and the run says it cannot
    // tell who signed: exit 3, never a plain OK.
    let (code, report) = sb.verify_json_with(CASE, &[]);
    assert_eq!((code, report["signers_checked"].clone()), (3, Value::Bool(false)), "{report:#}");
    assert_eq!(report["signers"][0]["fingerprint"], ssh_fingerprint(&mallory));
    let text = sb.run(&["verify", "--case", CASE]);
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(stdout.starts_with("INTACT, SIGNERS NOT CHECKED") && stdout.contains("warning: signers were not checked"));

    let (code, report) = sb.verify_json(CASE);
    assert_eq!(code, 1, "{report:#}");
    let untrusted = problems(&report, "untrusted-key");
    assert_eq!(untrusted.len(), 1, "{report:#}");
    assert_eq!(untrusted[0]["fingerprint"], ssh_fingerprint(&mallory));

    let (code, report) = sb.verify_json_with(CASE, &["--expect-head", &kept]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(problems(&report, "receipt-mismatch").len(), 1, "{report:#}");
}

#[test]
fn an_append_with_a_self_introduced_key_is_caught_by_pinned_keys() {
    let sb = ingested();
    let mallory = attacker_key(&sb);
    let src = sb.dir.path().join("planted");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("confession.txt"), "I did it.\n").unwrap();
    let out = sb
        .exhibit()
        .env("EXHIBIT__SIGNING__KEY_FILE", &mallory)
        .args(["ingest", "--case", CASE, "--exhibit", "JS/9", "--operator", "DC Smith", "--introduce-key"])
        .arg(&src)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));

    let (code, report) = sb.verify_json(CASE);
    assert_eq!(code, 1, "{report:#}");
    let untrusted = problems(&report, "untrusted-key");
    assert_eq!(untrusted.len(), 1, "{report:#}");
    assert_eq!(untrusted[0]["fingerprint"], ssh_fingerprint(&mallory));
    // A small file's acquired and identified events share one batch entry.
    assert_eq!(untrusted[0]["entries"].as_array().unwrap().len(), 2, "key-added, acquired + identified: {report:#}");
    let text = sb.run(&["verify", "--case", CASE, "--trusted-keys", sb.trusted_keys().to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(stdout.contains(&format!("key {}: untrusted key", ssh_fingerprint(&mallory))), "{stdout}");
}

#[test]
fn cutting_off_the_last_exhibit_is_caught_by_a_receipt() {
    let sb = ingested();
    let extra = sb.dir.path().join("second");
    std::fs::create_dir_all(&extra).unwrap();
    std::fs::write(extra.join("later.txt"), "a later exhibit\n").unwrap();
    let before = last_seq(&sb.ledger(CASE)) as usize;
    let out = sb.run(&["ingest", "--case", CASE, "--exhibit", "JS/2", "--operator", "T", extra.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let kept = receipt(&sb);

    // Delete JS/2's entries, object and manifest.
    let listing = sb.show_json(CASE);
    let js2 = listing["artefacts"].as_array().unwrap().iter().find(|a| a["exhibit"] == "JS/2").unwrap().clone();
    for (path, event) in &sb.ledger(CASE) {
        if event["seq"].as_u64().unwrap() > before as u64 && path.exists() {
            std::fs::remove_file(path).unwrap();
        }
    }
    std::fs::remove_file(sb.case_dir(CASE).join("objects/sha256").join(js2["digests"]["sha256"].as_str().unwrap()))
        .unwrap();
    std::fs::remove_file(sb.case_dir(CASE).join("artefacts").join(format!("{}.json", js2["id"].as_str().unwrap())))
        .unwrap();

    let (code, _) = sb.verify_json(CASE);
    assert_eq!(code, 0, "without the receipt the cut is invisible");
    let (code, report) = sb.verify_json_with(CASE, &["--expect-head", &kept]);
    assert_eq!(code, 1, "{report:#}");
    let cut = problems(&report, "receipt-beyond-head");
    assert_eq!(cut[0]["head"], before as u64, "{report:#}");
    let text = sb.run(&["verify", "--case", CASE, "--expect-head", &kept]);
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(stdout.contains(&format!("the ledger ends at entry {before}, but the receipt shows entry")), "{stdout}");
}

#[test]
fn deleting_only_the_newest_entry_names_it_missing() {
    let sb = ingested();
    let ledger = sb.ledger(CASE);
    let (path, newest) = ledger.last().unwrap();
    std::fs::remove_file(path).unwrap();
    let (code, report) = sb.verify_json(CASE);
    assert_eq!(code, 1, "{report:#}");
    let tail = problems(&report, "tail-missing");
    assert_eq!(tail[0]["after"], last_seq(&ledger) - 1, "{report:#}");
    // The newest entry may be a batch of several artefacts, listed in ID
    // order: the deleted artefact is one of them, not necessarily the first.
    let named = tail[0]["manifests"].as_array().unwrap();
    assert!(named.contains(&newest["artefact"]["id"]), "{report:#}");
}

#[test]
fn a_receipt_that_does_not_parse_is_a_usage_error() {
    let sb = ingested();
    for bad in ["7", "x:y", "0:00", &format!("3:{}", "g".repeat(64))] {
        let out = sb.run(&["verify", "--case", CASE, "--expect-head", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", stderr(&out));
    }
}

/// The number of the newest ledger entry (`ledger()` lists events, and the
/// events of a batch entry share its number).
fn last_seq(ledger: &[(std::path::PathBuf, serde_json::Value)]) -> u64 {
    ledger.last().unwrap().1["seq"].as_u64().unwrap()
}
