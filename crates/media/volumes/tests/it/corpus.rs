//! The shared conformance corpus (`$EXHIBIT_CORPUS` or `../shared/corpus`):
//! every [T] expectation for MBR and GPT.

use std::path::PathBuf;

use exhibit_media_core::Limits;
use exhibit_media_volumes::{Scheme, VolumeSystem, partitions};

use crate::common::disk;

fn corpus() -> Option<PathBuf> {
    exhibit_testkit::corpus_dir()
}

fn read(rel: &str) -> Option<VolumeSystem> {
    let path = corpus()?.join(rel);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Some(partitions(&*disk(bytes), &Limits::default()).unwrap())
}

/// (start LBA, sector count, type id) of the non-container partitions.
fn spans(parts: &[exhibit_media_volumes::Partition]) -> Vec<(u64, u64, String)> {
    parts.iter().filter(|p| !p.container).map(|p| (p.start / 512, p.len / 512, p.type_id.clone())).collect()
}

#[test]
fn gpt_rs_disk_has_two_linux_partitions() {
    let Some(found) = read("gpt-rs/gpt-disk.img") else { return };
    let VolumeSystem::Gpt(parts) = found else { panic!("expected GPT, got {found:?}") };
    let linux = "0FC63DAF-8483-4772-8E79-3D69D8477DE4".to_owned();
    assert_eq!(spans(&parts), [(34, 1, linux.clone()), (35, 4, linux)]);
    assert!(parts.iter().all(|p| p.scheme == Scheme::Gpt && p.type_name.as_deref() == Some("Linux filesystem")));
}

#[test]
fn mbrman_disk1_has_two_primaries() {
    let Some(found) = read("mbrman/disk1.img") else { return };
    let VolumeSystem::Mbr(parts) = found else { panic!("expected MBR, got {found:?}") };
    assert_eq!(spans(&parts), [(1, 1, "0x06".to_owned()), (3, 1, "0x0b".to_owned())]);
    assert_eq!(parts.iter().map(|p| p.index).collect::<Vec<_>>(), [1, 2]);
}

#[test]
fn mbrman_disk2_follows_the_ebr_chain() {
    let Some(found) = read("mbrman/disk2.img") else { return };
    let VolumeSystem::Mbr(parts) = found else { panic!("expected MBR, got {found:?}") };
    let container: Vec<_> = parts.iter().filter(|p| p.container).map(|p| (p.start / 512, p.type_id.as_str())).collect();
    assert_eq!(container, [(5, "0x05")]);
    // Each logical starts one sector after its EBR: EBRs at LBA 5, 7, 10, 14, 16.
    let logical: Vec<_> = parts.iter().filter(|p| p.index >= 5).map(|p| p.start / 512 - 1).collect();
    assert_eq!(logical, [5, 7, 10, 14, 16]);
    let linux = "0x83".to_owned();
    let want = [(1, 3), (6, 1), (8, 2), (11, 3), (15, 1), (17, 1)].map(|(s, l)| (s, l, linux.clone()));
    assert_eq!(spans(&parts), want);
}
