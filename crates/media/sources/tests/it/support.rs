//! Shared helpers: fixture paths, recorded hashes, EWF section offsets.

use std::path::PathBuf;

use exhibit_media_core::ReadAt;
use md5::Md5;
use sha2::{Digest, Sha256};

/// The workspace root.
pub fn workspace() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../.."))
}

/// `fixtures/sources/<rel>`.
pub fn fixture(rel: &str) -> PathBuf {
    workspace().join("fixtures/sources").join(rel)
}

/// The hash recorded for `name` in a `sha256sum`/`md5sum` listing.
pub fn recorded(listing: &str, name: &str) -> String {
    let text = std::fs::read_to_string(fixture(listing)).expect("hash listing");
    let line = text.lines().find(|l| l.ends_with(&format!("  {name}"))).expect("name listed");
    line.split_whitespace().next().expect("hash").to_owned()
}

fn hash_all<D: Digest>(media: &dyn ReadAt) -> String {
    let mut hasher = D::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut pos = 0u64;
    while pos < media.size() {
        let n = media.read_at(pos, &mut buf).expect("media read");
        assert!(n > 0, "short media at byte {pos}");
        hasher.update(&buf[..n]);
        pos += n as u64;
    }
    hex::encode(hasher.finalize())
}

/// SHA-256 of all of `media`, hex.
pub fn sha256(media: &dyn ReadAt) -> String {
    hash_all::<Sha256>(media)
}

/// MD5 of all of `media`, hex.
pub fn md5(media: &dyn ReadAt) -> String {
    hash_all::<Md5>(media)
}

/// SHA-256 of bytes, hex.
pub fn sha256_bytes(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// One EWF section as the descriptor chain lists it.
#[derive(Debug, Clone)]
pub struct Section {
    pub kind: Vec<u8>,
    pub at: usize,
    pub size: usize,
}

fn le64(b: &[u8], at: usize) -> usize {
    usize::try_from(u64::from_le_bytes(b[at..at + 8].try_into().unwrap())).unwrap()
}

/// Walks a well-formed segment's sections (fixtures only).
pub fn sections(bytes: &[u8]) -> Vec<Section> {
    let mut out = Vec::new();
    let mut at = 13;
    loop {
        let kind: Vec<u8> = bytes[at..at + 16].iter().copied().take_while(|&b| b != 0).collect();
        let (next, size) = (le64(bytes, at + 16), le64(bytes, at + 24));
        let end = kind == b"next" || kind == b"done";
        out.push(Section { kind, at, size });
        if end {
            return out;
        }
        at = next;
    }
}

/// `(base, entries)` of the first `table` section of a segment.
pub fn first_table(bytes: &[u8]) -> (usize, Vec<u32>) {
    let t = sections(bytes).into_iter().find(|s| s.kind == b"table").expect("table");
    let head = t.at + 76;
    let count = u32::from_le_bytes(bytes[head..head + 4].try_into().unwrap()) as usize;
    let base = le64(bytes, head + 8);
    let entries = (0..count)
        .map(|i| u32::from_le_bytes(bytes[head + 24 + 4 * i..head + 28 + 4 * i].try_into().unwrap()))
        .collect();
    (base, entries)
}
