//! Compares what an oracle names and reads with exhibit's listing and
//! `exhibit get`, and says why each oracle name left out is left out.

use serde_json::Value;

use super::exhibit::{Ingested, path_bytes};
use super::{Named, OracleVolume};

/// Why an oracle's name is not expected in exhibit's listing, or `None`
/// when it is.
fn excluded(volume: &OracleVolume, n: &Named) -> Option<&'static str> {
    let path = String::from_utf8_lossy(&n.path);
    if n.types.starts_with(['v', 'V']) {
        // `$MBR`, `$FAT1`, `$FAT2`, `$OrphanFiles`: sleuthkit's virtual
        // files over metadata areas, not names on the volume.
        return Some("sleuthkit virtual file");
    }
    if path.starts_with("$OrphanFiles/") {
        // Inodes no name points to, under sleuthkit's invented folder.
        return Some("sleuthkit orphan inode");
    }
    if path.ends_with("(Volume Label Entry)") {
        // The label is the volume's, recorded in the listing's volume row.
        return Some("volume label entry");
    }
    if volume.fs.as_deref() == Some("exfat") && matches!(&*path, "$ALLOC_BITMAP" | "$UPCASE_TABLE") {
        // exFAT's allocation bitmap and up-case table are unnamed entries
        // of the root directory (types 0x81, 0x82); the names are
        // sleuthkit's, as with FAT's `$FAT1`. Exhibit reads them to walk
        // the volume and lists named files only.
        return Some("exFAT metadata entry sleuthkit names");
    }
    if volume.fs.as_deref() == Some("ntfs") && n.stream.is_some() && n.address.split('-').nth(1) == Some("144") {
        // $INDEX_ROOT attributes ($I30, $O, $Q, $R, $SDH, $SII): B-tree
        // index nodes sleuthkit shows as streams; exhibit reads the index
        // into names and lists data streams ($DATA, type 128) only.
        return Some("NTFS index attribute");
    }
    None
}

/// Sleuthkit prints a control byte in a name as `^` (both sides are
/// mapped so, other oracles print the byte). On FAT, the first
/// byte of a deleted 8.3 name is gone (0xE5 took its place): sleuthkit
/// writes `_` for it and exhibit `?` (a byte FAT never allows in a name).
fn tsk_name(bytes: &[u8], fat: bool) -> Vec<u8> {
    let mut out: Vec<u8> = bytes.iter().map(|&b| if b < 0x20 { b'^' } else { b }).collect();
    if fat {
        for at in 0..out.len() {
            if out[at] == b'?' && (at == 0 || out[at - 1] == b'/') {
                out[at] = b'_';
            }
        }
    }
    out
}

/// Exhibit writes a `/` or `\` inside a name as `\/` or `\\`
/// (`NamePath::to_bytes`); tools print the byte itself.
fn unescape(path: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(path.len());
    let mut bytes = path.iter();
    while let Some(&b) = bytes.next() {
        out.push(if b == b'\\' { bytes.next().copied().unwrap_or(b) } else { b });
    }
    out
}

fn is_fat(volume: &OracleVolume) -> bool {
    volume.fs.as_deref().is_some_and(|fs| fs.starts_with("fat") || fs == "exfat")
}

/// The exhibit entry an oracle name stands for, and whether it was found
/// only by the rule for names sleuthkit cuts short.
fn find<'a>(ex: &'a Ingested, index: u64, volume: &OracleVolume, n: &Named) -> Option<(&'a Value, bool)> {
    let fat = is_fat(volume);
    let want_stream = n.stream.as_deref().map(|s| tsk_name(s, false));
    let candidates: Vec<(&Value, Vec<u8>)> = ex
        .entries_of(index)
        .filter(|e| path_bytes(&e["stream"]).map(|s| tsk_name(&s, false)) == want_stream)
        .filter_map(|e| {
            let path = unescape(&path_bytes(&e["path"])?);
            Some((e, tsk_name(path.strip_prefix(b"/").unwrap_or(&path), fat)))
        })
        .collect();
    let want = tsk_name(&n.path, false);
    if let Some((e, _)) = candidates.iter().find(|(_, p)| *p == want) {
        return Some((e, false));
    }
    // Sleuthkit 4.11 keeps at most ~195-247 bytes of a FAT long name and
    // prints it cut; the full name must then start with what it prints,
    // in the same folder, and be the only one that does.
    let parent = |p: &[u8]| p.iter().rposition(|&b| b == b'/').map_or(0, |at| at + 1);
    let cut: Vec<&Value> = candidates
        .iter()
        .filter(|(_, p)| fat && n.path.len() - parent(&n.path) >= 190 && p.starts_with(&n.path))
        .filter(|(_, p)| !p[n.path.len()..].contains(&b'/') && parent(p) == parent(&n.path))
        .map(|(e, _)| *e)
        .collect();
    (cut.len() == 1).then(|| (cut[0], true))
}

/// Each difference between the oracle and exhibit, as a line; also the
/// names checked, and the names left out with their reason.
#[derive(Default, Debug)]
pub struct Outcome {
    pub faults: Vec<String>,
    pub names: usize,
    pub contents: usize,
    pub excluded: Vec<String>,
    /// The image is damaged on purpose: a record exhibit lists in error or
    /// cut short is left out of the byte comparison, with its reason.
    pub damaged: bool,
}

