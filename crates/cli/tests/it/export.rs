//! `exhibit export`: bags that bagit.py and their own `verify.sh` accept,
//! CASE/UCO JSON-LD that case_validate accepts, refusals, and the helpers
//! the other export tests share.

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

fn walk_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .map(|e| if e.file_type().unwrap().is_dir() { walk_files(&e.path()) } else { 1 })
        .sum()
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

#[test]
fn an_unknown_case_or_exhibit_and_a_bag_inside_the_store_are_refused_and_nothing_is_made() {
    let e = Exported::new();
    let bag = e.bag_of(&e.sb.sources());
    let cases = |sb: &Sandbox| walk_files(&sb.data());
    let before = cases(&e.sb);
    let other = e.sb.dir.path().join("other");
    let nope = e.run(&["export", "--case", "NOPE", "--bagit", other.to_str().unwrap()]);
    assert_eq!(nope.status.code(), Some(2), "{}", stderr(&nope));
    assert!(stderr(&nope).contains("holds no case NOPE"), "{}", stderr(&nope));
    let exhibit = e.run(&["export", "--case", "C1", "--exhibit", "JS/9", "--bagit", other.to_str().unwrap()]);
    assert_eq!(exhibit.status.code(), Some(2), "{}", stderr(&exhibit));
    assert!(stderr(&exhibit).contains("records no exhibit JS/9"), "{}", stderr(&exhibit));
    let children = std::fs::read_dir(e.sb.data()).unwrap().map(|d| d.unwrap().path());
    let store = std::iter::once(e.sb.data()).chain(children).find(|p| p.join("cases").is_dir());
    let inside = store.expect("a store folder holding cases/").join("cases/bag");
    let refused = e.run(&["export", "--case", "C1", "--bagit", inside.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    assert!(stderr(&refused).contains("is inside the store"), "{}", stderr(&refused));
    assert!(!other.exists() && !inside.exists(), "no bag folder was made");
    assert_eq!(cases(&e.sb), before, "nothing was added to the store");
    // The bag made earlier carries its integrity report without --report.
    let report = std::fs::read_to_string(bag.join("exhibit/report.html")).unwrap();
    assert!(report.contains("C1") && report.contains("<html"), "{report}");
    let tags = std::fs::read_to_string(bag.join("tagmanifest-sha256.txt")).unwrap();
    assert!(tags.contains("  exhibit/report.html\n"), "{tags}");
}

#[test]
fn an_exhibit_export_holds_that_exhibit_and_its_checker_accepts_it() {
    let e = Exported::new();
    let src = e.sb.sources();
    let out = e.run(&["ingest", "--case", "C1", "--exhibit", "JS/1", "--operator", "T", src.to_str().unwrap()]);
    assert!(matches!(out.status.code(), Some(0 | 3)), "{}", stderr(&out));
    let extra = e.sb.dir.path().join("second");
    std::fs::create_dir_all(&extra).unwrap();
    std::fs::write(extra.join("note.txt"), "second exhibit\n").unwrap();
    let out = e.run(&["ingest", "--case", "C1", "--exhibit", "JS/2", "--operator", "T", extra.to_str().unwrap()]);
    assert!(matches!(out.status.code(), Some(0 | 3)), "{}", stderr(&out));
    let bag = e.sb.dir.path().join("bag");
    let out = e.run(&["export", "--case", "C1", "--exhibit", "js/2", "--bagit", bag.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let info = std::fs::read_to_string(bag.join("bag-info.txt")).unwrap();
    assert!(info.contains("Exhibit-Scope: exhibit\n") && info.contains("Exhibit-Exhibit: JS/2\n"), "{info}");
    assert!(!info.contains("Exhibit-Exhibit: JS/1"), "{info}");
    let out = e.verify_sh(&bag);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("OK: case C1:"), "{}", stdout(&out));
}
