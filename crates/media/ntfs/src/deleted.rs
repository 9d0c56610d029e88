//! Deleted and unreachable records: a scan of every MFT record the directory
//! walk did not list. Paths are rebuilt from $FILE_NAME parent references
//! where the parent still exists, else placed under `/$OrphanFiles/` as
//! sleuthkit does. Recoverable bytes are those whose clusters $Bitmap marks free.

use exhibit_media_core::{DataLayout, EntryKind, Extent, FsEntry, Limits, MediaError, NamePath, Recovery};

use crate::bytes::name_bytes;
use crate::entry::{all_attrs, build};
use crate::mft::{Mft, read_extents};
use crate::record::{Body, Record, ty};
use crate::runs;
use crate::values::{FileName, NS_DOS, file_name};
use crate::walk::WalkState;

/// The virtual directory holding entries whose parent is gone.
const ORPHANS: &[u8] = b"$OrphanFiles";
/// Record number of $Bitmap.
const BITMAP: u64 = 6;

/// Lists every record the walk did not reach that still holds a name or,
/// when unallocated, any attributes (sleuthkit's `OrphanFile-N`).
pub(crate) fn scan(mft: &Mft, st: &mut WalkState) -> Result<(), MediaError> {
    let limits = st.limits;
    let bitmap = Bitmap::open(mft, &limits);
    let mut orphans_listed = false;
    for number in 0..mft.count {
        if st.listed.contains(&number) {
            continue;
        }
        let Ok(rec) = mft.record(number, &limits) else { continue };
        if rec.base_record != 0 {
            continue;
        }
        let names = names_of(&rec);
        if names.is_empty() && (rec.in_use() || rec.attrs.is_empty()) {
            continue;
        }
        let attrs = all_attrs(mft, &rec, &limits);
        let placed: Vec<(NamePath, Option<&FileName>)> = if names.is_empty() {
            vec![(NamePath::root().join(ORPHANS).join(format!("OrphanFile-{number}").as_bytes()), None)]
        } else {
            names.iter().map(|n| (place(mft, st, n), Some(n))).collect()
        };
        for (path, name) in placed {
            if path.0.first().map(Vec::as_slice) == Some(ORPHANS) && !orphans_listed {
                orphans_listed = true;
                let mut dir = FsEntry::new(NamePath::root().join(ORPHANS), EntryKind::Directory);
                dir.attributes.insert("virtual".into(), "entries whose parent directory is gone".into());
                st.emit(dir)?;
            }
            if rec.is_directory() && name.is_some() {
                st.dir_paths.entry(number).or_insert_with(|| path.clone());
            }
            for mut e in build(mft, &rec, &attrs, name, path, &limits) {
                if !e.allocated {
                    e.recovery = Some(recovery(&e, bitmap.as_ref(), mft));
                }
                st.emit(e)?;
            }
        }
    }
    Ok(())
}

/// The record's names, DOS 8.3 names dropped when a long name exists.
fn names_of(rec: &Record) -> Vec<FileName> {
    let all: Vec<FileName> = rec
        .of_type(ty::FILE_NAME)
        .filter_map(|a| match &a.body {
            Body::Resident(v) => file_name(v),
            Body::NonResident(_) => None,
        })
        .collect();
    let has_long = all.iter().any(|n| n.namespace != NS_DOS);
    all.into_iter().filter(|n| !has_long || n.namespace != NS_DOS).collect()
}

/// The path of a name: under its parent's path when the parent chain reaches
/// a placed directory within the depth limit, else under `/$OrphanFiles`.
fn place(mft: &Mft, st: &mut WalkState, name: &FileName) -> NamePath {
    let leaf = name_bytes(&name.name);
    let mut chain: Vec<(u64, Vec<u8>)> = Vec::new();
    let mut cur = name.parent;
    let base = loop {
        if let Some(p) = st.dir_paths.get(&cur) {
            break Some(p.clone());
        }
        if chain.len() >= st.limits.max_path_depth as usize || chain.iter().any(|(n, _)| *n == cur) {
            break None;
        }
        let Ok(rec) = mft.record(cur, &st.limits) else { break None };
        let Some(parent_name) = names_of(&rec).into_iter().next().filter(|_| rec.is_directory()) else { break None };
        chain.push((cur, name_bytes(&parent_name.name)));
        cur = parent_name.parent;
    };
    let Some(mut path) = base else { return NamePath::root().join(ORPHANS).join(&leaf) };
    for (number, part) in chain.into_iter().rev() {
        path = path.join(&part);
        st.dir_paths.insert(number, path.clone());
    }
    if path.depth() >= st.limits.max_path_depth as usize {
        return NamePath::root().join(ORPHANS).join(&leaf);
    }
    path.join(&leaf)
}

/// How much of a deleted entry's data is still where its runs point.
fn recovery(e: &FsEntry, bitmap: Option<&Bitmap>, mft: &Mft) -> Recovery {
    let recoverable = match &e.data {
        DataLayout::None => 0,
        DataLayout::Inline(v) => v.len() as u64,
        DataLayout::Extents(extents) => extents.iter().map(|x| free_bytes(x, bitmap, mft.geo.cluster_size)).sum(),
    };
    Recovery { recoverable_bytes: recoverable, complete: recoverable == e.size }
}

/// Bytes of an extent whose clusters are all free (sparse runs count).
fn free_bytes(x: &Extent, bitmap: Option<&Bitmap>, cluster: u64) -> u64 {
    let Some(off) = x.volume_offset else { return x.len };
    let Some(bitmap) = bitmap else { return 0 };
    let (first, last) = (off / cluster, (off + x.len.max(1) - 1) / cluster);
    if (first..=last).all(|lcn| bitmap.is_free(lcn)) { x.len } else { 0 }
}

/// The cluster allocation bitmap, read whole when it fits the limits.
struct Bitmap(Vec<u8>);

impl Bitmap {
    fn open(mft: &Mft, limits: &Limits) -> Option<Self> {
        let rec = mft.record(BITMAP, limits).ok()?;
        let attr = rec.of_type(ty::DATA).find(|a| a.name.is_empty())?;
        let Body::NonResident(nr) = &attr.body else { return None };
        let size = mft.geo.total_clusters.div_ceil(8).min(nr.data_size);
        let runs = runs::decode(&nr.mapping_pairs, nr.lowest_vcn, mft.geo.total_clusters, nr.pairs_at).ok()?;
        let extents = runs::extents(&runs, mft.geo.cluster_size, size, size);
        let mut buf = vec![0u8; limits.check_alloc(size, "$Bitmap").ok()?];
        read_extents(&*mft.volume, &extents, 0, &mut buf, "$Bitmap").ok()?;
        Some(Self(buf))
    }

    fn is_free(&self, lcn: u64) -> bool {
        usize::try_from(lcn / 8).ok().and_then(|i| self.0.get(i)).is_some_and(|b| b >> (lcn % 8) & 1 == 0)
    }
}
