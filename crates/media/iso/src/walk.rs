//! The directory walk: iterative, loop-checked, depth- and budget-limited.
//! Corrupt structures are remembered and reported after the rest is walked.

use std::collections::HashSet;

use exhibit_media_core::{
    DataLayout, EntryKind, ExtentClaims, FsEntry, Limits, MediaError, NamePath, Transform, read_exact_at,
};

use crate::build::{Gathered, entry, kind_of, push_extents};
use crate::descriptor::{DirExtent, SECTOR};
use crate::record::{DirRecord, FLAG_MULTI_EXTENT, iso_name, joliet_name};
use crate::susp::{RockRidge, Susp};
use crate::{IsoFs, Namespace, record_head};

/// Receives each entry; its error ends the walk.
pub(crate) type Visit<'v> = dyn FnMut(FsEntry) -> Result<(), MediaError> + 'v;

/// State of one walk.
pub(crate) struct Walker<'a> {
    fs: &'a IsoFs,
    limits: &'a Limits,
    visited: HashSet<u32>,
    stack: Vec<(NamePath, DirExtent)>,
    relocated: Vec<(NamePath, Gathered)>,
    entries: u64,
    data_left: u64,
    /// Directories and the files admitted: hard links are free, repeats pay.
    claims: ExtentClaims,
    dir_left: u64,
    deferred: Option<MediaError>,
}

impl<'a> Walker<'a> {
    /// A walk of `fs` from its root.
    pub(crate) fn new(fs: &'a IsoFs, limits: &'a Limits) -> Self {
        let budget = fs.volume.size().saturating_mul(limits.max_expansion_ratio.max(1));
        let root = fs.tree.root;
        Self {
            fs,
            limits,
            visited: HashSet::from([root.lba]),
            stack: vec![(NamePath::root(), root)],
            relocated: Vec::new(),
            entries: 0,
            data_left: budget,
            claims: ExtentClaims::default(),
            dir_left: budget,
            deferred: None,
        }
    }

    /// Visits every entry; returns the first deferred error at the end.
    pub(crate) fn run(mut self, visit: &mut Visit<'_>) -> Result<(), MediaError> {
        loop {
            while let Some((path, dir)) = self.stack.pop() {
                match self.read_dir(dir) {
                    Ok(bytes) => self.list(&path, dir, &bytes, visit)?,
                    Err(e) => self.defer(e),
                }
            }
            if !self.unreached_relocations(visit)? {
                return self.deferred.map_or(Ok(()), Err);
            }
        }
    }

    /// Directories marked RE are shown where a CL points at them. Any that
    /// no CL reached are listed where they are, so RE never hides data.
    fn unreached_relocations(&mut self, visit: &mut Visit<'_>) -> Result<bool, MediaError> {
        let mut listed = false;
        for (path, mut g) in std::mem::take(&mut self.relocated) {
            if !self.visited.contains(&g.lba) {
                g.rr.relocated = false;
                g.rr.unreached_relocation = true;
                self.emit(g, &path, true, visit)?;
                listed = true;
            }
        }
        Ok(listed)
    }

    fn defer(&mut self, e: MediaError) {
        tracing::debug!(error = %e, "iso9660: deferred error");
        self.deferred.get_or_insert(e);
    }

    fn block_offset(&self, lba: u32) -> u64 {
        u64::from(lba) * self.fs.tree.block_size
    }

    /// `dir` cut to the size its own `.` record gives when that is shorter
    /// than the size its parent (or the volume descriptor) claims: bytes past
    /// a directory are other structures, never its entries.
    fn own_length(&self, dir: DirExtent, offset: u64) -> DirExtent {
        let head = record_head(&*self.fs.volume, offset);
        let dot = DirRecord::parse(&head).filter(|r| r.is_dot_or_dotdot() && r.lba == dir.lba);
        match dot.map(|r| r.data_len).filter(|&own| own > 0 && own < dir.len) {
            Some(own) => {
                tracing::warn!(
                    at = offset,
                    claimed = dir.len,
                    own,
                    "iso9660: directory is shorter than its record says"
                );
                DirExtent { lba: dir.lba, len: own }
            }
            None => dir,
        }
    }

