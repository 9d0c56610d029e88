//! Files kept as views into a stored image instead of as copies: the base
//! (an image object, or another view) plus the file's runs in file order.
//! [`ViewAt`] reads a view through its base; every run is checked against
//! the base's bounds before a byte is read, so a hostile or damaged view can
//! neither read outside its base nor make the reader allocate.

use std::io;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::digest::Sha256Digest;
use crate::error::ErrorKind;
use crate::ids::ArtefactId;
use crate::read_at::ReadAt;

#[path = "view_decode.rs"]
pub mod decode;
pub use decode::{BaseDecode, BaseMember, CD_USER_BYTES, CdSectorsAt};
#[path = "view_transform.rs"]
pub mod transform;
pub use transform::{Transform, TransformAt};

/// Format tag of the view record in a manifest.
pub const VIEW_FORMAT: &str = "exhibit-view/1";
/// The most runs one view may have; more fragmented files are stored as
/// copies, which keeps every manifest small.
pub const MAX_VIEW_RUNS: usize = 4096;

/// What an extracted artefact's content is read from, and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ViewInfo {
    /// Always [`VIEW_FORMAT`].
    pub format: String,
    /// The artefact whose bytes the runs point into.
    pub base: ViewBase,
    /// The file's runs in file order, covering `[0, size)` without gaps
    /// (with a transform: the stored, encoded stream, from its first byte).
    pub runs: Vec<ViewRun>,
    /// A decoding applied to the runs' bytes (zisofs, LZNT1); absent for
    /// plain runs. A manifest naming a kind this version does not know does
    /// not parse, so it is never read as plain runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transform: Option<Transform>,
}

/// The base of a view: a stored image, or another view (a file inside an
/// image inside an image), read as stored or decoded (E01 media, a CD
/// data track's user data).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ViewBase {
    /// The base artefact (for an E01 set, its first segment).
    pub artefact: ArtefactId,
    /// Its content hash.
    pub sha256: Sha256Digest,
    /// Its size in bytes.
    pub size: u64,
    /// How its bytes are decoded before the runs address them; absent when
    /// the runs address the stored bytes themselves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decode: Option<BaseDecode>,
}

impl ViewBase {
    /// A base whose stored bytes the runs address one to one.
    pub fn stored(artefact: ArtefactId, sha256: Sha256Digest, size: u64) -> Self {
        Self { artefact, sha256, size, decode: None }
    }

    /// Bytes the runs may address: the stored size, or the decoded size.
    pub fn addressable(&self) -> Result<u64, ViewError> {
        match &self.decode {
            None => Ok(self.size),
            Some(decode) => decode.decoded_size(self.size).map_err(ViewError),
        }
    }

    /// Every stored artefact the base reads, base artefact first.
    pub fn members(&self) -> Vec<BaseMember> {
        let first = BaseMember { artefact: self.artefact.clone(), sha256: self.sha256, size: self.size };
        let later = match &self.decode {
            Some(BaseDecode::Ewf { segments, .. }) => segments.as_slice(),
            _ => &[],
        };
        std::iter::once(first).chain(later.iter().cloned()).collect()
    }
}

/// Zeros that do not come from the base.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fill {
    /// The file system marks the run sparse: zeros never stored.
    Sparse,
    /// The run lies past the end of a truncated medium.
    Missing,
}

/// One run of a view: `len` bytes at `file_offset`, read from the base at
/// `base_offset`, or zeros for a `fill`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ViewRun {
    /// Where the run starts in the file.
    pub file_offset: u64,
    /// Its length in bytes.
    pub len: u64,
    /// Where its bytes are in the base; absent for a fill.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_offset: Option<u64>,
    /// Why the run reads as zeros; absent for a run read from the base.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fill: Option<Fill>,
}

/// A view that does not hold together.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the view is not valid: {0}")]
pub struct ViewError(pub String);

impl ViewError {
    /// Always [`ErrorKind::Corrupt`]: the record is damaged.
    pub fn kind(&self) -> ErrorKind {
        ErrorKind::Corrupt
    }
}

impl ViewInfo {
    /// Checks that the runs cover `[0, size)` in order (with a transform:
    /// an encoded stream that can hold `size` bytes), each either from the
    /// base (inside `base.size`) or a fill.
    pub fn check(&self, size: u64) -> Result<(), ViewError> {
        let bad = |why: String| Err(ViewError(why));
        if self.format != VIEW_FORMAT {
            return bad(format!("format {:?} is not {VIEW_FORMAT}", self.format));
        }
        let pos = check_runs(&self.runs, self.base.addressable()?)?;
        match &self.transform {
            Some(t) => t.check(pos, size),
            None if pos != size => bad(format!("the runs cover {pos} bytes of a {size}-byte file")),
            None => Ok(()),
        }
    }

    /// Bytes the runs cover: the file's size, or its encoded length.
    pub fn encoded_len(&self) -> u64 {
        self.runs.iter().map(|r| r.len).fold(0, u64::saturating_add)
    }

    /// Bytes read from the base.
    pub fn base_bytes(&self) -> u64 {
        self.runs.iter().filter(|r| r.base_offset.is_some()).map(|r| r.len).fold(0, u64::saturating_add)
    }
}

