//! The bag's own `verify.sh`, run with stock tools on tampered exports:
//! each tampering is a separate test, and each must fail for its own
//! reason (the forger also fixes up what would otherwise give it away).

use std::path::Path;
use std::process::Command;

use crate::common::stderr;
use crate::export::{Exported, python_tool, retag, stdout};

#[test]
fn verify_sh_without_the_tsa_ca_says_the_anchors_were_not_checked() {
    let e = Exported::new();
    let bag = e.bag_of(&e.sb.sources());
    let out = Command::new("sh").arg(bag.join("verify.sh")).arg(e.sb.trusted_keys()).output().unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", stdout(&out));
    assert!(stdout(&out).contains("ANCHORS NOT CHECKED"), "{}", stdout(&out));
}

#[test]
fn verify_sh_fails_when_one_byte_of_a_payload_file_is_flipped() {
    let e = Exported::new();
    let bag = e.bag_of(&e.sb.sources());
    let file =
        bag.join("data/JS-1/originals").join(e.sb.dir.path().strip_prefix("/").unwrap()).join("src/statement.txt");
    let mut bytes = std::fs::read(&file).unwrap();
    bytes[0] ^= 1;
    std::fs::write(&file, bytes).unwrap();
    let out = e.verify_sh(&bag);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("FAIL: a payload file differs from manifest-sha256.txt"), "{}", stdout(&out));
}

#[test]
fn verify_sh_fails_when_a_payload_file_and_the_bag_manifests_are_rewritten() {
    let e = Exported::new();
    let bag = e.bag_of(&e.sb.sources());
    let rel = format!("data/JS-1/originals/{}/src/statement.txt", e.sb.dir.path().strip_prefix("/").unwrap().display());
    std::fs::write(bag.join(&rel), "I saw nobody.\n").unwrap();
    let script = r#"
import hashlib, sys
bag, rel = sys.argv[1], sys.argv[2]
data = open(bag + "/" + rel, "rb").read()
for algo in ("sha256", "md5"):
    name = bag + "/manifest-%s.txt" % algo
    lines = [l if not l.endswith("  " + rel + "\n") else "%s  %s\n" % (hashlib.new(algo, data).hexdigest(), rel) for l in open(name)]
    open(name, "w").write("".join(lines))
"#;
    let fix = Command::new("python3").args(["-c", script]).arg(&bag).arg(&rel).output().unwrap();
    assert!(fix.status.success(), "{}", stderr(&fix));
    // Payload-Oxum still matches only if the size is unchanged; fix it too.
    let info = std::fs::read_to_string(bag.join("bag-info.txt")).unwrap();
    let size: u64 = walk_sizes(&bag.join("data"));
    let files = std::fs::read_to_string(bag.join("manifest-sha256.txt")).unwrap().lines().count();
    let info: String =
        info.lines()
            .map(|l| {
                if l.starts_with("Payload-Oxum:") {
                    format!("Payload-Oxum: {size}.{files}\n")
                } else {
                    format!("{l}\n")
                }
            })
            .collect();
    std::fs::write(bag.join("bag-info.txt"), info).unwrap();
    retag(&bag);
    let out = Command::new(python_tool("bagit.py")).arg("--validate").arg(&bag).output().unwrap();
    assert!(out.status.success(), "the forger's bag is a valid bag: {}", stderr(&out));
    let out = e.verify_sh(&bag);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("is not content the ledger recorded"), "{}", stdout(&out));
}

fn walk_sizes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| if e.file_type().unwrap().is_dir() { walk_sizes(&e.path()) } else { e.metadata().unwrap().len() })
        .sum()
}

#[test]
fn verify_sh_fails_when_a_ledger_entry_is_removed() {
    let e = Exported::new();
    let bag = e.bag_of(&e.sb.sources());
    std::fs::remove_file(bag.join("exhibit/ledger/00000000000000000002.json")).unwrap();
    retag(&bag);
    let out = e.verify_sh(&bag);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("an entry is missing"), "{}", stdout(&out));
}

#[test]
fn verify_sh_fails_when_the_chain_is_relinked_around_a_removed_entry() {
    let e = Exported::new();
    let bag = e.bag_of(&e.sb.sources());
    // Remove entry 2 and renumber the files after it, as a forger would.
    let ledger = bag.join("exhibit/ledger");
    let mut names: Vec<_> = std::fs::read_dir(&ledger).unwrap().map(|e| e.unwrap().file_name()).collect();
    names.sort();
    std::fs::remove_file(ledger.join("00000000000000000002.json")).unwrap();
    for (i, name) in names.iter().enumerate().skip(2) {
        std::fs::rename(ledger.join(name), ledger.join(format!("{:020}.json", i))).unwrap();
    }
    retag(&bag);
    let out = e.verify_sh(&bag);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("FAIL: "), "{}", stdout(&out));
}

