//! `listing`, `reproduce` and `export --bagit` against the S3 store (moto),
//! run as a user runs them, on a case of two FAT images: the FAT12 fixture
//! (whose files' SHA-256s `fixtures/fat/fat12.img.sha256` lists) and one
//! holding a video, whose access copy is a derivative of a view read from
//! the bucket by ranged gets. They were checked by hand before.

use std::collections::BTreeMap;
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::Value;

use crate::cluster_env::Moto;
use crate::common::{Sandbox, bounded, fat_image_holding, fixture, stderr};
use crate::export::{python_tool, stdout};

const PREFIX: &str = "force";

fn sha256_hex(bytes: &[u8]) -> String {
    exhibit_core::Sha256Digest::of(bytes).to_hex()
}

/// Runs `exhibit --store s3://BUCKET/force ARGS` against `moto`.
fn on_s3(sb: &Sandbox, moto: &Moto, args: &[&str]) -> Output {
    let mut cmd = sb.exhibit();
    cmd.args(["--store", &format!("s3://{}/{PREFIX}", moto.bucket)]).args(args);
    moto.env(&mut cmd);
    bounded(&mut cmd, Duration::from_secs(300))
}

/// A sandbox and a moto server whose bucket holds `case`: exhibit JS/1, a
/// folder of the two images, ingested with every stage in process. Returns
/// `show --json` of the case too.
fn ingested_on_s3(case: &str) -> (Sandbox, Moto, Value) {
    let (sb, moto) = (Sandbox::new(), Moto::start());
    let src = sb.dir.path().join("images");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::copy(fixture("fat/fat12.img"), src.join("fat12.img")).unwrap();
    fat_image_holding(&src, "media.img", "0badf00d", ("media/mpeg4_mp3.avi", "::/CLIP.AVI"));
    let ingest = ["ingest", "--case", case, "--exhibit", "JS/1", "--operator", "Test Officer", "--queue", "memory://"];
    let mut args = ingest.to_vec();
    args.push(src.to_str().unwrap());
    let out = on_s3(&sb, &moto, &args);
    assert_eq!(out.status.code(), Some(0), "ingest into S3: {}{}", stdout(&out), stderr(&out));
    let out = on_s3(&sb, &moto, &["show", "--case", case, "--json"]);
    assert!(out.status.success(), "show against S3: {}", stderr(&out));
    let show = serde_json::from_slice(&out.stdout).expect("show --json");
    (sb, moto, show)
}

/// The files of the FAT12 fixture that are not deleted, by path from the
/// volume's root (`/README.TXT`), with their SHA-256. The two names near
/// FAT's 255-character limit are left to the oracle tests.
fn fat12_files() -> BTreeMap<String, String> {
    let listed = std::fs::read_to_string(fixture("fat/fat12.img.sha256")).unwrap();
    let deleted = |path: &str| path.starts_with("gone/") || path.starts_with("Deleted ") || path == "to-delete.txt";
    let kept = |path: &&str| !deleted(path) && path.len() < 100;
    let files = listed.lines().filter_map(|l| l.split_once("  ")).filter(|(_, path)| kept(path));
    files.map(|(sha, path)| (format!("/{path}"), sha.to_owned())).collect()
}

/// The rows of a CSV listing by their header's names.
fn csv_rows(text: &str) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().expect("a header row").iter().map(str::to_owned).collect();
    let rows = reader.records().map(|r| r.expect("a CSV row"));
    rows.map(|r| header.iter().cloned().zip(r.iter().map(str::to_owned)).collect()).collect()
}