    fn read_dir(&mut self, dir: DirExtent) -> Result<Vec<u8>, MediaError> {
        let (offset, size) = (self.block_offset(dir.lba), self.fs.volume.size());
        let dir = self.own_length(dir, offset);
        if offset >= size {
            return Err(MediaError::corrupt(format!(
                "directory at block {} (byte {offset}) lies beyond the medium's {size} bytes",
                dir.lba
            )));
        }
        let avail = u64::from(dir.len).min(size - offset);
        self.claims.structure(offset, avail);
        self.dir_left = self.dir_left.checked_sub(avail).ok_or_else(|| {
            MediaError::limit(format!(
                "directory at byte {offset}: directories re-read past limits.max_expansion_ratio"
            ))
        })?;
        let mut buf = vec![0u8; self.limits.check_alloc(avail, "ISO 9660 directory")?];
        read_exact_at(&*self.fs.volume, offset, &mut buf)
            .map_err(|e| MediaError::io(format!("directory at byte {offset}"), e))?;
        if avail < u64::from(dir.len) {
            self.defer(MediaError::corrupt(format!("directory at byte {offset} runs past the end of the medium")));
        }
        Ok(buf)
    }

    fn list(&mut self, path: &NamePath, dir: DirExtent, bytes: &[u8], visit: &mut Visit<'_>) -> Result<(), MediaError> {
        let base = self.block_offset(dir.lba);
        let (mut pos, mut count, mut pending) = (0usize, 0u64, None);
        while let Some(&len) = bytes.get(pos) {
            let sector_end = (pos / SECTOR as usize + 1) * SECTOR as usize;
            let rec = bytes.get(pos..sector_end.min(bytes.len())).and_then(DirRecord::parse);
            let Some(rec) = rec.filter(|_| len != 0) else {
                if len != 0 {
                    let at = base + pos as u64;
                    self.defer(MediaError::corrupt(format!("directory record at byte {at} is malformed")));
                }
                pos = sector_end;
                continue;
            };
            let address = base + pos as u64;
            pos += rec.len;
            if rec.is_dot_or_dotdot() {
                continue;
            }
            count += 1;
            if count > self.limits.max_dir_entries {
                let msg = format!("directory at byte {base} holds more than limits.max_dir_entries records");
                self.defer(MediaError::limit(msg));
                break;
            }
            pending = self.gather(pending, &rec, address, path, visit)?;
        }
        if let Some(g) = pending {
            let at = g.address;
            self.defer(MediaError::corrupt(format!("multi-extent file at byte {at} has no final record")));
            self.emit(g, path, false, visit)?;
        }
        Ok(())
    }

    fn gather(
        &mut self,
        pending: Option<Gathered>,
        rec: &DirRecord<'_>,
        address: u64,
        path: &NamePath,
        visit: &mut Visit<'_>,
    ) -> Result<Option<Gathered>, MediaError> {
        let mut g = match pending {
            Some(g) if g.raw == rec.name => g,
            Some(g) => {
                let msg = format!("multi-extent file at byte {} is followed by another name", g.address);
                self.defer(MediaError::corrupt(msg));
                self.emit(g, path, false, visit)?;
                self.start(rec, address)
            }
            None => self.start(rec, address),
        };
        if let Err(e) = push_extents(rec, self.fs.tree.block_size, g.size, self.limits, &mut g.extents) {
            self.defer(e);
        }
        g.size += u64::from(rec.data_len);
        g.data_len = rec.data_len;
        if rec.flags & FLAG_MULTI_EXTENT != 0 && !rec.is_dir() {
            return Ok(Some(g));
        }
        self.emit(g, path, rec.is_dir(), visit)?;
        Ok(None)
    }

    fn start(&mut self, rec: &DirRecord<'_>, address: u64) -> Gathered {
        let rr = self.rock_ridge(rec);
        let (name, identifier) = match self.fs.namespace {
            Namespace::Joliet => {
                let (name, lossy) = joliet_name(rec.name);
                (name, lossy.then(|| rec.name.iter().map(|b| format!("{b:02x}")).collect()))
            }
            _ => {
                let name = rr.name.clone().unwrap_or_else(|| iso_name(rec.name));
                let id = (name != rec.name).then(|| String::from_utf8_lossy(rec.name).into_owned());
                (name, id)
            }
        };
        Gathered {
            name,
            raw: rec.name.to_vec(),
            flags: rec.flags,
            recorded: rec.recorded,
            rr,
            identifier,
            address,
            lba: rec.lba,
            data_len: rec.data_len,
            extents: Vec::new(),
            size: 0,
        }
    }