#[test]
fn verify_sh_fails_when_a_forged_entry_signed_by_an_untrusted_key_is_added() {
    let e = Exported::new();
    let bag = e.bag_of(&e.sb.sources());
    let forger = e.sb.dir.path().join("forger");
    let keygen =
        Command::new("ssh-keygen").args(["-q", "-t", "ed25519", "-N", "", "-f"]).arg(&forger).output().unwrap();
    assert!(keygen.status.success(), "{}", stderr(&keygen));
    // A well-formed next entry, linked to the head and signed by the forger,
    // with the head receipt and tag manifests updated to match.
    let script = r#"
import hashlib, json, os, subprocess, sys
bag, key = sys.argv[1], sys.argv[2]
folder = bag + "/exhibit/ledger"
last = sorted(os.listdir(folder))[-1]
d = json.load(open(folder + "/" + last)); d.pop("sig")
canon = lambda v: json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
prev = hashlib.sha256(canon(d)).hexdigest()
if "batch" in d: d = dict(d["batch"][0], seq=d["seq"])
d["seq"] += 1; d["prev"] = prev; d["action"] = "accessed"; d["actor"]["operator"] = "Forger"
body = canon(d)
open(key + ".body", "wb").write(body)
subprocess.run(["ssh-keygen", "-q", "-Y", "sign", "-f", key, "-n", "exhibit-ledger", key + ".body"], check=True)
d["sig"] = open(key + ".body.sig").read()
open(folder + "/%020d.json" % d["seq"], "wb").write(canon(d))
open(bag + "/exhibit/head.txt", "w").write("head: seq %d sha256 %s\n" % (d["seq"], hashlib.sha256(body).hexdigest()))
"#;
    let forge = Command::new("python3").args(["-c", script]).arg(&bag).arg(&forger).output().unwrap();
    assert!(forge.status.success(), "{}", stderr(&forge));
    retag(&bag);
    let out = e.verify_sh(&bag);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("signed by a key that ALLOWED_SIGNERS does not list"), "{}", stdout(&out));
}

#[test]
fn verify_sh_trusts_a_rotated_key_only_after_its_verified_introduction() {
    let e = Exported::new();
    let src = e.sb.sources();
    let out = e.run(&["ingest", "--case", "C1", "--exhibit", "JS/1", "--operator", "T", src.to_str().unwrap()]);
    assert!(matches!(out.status.code(), Some(0 | 3)), "{}", stderr(&out));
    let new = e.sb.dir.path().join("new_key");
    let keygen = Command::new("ssh-keygen").args(["-q", "-t", "ed25519", "-N", "", "-f"]).arg(&new).output().unwrap();
    assert!(keygen.status.success(), "{}", stderr(&keygen));
    let public = new.with_extension("pub");
    let out =
        e.run(&["introduce-key", "--case", "C1", "--operator", "Admin", "--public-key", public.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let extra = e.sb.dir.path().join("later");
    std::fs::create_dir_all(&extra).unwrap();
    std::fs::write(extra.join("later.txt"), "signed by the rotated key\n").unwrap();
    let bag = e.sb.dir.path().join("bag");
    for args in [
        vec!["ingest", "--case", "C1", "--exhibit", "JS/2", "--operator", "T", extra.to_str().unwrap()],
        vec!["export", "--case", "C1", "--bagit", bag.to_str().unwrap()],
    ] {
        let mut cmd = e.sb.exhibit();
        cmd.env("EXHIBIT__SIGNING__KEY_FILE", &new).env("EXHIBIT__ANCHORING__TSA_URL", e.tsa.url());
        let out = cmd.env("EXHIBIT__ANCHORING__CA_FILE", e.tsa.ca_file()).args(&args).output().unwrap();
        assert!(matches!(out.status.code(), Some(0 | 3)), "{args:?}: {}", stderr(&out));
    }
    // The organisation's file lists only the old key.
    let out = e.verify_sh(&bag);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));

    // An introduction whose signature fails introduces nothing: the entries
    // the rotated key signed are then untrusted.
    let ledger = bag.join("exhibit/ledger");
    let added = std::fs::read_dir(&ledger)
        .unwrap()
        .map(|f| f.unwrap().path())
        .find(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            text.contains("\"action\":\"key-added\"") && text.contains("\"operator\":\"Admin\"")
        })
        .unwrap();
    let text = std::fs::read_to_string(&added).unwrap();
    let tampered = text.replace("\"operator\":\"Admin\"", "\"operator\":\"Admim\"");
    assert_ne!(tampered, text, "the introduction was altered");
    std::fs::write(&added, tampered).unwrap();
    retag(&bag);
    let out = e.verify_sh(&bag);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("the signature does not verify"), "{}", stdout(&out));
    assert!(stdout(&out).contains("signed by a key that ALLOWED_SIGNERS does not list"), "{}", stdout(&out));
}

