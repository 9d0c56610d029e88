//! Files inside images kept as views into the stored image: read back by
//! `get` with the bytes the file system holds, no second copy stored, a
//! flipped image byte breaking exactly the views over it, nested images,
//! the copy policy, and `dd` + `sha256sum` from the DFXML listing alone.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{Sandbox, fat_image_holding, fixture, overwrite, problems, stderr};

fn sha256_hex(bytes: &[u8]) -> String {
    exhibit_core::Sha256Digest::of(bytes).to_hex()
}

/// Every manifest of a case, parsed.
pub fn manifests(sb: &Sandbox, case: &str) -> Vec<Value> {
    let dir = sb.case_dir(case).join("artefacts");
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| serde_json::from_slice(&std::fs::read(e.unwrap().path()).unwrap()).unwrap())
        .collect()
}

pub fn object_path(sb: &Sandbox, case: &str, sha256: &str) -> PathBuf {
    sb.case_dir(case).join("objects/sha256").join(sha256)
}

/// The extracted artefacts of a case kept as views; asserts that none of
/// them has an object of its own and that there is at least one.
pub fn assert_views_only(sb: &Sandbox, case: &str) -> Vec<Value> {
    let views: Vec<Value> =
        manifests(sb, case).into_iter().filter(|m| m["kind"] == "extracted" && !m["view"].is_null()).collect();
    assert!(!views.is_empty(), "{case}: files in the image are views");
    for v in &views {
        let sha = v["digests"]["sha256"].as_str().unwrap();
        assert!(!object_path(sb, case, sha).exists() || v["size"] == 0, "{case}: view {} has a copy too", v["id"]);
    }
    views
}

pub fn get(sb: &Sandbox, case: &str, id: &str) -> std::process::Output {
    let out = sb.dir.path().join(format!("get-{id}"));
    let _ = std::fs::remove_file(&out);
    let res = sb.run(&["get", "--case", case, id, "-o", out.to_str().unwrap()]);
    if res.status.success() {
        let bytes = std::fs::read(&out).unwrap();
        return std::process::Output { stdout: bytes, ..res };
    }
    res
}

fn ingest_clean(sb: &Sandbox, case: &str, image: &Path) {
    let out = sb.ingest(case, image);
    assert!(out.status.success(), "ingest {}: {}", image.display(), stderr(&out));
    let (code, report) = sb.verify_json(case);
    assert_eq!(code, 0, "{report:#}");
}

#[test]
fn files_in_an_image_are_views_and_get_returns_their_bytes() {
    let sb = Sandbox::new();
    let image = fixture("fat/fat16-mbr.img");
    ingest_clean(&sb, "VIEW-1", &image);
    let views = assert_views_only(&sb, "VIEW-1");
    let sources: BTreeSet<String> = std::fs::read_to_string(fixture("fat/fat16-mbr.img.sha256"))
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect();
    let mut from_sources = 0;
    for v in &views {
        let out = get(&sb, "VIEW-1", v["id"].as_str().unwrap());
        assert!(out.status.success(), "get {}: {}", v["id"], stderr(&out));
        let sha = sha256_hex(&out.stdout);
        assert_eq!(sha, v["digests"]["sha256"].as_str().unwrap(), "get of view {}", v["inside"]["path"]);
        from_sources += usize::from(sources.contains(&sha));
    }
    assert!(from_sources >= 3, "the source files come back byte for byte: {from_sources}");
    // Stored: the image, the listing and manifests; never the files again.
    let objects: u64 = std::fs::read_dir(sb.case_dir("VIEW-1").join("objects/sha256"))
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    let image_len = std::fs::metadata(&image).unwrap().len();
    assert!(objects < image_len + image_len / 100, "{objects} bytes stored for a {image_len}-byte image");
}

