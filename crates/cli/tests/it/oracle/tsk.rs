//! Sleuthkit as the oracle: `mmls` finds the volumes, `fls -r -p` names
//! every entry (deleted ones included) and `icat` reads each file's bytes.

use std::path::Path;
use std::process::Command;

use super::{Named, OracleVolume, sha256_hex};

/// Whether sleuthkit's tools are on the PATH.
pub fn available() -> bool {
    Command::new("fls").arg("-V").output().is_ok_and(|o| o.status.success())
}

/// A volume sleuthkit found: byte offset and sector size.
#[derive(Clone, Copy, Debug)]
struct Slot {
    sector: u64,
    start: u64,
}

/// The allocated partitions `mmls` prints, or the whole image when it
/// finds no partition table.
fn slots(image: &Path) -> Vec<Slot> {
    let out = Command::new("mmls").arg(image).output().expect("mmls");
    if !out.status.success() {
        return vec![Slot { sector: 512, start: 0 }];
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let sector = text
        .lines()
        .find_map(|l| l.strip_prefix("Units are in ")?.split('-').next()?.parse().ok())
        .expect("mmls names its sector size");
    text.lines()
        .filter_map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            // An allocated partition's slot is digits (GPT `000`, DOS
            // `000:001`); tables are `Meta`, gaps `-------`.
            let slot = cols.get(1)?;
            slot.bytes().all(|b| b.is_ascii_digit() || b == b':').then_some(())?;
            Some(Slot { sector, start: cols.get(2)?.parse().ok()? })
        })
        .collect()
}

/// Every volume sleuthkit can open on `image`, with every name `fls -r -p`
/// prints and, for allocated regular files, the SHA-256 of `icat`'s bytes.
pub fn volumes(image: &Path) -> Vec<OracleVolume> {
    slots(image).into_iter().filter_map(|slot| volume(image, slot)).collect()
}

fn tsk_args(slot: Slot) -> Vec<String> {
    vec!["-o".into(), slot.start.to_string(), "-b".into(), slot.sector.to_string()]
}

fn volume(image: &Path, slot: Slot) -> Option<OracleVolume> {
    let out = Command::new("fls").args(["-r", "-p"]).args(tsk_args(slot)).arg(image).output().expect("fls");
    if !out.status.success() {
        // No file system sleuthkit knows (an empty partition): nothing to
        // compare.
        return None;
    }
    let fs = fs_type(image, slot);
    let ntfs = fs.as_deref() == Some("ntfs");
    let entries = out
        .stdout
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|line| named(image, slot, line, ntfs))
        .collect();
    Some(OracleVolume { offset: slot.start * slot.sector, fs, entries, tool: "fls -r -p / icat" })
}

fn fs_type(image: &Path, slot: Slot) -> Option<String> {
    let out = Command::new("fsstat").args(tsk_args(slot)).arg(image).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let t = text.lines().find_map(|l| l.strip_prefix("File System Type: "))?.trim().to_lowercase();
    Some(t)
}

/// One `fls` line: `r/r * 81-128-2(realloc):\tdir/name:stream`.
fn named(image: &Path, slot: Slot, line: &[u8], ntfs: bool) -> Named {
    let tab = line.iter().position(|&b| b == b'\t').expect("fls line has a tab");
    let head = String::from_utf8_lossy(&line[..tab]).into_owned();
    let mut path = line[tab + 1..].to_vec();
    let deleted = head.contains(" * ");
    let types = head.split(' ').next().unwrap_or("").to_owned();
    let address = head.trim_end_matches(':').rsplit(' ').next().unwrap_or("").to_owned();
    let address = address.split('(').next().unwrap_or("").to_owned();
    let mut stream = None;
    if ntfs {
        let base = path.iter().rposition(|&b| b == b'/').map_or(0, |p| p + 1);
        if let Some(colon) = path[base..].iter().position(|&b| b == b':') {
            stream = Some(path[base + colon + 1..].to_vec());
            path.truncate(base + colon);
        }
    }
    let regular = types.ends_with('r');
    let bad_clusters = ntfs && path == b"$BadClus" && stream.as_deref() == Some(b"$Bad".as_slice());
    let sha256 = if bad_clusters {
        // icat special-cases the bad-cluster stream and prints nothing;
        // its content is its declared size (istat) of sparse zeros.
        Some(sha256_hex(&vec![0; bad_clusters_size(image, slot)]))
    } else {
        regular.then(|| sha256_hex(&icat(image, slot, &address)))
    };
    Named { path, stream, deleted, types, address, sha256 }
}

/// The size `istat` gives `$BadClus:$Bad` (MFT record 8).
fn bad_clusters_size(image: &Path, slot: Slot) -> usize {
    let out = Command::new("istat").args(tsk_args(slot)).arg(image).arg("8").output().expect("istat");
    let text = String::from_utf8_lossy(&out.stdout);
    let line =
        text.lines().find(|l| l.starts_with("Type: $DATA") && l.contains("Name: $Bad ")).expect("istat lists $Bad");
    let size = line.split("size: ").nth(1).and_then(|s| s.split_whitespace().next()).expect("istat gives a size");
    size.parse().unwrap()
}

fn icat(image: &Path, slot: Slot, address: &str) -> Vec<u8> {
    let out = Command::new("icat").args(tsk_args(slot)).arg(image).arg(address).output().expect("icat");
    if !out.status.success() {
        // Never equal to a digest: the comparison reports it.
        return format!("icat {address} failed: {}", String::from_utf8_lossy(&out.stderr)).into_bytes();
    }
    out.stdout
}
