//! The walk: iterative, depth-limited, every directory inode entered once
//! (a second visit is a loop, reported as Corrupt while the walk goes on).

use std::collections::HashSet;

use exhibit_media_core::{
    DataLayout, EntryKind, FsEntry, Limits, MediaError, NamePath, ReadAt, Recovery, read_exact_at,
};

use crate::blocks;
use crate::dir::{DirEntry, read_entries};
use crate::inode::{FLAG_INLINE_DATA, Inode};
use crate::superblock::Superblock;

const ROOT_INODE: u64 = 2;
const DIR: u64 = 0x4000;

/// Walk state over one volume.
pub(crate) struct Walker<'a> {
    volume: &'a dyn ReadAt,
    sb: &'a Superblock,
    limits: &'a Limits,
    visited: HashSet<u64>,
    entries: u64,
    deferred: Option<MediaError>,
}

impl<'a> Walker<'a> {
    pub(crate) fn new(volume: &'a dyn ReadAt, sb: &'a Superblock, limits: &'a Limits) -> Self {
        Self { volume, sb, limits, visited: HashSet::new(), entries: 0, deferred: None }
    }

    fn defer(&mut self, e: MediaError) {
        tracing::warn!(error = %e, "ext walk continues past a damaged structure");
        self.deferred.get_or_insert(e);
    }

    /// Visits every entry below the root, parents first. Damage is reported
    /// after everything reachable was visited.
    pub(crate) fn run(mut self, visit: &mut dyn FnMut(FsEntry) -> Result<(), MediaError>) -> Result<(), MediaError> {
        let root = Inode::read(self.volume, self.sb, ROOT_INODE)?;
        if root.file_type() != DIR {
            return Err(MediaError::corrupt(format!("ext root inode 2 has mode 0o{:o}, not a directory", root.mode)));
        }
        self.visited.insert(ROOT_INODE);
        let mut stack = vec![(NamePath::root(), root)];
        while let Some((path, dir)) = stack.pop() {
            let names = match self.names(&dir) {
                Ok(names) => names,
                Err(e) => {
                    self.defer(e);
                    continue;
                }
            };
            for name in names {
                if let Some(child) = self.child(&path, &name, visit)? {
                    stack.push(child);
                }
            }
        }
        self.deferred.map_or(Ok(()), Err)
    }

    fn names(&self, dir: &Inode) -> Result<Vec<DirEntry>, MediaError> {
        if dir.flags & FLAG_INLINE_DATA != 0 {
            return Err(MediaError::unsupported(format!("ext directory inode {}: inline data", dir.number)));
        }
        self.limits.check_alloc(dir.size, &format!("ext directory inode {}", dir.number))?;
        let extents = blocks::extents(self.volume, self.sb, dir, self.limits)?;
        read_entries(self.volume, self.sb, &extents, self.limits)
    }

    /// Visits one name; returns the directory to descend into, if it is one.
    fn child(
        &mut self,
        parent: &NamePath,
        name: &DirEntry,
        visit: &mut dyn FnMut(FsEntry) -> Result<(), MediaError>,
    ) -> Result<Option<(NamePath, Inode)>, MediaError> {
        self.entries += 1;
        if self.entries > self.limits.max_entries {
            return Err(MediaError::limit(format!(
                "ext volume yields over {} entries (limits.max_entries)",
                self.limits.max_entries
            )));
        }
        let path = parent.join(&name.name);
        if name.deleted {
            visit(self.deleted_entry(path, name))?;
            return Ok(None);
        }
        let inode = match Inode::read(self.volume, self.sb, name.inode) {
            Ok(inode) => inode,
            Err(e) => {
                self.defer(MediaError {
                    message: format!("{} (named by the record at byte {})", e.message, name.offset),
                    ..e
                });
                return Ok(None);
            }
        };
        let entry = self.entry(path.clone(), &inode);
        visit(entry)?;
        if inode.file_type() != DIR {
            return Ok(None);
        }
        if path.depth() >= self.limits.max_path_depth as usize {
            self.defer(MediaError::limit(format!(
                "ext directory inode {} is deeper than limits.max_path_depth",
                inode.number
            )));
            return Ok(None);
        }
        if !self.visited.insert(inode.number) {
            self.defer(MediaError::corrupt(format!(
                "ext directory loop: inode {} is entered again by the record at byte {}",
                inode.number, name.offset
            )));
            return Ok(None);
        }
        Ok(Some((path, inode)))
    }