#[test]
fn the_copy_policy_stores_files_as_objects() {
    let sb = Sandbox::new();
    let out = sb
        .exhibit()
        .env("EXHIBIT__EXPLORE__STORE", "copy")
        .args(["ingest", "--case", "COPY-1", "--exhibit", "JS/1", "--operator", "T"])
        .arg(fixture("fat/fat12.img"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let extracted: Vec<Value> = manifests(&sb, "COPY-1").into_iter().filter(|m| m["kind"] == "extracted").collect();
    assert!(!extracted.is_empty());
    for m in &extracted {
        assert!(m["view"].is_null(), "copy policy: {m:#}");
        assert!(object_path(&sb, "COPY-1", m["digests"]["sha256"].as_str().unwrap()).exists());
    }
    assert_eq!(sb.verify_json("COPY-1").0, 0);
}

/// Image byte offsets `[start, end)` a view's runs read.
pub fn base_ranges(view: &Value) -> Vec<(u64, u64)> {
    view["view"]["runs"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["base_offset"].as_u64().map(|b| (b, b + r["len"].as_u64().unwrap())))
        .collect()
}

pub fn covers(view: &Value, byte: u64) -> bool {
    base_ranges(view).iter().any(|&(a, b)| a <= byte && byte < b)
}

/// Flips `byte` of the stored object `sha256`.
pub fn flip(sb: &Sandbox, case: &str, sha256: &str, byte: u64) {
    let path = object_path(sb, case, sha256);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[byte as usize] ^= 0x5a;
    overwrite(&path, &bytes);
}

pub fn broken_views(report: &Value) -> BTreeSet<String> {
    problems(report, "view-broken").iter().map(|p| p["artefact"].as_str().unwrap().to_owned()).collect()
}

#[test]
fn a_flipped_image_byte_breaks_exactly_the_views_over_it() {
    let sb = Sandbox::new();
    ingest_clean(&sb, "FLIP-1", &fixture("fat/fat12.img"));
    let views = assert_views_only(&sb, "FLIP-1");
    let image = manifests(&sb, "FLIP-1").into_iter().find(|m| m["kind"] == "original").unwrap();
    let image_sha = image["digests"]["sha256"].as_str().unwrap().to_owned();
    let target = views.iter().find(|v| !base_ranges(v).is_empty() && v["size"].as_u64() > Some(16)).unwrap();
    let byte = base_ranges(target)[0].0 + 7;
    flip(&sb, "FLIP-1", &image_sha, byte);
    let (code, report) = sb.verify_json("FLIP-1");
    assert_ne!(code, 0, "{report:#}");
    let altered = problems(&report, "object-altered");
    assert_eq!(altered.len(), 1, "{report:#}");
    assert_eq!(altered[0]["sha256"], image_sha.as_str(), "the image is named");
    let expected: BTreeSet<String> =
        views.iter().filter(|v| covers(v, byte)).map(|v| v["id"].as_str().unwrap().to_owned()).collect();
    assert!(expected.contains(target["id"].as_str().unwrap()));
    assert_eq!(broken_views(&report), expected, "exactly the views over byte {byte}: {report:#}");
    for p in problems(&report, "view-broken") {
        assert_eq!(p["base_sha256"], image_sha.as_str(), "each names the image");
    }
    // get refuses the broken view and still serves the others.
    let refused = get(&sb, "FLIP-1", target["id"].as_str().unwrap());
    assert!(!refused.status.success());
    let message = stderr(&refused);
    assert!(message.contains(&image_sha) && message.contains(target["id"].as_str().unwrap()), "{message}");
    assert!(!message.contains("artefacts/"), "the manifest is not to blame: {message}");
    let intact = views.iter().find(|v| !covers(v, byte)).unwrap();
    assert!(get(&sb, "FLIP-1", intact["id"].as_str().unwrap()).status.success());
}

/// A FAT image holding the ISO fixture: an image inside an image.
fn fat_with_iso(sb: &Sandbox) -> PathBuf {
    fat_image_holding(sb.dir.path(), "outer.img", "0badcafe", ("iso/iso.iso", "::/INNER.ISO"))
}

#[test]
fn an_image_inside_an_image_is_explored_through_its_view() {
    let sb = Sandbox::new();
    ingest_clean(&sb, "NEST-1", &fat_with_iso(&sb));
    let all = manifests(&sb, "NEST-1");
    let inner = all.iter().find(|m| m["inside"]["path"]["display"] == "/INNER.ISO").expect("the ISO is extracted");
    assert!(!inner["view"].is_null(), "the nested image is a view");
    let inner_id = inner["id"].as_str().unwrap();
    // Empty files have no runs; they are stored as the empty object.
    let nested: Vec<&Value> =
        all.iter().filter(|m| m["parent"]["id"] == inner_id && m["kind"] == "extracted" && m["size"] != 0).collect();
    assert!(!nested.is_empty(), "files of the nested ISO are extracted");
    let expected: BTreeSet<String> = String::from_utf8_lossy(&std::fs::read(fixture("iso/iso.sha256")).unwrap())
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect();
    let mut matched = 0;
    for m in &nested {
        assert_eq!(m["view"]["base"]["artefact"], inner_id, "a view on the nested view: {m:#}");
        let out = get(&sb, "NEST-1", m["id"].as_str().unwrap());
        assert!(out.status.success(), "{}", stderr(&out));
        matched += usize::from(expected.contains(&sha256_hex(&out.stdout)));
    }
    assert!(matched >= 3, "the ISO's files come back byte for byte: {matched}");
    // A byte of the outer image under a nested file breaks the ISO's view
    // and that file's view.
    let outer = all.iter().find(|m| m["kind"] == "original").unwrap();
    let file = nested.iter().find(|m| !base_ranges(m).is_empty()).unwrap();
    let in_iso = base_ranges(file)[0].0;
    let runs = inner["view"]["runs"].as_array().unwrap();
    let run = runs
        .iter()
        .find(|r| {
            let (f, l) = (r["file_offset"].as_u64().unwrap(), r["len"].as_u64().unwrap());
            f <= in_iso && in_iso < f + l && r["base_offset"].is_u64()
        })
        .unwrap();
    let byte = run["base_offset"].as_u64().unwrap() + (in_iso - run["file_offset"].as_u64().unwrap());
    flip(&sb, "NEST-1", outer["digests"]["sha256"].as_str().unwrap(), byte);
    let (code, report) = sb.verify_json("NEST-1");
    assert_ne!(code, 0);
    let broken = broken_views(&report);
    assert!(broken.contains(inner_id), "the nested image's view: {report:#}");
    assert!(broken.contains(file["id"].as_str().unwrap()), "the file inside it: {report:#}");
    assert_eq!(broken.len(), 2, "nothing else: {report:#}");
}

#[test]
fn derivatives_of_views_are_made_and_reproduced_through_the_view_reader() {
    let sb = Sandbox::new();
    let image = fat_image_holding(sb.dir.path(), "media.img", "0badf00d", ("media/mpeg4_mp3.avi", "::/CLIP.AVI"));
    ingest_clean(&sb, "DERIV-1", &image);
    let all = manifests(&sb, "DERIV-1");
    let clip = all.iter().find(|m| m["inside"]["path"]["display"] == "/CLIP.AVI").unwrap();
    assert!(!clip["view"].is_null(), "the video is a view");
    let derived: Vec<&Value> =
        all.iter().filter(|m| m["kind"] == "derivative" && m["parent"]["id"] == clip["id"]).collect();
    let access =
        derived.iter().find(|d| d["derivation"]["rule"] == "video-access").expect("an access copy of the view");
    let out = sb.run(&["reproduce", "--case", "DERIV-1", "--artefact", access["id"].as_str().unwrap()]);
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("reproduced identically"));
    // No copy of the view was left in the store by the stages that read it.
    assert!(!object_path(&sb, "DERIV-1", clip["digests"]["sha256"].as_str().unwrap()).exists());
}

/// Runs `exhibit audit --json` on `case` with `args`.
fn audit(sb: &Sandbox, case: &str, args: &[&str]) -> (i32, Value) {
    let mut all = vec!["audit", "--json", "--operator", "Auditor", "--case", case];
    all.extend_from_slice(args);
    let out = sb.run(&all);
    let value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("audit --json: {e}: {}", stderr(&out)));
    (out.status.code().unwrap_or(-1), value)
}

