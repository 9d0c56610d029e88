//! The directory walk: iterative, depth-limited, loop-checked, from the root
//! record through $I30 indexes, then the scan for deleted records.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use exhibit_media_core::{FileSystem, FsEntry, Limits, MediaError, NamePath, ReadAt};

use crate::bytes::name_bytes;
use crate::entry::{all_attrs, build};
use crate::index::{self, DirEntry};
use crate::mft::Mft;
use crate::values::NS_DOS;

/// Record number of the root directory.
pub(crate) const ROOT: u64 = 5;

/// A parsed NTFS volume.
pub struct NtfsFs {
    pub(crate) mft: Mft,
    pub(crate) label: Option<String>,
}

/// What one walk has seen so far.
pub(crate) struct WalkState<'v> {
    pub visit: &'v mut dyn FnMut(FsEntry) -> Result<(), MediaError>,
    pub limits: Limits,
    pub emitted: u64,
    pub first_error: Option<MediaError>,
    /// Paths of directories already placed, by record number.
    pub dir_paths: HashMap<u64, NamePath>,
    /// Records listed by the directory walk.
    pub listed: HashSet<u64>,
    /// Index bytes the walk may still read.
    pub budget: u64,
}

impl WalkState<'_> {
    /// Keeps the first damage found; the walk goes on.
    pub fn note(&mut self, e: MediaError) {
        tracing::warn!(error = %e, "ntfs: damaged structure");
        self.first_error.get_or_insert(e);
    }

    /// Passes one entry on, enforcing `max_entries`.
    pub fn emit(&mut self, e: FsEntry) -> Result<(), MediaError> {
        self.emitted += 1;
        if self.emitted > self.limits.max_entries {
            return Err(MediaError::limit(format!(
                "the volume yields more than {} entries (limits.max_entries)",
                self.limits.max_entries
            )));
        }
        (self.visit)(e)
    }
}

impl NtfsFs {
    /// Lists one directory and queues its subdirectories.
    fn walk_dir(
        &self,
        st: &mut WalkState,
        number: u64,
        path: &NamePath,
        stack: &mut Vec<(u64, NamePath)>,
    ) -> Result<(), MediaError> {
        let limits = st.limits;
        let Some(entries) = self.dir_entries(st, number) else { return Ok(()) };
        let mut subdirs = Vec::new();
        for entry in entries {
            if entry.record == number {
                continue;
            }
            let rec = match self.mft.record(entry.record, &limits) {
                Ok(r) if r.in_use() => r,
                Ok(_) => continue,
                Err(e) => {
                    st.note(e);
                    continue;
                }
            };
            let child = path.join(&name_bytes(&entry.name.name));
            let attrs = all_attrs(&self.mft, &rec, &limits);
            for e in build(&self.mft, &rec, &attrs, Some(&entry.name), child.clone(), &limits) {
                st.emit(e)?;
            }
            st.listed.insert(rec.number);
            if rec.is_directory() {
                subdirs.extend(place_subdir(st, rec.number, child));
            }
        }
        stack.extend(subdirs.into_iter().rev());
        Ok(())
    }

    /// The names in a directory's index; damage is noted and yields `None`.
    fn dir_entries(&self, st: &mut WalkState, number: u64) -> Option<Vec<DirEntry>> {
        let listed = self
            .mft
            .record(number, &st.limits)
            .and_then(|dir| index::list(&self.mft, &dir, &st.limits, &mut st.budget));
        match listed {
            Ok(list) => Some(preferred_names(list)),
            Err(e) => {
                st.note(e);
                None
            }
        }
    }
}

/// Records a subdirectory's path and returns it for queueing, unless it was
/// already placed (a loop) or lies too deep; either is noted.
fn place_subdir(st: &mut WalkState, number: u64, path: NamePath) -> Option<(u64, NamePath)> {
    if path.depth() >= st.limits.max_path_depth as usize {
        let depth = st.limits.max_path_depth;
        st.note(MediaError::limit(format!("directories nest deeper than {depth} (limits.max_path_depth)")));
        return None;
    }
    match st.dir_paths.entry(number) {
        Entry::Occupied(_) => {
            st.note(MediaError::corrupt(format!(
                "directory record {number} is reached again at {} (a directory loop)",
                String::from_utf8_lossy(&path.to_bytes())
            )));
            None
        }
        Entry::Vacant(slot) => {
            slot.insert(path.clone());
            Some((number, path))
        }
    }
}

/// Drops DOS 8.3 names of records that also have another name here, and
/// sorts by name so listings are stable.
fn preferred_names(mut list: Vec<DirEntry>) -> Vec<DirEntry> {
    let long: HashSet<u64> = list.iter().filter(|e| e.name.namespace != NS_DOS).map(|e| e.record).collect();
    list.retain(|e| e.name.namespace != NS_DOS || !long.contains(&e.record));
    list.sort_by(|a, b| a.name.name.cmp(&b.name.name));
    list.dedup_by(|a, b| a.record == b.record && a.name.name == b.name.name);
    list
}

impl FileSystem for NtfsFs {
    fn kind(&self) -> &'static str {
        "ntfs"
    }

    fn label(&self) -> Option<String> {
        self.label.clone()
    }

    fn walk(
        &self,
        limits: &Limits,
        visit: &mut dyn FnMut(FsEntry) -> Result<(), MediaError>,
    ) -> Result<(), MediaError> {
        let span = tracing::info_span!("ntfs.walk", records = self.mft.count);
        let _guard = span.enter();
        let mut st = WalkState {
            visit,
            limits: *limits,
            emitted: 0,
            first_error: None,
            dir_paths: HashMap::from([(ROOT, NamePath::root())]),
            listed: HashSet::from([ROOT]),
            budget: self.mft.volume.size().saturating_mul(limits.max_expansion_ratio.max(1)),
        };
        let mut stack = vec![(ROOT, NamePath::root())];
        while let Some((number, path)) = stack.pop() {
            self.walk_dir(&mut st, number, &path, &mut stack)?;
        }
        crate::deleted::scan(&self.mft, &mut st)?;
        match st.first_error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn volume(&self) -> Arc<dyn ReadAt> {
        self.mft.volume.clone()
    }

    fn declared_size(&self) -> Option<u64> {
        self.mft.geo.total_clusters.checked_mul(self.mft.geo.cluster_size)
    }
}
