//! Hostile input: every fixture truncated at 10 points and hit by
//! deterministic byte flips aimed at metadata (boot sectors, FATs, directory
//! entries, the last sectors). Each case must end in Ok or Err, never panic,
//! and stay within counted work.

use std::io::Read;
use std::sync::Arc;

use exhibit_media_core::{FsEntry, Limits, ReadAt, open_content};
use exhibit_media_fat::{open_exfat, open_fat};

use crate::common::{image, list};

/// A medium with a few bytes replaced, without copying the image.
struct Patched {
    base: Arc<dyn ReadAt>,
    len: u64,
    patches: Vec<(u64, u8)>,
}

impl ReadAt for Patched {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
        let room = usize::try_from(self.len.saturating_sub(offset)).unwrap_or(usize::MAX);
        let want = buf.len().min(room);
        let n = self.base.read_at(offset, &mut buf[..want])?;
        for &(at, b) in &self.patches {
            if at >= offset && at < offset + n as u64 {
                buf[(at - offset) as usize] = b;
            }
        }
        Ok(n)
    }

    fn size(&self) -> u64 {
        self.len
    }
}

fn limits() -> Limits {
    Limits { max_alloc: 16 << 20, max_entries: 20_000, max_dir_entries: 5_000, ..Limits::default() }
}

/// Outcomes seen across all cases.
#[derive(Default)]
struct Tally {
    clean: u64,
    failed: u64,
}

/// Opens, walks and reads everything; returns units of work done.
fn run_case(vol: Arc<dyn ReadAt>, tally: &mut Tally) -> u64 {
    let limits = limits();
    let mut work = 0u64;
    let opened = [open_fat(vol.clone(), &limits), open_exfat(vol.clone(), &limits)];
    tally.failed += opened.iter().filter(|r| r.is_err()).count() as u64 - 1;
    for fs in opened.into_iter().flatten() {
        let result = fs.walk(&limits, &mut |e| {
            work += 1;
            if e.has_content() {
                let want = if e.allocated { e.size } else { e.recovery.map_or(0, |r| r.recoverable_bytes) };
                let mut r = open_content(fs.volume(), &e).take(want.min(8 << 20));
                work += std::io::copy(&mut r, &mut std::io::sink()).unwrap_or(0) / 4096;
            }
            Ok(())
        });
        match result {
            Ok(()) => tally.clean += 1,
            Err(_) => tally.failed += 1,
        }
    }
    work
}