/// The artefacts each audit entry names as intact views, per entry.
fn audited_views(sb: &Sandbox, case: &str) -> Vec<BTreeSet<String>> {
    sb.ledger(case)
        .into_iter()
        .filter(|(_, e)| e["action"] == "verified" && e["params"]["audit"].is_object())
        .map(|(_, e)| {
            let ids = e["params"]["audit"]["intact_views"].as_array().cloned().unwrap_or_default();
            ids.iter().map(|h| h.as_str().unwrap().to_owned()).collect()
        })
        .collect()
}

#[test]
fn sampled_audits_of_a_pristine_image_find_every_view_intact_and_cover_them_all() {
    let sb = Sandbox::new();
    ingest_clean(&sb, "AUDV-1", &fixture("fat/fat12.img"));
    let views: BTreeSet<String> =
        assert_views_only(&sb, "AUDV-1").iter().map(|v| v["id"].as_str().unwrap().to_owned()).collect();
    for _ in 0..5 {
        let (code, report) = audit(&sb, "AUDV-1", &["--sample", "20"]);
        assert_eq!(code, 0, "a pristine case audits clean: {report:#}");
        assert_eq!(report["failed"].as_array().unwrap().len(), 0, "{report:#}");
    }
    let runs = audited_views(&sb, "AUDV-1");
    let mut seen = BTreeSet::new();
    for id in runs.iter().flatten() {
        // Oldest checked first: a view comes round again only once all were checked.
        assert!(seen.insert(id.clone()) || seen == views, "{id} re-checked before every view was: {runs:?}");
    }
    assert_eq!(seen, views, "five 20% runs cover every view");
    let (code, report) = sb.verify_json("AUDV-1");
    assert_eq!(code, 0, "audit entries keep the case clean: {report:#}");
}

