//! Companion discovery: the other members of a set the operator named one
//! file of. Given `x.E01`, the segments `x.E02`, `x.E03`... (then `.EAA`...)
//! beside it; given a `.cue`, the `.bin` files its `FILE` lines name beside
//! it. Found members are planned like named files, marked as found, so the
//! set is complete in the store before explore. A member the set needs but
//! that is not there is an input error naming the file expected.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use exhibit_core::ErrorKind;
use exhibit_media::Limits;
use exhibit_media::sources::{MAX_CUE_BYTES, open_ewf, segment_path};

use crate::plan::{PlanError, path_from_bytes};

pub use exhibit_core::set_record::SetKind;

/// What to do about a lost EWF segment.
const EWF_LOST: &str =
    "if it is lost, name every segment you have, e.g. `x.E01 x.E02`, to record the set as truncated evidence";
/// What to do about a cue sheet's lost file.
const CUE_LOST: &str = "if it is lost, ingest the folder that holds the cue sheet: the sheet is then stored as a file and reported as an incomplete set";

/// The set a file heads, by its extension: `.E01` (any case) or `.cue`.
pub fn set_kind_of(path: &Path) -> Option<SetKind> {
    let ext = path.extension()?;
    if ext.eq_ignore_ascii_case("e01") {
        Some(SetKind::Ewf)
    } else if ext.eq_ignore_ascii_case("cue") {
        Some(SetKind::CueSheet)
    } else {
        None
    }
}

/// The other members of the set `named` heads, in set order: every one
/// exists. Fails with [`PlanError::MissingMember`] when one is needed but
/// absent, except where the operator named every member present (the set
/// as they hold it): an EWF set whose last segment is lost is then truncated
/// evidence, which explore records.
pub fn members(named: &Path, kind: SetKind, operator_named: &HashSet<PathBuf>) -> Result<Vec<PathBuf>, PlanError> {
    let _span = tracing::info_span!("companions", path = %named.display(), set = kind.label()).entered();
    match kind {
        SetKind::Ewf => ewf_members(named, operator_named),
        SetKind::CueSheet => cue_members(named),
    }
}

/// `.E02` onwards while they exist; then whether the set asks for more.
fn ewf_members(first: &Path, operator_named: &HashSet<PathBuf>) -> Result<Vec<PathBuf>, PlanError> {
    let mut found = Vec::new();
    let mut number = 2u16;
    let next = loop {
        let Some(path) = segment_path(first, number) else { return Ok(found) };
        if std::fs::symlink_metadata(&path).is_err() {
            break path;
        }
        found.push(path);
        number = number.saturating_add(1);
    };
    // The set's sections say whether it ends at the segments present. An
    // I/O failure while segment `number` is absent means the set needs it;
    // any other failure (not EWF, damaged) is explore's to report.
    let missing = || PlanError::MissingMember {
        named: first.to_owned(),
        set: SetKind::Ewf.label(),
        expected: next.clone(),
        advice: EWF_LOST,
    };
    // A gap with segments after it (`.E03` absent, `.E04` present) is a
    // lost middle segment, never the end of the set: the later segments
    // would be left out unmentioned. Unless the operator named each of
    // them, holding the set as it is.
    let later = later_segments_beside(first, number);
    if !later.is_empty() && !later.iter().all(|l| operator_named.contains(l)) {
        return Err(missing());
    }
    match open_ewf(first, &Limits::default()) {
        Err(e) if e.core_kind() == ErrorKind::Io => Err(missing()),
        // Every present segment opened whole and the set wants more: the
        // next file is absent (a cut segment opens short and is explore's).
        Ok(image) if image.truncation().is_some() && image.segment_count() == found.len() + 1 => {
            if found.iter().all(|f| operator_named.contains(f)) { Ok(found) } else { Err(missing()) }
        }
        _ => Ok(found),
    }
}

/// The segments of `first`'s set numbered after `gap` that exist beside
/// it (one listing of the folder, not a lookup per possible number).
fn later_segments_beside(first: &Path, gap: u16) -> Vec<PathBuf> {
    let folder = first.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let Ok(entries) = std::fs::read_dir(folder) else { return Vec::new() };
    let names: HashSet<std::ffi::OsString> = entries.filter_map(|e| e.ok().map(|e| e.file_name())).collect();
    let mut later = Vec::new();
    let mut number = gap.saturating_add(1);
    while let Some(path) = segment_path(first, number) {
        if path.file_name().is_some_and(|n| names.contains(n)) {
            later.push(path);
        }
        if number == u16::MAX {
            break;
        }
        number += 1;
    }
    later
}

/// The files a cue sheet's `FILE` lines name, beside it.
fn cue_members(cue: &Path) -> Result<Vec<PathBuf>, PlanError> {
    let text = read_cue(cue)?;
    let folder = cue.parent().unwrap_or(Path::new(""));
    let mut found: Vec<PathBuf> = Vec::new();
    for name in cue_file_names(&text) {
        if name.is_empty() || name.contains(&b'/') || name == b"." || name == b".." {
            return Err(PlanError::MemberOutside { named: cue.to_owned(), name: path_from_bytes(&name) });
        }
        let path = folder.join(path_from_bytes(&name));
        if std::fs::symlink_metadata(&path).is_err() {
            return Err(PlanError::MissingMember {
                named: cue.to_owned(),
                set: SetKind::CueSheet.label(),
                expected: path,
                advice: CUE_LOST,
            });
        }
        if !found.contains(&path) {
            found.push(path);
        }
    }
    Ok(found)
}