    /// A name found in directory slack. Its inode's data is offered only
    /// while no live name links the inode (a freed inode, not reused); it is
    /// never descended into, and damage here is not the volume's.
    fn deleted_entry(&self, path: NamePath, name: &DirEntry) -> FsEntry {
        let mut entry = FsEntry::new(path, EntryKind::File);
        entry.allocated = false;
        entry.address = Some(name.inode);
        entry.attributes.insert("ext.dirent".into(), format!("slack at byte {}", name.offset));
        let inode = match Inode::read(self.volume, self.sb, name.inode) {
            Ok(inode) if inode.links == 0 => inode,
            Ok(_) => {
                entry.attributes.insert("ext.inode".into(), "reallocated to another file".into());
                return entry;
            }
            Err(e) => {
                entry.attributes.insert("data-error".into(), e.message);
                return entry;
            }
        };
        entry.size = inode.size;
        entry.timestamps = inode.timestamps.clone();
        entry.attributes.insert("mode".into(), format!("0o{:o}", inode.mode));
        if inode.dtime != 0 {
            entry.attributes.insert("ext.inode.dtime".into(), inode.dtime.to_string());
        }
        match self.kind_and_data(&inode) {
            Ok((kind, data)) => {
                let recoverable = if matches!(data, DataLayout::None) { 0 } else { inode.size };
                let complete = recoverable == inode.size;
                (entry.kind, entry.data) = (kind, data);
                entry.recovery = Some(Recovery { recoverable_bytes: recoverable, complete });
            }
            Err(e) => {
                entry.attributes.insert("data-error".into(), e.message);
            }
        }
        entry
    }

    fn entry(&mut self, path: NamePath, inode: &Inode) -> FsEntry {
        let mut entry = FsEntry::new(path, EntryKind::File);
        entry.size = inode.size;
        entry.address = Some(inode.number);
        entry.timestamps = inode.timestamps.clone();
        let attrs = &mut entry.attributes;
        attrs.insert("mode".into(), format!("0o{:o}", inode.mode));
        attrs.insert("uid".into(), inode.uid.to_string());
        attrs.insert("gid".into(), inode.gid.to_string());
        attrs.insert("links".into(), inode.links.to_string());
        attrs.insert("flags".into(), format!("0x{:x}", inode.flags));
        if inode.dtime != 0 {
            attrs.insert("ext.inode.dtime".into(), inode.dtime.to_string());
        }
        match self.kind_and_data(inode) {
            Ok((kind, data)) => (entry.kind, entry.data) = (kind, data),
            Err(e) => {
                entry.attributes.insert("data-error".into(), e.message.clone());
                self.defer(e);
            }
        }
        entry
    }

    fn kind_and_data(&self, inode: &Inode) -> Result<(EntryKind, DataLayout), MediaError> {
        let other = |what: &str| Ok((EntryKind::Other { what: what.into() }, DataLayout::None));
        let device = |class: &str| {
            let (major, minor) = inode.device();
            Ok((EntryKind::Device { class: class.into(), major, minor }, DataLayout::None))
        };
        match inode.file_type() {
            0x8000 => Ok((EntryKind::File, self.data(inode)?)),
            DIR => Ok((EntryKind::Directory, DataLayout::None)),
            0xA000 => Ok((EntryKind::Symlink { target: self.link_target(inode)? }, DataLayout::None)),
            0x2000 => device("char"),
            0x6000 => device("block"),
            0x1000 => other("fifo"),
            0xC000 => other("socket"),
            t => other(&format!("unknown file type 0o{t:o}")),
        }
    }

    fn data(&self, inode: &Inode) -> Result<DataLayout, MediaError> {
        if inode.size == 0 {
            return Ok(DataLayout::None);
        }
        if inode.flags & FLAG_INLINE_DATA != 0 {
            let inline = usize::try_from(inode.size).ok().and_then(|n| inode.block_area.get(..n));
            let inline = inline.ok_or_else(|| {
                MediaError::unsupported(format!("ext inode {}: inline data past the inode (xattr)", inode.number))
            })?;
            return Ok(DataLayout::Inline(inline.to_vec()));
        }
        Ok(DataLayout::Extents(blocks::extents(self.volume, self.sb, inode, self.limits)?))
    }

    fn link_target(&self, inode: &Inode) -> Result<Vec<u8>, MediaError> {
        if inode.is_fast_symlink(self.sb) || inode.flags & FLAG_INLINE_DATA != 0 {
            let n = usize::try_from(inode.size).unwrap_or(usize::MAX).min(60);
            return Ok(inode.block_area.get(..n).unwrap_or_default().to_vec());
        }
        let len = self.limits.check_alloc(inode.size.min(self.sb.block_size), "ext symlink target")?;
        let mut target = vec![0u8; len];
        let extents = blocks::extents(self.volume, self.sb, inode, self.limits)?;
        let Some(at) = extents.first().and_then(|e| e.volume_offset) else {
            return Err(MediaError::corrupt(format!("ext symlink inode {} has no data block", inode.number)));
        };
        read_exact_at(self.volume, at, &mut target)
            .map_err(|e| MediaError::io(format!("ext symlink at byte {at}"), e))?;
        Ok(target)
    }
}