// The attacker's findings (issue 15): each forgery below rewrites the bag
// manifests, the payload oxum and the tag manifests, so that bagit.py
// would call the bag valid, and verify.sh must still fail for its reason.

/// Runs `script` (Python, cwd = the bag) and then makes every bag manifest
/// match the forged content, as the attacker's `rebag.py` does.
fn forge(bag: &Path, script: &str) {
    let rebag = r#"
import hashlib, os
def h(p, a): return hashlib.new(a, open(p, "rb").read()).hexdigest()
files = sorted(os.path.join(r, f) for r, _, fs in os.walk("data") for f in fs)
for a in ("sha256", "md5"):
    open("manifest-%s.txt" % a, "w").write("".join("%s  %s\n" % (h(p, a), p) for p in files))
size = sum(os.path.getsize(p) for p in files)
info = [("Payload-Oxum: %d.%d" % (size, len(files)) if l.startswith("Payload-Oxum") else l)
        for l in open("bag-info.txt").read().splitlines()]
open("bag-info.txt", "w").write("\n".join(info) + "\n")
tags = sorted(os.path.relpath(os.path.join(r, f)) for r, _, fs in os.walk(".") for f in fs)
tags = [p for p in tags if not p.startswith("data/") and not p.startswith("tagmanifest-")]
for a in ("sha256", "md5"):
    open("tagmanifest-%s.txt" % a, "w").write("".join("%s  %s\n" % (h(p, a), p) for p in tags))
"#;
    let code = format!("import hashlib, json, os\n{script}\n{rebag}");
    let out = Command::new("python3").args(["-c", &code]).current_dir(bag).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

/// Exports a clean bag, forges it with `script`, and expects verify.sh to
/// fail naming `reason`.
fn forged_fails(script: &str, reason: &str) {
    let e = Exported::new();
    let bag = e.bag_of(&e.sb.sources());
    forge(&bag, script);
    let out = e.verify_sh(&bag);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains(reason), "expected {reason:?}: {}", stdout(&out));
}

/// Python: `row` is the path-map row of the payload file ending in `leaf`.
const ROW_OF: &str = r#"
rows = open("exhibit/path-map.tsv").read().splitlines()
def row_of(leaf): return next(r.split("\t") for r in rows if r.split("\t")[0].endswith("/" + leaf))
"#;

#[test]
fn verify_sh_fails_on_an_unsigned_file_in_the_ledger_folder() {
    let script = format!(
        "{ROW_OF}
path, aid = row_of('statement.txt')[:2]
open(path, 'w').write('EVIL CONTENT\\n')
sha = hashlib.sha256(open(path, 'rb').read()).hexdigest()
m = hashlib.sha256(open('exhibit/artefacts/%s.json' % aid, 'rb').read()).hexdigest()
entry = {{'artefact': {{'id': aid, 'sha256': sha, 'manifest_sha256': m}}, 'outcome': {{'status': 'ok'}}}}
json.dump(entry, open('exhibit/ledger/zz-forged', 'w'))"
    );
    forged_fails(&script, "exhibit/ledger/zz-forged in the ledger folder is not a signed ledger entry");
}

#[test]
fn verify_sh_fails_on_a_payload_file_planted_outside_the_path_map() {
    forged_fails("open('data/JS-1/planted.txt', 'w').write('planted\\n')", "data/JS-1/planted.txt is not in");
}

#[test]
fn verify_sh_fails_when_recorded_evidence_is_deleted_with_its_rows() {
    let script = r#"
gone = [l.split("\t")[0] for l in open("exhibit/path-map.tsv") if l.split("\t")[0].endswith("/statement.txt")]
os.remove(gone[0])
for name in ("exhibit/path-map.tsv", "exhibit/listing.tsv"):
    lines = [l for l in open(name) if l.split("\t")[0] != gone[0]]
    open(name, "w").write("".join(lines))
"#;
    forged_fails(script, "is missing from the bag");
}

#[test]
fn verify_sh_fails_on_an_empty_ledger() {
    let script = r#"
import shutil
for folder in ("exhibit/ledger", "exhibit/anchors"):
    for name in os.listdir(folder): os.remove(os.path.join(folder, name))
os.remove("exhibit/head.txt")
"#;
    forged_fails(script, "the ledger holds no entries");
}

