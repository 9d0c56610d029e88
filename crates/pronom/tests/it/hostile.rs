//! Hostile samples: the matcher reads only what it is given, never panics,
//! and answers for bytes built to pass as many literal checks as possible.

use std::io::Read;

use exhibit_pronom::{Anchor, SAMPLE_BYTES, bundled, parse};

/// Every anchor literal of the signature file, back to back: content that
/// passes the cheap check of most variable and wide-window sequences, so
/// the regexes run over a full sample.
fn literal_soup() -> Vec<u8> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/DROID_SignatureFile_V109.xml.gz");
    let mut xml = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap()).read_to_string(&mut xml).unwrap();
    let file = parse(&xml).unwrap();
    let mut soup = Vec::new();
    for sig in &file.signatures {
        for seq in sig.sequences.iter().filter(|s| s.anchor != Anchor::Eof) {
            seq.subsequences.iter().for_each(|s| soup.extend_from_slice(&s.anchor));
        }
    }
    soup.iter().copied().cycle().take(SAMPLE_BYTES).collect()
}

#[test]
fn literal_soup_is_answered() {
    let soup = literal_soup();
    let found = bundled().unwrap().identify(&soup, &soup);
    // Whatever it matches, each answer is a real format.
    assert!(found.iter().all(|f| !f.puid.is_empty()));
}

#[test]
fn degenerate_samples_are_answered() {
    let registry = bundled().unwrap();
    let samples: Vec<Vec<u8>> = vec![
        Vec::new(),
        vec![0; SAMPLE_BYTES],
        vec![0xFF; SAMPLE_BYTES],
        b"<?xml ".repeat(SAMPLE_BYTES / 6),
        b"%PDF-1.".repeat(SAMPLE_BYTES / 7),
        (0..SAMPLE_BYTES).map(|i| (i * 7919 % 251) as u8).collect(),
    ];
    for s in &samples {
        let _ = registry.identify(s, s);
    }
    // Samples longer than the contract are cut, not read past it.
    let long = vec![0x41; SAMPLE_BYTES * 4];
    assert_eq!(registry.identify(&long, &long), registry.identify(&long[..SAMPLE_BYTES], &long[..SAMPLE_BYTES]));
}

#[test]
fn empty_and_tiny_content() {
    let registry = bundled().unwrap();
    assert!(registry.identify(b"", b"").is_empty());
    assert!(registry.identify(b"G", b"G").is_empty());
}
