//! Turns the records of one file (several when multi-extent) into an
//! [`FsEntry`]: kind, extents, timestamps and attributes.

use exhibit_core::manifest::SourcedTime;
use exhibit_media_core::{DataLayout, EntryKind, Extent, FsEntry, Limits, MediaError, NamePath};
use time::format_description::well_known::Rfc3339;

use crate::Namespace;
use crate::record::{DirRecord, FLAG_ASSOCIATED, FLAG_HIDDEN, short_time};
use crate::susp::RockRidge;

const S_IFMT: u32 = 0o170_000;
const S_IFIFO: u32 = 0o010_000;
const S_IFCHR: u32 = 0o020_000;
const S_IFBLK: u32 = 0o060_000;
const S_IFLNK: u32 = 0o120_000;
const S_IFSOCK: u32 = 0o140_000;

/// The records of one file, gathered.
#[derive(Debug)]
pub(crate) struct Gathered {
    /// Name as chosen for the namespace.
    pub name: Vec<u8>,
    /// The identifier as stored, to match the records of one file.
    pub raw: Vec<u8>,
    /// The first record's flags, time, and Rock Ridge entries.
    pub flags: u8,
    pub recorded: [u8; 7],
    pub rr: RockRidge,
    /// Raw identifier, kept as an attribute when the name differs.
    pub identifier: Option<String>,
    /// Byte offset of the first record on the volume.
    pub address: u64,
    /// First extent's block and the last record's data length (directories).
    pub lba: u32,
    pub data_len: u32,
    /// Data runs, in file order.
    pub extents: Vec<Extent>,
    /// Sum of all records' data lengths.
    pub size: u64,
}

/// Appends `rec`'s data (one run, or its interleaved units) to `extents`,
/// keeping the list within `limits.max_alloc`.
pub(crate) fn push_extents(
    rec: &DirRecord<'_>,
    block_size: u64,
    file_offset: u64,
    limits: &Limits,
    extents: &mut Vec<Extent>,
) -> Result<(), MediaError> {
    let first = u64::from(rec.lba) + u64::from(rec.ext_attr_len);
    let mut volume_offset = first * block_size;
    let mut left = u64::from(rec.data_len);
    let (unit, step) = match rec.unit_size {
        0 => (left.max(1), 0),
        u => (u64::from(u) * block_size, (u64::from(u) + u64::from(rec.gap_size)) * block_size),
    };
    let runs = left.div_ceil(unit);
    let total = (extents.len() as u64).saturating_add(runs).saturating_mul(size_of::<Extent>() as u64);
    limits.check_alloc(total, "ISO 9660 file extent list")?;
    let mut at = file_offset;
    while left > 0 {
        let len = left.min(unit);
        extents.push(Extent { file_offset: at, len, volume_offset: Some(volume_offset) });
        at += len;
        left -= len;
        volume_offset += step;
    }
    Ok(())
}

/// What the gathered records describe.
pub(crate) fn kind_of(g: &Gathered, is_dir: bool) -> EntryKind {
    if is_dir || g.rr.child_link.is_some() {
        return EntryKind::Directory;
    }
    if let Some(target) = &g.rr.symlink {
        return EntryKind::Symlink { target: target.clone() };
    }
    let mode = g.rr.posix.map_or(0, |p| p.mode) & S_IFMT;
    let class = match mode {
        S_IFBLK => "block",
        S_IFCHR => "char",
        S_IFIFO => return EntryKind::Other { what: "fifo".into() },
        S_IFSOCK => return EntryKind::Other { what: "socket".into() },
        S_IFLNK => return EntryKind::Symlink { target: Vec::new() },
        _ => return EntryKind::File,
    };
    let (major, minor) = device_numbers(g.rr.device.unwrap_or_default());
    EntryKind::Device { class: class.into(), major, minor }
}

/// PN numbers as Linux reads them: an old 16-bit `dev_t` in the low word
/// when the high word is 0, otherwise (major, minor).
fn device_numbers((high, low): (u32, u32)) -> (u64, u64) {
    if high == 0 && low & !0xff != 0 {
        (u64::from(low >> 8), u64::from(low & 0xff))
    } else {
        (u64::from(high), u64::from(low))
    }
}