    fn rock_ridge(&mut self, rec: &DirRecord<'_>) -> RockRidge {
        if self.fs.namespace != Namespace::RockRidge {
            return RockRidge::default();
        }
        let susp = Susp { volume: &*self.fs.volume, block_size: self.fs.tree.block_size, skip: self.fs.susp_skip };
        susp.parse(rec.system_use, self.limits).unwrap_or_else(|e| {
            self.defer(e);
            RockRidge::default()
        })
    }

    fn emit(&mut self, g: Gathered, path: &NamePath, is_dir: bool, visit: &mut Visit<'_>) -> Result<(), MediaError> {
        if g.rr.relocated && is_dir {
            self.relocated.push((path.clone(), g));
            return Ok(());
        }
        self.entries += 1;
        if self.entries > self.limits.max_entries {
            return Err(MediaError::limit(format!(
                "more than limits.max_entries ({}) entries",
                self.limits.max_entries
            )));
        }
        let child = path.join(&g.name);
        let (kind, address) = (kind_of(&g, is_dir), g.address);
        let dir = match (&kind, g.rr.child_link) {
            (EntryKind::Directory, Some(lba)) => self.relocated_dir(lba, address),
            (EntryKind::Directory, None) => Some(DirExtent { lba: g.lba, len: g.data_len }),
            _ => None,
        };
        let zisofs = g.rr.zisofs;
        let mut e = entry(g, child.clone(), kind, self.fs.namespace);
        if let Some(zf) = zisofs.filter(|_| matches!(e.kind, EntryKind::File)) {
            // The extents hold the compressed stream; the file is what it
            // decodes to, read through the view transform (bounded there).
            e.attributes.insert("compression".into(), "zisofs".into());
            e.attributes.insert("zisofs.stored_bytes".into(), e.size.to_string());
            e.transform = Some(Transform::Zisofs { header_size: zf.header_size, block_log2: zf.block_log2 });
            e.size = zf.size;
        }
        match (&e.kind, dir) {
            (EntryKind::Symlink { target }, _) => e.size = target.len() as u64,
            (EntryKind::Directory, Some(d)) => e.size = u64::from(d.len),
            _ => {}
        }
        self.charge_data(&mut e);
        visit(e)?;
        if let Some(d) = dir {
            self.descend(child, d, address);
        }
        Ok(())
    }

    /// Counts the readable bytes of `e`'s extents against the expansion
    /// budget (a hard link of a file already counted is free, see
    /// [`ExtentClaims`]); past it, the entry keeps its metadata but loses
    /// its data.
    fn charge_data(&mut self, e: &mut FsEntry) {
        let DataLayout::Extents(runs) = &e.data else { return };
        let size = self.fs.volume.size();
        let readable = self.claims.cost(runs, size);
        match self.data_left.checked_sub(readable) {
            Some(left) => {
                self.data_left = left;
                self.claims.admit(runs, size);
            }
            None => {
                let at = e.address.unwrap_or_default();
                e.damage = Some(format!(
                    "file record at byte {at}: its extents repeat data past limits.max_expansion_ratio \
                     (the files of this volume claim more than the medium holds); its content is not read"
                ));
                e.data = DataLayout::None;
            }
        }
    }

    fn relocated_dir(&mut self, lba: u32, address: u64) -> Option<DirExtent> {
        let head = record_head(&*self.fs.volume, self.block_offset(lba));
        let dot = DirRecord::parse(&head);
        match dot {
            Some(rec) if rec.is_dot_or_dotdot() => Some(DirExtent { lba, len: rec.data_len }),
            _ => {
                let msg = format!("Rock Ridge CL at byte {address} points at block {lba}, which holds no directory");
                self.defer(MediaError::corrupt(msg));
                None
            }
        }
    }

    fn descend(&mut self, path: NamePath, dir: DirExtent, address: u64) {
        if path.depth() >= self.limits.max_path_depth as usize {
            let msg = format!("directory record at byte {address} is deeper than limits.max_path_depth");
            self.defer(MediaError::limit(msg));
        } else if !self.visited.insert(dir.lba) {
            let msg = format!("directory loop: record at byte {address} points at block {} already walked", dir.lba);
            self.defer(MediaError::corrupt(msg));
        } else {
            self.stack.push((path, dir));
        }
    }
}
