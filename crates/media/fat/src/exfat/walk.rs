//! Walks an exFAT volume iteratively, gathering entry sets across cluster
//! boundaries, remembering visited directory clusters (a loop is reported,
//! not followed) and recovering deleted sets from free clusters.

use std::collections::HashSet;

use exhibit_media_core::{DataLayout, EntryKind, Extent, FsEntry, MediaError, NamePath, Recovery};

use super::entries::{self, FileSet};
use super::{ExfatFs, MAX_DIR_BYTES};
use crate::chain::{self, Run};
use crate::dirstream::DirStream;
use crate::util::{byte, div_ceil};
use crate::walk::WalkState;

/// A directory to read: its first cluster, how many clusters at most, and
/// how to find the rest.
struct Pending {
    path: NamePath,
    start: u32,
    clusters: u64,
    contiguous: bool,
    deleted: bool,
}

type Visit<'v> = &'v mut dyn FnMut(FsEntry) -> Result<(), MediaError>;

struct Walker<'a, 'v> {
    fs: &'a ExfatFs,
    st: WalkState<'a>,
    stack: Vec<Pending>,
    visited: HashSet<u32>,
    visit: Visit<'v>,
}

/// Streams every entry of `fs` to `visit`.
pub(super) fn walk(fs: &ExfatFs, st: WalkState<'_>, visit: Visit<'_>) -> Result<(), MediaError> {
    let geo = fs.boot.geo;
    let root = Pending {
        path: NamePath::root(),
        start: fs.boot.root_cluster,
        clusters: div_ceil(MAX_DIR_BYTES, geo.cluster_size),
        contiguous: false,
        deleted: false,
    };
    let visited = HashSet::from([fs.boot.root_cluster]);
    let mut w = Walker { fs, st, stack: vec![root], visited, visit };
    while let Some(dir) = w.stack.pop() {
        if let Some(runs) = w.runs(&dir, &format!("directory at cluster {}", dir.start)) {
            w.read_dir(&dir, chain::byte_runs(&geo, &runs))?;
        }
    }
    w.st.finish()
}

impl Walker<'_, '_> {
    /// Clusters of a directory: contiguous, chained, or (deleted) the free
    /// run from its start. Problems are noted.
    fn runs(&mut self, p: &Pending, what: &str) -> Option<Vec<Run>> {
        let (runs, fault) = self.runs_or_fault(p, what);
        if let Some(fault) = fault {
            self.st.problem(fault);
        }
        runs
    }

    /// Clusters of a directory or file, and what is wrong with its chain:
    /// `None` runs when none can be trusted (contiguous clusters past the
    /// heap), the runs up to the fault otherwise.
    fn runs_or_fault(&self, p: &Pending, what: &str) -> (Option<Vec<Run>>, Option<MediaError>) {
        let (geo, fs) = (&self.fs.boot.geo, self.fs);
        let n = if p.deleted {
            chain::free_run(geo, p.start, p.clusters, fs.volume.size(), &|c| fs.is_free(c))
        } else if p.contiguous {
            let end = u64::from(p.start) + p.clusters.saturating_sub(1);
            if !geo.valid(p.start) || end > u64::from(geo.last) {
                let msg = format!("{what}: {} contiguous clusters from {} overrun the heap", p.clusters, p.start);
                return (None, Some(MediaError::corrupt(msg)));
            }
            p.clusters
        } else {
            return match chain::follow(geo, p.start, p.clusters, self.st.limits, what, &|c| fs.link(c)) {
                Ok((runs, _)) => (Some(runs), None),
                Err((runs, e)) => (Some(runs), Some(e)),
            };
        };
        (u32::try_from(n).ok().filter(|&n| n > 0).map(|n| vec![(p.start, n)]), None)
    }

    fn read_dir(&mut self, dir: &Pending, runs: Vec<(u64, u64)>) -> Result<(), MediaError> {
        let mut stream = DirStream::new(self.fs.volume.as_ref(), runs);
        let (mut set, mut want, mut at, mut listed) = (Vec::with_capacity(19), 0usize, 0u64, 0u64);
        loop {
            let (offset, slot) = match stream.next_slot() {
                Ok(Some(s)) => s,
                Ok(None) => return Ok(()),
                Err(e) => {
                    self.st.problem(e);
                    return Ok(());
                }
            };
            self.st.charge(32)?;
            let t = slot[0];
            if t == 0 {
                return Ok(());
            }
            if t & 0x7F == 0x05 {
                (at, want) = (offset, 1 + usize::from(byte(&slot, 1)));
                set.clear();
                set.push(slot);
            } else if t & 0x40 != 0 && !set.is_empty() {
                set.push(slot);
            } else {
                set.clear();
            }
            if !set.is_empty() && set.len() >= want.clamp(3, 19) {
                listed += 1;
                self.entry(dir, at, &set)?;
                set.clear();
            }
            if listed > self.st.limits.max_dir_entries {
                let msg =
                    format!("exFAT directory at byte {offset} lists over {} entries", self.st.limits.max_dir_entries);
                self.st.problem(MediaError::limit(format!("{msg} (limits.max_dir_entries)")));
                return Ok(());
            }
        }
    }

