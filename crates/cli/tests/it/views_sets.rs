//! Files on E01 media and on cue sheets' data tracks kept as views over
//! the stored set: the runs are media (or user-data) offsets, `get` reads
//! them back through the verified E01 chunk reads or the sector decoder,
//! and a flipped byte in a segment or a `.bin` makes verify name that
//! segment or `.bin` and exactly the views the byte breaks.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use exhibit_media_core::{FileAt, Limits, ReadAt};
use exhibit_media_sources::EwfImage;
use serde_json::Value;

use crate::common::{Sandbox, fixture, overwrite, problems, stderr};
use crate::views::manifests;

/// Copies `names` from fixture folder `dir` into a fresh source folder.
fn sources(sb: &Sandbox, dir: &str, names: &[&str]) -> PathBuf {
    let src = sb.dir.path().join("evidence");
    std::fs::create_dir_all(&src).unwrap();
    for name in names {
        std::fs::copy(fixture(dir).join(name), src.join(name)).unwrap();
    }
    src
}

fn object_path(sb: &Sandbox, case: &str, sha256: &str) -> PathBuf {
    sb.case_dir(case).join("objects/sha256").join(sha256)
}

/// The extracted artefacts kept as views whose base is decoded as `kind`;
/// none has an object of its own, and each reads back with `get` as the
/// SHA-256 recorded.
fn decoded_views(sb: &Sandbox, case: &str, kind: &str) -> Vec<Value> {
    let views: Vec<Value> = manifests(sb, case)
        .into_iter()
        .filter(|m| m["kind"] == "extracted" && m["view"]["base"]["decode"]["kind"] == kind)
        .collect();
    assert!(!views.is_empty(), "{case}: files on the {kind} base are views");
    for v in &views {
        let sha = v["digests"]["sha256"].as_str().unwrap();
        assert!(!object_path(sb, case, sha).exists(), "{case}: view {} has a copy too", v["id"]);
        let out = sb.dir.path().join("got");
        let _ = std::fs::remove_file(&out);
        let got = sb.run(&["get", "--case", case, v["id"].as_str().unwrap(), "-o", out.to_str().unwrap()]);
        assert!(got.status.success(), "get {}: {}", v["inside"]["path"]["display"], stderr(&got));
        assert_eq!(exhibit_core::Sha256Digest::of(&std::fs::read(&out).unwrap()).to_hex(), sha);
    }
    views
}

/// Decoded base offsets `[start, end)` a view's runs read.
fn base_ranges(view: &Value) -> Vec<(u64, u64)> {
    view["view"]["runs"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["base_offset"].as_u64().map(|b| (b, b + r["len"].as_u64().unwrap())))
        .collect()
}

fn touches(view: &Value, (start, end): (u64, u64)) -> bool {
    base_ranges(view).iter().any(|&(a, b)| a < end && start < b)
}

fn flip(path: &Path, byte: u64) {
    let mut bytes = std::fs::read(path).unwrap();
    bytes[byte as usize] ^= 0x5a;
    overwrite(path, &bytes);
}

fn broken(report: &Value) -> BTreeSet<String> {
    problems(report, "view-broken").iter().map(|p| p["artefact"].as_str().unwrap().to_owned()).collect()
}

fn ids<'a>(views: impl Iterator<Item = &'a Value>) -> BTreeSet<String> {
    views.map(|v| v["id"].as_str().unwrap().to_owned()).collect()
}

/// The original artefacts of a case by their source file name.
fn original(sb: &Sandbox, case: &str, name: &str) -> Value {
    manifests(sb, case)
        .into_iter()
        .find(|m| m["kind"] == "original" && m["source"]["name"]["display"] == name)
        .unwrap_or_else(|| panic!("{name} is an original of {case}"))
}

/// The E01 set as the test sees it, from the stored segment objects.
fn stored_set(paths: &[PathBuf]) -> EwfImage {
    let segments: Vec<(String, Arc<dyn ReadAt>)> = paths
        .iter()
        .map(|p| (p.display().to_string(), Arc::new(FileAt::open(p).unwrap()) as Arc<dyn ReadAt>))
        .collect();
    EwfImage::from_segments(segments, &Limits::default()).unwrap()
}

