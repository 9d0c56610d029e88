//! The tester's attacks on issue 10's fixes: commands that rely on a
//! ledger check its chain first, `get` and `reproduce` take an artefact's
//! hash from the ledger rather than its manifest, and a key the
//! organisation lists is held to its own line even after a rotation.

use std::path::{Path, PathBuf};

use exhibit_core::Sha256Digest;
use exhibit_custody::{LedgerEntry, Signer};
use serde_json::Value;

use crate::common::{Sandbox, allowed_signers_line, overwrite, problems, stderr};
use crate::trust::{CASE, attacker_key, ingested};

/// The statement's manifest as `show` lists it, and its file.
fn statement(sb: &Sandbox) -> (Value, PathBuf) {
    let listing = sb.show_json(CASE);
    let artefacts = listing["artefacts"].as_array().unwrap();
    let manifest = artefacts.iter().find(|a| a["source"]["name"]["display"] == "statement.txt").unwrap().clone();
    let path = sb.case_dir(CASE).join("artefacts").join(format!("{}.json", manifest["id"].as_str().unwrap()));
    (manifest, path)
}

/// Plants an object and points the statement's manifest (only) at it.
fn plant_behind_the_manifest(sb: &Sandbox, planted: &[u8]) -> (String, Sha256Digest, Sha256Digest) {
    let (mut manifest, path) = statement(sb);
    let real: Sha256Digest = manifest["digests"]["sha256"].as_str().unwrap().parse().unwrap();
    let fake = Sha256Digest::of(planted);
    std::fs::write(sb.case_dir(CASE).join("objects/sha256").join(fake.to_hex()), planted).unwrap();
    manifest["digests"]["sha256"] = fake.to_hex().into();
    manifest["size"] = planted.len().into();
    overwrite(&path, &serde_json::to_vec(&manifest).unwrap());
    (manifest["id"].as_str().unwrap().to_owned(), real, fake)
}

fn last_entry(sb: &Sandbox) -> (PathBuf, LedgerEntry) {
    let (path, _) = sb.ledger(CASE).pop().unwrap();
    let entry = LedgerEntry::parse(&std::fs::read(&path).unwrap()).unwrap();
    (path, entry)
}