#[test]
fn listing_on_s3_names_every_file_of_both_images_with_its_sha256() {
    const CASE: &str = "S3LIST-1";
    let (sb, moto, _) = ingested_on_s3(CASE);
    let out = on_s3(&sb, &moto, &["listing", "--case", CASE, "--exhibit", "JS/1", "--format", "csv"]);
    assert_eq!(out.status.code(), Some(0), "listing against S3: {}", stderr(&out));
    let rows = csv_rows(&stdout(&out));
    let files: BTreeMap<&str, &str> =
        rows.iter().filter(|r| r["type"] == "r").map(|r| (r["path"].as_str(), r["sha256"].as_str())).collect();
    let mut expected = fat12_files();
    expected.insert("/CLIP.AVI".into(), sha256_hex(&std::fs::read(fixture("media/mpeg4_mp3.avi")).unwrap()));
    for (path, sha256) in &expected {
        assert_eq!(files.get(path.as_str()), Some(&sha256.as_str()), "{path} in the listing:\n{}", stdout(&out));
    }
    // JSON and DFXML read the same stored listings.
    let out = on_s3(&sb, &moto, &["listing", "--case", CASE, "--exhibit", "JS/1", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "listing --format json against S3: {}", stderr(&out));
    let json: Value = serde_json::from_slice(&out.stdout).expect("listing --format json");
    let entries = json["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), rows.len(), "one JSON entry per CSV row");
    let out = on_s3(&sb, &moto, &["listing", "--case", CASE, "--exhibit", "JS/1", "--format", "dfxml"]);
    assert_eq!(out.status.code(), Some(0), "listing --format dfxml against S3: {}", stderr(&out));
    assert!(stdout(&out).contains("CLIP.AVI") && stdout(&out).contains(&expected["/README.TXT"]), "{}", stdout(&out));
}

#[test]
fn reproduce_on_s3_re_derives_the_access_copy_of_a_view_to_its_recorded_sha256() {
    const CASE: &str = "S3REPRO-1";
    let (sb, moto, show) = ingested_on_s3(CASE);
    let all = show["artefacts"].as_array().expect("artefacts");
    let video = sha256_hex(&std::fs::read(fixture("media/mpeg4_mp3.avi")).unwrap());
    let clip = all.iter().find(|a| a["digests"]["sha256"] == video.as_str()).expect("the video");
    assert!(!clip["view"].is_null(), "the video is a view of its image: {clip:#}");
    let is_access = |a: &&Value| a["parent"]["id"] == clip["id"] && a["derivation"]["rule"] == "video-access";
    let access = all.iter().find(is_access).expect("an access copy of the video");
    let (id, sha256) = (access["id"].as_str().unwrap(), access["digests"]["sha256"].as_str().unwrap());
    let out = on_s3(&sb, &moto, &["reproduce", "--case", CASE, "--artefact", id]);
    assert_eq!(out.status.code(), Some(0), "reproduce against S3: {}{}", stdout(&out), stderr(&out));
    let said = stdout(&out);
    assert!(said.contains(&format!("reproduced identically: {sha256}")), "{said}");
    let last = moto.ledger_events(PREFIX, CASE).pop().expect("a ledger");
    assert_eq!(last["action"], "verified", "{last:#}");
    assert_eq!(last["artefact"]["id"], id);
    assert_eq!(last["params"]["reproduced"], true, "{last:#}");
    assert_eq!(last["params"]["reproduced_hash"], sha256, "{last:#}");
}

#[test]
fn export_on_s3_writes_a_bag_that_bagit_and_its_own_checker_accept() {
    const CASE: &str = "S3BAG-1";
    let (sb, moto, show) = ingested_on_s3(CASE);
    let bag = sb.dir.path().join("bag");
    let export = ["export", "--case", CASE, "--bagit", bag.to_str().unwrap(), "--organisation", "Force"];
    let out = on_s3(&sb, &moto, &export);
    assert_eq!(out.status.code(), Some(0), "export against S3: {}", stderr(&out));
    let out = Command::new(python_tool("bagit.py")).arg("--validate").arg(&bag).output().unwrap();
    assert!(out.status.success(), "bagit.py --validate: {}", stderr(&out));
    let trusted = sb.trusted_keys();
    let out = Command::new("sh").arg(bag.join("verify.sh")).arg(&trusted).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "verify.sh: {}{}", stdout(&out), stderr(&out));
    // Every artefact of the case is in the bag, with its bytes.
    let listing = std::fs::read_to_string(bag.join("exhibit/listing.tsv")).unwrap();
    let in_bag: BTreeMap<&str, &str> = listing.lines().skip(1).filter_map(|l| row_id_and_path(l)).collect();
    for artefact in show["artefacts"].as_array().unwrap() {
        let id = artefact["id"].as_str().unwrap();
        let path = in_bag.get(id).unwrap_or_else(|| panic!("{id} is not in the bag:\n{listing}"));
        let bytes = std::fs::read(bag.join(path)).unwrap();
        assert_eq!(sha256_hex(&bytes), artefact["digests"]["sha256"].as_str().unwrap(), "{path}");
    }
    let dfxml = std::fs::read_to_string(bag.join("exhibit/listings/JS/1.dfxml")).expect("the exhibit's listing");
    assert!(dfxml.contains("CLIP.AVI"), "{dfxml}");
    let last = moto.ledger_events(PREFIX, CASE).pop().expect("a ledger");
    assert_eq!(last["action"], "exported", "{last:#}");
}

/// A `listing.tsv` row's artefact ID and bag path.
fn row_id_and_path(row: &str) -> Option<(&str, &str)> {
    let mut cells = row.split('\t');
    let path = cells.next()?;
    Some((cells.next()?, path))
}
