//! Walks a FAT volume iteratively: directories on an explicit stack, visited
//! directory clusters remembered (a loop is reported, not followed), deleted
//! files and directories recovered the way sleuthkit does (contiguous from the
//! start cluster while the clusters are still free).

use std::collections::HashSet;

use exhibit_media_core::{DataLayout, EntryKind, Extent, FsEntry, MediaError, NamePath, Recovery};

use super::FatFs;
use super::bpb::FatKind;
use super::dirent::{LfnRun, attributes, short_name, timestamps};
use crate::chain;
use crate::dirstream::DirStream;
use crate::util::{byte, div_ceil, le16, le32};
use crate::walk::WalkState;

/// A FAT directory holds at most 65,536 slots (2 MiB).
pub(crate) const MAX_DIR_BYTES: u64 = 65_536 * 32;

/// Where a directory's slots are.
pub(crate) enum Source {
    /// The fixed FAT12/16 root.
    FixedRoot,
    /// A cluster chain from the FAT.
    Chain(u32),
    /// A deleted directory: contiguous free clusters from its start.
    Recovered(u32),
}

struct Pending {
    path: NamePath,
    source: Source,
    deleted: bool,
}

type Visit<'v> = &'v mut dyn FnMut(FsEntry) -> Result<(), MediaError>;

struct Walker<'a, 'v> {
    fs: &'a FatFs,
    st: WalkState<'a>,
    stack: Vec<Pending>,
    visited: HashSet<u32>,
    visit: Visit<'v>,
}

/// Streams every entry of `fs` to `visit`.
pub(crate) fn walk(fs: &FatFs, st: WalkState<'_>, visit: Visit<'_>) -> Result<(), MediaError> {
    let root = match fs.bpb.kind {
        FatKind::Fat32 => Source::Chain(fs.bpb.root_cluster),
        _ => Source::FixedRoot,
    };
    let visited = HashSet::from([fs.bpb.root_cluster]);
    let stack = vec![Pending { path: NamePath::root(), source: root, deleted: false }];
    let mut w = Walker { fs, st, stack, visited, visit };
    while let Some(dir) = w.stack.pop() {
        if let Some(runs) = w.fs.dir_runs(&dir.source, &mut w.st) {
            w.read_dir(&dir, runs)?;
        }
    }
    w.st.finish()
}

impl Walker<'_, '_> {
    fn read_dir(&mut self, dir: &Pending, runs: Vec<(u64, u64)>) -> Result<(), MediaError> {
        let mut stream = DirStream::new(self.fs.volume.as_ref(), runs);
        let mut lfn = LfnRun::default();
        let (mut slots, mut listed) = (0u64, 0u64);
        loop {
            let (offset, slot) = match stream.next_slot() {
                Ok(Some(s)) => s,
                Ok(None) => return Ok(()),
                Err(e) => {
                    self.st.problem(e);
                    return Ok(());
                }
            };
            if slots == 0 && matches!(dir.source, Source::Recovered(_)) && !is_dot(&slot) {
                tracing::debug!(offset, "deleted directory's first cluster was reused; its entries are gone");
                return Ok(());
            }
            slots += 1;
            self.st.charge(32)?;
            let attr = byte(&slot, 11);
            match slot[0] {
                0 => return Ok(()),
                _ if attr & 0x3F == 0x0F => lfn.push(&slot),
                b'.' => lfn.clear(),
                _ if attr & 0xC8 != 0 => lfn.clear(),
                first => {
                    let long = lfn.take(&slot, first == 0xE5);
                    self.entry(dir, offset, &slot, long)?;
                    listed += 1;
                }
            }
            if listed > self.st.limits.max_dir_entries {
                let msg = format!("directory at byte {offset} lists over {} entries", self.st.limits.max_dir_entries);
                self.st.problem(MediaError::limit(format!("{msg} (limits.max_dir_entries)")));
                return Ok(());
            }
        }
    }

    fn entry(&mut self, dir: &Pending, offset: u64, slot: &[u8; 32], long: Option<Vec<u8>>) -> Result<(), MediaError> {
        let lost_first = slot[0] == 0xE5;
        let deleted = lost_first || dir.deleted;
        let is_dir = byte(slot, 11) & 0x10 != 0;
        let name = long.clone().unwrap_or_else(|| short_name(slot, lost_first));
        let mut e = FsEntry::new(dir.path.join(&name), if is_dir { EntryKind::Directory } else { EntryKind::File });
        e.attributes = attributes(slot);
        e.attributes.insert("short_name".into(), String::from_utf8_lossy(&short_name(slot, lost_first)).into_owned());
        if lost_first {
            e.attributes.insert("recovered_name".into(), if long.is_some() { "long-name" } else { "partial" }.into());
        }
        e.allocated = !deleted;
        e.address = Some(offset);
        e.timestamps = timestamps(slot);
        let cluster = self.start_cluster(slot);
        if is_dir {
            let path = e.path.clone();
            self.st.emit(self.visit, e)?;
            self.descend(path, cluster, deleted, offset);
            return Ok(());
        }
        e.size = u64::from(le32(slot, 28));
        let geo = &self.fs.bpb.geo;
        // A chain can visit each cluster once, whatever size the record claims.
        self.st.charge(div_ceil(e.size, geo.cluster_size).min(geo.count()) * 4)?;
        if deleted {
            let (data, recovery) = self.fs.recover(cluster, e.size);
            (e.data, e.recovery) = (data, Some(recovery));
        } else {
            let (data, damage) = self.file_data(cluster, e.size, offset);
            (e.data, e.damage) = (data, damage.map(|d| d.message));
            e.missing_from = chain::short_of(&e.data, e.size).filter(|_| e.damage.is_none());
        }
        self.st.emit(self.visit, e)
    }

