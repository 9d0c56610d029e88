//! Issue 11's failures, on fixtures made by `scripts/fixtures/damaged.sh`
//! with real tools: a compressed E01 whose NTFS `$BadClus` is sparse and as
//! long as the volume, media cut short (a raw FAT16 image, an E01 set), one
//! bad record in an otherwise good image, a bomb, and deleted ext2 names.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::common::{Sandbox, stderr};

fn damaged(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/damaged").join(name)
}

/// Copies `names` from the fixtures into a fresh source folder.
fn sources(sb: &Sandbox, names: &[&str]) -> PathBuf {
    let src = sb.dir.path().join("evidence");
    std::fs::create_dir_all(&src).unwrap();
    for name in names {
        std::fs::copy(damaged(name), src.join(name)).unwrap();
    }
    src
}

fn listing(sb: &Sandbox, case: &str) -> Vec<Value> {
    let out = sb.run(&["listing", "--case", case, "--exhibit", "JS/1", "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["entries"].as_array().unwrap().clone()
}

fn entry<'a>(entries: &'a [Value], path: &str) -> &'a Value {
    entries
        .iter()
        .find(|e| e["path"]["display"] == path && e["stream"].is_null())
        .unwrap_or_else(|| panic!("{path} is not listed: {entries:#?}"))
}

/// SHA-256 as coreutils' `sha256sum` computes it.
fn sha256_hex(bytes: &[u8]) -> String {
    let mut child = Command::new("sha256sum").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().expect("sha256sum");
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout).unwrap().split_whitespace().next().unwrap().to_owned()
}