#[test]
fn files_on_an_e01_are_views_and_a_damaged_chunk_breaks_exactly_its_views() {
    let sb = Sandbox::new();
    let src = sources(&sb, "damaged", &["ntfs-best.E01"]);
    let out = sb.ingest("E01-VIEW", &src);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(sb.verify_json("E01-VIEW").0, 0);
    let views = decoded_views(&sb, "E01-VIEW", "ewf");
    let photo = views.iter().find(|v| v["inside"]["path"]["display"] == "/photo.bin").expect("photo.bin is a view");
    // $BadClus:$Bad, sparse and as long as the volume, is one sparse fill:
    // nothing read, nothing stored.
    let bad = views.iter().find(|v| v["inside"]["stream"]["display"] == "$Bad").expect("$BadClus:$Bad is a view");
    let len = bad["size"].as_u64().unwrap();
    assert!(len >= (8 << 20) - 4096, "{len}");
    assert_eq!(bad["view"]["runs"], serde_json::json!([{"file_offset": 0, "len": len, "fill": "sparse"}]));
    let stored: u64 = std::fs::read_dir(sb.case_dir("E01-VIEW").join("objects/sha256"))
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    let set_len = std::fs::metadata(src.join("ntfs-best.E01")).unwrap().len();
    assert!(stored < set_len + (64 << 10), "{stored} bytes stored for a {set_len}-byte set");
    let e01 = original(&sb, "E01-VIEW", "ntfs-best.E01");
    let e01_sha = e01["digests"]["sha256"].as_str().unwrap();
    assert_eq!(photo["view"]["base"]["sha256"], e01_sha, "the base is the E01 segment");
    // Nothing of the media is stored again: the segment, manifests and the listing.
    let segment = object_path(&sb, "E01-VIEW", e01_sha);
    let set = stored_set(std::slice::from_ref(&segment));
    let chunk = base_ranges(photo)[0].0 / set.chunk_size();
    let (seg, at, len) = set.chunk_location(chunk).unwrap();
    assert_eq!(seg, 0);
    let media = (chunk * set.chunk_size(), (chunk + 1) * set.chunk_size());
    flip(&segment, at + len / 2);
    let (code, report) = sb.verify_json("E01-VIEW");
    assert_eq!(code, 1, "{report:#}");
    let altered = problems(&report, "object-altered");
    assert_eq!(altered.len(), 1, "{report:#}");
    assert_eq!(altered[0]["sha256"], e01_sha, "the segment is named");
    let expected = ids(views.iter().filter(|v| touches(v, media)));
    assert!(expected.contains(photo["id"].as_str().unwrap()));
    assert!(expected.len() < views.len(), "some views do not read chunk {chunk}");
    assert_eq!(broken(&report), expected, "exactly the views over chunk {chunk}: {report:#}");
    for p in problems(&report, "view-broken") {
        assert_eq!(p["base_sha256"], e01_sha, "{p:#}");
        assert!(p["reason"].as_str().unwrap().contains(&format!("EWF chunk {chunk}")), "{p:#}");
    }
    // get refuses the broken view, naming the segment, and serves the others.
    let file = sb.dir.path().join("photo");
    let refused = sb.run(&["get", "--case", "E01-VIEW", photo["id"].as_str().unwrap(), "-o", file.to_str().unwrap()]);
    assert!(!refused.status.success());
    assert!(stderr(&refused).contains(e01_sha), "{}", stderr(&refused));
    let intact = views.iter().find(|v| !touches(v, media)).unwrap();
    let got = sb.run(&["get", "--case", "E01-VIEW", intact["id"].as_str().unwrap(), "-o", file.to_str().unwrap()]);
    assert!(got.status.success(), "{}", stderr(&got));
}

