//! Keeping an extracted file as a view into the stored image: its runs on
//! the image are recorded in its manifest, its digests are computed by
//! reading through the same reader every later read uses, and no second
//! copy of its bytes is written.

use std::collections::HashMap;
use std::io::Read;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use exhibit_core::digest::{Digests, HashSelection, Sha256Digest};
use exhibit_core::hashing::{MultiHasher, ParallelHasher};
use exhibit_core::view::{
    Fill, MAX_VIEW_RUNS, SequentialReader, Transform, VIEW_FORMAT, ViewAt, ViewBase, ViewInfo, ViewRun,
};
use exhibit_media::{DataLayout, FsEntry, ReadAt, read_exact_at};

/// Files up to this size are hashed on the calling thread; larger ones on
/// the pooled hashing threads, one algorithm group per core.
const SMALL_FILE: u64 = 128 << 10;
/// Bytes hashed per chunk.
const CHUNK: usize = 1 << 20;
/// Views whose digests are kept per image, for hard links (about 100 bytes
/// each); past it, a link is hashed again.
const MAX_REMEMBERED: usize = 1 << 20;

/// A stored image that files can be views into: its identity, and its
/// bytes as the explore pass reads them.
#[derive(Clone)]
pub struct ViewSource {
    /// The image artefact.
    pub base: ViewBase,
    /// Its content.
    pub disk: Arc<dyn ReadAt>,
    /// Digests of the views read so far, by the SHA-256 of the view record
    /// and size: a hard link (the same runs on the same base) is hashed
    /// once, since its bytes are by construction the same bytes.
    seen: Arc<Mutex<HashMap<Sha256Digest, Digests>>>,
    /// Base ranges `[start, end)` the image lacks (a missing E01 segment's
    /// media): runs over them are `missing` fills, never read.
    pub missing: Vec<[u64; 2]>,
}

impl ViewSource {
    /// Files on `disk`, the content of the image `base` names.
    pub fn new(base: ViewBase, disk: Arc<dyn ReadAt>) -> Self {
        Self { base, disk, seen: Arc::default(), missing: Vec::new() }
    }

    /// The same, lacking the base ranges `missing`.
    pub fn with_missing(mut self, missing: Vec<[u64; 2]>) -> Self {
        self.missing = missing;
        self
    }

    /// The digests of an identical view (`key`) already read.
    fn remembered(&self, key: &Sha256Digest) -> Option<Digests> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).get(key).copied()
    }

    fn remember(&self, key: Sha256Digest, digests: Digests) {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() < MAX_REMEMBERED {
            seen.insert(key, digests);
        }
    }
}

/// What makes two views the same bytes: base, runs, transform and size.
fn view_key(view: &ViewInfo, size: u64) -> Option<Sha256Digest> {
    let record = serde_json::to_vec(&(view, size)).ok()?;
    Some(Sha256Digest::of(&record))
}

/// The runs of `entry`'s first `want` bytes on the image, for a volume at
/// `volume_offset` of which `available` bytes exist (runs past them are
/// missing). `None` when the content is not plain runs (resident data, gaps
/// or overlaps), or is too fragmented: such files are copied, and a damaged
/// layout then fails the way a copy does.
pub fn runs_of(entry: &FsEntry, want: u64, volume_offset: u64, available: u64) -> Option<Vec<ViewRun>> {
    let DataLayout::Extents(extents) = &entry.data else { return None };
    let mut runs: Vec<ViewRun> = Vec::new();
    let mut pos = 0u64;
    for extent in extents {
        if pos == want {
            break;
        }
        if extent.file_offset != pos || extent.len == 0 {
            return None;
        }
        let len = extent.len.min(want - pos);
        match extent.volume_offset {
            None => push(&mut runs, ViewRun { file_offset: pos, len, base_offset: None, fill: Some(Fill::Sparse) }),
            Some(at) => {
                let held = available.saturating_sub(at).min(len);
                if held > 0 {
                    let base = volume_offset.checked_add(at)?;
                    push(&mut runs, ViewRun { file_offset: pos, len: held, base_offset: Some(base), fill: None });
                }
                if held < len {
                    let missing = ViewRun {
                        file_offset: pos + held,
                        len: len - held,
                        base_offset: None,
                        fill: Some(Fill::Missing),
                    };
                    push(&mut runs, missing);
                }
            }
        }
        pos += len;
        if runs.len() > MAX_VIEW_RUNS {
            return None;
        }
    }
    // A record whose data ends short of its size: the rest is missing.
    if pos < want && entry.missing_from == Some(pos) {
        push(&mut runs, ViewRun { file_offset: pos, len: want - pos, base_offset: None, fill: Some(Fill::Missing) });
        pos = want;
    }
    (pos == want).then_some(runs)
}