#[test]
fn verify_sh_fails_when_two_payload_files_swap_names_in_the_path_map() {
    let script = format!(
        "{ROW_OF}
a, b = row_of('statement.txt'), row_of('photo.gif')
data = {{p: open(p, 'rb').read() for p in (a[0], b[0])}}
open(a[0], 'wb').write(data[b[0]]); open(b[0], 'wb').write(data[a[0]])
swapped = {{a[0]: [a[0]] + b[1:], b[0]: [b[0]] + a[1:]}}
text = ''.join('\\t'.join(swapped.get(r.split('\\t')[0], r.split('\\t'))) + '\\n' for r in rows)
open('exhibit/path-map.tsv', 'w').write(text)
listing = [l.split('\\t') for l in open('exhibit/listing.tsv').read().splitlines()]
by_id = {{l[1]: l for l in listing}}
fixed = [[l[0]] + by_id[swapped[l[0]][1]][1:] if l[0] in swapped else l for l in listing]
open('exhibit/listing.tsv', 'w').write(''.join('\\t'.join(l) + '\\n' for l in fixed))"
    );
    forged_fails(&script, "is not named as the recorded original");
}

#[test]
fn verify_sh_fails_when_listing_tsv_is_edited() {
    let script = r#"
lines = open("exhibit/listing.tsv").read().splitlines()
cells = lines[1].split("\t"); cells[4] = "999"; lines[1] = "\t".join(cells)
open("exhibit/listing.tsv", "w").write("\n".join(lines) + "\n")
"#;
    forged_fails(script, "listing.tsv row");
}

#[test]
fn verify_sh_fails_when_the_tail_is_cut_and_head_txt_removed() {
    let script = r#"
last = sorted(os.listdir("exhibit/ledger"))[-1]
os.remove("exhibit/ledger/" + last)
if os.path.exists("exhibit/anchors/" + last[:-5] + ".tsr"): os.remove("exhibit/anchors/" + last[:-5] + ".tsr")
os.remove("exhibit/head.txt")
"#;
    forged_fails(script, "exhibit/head.txt is missing");
}

#[test]
fn verify_sh_fails_when_the_head_in_bag_info_is_not_the_verified_head() {
    let script = r#"
last = sorted(os.listdir("exhibit/ledger"))[-1]
os.remove("exhibit/ledger/" + last)
seq = int(last[:-5]) - 1
body = json.load(open("exhibit/ledger/%020d.json" % seq)); body.pop("sig")
canon = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
open("exhibit/head.txt", "w").write("head: seq %d sha256 %s\n" % (seq, hashlib.sha256(canon).hexdigest()))
"#;
    forged_fails(script, "Exhibit-Ledger-Head");
}

#[test]
fn verify_sh_fails_on_a_relabelled_case_and_prints_the_verified_case() {
    let script = r#"
text = open("bag-info.txt").read().replace(": C1\n", ": C2\n")
open("bag-info.txt", "w").write(text)
"#;
    forged_fails(script, "bag-info.txt names case ['C2'], but the signed ledger is of case 'C1'");
}

#[test]
fn verify_sh_fails_on_a_symlink_in_the_payload() {
    let script = format!(
        "{ROW_OF}
path = row_of('statement.txt')[0]
os.rename(path, 'exhibit/moved')
os.symlink(os.path.relpath('exhibit/moved', os.path.dirname(path)), path)"
    );
    forged_fails(&script, "is a symbolic link");
}

#[test]
fn verify_sh_fails_on_a_tag_file_not_in_the_tag_manifest() {
    let e = Exported::new();
    let bag = e.bag_of(&e.sb.sources());
    std::fs::write(bag.join("report.html"), "<p>All verified.</p>").unwrap();
    let out = e.verify_sh(&bag);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("tag file 'report.html' is not in tagmanifest-sha256.txt"), "{}", stdout(&out));
}

#[test]
fn verify_sh_fails_clearly_on_a_ledger_entry_that_is_not_json_and_a_garbled_path_map() {
    let script = r#"
open("exhibit/ledger/00000000000000000001.json", "wb").write(b"\xff{not json")
open("exhibit/path-map.tsv", "a").write("garbage\n")
"#;
    let e = Exported::new();
    let bag = e.bag_of(&e.sb.sources());
    forge(&bag, script);
    let out = e.verify_sh(&bag);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("ledger check: the bag cannot be read as exhibit wrote it"), "{}", stdout(&out));
    assert!(!stdout(&out).contains("Traceback") && !stderr(&out).contains("Traceback"), "{}", stderr(&out));
}
