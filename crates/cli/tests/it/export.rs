//! `exhibit export`: bags that bagit.py validates, CASE/UCO JSON-LD that
//! case_validate accepts, and the bag's own `verify.sh`, run with stock
//! tools on a clean export and on tampered ones.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use exhibit_timestamp::loopback::{KeyKind, LoopbackTsa};

use crate::common::{Sandbox, stderr};

/// A case ingested with anchoring on, and its organisation's keys.
pub struct Exported {
    pub sb: Sandbox,
    pub tsa: LoopbackTsa,
    _tsa_dir: tempfile::TempDir,
}

impl Exported {
    pub fn new() -> Self {
        let tsa_dir = tempfile::tempdir().unwrap();
        let tsa = LoopbackTsa::start(tsa_dir.path(), KeyKind::EcP256).unwrap();
        Self { sb: Sandbox::new(), tsa, _tsa_dir: tsa_dir }
    }

    pub fn run(&self, args: &[&str]) -> Output {
        let mut cmd = self.sb.exhibit();
        cmd.env("EXHIBIT__ANCHORING__TSA_URL", self.tsa.url()).env("EXHIBIT__ANCHORING__CA_FILE", self.tsa.ca_file());
        cmd.args(args).output().unwrap()
    }

    /// Ingests `src` as JS/1 of C1 and exports the case into a new bag.
    pub fn bag_of(&self, src: &Path) -> PathBuf {
        let out = self.run(&["ingest", "--case", "C1", "--exhibit", "JS/1", "--operator", "T", src.to_str().unwrap()]);
        assert!(matches!(out.status.code(), Some(0 | 3)), "ingest: {}", stderr(&out));
        let bag = self.sb.dir.path().join("bag");
        let out = self.run(&["export", "--case", "C1", "--bagit", bag.to_str().unwrap(), "--organisation", "Force"]);
        assert_eq!(out.status.code(), Some(0), "export: {}", stderr(&out));
        bag
    }

    /// Runs the bag's verify.sh with the organisation's keys and the TSA CA.
    pub fn verify_sh(&self, bag: &Path) -> Output {
        let trusted = self.sb.trusted_keys();
        Command::new("sh").arg(bag.join("verify.sh")).arg(&trusted).arg(self.tsa.ca_file()).output().unwrap()
    }
}

