//! Acquisition from a fault-injecting device and from a file.

use exhibit_media_core::BytesAt;
use exhibit_media_sources::{BlockDevice, FaultyDevice, LinuxBlockDevice, RetryPolicy, acquire};

use crate::support::{sha256, sha256_bytes};

const MIB: u64 = 1 << 20;

fn pattern(len: usize) -> Vec<u8> {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8 | 1 // never zero, so zero-fill is visible
        })
        .collect()
}

#[test]
fn bad_ranges_are_zero_filled_and_mapped() {
    let data = pattern(4 * MIB as usize);
    // One sector, three sectors across a 1 MiB read boundary, the last sector.
    let bad = [(10 * 512, 512), (2 * MIB - 1024, 1536), (4 * MIB - 512, 512)];
    let mut dev = FaultyDevice::new(data.clone(), 512);
    for (at, len) in bad {
        dev = dev.fail(at, len);
    }
    let (mut out, mut seen) = (Vec::new(), Vec::new());
    let rec = acquire(&mut dev, &mut out, RetryPolicy { retries: 2, chunk_bytes: 1 << 20 }, &mut |p| seen.push(p))
        .expect("acquires");
    assert_eq!(rec.bad_ranges, bad.to_vec());
    assert_eq!(seen, vec![MIB, 2 * MIB, 3 * MIB, 4 * MIB]);
    let mut expected = data;
    for (at, len) in bad {
        expected[at as usize..(at + len) as usize].fill(0);
    }
    assert_eq!(out.len(), expected.len());
    assert!(out == expected, "output is the zero-filled image");
    assert_eq!(sha256(&BytesAt::new(out)), sha256_bytes(&expected));
    assert_eq!(rec.retries, 2 * 5, "two retries for each of the five bad sectors");
    assert!(rec.read_errors > rec.retries);
    let map = rec.ddrescue_mapfile();
    let blocks: Vec<&str> = map.lines().skip_while(|l| !l.starts_with("#      pos")).skip(1).collect();
    assert_eq!(
        blocks,
        [
            "0x00000000  0x00001400  +",
            "0x00001400  0x00000200  -",
            "0x00001600  0x001FE600  +",
            "0x001FFC00  0x00000600  -",
            "0x00200200  0x001FFC00  +",
            "0x003FFE00  0x00000200  -",
        ]
    );
    assert!(map.contains("# current_pos  current_status  current_pass\n0x003FFE00     +               1\n"));
}

#[test]
fn retries_that_succeed_leave_no_bad_range() {
    let data = pattern(3 * MIB as usize + 1536);
    let mut dev = FaultyDevice::new(data.clone(), 512).fail_first(MIB + 512, 1024, 12).fail_first(4096, 512, 1);
    let mut out = Vec::new();
    let rec =
        acquire(&mut dev, &mut out, RetryPolicy { retries: 3, chunk_bytes: 1 << 20 }, &mut |_| {}).expect("acquires");
    assert!(rec.bad_ranges.is_empty(), "{:?}", rec.bad_ranges);
    assert!(rec.retries > 0 && rec.read_errors > 0);
    assert!(out == data);
    let map = rec.ddrescue_mapfile();
    assert!(map.ends_with("#      pos        size  status\n0x00000000  0x00300600  +\n"), "{map}");
}

#[test]
fn a_file_reads_as_a_device() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("disk.img");
    let data = pattern(300_000);
    std::fs::write(&path, &data).expect("write");
    let mut dev = LinuxBlockDevice::open(&path).expect("opens read-only");
    assert_eq!((dev.size(), dev.sector_size()), (300_000, 512));
    assert_eq!(dev.identity().path.as_deref(), Some(path.to_str().expect("utf-8")));
    let mut out = Vec::new();
    let rec = acquire(&mut dev, &mut out, RetryPolicy::default(), &mut |_| {}).expect("acquires");
    assert!(out == data && rec.bad_ranges.is_empty() && rec.read_errors == 0);
    assert!(rec.started <= rec.finished);
}
