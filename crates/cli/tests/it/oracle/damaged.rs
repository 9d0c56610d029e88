//! The damaged fixtures of `scripts/fixtures/damaged.sh` against their
//! oracles: every name is listed, and every record that is not itself the
//! damage has the oracle's bytes.

use super::compare::Outcome;
use super::images::{Health, e01_set, with_sleuthkit, xorriso_check};

#[test]
fn damaged_ext2_with_deleted_names_matches_sleuthkit() {
    with_sleuthkit("damaged/ext2-deleted.img", Health::Intact);
}

#[test]
fn compressed_ntfs_e01_matches_sleuthkit() {
    e01_set("damaged", "ntfs-best", Health::Intact);
}

#[test]
fn cut_e01_set_matches_sleuthkit_where_it_reads() {
    e01_set("damaged", "ewf-cut", Health::Damaged);
}

#[test]
fn cut_fat16_matches_sleuthkit_where_it_reads() {
    with_sleuthkit("damaged/fat16-cut.img", Health::Damaged);
}

#[test]
fn looping_fat_chain_image_matches_sleuthkit_for_the_rest() {
    let out = with_sleuthkit("damaged/fat-loop.img", Health::Damaged);
    assert_damaged_only(out, &["/LOOP.BIN"]);
}

#[test]
fn iso_bad_extent_matches_xorriso_for_the_rest() {
    let out = xorriso_check("damaged/iso-bad-extent.iso", Health::Damaged);
    assert_damaged_only(out, &["/BAD.TXT"]);
}

#[test]
fn iso_oversized_root_matches_xorriso() {
    let out = xorriso_check("damaged/iso-big-root.iso", Health::Damaged);
    assert_damaged_only(out, &[]);
}

#[test]
fn iso_bomb_names_match_xorriso() {
    xorriso_check("damaged/iso-bomb.iso", Health::Damaged);
}

/// Only the named records were left out of the byte comparison as damaged.
fn assert_damaged_only(out: Option<Outcome>, bad: &[&str]) {
    let Some(out) = out else { return };
    let damaged: Vec<&String> = out.excluded.iter().filter(|x| x.contains("damaged record")).collect();
    assert_eq!(damaged.len(), bad.len(), "{damaged:?}");
    for (x, name) in damaged.iter().zip(bad) {
        assert!(x.starts_with(&format!("{name}: ")), "{x}");
    }
}
