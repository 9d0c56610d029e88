//! One test per fixture image (or E01 set), each against its oracle.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::compare::{Outcome, compare};
use super::exhibit::Ingested;
use super::{OracleVolume, tool_missing, tree, tsk};
use crate::common::{Sandbox, stderr};

pub(super) fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures").join(rel)
}

/// How the ingest of a fixture must end.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Health {
    /// Exit 0 and no entry in error.
    Intact,
    /// Damaged on purpose (`fixtures/damaged/`): a record in error or cut
    /// short has no oracle bytes to equal; its name must still be listed.
    Damaged,
}

/// Ingests `source`, compares each oracle volume, and fails naming every
/// difference.
pub(super) fn check(
    sb: Sandbox,
    source: &Path,
    oracles: Vec<OracleVolume>,
    fs_hint: Option<&str>,
    health: Health,
) -> Outcome {
    let ex = Ingested::new(sb, source);
    if health == Health::Intact {
        assert!(ex.out.status.success(), "ingest {}: {}", source.display(), stderr(&ex.out));
        let failed: Vec<_> = ex.entries.iter().filter(|e| !e["error"].is_null()).collect();
        assert!(failed.is_empty(), "{failed:#?}");
    }
    let mut out = Outcome { damaged: health == Health::Damaged, ..Outcome::default() };
    for volume in &oracles {
        compare(&ex, volume, fs_hint, &mut out);
    }
    assert!(out.faults.is_empty(), "{}:\n{}\nleft out: {:#?}", source.display(), out.faults.join("\n"), out.excluded);
    if oracles.is_empty() {
        // The tool found no file system: exhibit must not list one either.
        assert!(ex.entries.is_empty() && ex.volumes.iter().all(|v| v["fs"].is_null()), "{:#?}", ex.volumes);
    }
    eprintln!("{}: {} names, {} contents; left out: {:?}", source.display(), out.names, out.contents, out.excluded);
    out
}

/// Sleuthkit over an image exhibit ingests as it is.
pub(super) fn with_sleuthkit(rel: &str, health: Health) -> Option<Outcome> {
    if tool_missing(tsk::available(), "fls (sleuthkit)") {
        return None;
    }
    let image = fixture(rel);
    let volumes = tsk::volumes(&image);
    Some(check(Sandbox::new(), &image, volumes, None, health))
}

/// An E01 set copied into a folder of its own, so that only it is ingested.
pub(super) fn e01_set(rel_dir: &str, stem: &str, health: Health) -> Option<Outcome> {
    if tool_missing(tsk::available(), "fls (sleuthkit)") {
        return None;
    }
    let sb = Sandbox::new();
    let src = sb.dir.path().join("evidence");
    std::fs::create_dir_all(&src).unwrap();
    for entry in std::fs::read_dir(fixture(rel_dir)).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        if name.starts_with(&format!("{stem}.E")) {
            std::fs::copy(&path, src.join(&name)).unwrap();
        }
    }
    // Sleuthkit opens the first segment and finds the others itself.
    let volumes = tsk::volumes(&src.join(format!("{stem}.E01")));
    Some(check(sb, &src, volumes, None, health))
}

#[test]
fn fat12_matches_sleuthkit() {
    with_sleuthkit("fat/fat12.img", Health::Intact);
}

#[test]
fn fat16_on_mbr_matches_sleuthkit() {
    with_sleuthkit("fat/fat16-mbr.img", Health::Intact);
}

#[test]
fn fat32_matches_sleuthkit() {
    if tool_missing(tsk::available(), "fls (sleuthkit)") {
        return;
    }
    let sb = Sandbox::new();
    let image = sb.dir.path().join("fat32.img");
    let out = Command::new("gzip").arg("-dc").arg(fixture("fat/fat32.img.gz")).output().expect("gzip");
    assert!(out.status.success());
    std::fs::write(&image, out.stdout).unwrap();
    let volumes = tsk::volumes(&image);
    check(sb, &image, volumes, None, Health::Intact);
}

#[test]
fn exfat_matches_sleuthkit() {
    with_sleuthkit("fat/exfat.img", Health::Intact);
}

#[test]
fn ntfs_matches_sleuthkit() {
    with_sleuthkit("ntfs/disk.img", Health::Intact);
}

#[test]
fn mbr_volumes_match_sleuthkit() {
    with_sleuthkit("volumes/mbr.img", Health::Intact);
}

#[test]
fn gpt_volumes_match_sleuthkit() {
    with_sleuthkit("volumes/gpt.img", Health::Intact);
}

/// Three empty partitions in 4096-byte sectors: no file system for either.
#[test]
fn gpt_4k_sectors_match_sleuthkit() {
    with_sleuthkit("volumes/gpt4k.img", Health::Intact);
}

#[test]
fn fat12_superfloppy_matches_sleuthkit() {
    with_sleuthkit("volumes/floppy.img", Health::Intact);
}

#[test]
fn ext2_matches_sleuthkit() {
    with_sleuthkit("volumes/ext2.img", Health::Intact);
}

#[test]
fn ext4_matches_sleuthkit() {
    with_sleuthkit("volumes/ext4.img", Health::Intact);
}

#[test]
fn split_e01_matches_sleuthkit() {
    e01_set("sources/ewf", "split", Health::Intact);
}

#[test]
fn stream_e01_matches_sleuthkit() {
    e01_set("sources/ewf", "stream", Health::Intact);
}

#[test]
fn iso_rock_ridge_matches_xorriso() {
    iso_with_xorriso("iso/iso.iso");
}

#[test]
fn relocated_iso_tree_matches_xorriso() {
    iso_with_xorriso("iso/deep.iso");
}

fn iso_with_xorriso(rel: &str) {
    xorriso_check(rel, Health::Intact);
}