#[test]
fn a_damaged_later_segment_is_named_with_the_views_it_breaks() {
    let sb = Sandbox::new();
    let names = ["ewf-cut.E01", "ewf-cut.E02", "ewf-cut.E03"];
    let src = sources(&sb, "damaged", &names);
    let out = sb.ingest("E01-SEG", &src);
    assert_eq!(out.status.code(), Some(3), "truncated evidence needs attention: {}", stderr(&out));
    assert_eq!(sb.verify_json("E01-SEG").0, 0);
    let views = decoded_views(&sb, "E01-SEG", "ewf");
    let random = views.iter().find(|v| v["inside"]["path"]["display"] == "/random.bin").expect("random.bin");
    assert!(
        random["view"]["runs"].as_array().unwrap().iter().any(|r| r["fill"] == "missing"),
        "the part past the cut is a missing fill: {:#}",
        random["view"]
    );
    let shas: Vec<String> =
        names.iter().map(|n| original(&sb, "E01-SEG", n)["digests"]["sha256"].as_str().unwrap().to_owned()).collect();
    let paths: Vec<PathBuf> = shas.iter().map(|s| object_path(&sb, "E01-SEG", s)).collect();
    let set = stored_set(&paths);
    // The first chunk of random.bin that segment 2 holds.
    let (chunk, at, len) = base_ranges(random)
        .iter()
        .flat_map(|&(a, b)| (a / set.chunk_size())..b.div_ceil(set.chunk_size()))
        .find_map(|c| match set.chunk_location(c).unwrap() {
            (1, at, len) => Some((c, at, len)),
            _ => None,
        })
        .expect("random.bin runs through segment 2");
    flip(&paths[1], at + len / 2);
    let (code, report) = sb.verify_json("E01-SEG");
    assert_eq!(code, 1, "{report:#}");
    let altered = problems(&report, "object-altered");
    assert_eq!(altered.len(), 1, "{report:#}");
    assert_eq!(altered[0]["sha256"], shas[1].as_str(), "segment 2 is named");
    let media = (chunk * set.chunk_size(), (chunk + 1) * set.chunk_size());
    let expected = ids(views.iter().filter(|v| touches(v, media)));
    assert!(expected.contains(random["id"].as_str().unwrap()));
    assert_eq!(broken(&report), expected, "{report:#}");
    for p in problems(&report, "view-broken") {
        assert_eq!(p["base_sha256"], shas[1].as_str(), "the problem names segment 2: {p:#}");
    }
}

/// Where user-data byte `offset` of a track lies in its `.bin`.
fn bin_offset(decode: &Value, offset: u64) -> u64 {
    let field = |k: &str| decode[k].as_u64().unwrap();
    field("start") + (offset / 2048) * field("sector_size") + field("user_offset") + offset % 2048
}

#[test]
fn files_on_a_cue_data_track_are_views_over_the_bin() {
    let sb = Sandbox::new();
    let src = sources(&sb, "sources/cue", &["one-file.cue", "disc image.bin"]);
    let out = sb.ingest("CUE-VIEW", &src);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(sb.verify_json("CUE-VIEW").0, 0);
    let views = decoded_views(&sb, "CUE-VIEW", "cd-sectors");
    let readme = views
        .iter()
        .find(|v| v["inside"]["path"]["display"].as_str().unwrap().ends_with("README.TXT"))
        .expect("README.TXT is a view");
    let decode = &readme["view"]["base"]["decode"];
    assert_eq!((decode["sector_size"].as_u64(), decode["user_offset"].as_u64()), (Some(2352), Some(16)));
    let bin = original(&sb, "CUE-VIEW", "disc image.bin");
    let bin_sha = bin["digests"]["sha256"].as_str().unwrap();
    assert_eq!(readme["view"]["base"]["sha256"], bin_sha);
    let bin_path = object_path(&sb, "CUE-VIEW", bin_sha);

    // A byte of a sector header is no file's: the .bin is altered, no view breaks.
    let user = base_ranges(readme)[0].0 + 5;
    let header = bin_offset(decode, user) - 5 - 16 + 3;
    flip(&bin_path, header);
    let (code, report) = sb.verify_json("CUE-VIEW");
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(problems(&report, "object-altered")[0]["sha256"], bin_sha);
    assert!(broken(&report).is_empty(), "a header byte breaks no view: {report:#}");
    flip(&bin_path, header);

    // A byte of README.TXT's user data breaks exactly the views over it.
    flip(&bin_path, bin_offset(decode, user));
    let (code, report) = sb.verify_json("CUE-VIEW");
    assert_eq!(code, 1, "{report:#}");
    let expected = ids(views.iter().filter(|v| touches(v, (user, user + 1))));
    assert_eq!(broken(&report), expected, "{report:#}");
    assert!(expected.contains(readme["id"].as_str().unwrap()));
    for p in problems(&report, "view-broken") {
        assert_eq!(p["base_sha256"], bin_sha, "the .bin is named: {p:#}");
    }
}