fn read_cue(cue: &Path) -> Result<Vec<u8>, PlanError> {
    use std::io::Read as _;
    let unreadable = |e: std::io::Error| PlanError::Unreadable { path: cue.to_owned(), reason: e.to_string() };
    let mut text = Vec::new();
    std::fs::File::open(cue).map_err(unreadable)?.take(MAX_CUE_BYTES + 1).read_to_end(&mut text).map_err(unreadable)?;
    Ok(text)
}

/// The name in each `FILE` line, split into words as the media crate's cue
/// parser does (a quoted name, or one word). Text that is not a cue sheet
/// names nothing; explore reports it.
fn cue_file_names(text: &[u8]) -> Vec<Vec<u8>> {
    let text = text.strip_prefix(b"\xef\xbb\xbf").unwrap_or(text);
    if text.len() as u64 > MAX_CUE_BYTES || text.contains(&0) {
        return Vec::new();
    }
    text.split(|&b| b == b'\n')
        .filter_map(|line| {
            let (command, rest) = next_word(line)?;
            command.eq_ignore_ascii_case(b"FILE").then_some(())?;
            next_word(rest).map(|(name, _)| name.to_vec())
        })
        .collect()
}

/// The first word of `line` (quoted or bare) and what follows it.
fn next_word(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let line = line.trim_ascii_start();
    if let Some(body) = line.strip_prefix(b"\"") {
        let end = body.iter().position(|&b| b == b'"')?;
        return Some((&body[..end], &body[end + 1..]));
    }
    let end = line.iter().position(u8::is_ascii_whitespace).unwrap_or(line.len());
    (end > 0).then(|| (&line[..end], &line[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_read_quoted_or_bare_with_any_case_and_line_end() {
        let sheet =
            b"\xef\xbb\xbfREM x\r\nFILE \"data track.bin\" BINARY\r\n  TRACK 01 MODE1/2352\nfile audio.bin BINARY\n";
        assert_eq!(cue_file_names(sheet), [b"data track.bin".to_vec(), b"audio.bin".to_vec()]);
        assert!(cue_file_names(b"FILE \"unterminated BINARY\n").is_empty());
        assert!(cue_file_names(b"FILE a.bin BINARY\n\0").is_empty(), "binary data is not a cue sheet");
    }

    #[test]
    fn set_heads_are_known_by_extension() {
        assert_eq!(set_kind_of(Path::new("a/x.E01")), Some(SetKind::Ewf));
        assert_eq!(set_kind_of(Path::new("x.e01")), Some(SetKind::Ewf));
        assert_eq!(set_kind_of(Path::new("x.E02")), None);
        assert_eq!(set_kind_of(Path::new("disc.CUE")), Some(SetKind::CueSheet));
    }

    fn ewf_fixture(name: &str) -> Vec<u8> {
        std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/sources/ewf").join(name)).unwrap()
    }

    #[test]
    fn a_truncated_single_segment_e01_is_not_taken_for_a_missing_segment() {
        // Damaged evidence is still ingested and flagged by explore; only a
        // set that asks for an absent segment fails the plan.
        let dir = tempfile::tempdir().unwrap();
        let whole = ewf_fixture("stream.E01");
        for keep in [whole.len() / 2, whole.len() - 100, 4096] {
            let first = dir.path().join("cut.E01");
            std::fs::write(&first, &whole[..keep]).unwrap();
            let got = members(&first, SetKind::Ewf, &HashSet::new());
            assert!(got.as_ref().is_ok_and(Vec::is_empty), "kept {keep} bytes: {got:?}");
        }
    }

    #[test]
    fn a_lost_middle_segment_is_missing_even_where_later_ones_are_there() {
        let dir = tempfile::tempdir().unwrap();
        let first = dir.path().join("split.E01");
        std::fs::write(&first, ewf_fixture("stream.E01")).unwrap();
        for n in ["split.E02", "split.E04", "split.E05"] {
            std::fs::write(dir.path().join(n), b"a segment").unwrap();
        }
        let got = members(&first, SetKind::Ewf, &HashSet::new());
        let Err(PlanError::MissingMember { expected, .. }) = &got else { panic!("{got:?}") };
        assert_eq!(expected, &dir.path().join("split.E03"));
        // Named one by one, the set is held as it is.
        let named: HashSet<PathBuf> = ["split.E01", "split.E04", "split.E05"].map(|n| dir.path().join(n)).into();
        assert!(!matches!(members(&first, SetKind::Ewf, &named), Err(PlanError::MissingMember { .. })));
    }

    #[test]
    fn a_cue_naming_a_file_outside_its_folder_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["../secret.bin", "/etc/passwd", "sub/x.bin", ".."] {
            let cue = dir.path().join("hostile.cue");
            std::fs::write(&cue, format!("FILE \"{name}\" BINARY\n  TRACK 01 AUDIO\n")).unwrap();
            let err = members(&cue, SetKind::CueSheet, &HashSet::new()).unwrap_err();
            assert!(matches!(err, PlanError::MemberOutside { .. }), "{name}: {err}");
        }
    }
}
