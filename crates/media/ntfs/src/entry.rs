//! Turns one file record and one of its names into entries: the file or
//! directory itself plus one entry per alternate data stream.

use exhibit_core::manifest::Timestamps;
use exhibit_media_core::{DataLayout, EntryKind, FsEntry, Limits, NamePath, Transform};

use crate::bytes::{name_bytes, sourced, time_text};
use crate::mft::Mft;
use crate::record::{ATTR_COMPRESSED, ATTR_ENCRYPTED, Attr, Body, Record, ty};
use crate::values::{FILE_ATTRIBUTE_NAMES, FileName, attribute_list, std_info};
use crate::{compressed, runs};

/// Extension records one file may spread over.
const MAX_EXTENSION_RECORDS: usize = 64;

/// All attributes of `rec`, including those moved to extension records by an
/// $ATTRIBUTE_LIST. Extension records that fail to read are skipped.
pub(crate) fn all_attrs(mft: &Mft, rec: &Record, limits: &Limits) -> Vec<Attr> {
    let mut attrs = rec.attrs.clone();
    let Some(list) = rec.resident(ty::ATTRIBUTE_LIST, &[]) else { return attrs };
    let mut seen = vec![rec.number];
    for entry in attribute_list(list) {
        if seen.contains(&entry.record) || seen.len() > MAX_EXTENSION_RECORDS {
            continue;
        }
        seen.push(entry.record);
        if let Ok(ext) = mft.record(entry.record, limits)
            && ext.base_record == rec.number
        {
            attrs.extend(ext.attrs);
        }
    }
    attrs
}

/// Entries for `rec` at `path` named by `name`: the file itself, then its
/// named data streams.
pub(crate) fn build(
    mft: &Mft,
    rec: &Record,
    attrs: &[Attr],
    name: Option<&FileName>,
    path: NamePath,
    limits: &Limits,
) -> Vec<FsEntry> {
    let kind = if rec.is_directory() { EntryKind::Directory } else { EntryKind::File };
    let mut base = FsEntry::new(path, kind);
    base.address = Some(rec.number);
    base.allocated = rec.in_use();
    describe(&mut base, rec, attrs, name);
    let mut streams: Vec<&[u16]> = Vec::new();
    for a in attrs.iter().filter(|a| a.ty == ty::DATA) {
        if !streams.contains(&a.name.as_slice()) {
            streams.push(&a.name);
        }
    }
    let mut out = Vec::with_capacity(streams.len() + 1);
    if !streams.contains(&[].as_slice()) {
        out.push(base.clone());
    }
    // The record's entries are held together: their decoded compressed
    // streams share one limits.max_alloc.
    let mut decode_left = limits.max_alloc;
    for stream in streams {
        let mut e = base.clone();
        let pieces: Vec<&Attr> = attrs.iter().filter(|a| a.ty == ty::DATA && a.name == stream).collect();
        lay_out(&mut e, &pieces, mft, limits, &mut decode_left);
        if !stream.is_empty() {
            e.stream = Some(name_bytes(stream));
            e.kind = EntryKind::File;
        }
        out.push(e);
    }
    out
}

/// Timestamps and attributes common to every entry of the record.
fn describe(e: &mut FsEntry, rec: &Record, attrs: &[Attr], name: Option<&FileName>) {
    e.attributes.insert("mft_sequence".into(), rec.sequence.to_string());
    let si = attrs.iter().find(|a| a.ty == ty::STANDARD_INFORMATION).and_then(|a| match &a.body {
        Body::Resident(v) => std_info(v),
        Body::NonResident(_) => None,
    });
    if let Some(si) = si {
        e.timestamps = Timestamps {
            created: sourced(si.times.created, "ntfs.$SI.crtime"),
            modified: sourced(si.times.modified, "ntfs.$SI.mtime"),
            accessed: sourced(si.times.accessed, "ntfs.$SI.atime"),
            changed: sourced(si.times.changed, "ntfs.$SI.ctime"),
        };
        e.attributes.insert("file_attributes".into(), format!("0x{:08x}", si.file_attributes));
        for (bit, label) in FILE_ATTRIBUTE_NAMES {
            if si.file_attributes & bit != 0 {
                e.attributes.insert(label.into(), "true".into());
            }
        }
    }
    if let Some(n) = name {
        for (key, ticks) in [
            ("fn_crtime", n.times.created),
            ("fn_mtime", n.times.modified),
            ("fn_atime", n.times.accessed),
            ("fn_ctime", n.times.changed),
        ] {
            e.attributes.insert(key.into(), time_text(ticks));
        }
        e.attributes.insert("fn_namespace".into(), n.namespace.to_string());
    }
    if let Some(tag) = attrs.iter().find(|a| a.ty == ty::REPARSE_POINT).and_then(|a| match &a.body {
        Body::Resident(v) => crate::bytes::le32(v, 0),
        Body::NonResident(_) => None,
    }) {
        e.attributes.insert("reparse_tag".into(), format!("0x{tag:08x}"));
    }
}