    fn start_cluster(&self, slot: &[u8; 32]) -> u32 {
        let high = if self.fs.bpb.kind == FatKind::Fat32 { u32::from(le16(slot, 20)) << 16 } else { 0 };
        high | u32::from(le16(slot, 26))
    }

    fn descend(&mut self, path: NamePath, cluster: u32, deleted: bool, offset: u64) {
        let limits = self.st.limits;
        if path.depth() >= limits.max_path_depth as usize {
            let msg =
                format!("directory entry at byte {offset} is {} levels deep (limits.max_path_depth)", path.depth());
            return self.st.problem(MediaError::limit(msg));
        }
        let known = !self.fs.bpb.geo.valid(cluster) || !self.visited.insert(cluster);
        match (known, deleted) {
            (true, true) => {}
            (true, false) => self.st.problem(MediaError::corrupt(format!(
                "directory entry at byte {offset} points at cluster {cluster}, which is not a data cluster or is already a directory (a loop)"
            ))),
            (false, _) => {
                let source = if deleted { Source::Recovered(cluster) } else { Source::Chain(cluster) };
                self.stack.push(Pending { path, source, deleted });
            }
        }
    }

    /// The file's extents, and what is wrong with its record if its chain
    /// does not hold its size: a fault of this record only, so it goes on
    /// the entry and the walk carries on.
    fn file_data(&mut self, start: u32, size: u64, offset: u64) -> (DataLayout, Option<MediaError>) {
        if size == 0 {
            return (DataLayout::None, None);
        }
        let geo = &self.fs.bpb.geo;
        let needed = div_ceil(size, geo.cluster_size);
        let what = format!("file of directory entry at byte {offset}");
        if needed > geo.count() {
            let msg =
                format!("{what} declares {size} bytes, more than the volume's {} data clusters hold", geo.count());
            return (DataLayout::None, Some(MediaError::corrupt(msg)));
        }
        let table = &self.fs.table;
        let (runs, problem) = match chain::follow(geo, start, needed, self.st.limits, &what, &|c| table.link(c)) {
            Ok((runs, _)) => (runs, None),
            Err((runs, e)) => (runs, Some(e)),
        };
        (DataLayout::Extents(chain::extents(geo, &runs, size, 0)), problem)
    }
}

fn is_dot(slot: &[u8; 32]) -> bool {
    slot.get(..11) == Some(b".          ".as_slice()) && byte(slot, 11) & 0x10 != 0
}

impl FatFs {
    /// The byte runs of a directory, `None` when a deleted one was reused or
    /// the chain is unreadable; problems go to `st`.
    pub(crate) fn dir_runs(&self, source: &Source, st: &mut WalkState<'_>) -> Option<Vec<(u64, u64)>> {
        let geo = &self.bpb.geo;
        let max = div_ceil(MAX_DIR_BYTES, geo.cluster_size);
        match *source {
            Source::FixedRoot => Some(vec![(self.bpb.root_offset, self.bpb.root_len)]),
            Source::Recovered(c) => {
                let n = chain::free_run(geo, c, max, self.volume.size(), &|c| self.table.is_free(c));
                let n = u32::try_from(n).ok().filter(|&n| n > 0)?;
                Some(chain::byte_runs(geo, &[(c, n)]))
            }
            Source::Chain(c) => {
                let what = format!("directory at cluster {c}");
                match chain::follow(geo, c, max, st.limits, &what, &|c| self.table.link(c)) {
                    Ok((runs, _)) => Some(chain::byte_runs(geo, &runs)),
                    Err((runs, e)) => {
                        st.problem(e);
                        (!runs.is_empty()).then(|| chain::byte_runs(geo, &runs))
                    }
                }
            }
        }
    }

    /// Data of a deleted file: contiguous from `start` while clusters are free.
    pub(crate) fn recover(&self, start: u32, size: u64) -> (DataLayout, Recovery) {
        if size == 0 {
            return (DataLayout::None, Recovery { recoverable_bytes: 0, complete: true });
        }
        let geo = &self.bpb.geo;
        let needed = div_ceil(size, geo.cluster_size);
        let free = chain::free_run(geo, start, needed, self.volume.size(), &|c| self.table.is_free(c));
        let bytes = (free * geo.cluster_size).min(size);
        let extents = match bytes {
            0 => Vec::new(),
            len => vec![Extent { file_offset: 0, len, volume_offset: Some(geo.offset(start)) }],
        };
        (DataLayout::Extents(extents), Recovery { recoverable_bytes: bytes, complete: bytes == size })
    }
}
