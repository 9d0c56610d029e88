//! The directory walk: iterative, loop-checked, depth- and budget-limited.
//! Damage in one directory is remembered and reported once the rest is walked.

use std::collections::HashSet;
use std::io::BufReader;

use exhibit_media_core::{DataLayout, EntryKind, FsEntry, Limits, MediaError, MediaErrorKind, NamePath, open_content};

use crate::UdfFs;
use crate::dir::{DELETED, FidReader, PARENT};
use crate::entry::{self, TYPE_DIRECTORY};
use crate::icb::{self, Icb};

/// Receives each entry; its error ends the walk.
pub type Visit<'v> = dyn FnMut(FsEntry) -> Result<(), MediaError> + 'v;

/// State of one walk.
pub struct Walker<'a> {
    fs: &'a UdfFs,
    limits: &'a Limits,
    visited: HashSet<u64>,
    stack: Vec<(NamePath, Icb)>,
    entries: u64,
    budget: u64,
    deferred: Option<MediaError>,
}

impl<'a> Walker<'a> {
    /// A walk of `fs` from its root directory.
    pub fn new(fs: &'a UdfFs, limits: &'a Limits) -> Self {
        let budget = fs.volume.size().saturating_mul(limits.max_expansion_ratio.max(1));
        Self { fs, limits, visited: HashSet::new(), stack: Vec::new(), entries: 0, budget, deferred: None }
    }

    /// Visits every entry, parents first; returns the first deferred error at the end.
    pub fn run(mut self, visit: &mut Visit<'_>) -> Result<(), MediaError> {
        let root = icb::read(&*self.fs.volume, &self.fs.parts, self.fs.root, self.limits)?;
        if root.file_type != TYPE_DIRECTORY {
            return Err(MediaError::corrupt(format!("root ICB at byte {} is not a directory", root.at)));
        }
        self.visited.insert(root.at);
        self.stack.push((NamePath::root(), root));
        while let Some((path, dir)) = self.stack.pop() {
            if let Err(e) = self.list(&path, &dir, visit) {
                if e.kind != MediaErrorKind::Corrupt {
                    return Err(e);
                }
                self.defer(e);
            }
        }
        self.deferred.map_or(Ok(()), Err)
    }

    fn defer(&mut self, e: MediaError) {
        tracing::debug!(error = %e, "udf: deferred error");
        self.deferred.get_or_insert(e);
    }

    fn spend(&mut self, bytes: u64, at: u64) -> Result<(), MediaError> {
        self.budget = self.budget.checked_sub(bytes).ok_or_else(|| {
            MediaError::limit(format!("entry at byte {at}: content totals pass limits.max_expansion_ratio"))
        })?;
        Ok(())
    }

    fn list(&mut self, path: &NamePath, dir: &Icb, visit: &mut Visit<'_>) -> Result<(), MediaError> {
        self.spend(dir.size, dir.at)?;
        let mut content = FsEntry::new(path.clone(), EntryKind::Directory);
        content.size = dir.size;
        content.data = dir.layout(&self.fs.parts, self.limits)?;
        let reader = BufReader::new(open_content(self.fs.volume.clone(), &content));
        let mut fids = FidReader::new(reader, dir.at);
        let mut count = 0u64;
        while let Some(fid) = fids.next_fid(self.limits)? {
            count += 1;
            if count > self.limits.max_dir_entries {
                return Err(MediaError::limit(format!(
                    "directory at byte {}: more than limits.max_dir_entries ({}) entries",
                    dir.at, self.limits.max_dir_entries
                )));
            }
            if fid.characteristics & PARENT != 0 {
                continue;
            }
            self.entries += 1;
            if self.entries > self.limits.max_entries {
                return Err(MediaError::limit(format!("more than limits.max_entries ({})", self.limits.max_entries)));
            }
            self.child(path, &fid, visit)?;
        }
        Ok(())
    }

    fn child(&mut self, path: &NamePath, fid: &crate::dir::Fid, visit: &mut Visit<'_>) -> Result<(), MediaError> {
        let deleted = fid.characteristics & DELETED != 0;
        let icb = match icb::read(&*self.fs.volume, &self.fs.parts, fid.icb, self.limits) {
            Ok(icb) => Some(icb),
            Err(e) if e.kind == MediaErrorKind::LimitExceeded => return Err(e),
            Err(e) => {
                if !deleted {
                    self.defer(e);
                }
                None
            }
        };
        let mut entry = entry::from_fid(path, fid, icb.as_ref());
        if entry.path.depth() > self.limits.max_path_depth as usize {
            return Err(MediaError::limit(format!(
                "directory offset {} below byte {}: path deeper than limits.max_path_depth",
                fid.offset,
                icb.as_ref().map_or(0, |i| i.at)
            )));
        }
        if let Some(icb) = &icb {
            if let Err(e) = entry::add_data(&mut entry, icb, &self.fs.volume, &self.fs.parts, self.limits) {
                entry.data = DataLayout::None;
                entry.recovery = None;
                self.defer(e);
            }
            if entry.has_content() {
                self.spend(icb.size, icb.at)?;
            }
        }
        let descend = icb.filter(|i| i.file_type == TYPE_DIRECTORY && !deleted);
        let child_path = entry.path.clone();
        visit(entry)?;
        if let Some(dir) = descend {
            if self.visited.insert(dir.at) {
                self.stack.push((child_path, dir));
            } else {
                self.defer(MediaError::corrupt(format!(
                    "directory loop: the directory at byte {} is reached again through directory offset {}",
                    dir.at, fid.offset
                )));
            }
        }
        Ok(())
    }
}