/// A Python tool the setup script installs into its virtual environment.
pub fn python_tool(name: &str) -> PathBuf {
    let dir =
        std::env::var_os("EXHIBIT_PYTHON_TOOLS").map_or_else(|| PathBuf::from("/opt/exhibit-python"), PathBuf::from);
    let tool = dir.join("bin").join(name);
    assert!(
        tool.exists(),
        "{} is missing: run scripts/setup-debian.sh (it installs bagit and case-utils)",
        tool.display()
    );
    tool
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Sources with names that no single file system takes all of.
fn hostile_sources(sb: &Sandbox) -> PathBuf {
    let src = sb.sources();
    for (name, body) in [
        ("CON", "device name"),
        ("Report.txt", "upper"),
        ("report.TXT", "lower"),
        ("trailing. ", "dot space"),
        ("a:b|c?d*e", "windows specials"),
        ("100%=x", "escape chars"),
        ("bidi\u{202E}txt.exe", "bidi"),
        ("line\nbreak", "newline"),
    ] {
        std::fs::write(src.join(name), body).unwrap();
    }
    src
}

/// Recomputes the tag manifests, as a forger who edits tag files would.
pub fn retag(bag: &Path) {
    let script = r#"
import hashlib, os, sys
os.chdir(sys.argv[1])
names = sorted(os.path.relpath(os.path.join(r, f)) for r, _, fs in os.walk(".") for f in fs
               if not r.startswith("./data") and not f.startswith("tagmanifest-"))
for algo in ("sha256", "md5"):
    with open("tagmanifest-%s.txt" % algo, "w") as out:
        for n in names:
            out.write("%s  %s\n" % (hashlib.new(algo, open(n, "rb").read()).hexdigest(), n))
"#;
    let out = Command::new("python3").args(["-c", script]).arg(bag).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn a_bag_with_hostile_names_validates_with_bagit_py_and_its_own_checker() {
    let e = Exported::new();
    let src = hostile_sources(&e.sb);
    let bag = e.bag_of(&src);
    let out = Command::new(python_tool("bagit.py")).arg("--validate").arg(&bag).output().unwrap();
    assert!(out.status.success(), "bagit.py: {}", stderr(&out));
    let map = std::fs::read_to_string(bag.join("exhibit/path-map.tsv")).unwrap();
    assert!(map.contains("/=43ON\t") && map.contains("/report~2.TXT\t"), "{map}");
    assert!(map.contains("line\\nbreak") && map.contains("/line=0Abreak\t"), "{map}");
    assert!(map.contains("/trailing=2E=20\t") && map.contains("/a=3Ab=7Cc=3Fd=2Ae\t"), "{map}");
    let info = std::fs::read_to_string(bag.join("bag-info.txt")).unwrap();
    assert!(info.contains("Source-Organization: Force\n") && info.contains("External-Identifier: C1\n"), "{info}");
    let out = e.verify_sh(&bag);
    assert_eq!(out.status.code(), Some(0), "verify.sh: {}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("stamps entry"), "no anchor was checked: {}", stdout(&out));
}

#[test]
fn the_export_is_recorded_and_a_non_empty_folder_is_refused() {
    let e = Exported::new();
    let bag = e.bag_of(&e.sb.sources());
    let ledger = e.sb.ledger("C1");
    let exported: Vec<_> = ledger.iter().filter(|(_, v)| v["action"] == "exported").collect();
    assert_eq!(exported.len(), 1, "one exported entry");
    let artefacts = e.sb.show_json("C1")["artefacts"].as_array().unwrap().len();
    assert_eq!(exported[0].1["params"]["bagit"]["files"], artefacts);
    assert_eq!(walk_files(&bag.join("data")), artefacts);
    let again = e.run(&["export", "--case", "C1", "--bagit", bag.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(2), "{}", stderr(&again));
    assert!(stderr(&again).contains("not an empty folder"), "{}", stderr(&again));
    let other = e.sb.dir.path().join("other");
    let bad = e.run(&["export", "--case", "C1", "--bagit", other.to_str().unwrap(), "--organisation", "a\nb"]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    assert!(!other.exists(), "nothing written for a refused organisation");
}

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

fn walk_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| if e.file_type().unwrap().is_dir() { walk_files(&e.path()) } else { 1 })
        .sum()
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
fn case_uco_export_passes_case_validate() {
    let e = Exported::new();
    let src = hostile_sources(&e.sb);
    e.bag_of(&src);
    let file = e.sb.dir.path().join("case.jsonld");
    let out = e.run(&["export", "--case", "C1", "--exhibit", "JS/1", "--case-uco", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    let graph = doc["@graph"].as_array().unwrap();
    let count = |t: &str| graph.iter().filter(|n| n["@type"] == t).count();
    assert!(count("uco-observable:File") >= 11, "every artefact is a File");
    assert!(count("case-investigation:InvestigativeAction") > 5 && count("case-investigation:ProvenanceRecord") > 5);
    let out = Command::new(python_tool("case_validate")).arg(&file).output().unwrap();
    assert!(out.status.success(), "case_validate: {}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("Conforms: True"), "{}", stdout(&out));
}

#[test]
fn a_damaged_object_fails_the_export_leaves_no_manifests_and_is_recorded() {
    let e = Exported::new();
    let src = e.sb.sources();
    let out = e.run(&["ingest", "--case", "C1", "--exhibit", "JS/1", "--operator", "T", src.to_str().unwrap()]);
    assert!(matches!(out.status.code(), Some(0 | 3)), "{}", stderr(&out));
    let shown = e.sb.show_json("C1");
    let statement = shown["artefacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["source"]["name"]["display"] == "statement.txt")
        .unwrap()
        .clone();
    let object = e.sb.case_dir("C1").join("objects/sha256").join(statement["digests"]["sha256"].as_str().unwrap());
    let mut bytes = std::fs::read(&object).unwrap();
    bytes[3] ^= 0x20;
    crate::common::overwrite(&object, &bytes);
    let bag = e.sb.dir.path().join("bag");
    let out = e.run(&["export", "--case", "C1", "--bagit", bag.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains(statement["id"].as_str().unwrap()), "names the artefact: {}", stderr(&out));
    assert!(!bag.join("manifest-sha256.txt").exists() && !bag.join("bagit.txt").exists());
    let last = e.sb.ledger("C1").into_iter().rfind(|(_, v)| v["action"] == "exported").unwrap().1;
    assert_eq!(last["outcome"]["status"], "failed", "{last}");
}

#[test]
fn a_rewritten_manifest_is_refused_before_anything_is_written() {
    let e = Exported::new();
    let src = e.sb.sources();
    let out = e.run(&["ingest", "--case", "C1", "--exhibit", "JS/1", "--operator", "T", src.to_str().unwrap()]);
    assert!(matches!(out.status.code(), Some(0 | 3)), "{}", stderr(&out));
    let dir = e.sb.case_dir("C1").join("artefacts");
    let manifest = std::fs::read_dir(&dir).unwrap().next().unwrap().unwrap().path();
    let mut value: serde_json::Value = serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    value["operator"] = "Someone Else".into();
    crate::common::overwrite(&manifest, &serde_json::to_vec(&value).unwrap());
    let bag = e.sb.dir.path().join("bag");
    let out = e.run(&["export", "--case", "C1", "--bagit", bag.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("the manifest was altered"), "{}", stderr(&out));
    assert!(!bag.exists(), "nothing written");
}

/// Names a file system inside an image may hold that no single file system
/// of the recipient takes as they are.
const IMAGE_NAMES: [&[u8]; 12] = [
    b"CON",
    b"aux.txt",
    b"Report.txt",
    b"report.TXT",
    b"trailing. ",
    b"a:b|c?d*e<f>g\"h\\i",
    b"100%=x",
    b"bom\xef\xbf\xbe and \xef\xbf\xbf",
    b"line\nbreak",
    b"\xe2\x80\xaegpj.exe",
    b"bad \xff\xfe utf8",
    b"...",
];

#[test]
fn files_inside_an_image_get_safe_bag_paths_and_the_map_gives_back_their_names() {
    use std::os::unix::ffi::OsStrExt;
    let e = Exported::new();
    let src = e.sb.dir.path().join("names");
    let deep = src.join((0..30).map(|i| format!("folder-{i:02}")).collect::<Vec<_>>().join("/"));
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::write(deep.join("deep.txt"), "deep").unwrap();
    let long = vec![b'L'; 250];
    for name in IMAGE_NAMES.iter().copied().chain([long.as_slice()]) {
        std::fs::write(src.join(std::ffi::OsStr::from_bytes(name)), name).unwrap();
    }
    let image = e.sb.dir.path().join("names.ext4");
    let mkfs = Command::new("mkfs.ext4").arg("-q").arg("-d").arg(&src).arg(&image).arg("4M").output().unwrap();
    assert!(mkfs.status.success(), "{}", stderr(&mkfs));
    let bag = e.bag_of(&image);
    let out = Command::new(python_tool("bagit.py")).arg("--validate").arg(&bag).output().unwrap();
    assert!(out.status.success(), "bagit.py: {}", stderr(&out));
    let out = e.verify_sh(&bag);
    assert_eq!(out.status.code(), Some(0), "verify.sh: {}", stdout(&out));

    // Every name comes back exactly from the path map, and every bag path
    // is short, inside data/, and free of characters some system refuses.
    let map = std::fs::read_to_string(bag.join("exhibit/path-map.tsv")).unwrap();
    let mut originals = std::collections::BTreeSet::new();
    for line in map.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let bag_path = cols[0];
        assert!(bag_path.starts_with("data/") && bag_path.len() <= exhibit_export::MAX_PATH_BYTES, "{bag_path}");
        assert!(!bag_path.contains(['%', ':', '\\', '\n', '*', '?', '"', '<', '>', '|']), "{bag_path}");
        assert!(bag_path.split('/').all(|c| c.len() <= 120 && c != ".." && !c.ends_with(['.', ' '])), "{bag_path}");
        assert!(bag.join(bag_path).is_file(), "{bag_path}");
        let original: Vec<u8> = match cols[3] {
            "-" => serde_json::from_str::<String>(cols[2]).unwrap().into_bytes(),
            hex => hex::decode(hex).unwrap(),
        };
        originals.insert(original);
    }
    for name in IMAGE_NAMES.iter().copied().chain([long.as_slice()]) {
        // As manifests record paths inside a volume: `\` doubled.
        let mut path = b"/".to_vec();
        for &b in name {
            path.extend_from_slice(if b == b'\\' { b"\\\\" } else { std::slice::from_ref(&b) });
        }
        assert!(originals.contains(&path), "{} is not in the map", String::from_utf8_lossy(name));
    }
    let lower: Vec<String> = map.lines().skip(1).map(|l| l.split('\t').next().unwrap().to_lowercase()).collect();
    assert_eq!(lower.len(), lower.iter().collect::<std::collections::BTreeSet<_>>().len(), "a case collision is left");
    assert!(map.contains("/long-paths/"), "the deep file moved under long-paths: {map}");
    // The image's full listing rides along as DFXML that xmllint parses.
    let dfxml = bag.join("exhibit/listings/JS/1.dfxml");
    let out = Command::new("xmllint").arg("--noout").arg(&dfxml).output().unwrap();
    assert!(out.status.success(), "xmllint: {}", stderr(&out));
    assert!(std::fs::read_to_string(&dfxml).unwrap().contains("deep.txt"));
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
        .find(|p| std::fs::read_to_string(p).unwrap().contains("\"action\":\"key-added\""))
        .unwrap();
    let text = std::fs::read_to_string(&added).unwrap();
    std::fs::write(&added, text.replace("\"operator\":\"Admin\"", "\"operator\":\"Admim\"")).unwrap();
    retag(&bag);
    let out = e.verify_sh(&bag);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("the signature does not verify"), "{}", stdout(&out));
    assert!(stdout(&out).contains("signed by a key that ALLOWED_SIGNERS does not list"), "{}", stdout(&out));
}
