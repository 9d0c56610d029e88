//! Hostile variants of every fixture: truncations and byte flips aimed at
//! metadata (file header, section descriptors, headers, volume, tables,
//! hashes; cue text). Each must end in `Ok` or `Err`, never a panic; work is
//! counted so a runaway case shows as a failed bound, a hang as a timeout.

use std::io::Read;
use std::sync::Arc;

use exhibit_media_core::{BytesAt, Limits, ReadAt};
use exhibit_media_sources::{EwfImage, drain, fuzz_one, open_cue};

use crate::support::{fixture, sections};

const LIMITS: Limits = Limits {
    max_depth: 4,
    max_entries: 1_000_000,
    max_dir_entries: 100_000,
    max_path_depth: 256,
    max_expansion_ratio: 4,
    max_alloc: 16 << 20,
    max_sparse_bytes: 1 << 30,
};
const READ_CAP: u64 = 8 << 20;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Opens and reads a set of in-memory segments; returns media bytes read
/// (`None`: it did not open).
fn run_ewf(segments: &[Vec<u8>]) -> Option<u64> {
    let segs = segments
        .iter()
        .enumerate()
        .map(|(i, b)| (format!("s.E{:02}", i + 1), Arc::new(BytesAt::new(b.clone())) as Arc<dyn ReadAt>))
        .collect();
    match EwfImage::from_segments(segs, &LIMITS) {
        Ok(image) => {
            let _ = image.verify();
            Some(drain(&image, READ_CAP))
        }
        Err(_) => None,
    }
}

/// Byte ranges holding EWF metadata (everything but chunk data).
fn metadata_ranges(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut out = vec![(0, 13)];
    for s in sections(bytes) {
        let end = if s.kind == b"sectors" || s.size < 76 { s.at + 76 } else { s.at + s.size };
        out.push((s.at, end.min(bytes.len())));
    }
    out
}

fn truncation_points(len: usize) -> [usize; 10] {
    [0, 13, 50, 100, len / 4, len / 2, 3 * len / 4, len.saturating_sub(200), len.saturating_sub(77), len - 1]
}

fn load(names: &[&str]) -> Vec<Vec<u8>> {
    names.iter().map(|n| std::fs::read(fixture(&format!("ewf/{n}"))).expect("fixture")).collect()
}

#[test]
fn hostile_ewf_variants_end_cleanly() {
    let sets = [load(&["stream.E01"]), load(&["split.E01", "split.E02", "split.E03"])];
    let (mut cases, mut work, mut opened) = (0u64, 0u64, 0u64);
    let mut run = |variant: &[Vec<u8>]| {
        let read = run_ewf(variant);
        opened += u64::from(read.is_some());
        work += read.unwrap_or(0);
    };
    for set in &sets {
        for seg in 0..set.len() {
            for cut in truncation_points(set[seg].len()) {
                let mut variant = set.clone();
                variant[seg].truncate(cut);
                run(&variant);
                cases += 1;
            }
        }
    }
    let mut rng = Rng(0x5eed_cafe_f00d_d00d);
    for (set, flips) in sets.iter().zip([700, 320]) {
        let regions: Vec<Vec<(usize, usize)>> = set.iter().map(|b| metadata_ranges(b)).collect();
        for _ in 0..flips {
            let mut variant = set.clone();
            let seg = rng.below(set.len());
            let (lo, hi) = regions[seg][rng.below(regions[seg].len())];
            let at = lo + rng.below(hi - lo);
            variant[seg][at] ^= 1 + rng.below(255) as u8;
            if set.len() == 1 && cases % 50 == 0 {
                fuzz_one(&variant[0]);
            }
            run(&variant);
            cases += 1;
        }
    }
    assert!(cases >= 1_000 + 40, "{cases} cases");
    assert!(opened >= 100, "only {opened} of {cases} variants opened: flips must reach the read path too");
    println!("{cases} EWF variants, {opened} opened, {work} media bytes read");
    assert!(work <= cases * READ_CAP, "{work} bytes read over {cases} cases");
}

/// Opens a cue in `dir` and reads every track fully; returns bytes read.
fn run_cue(cue: &std::path::Path) -> u64 {
    let Ok(image) = open_cue(cue, &LIMITS) else { return 0 };
    let mut total = 0;
    for t in image.tracks() {
        if let Ok(view) = image.data_track_view(t.number) {
            total += drain(view.as_ref(), READ_CAP);
        }
        if let Ok(wav) = image.audio_track_wav(t.number) {
            total += std::io::copy(&mut wav.take(READ_CAP), &mut std::io::sink()).unwrap_or(0);
        }
    }
    total
}

#[test]
fn hostile_cue_variants_end_cleanly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let names = ["two-files.cue", "one-file.cue", "data track.bin", "audio.bin", "disc image.bin"];
    let originals: Vec<Vec<u8>> =
        names.iter().map(|n| std::fs::read(fixture(&format!("cue/{n}"))).expect("fixture")).collect();
    let restore = |i: usize| std::fs::write(dir.path().join(names[i]), &originals[i]).expect("write");
    (0..names.len()).for_each(restore);
    let (mut cases, mut work) = (0u64, 0u64);
    for (i, cue) in [(2, 0), (3, 0), (4, 1), (0, 0), (1, 1)] {
        for cut in truncation_points(originals[i].len()) {
            std::fs::write(dir.path().join(names[i]), &originals[i][..cut]).expect("write");
            work += run_cue(&dir.path().join(names[cue]));
            cases += 1;
        }
        restore(i);
    }
    let mut rng = Rng(0xc0ff_ee00_1234_5678);
    for _ in 0..200 {
        let i = rng.below(2);
        let mut text = originals[i].clone();
        let at = rng.below(text.len());
        text[at] ^= 1 + rng.below(255) as u8;
        std::fs::write(dir.path().join(names[i]), &text).expect("write");
        work += run_cue(&dir.path().join(names[i]));
        fuzz_one(&text);
        cases += 1;
    }
    assert!(cases >= 250);
    assert!(work <= cases * 2 * READ_CAP, "{work} bytes over {cases} cases");
}