#[test]
fn get_and_reproduce_refuse_a_manifest_pointing_at_planted_content() {
    let sb = ingested();
    let (id, real, fake) = plant_behind_the_manifest(&sb, b"PLANTED by mallory\n");
    let before = sb.ledger(CASE).len();
    let copy = sb.dir.path().join("copy.bin");
    let trusted = sb.trusted_keys();
    let out = sb.run(&[
        "get",
        "--case",
        CASE,
        &id,
        "-o",
        copy.to_str().unwrap(),
        "--trusted-keys",
        trusted.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    for named in [id.clone(), real.to_hex(), fake.to_hex()] {
        assert!(err.contains(&named), "names {named}: {err}");
    }
    assert!(!copy.exists(), "nothing handed out");
    assert_eq!(sb.ledger(CASE).len(), before, "no access entry launders the planted hash");

    let out = sb.run(&["reproduce", "--case", CASE, "--artefact", &id, "--operator", "T"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains(&fake.to_hex()), "{}", stderr(&out));
}

#[test]
fn verify_flags_entries_that_disagree_on_an_artefacts_content() {
    let sb = ingested();
    let (manifest, _) = statement(&sb);
    // A validly signed entry naming the statement with other content: what
    // the old `get` recorded after reading a rewritten manifest.
    let (path, mut entry) = last_entry(&sb);
    let signer = Signer::load(&sb.key_file()).unwrap();
    let planted = Sha256Digest::of(b"planted");
    entry.prev = Some(entry.body_sha256().unwrap());
    entry.seq += 1;
    let artefact = entry.events_mut()[0].artefact.as_mut().unwrap();
    artefact.id = Some(manifest["id"].as_str().unwrap().parse().unwrap());
    artefact.sha256 = planted;
    artefact.manifest_sha256 = None;
    entry.events_mut()[0].action = exhibit_core::event::Action::Accessed;
    entry.sig = signer.sign(&entry.body_bytes().unwrap()).unwrap();
    let forged = path.with_file_name(format!("{:020}.json", entry.seq));
    std::fs::write(&forged, entry.file_bytes().unwrap()).unwrap();

    let (code, report) = sb.verify_json(CASE);
    assert_eq!(code, 1, "{report:#}");
    let conflict = problems(&report, "artefact-hash-conflict");
    assert_eq!(conflict.len(), 1, "{report:#}");
    assert_eq!(conflict[0]["artefact"], manifest["id"]);
    let claims = conflict[0]["claims"].as_array().unwrap();
    assert!(claims.iter().any(|c| c["seq"] == entry.seq && c["sha256"] == planted.to_hex()), "{report:#}");
    assert!(claims.iter().any(|c| c["sha256"] == manifest["digests"]["sha256"]), "{report:#}");
}

/// A copy of the newest entry as entry N+1 with a signature that fails.
fn forge_unsigned_entry(sb: &Sandbox) -> u64 {
    let (path, mut entry) = last_entry(sb);
    entry.prev = Some(entry.body_sha256().unwrap());
    entry.seq += 1;
    entry.sig = "-----BEGIN SSH SIGNATURE-----\nAAAA\n-----END SSH SIGNATURE-----\n".into();
    std::fs::write(path.with_file_name(format!("{:020}.json", entry.seq)), entry.file_bytes().unwrap()).unwrap();
    entry.seq
}

#[test]
fn commands_refuse_a_ledger_with_a_forged_entry() {
    let sb = ingested();
    // Read before the forgery: `show` itself exits 3 on a ledger whose
    // entry does not verify.
    let id = statement(&sb).0["id"].as_str().unwrap().to_owned();
    let forged = forge_unsigned_entry(&sb);
    let before = sb.ledger(CASE).len();
    let extra = sb.dir.path().join("more");
    std::fs::create_dir_all(&extra).unwrap();
    std::fs::write(extra.join("more.txt"), "more evidence\n").unwrap();
    let public = attacker_key(&sb).with_extension("pub");
    let copy = sb.dir.path().join("copy.bin");
    for args in [
        vec!["ingest", "--case", CASE, "--exhibit", "JS/5", "--operator", "T", extra.to_str().unwrap()],
        vec!["get", "--case", CASE, &id, "-o", copy.to_str().unwrap()],
        vec!["reproduce", "--case", CASE, "--artefact", &id, "--operator", "T"],
        vec!["introduce-key", "--case", CASE, "--operator", "T", "--public-key", public.to_str().unwrap()],
    ] {
        let out = sb.run(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains(&format!("entry {forged}: bad signature")), "{args:?}: {err}");
        assert!(err.contains("exhibit verify"), "{args:?}: {err}");
    }
    assert_eq!(sb.ledger(CASE).len(), before, "nothing appended");
    assert!(!copy.exists());
    let objects = std::fs::read_dir(sb.case_dir(CASE).join("objects/sha256")).unwrap().count();
    std::fs::remove_file(sb.case_dir(CASE).join(format!("ledger/{forged:020}.json"))).unwrap();
    assert_eq!(std::fs::read_dir(sb.case_dir(CASE).join("objects/sha256")).unwrap().count(), objects);
    // Once the forgery is gone the same ingest stores the file.
    let out = sb.run(&["ingest", "--case", CASE, "--exhibit", "JS/5", "--operator", "T", extra.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 stored"), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn a_listed_rotated_in_key_is_held_to_its_own_line() {
    let sb = ingested();
    let new = attacker_key(&sb);
    let out = sb
        .exhibit()
        .args(["introduce-key", "--case", CASE, "--operator", "DC Admin", "--public-key"])
        .arg(new.with_extension("pub"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let extra = sb.dir.path().join("after");
    std::fs::create_dir_all(&extra).unwrap();
    std::fs::write(extra.join("new.txt"), "signed by the new key\n").unwrap();
    let out = sb
        .exhibit()
        .env("EXHIBIT__SIGNING__KEY_FILE", &new)
        .args(["ingest", "--case", CASE, "--exhibit", "JS/3", "--operator", "DC New"])
        .arg(&extra)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));

    let file = |new_line: &str| -> PathBuf {
        let path = sb.dir.path().join("revoke_signers");
        std::fs::write(&path, allowed_signers_line("old@force.example", &sb.key_file()) + new_line).unwrap();
        path
    };
    let verify = |path: &Path| sb.verify_json_with(CASE, &["--trusted-keys", path.to_str().unwrap()]);
    // Listed without limits, or not listed at all: trusted.
    assert_eq!(verify(&file(&allowed_signers_line("new@force.example", &new))).0, 0);
    assert_eq!(verify(&file("")).0, 0, "introduced by the trusted key");
    // Revoked on its own line: every entry it signed is untrusted.
    let revoked = allowed_signers_line("new@force.example", &new)
        .replace("namespaces=\"exhibit-ledger\"", "namespaces=\"exhibit-ledger\",valid-before=\"20200101Z\"");
    let (code, report) = verify(&file(&revoked));
    assert_eq!(code, 1, "{report:#}");
    let untrusted = problems(&report, "untrusted-key");
    assert_eq!(untrusted.len(), 1, "{report:#}");
    assert_eq!(untrusted[0]["fingerprint"], crate::trust::ssh_fingerprint(&new));
}

#[test]
fn introduce_key_refuses_a_key_exhibit_cannot_sign_with() {
    let sb = ingested();
    let rsa = sb.dir.path().join("rsa_key");
    let made = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "rsa", "-b", "2048", "-N", "", "-f"])
        .arg(&rsa)
        .output()
        .unwrap();
    assert!(made.status.success());
    let before = sb.ledger(CASE).len();
    let out = sb
        .exhibit()
        .args(["introduce-key", "--case", CASE, "--operator", "DC Admin", "--public-key"])
        .arg(rsa.with_extension("pub"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("not an Ed25519 key"), "{}", stderr(&out));
    assert_eq!(sb.ledger(CASE).len(), before);
}

/// An altered entry's manifest and object are its own, not the trace of a
/// deleted tail.
#[test]
fn an_altered_entry_is_not_also_reported_as_a_missing_tail() {
    let sb = ingested();
    let ledger = sb.ledger(CASE);
    // An entry naming a manifest, not the last; `ledger` lists a batch
    // entry's events (a small file's acquired and identified share one),
    // so the entry is read whole from its file.
    let last = ledger.iter().filter_map(|(_, e)| e["seq"].as_u64()).max();
    let (path, _) = ledger
        .iter()
        .find(|(_, e)| e["artefact"]["manifest_sha256"].is_string() && e["seq"].as_u64() != last)
        .cloned()
        .unwrap();
    let mut entry: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let event = if entry["batch"].is_array() { &mut entry["batch"][0] } else { &mut entry };
    let key = event["actor"]["public_key"].as_str().unwrap().to_owned();
    let without_comment: Vec<&str> = key.split_whitespace().take(2).collect();
    event["actor"]["public_key"] = format!("{} edited-comment", without_comment.join(" ")).into();
    let entry = LedgerEntry::parse(&serde_json::to_vec(&entry).unwrap()).unwrap();
    overwrite(&path, &entry.file_bytes().unwrap());

    let (code, report) = sb.verify_json(CASE);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(problems(&report, "entry-altered").len(), 1, "{report:#}");
    assert!(problems(&report, "tail-missing").is_empty(), "{report:#}");
}

/// A FIFO in the ledger folder is reported, not skipped, and never opened
/// for a blocking read (which would hang verify).
#[test]
fn a_fifo_in_the_ledger_is_reported_without_hanging() {
    let sb = ingested();
    let ledger = sb.case_dir(CASE).join("ledger");
    let next = sb.ledger(CASE).len() + 1;
    for name in ["stray".to_owned(), format!("{next:020}.json")] {
        let made = std::process::Command::new("mkfifo").arg(ledger.join(&name)).output().unwrap();
        assert!(made.status.success());
    }
    let (code, report) = sb.verify_json(CASE);
    assert_eq!(code, 1, "{report:#}");
    let stray = problems(&report, "unexpected-file");
    assert!(stray.iter().any(|p| p["key"].as_str().unwrap().ends_with("ledger/stray")), "{report:#}");
    let altered = problems(&report, "entry-altered");
    assert!(altered.iter().any(|p| p["seq"] == next as u64 && p["cause"] == "unreadable"), "{report:#}");
}
