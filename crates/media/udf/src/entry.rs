//! Builds an [`FsEntry`] from a FID and its (Extended) File Entry.

use std::sync::Arc;

use exhibit_media_core::{DataLayout, EntryKind, FsEntry, Limits, MediaError, NamePath, ReadAt, Recovery};

use crate::dir::{DELETED, DIRECTORY, Fid, HIDDEN};
use crate::icb::Icb;
use crate::names::decode_cs0;
use crate::partition::Partitions;
use crate::resolve::read_all;

/// ICB file type of a directory.
pub const TYPE_DIRECTORY: u8 = 4;
/// ICB file type of a symbolic link.
const TYPE_SYMLINK: u8 = 12;
/// Longest symlink target read.
const MAX_SYMLINK: u64 = 64 << 10;

/// The entry a FID names; `icb` is `None` when its File Entry was unreadable.
pub fn from_fid(parent: &NamePath, fid: &Fid, icb: Option<&Icb>) -> FsEntry {
    let is_dir = fid.characteristics & DIRECTORY != 0;
    let kind = icb.map_or(if is_dir { EntryKind::Directory } else { EntryKind::File }, |i| kind_of(i.file_type));
    let mut e = FsEntry::new(parent.join(&decode_cs0(&fid.name)), kind);
    e.allocated = fid.characteristics & DELETED == 0;
    if fid.characteristics & HIDDEN != 0 {
        e.attributes.insert("hidden".into(), "true".into());
    }
    e.attributes.insert("udf.fid_offset".into(), fid.offset.to_string());
    if let Some(icb) = icb {
        fill_from_icb(&mut e, icb);
    }
    e
}

fn kind_of(file_type: u8) -> EntryKind {
    let other = |what: &str| EntryKind::Other { what: what.to_owned() };
    match file_type {
        TYPE_DIRECTORY => EntryKind::Directory,
        0 | 5 | 249 => EntryKind::File,
        TYPE_SYMLINK => EntryKind::Symlink { target: Vec::new() },
        6 => other("block-device"),
        7 => other("char-device"),
        9 => other("fifo"),
        10 => other("socket"),
        13 => other("stream-directory"),
        n => other(&format!("udf-file-type-{n}")),
    }
}

fn fill_from_icb(e: &mut FsEntry, icb: &Icb) {
    e.size = icb.size;
    e.timestamps = icb.times.clone();
    e.address = Some(icb.at);
    let a = &mut e.attributes;
    a.insert("udf.entry".into(), if icb.extended { "efe" } else { "fe" }.into());
    a.insert("udf.file_type".into(), icb.file_type.to_string());
    a.insert("udf.icb".into(), format!("{}:{}", icb.addr.part, icb.addr.lbn));
    a.insert("udf.permissions".into(), format!("{:#x}", icb.perms));
    a.insert("mode".into(), format!("{:04o}", unix_mode(icb.perms, icb.flags)));
    for (name, id) in [("uid", icb.uid), ("gid", icb.gid)] {
        if id != u32::MAX {
            a.insert(name.into(), id.to_string());
        }
    }
}

/// UDF permissions (other, group, owner in 5-bit groups: x w r chattr delete)
/// and ICB setuid/setgid/sticky flags as a Unix mode.
fn unix_mode(perms: u32, flags: u16) -> u32 {
    let class =
        |shift: u32| (perms >> shift) & 1 | ((perms >> (shift + 1)) & 1) << 1 | ((perms >> (shift + 2)) & 1) << 2;
    let special =
        u32::from((flags >> 6) & 1) << 11 | u32::from((flags >> 7) & 1) << 10 | u32::from((flags >> 8) & 1) << 9;
    special | class(10) << 6 | class(5) << 3 | class(0)
}

/// Adds data layout, symlink target and, for deleted entries, recovery.
pub fn add_data(
    e: &mut FsEntry,
    icb: &Icb,
    volume: &Arc<dyn ReadAt>,
    parts: &Partitions,
    limits: &Limits,
) -> Result<(), MediaError> {
    e.data = icb.layout(parts, limits)?;
    if let EntryKind::Symlink { target } = &mut e.kind {
        if icb.size <= MAX_SYMLINK {
            *target = symlink_target(&read_all(volume, parts, icb, limits)?);
        }
    }
    if !e.allocated {
        let recoverable = match &e.data {
            DataLayout::None => 0,
            DataLayout::Inline(b) => b.len() as u64,
            DataLayout::Extents(x) => x.iter().filter(|x| x.volume_offset.is_some()).map(|x| x.len).sum(),
        };
        e.recovery = Some(Recovery { recoverable_bytes: recoverable, complete: recoverable >= e.size });
    }
    Ok(())
}

/// A path-component list (ECMA-167 4/14.16) as `/`-joined bytes.
fn symlink_target(mut raw: &[u8]) -> Vec<u8> {
    let mut parts: Vec<Vec<u8>> = Vec::new();
    let mut absolute = false;
    while let [kind, len, _, _, rest @ ..] = raw {
        let len = usize::from(*len).min(rest.len());
        let (name, tail) = rest.split_at(len);
        match kind {
            1 | 2 => {
                absolute = true;
                parts.clear();
            }
            3 => parts.push(b"..".to_vec()),
            4 => parts.push(b".".to_vec()),
            _ => parts.push(decode_cs0(name)),
        }
        raw = tail;
    }
    let mut out = if absolute { b"/".to_vec() } else { Vec::new() };
    out.extend(parts.join(&b'/'));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_and_targets() {
        // owner rwx (bits 10-12), group r-x (5, 7), other r (2).
        let perms = 0b111 << 10 | 0b101 << 5 | 0b100;
        assert_eq!(unix_mode(perms, 0), 0o754);
        let raw = [2u8, 0, 0, 0, 5, 4, 0, 0, 8, b'e', b't', b'c', 3, 0, 0, 0];
        assert_eq!(symlink_target(&raw), b"/etc/..");
    }
}