fn rfc3339(at: time::OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_else(|_| at.to_string())
}

/// Builds the entry for `g` at `path`.
pub(crate) fn entry(g: Gathered, path: NamePath, kind: EntryKind, namespace: Namespace) -> FsEntry {
    let mut e = FsEntry::new(path, kind);
    e.address = Some(g.address);
    let attrs = &mut e.attributes;
    attrs.insert("iso9660.namespace".into(), namespace.as_str().into());
    attrs.insert("iso9660.extent_lba".into(), g.lba.to_string());
    if g.flags & FLAG_HIDDEN != 0 {
        attrs.insert("hidden".into(), "true".into());
    }
    if g.flags & FLAG_ASSOCIATED != 0 {
        attrs.insert("associated".into(), "true".into());
    }
    if g.rr.unreached_relocation {
        attrs.insert("rockridge.RE".into(), "no CL entry points here".into());
    }
    if let Some(id) = g.identifier {
        attrs.insert("iso9660.identifier".into(), id);
    }
    if let Some(p) = g.rr.posix {
        attrs.insert("mode".into(), format!("{:o}", p.mode));
        attrs.insert("uid".into(), p.uid.to_string());
        attrs.insert("gid".into(), p.gid.to_string());
        attrs.insert("links".into(), p.links.to_string());
    }
    set_times(&mut e, &g.recorded, &g.rr);
    match e.kind {
        EntryKind::File => {
            e.size = g.size;
            let runs: Vec<Extent> = g.extents.into_iter().filter(|x| x.len > 0).collect();
            if !runs.is_empty() {
                e.data = DataLayout::Extents(runs);
            }
        }
        EntryKind::Directory => e.size = u64::from(g.data_len),
        _ => {}
    }
    e
}

fn set_times(e: &mut FsEntry, recorded: &[u8; 7], rr: &RockRidge) {
    let sourced = |at, from: &str| Some(SourcedTime { at, from: from.to_owned() });
    for &(label, at) in &rr.times {
        let t = &mut e.timestamps;
        match label {
            "rockridge.TF.create" => t.created = sourced(at, label),
            "rockridge.TF.modify" => t.modified = sourced(at, label),
            "rockridge.TF.access" => t.accessed = sourced(at, label),
            "rockridge.TF.attributes" => t.changed = sourced(at, label),
            _ => {
                e.attributes.insert(label.to_owned(), rfc3339(at));
            }
        }
    }
    if let Some(at) = short_time(recorded) {
        e.attributes.insert("iso9660.dirrec.recorded".into(), rfc3339(at));
        if e.timestamps.modified.is_none() {
            e.timestamps.modified = sourced(at, "iso9660.dirrec.recorded");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_past_4_gib_chain_into_one_file() {
        let rec = |lba| DirRecord {
            len: 34,
            ext_attr_len: 0,
            lba,
            data_len: 0xFFFF_F800,
            recorded: [0; 7],
            flags: 0x80,
            unit_size: 0,
            gap_size: 0,
            name: b"BIG.;1",
            system_use: &[],
        };
        let mut runs = Vec::new();
        push_extents(&rec(100), 2048, 0, &Limits::default(), &mut runs).unwrap();
        push_extents(&rec(2_097_252), 2048, 0xFFFF_F800, &Limits::default(), &mut runs).unwrap();
        assert_eq!(
            runs[1],
            Extent { file_offset: 0xFFFF_F800, len: 0xFFFF_F800, volume_offset: Some(2_097_252 * 2048) }
        );
        let interleaved = DirRecord { unit_size: 1, gap_size: 2, data_len: 5000, ..rec(10) };
        let mut runs = Vec::new();
        push_extents(&interleaved, 2048, 0, &Limits::default(), &mut runs).unwrap();
        let starts: Vec<_> = runs.iter().map(|r| (r.file_offset, r.len, r.volume_offset)).collect();
        assert_eq!(starts, [(0, 2048, Some(20480)), (2048, 2048, Some(26624)), (4096, 904, Some(32768))]);
        let tiny = Limits { max_alloc: 16, ..Limits::default() };
        assert!(push_extents(&interleaved, 2048, 0, &tiny, &mut Vec::new()).is_err());
    }
}