pub fn compare(ex: &Ingested, volume: &OracleVolume, fs_hint: Option<&str>, out: &mut Outcome) {
    let fs = volume.fs.as_deref().or(fs_hint);
    let Some(v) = ex.volume_at(volume.offset, fs) else {
        out.faults.push(format!("no exhibit volume at offset {} ({fs:?}); volumes: {:?}", volume.offset, ex.volumes));
        return;
    };
    let index = v["index"].as_u64().unwrap();
    let mut matched: Vec<&Value> = Vec::new();
    for n in &volume.entries {
        let shown = n.shown();
        if let Some(why) = excluded(volume, n) {
            out.excluded.push(format!("{shown}: {why}"));
            matched.extend(find(ex, index, volume, n).map(|(e, _)| e));
            continue;
        }
        out.names += 1;
        let Some((e, cut)) = find(ex, index, volume, n) else {
            out.faults.push(format!("{}: {shown} ({}) is not listed", volume.tool, n.types));
            continue;
        };
        matched.push(e);
        if cut {
            out.excluded.push(format!("{shown}: sleuthkit cut the long name; exhibit lists it whole"));
        }
        if e["allocated"] != !n.deleted {
            out.faults
                .push(format!("{shown}: deleted is {} in the oracle, allocated is {}", n.deleted, e["allocated"]));
        }
        match &n.sha256 {
            Some(want) if n.deleted => recovered(ex, e, &shown, want, out),
            Some(want) => {
                out.contents += 1;
                content(ex, e, &shown, want, out);
            }
            None => {}
        }
    }
    // And the other way: exhibit names nothing live the oracle does not.
    for e in ex.entries_of(index).filter(|e| e["allocated"] == true) {
        if matched.iter().any(|m| std::ptr::eq(*m, e)) {
            continue;
        }
        match only_exhibit(volume, e, out.damaged) {
            Some(why) => out.excluded.push(format!("{}: {why}", e["path"]["display"].as_str().unwrap_or_default())),
            None => {
                out.faults.push(format!("exhibit lists {} {}, which {} does not", e["path"], e["stream"], volume.tool))
            }
        }
    }
}

/// Why exhibit lists a live entry the oracle does not name, when that is
/// by design.
fn only_exhibit(volume: &OracleVolume, e: &Value, damaged: bool) -> Option<&'static str> {
    if damaged && e["error"].is_string() {
        // A FAT entry whose size is past the volume (fat-loop.img's
        // LOOP.BIN): sleuthkit drops it unsaid, exhibit lists it with why.
        return Some("damaged record the oracle drops; exhibit lists it with its reason");
    }
    let path = unescape(&path_bytes(&e["path"])?);
    let rel = path.strip_prefix(b"/").unwrap_or(&path);
    if e["stream"].is_null() && volume.entries.iter().any(|n| n.path == rel && n.stream.is_some()) {
        // `$Secure`, `$Extend/$Quota`: a file record with named streams
        // and no unnamed one. Exhibit lists the name the index holds, then
        // each stream; sleuthkit prints the streams only.
        return Some("NTFS file with named streams only");
    }
    if volume.tool.starts_with("xorriso") && rel.eq_ignore_ascii_case(b"RR_MOVED") {
        // The ISO 9660 folder that holds relocated deep folders is a real
        // record (Linux lists it too); xorriso hides it. Its relocated
        // children are listed at their Rock Ridge place, and the name
        // check above finds them there.
        return Some("Rock Ridge relocation folder, hidden by xorriso");
    }
    None
}

/// A deleted file whose content exhibit recovered must hold what `icat`
/// recovers from the same inode.
fn recovered(ex: &Ingested, e: &Value, shown: &str, want: &str, out: &mut Outcome) {
    if e["artefact"].is_null() {
        out.faults.push(format!("{shown}: deleted; icat recovers {want}, exhibit nothing ({e:#})"));
        return;
    }
    out.contents += 1;
    content(ex, e, shown, want, out);
}

/// The listing's digest and `exhibit get` both equal the oracle's bytes.
fn content(ex: &Ingested, e: &Value, shown: &str, want: &str, out: &mut Outcome) {
    let cut = e["missing"].as_array().is_some_and(|m| !m.is_empty());
    if out.damaged && (!e["error"].is_null() || cut) {
        out.excluded.push(format!("{shown}: damaged record ({})", e["error"].as_str().unwrap_or("cut short")));
        return;
    }
    let Some(artefact) = e["artefact"].as_str() else {
        out.faults.push(format!("{shown}: no content (error: {})", e["error"]));
        return;
    };
    if e["digests"]["sha256"] != want {
        out.faults.push(format!("{shown}: listing sha256 {} != oracle {want}", e["digests"]["sha256"]));
    }
    match ex.get_sha256(artefact) {
        Ok(got) if got == want => {}
        Ok(got) => out.faults.push(format!("{shown}: exhibit get sha256 {got} != oracle {want}")),
        Err(why) => out.faults.push(format!("{shown}: {why}")),
    }
}