/// `runs` with the parts that lie in the base ranges `holes` made
/// `missing` fills.
pub fn split_missing(runs: Vec<ViewRun>, holes: &[[u64; 2]]) -> Vec<ViewRun> {
    if holes.is_empty() {
        return runs;
    }
    let mut out = Vec::with_capacity(runs.len());
    for run in runs {
        let Some(base) = run.base_offset else {
            push(&mut out, run);
            continue;
        };
        let (mut at, end) = (base, base.saturating_add(run.len));
        while at < end {
            let file_offset = run.file_offset + (at - base);
            let hole = holes.iter().find(|h| h[0] <= at && at < h[1]);
            let next = match hole {
                Some(h) => h[1].min(end),
                None => holes.iter().map(|h| h[0]).filter(|&s| s > at).min().unwrap_or(end).min(end),
            };
            let (base_offset, fill) = if hole.is_some() { (None, Some(Fill::Missing)) } else { (Some(at), None) };
            push(&mut out, ViewRun { file_offset, len: next - at, base_offset, fill });
            at = next;
        }
    }
    out
}

/// Appends `run`, merging it into the last run where it continues it.
fn push(runs: &mut Vec<ViewRun>, run: ViewRun) {
    if let Some(last) = runs.last_mut() {
        let continues = match (last.base_offset, run.base_offset) {
            (Some(a), Some(b)) => a.checked_add(last.len) == Some(b),
            (None, None) => last.fill == run.fill,
            _ => false,
        };
        if continues {
            last.len += run.len;
            return;
        }
    }
    runs.push(run);
}

/// The length of a compressed entry's stored stream (its extents), which
/// its view's runs cover; `None` for a file whose extents are its bytes.
pub fn stored_len(entry: &FsEntry) -> Option<u64> {
    let DataLayout::Extents(extents) = &entry.data else { return None };
    entry.transform.map(|_| extents.iter().map(|x| x.len).fold(0, u64::saturating_add))
}

/// The view record for `runs` on `source`, decoded by `transform`.
pub fn view_info(source: &ViewSource, runs: Vec<ViewRun>, transform: Option<Transform>) -> ViewInfo {
    ViewInfo { format: VIEW_FORMAT.into(), base: source.base.clone(), runs, transform }
}

/// Zeros fed to the hashers for sparse and missing runs: nothing is read
/// or allocated for them.
static ZEROS: [u8; CHUNK] = [0; CHUNK];

/// Reads a view once: its first `head` bytes, for identification, and the
/// digests of all of it. Runs from the base are read through the view
/// reader every later read uses; fills are hashed as zeros without
/// reading. Errors are the image's (`UnexpectedEof` where it ends too
/// soon) or the view's (`InvalidData`). A view identical to one already
/// read (a hard link) has only its head read.
pub fn read_view(
    source: &ViewSource,
    view: &ViewInfo,
    size: u64,
    head: usize,
    hashes: HashSelection,
) -> std::io::Result<(Vec<u8>, Digests)> {
    let at = ViewAt::open(source.disk.clone(), view, size)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
    let mut first = vec![0u8; usize::try_from(size).unwrap_or(usize::MAX).min(head)];
    read_exact_at(&*at, 0, &mut first)?;
    let key = view_key(view, size);
    if let Some(digests) = key.as_ref().and_then(|k| source.remembered(k)) {
        return Ok((first, digests));
    }
    let digests = if size <= SMALL_FILE {
        let mut hasher = MultiHasher::new(hashes);
        let mut buf = Vec::with_capacity(size as usize);
        SequentialReader::new(at).read_to_end(&mut buf)?;
        hasher.update(&buf);
        hasher.finish()
    } else {
        let mut hasher = ParallelHasher::new(hashes);
        match view.transform {
            // Decoded bytes: read through the decoder, one block at a time.
            Some(_) => hash_read(&*at, 0, size, &mut hasher)?,
            None => {
                for run in &view.runs {
                    match run.base_offset {
                        None => hash_zeros(&mut hasher, run.len),
                        Some(_) => hash_read(&*at, run.file_offset, run.len, &mut hasher)?,
                    }
                }
            }
        }
        hasher.finish().map_err(std::io::Error::other)?
    };
    if let Some(key) = key {
        source.remember(key, digests);
    }
    Ok((first, digests))
}

