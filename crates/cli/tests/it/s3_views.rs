//! `get` of a file inside an image (a view, read in place) against the S3
//! store: read by ranged gets, checked against the ledger's SHA-256 as it
//! streams (attacker finding F3: it failed with "this check needs a store
//! with local files", while `listing` and `verify` worked), and of the
//! views an image cut short in the bucket still holds.

use std::collections::BTreeSet;
use std::process::{Command, Output};
use std::time::Duration;

use serde_json::Value;

use crate::cluster_env::Moto;
use crate::common::{Sandbox, bounded, fixture, problems, stderr};
use crate::views::base_ranges;

const CASE: &str = "S3VIEW-1";

fn on_s3(sb: &Sandbox, moto: &Moto, args: &[&str]) -> Command {
    let mut cmd = sb.exhibit();
    cmd.args(["--store", &format!("s3://{}/force", moto.bucket)]).args(args);
    moto.env(&mut cmd);
    cmd
}

fn run(cmd: &mut Command) -> Output {
    bounded(cmd, Duration::from_secs(300))
}

/// The views among a case's artefacts (files read in place from an image).
fn views(show: &Value) -> Vec<(String, String)> {
    let all = show["artefacts"].as_array().expect("artefacts");
    let views = all.iter().filter(|a| !a["view"].is_null() && a["size"].as_u64() > Some(0));
    views.map(|a| (a["id"].as_str().unwrap().to_owned(), a["digests"]["sha256"].as_str().unwrap().to_owned())).collect()
}

