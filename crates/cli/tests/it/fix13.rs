//! Issue 13 (the scanning desk), tester's findings: OCR off with expected
//! pages, temporary paths in messages, empty media files, and `-q`.

use std::path::Path;

use crate::common::{Sandbox, stderr};

fn ocr_fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/ocr").join(name)
}

/// OCR off makes no bundle PDF, so the page files themselves are counted:
/// two stored pages against two expected is a clean run.
#[test]
fn ocr_off_with_expected_pages_counts_the_page_files() {
    let sb = Sandbox::new();
    let desk = sb.dir.path().join("desk");
    std::fs::create_dir_all(desk.join("sc")).unwrap();
    std::fs::copy(ocr_fixture("memo.png"), desk.join("sc/page2.png")).unwrap();
    std::fs::copy(ocr_fixture("letter.jpg"), desk.join("sc/page3.jpg")).unwrap();
    std::fs::write(desk.join("items.csv"), "exhibit,path,ocr,pages\nO/1,sc,off,2\n").unwrap();
    let manifest = desk.join("items.csv");
    let out = sb.run(&["ingest", "--case", "F13-1", "--operator", "T", "--manifest", manifest.to_str().unwrap()]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(!table.contains("page-count-mismatch"), "{table}");
    assert_eq!(out.status.code(), Some(0), "{table}\n{}", stderr(&out));

    // Three expected, two stored: still a mismatch, counted from the files.
    std::fs::write(desk.join("items.csv"), "exhibit,path,ocr,pages\nO/1,sc,off,3\n").unwrap();
    let out = sb.run(&["ingest", "--case", "F13-1", "--operator", "T", "--manifest", manifest.to_str().unwrap()]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("expected 3 pages, found 2"), "{table}");
    assert_eq!(out.status.code(), Some(3), "{table}\n{}", stderr(&out));
}

/// OCR off in the configuration (attack pass on issue 13), for all or for
/// the exhibit: the page files are counted as with a manifest row's `off`.
/// Before, a complete bundle read "expected 2 pages, found 0".
#[test]
fn ocr_off_in_the_configuration_counts_the_page_files_too() {
    let sb = Sandbox::new();
    let sc = sb.dir.path().join("sc");
    std::fs::create_dir_all(&sc).unwrap();
    std::fs::copy(ocr_fixture("memo.png"), sc.join("page2.png")).unwrap();
    std::fs::copy(ocr_fixture("letter.jpg"), sc.join("page3.jpg")).unwrap();
    for (case, setting) in [("F13-OFF", "enabled = false"), ("F13-OFF2", "exhibits_off = [\"o 1\"]")] {
        let config = sb.dir.path().join(format!("{case}.toml"));
        std::fs::write(&config, format!("[ocr]\n{setting}\n")).unwrap();
        let out = sb
            .exhibit()
            .arg("--config")
            .arg(&config)
            .args(["ingest", "--case", case, "--exhibit", "O1", "--operator", "T", "--pages", "2"])
            .arg(&sc)
            .output()
            .unwrap();
        let table = String::from_utf8_lossy(&out.stdout);
        assert!(!table.contains("page-count-mismatch"), "{setting}: {table}");
        assert_eq!(out.status.code(), Some(0), "{setting}: {table}\n{}", stderr(&out));
    }
}

/// A cut phone video is unidentified; its attention line names the
/// evidence file only, never the store's temporary working copy.
#[test]
fn an_unidentified_video_names_the_evidence_file_not_a_temporary_path() {
    let sb = Sandbox::new();
    let tr = sb.dir.path().join("tr");
    std::fs::create_dir_all(&tr).unwrap();
    let video = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/media/h263_aac.3gp")).unwrap();
    std::fs::write(tr.join("cut.3gp"), &video[..40_000]).unwrap();
    let out = sb.run(&["ingest", "--case", "F13-2", "--exhibit", "T/1", "--operator", "T", tr.to_str().unwrap()]);
    let table = String::from_utf8_lossy(&out.stdout);
    let line = table.lines().find(|l| l.contains("unidentified:")).unwrap_or_else(|| panic!("{table}"));
    assert!(line.contains("cut.3gp"), "{line}");
    assert!(!line.contains("copy-") && !line.contains("/.tmp/w"), "no working-copy path: {line}");
    assert_eq!(out.status.code(), Some(3), "{table}\n{}", stderr(&out));
}

/// A zero-byte file whose name says media is not clean: it needs attention.
#[test]
fn an_empty_file_named_as_media_needs_attention() {
    let sb = Sandbox::new();
    let tr = sb.dir.path().join("tr");
    std::fs::create_dir_all(&tr).unwrap();
    std::fs::write(tr.join("empty.mp4"), b"").unwrap();
    let out = sb.run(&["ingest", "--case", "F13-3", "--exhibit", "T/1", "--operator", "T", tr.to_str().unwrap()]);
    let table = String::from_utf8_lossy(&out.stdout);
    let line = table.lines().find(|l| l.contains("extension-mismatch:")).unwrap_or_else(|| panic!("{table}"));
    assert!(line.contains("empty.mp4") && line.contains("empty (0 bytes)"), "{line}");
    assert_eq!(out.status.code(), Some(3), "{table}\n{}", stderr(&out));
}
