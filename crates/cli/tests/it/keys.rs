//! Which keys may sign a case: ingest, get and reproduce refuse a key new
//! to a case unless it is trusted or introduced on purpose; a rotation
//! signed by the old key verifies clean; the stock-tool recipe trusts the
//! organisation's file, not the ledger's own claims; and commands refuse
//! a case or store that is not there.

use std::path::Path;
use std::process::Command;

use crate::common::{Sandbox, allowed_signers_line, problems, stderr};
use crate::trust::{CASE, attacker_key, ingested, ssh_fingerprint};

#[test]
fn an_unknown_case_or_store_exits_2_and_creates_nothing() {
    let sb = ingested();
    let out = sb.run(&["verify", "--case", "NOPE"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("case NOPE not found"), "{}", stderr(&out));
    assert!(!sb.case_dir("NOPE").exists());

    let missing = sb.dir.path().join("typo/data");
    let store = missing.to_str().unwrap();
    let id = "0123456789abcdef0123456789abcdef";
    for args in [
        vec!["verify", "--case", CASE],
        vec!["cases"],
        vec!["show", "--case", CASE],
        vec!["listing", "--case", CASE, "--exhibit", "JS/1"],
        vec!["get", "--case", CASE, id],
    ] {
        let out = sb.exhibit().arg("--store").arg(store).args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("no store at"), "{args:?}: {}", stderr(&out));
    }
    assert!(!sb.dir.path().join("typo").exists(), "a read-only command created the store");
}