/// Metadata byte ranges: the first 64 KiB, every directory entry, the last 4 KiB.
fn targets(vol: &Arc<dyn ReadAt>) -> Vec<(u64, u64)> {
    let limits = limits();
    let mut out = vec![(0, 65_536.min(vol.size())), (vol.size().saturating_sub(4096), vol.size())];
    let fs = exhibit_media_fat::open(vol.clone(), &limits).unwrap();
    let (entries, _) = list(fs.as_ref(), &limits);
    out.extend(entries.iter().filter_map(|e: &FsEntry| e.address).map(|a| (a.saturating_sub(64), a + 64)));
    out
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn truncated_and_flipped_images_never_panic_or_run_away() {
    let mut rng = Rng(0x5EED_F00D_1234_5678);
    let (mut cases, mut tally) = (0u64, Tally::default());
    for name in ["fat12", "fat16-mbr", "fat32", "exfat"] {
        let full = image(name);
        // FAT32 is 33 MiB; its metadata and files sit in the first 4 MiB.
        let size = full.size().min(4 << 20);
        let vol: Arc<dyn ReadAt> = Arc::new(Patched { base: full, len: size, patches: Vec::new() });
        for k in 1..=10u64 {
            let cut = Arc::new(Patched { base: vol.clone(), len: size * k / 11, patches: Vec::new() });
            assert!(run_case(cut, &mut tally) < 1_000_000, "{name} cut {k}");
            cases += 1;
        }
        let regions = targets(&vol);
        for i in 0..300 {
            let patches = (0..1 + rng.next() % 4)
                .map(|_| {
                    let (lo, hi) = regions[(rng.next() % regions.len() as u64) as usize];
                    (lo + rng.next() % (hi - lo).max(1), rng.next() as u8)
                })
                .collect();
            let case = Arc::new(Patched { base: vol.clone(), len: size, patches });
            assert!(run_case(case, &mut tally) < 1_000_000, "{name} flip case {i}");
            cases += 1;
        }
    }
    assert!(cases >= 1_000);
    // Both outcomes must occur, or the flips missed the metadata.
    assert!(tally.clean > 100 && tally.failed > 100, "clean {} failed {}", tally.clean, tally.failed);
    println!("{cases} cases: {} clean walks, {} failed opens or walks", tally.clean, tally.failed);
}

#[test]
fn fuzz_entry_takes_any_bytes() {
    exhibit_media_fat::fuzz_one(&[]);
    exhibit_media_fat::fuzz_one(&[0xEB; 700]);
    let mut boot = vec![0u8; 4096];
    boot[3..11].copy_from_slice(b"EXFAT   ");
    exhibit_media_fat::fuzz_one(&boot);
}

#[test]
fn directory_loop_is_reported_and_the_rest_listed() {
    let vol = image("fat12");
    let limits = limits();
    let fs = open_fat(vol.clone(), &limits).unwrap();
    let (entries, _) = list(fs.as_ref(), &limits);
    let addr = |p: &str| entries.iter().find(|e| crate::common::path(e) == p).and_then(|e| e.address).unwrap();
    let mut cluster = [0u8; 2];
    vol.read_at(addr("/notes") + 26, &mut cluster).unwrap();
    // /notes/deep now points back at /notes.
    let at = addr("/notes/deep") + 26;
    let looped: Arc<dyn ReadAt> =
        Arc::new(Patched { base: vol.clone(), len: vol.size(), patches: vec![(at, cluster[0]), (at + 1, cluster[1])] });
    let fs = open_fat(looped, &limits).unwrap();
    let (after, result) = list(fs.as_ref(), &limits);
    let err = result.unwrap_err();
    assert_eq!(err.kind, exhibit_media_core::MediaErrorKind::Corrupt);
    assert!(err.message.contains("loop"), "{}", err.message);
    assert_eq!(after.len(), entries.len() - 3, "deep/er, still and leaf.bin are behind the loop");
}

/// `fixtures/damaged/fat-loop.img` (scripts/fixtures/damaged.sh): LOOP.BIN's
/// chain loops over two clusters and its size says 0xFFFFFFFF. That record
/// alone is damaged; the walk is clean and its siblings read in full.
#[test]
fn a_looping_chain_with_a_huge_size_damages_its_record_only() {
    let path = crate::common::root().join("fixtures/damaged/fat-loop.img");
    let vol: Arc<dyn ReadAt> = Arc::new(exhibit_media_core::FileAt::open(&path).unwrap());
    let fs = open_fat(vol, &limits()).unwrap();
    let (entries, result) = list(fs.as_ref(), &limits());
    result.expect("one bad record does not end the walk");
    let files: Vec<&FsEntry> = entries.iter().filter(|e| e.size > 0).collect();
    assert_eq!(files.len(), 5, "{entries:?}");
    for e in files {
        let name = crate::common::path(e);
        if name == "/LOOP.BIN" {
            let damage = e.damage.as_deref().expect("the record is marked damaged");
            assert!(damage.contains("4294967295"), "{damage}");
        } else {
            assert!(e.damage.is_none(), "{name}");
            let body = crate::common::content(fs.as_ref(), e).unwrap();
            assert!(body.starts_with(b"fat file "), "{name}");
        }
    }
}

/// exFAT: one live file's entry set says it is 1 TiB (checksum redone, so
/// the set is well formed). That record alone is damaged; its siblings are
/// listed and read as before.
#[test]
fn an_exfat_size_past_the_heap_damages_its_record_only() {
    let mut bytes = std::fs::read(crate::common::fixture("exfat.img")).unwrap();
    let vol: Arc<dyn ReadAt> = Arc::new(exhibit_media_core::BytesAt::new(bytes.clone()));
    let fs = open_exfat(vol, &limits()).unwrap();
    let (before, _) = list(fs.as_ref(), &limits());
    let files: Vec<&FsEntry> = before.iter().filter(|e| e.allocated && e.size > 0 && e.damage.is_none()).collect();
    assert!(files.len() >= 2, "the fixture has live files");
    let victim = files[0].address.unwrap() as usize;
    let secondaries = usize::from(bytes[victim + 1]);
    bytes[victim + 32 + 24..victim + 32 + 32].copy_from_slice(&(1u64 << 40).to_le_bytes());
    let mut sum = 0u16;
    for (i, &b) in bytes[victim..victim + 32 * (secondaries + 1)].iter().enumerate() {
        if i != 2 && i != 3 {
            sum = sum.rotate_right(1).wrapping_add(u16::from(b));
        }
    }
    bytes[victim + 2..victim + 4].copy_from_slice(&sum.to_le_bytes());
    let vol: Arc<dyn ReadAt> = Arc::new(exhibit_media_core::BytesAt::new(bytes));
    let fs = open_exfat(vol, &limits()).unwrap();
    let (after, _) = list(fs.as_ref(), &limits());
    for e in after.iter().filter(|e| e.allocated && e.size > 0) {
        if e.address == Some(victim as u64) {
            assert!(e.damage.as_deref().is_some_and(|d| d.contains("exceeds")), "{e:?}");
        } else if files.iter().any(|f| f.path == e.path) {
            assert!(e.damage.is_none(), "{e:?}");
            crate::common::content(fs.as_ref(), e).unwrap();
        }
    }
}

/// Rewrites the entry set at `at` (checksum redone): its stream extension's
/// flags, valid length and size.
fn patch_exfat_set(bytes: &mut [u8], at: usize, flags: u8, len: u64) {
    let secondaries = usize::from(bytes[at + 1]);
    let stream = at + 32;
    bytes[stream + 1] = flags;
    bytes[stream + 8..stream + 16].copy_from_slice(&len.to_le_bytes());
    bytes[stream + 24..stream + 32].copy_from_slice(&len.to_le_bytes());
    let mut sum = 0u16;
    for (i, &b) in bytes[at..at + 32 * (secondaries + 1)].iter().enumerate() {
        if i != 2 && i != 3 {
            sum = sum.rotate_right(1).wrapping_add(u16::from(b));
        }
    }
    bytes[at + 2..at + 4].copy_from_slice(&sum.to_le_bytes());
}

/// exFAT: a live one-cluster file's record now says three clusters through
/// its FAT chain, whose first link is the end mark. Like a short FAT chain
/// (issue 11), the file is kept with the bytes its chain reaches and the
/// rest is missing; the record is not damaged, and the walk has no fault.
/// (It was a damaged record: "clusters end before".)
#[test]
fn a_short_exfat_chain_keeps_the_bytes_it_reaches() {
    let mut bytes = std::fs::read(crate::common::fixture("exfat.img")).unwrap();
    let vol: Arc<dyn ReadAt> = Arc::new(exhibit_media_core::BytesAt::new(bytes.clone()));
    let fs = open_exfat(vol, &limits()).unwrap();
    let (before, _) = list(fs.as_ref(), &limits());
    let victim = before.iter().find(|e| e.allocated && e.size > 0 && e.size < 4096).expect("a small live file");
    let at = victim.address.unwrap() as usize;
    let first_cluster = u32::from_le_bytes(bytes[at + 32 + 20..at + 32 + 24].try_into().unwrap());
    let sector = 1usize << bytes[108];
    let fat = u32::from_le_bytes(bytes[80..84].try_into().unwrap()) as usize * sector;
    let link = fat + 4 * first_cluster as usize;
    bytes[link..link + 4].copy_from_slice(&u32::MAX.to_le_bytes());
    let cluster = sector << bytes[109];
    patch_exfat_set(&mut bytes, at, 0x01, 3 * cluster as u64);
    let vol: Arc<dyn ReadAt> = Arc::new(exhibit_media_core::BytesAt::new(bytes));
    let fs = open_exfat(vol, &limits()).unwrap();
    let (after, result) = list(fs.as_ref(), &limits());
    result.expect("a short chain is no fault of the walk");
    let e = after.iter().find(|e| e.address == Some(at as u64)).unwrap();
    assert!(e.damage.is_none(), "{e:?}");
    assert_eq!(e.missing_from, Some(cluster as u64), "{e:?}");
    assert_eq!(after.len(), before.len());
}