/// Sets size and data layout from the $DATA pieces of one stream.
fn lay_out(e: &mut FsEntry, pieces: &[&Attr], mft: &Mft, limits: &Limits, decode_left: &mut u64) {
    let Some(first) = pieces.iter().find(|a| matches!(&a.body, Body::Resident(_)) || lowest_vcn(a) == 0) else {
        e.attributes.insert("content".into(), "first $DATA extent is missing (not extracted)".into());
        return;
    };
    match &first.body {
        Body::Resident(v) => {
            e.size = v.len() as u64;
            e.data = if v.is_empty() { DataLayout::None } else { DataLayout::Inline(v.clone()) };
        }
        Body::NonResident(nr) => {
            e.size = nr.data_size;
            if let Err(why) = non_resident(e, first.flags, pieces, mft, limits, decode_left) {
                e.data = DataLayout::None;
                e.attributes.insert("content".into(), why);
            }
        }
    }
}

fn lowest_vcn(a: &Attr) -> u64 {
    match &a.body {
        Body::NonResident(nr) => nr.lowest_vcn,
        Body::Resident(_) => u64::MAX,
    }
}

/// A compressed stream as its stored compression units: extents over the
/// units that hold the file, read decoded through the LZNT1 view transform
/// one unit at a time (no copy, no whole-stream buffer).
fn compressed_stream(e: &mut FsEntry, runs: &[runs::Run], unit: u8, mft: &Mft) -> Result<(), String> {
    if unit == 0 || unit > 8 {
        return Err(format!("compressed: a unit of 2^{unit} clusters is not one NTFS writes (not extracted)"));
    }
    let unit_size = mft.geo.cluster_size << unit;
    let stored = e.size.div_ceil(unit_size).saturating_mul(unit_size);
    let extents = runs::extents(runs, mft.geo.cluster_size, stored, stored);
    e.attributes.insert("compression".into(), "lznt1".into());
    e.transform = Some(Transform::Lznt1 { unit_size });
    e.data = if extents.is_empty() { DataLayout::None } else { DataLayout::Extents(extents) };
    Ok(())
}

/// Extents of a non-resident stream (a compressed one with bytes past its
/// initialized size decoded into memory), or why its content is not
/// extracted.
fn non_resident(
    e: &mut FsEntry,
    flags: u16,
    pieces: &[&Attr],
    mft: &Mft,
    limits: &Limits,
    decode_left: &mut u64,
) -> Result<(), String> {
    if flags & ATTR_ENCRYPTED != 0 {
        return Err("encrypted (not extracted)".into());
    }
    let mut sorted: Vec<&&Attr> = pieces.iter().filter(|a| matches!(a.body, Body::NonResident(_))).collect();
    sorted.sort_by_key(|a| lowest_vcn(a));
    let mut all_runs = Vec::new();
    let mut initialized = e.size;
    let mut unit = 0;
    for a in sorted {
        if let Body::NonResident(nr) = &a.body {
            if nr.lowest_vcn == 0 {
                initialized = nr.initialized_size.min(e.size);
                unit = nr.compression_unit;
            }
            let runs = runs::decode(&nr.mapping_pairs, nr.lowest_vcn, mft.geo.total_clusters, nr.pairs_at)
                .map_err(|err| format!("{err} (not extracted)"))?;
            all_runs.extend(runs);
        }
    }
    if flags & ATTR_COMPRESSED != 0 && initialized == e.size {
        return compressed_stream(e, &all_runs, unit, mft);
    }
    if flags & ATTR_COMPRESSED != 0 {
        if e.size > *decode_left || !mft.take_decode_budget(e.size) {
            return Err(format!(
                "compressed: decoding {} more bytes would pass limits.max_alloc for one record or \
                 limits.max_expansion_ratio x volume size for the volume (not extracted)",
                e.size
            ));
        }
        *decode_left -= e.size;
        let bytes = compressed::decode(mft, &all_runs, unit, e.size, initialized, limits)
            .map_err(|why| format!("compressed: {why} (not extracted)"))?;
        e.attributes.insert("compression".into(), "lznt1".into());
        e.data = if bytes.is_empty() { DataLayout::None } else { DataLayout::Inline(bytes) };
        return Ok(());
    }
    let extents = runs::extents(&all_runs, mft.geo.cluster_size, e.size, initialized);
    // Sparse runs cost nothing here (explore holds them to
    // limits.max_sparse_bytes); runs that read the volume are held to the
    // expansion ratio, which only runs repeating clusters can pass.
    let cap = mft.volume.size().saturating_mul(limits.max_expansion_ratio);
    let dense = extents.iter().filter(|x| x.volume_offset.is_some()).map(|x| x.len).fold(0, u64::saturating_add);
    if dense > cap {
        e.damage = Some(format!(
            "its runs read {dense} bytes of the volume, more than limits.max_expansion_ratio x its size: \
             runs that repeat clusters"
        ));
        return Ok(());
    }
    e.data = if extents.is_empty() { DataLayout::None } else { DataLayout::Extents(extents) };
    Ok(())
}