#[test]
fn ingest_refuses_a_second_key_on_an_existing_case_unless_told_or_trusted() {
    let sb = ingested();
    let second = attacker_key(&sb);
    let before = sb.ledger(CASE).len();
    let extra = sb.dir.path().join("more");
    std::fs::create_dir_all(&extra).unwrap();
    std::fs::write(extra.join("more.txt"), "more\n").unwrap();
    let ingest = |flags: &[&str]| {
        sb.exhibit()
            .env("EXHIBIT__SIGNING__KEY_FILE", &second)
            .args(["ingest", "--case", CASE, "--exhibit", "JS/3", "--operator", "DC Jones"])
            .args(flags)
            .arg(&extra)
            .output()
            .unwrap()
    };
    let out = ingest(&[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains(&ssh_fingerprint(&second)), "{}", stderr(&out));
    assert!(stderr(&out).contains("--introduce-key"), "{}", stderr(&out));
    assert_eq!(sb.ledger(CASE).len(), before, "a refused ingest records nothing");

    // Trusted by the organisation: accepted.
    let trusted = sb.dir.path().join("org_signers");
    let lines =
        allowed_signers_line("a@force.example", &sb.key_file()) + &allowed_signers_line("b@force.example", &second);
    std::fs::write(&trusted, lines).unwrap();
    let out = ingest(&["--trusted-keys", trusted.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (code, report) = sb.verify_json_with(CASE, &["--trusted-keys", trusted.to_str().unwrap()]);
    assert_eq!(code, 0, "{report:#}");

    // A third key, introduced on purpose: accepted, and verify names it.
    let third = sb.dir.path().join("third/id_ed25519");
    std::fs::create_dir_all(third.parent().unwrap()).unwrap();
    assert!(
        Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(&third)
            .status()
            .unwrap()
            .success()
    );
    let out = sb
        .exhibit()
        .env("EXHIBIT__SIGNING__KEY_FILE", &third)
        .args(["ingest", "--case", CASE, "--exhibit", "JS/4", "--operator", "DC Brown", "--introduce-key"])
        .arg(&extra)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let (code, report) = sb.verify_json_with(CASE, &["--trusted-keys", trusted.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(problems(&report, "untrusted-key")[0]["fingerprint"], ssh_fingerprint(&third));
}

/// The README recipe with an organisation-made allowed_signers file.
#[test]
fn ssh_keygen_trusts_the_organisations_file_and_not_the_ledgers_own_key() {
    let sb = ingested();
    let (path, _) = &sb.ledger(CASE)[2];
    let work = sb.dir.path().join("check");
    std::fs::create_dir_all(&work).unwrap();
    let split = "import json,sys; d=json.load(open(sys.argv[1])); s=d.pop('sig'); open('body','w',encoding='utf-8').write(json.dumps(d,sort_keys=True,separators=(',',':'),ensure_ascii=False)); open('body.sig','w').write(s)";
    assert!(Command::new("python3").args(["-c", split]).arg(path).current_dir(&work).status().unwrap().success());
    // As the README: find the principal the file gives the signing key, then verify.
    let check = |signers: &Path| {
        let mut find = Command::new("ssh-keygen");
        find.args(["-Y", "find-principals", "-f"]).arg(signers).args(["-s", "body.sig"]).current_dir(&work);
        let found = find.output().unwrap();
        let principal = String::from_utf8_lossy(&found.stdout).trim().to_owned();
        let verify = Command::new("ssh-keygen")
            .args(["-Y", "verify", "-f"])
            .arg(signers)
            .args(["-I", &principal, "-n", "exhibit-ledger", "-s", "body.sig"])
            .stdin(std::fs::File::open(work.join("body")).unwrap())
            .current_dir(&work)
            .output()
            .unwrap();
        (found.status.success(), verify.status.success(), principal)
    };
    let org = sb.trusted_keys();
    assert_eq!(check(&org), (true, true, "officer@force.example".to_owned()));

    // A file made from an attacker's key (or from the ledger's own claim
    // after a rewrite) does not vouch for the organisation's entry.
    let mallory = attacker_key(&sb);
    let forged = sb.dir.path().join("forged_signers");
    std::fs::write(&forged, allowed_signers_line("officer@force.example", &mallory)).unwrap();
    assert_eq!(check(&forged), (false, false, String::new()));
}

#[test]
fn a_new_case_with_a_key_outside_the_trusted_keys_is_refused() {
    let sb = Sandbox::new();
    let src = sb.sources();
    let other = attacker_key(&sb);
    let trusted = sb.dir.path().join("org_signers");
    std::fs::write(&trusted, allowed_signers_line("other@force.example", &other)).unwrap();
    let ingest = |flags: &[&str]| {
        sb.exhibit()
            .env("EXHIBIT__VERIFY__TRUSTED_KEYS", &trusted)
            .args(["ingest", "--case", CASE, "--exhibit", "JS/1", "--operator", "T"])
            .args(flags)
            .arg(&src)
            .output()
            .unwrap()
    };
    let out = ingest(&[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("is not in the trusted keys file"), "{}", stderr(&out));
    assert!(!sb.case_dir(CASE).exists(), "nothing recorded");
    let out = ingest(&["--introduce-key"]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn get_with_a_key_new_to_the_case_hands_nothing_out() {
    let sb = ingested();
    let listing = sb.show_json(CASE);
    let id = listing["artefacts"][0]["id"].as_str().unwrap().to_owned();
    let other = attacker_key(&sb);
    let copy = sb.dir.path().join("copy.bin");
    let get = |flags: &[&str]| {
        sb.exhibit()
            .env("EXHIBIT__SIGNING__KEY_FILE", &other)
            .args(["get", "--case", CASE, &id, "-o"])
            .arg(&copy)
            .args(flags)
            .output()
            .unwrap()
    };
    let before = sb.ledger(CASE).len();
    let out = get(&[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(!copy.exists(), "the copy is handed out only when its access can be recorded");
    assert_eq!(sb.ledger(CASE).len(), before);
    let out = get(&["--introduce-key"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(copy.exists());
    assert_eq!(sb.ledger(CASE).len(), before + 2, "key-added and accessed");
}

/// The control: a rotation signed by the old key verifies clean against a
/// file that lists only the old key.
#[test]
fn a_rotation_signed_by_the_trusted_key_verifies_clean() {
    let sb = ingested();
    let new = attacker_key(&sb);
    let public = new.with_extension("pub");
    let rotate = |key: &Path| {
        sb.exhibit()
            .env("EXHIBIT__SIGNING__KEY_FILE", key)
            .args(["introduce-key", "--case", CASE, "--operator", "DC Admin", "--public-key"])
            .arg(&public)
            .output()
            .unwrap()
    };
    // The new key cannot introduce itself.
    let out = rotate(&new);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = rotate(&sb.key_file());
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains(&ssh_fingerprint(&new)));

    let extra = sb.dir.path().join("after-rotation");
    std::fs::create_dir_all(&extra).unwrap();
    std::fs::write(extra.join("new.txt"), "signed by the new key\n").unwrap();
    let out = sb
        .exhibit()
        .env("EXHIBIT__SIGNING__KEY_FILE", &new)
        .args(["ingest", "--case", CASE, "--exhibit", "JS/5", "--operator", "DC Jones"])
        .arg(&extra)
        .output()
        .unwrap();
    assert!(out.status.success(), "no --introduce-key needed after a rotation: {}", stderr(&out));
    let (code, report) = sb.verify_json(CASE);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["signers"].as_array().unwrap().len(), 2, "{report:#}");
}