pub(super) fn xorriso_check(rel: &str, health: Health) -> Option<Outcome> {
    if tool_missing(tree::available("xorriso", &["-version"]), "xorriso") {
        return None;
    }
    let sb = Sandbox::new();
    let volume = tree::xorriso(&fixture(rel), &sb.dir.path().join("xorriso"));
    Some(check(sb, &fixture(rel), vec![volume], Some("iso9660"), health))
}

#[test]
fn udf_bridge_matches_7z() {
    if tool_missing(tree::available("7z", &["i"]), "7z (p7zip-full)") {
        return;
    }
    let sb = Sandbox::new();
    let image = fixture("udf/udf102-genisoimage.iso");
    let volume = tree::seven_zip_udf(&image, &sb.dir.path().join("7z"));
    check(sb, &image, vec![volume], Some("udf"), Health::Intact);
}

#[test]
fn udf_260_matches_pycdlib() {
    let python = tree::pycdlib_python();
    if tool_missing(python.is_some(), "python3-pycdlib") {
        return;
    }
    let sb = Sandbox::new();
    let image = fixture("udf/udf260-pycdlib.iso");
    let volume = tree::pycdlib_udf(python.unwrap(), &image, &sb.dir.path().join("pycdlib"));
    check(sb, &image, vec![volume], Some("udf"), Health::Intact);
}

/// `udfinfo` counts the files and folders of the mkudffs images, which no
/// other tool here opens: exhibit must list as many (the root not counted).
#[test]
fn empty_mkudffs_images_match_udfinfo_counts() {
    if tool_missing(tree::available("udfinfo", &["--help"]), "udfinfo (udftools)") {
        return;
    }
    for rel in [
        "udf/udf201-empty.img",
        "udf/udf201-512.img",
        "udf/udf201-cdrw.img",
        "udf/udf250-bdr.img",
        "udf/udf260-bdr.img",
    ] {
        let (files, dirs) = tree::udfinfo_counts(&fixture(rel));
        let ex = Ingested::new(Sandbox::new(), &fixture(rel));
        assert!(ex.out.status.success(), "{rel}: {}", stderr(&ex.out));
        let udf = ex.volumes.iter().find(|v| v["fs"] == "udf").unwrap_or_else(|| panic!("{rel}: {:#?}", ex.volumes));
        let listed =
            |kind: &str| ex.entries_of(udf["index"].as_u64().unwrap()).filter(|e| e["kind"]["type"] == kind).count();
        assert_eq!((listed("file"), listed("directory") + 1), (files, dirs), "{rel}: {:#?}", ex.entries);
    }
}

/// The data track of a cue sheet: xorriso reads the 2048 user bytes of
/// each MODE1/2352 sector, cut out here as a plain ISO.
#[test]
fn cue_data_tracks_match_xorriso() {
    if tool_missing(tree::available("xorriso", &["-version"]), "xorriso") {
        return;
    }
    // (cue sheet, its files, the data track's file and its sectors)
    let sets: [(&str, &[&str], &str, usize); 2] = [
        ("two-files.cue", &["data track.bin", "audio.bin"], "data track.bin", 190),
        ("one-file.cue", &["disc image.bin"], "disc image.bin", 190),
    ];
    for (cue, files, data, sectors) in sets {
        let sb = Sandbox::new();
        let src = sb.dir.path().join("disc");
        std::fs::create_dir_all(&src).unwrap();
        for name in files.iter().chain([&cue]) {
            std::fs::copy(fixture("sources/cue").join(name), src.join(name)).unwrap();
        }
        let raw = std::fs::read(src.join(data)).unwrap();
        let user: Vec<u8> = raw.chunks_exact(2352).take(sectors).flat_map(|s| s[16..16 + 2048].to_vec()).collect();
        let iso = sb.dir.path().join("track01.iso");
        std::fs::write(&iso, user).unwrap();
        let volume = tree::xorriso(&iso, &sb.dir.path().join("xorriso"));
        assert!(!volume.entries.is_empty(), "{cue}: the data track holds files");
        check(sb, &src, vec![volume], Some("iso9660"), Health::Intact);
    }
}

/// zisofs (Rock Ridge `ZF`) files: kept as views with a zisofs transform
/// over their stored, compressed runs; `exhibit get` gives what
/// `xorriso -osirrox on -extract` decodes them to.
#[test]
fn zisofs_iso_matches_xorriso() {
    if tool_missing(tree::available("xorriso", &["-version"]), "xorriso") {
        return;
    }
    let sb = Sandbox::new();
    let src = sb.dir.path().join("src");
    std::fs::create_dir_all(src.join("sub")).unwrap();
    let lines: String = (0..40_000).map(|i| format!("line {i} of a compressible log\n")).collect();
    std::fs::write(src.join("log.txt"), &lines).unwrap();
    std::fs::write(src.join("sub/zeros.bin"), vec![0u8; 300_000]).unwrap();
    std::fs::write(src.join("tiny.txt"), "tiny\n").unwrap();
    let iso = sb.dir.path().join("zisofs.iso");
    let out = Command::new("xorriso")
        .arg("-outdev")
        .arg(&iso)
        .arg("-map")
        .arg(&src)
        .args(["/", "-set_filter_r", "--zisofs", "/", "--", "-commit"])
        .output()
        .expect("xorriso");
    assert!(out.status.success(), "{}", stderr(&out));
    std::fs::remove_dir_all(&src).unwrap();
    let volume = tree::xorriso(&iso, &sb.dir.path().join("xorriso"));
    let outcome = check(sb, &iso, vec![volume], Some("iso9660"), Health::Intact);
    assert_eq!(outcome.contents, 3, "every file's bytes were compared");
}