#[test]
fn get_of_files_inside_a_fat_image_and_an_e01_set_on_s3_returns_their_bytes() {
    let (sb, moto) = (Sandbox::new(), Moto::start());
    let src = sb.dir.path().join("images");
    std::fs::create_dir_all(&src).unwrap();
    for name in ["split.E01", "split.E02", "split.E03"] {
        std::fs::copy(fixture(&format!("sources/ewf/{name}")), src.join(name)).unwrap();
    }
    std::fs::copy(fixture("fat/fat16-mbr.img"), src.join("fat16-mbr.img")).unwrap();
    let ingest = ["ingest", "--case", CASE, "--exhibit", "JS/1", "--operator", "Test Officer", "--queue", "memory://"];
    let out = run(on_s3(&sb, &moto, &ingest).arg(&src));
    assert_eq!(out.status.code(), Some(0), "ingest into S3: {}", stderr(&out));
    let out = run(&mut on_s3(&sb, &moto, &["show", "--case", CASE, "--json"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let views = views(&serde_json::from_slice(&out.stdout).unwrap());
    assert!(views.len() >= 4, "files in both images are views: {views:?}");
    for (id, sha256) in &views {
        let file = sb.dir.path().join(format!("got-{id}"));
        let out = run(&mut on_s3(&sb, &moto, &["get", "--case", CASE, id, "-o", file.to_str().unwrap()]));
        assert_eq!(out.status.code(), Some(0), "get {id} to a file: {}", stderr(&out));
        let got = exhibit_core::Sha256Digest::of(&std::fs::read(&file).unwrap()).to_hex();
        assert_eq!(&got, sha256, "get {id} to a file");
        let out = run(&mut on_s3(&sb, &moto, &["get", "--case", CASE, id]));
        assert_eq!(out.status.code(), Some(0), "get {id} to stdout: {}", stderr(&out));
        assert_eq!(&exhibit_core::Sha256Digest::of(&out.stdout).to_hex(), sha256, "get {id} to stdout");
    }
}

/// The last image byte (exclusive) a view reads; 0 for a view of fills only.
fn reads_to(view: &Value) -> u64 {
    let runs = view["view"]["runs"].as_array().expect("a view's runs");
    let ends = runs.iter().filter_map(|r| r["base_offset"].as_u64().map(|b| b + r["len"].as_u64().unwrap()));
    ends.max().unwrap_or(0)
}

/// Damages the object `key` of `moto`'s bucket after ingest, with boto3
/// (which moto's server installs beside itself): `cut` keeps its first
/// `at` bytes, `flip` flips byte `at`.
fn damage_object(moto: &Moto, key: &str, how: &str, at: u64) {
    let tools = std::env::var("EXHIBIT_PYTHON_TOOLS").unwrap_or_else(|_| "/opt/exhibit-python".to_owned());
    let script = r#"
import boto3, sys
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test")
bucket, key, how, at = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
body = bytearray(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
if how == "cut":
    body = body[:at]
else:
    body[at] ^= 0x5A
s3.put_object(Bucket=bucket, Key=key, Body=bytes(body))
assert s3.head_object(Bucket=bucket, Key=key)["ContentLength"] == len(body)
"#;
    let out = Command::new(format!("{tools}/bin/python"))
        .args(["-c", script, &format!("http://127.0.0.1:{}", moto.port), moto.bucket, key, how, &at.to_string()])
        .output()
        .expect("python with boto3 (installed with moto)");
    assert!(out.status.success(), "{how} {key}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Ingests the FAT12 fixture into `case` on S3: its image's object key, and
/// the views with content, by the last image byte they read.
fn fat12_on_s3(sb: &Sandbox, moto: &Moto, case: &str) -> (String, Vec<Value>) {
    let src = sb.dir.path().join("fat12.img");
    std::fs::copy(fixture("fat/fat12.img"), &src).unwrap();
    let ingest = ["ingest", "--case", case, "--exhibit", "JS/1", "--operator", "Test Officer", "--queue", "memory://"];
    let out = run(on_s3(sb, moto, &ingest).arg(&src));
    assert_eq!(out.status.code(), Some(0), "ingest into S3: {}", stderr(&out));
    let out = run(&mut on_s3(sb, moto, &["show", "--case", case, "--json"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let show: Value = serde_json::from_slice(&out.stdout).unwrap();
    let all = show["artefacts"].as_array().expect("artefacts");
    let image = all.iter().find(|a| a["kind"] == "original").expect("the image");
    let with_content = |a: &&Value| a["kind"] == "extracted" && !a["view"].is_null() && reads_to(a) > 0;
    let mut views: Vec<Value> = all.iter().filter(with_content).cloned().collect();
    views.sort_by_key(reads_to);
    let key = format!("force/cases/{case}/objects/sha256/{}", image["digests"]["sha256"].as_str().unwrap());
    (key, views)
}

/// An image cut short in the bucket after ingest: `get` serves each view
/// whose bytes the cut image still holds (checked against the ledger as it
/// streams, not the image as a whole), and exits 1 for the rest, as on the
/// local store (`stored_damage`).
#[test]
fn a_cut_image_on_s3_serves_the_views_it_still_holds_and_exits_1_for_the_rest() {
    const CUT_CASE: &str = "S3CUT-1";
    let (sb, moto) = (Sandbox::new(), Moto::start());
    let (key, views) = fat12_on_s3(&sb, &moto, CUT_CASE);
    let cut = reads_to(&views[0]);
    assert!(reads_to(&views[views.len() - 1]) > cut, "some view reads past the cut");
    damage_object(&moto, &key, "cut", cut);
    for view in &views {
        let id = view["id"].as_str().unwrap();
        let file = sb.dir.path().join(format!("got-{id}"));
        let out = run(&mut on_s3(&sb, &moto, &["get", "--case", CUT_CASE, id, "-o", file.to_str().unwrap()]));
        if reads_to(view) <= cut {
            assert_eq!(out.status.code(), Some(0), "view {id} within the cut image: {}", stderr(&out));
            let got = exhibit_core::Sha256Digest::of(&std::fs::read(&file).unwrap()).to_hex();
            assert_eq!(got, view["digests"]["sha256"].as_str().unwrap(), "view {id}");
        } else {
            assert_eq!(out.status.code(), Some(1), "view {id} past the cut: {}", stderr(&out));
            assert!(!file.exists(), "nothing is left at -o for {id}");
        }
    }
}

/// `verify` and `audit` against S3 name exactly the views over a flipped
/// image byte, as on the local store (`views::a_flipped_image_byte_breaks...`):
/// the views of an image that no longer re-hashes are read through the view
/// reader, by ranged gets (both failed with "this check needs a store with
/// local files").
#[test]
fn verify_and_audit_on_s3_name_exactly_the_views_over_a_flipped_image_byte() {
    const FLIP_CASE: &str = "S3FLIP-1";
    let (sb, moto) = (Sandbox::new(), Moto::start());
    let (key, views) = fat12_on_s3(&sb, &moto, FLIP_CASE);
    let target = views.iter().find(|v| v["size"].as_u64() > Some(16)).expect("a view of some size");
    let byte = base_ranges(target)[0].0 + 7;
    damage_object(&moto, &key, "flip", byte);
    let trusted = sb.trusted_keys();
    let verify = ["verify", "--case", FLIP_CASE, "--json", "--trusted-keys", trusted.to_str().unwrap()];
    let out = run(&mut on_s3(&sb, &moto, &verify));
    let report: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("verify --json: {e}: {}", stderr(&out)));
    assert_eq!(out.status.code(), Some(1), "verification found a change: {report:#}");
    assert_eq!(problems(&report, "object-altered").len(), 1, "the image: {report:#}");
    let broken: BTreeSet<&str> =
        problems(&report, "view-broken").iter().map(|p| p["artefact"].as_str().unwrap()).collect();
    let covers = |v: &Value| base_ranges(v).iter().any(|&(a, b)| a <= byte && byte < b);
    let expected: BTreeSet<&str> = views.iter().filter(|v| covers(v)).map(|v| v["id"].as_str().unwrap()).collect();
    assert!(expected.contains(target["id"].as_str().unwrap()));
    assert_eq!(broken, expected, "exactly the views over byte {byte}: {report:#}");
    // audit reads them the same way.
    let audit = ["audit", "--json", "--operator", "Auditor", "--case", FLIP_CASE];
    let out = run(&mut on_s3(&sb, &moto, &audit));
    let report: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("audit --json: {e}: {}", stderr(&out)));
    assert_eq!(out.status.code(), Some(1), "{report:#}");
    let failed = report["failed"].as_array().unwrap().iter().filter(|f| f["target"] == "view");
    let failed: BTreeSet<&str> = failed.map(|f| f["artefact"].as_str().unwrap()).collect();
    assert_eq!(failed, expected, "audit names exactly the views over byte {byte}: {report:#}");
}
