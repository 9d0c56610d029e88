//! Files stored compressed in an image (zisofs) kept as views with a
//! transform: the runs are the compressed stream, `get` gives the decoded
//! bytes, a flipped byte inside a compressed block breaks exactly that
//! view, and the DFXML listing says its runs are the compressed stream.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::common::{Sandbox, problems, stderr};
use crate::oracle::tool_missing;
use crate::views::{assert_views_only, base_ranges, broken_views, covers, flip, get, manifests};

fn lines(what: &str, n: usize) -> Vec<u8> {
    (0..n).map(|i| format!("{what} line {i}, compressible\n")).collect::<String>().into_bytes()
}

/// An ISO whose files xorriso stores zisofs-compressed (all but `tiny.txt`,
/// which compression would not shrink).
fn zisofs_iso(dir: &Path) -> Option<PathBuf> {
    let available = Command::new("xorriso").arg("-version").output().is_ok_and(|o| o.status.success());
    if tool_missing(available, "xorriso") {
        return None;
    }
    let src = dir.join("src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("log.txt"), lines("log", 30_000)).unwrap();
    std::fs::write(src.join("other.txt"), lines("other", 5_000)).unwrap();
    std::fs::write(src.join("tiny.txt"), "tiny\n").unwrap();
    let iso = dir.join("zisofs.iso");
    let out = Command::new("xorriso")
        .arg("-outdev")
        .arg(&iso)
        .arg("-map")
        .arg(&src)
        .args(["/", "-set_filter_r", "--zisofs", "/", "--", "-commit"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    std::fs::remove_dir_all(&src).unwrap();
    Some(iso)
}

fn named<'a>(views: &'a [Value], name: &str) -> &'a Value {
    views
        .iter()
        .find(|v| v["inside"]["path"]["display"].as_str().is_some_and(|p| p.ends_with(name)))
        .unwrap_or_else(|| panic!("{name}: {views:#?}"))
}

#[test]
fn zisofs_files_are_transformed_views_and_a_flipped_block_byte_breaks_only_them() {
    let sb = Sandbox::new();
    let Some(iso) = zisofs_iso(sb.dir.path()) else { return };
    let out = sb.ingest("ZF-1", &iso);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(sb.verify_json("ZF-1").0, 0);
    let views = assert_views_only(&sb, "ZF-1");
    let log = named(&views, "log.txt");
    assert_eq!(log["view"]["transform"]["kind"], "zisofs", "{log:#}");
    let expected = lines("log", 30_000);
    assert_eq!(log["size"].as_u64(), Some(expected.len() as u64));
    let stored: u64 = base_ranges(log).iter().map(|(a, b)| b - a).sum();
    assert!(stored * 10 < expected.len() as u64, "the runs are the compressed stream: {stored} bytes");
    let id = log["id"].as_str().unwrap();
    let got = get(&sb, "ZF-1", id);
    assert!(got.status.success(), "{}", stderr(&got));
    assert!(got.stdout == expected, "get decodes the file");
    assert!(named(&views, "tiny.txt")["view"]["transform"].is_null());

    // DFXML: the runs are flagged as the compressed stream.
    let xml = sb.run(&["listing", "--case", "ZF-1", "--exhibit", "JS/1", "--format", "dfxml"]);
    assert!(xml.status.success(), "{}", stderr(&xml));
    let xml = String::from_utf8(xml.stdout).unwrap();
    assert!(xml.contains("<byte_runs exhibit:transform='zisofs'>"), "{xml}");

    // A byte in the middle of log.txt's compressed blocks.
    let (start, end) = base_ranges(log)[0];
    let byte = start + (end - start) * 2 / 3;
    let image = manifests(&sb, "ZF-1").into_iter().find(|m| m["kind"] == "original").unwrap();
    let image_sha = image["digests"]["sha256"].as_str().unwrap().to_owned();
    flip(&sb, "ZF-1", &image_sha, byte);
    let (code, report) = sb.verify_json("ZF-1");
    assert_ne!(code, 0, "{report:#}");
    let want: std::collections::BTreeSet<String> =
        views.iter().filter(|v| covers(v, byte)).map(|v| v["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(want.len(), 1, "only log.txt covers byte {byte}");
    assert_eq!(broken_views(&report), want, "{report:#}");
    let broken = problems(&report, "view-broken");
    let detail = broken[0].to_string();
    assert!(detail.contains("zisofs block") || detail.contains("sha256") || detail.contains("SHA-256"), "{detail}");
    assert!(!get(&sb, "ZF-1", id).status.success(), "get refuses the broken view");
    let other = named(&views, "other.txt")["id"].as_str().unwrap().to_owned();
    assert!(get(&sb, "ZF-1", &other).status.success(), "other views still read");
}

/// The NTFS fixture's LZNT1 file (written by ntfs-3g) is a view with an
/// `lznt1` transform over its stored compression units, `get` equals
/// `icat` (which decompresses), and a flipped byte in a compressed unit
/// breaks that view alone.
#[test]
fn lznt1_files_are_transformed_views_equal_to_icat() {
    if tool_missing(crate::oracle::tsk::available(), "icat (sleuthkit)") {
        return;
    }
    let image = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/ntfs/disk.img");
    let sb = Sandbox::new();
    let out = sb.ingest("LZ-1", &image);
    assert!(out.status.success(), "{}", stderr(&out));
    let views = assert_views_only(&sb, "LZ-1");
    let packed = named(&views, "packed.txt");
    assert_eq!(packed["view"]["transform"]["kind"], "lznt1", "{packed:#}");
    let icat_sha = crate::oracle::tsk::volumes(&image)
        .into_iter()
        .flat_map(|v| v.entries)
        .find(|n| n.path == b"compressed/packed.txt" && n.stream.is_none())
        .and_then(|n| n.sha256)
        .expect("icat reads compressed/packed.txt");
    let id = packed["id"].as_str().unwrap();
    let got = get(&sb, "LZ-1", id);
    assert!(got.status.success(), "{}", stderr(&got));
    assert_eq!(crate::oracle::sha256_hex(&got.stdout), icat_sha, "get equals icat");
    let (start, end) = base_ranges(packed)[0];
    let byte = start + (end - start) / 2;
    let image_sha = manifests(&sb, "LZ-1").into_iter().find(|m| m["kind"] == "original").unwrap()["digests"]["sha256"]
        .as_str()
        .unwrap()
        .to_owned();
    flip(&sb, "LZ-1", &image_sha, byte);
    let (code, report) = sb.verify_json("LZ-1");
    assert_ne!(code, 0, "{report:#}");
    let want: std::collections::BTreeSet<String> =
        views.iter().filter(|v| covers(v, byte)).map(|v| v["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(broken_views(&report), want, "{report:#}");
    assert!(want.contains(id));
}