/// Feeds `len` zeros to the hashers from the static zero buffer.
fn hash_zeros(hasher: &mut ParallelHasher, mut len: u64) {
    while len > 0 {
        let n = usize::try_from(len).unwrap_or(CHUNK).min(CHUNK);
        hasher.update(Bytes::from_static(&ZEROS[..n]));
        len -= n as u64;
    }
}

/// Reads `len` bytes of the view from `offset` and feeds them to the hashers.
fn hash_read(at: &dyn ReadAt, mut offset: u64, len: u64, hasher: &mut ParallelHasher) -> std::io::Result<()> {
    let end = offset.saturating_add(len);
    while offset < end {
        // No bigger than what is left, so a small run zeroes no more.
        let mut chunk = vec![0u8; usize::try_from(end - offset).unwrap_or(CHUNK).min(CHUNK)];
        read_exact_at(at, offset, &mut chunk)?;
        offset += chunk.len() as u64;
        hasher.update(Bytes::from(chunk));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use exhibit_media::{EntryKind, Extent, NamePath};

    fn file(extents: Vec<Extent>) -> FsEntry {
        let mut e = FsEntry::new(NamePath::root().join(b"f"), EntryKind::File);
        e.size = extents.iter().map(|x| x.len).sum();
        e.data = DataLayout::Extents(extents);
        e
    }

    #[test]
    fn runs_map_extents_onto_the_image() {
        let e = file(vec![
            Extent { file_offset: 0, len: 100, volume_offset: Some(0) },
            Extent { file_offset: 100, len: 50, volume_offset: Some(100) },
            Extent { file_offset: 150, len: 50, volume_offset: None },
            Extent { file_offset: 200, len: 100, volume_offset: Some(950) },
        ]);
        let runs = runs_of(&e, 300, 512, 1000).unwrap();
        let shape: Vec<_> = runs.iter().map(|r| (r.file_offset, r.len, r.base_offset, r.fill)).collect();
        assert_eq!(
            shape,
            vec![
                (0, 150, Some(512), None),
                (150, 50, None, Some(Fill::Sparse)),
                (200, 50, Some(1462), None),
                (250, 50, None, Some(Fill::Missing)),
            ]
        );
        // Only the readable part of a deleted file.
        assert_eq!(runs_of(&e, 120, 0, 1000).unwrap().iter().map(|r| r.len).sum::<u64>(), 120);
        // A gap, resident data and a short layout are not views.
        let gap = file(vec![Extent { file_offset: 10, len: 10, volume_offset: Some(0) }]);
        assert!(runs_of(&gap, 10, 0, 1000).is_none());
        assert!(runs_of(&e, 400, 0, 1000).is_none());
        let mut inline = file(Vec::new());
        inline.data = DataLayout::Inline(b"abc".to_vec());
        assert!(runs_of(&inline, 3, 0, 1000).is_none());
    }

    #[test]
    fn runs_over_a_missing_segment_become_missing_fills() {
        let e = file(vec![Extent { file_offset: 0, len: 300, volume_offset: Some(0) }]);
        let runs = split_missing(runs_of(&e, 300, 1000, 10_000).unwrap(), &[[1100, 1200]]);
        let shape: Vec<_> = runs.iter().map(|r| (r.file_offset, r.len, r.base_offset, r.fill)).collect();
        assert_eq!(
            shape,
            vec![(0, 100, Some(1000), None), (100, 100, None, Some(Fill::Missing)), (200, 100, Some(1200), None)]
        );
    }
}
