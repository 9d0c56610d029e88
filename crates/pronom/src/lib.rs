//! PRONOM format identification: the UK National Archives' registry of file
//! formats, as DROID, Siegfried and fido use it. This crate owns the bundled
//! PRONOM signature file (version [`SIGNATURE_VERSION`]) and a matcher for
//! its internal (byte) signatures; it does not read container signatures
//! (formats inside ZIP or OLE2) or identify by extension.
//!
//! ```
//! let registry = exhibit_pronom::bundled().unwrap();
//! let gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;";
//! let found = registry.identify(gif, gif);
//! assert_eq!(found[0].puid, "fmt/4");
//! ```
//!
//! Matching is bounded: the caller passes at most the first and last
//! [`SAMPLE_BYTES`] of the content, every sequence is a `regex::bytes`
//! regex (linear-time, no backtracking) behind a literal check, and each
//! regex's size and cache are capped.

mod error;
mod parse;
mod pattern;
mod sequence;

use std::collections::HashMap;
use std::io::Read;
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind};

pub use error::{ErrorKind, PronomError};
pub use parse::{Anchor, FileFormat, SignatureFile, parse};
use sequence::CompiledSequence;
pub use sequence::Sample;

/// Version of the bundled signature file.
pub const SIGNATURE_VERSION: &str = "109";
/// How many bytes from each end of the content a caller should pass (the
/// matcher reads nothing else).
pub const SAMPLE_BYTES: usize = 64 * 1024;

static BUNDLED: &[u8] = include_bytes!("../data/DROID_SignatureFile_V109.xml.gz");

/// One internal signature, ready to match.
#[derive(Debug)]
struct Signature {
    sequences: Vec<CompiledSequence>,
    /// Patterns of `Registry::wide` that must occur in the sample.
    wide: Vec<usize>,
    /// Indexes into `Registry::formats`.
    formats: Vec<usize>,
}

/// A signature file, ready to identify content.
#[derive(Debug)]
pub struct Registry {
    version: String,
    formats: Vec<FileFormat>,
    signatures: Vec<Signature>,
    /// Lower-case extension → formats that list it.
    by_extension: HashMap<String, Vec<usize>>,
    /// The wide-window literals, found in one pass over the sample.
    wide: AhoCorasick,
    /// Signatures with a BOF literal at one exact offset, by (offset, first
    /// byte); `offsets` lists the offsets. The rest are always tried.
    exact: HashMap<(u64, u8), Vec<usize>>,
    offsets: Vec<u64>,
    others: Vec<usize>,
}

/// The bundled signature file, parsed once per process.
pub fn bundled() -> Result<&'static Registry, PronomError> {
    static REGISTRY: OnceLock<Result<Registry, String>> = OnceLock::new();
    REGISTRY
        .get_or_init(|| load_bundled().map_err(|e| e.to_string()))
        .as_ref()
        .map_err(|e| PronomError::corrupt(e.clone()))
}

#[tracing::instrument]
fn load_bundled() -> Result<Registry, PronomError> {
    let mut xml = String::new();
    flate2::read::GzDecoder::new(BUNDLED)
        .read_to_string(&mut xml)
        .map_err(|e| PronomError::io(format!("cannot decompress the bundled signature file: {e}")))?;
    Registry::new(parse(&xml)?)
}