    fn entry(&mut self, dir: &Pending, offset: u64, slots: &[[u8; 32]]) -> Result<(), MediaError> {
        let set = match entries::parse(slots) {
            Ok(set) => set,
            Err(msg) if slots.first().is_some_and(|s| s[0] & 0x80 != 0) && !dir.deleted => {
                self.st.problem(MediaError::corrupt(format!("exFAT entry set at byte {offset}: {msg}")));
                return Ok(());
            }
            Err(_) => return Ok(()),
        };
        let deleted = set.deleted || dir.deleted;
        if !set.checksum_ok && deleted {
            return Ok(()); // a deleted set that was partly overwritten: not trustworthy
        }
        if !set.checksum_ok {
            self.st.problem(MediaError::corrupt(format!("exFAT entry set at byte {offset}: set checksum mismatch")));
        }
        let kind = if set.is_dir() { EntryKind::Directory } else { EntryKind::File };
        let mut e = FsEntry::new(dir.path.join(&set.name), kind);
        (e.attributes, e.allocated, e.address) = (set.attributes(), !deleted, Some(offset));
        e.timestamps = set.timestamps.clone();
        if set.is_dir() {
            let path = e.path.clone();
            self.st.emit(self.visit, e)?;
            self.descend(path, &set, deleted, offset);
            return Ok(());
        }
        e.size = set.data_len;
        self.st.charge(div_ceil(set.valid_len.min(e.size), self.fs.boot.geo.cluster_size) * 4)?;
        let fault;
        (e.data, e.recovery, fault) = self.file_data(&set, deleted, offset);
        if !deleted {
            e.damage = oversize(&set, offset, self.fs.boot.geo).or(fault);
            // A chain that ended before the size: the rest is missing, as on FAT.
            e.missing_from = chain::short_of(&e.data, e.size).filter(|_| e.damage.is_none());
        }
        self.st.emit(self.visit, e)
    }

    fn descend(&mut self, path: NamePath, set: &FileSet, deleted: bool, offset: u64) {
        let limits = self.st.limits;
        let clusters = div_ceil(set.data_len, self.fs.boot.geo.cluster_size);
        if path.depth() >= limits.max_path_depth as usize {
            let msg =
                format!("exFAT entry set at byte {offset} is {} levels deep (limits.max_path_depth)", path.depth());
            return self.st.problem(MediaError::limit(msg));
        }
        if clusters == 0 || !self.visited.insert(set.first_cluster) {
            if clusters > 0 && !deleted {
                let msg = format!(
                    "exFAT entry set at byte {offset} points at directory cluster {} again (a loop)",
                    set.first_cluster
                );
                self.st.problem(MediaError::corrupt(msg));
            }
            return;
        }
        let clusters = clusters.min(div_ceil(MAX_DIR_BYTES, self.fs.boot.geo.cluster_size));
        let p = Pending { path, start: set.first_cluster, clusters, contiguous: set.no_fat_chain, deleted };
        self.stack.push(p);
    }

    /// A file's extents, what of it a deleted file can recover, and (for a
    /// live file) what is wrong with its chain: the record's damage, never
    /// a fault of the walk.
    fn file_data(
        &mut self,
        set: &FileSet,
        deleted: bool,
        offset: u64,
    ) -> (DataLayout, Option<Recovery>, Option<String>) {
        let (size, geo) = (set.data_len, self.fs.boot.geo);
        let mut valid = set.valid_len;
        if valid > size {
            self.st.problem(MediaError::corrupt(format!(
                "exFAT entry set at byte {offset}: valid length {valid} exceeds size {size}"
            )));
            valid = size;
        }
        if size == 0 {
            return (DataLayout::None, deleted.then_some(Recovery { recoverable_bytes: 0, complete: true }), None);
        }
        // A size past the whole heap is corrupt: list it, but give no sparse
        // tail, so nobody reads exabytes of zeros for it.
        let heap = geo.count() * geo.cluster_size;
        let plausible = size <= heap;
        if !plausible {
            // A live file's record carries this as its damage (see `damage`).
            if deleted {
                self.st.problem(MediaError::corrupt(format!(
                    "exFAT entry set at byte {offset}: size {size} exceeds the {heap} byte heap"
                )));
            }
            valid = valid.min(heap);
        }
        let clusters = div_ceil(valid, geo.cluster_size);
        let p = Pending {
            path: NamePath::root(),
            start: set.first_cluster,
            clusters,
            contiguous: set.no_fat_chain,
            deleted,
        };
        let (runs, fault) = if clusters == 0 {
            (None, None)
        } else {
            self.runs_or_fault(&p, &format!("file of entry set at byte {offset}"))
        };
        let runs = runs.unwrap_or_default();
        let mut extents = chain::extents(&geo, &runs, valid, 0);
        let have: u64 = extents.iter().map(|x| x.len).sum();
        if plausible && have == valid && size > valid {
            extents.push(Extent { file_offset: valid, len: size - valid, volume_offset: None });
        }
        let readable: u64 = extents.iter().map(|x| x.len).sum();
        let recovery = deleted.then_some(Recovery { recoverable_bytes: readable, complete: readable == size });
        (DataLayout::Extents(extents), recovery, fault.filter(|_| !deleted).map(|e| e.message))
    }
}

/// A live file's record whose size is past the whole heap: a fault of this
/// record only, listed on it while the walk goes on. (A chain that merely
/// ends early leaves the file truncated instead: `missing_from`.)
fn oversize(set: &FileSet, offset: u64, geo: chain::Geometry) -> Option<String> {
    let (size, heap) = (set.data_len, geo.count() * geo.cluster_size);
    (size > heap).then(|| format!("exFAT entry set at byte {offset}: size {size} exceeds the {heap} byte heap"))
}
