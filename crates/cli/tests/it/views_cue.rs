//! Cue sheets and their `.bin`s (issue 11): a MODE1/2048 `.bin` is explored
//! once, through its cue; DFXML byte runs of a 2352-byte track are offsets
//! in the `.bin` itself, so the README's `dd` recipe cuts files out of it.

use std::path::Path;
use std::process::Command;

use crate::common::{Sandbox, stderr};
use crate::views::manifests;

/// A MODE1/2048 disc: an ISO named `disc.bin` and a cue sheet naming it.
fn mode1_2048_disc(dir: &Path) -> std::path::PathBuf {
    let tree = dir.join("tree");
    std::fs::create_dir_all(&tree).unwrap();
    std::fs::write(tree.join("README.TXT"), "on a 2048-byte data track\n").unwrap();
    std::fs::write(tree.join("OTHER.TXT"), "another file\n").unwrap();
    let disc = dir.join("disc");
    std::fs::create_dir_all(&disc).unwrap();
    let out = Command::new("genisoimage")
        .args(["-quiet", "-V", "CUE2048", "-o"])
        .arg(disc.join("disc.bin"))
        .arg(&tree)
        .output()
        .expect("genisoimage");
    assert!(out.status.success(), "{}", stderr(&out));
    std::fs::write(disc.join("disc.cue"), "FILE \"disc.bin\" BINARY\n  TRACK 01 MODE1/2048\n    INDEX 01 00:00:00\n")
        .unwrap();
    disc
}

#[test]
fn a_mode1_2048_bin_beside_its_cue_is_explored_once_through_the_cue() {
    let sb = Sandbox::new();
    let disc = mode1_2048_disc(sb.dir.path());
    let out = sb.ingest("CUE-2048", &disc);
    assert!(out.status.success(), "{}", stderr(&out));
    let all = manifests(&sb, "CUE-2048");
    let readmes: Vec<_> = all
        .iter()
        .filter(|m| m["kind"] == "extracted")
        .filter(|m| m["inside"]["path"]["display"].as_str().is_some_and(|p| p.ends_with("README.TXT")))
        .collect();
    assert_eq!(readmes.len(), 1, "README.TXT is found once: {readmes:#?}");
    let cue = all.iter().find(|m| m["media_type"]["mime"] == "application/x-cue").map(|m| m["id"].clone());
    let explored: Vec<_> =
        sb.ledger("CUE-2048").into_iter().map(|(_, e)| e).filter(|e| e.to_string().contains("\"explored\"")).collect();
    assert_eq!(explored.len(), 1, "one explore, of the cue sheet ({cue:?}): {explored:#?}");
    assert_eq!(sb.verify_json("CUE-2048").0, 0);
}

/// README's recipe, run: `dd` from the `.bin` at each `img_offset`, then
/// `sha256sum`, for every file on the raw (2352-byte sector) data track.
#[test]
fn dd_cuts_files_of_a_2352_byte_track_out_of_the_bin_from_the_dfxml() {
    let sb = Sandbox::new();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/sources/cue");
    let disc = sb.dir.path().join("disc");
    std::fs::create_dir_all(&disc).unwrap();
    for name in ["one-file.cue", "disc image.bin"] {
        std::fs::copy(fixtures.join(name), disc.join(name)).unwrap();
    }
    let out = sb.ingest("CUE-DD", &disc);
    assert!(out.status.success(), "{}", stderr(&out));
    let xml = sb.run(&["listing", "--case", "CUE-DD", "--exhibit", "JS/1", "--format", "dfxml"]);
    assert!(xml.status.success(), "{}", stderr(&xml));
    let xml = String::from_utf8(xml.stdout).unwrap();
    assert!(xml.contains("<exhibit:image_file>disc image.bin</exhibit:image_file>"), "the volume names its .bin");
    let files = crate::views_dd::listed_files(&xml);
    assert!(files.len() >= 2, "{xml}");
    for file in &files {
        let rebuilt = crate::views_dd::dd_and_sha256sum(&disc.join("disc image.bin"), file, &sb.dir.path().join("cut"));
        assert_eq!(rebuilt, file.sha256, "{}: dd + sha256sum from the listing", file.name);
    }
}