#[test]
fn a_view_broken_by_its_image_is_named_even_when_a_copy_shares_its_hash() {
    let sb = Sandbox::new();
    ingest_clean(&sb, "AUDV-2", &fixture("fat/fat12.img"));
    let views = assert_views_only(&sb, "AUDV-2");
    let image = manifests(&sb, "AUDV-2").into_iter().find(|m| m["kind"] == "original").unwrap();
    let image_sha = image["digests"]["sha256"].as_str().unwrap().to_owned();
    let target = views.iter().find(|v| !base_ranges(v).is_empty() && v["size"].as_u64() > Some(16)).unwrap();
    let target_id = target["id"].as_str().unwrap().to_owned();
    // Another exhibit holds a plain copy of the same bytes.
    let bytes = get(&sb, "AUDV-2", &target_id).stdout;
    let src = sb.sources();
    std::fs::write(src.join("copy.bin"), &bytes).unwrap();
    let out = sb.run(&[
        "ingest",
        "--case",
        "AUDV-2",
        "--exhibit",
        "JS/2",
        "--operator",
        "Test Officer",
        src.join("copy.bin").to_str().unwrap(),
    ]);
    assert!(out.status.success(), "ingest copy: {}", stderr(&out));
    let copy_sha = target["digests"]["sha256"].as_str().unwrap();
    assert!(object_path(&sb, "AUDV-2", copy_sha).exists(), "the copy is an object");
    let byte = base_ranges(target)[0].0 + 7;
    flip(&sb, "AUDV-2", &image_sha, byte);
    let expected: BTreeSet<String> =
        views.iter().filter(|v| covers(v, byte)).map(|v| v["id"].as_str().unwrap().to_owned()).collect();
    assert!(expected.contains(&target_id));

    let (code, report) = sb.verify_json("AUDV-2");
    assert_ne!(code, 0, "{report:#}");
    assert_eq!(broken_views(&report), expected, "verify names the views over byte {byte}: {report:#}");

    let (code, report) = audit(&sb, "AUDV-2", &[]);
    assert_eq!(code, 1, "{report:#}");
    let failed = report["failed"].as_array().unwrap();
    let failed_views: BTreeSet<String> =
        failed.iter().filter(|f| f["target"] == "view").map(|f| f["artefact"].as_str().unwrap().to_owned()).collect();
    assert_eq!(failed_views, expected, "audit names exactly the views over byte {byte}: {report:#}");
    let failed_objects: Vec<&str> =
        failed.iter().filter(|f| f["target"] == "object").map(|f| f["sha256"].as_str().unwrap()).collect();
    assert_eq!(failed_objects, vec![image_sha.as_str()], "the image, and not the intact copy: {report:#}");
}

#[test]
fn a_tampered_view_manifest_is_named_without_blaming_a_missing_object() {
    let sb = Sandbox::new();
    ingest_clean(&sb, "AUDV-3", &fixture("fat/fat12.img"));
    let views = assert_views_only(&sb, "AUDV-3");
    let target = views.iter().find(|v| !base_ranges(v).is_empty() && v["size"].as_u64() > Some(16)).unwrap();
    let id = target["id"].as_str().unwrap();
    let mut edited = target.clone();
    let run = &mut edited["view"]["runs"][0]["base_offset"];
    *run = Value::from(run.as_u64().unwrap() + 512);
    let path = sb.case_dir("AUDV-3").join("artefacts").join(format!("{id}.json"));
    overwrite(&path, &serde_json::to_vec_pretty(&edited).unwrap());
    let (code, report) = sb.verify_json("AUDV-3");
    assert_ne!(code, 0, "{report:#}");
    let altered = problems(&report, "manifest-altered");
    assert_eq!(altered.len(), 1, "{report:#}");
    assert_eq!(altered[0]["artefact"], id, "{report:#}");
    assert!(problems(&report, "object-missing").is_empty(), "no object was ever stored for a view: {report:#}");
}
