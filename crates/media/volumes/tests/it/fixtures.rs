//! Committed fixtures against `mmls` reference listings.

use exhibit_media_core::Limits;
use exhibit_media_volumes::{Partition, Scheme, VolumeSystem, partitions};

use crate::common::{disk, fixture, table, workspace};

/// One `mmls` row: start and length in sectors, and its description.
#[derive(Debug, PartialEq)]
struct Row {
    meta: bool,
    start: u64,
    len: u64,
    desc: String,
}

fn mmls(name: &str) -> Vec<Row> {
    let path = workspace().join("fixtures/volumes").join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut rows = Vec::new();
    for line in text.lines().filter(|l| l.as_bytes().get(3) == Some(&b':')) {
        let cols: Vec<&str> = line.split_whitespace().collect();
        if cols.len() < 5 || cols[1] == "-------" {
            continue;
        }
        let desc = cols[5..].join(" ");
        rows.push(Row {
            meta: cols[1] == "Meta",
            start: cols[2].parse().unwrap(),
            len: cols[4].parse().unwrap(),
            desc,
        });
    }
    rows
}

/// Our listing must equal mmls's: every non-meta row is a partition, and the
/// first "DOS Extended" meta row is the extended container.
fn compare(image: &str, sector: u64) -> Vec<Partition> {
    let parts = table(fixture(image));
    let rows = mmls(&image.replace(".img", ".mmls.txt"));
    let volumes: Vec<&Row> = rows.iter().filter(|r| !r.meta).collect();
    let ours: Vec<&Partition> = parts.iter().filter(|p| !p.container).collect();
    assert_eq!(ours.len(), volumes.len(), "{image}: {parts:#?} vs {rows:#?}");
    for (p, r) in ours.iter().zip(&volumes) {
        assert_eq!((p.start, p.len), (r.start * sector, r.len * sector), "{image} partition {}", p.index);
        match p.scheme {
            Scheme::Mbr => assert!(r.desc.ends_with(&format!("({})", p.type_id)), "{image}: {p:?} vs {r:?}"),
            Scheme::Gpt => assert_eq!(p.name.as_deref(), Some(r.desc.as_str()), "{image}"),
        }
    }
    let containers: Vec<(u64, u64)> = parts.iter().filter(|p| p.container).map(|p| (p.start, p.len)).collect();
    let extended = rows.iter().find(|r| r.meta && r.desc.starts_with("DOS Extended"));
    assert_eq!(containers, extended.map(|r| (r.start * sector, r.len * sector)).into_iter().collect::<Vec<_>>());
    parts
}

#[test]
fn mbr_primaries_extended_and_logicals_match_mmls() {
    let parts = compare("mbr.img", 512);
    let indexes: Vec<u32> = parts.iter().map(|p| p.index).collect();
    assert_eq!(indexes, [1, 2, 3, 5, 6, 7]);
    assert!(parts[0].bootable && !parts[1].bootable);
    assert_eq!(parts[0].type_name.as_deref(), Some("FAT32 (LBA)"));
}

#[test]
fn gpt_512_and_4096_byte_sectors_match_mmls() {
    for (image, sector) in [("gpt.img", 512), ("gpt4k.img", 4096)] {
        let parts = compare(image, sector);
        let guids: Vec<_> = parts.iter().map(|p| p.guid.clone().unwrap()).collect();
        assert_eq!(guids[2], "4F5D0C3A-9C2B-4E1D-8A77-0000000000A3", "{image}");
        assert_eq!(parts[0].type_name.as_deref(), Some("Microsoft basic data"));
        assert_eq!(parts[1].name.as_deref(), Some("βeta ünïcode"));
        assert_eq!(parts.iter().map(|p| p.index).collect::<Vec<_>>(), [1, 2, 3]);
    }
}

#[test]
fn superfloppy_and_bare_file_systems_have_no_table() {
    for image in ["floppy.img", "ext2.img", "ext4.img"] {
        let found = partitions(&*disk(fixture(image)), &Limits::default()).unwrap();
        assert_eq!(found, VolumeSystem::None, "{image}");
    }
}

#[test]
fn damaged_primary_gpt_falls_back_to_the_backup() {
    let good = table(fixture("gpt.img"));
    let mut header = fixture("gpt.img");
    header[512 + 20] ^= 0xFF; // a reserved byte covered by the header CRC
    assert_eq!(table(header), good);
    let mut array = fixture("gpt.img");
    array[1024 + 60] ^= 0x01; // inside entry 1's name: entry-array CRC
    assert_eq!(table(array), good);
    let mut both = fixture("gpt.img");
    both[512 + 20] ^= 0xFF;
    let last = both.len() - 512;
    both[last + 20] ^= 0xFF;
    let err = partitions(&*disk(both), &Limits::default()).unwrap_err();
    assert_eq!(err.kind, exhibit_media_core::MediaErrorKind::Corrupt, "{err}");
}

#[test]
fn an_ebr_chain_loop_is_corrupt() {
    let mut bytes = fixture("mbr.img");
    let third_ebr = 5761 * 512;
    // The last EBR links back to the first (relative start 0, extended type).
    let link = third_ebr + 446 + 16;
    bytes[link + 4] = 0x05;
    bytes[link + 8..link + 12].copy_from_slice(&0u32.to_le_bytes());
    bytes[link + 12..link + 16].copy_from_slice(&1u32.to_le_bytes());
    let err = partitions(&*disk(bytes), &Limits::default()).unwrap_err();
    assert_eq!(err.kind, exhibit_media_core::MediaErrorKind::Corrupt);
    assert!(err.message.contains("loops"), "{err}");
}

#[test]
fn an_oversized_gpt_entry_array_hits_the_allocation_limit() {
    let mut bytes = fixture("gpt.img");
    for header in [512, bytes.len() - 512] {
        bytes[header + 80..header + 84].copy_from_slice(&u32::MAX.to_le_bytes());
        let crc = {
            let mut h = bytes[header..header + 92].to_vec();
            h[16..20].fill(0);
            crc32(&h)
        };
        bytes[header + 16..header + 20].copy_from_slice(&crc.to_le_bytes());
    }
    let err = partitions(&*disk(bytes), &crate::common::small_limits()).unwrap_err();
    assert!(err.message.contains("limits.max_alloc"), "{err}");
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}