fn get(sb: &Sandbox, case: &str, id: &str) -> Vec<u8> {
    let file = sb.dir.path().join(format!("get-{id}"));
    let out = sb.run(&["get", "--case", case, id, "-o", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    std::fs::read(file).unwrap()
}

/// The intact files a fixture's script names.
fn intact(list: &str) -> Vec<String> {
    std::fs::read_to_string(damaged(list)).unwrap().lines().map(|l| format!("/{l}")).collect()
}

/// What the operator saw: the summary table (stdout), then stderr.
fn seen(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(out))
}

/// Truncated or damaged evidence is done but needs a person: exit 3.
fn assert_needs_attention(out: &Output) {
    assert_eq!(out.status.code(), Some(3), "{}", seen(out));
}

/// No evidence fault may be retried as transient or sent to the disk.
fn assert_no_disk_advice(out: &Output) {
    let err = stderr(out);
    assert!(!err.contains("check the disk") && !err.contains("retrying"), "{err}");
}

fn seeded(seed: u32, len: usize) -> Vec<u8> {
    let code = format!("import random,sys; sys.stdout.buffer.write(random.Random({seed}).randbytes({len}))");
    let out = Command::new("python3").args(["-c", &code]).output().expect("python3");
    assert!(out.status.success());
    out.stdout
}

fn manifest(sb: &Sandbox, case: &str, id: &Value) -> Value {
    let shown = sb.show_json(case);
    shown["artefacts"].as_array().unwrap().iter().find(|a| a["id"] == *id).cloned().expect("manifest")
}

#[test]
fn compressed_ntfs_e01_is_measured_by_its_media_and_sparse_runs_are_recorded() {
    let sb = Sandbox::new();
    let src = sources(&sb, &["ntfs-best.E01"]);
    assert!(std::fs::metadata(src.join("ntfs-best.E01")).unwrap().len() < 1 << 20, "the set is compressed");
    let out = sb.ingest("NTFS-E01", &src);
    assert!(out.status.success(), "{}", stderr(&out));
    let entries = listing(&sb, "NTFS-E01");
    for name in intact("ntfs-best.files") {
        assert!(entry(&entries, &name)["artefact"].is_string(), "{name}");
    }
    assert_eq!(entry(&entries, "/statement.txt")["digests"]["sha256"], sha256_hex(b"statement on an NTFS volume\n"));
    assert_eq!(entry(&entries, "/photo.bin")["digests"]["sha256"], sha256_hex(&seeded(11, 20000)));
    let bad = entries
        .iter()
        .find(|e| e["path"]["display"] == "/$BadClus" && e["stream"]["display"] == "$Bad")
        .expect("$BadClus:$Bad is listed");
    let len = bad["size"].as_u64().unwrap();
    assert!(len >= (8 << 20) - 4096, "as long as the volume: {len}");
    assert_eq!(bad["sparse"], serde_json::json!([[0, len]]));
    let m = manifest(&sb, "NTFS-E01", &bad["artefact"]);
    assert_eq!(m["inside"]["sparse"], serde_json::json!([[0, len]]));
    assert!(m["flags"].as_array().unwrap().contains(&"sparse".into()));
    assert!(entries.iter().all(|e| e["error"].is_null()), "nothing failed");
    let (code, report) = sb.verify_json("NTFS-E01");
    assert_eq!(code, 0, "{report:#}");
}

#[test]
fn a_cut_fat16_image_keeps_what_exists_and_records_what_is_missing() {
    let sb = Sandbox::new();
    let src = sources(&sb, &["fat16-cut.img"]);
    let out = sb.ingest("FAT-CUT", &src);
    assert_needs_attention(&out);
    assert_no_disk_advice(&out);
    let err = seen(&out);
    assert!(err.contains("- truncated: ") && err.contains("fat16-cut.img") && err.contains("/big.bin"), "{err}");
    let entries = listing(&sb, "FAT-CUT");
    for name in intact("fat16-cut.img.files") {
        let e = entry(&entries, &name);
        assert!(e["missing"].as_array().unwrap().is_empty(), "{name} is whole");
    }
    assert_eq!(entry(&entries, "/second.bin")["digests"]["sha256"], sha256_hex(&seeded(16, 20000)));
    // big.bin is cut: the bytes that exist are its own, the rest is
    // recorded as missing and reads as zeros.
    let big = entry(&entries, "/big.bin");
    let missing = big["missing"].as_array().unwrap();
    assert_eq!(missing.len(), 1, "{big:#}");
    let (from, to) = (missing[0][0].as_u64().unwrap() as usize, missing[0][1].as_u64().unwrap() as usize);
    assert_eq!(to, 200_000);
    assert!(from > 0 && from < to, "{from}");
    let bytes = get(&sb, "FAT-CUT", big["artefact"].as_str().unwrap());
    assert_eq!(bytes.len(), 200_000);
    assert_eq!(bytes[..from], seeded(17, 200_000)[..from]);
    assert!(bytes[from..].iter().all(|&b| b == 0));
    let m = manifest(&sb, "FAT-CUT", &big["artefact"]);
    assert!(m["flags"].as_array().unwrap().contains(&"truncated".into()), "{m:#}");
    assert_eq!(m["inside"]["missing"], big["missing"]);
    let tail = entry(&entries, "/tail.txt");
    assert!(tail["artefact"].is_string() && !tail["missing"].as_array().unwrap().is_empty());
    // LATER's own cluster lies past the cut: the folder is listed, and the
    // walk that could not enter it is part of the truncation, not a failure.
    assert_eq!(entry(&entries, "/LATER")["kind"]["type"], "directory");
    assert!(err.contains("volume 0 (fat16): the walk ended early") && !err.contains("failed: "), "{err}");
    let (code, report) = sb.verify_json("FAT-CUT");
    assert_eq!(code, 0, "{report:#}");
    let notes = report["notes"].as_array().unwrap();
    let note = notes.iter().find(|n| n["kind"] == "truncated").expect("verify names the truncated image");
    assert!(note["text"].as_str().unwrap().contains("fat16-cut.img"), "{note}");
    assert_eq!(note["files"], serde_json::json!(["/big.bin", "/tail.txt"]));
    let shown = sb.run(&["show", "--case", "FAT-CUT"]);
    let text = String::from_utf8_lossy(&shown.stdout);
    assert!(text.contains("truncated: image ") && text.contains("/big.bin"), "{text}");
}

#[test]
fn an_e01_set_with_its_last_segment_cut_is_read_as_far_as_it_goes() {
    let sb = Sandbox::new();
    let src = sources(&sb, &["ewf-cut.E01", "ewf-cut.E02", "ewf-cut.E03"]);
    let out = sb.ingest("EWF-CUT", &src);
    assert_needs_attention(&out);
    assert_no_disk_advice(&out);
    assert!(seen(&out).contains("the E01 set declares 3145728 bytes of media"), "{}", seen(&out));
    let entries = listing(&sb, "EWF-CUT");
    assert_eq!(entry(&entries, "/early.txt")["digests"]["sha256"], sha256_hex(b"first file\n"));
    for cut in ["/random.bin", "/late.txt"] {
        let e = entry(&entries, cut);
        assert!(e["artefact"].is_string() && !e["missing"].as_array().unwrap().is_empty(), "{e:#}");
    }
    let verified: Vec<Value> =
        sb.ledger("EWF-CUT").into_iter().map(|(_, e)| e).filter(|e| e["action"] == "verified").collect();
    assert_eq!(verified.len(), 1);
    assert_eq!(verified[0]["params"]["truncated"]["declared"], 3_145_728);
    assert!(verified[0]["outcome"].get("failed").is_none(), "{:#}", verified[0]);
    let (code, report) = sb.verify_json("EWF-CUT");
    assert_eq!(code, 0, "{report:#}");
    assert!(report["notes"].as_array().unwrap().iter().any(|n| n["kind"] == "truncated"), "{report:#}");
}

/// Ingests a crafted image; every good file comes out, and the bad record
/// is listed with its reason and recorded as failed without retries.
fn crafted(name: &str, bad: &str) -> Vec<Value> {
    let sb = Sandbox::new();
    let src = sources(&sb, &[name]);
    let out = sb.ingest("CRAFTED", &src);
    assert_no_disk_advice(&out);
    let entries = listing(&sb, "CRAFTED");
    for good in intact(&format!("{name}.files")) {
        let e = entry(&entries, &good);
        assert!(e["artefact"].is_string() && e["error"].is_null(), "{good}: {e:#}");
    }
    let bad_entry = entry(&entries, bad);
    assert!(bad_entry["artefact"].is_null(), "{bad_entry:#}");
    let why = bad_entry["error"].as_str().expect("the bad record has a reason");
    assert!(seen(&out).contains(why), "{}", seen(&out));
    assert_needs_attention(&out);
    let (code, report) = sb.verify_json("CRAFTED");
    assert_eq!(code, 0, "{report:#}");
    entries
}

#[test]
fn an_iso_extent_far_past_the_image_fails_that_file_only() {
    let entries = crafted("iso-bad-extent.iso", "/BAD.TXT");
    let why = entry(&entries, "/BAD.TXT")["error"].as_str().unwrap().to_owned();
    assert!(why.contains("corrupt record") && why.contains("outside"), "{why}");
}

#[test]
fn a_looping_fat_chain_with_a_huge_size_fails_that_file_only() {
    crafted("fat-loop.img", "/LOOP.BIN");
}

#[test]
fn an_oversized_iso_root_lists_only_what_the_root_holds() {
    let sb = Sandbox::new();
    let src = sources(&sb, &["iso-big-root.iso"]);
    let out = sb.ingest("BIG-ROOT", &src);
    assert!(out.status.success(), "{}", stderr(&out));
    let entries = listing(&sb, "BIG-ROOT");
    let mut names: Vec<&str> = entries.iter().map(|e| e["path"]["display"].as_str().unwrap()).collect();
    names.sort_unstable();
    let mut expected: Vec<String> = intact("iso-big-root.iso.files");
    expected.push("/SUB".into());
    expected.sort_unstable();
    assert_eq!(names, expected, "11 files and one folder, nothing read from past the root");
}

#[test]
fn a_bomb_of_repeated_extents_is_still_refused() {
    let sb = Sandbox::new();
    let src = sources(&sb, &["iso-bomb.iso"]);
    let image = std::fs::metadata(src.join("iso-bomb.iso")).unwrap().len();
    let out = sb.ingest("BOMB", &src);
    // The reader marks each record whose extents repeat data as damaged:
    // hostile evidence a rerun cannot change, so it needs a person (exit
    // 3), with the limit named.
    assert_needs_attention(&out);
    assert!(
        seen(&out).contains("- damaged-record: ") && seen(&out).contains("limits.max_expansion_ratio"),
        "{}",
        seen(&out)
    );
    let entries = listing(&sb, "BOMB");
    let stored: u64 = entries.iter().filter(|e| e["artefact"].is_string()).map(|e| e["size"].as_u64().unwrap()).sum();
    assert!(stored <= 4 * image.max(1 << 20), "{stored} bytes stored from a {image}-byte image");
    assert!(entries.iter().filter(|e| e["error"].is_string()).count() >= 5, "the rest is refused, one by one");
}

/// Every name sleuthkit's `fls -r` prints, deleted ones included, is in the
/// listing; deleted files' content equals what `icat` reads.
#[test]
fn deleted_ext2_names_are_listed_with_the_content_icat_reads() {
    if Command::new("fls").arg("-V").output().is_err() {
        eprintln!("skipping: fls (sleuthkit) is not installed");
        return;
    }
    let sb = Sandbox::new();
    let src = sources(&sb, &["ext2-deleted.img"]);
    let out = sb.ingest("EXT-DEL", &src);
    assert!(out.status.success(), "{}", stderr(&out));
    let entries = listing(&sb, "EXT-DEL");
    let fls = Command::new("fls").args(["-r", "-p"]).arg(damaged("ext2-deleted.img")).output().unwrap();
    let fls = String::from_utf8(fls.stdout).unwrap();
    let mut deleted = 0;
    for line in fls.lines().filter(|l| !l.contains("$OrphanFiles")) {
        let (head, name) = line.split_once(":\t").unwrap();
        let e = entry(&entries, &format!("/{name}"));
        if head.contains(" * ") {
            deleted += 1;
            assert_eq!(e["allocated"], false, "{name}");
            let inode = head.rsplit(' ').next().unwrap();
            let icat = Command::new("icat").arg(damaged("ext2-deleted.img")).arg(inode).output().unwrap();
            assert_eq!(e["digests"]["sha256"], sha256_hex(&icat.stdout), "{name}");
        }
    }
    assert_eq!(deleted, 3, "{fls}");
    let (code, report) = sb.verify_json("EXT-DEL");
    assert_eq!(code, 0, "{report:#}");
}

/// A `.bin` shorter than its cue sheet (cut with `head -c` inside the data
/// track) is truncated evidence: ingest exits 3 with an attention line
/// naming the cut, and verify is clean and notes it.
#[test]
fn a_bin_shorter_than_its_cue_sheet_is_a_warning_not_a_failure() {
    let sb = Sandbox::new();
    let cue = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/sources/cue");
    let src = sb.dir.path().join("disc");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::copy(cue.join("one-file.cue"), src.join("one-file.cue")).unwrap();
    let bin = std::fs::read(cue.join("disc image.bin")).unwrap();
    std::fs::write(src.join("disc image.bin"), &bin[..100 * 2352 + 1000]).unwrap();
    let out = sb.ingest("CUE-CUT", &src);
    assert_needs_attention(&out);
    assert_no_disk_advice(&out);
    let err = seen(&out);
    assert!(err.contains("- truncated: ") && err.contains("TRACK 02") && err.contains("by the cue sheet"), "{err}");
    let (code, report) = sb.verify_json("CUE-CUT");
    assert_eq!(code, 0, "{report:#}");
    assert!(report["notes"].as_array().unwrap().iter().any(|n| n["kind"] == "truncated"), "{report:#}");
}
