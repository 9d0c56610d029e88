//! Disk and disc images end to end: ingest explores every volume, stores
//! every file as an artefact linked to its image, and `exhibit listing`
//! exports what was found in the layout fiwalk writes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::common::{Sandbox, fixture, stderr};

/// Source files written into a fixture image: relative path -> SHA-256.
fn source_hashes(rel: &str) -> BTreeMap<String, String> {
    std::fs::read_to_string(fixture(rel))
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once("  "))
        .map(|(h, p)| (p.trim_start_matches("./").to_owned(), h.to_owned()))
        .collect()
}

fn ingest_image(sb: &Sandbox, case: &str, image: &Path) -> Value {
    let out = sb.ingest(case, image);
    assert!(out.status.success(), "ingest {}: {}", image.display(), stderr(&out));
    let (code, report) = sb.verify_json(case);
    assert_eq!(code, 0, "{report:#}");
    let out = sb.run(&["listing", "--case", case, "--exhibit", "JS/1", "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Allocated files of a listing: path (no leading slash) -> SHA-256.
fn allocated_files(listing: &Value) -> BTreeMap<String, String> {
    listing["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"]["type"] == "file" && e["allocated"] == true && e["stream"].is_null())
        .map(|e| {
            (
                e["path"]["display"].as_str().unwrap().trim_start_matches('/').to_owned(),
                e["digests"]["sha256"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

#[test]
fn fat_on_mbr_every_source_file_is_extracted_and_deleted_ones_flagged() {
    let sb = Sandbox::new();
    let listing = ingest_image(&sb, "FAT-1", &fixture("fat/fat16-mbr.img"));
    let files = allocated_files(&listing);
    for (path, hash) in source_hashes("fat/fat16-mbr.img.sha256") {
        if let Some(found) = files.get(&path) {
            assert_eq!(found, &hash, "{path}");
        }
    }
    let allocated_sources = source_hashes("fat/fat16-mbr.img.sha256").keys().filter(|p| files.contains_key(*p)).count();
    assert!(allocated_sources >= 3, "most source files are found: {files:?}");
    let deleted: Vec<&Value> =
        listing["entries"].as_array().unwrap().iter().filter(|e| e["allocated"] == false).collect();
    assert!(!deleted.is_empty(), "deleted entries are listed");
    let shown = sb.show_json("FAT-1");
    let extracted: Vec<&Value> =
        shown["artefacts"].as_array().unwrap().iter().filter(|a| a["kind"] == "extracted").collect();
    assert!(
        extracted.iter().any(|a| a["flags"].as_array().is_some_and(|f| f.contains(&"deleted".into()))),
        "a recovered deleted file is an artefact flagged deleted"
    );
    let image_id =
        shown["artefacts"].as_array().unwrap().iter().find(|a| a["kind"] == "original").unwrap()["id"].clone();
    assert!(extracted.iter().all(|a| a["parent"]["id"] == image_id && a["inside"]["volume"]["partition"].is_u64()));
}

#[test]
fn rerun_of_an_image_ingest_adds_nothing() {
    let sb = Sandbox::new();
    ingest_image(&sb, "ISO-1", &fixture("iso/iso.iso"));
    let before = sb.ledger("ISO-1").len();
    assert!(sb.ingest("ISO-1", &fixture("iso/iso.iso")).status.success());
    assert_eq!(sb.ledger("ISO-1").len(), before);
}

/// Our DFXML names the same files with the same sizes and hashes as
/// fiwalk's, in the same element layout.
#[test]
fn dfxml_matches_fiwalk() {
    if Command::new("fiwalk").arg("-V").output().is_err() {
        eprintln!("skipping: fiwalk (sleuthkit) is not installed");
        return;
    }
    let image = fixture("fat/fat12.img");
    let sb = Sandbox::new();
    ingest_image(&sb, "DFXML-1", &image);
    let ours = sb.run(&["listing", "--case", "DFXML-1", "--exhibit", "JS/1", "--format", "dfxml"]);
    assert!(ours.status.success(), "{}", stderr(&ours));
    let xml = sb.dir.path().join("fiwalk.xml");
    let status = Command::new("fiwalk").arg("-X").arg(&xml).arg(&image).status().unwrap();
    assert!(status.success());
    let ours = dfxml_files(&String::from_utf8(ours.stdout).unwrap());
    let theirs = dfxml_files(&std::fs::read_to_string(&xml).unwrap());
    let theirs: BTreeSet<_> =
        theirs.into_iter().filter(|f| !f.0.contains("(Volume Label Entry)") && !f.0.starts_with('$')).collect();
    // Sleuthkit cuts very long names short; the name must then be a prefix.
    for (name, size, md5) in &theirs {
        let found =
            ours.iter().any(|(n, s, m)| n.starts_with(name.as_str()) && s == size && (md5.is_empty() || m == md5));
        assert!(found, "fiwalk lists {name:?} ({size} bytes, md5 {md5}), exhibit does not; exhibit: {ours:?}");
    }
    assert!(theirs.len() >= 3, "the fixture has files: {theirs:?}");
}

/// Allocated regular files of a DFXML document: (filename, size, md5).
fn dfxml_files(xml: &str) -> BTreeSet<(String, String, String)> {
    let doc = roxmltree::Document::parse(xml).unwrap();
    let child = |n: roxmltree::Node, name: &str| {
        n.children().find(|c| c.has_tag_name(name)).and_then(|c| c.text()).unwrap_or("").to_owned()
    };
    doc.descendants()
        .filter(|n| n.has_tag_name("fileobject"))
        .filter(|n| child(*n, "name_type") == "r" && child(*n, "alloc") == "1")
        .map(|n| {
            let md5 = n
                .children()
                .find(|c| c.has_tag_name("hashdigest") && c.attribute("type") == Some("md5"))
                .and_then(|c| c.text())
                .unwrap_or("")
                .to_lowercase();
            (child(n, "filename"), child(n, "filesize"), md5)
        })
        .collect()
}

#[test]
fn csv_listing_has_a_row_per_entry() {
    let sb = Sandbox::new();
    let listing = ingest_image(&sb, "CSV-1", &fixture("fat/fat12.img"));
    let out = sb.run(&["listing", "--case", "CSV-1", "--exhibit", "JS/1", "--format", "csv"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("image,volume,path,"));
    assert_eq!(text.lines().count(), listing["entries"].as_array().unwrap().len() + 1);
}

fn events(sb: &Sandbox, case: &str, action: &str) -> Vec<Value> {
    sb.ledger(case).into_iter().map(|(_, e)| e).filter(|e| e["action"] == action).collect()
}

#[test]
fn split_e01_sets_are_verified_against_their_stored_hashes_and_explored() {
    let sb = Sandbox::new();
    let out = sb.ingest("EWF-1", &fixture("sources/ewf"));
    assert!(out.status.success(), "{}", stderr(&out));
    let verified = events(&sb, "EWF-1", "verified");
    assert_eq!(verified.len(), 2, "one verification per E01 set (split and stream)");
    let split = verified.iter().find(|e| e["params"]["segments"].as_array().unwrap().len() == 3).unwrap();
    let expected_md5 = std::fs::read_to_string(fixture("sources/ewf/split.md5")).unwrap();
    assert_eq!(split["params"]["computed"]["md5"], expected_md5.split_whitespace().next().unwrap());
    assert_eq!(split["params"]["md5_matches"], true);
    assert_eq!(split["params"]["metadata"]["examiner"].as_str().map(str::is_empty), Some(false));
    let explored = events(&sb, "EWF-1", "explored");
    assert!(explored.iter().any(|e| e["params"]["volumes"][0]["fs"] == "fat12"), "{explored:?}");
    let (code, report) = sb.verify_json("EWF-1");
    assert_eq!(code, 0, "{report:#}");
}

#[test]
fn cue_sheet_data_track_is_explored_and_audio_becomes_wav() {
    let sb = Sandbox::new();
    let src = sb.dir.path().join("disc");
    std::fs::create_dir(&src).unwrap();
    for name in ["two-files.cue", "data track.bin", "audio.bin"] {
        std::fs::copy(fixture("sources/cue").join(name), src.join(name)).unwrap();
    }
    let listing = ingest_image(&sb, "CUE-1", &src);
    let entries = listing["entries"].as_array().unwrap();
    let wav =
        entries.iter().find(|e| e["path"]["display"] == "/track02.wav").expect("the audio track is a WAV artefact");
    assert!(wav["artefact"].is_string());
    assert!(listing["volumes"].as_array().unwrap().iter().any(|v| v["fs"] == "iso9660" && v["medium"] == "track 01"));
    let shown = sb.show_json("CUE-1");
    let wav_manifest = shown["artefacts"].as_array().unwrap().iter().find(|a| a["id"] == wav["artefact"]).unwrap();
    assert_eq!(wav_manifest["media_type"]["mime"], "audio/x-wav");
}

/// Corpus: the dfvfs split E01 holds an ext2 volume; its stored MD5 is
/// checked and `/passwords.txt` comes out byte for byte.
#[test]
fn corpus_split_e01_with_ext2() {
    let Some(corpus) = exhibit_testkit::corpus_dir() else { return };
    let dir = corpus.join("dfvfs");
    let sb = Sandbox::new();
    let out = sb.run(&[
        "ingest",
        "--case",
        "CORPUS-1",
        "--exhibit",
        "DF/1",
        "--operator",
        "Test",
        dir.join("ext2.split.E01").to_str().unwrap(),
        dir.join("ext2.split.E02").to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let verified = events(&sb, "CORPUS-1", "verified");
    assert_eq!(verified[0]["params"]["stored"]["md5"], "196066add11fb71c4c49cf1bb50d6d24");
    assert_eq!(verified[0]["params"]["md5_matches"], true);
    let out = sb.run(&["listing", "--case", "CORPUS-1", "--exhibit", "DF/1", "--format", "json"]);
    let listing: Value = serde_json::from_slice(&out.stdout).unwrap();
    let passwords =
        listing["entries"].as_array().unwrap().iter().find(|e| e["path"]["display"] == "/passwords.txt").unwrap();
    let content = "place,user,password\nbank,joesmith,superrich\nalarm system,-,1234\ntreasure chest,-,1111\nuber secret laire,admin,admin\n";
    assert_eq!(passwords["size"], 116);
    assert_eq!(passwords["digests"]["sha256"], exhibit_core::Sha256Digest::of(content.as_bytes()).to_hex());
}

/// Names with `/`, control bytes, invalid UTF-8 and 255 bytes inside an
/// image are data: every file exhibit writes is under the store, at a key
/// of the fixed layout, and the working folder is left untouched.
#[test]
fn hostile_names_never_reach_the_host_file_system() {
    let sb = Sandbox::new();
    let work = sb.dir.path().join("cwd");
    std::fs::create_dir(&work).unwrap();
    let out = sb
        .exhibit()
        .current_dir(&work)
        .args(["ingest", "--case", "NAMES-1", "--exhibit", "JS/1", "--operator", "Test"])
        .arg(fixture("iso/iso.iso"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read_dir(&work).unwrap().count(), 0, "nothing is written in the working folder");
    let layout = |rel: &str| {
        let parts: Vec<&str> = rel.split('/').collect();
        match parts.as_slice() {
            ["cases", "NAMES-1", "objects", "sha256", hex] => {
                hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())
            }
            ["cases", "NAMES-1", "artefacts", name] => name.len() == 37 && name.ends_with(".json"),
            ["cases", "NAMES-1", "ledger", name] => name.len() == 25 && name.ends_with(".json"),
            ["cases", "NAMES-1", "runs", run, "jobs", job] => {
                run.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') && job.len() == 64
            }
            _ => false,
        }
    };
    let data = sb.data();
    for entry in walk(&data) {
        let rel = entry.strip_prefix(&data).unwrap().to_str().unwrap().to_owned();
        assert!(layout(&rel), "unexpected file in the store: {rel}");
    }
    let listing = sb.run(&["listing", "--case", "NAMES-1", "--exhibit", "JS/1", "--format", "json"]);
    let listing: Value = serde_json::from_slice(&listing.stdout).unwrap();
    let raw: Vec<&Value> =
        listing["entries"].as_array().unwrap().iter().filter(|e| e["path"]["bytes_hex"].is_string()).collect();
    assert!(!raw.is_empty(), "names that are not UTF-8 keep their exact bytes");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.file_name().is_some_and(|n| n == ".tmp") {
            assert_eq!(std::fs::read_dir(&path).unwrap().count(), 0, "no temporary files are left");
        } else if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}