impl Registry {
    /// Prepares a parsed signature file. A signature with a pattern that
    /// does not convert is an error: the file is not what it claims.
    pub fn new(file: SignatureFile) -> Result<Self, PronomError> {
        let index: HashMap<u32, Vec<usize>> = file.formats.iter().enumerate().fold(HashMap::new(), |mut m, (i, f)| {
            f.signatures.iter().for_each(|s| m.entry(*s).or_default().push(i));
            m
        });
        let mut signatures = Vec::new();
        let mut literals: Vec<Vec<u8>> = Vec::new();
        for sig in &file.signatures {
            let Some(formats) = index.get(&sig.id) else { continue };
            let sequences = sig.sequences.iter().map(CompiledSequence::new).collect::<Result<Vec<_>, _>>()?;
            let mut wide = Vec::new();
            for lit in sequences.iter().filter_map(CompiledSequence::wide_literal) {
                wide.push(literals.len());
                literals.push(lit.to_vec());
            }
            if !sequences.is_empty() {
                signatures.push(Signature { sequences, wide, formats: formats.clone() });
            }
        }
        // A full DFA: some 300 literals, and the fastest overlapping scan.
        let wide = AhoCorasick::builder()
            .kind(Some(AhoCorasickKind::DFA))
            .build(&literals)
            .map_err(|e| PronomError::corrupt(format!("literal automaton: {e}")))?;
        let mut exact: HashMap<(u64, u8), Vec<usize>> = HashMap::new();
        let mut others = Vec::new();
        for (i, sig) in signatures.iter().enumerate() {
            match sig.sequences.iter().find_map(CompiledSequence::exact_bof) {
                Some(key) => exact.entry(key).or_default().push(i),
                None => others.push(i),
            }
        }
        let mut offsets: Vec<u64> = exact.keys().map(|(o, _)| *o).collect();
        offsets.sort_unstable();
        offsets.dedup();
        let mut by_extension: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, f) in file.formats.iter().enumerate() {
            f.extensions.iter().for_each(|e| by_extension.entry(e.clone()).or_default().push(i));
        }
        Ok(Self {
            version: file.version,
            formats: file.formats,
            signatures,
            by_extension,
            wide,
            exact,
            offsets,
            others,
        })
    }

    /// The signature file's version.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Formats whose internal signatures match, after PRONOM priorities
    /// (a format that another match has priority over is dropped), in
    /// PUID order. `head` is the first and `tail` the last
    /// [`SAMPLE_BYTES`] (or fewer) of the content; for content that fits,
    /// pass it as both.
    pub fn identify(&self, head: &[u8], tail: &[u8]) -> Vec<&FileFormat> {
        let head = &head[..head.len().min(SAMPLE_BYTES)];
        let tail = &tail[tail.len().saturating_sub(SAMPLE_BYTES)..];
        // Content that fits is scanned once, whoever copied it.
        let sample = Sample { head, tail: if head == tail { head } else { tail } };
        let present = self.wide_literals_in(sample);
        let mut hits: Vec<usize> = Vec::new();
        for sig in self.candidates(sample.head).into_iter().map(|i| &self.signatures[i]) {
            if !sig.wide.iter().all(|p| present[*p]) || sig.formats.iter().all(|f| hits.contains(f)) {
                continue;
            }
            if sig.sequences.iter().all(|s| s.may_match(sample)) && sig.sequences.iter().all(|s| s.matches(sample)) {
                hits.extend(&sig.formats);
            }
        }
        hits.sort_unstable();
        hits.dedup();
        let beaten = |f: &FileFormat| {
            hits.iter().any(|h| self.formats[*h].id != f.id && self.formats[*h].priority_over.contains(&f.id))
        };
        let mut found: Vec<&FileFormat> = hits.iter().map(|i| &self.formats[*i]).filter(|f| !beaten(f)).collect();
        found.sort_by(|a, b| puid_key(&a.puid).cmp(&puid_key(&b.puid)));
        found
    }

    /// Signatures worth trying: those whose exact BOF literal starts with
    /// the byte at its offset, and all the others.
    fn candidates(&self, head: &[u8]) -> Vec<usize> {
        let mut out = self.others.clone();
        for offset in &self.offsets {
            let Some(byte) = usize::try_from(*offset).ok().and_then(|o| head.get(o)) else { break };
            out.extend(self.exact.get(&(*offset, *byte)).into_iter().flatten());
        }
        out
    }

    /// Which wide-window literals occur anywhere in the sample.
    fn wide_literals_in(&self, sample: Sample) -> Vec<bool> {
        let mut present = vec![false; self.wide.patterns_len()];
        let mut mark = |hay: &[u8]| {
            self.wide.find_overlapping_iter(hay).for_each(|m| present[m.pattern().as_usize()] = true);
        };
        mark(sample.head);
        if !sample.whole() {
            mark(sample.tail);
        }
        present
    }

    /// Formats that list `extension` (any case, no dot).
    pub fn formats_with_extension(&self, extension: &str) -> Vec<&FileFormat> {
        let key = extension.to_ascii_lowercase();
        self.by_extension.get(&key).map(|v| v.iter().map(|i| &self.formats[*i]).collect()).unwrap_or_default()
    }

    /// How many byte sequences do not build within the regex limits (they
    /// never match). Compiles every sequence: for tests and diagnostics.
    pub fn uncompilable_sequences(&self) -> usize {
        self.signatures.iter().flat_map(|s| &s.sequences).filter(|s| !s.compiles()).count()
    }

    /// Every format in the file.
    pub fn formats(&self) -> &[FileFormat] {
        &self.formats
    }
}

/// `fmt/43` before `fmt/100` before `x-fmt/1`.
fn puid_key(puid: &str) -> (&str, u64) {
    let (prefix, n) = puid.rsplit_once('/').unwrap_or((puid, ""));
    (prefix, n.parse().unwrap_or(u64::MAX))
}
