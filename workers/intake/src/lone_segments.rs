//! EWF segments found without their set's first segment. A set is read
//! from its first segment (`x.E01`), which leads to the others; `x.E02`
//! to `x.E04` alone were stored as plain files and reported as a clean
//! ingest, though nothing of the medium they hold could be read. Now a
//! later segment whose first is absent is an incomplete set, as a cue
//! sheet without its `.bin` is: named by the operator, the plan fails
//! naming the first segment; found in a folder, the segments are stored as
//! files and the summary lists the set, naming what is missing.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use exhibit_media::sources::{EVF_SIGNATURE, segment_path};

use crate::companions::SetKind;
use crate::plan::{IncompleteSet, Plan, PlanError, SourceKind};

/// What to do about a lost first segment.
const FIRST_LOST: &str = "the first segment holds the set's description and leads to the others; \
     without it the medium cannot be read. Find it (ask whoever made the image) and ingest again";

/// The first segment of the set `path` is a later segment of, and its
/// number, if its name says so (`x.E02` to `x.E99`, then `x.EAA`...).
pub fn first_segment_of(path: &Path) -> Option<(PathBuf, u16)> {
    let ext = path.extension()?.to_str()?.as_bytes();
    let [lead, b, c] = <[u8; 3]>::try_from(ext).ok()?;
    // Past `.EZZ` (775 segments) names run on into `.FAA`, and so on to
    // `.TXT`: only the `E` names are taken for segments.
    if !lead.eq_ignore_ascii_case(&b'e') {
        return None;
    }
    let first = path.with_extension(if lead.is_ascii_lowercase() { "e01" } else { "E01" });
    let number = if b.is_ascii_digit() && c.is_ascii_digit() {
        u16::from((b - b'0') * 10 + (c - b'0'))
    } else {
        let a = if lead.is_ascii_lowercase() { b'a' } else { b'A' };
        let digit = |d: u8| d.checked_sub(a).filter(|d| *d < 26).map(u32::from);
        let i = digit(b)? * 26 + digit(c)?;
        u16::try_from(100 + i).ok()?
    };
    (number >= 2 && segment_path(&first, number).as_deref() == Some(path)).then_some((first, number))
}

/// Whether the file starts as an EWF segment does.
fn is_ewf_segment(path: &Path) -> bool {
    let mut head = [0u8; EVF_SIGNATURE.len()];
    std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut head)).is_ok() && head == EVF_SIGNATURE
}

/// Finds the planned files that are later EWF segments of a set whose
/// first segment is not planned. Named by the operator, one fails the
/// plan; found in a folder, the set is noted in
/// [`Plan::incomplete_sets`] under its lowest segment.
pub fn note_lone_segments(plan: &mut Plan, named: &[PathBuf]) -> Result<(), PlanError> {
    let mut lone: BTreeMap<PathBuf, Vec<(u16, PathBuf)>> = BTreeMap::new();
    let planned = |p: &Path| plan.items.iter().any(|i| i.path == p);
    for item in plan.items.iter().filter(|i| i.kind == SourceKind::File && !i.in_set) {
        let Some((first, number)) = first_segment_of(&item.path) else { continue };
        if !planned(&first) && is_ewf_segment(&item.path) {
            lone.entry(first).or_default().push((number, item.path.clone()));
        }
    }
    for (first, mut segments) in lone {
        segments.sort();
        let missing = |named: &Path| PlanError::MissingMember {
            named: named.to_owned(),
            set: SetKind::Ewf.label(),
            expected: first.clone(),
            advice: FIRST_LOST,
        };
        if let Some((_, path)) = segments.iter().find(|(_, p)| named.contains(p)) {
            return Err(missing(path));
        }
        let Some((_, head)) = segments.first() else { continue };
        tracing::warn!(first = %first.display(), "EWF segments without their first: stored as files");
        plan.incomplete_sets.push(IncompleteSet { head: head.clone(), reason: missing(head).to_string() });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn later_segments_name_their_first() {
        let first = |p: &str| first_segment_of(Path::new(p));
        assert_eq!(first("a/x.E02"), Some((PathBuf::from("a/x.E01"), 2)));
        assert_eq!(first("x.e99"), Some((PathBuf::from("x.e01"), 99)));
        assert_eq!(first("x.EAA"), Some((PathBuf::from("x.E01"), 100)));
        assert_eq!(first("x.EAB"), Some((PathBuf::from("x.E01"), 101)));
        assert_eq!(first("x.EZZ"), Some((PathBuf::from("x.E01"), 775)));
        for not_later in ["x.E01", "x.E00", "x.E1", "x.txt", "x.E0A", "x", "x.DAA", "x.FAA", "x.E\u{e9}"] {
            assert_eq!(first(not_later), None, "{not_later}");
        }
    }
}