/// Checks that `runs` follow each other from byte 0, each inside an
/// `addressable`-byte base or a fill, and returns the bytes they cover.
pub fn check_runs(runs: &[ViewRun], addressable: u64) -> Result<u64, ViewError> {
    let bad = |why: String| Err(ViewError(why));
    if runs.len() > MAX_VIEW_RUNS {
        return bad(format!("{} runs, more than {MAX_VIEW_RUNS}", runs.len()));
    }
    let mut pos = 0u64;
    for (i, run) in runs.iter().enumerate() {
        if run.file_offset != pos || run.len == 0 {
            return bad(format!(
                "run {i} starts at {} with {} bytes; expected a run at {pos}",
                run.file_offset, run.len
            ));
        }
        match (run.base_offset, run.fill) {
            (Some(at), None) if at.checked_add(run.len).is_some_and(|end| end <= addressable) => {}
            (None, Some(_)) => {}
            _ => return bad(format!("run {i} is neither inside the {addressable}-byte base nor a fill")),
        }
        pos = pos.checked_add(run.len).ok_or_else(|| ViewError(format!("run {i} ends past 2^64")))?;
    }
    Ok(pos)
}

/// The `size` decoded bytes of a compressed stream whose `runs` lie on
/// `base` (a volume, say), for readers that have runs but no view record.
pub fn decoded(
    base: Arc<dyn ReadAt>,
    runs: Vec<ViewRun>,
    transform: Transform,
    size: u64,
) -> Result<Arc<dyn ReadAt>, ViewError> {
    let encoded = check_runs(&runs, base.size())?;
    transform.check(encoded, size)?;
    let runs: Arc<[ViewRun]> = runs.into();
    let at = ViewAt { base, runs: runs.clone(), size: encoded };
    Ok(Arc::new(TransformAt::new(Arc::new(at), runs, transform, size)))
}

/// Positional reads of a checked view over its base.
#[derive(Clone)]
pub struct ViewAt {
    base: Arc<dyn ReadAt>,
    runs: Arc<[ViewRun]>,
    size: u64,
}

impl ViewAt {
    /// A reader over `view` (which must pass [`ViewInfo::check`] for
    /// `size`) on `base`, the base's bytes as the runs address them
    /// (decoded, for a decoded base). A base that is not the size the view
    /// records (a cut image) is still read when every run lies within it:
    /// the content is re-hashed by the caller, so intact runs come back intact.
    pub fn new(base: Arc<dyn ReadAt>, view: &ViewInfo, size: u64) -> Result<Self, ViewError> {
        view.check(size)?;
        let size = if view.transform.is_some() { view.encoded_len() } else { size };
        let expected = view.base.addressable()?;
        let reads_to = view.runs.iter().filter_map(|r| r.base_offset.map(|at| at.saturating_add(r.len))).max();
        if base.size() != expected && reads_to.unwrap_or(0) > base.size() {
            return Err(ViewError(format!(
                "the base holds {} bytes; the view expects {expected} and reads up to byte {}",
                base.size(),
                reads_to.unwrap_or(0)
            )));
        }
        Ok(Self { base, runs: view.runs.clone().into(), size })
    }

    /// The file's bytes: this reader, or for a transformed view, a decoder
    /// over it. `view` and `size` as for [`ViewAt::new`].
    pub fn open(base: Arc<dyn ReadAt>, view: &ViewInfo, size: u64) -> Result<Arc<dyn ReadAt>, ViewError> {
        let at = Self::new(base, view, size)?;
        Ok(match view.transform {
            None => Arc::new(at),
            Some(t) => {
                let runs = at.runs.clone();
                Arc::new(TransformAt::new(Arc::new(at), runs, t, size))
            }
        })
    }

    fn run_at(&self, offset: u64) -> Option<&ViewRun> {
        let i = self.runs.partition_point(|r| r.file_offset + r.len <= offset);
        self.runs.get(i)
    }
}

impl ReadAt for ViewAt {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        if offset >= self.size || buf.is_empty() {
            return Ok(0);
        }
        let Some(run) = self.run_at(offset) else { return Ok(0) };
        let within = offset - run.file_offset;
        let n = buf.len().min(usize::try_from(run.len - within).unwrap_or(usize::MAX));
        let Some(at) = run.base_offset else {
            buf[..n].fill(0);
            return Ok(n);
        };
        let got = self.base.read_at(at + within, &mut buf[..n])?;
        if got == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("the base ends before byte {} that the view reads", at + within),
            ));
        }
        Ok(got)
    }

    fn size(&self) -> u64 {
        self.size
    }
}

/// Reads a [`ReadAt`] front to back as a stream.
pub struct SequentialReader {
    inner: Arc<dyn ReadAt>,
    pos: u64,
}

impl SequentialReader {
    /// A stream over `inner` from its first byte.
    pub fn new(inner: Arc<dyn ReadAt>) -> Self {
        Self { inner, pos: 0 }
    }
}

impl io::Read for SequentialReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read_at(self.pos, buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
#[path = "view_tests.rs"]
mod tests;
