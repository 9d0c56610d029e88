//! One vocabulary for what is wrong with an artefact: the words `show
//! --flag` takes are the flags the stages set on artefacts, the conditions
//! identification records in the media type (`unidentified`,
//! `extension-mismatch`), which the ingest summary and `verify` use as
//! their kinds too, and the summary's own word where it names a flag
//! differently (`damaged-media` is the `damaged` flag).

use std::collections::{BTreeMap, BTreeSet};

use exhibit_core::event::{Action, CustodyEvent, Outcome};
use exhibit_core::manifest::{ArtefactKind, ArtefactManifest};
use exhibit_pipeline::{FAULT_DAMAGED, FAULT_LIMIT, FAULT_UNCONVERTED};

use crate::terminal::escape_message;

/// Flags the stages set (intake, explore, device, transcode, OCR, bundle).
/// A flag found on an artefact of the case is accepted too, so a newer
/// stage's flag is never refused.
pub const KNOWN_FLAGS: [&str; 14] = [
    "bad-sectors",
    "damaged",
    "deleted",
    "device",
    "incomplete-bundle",
    "listing",
    "mapfile",
    "needs-review",
    "not-deterministic",
    "partially-recovered",
    "sparse",
    "symlink",
    "truncated",
    "validation-failed",
];

/// Conditions identification records in an artefact's media type, named
/// as the summary's attention kinds name them.
pub const MEDIA_CONDITIONS: [&str; 2] = ["extension-mismatch", "unidentified"];

/// The summary's words for what the ledger records as a failure or a
/// failed check, not as a flag: `show` finds them on the artefacts the
/// failures name ([`failure_words`]).
pub const FAILURE_WORDS: [&str; 4] = ["damaged-record", "limit", "page-count-mismatch", "unconverted"];

/// The summary's words for conditions that are flags under another name.
const SAME_AS: [(&str, &str); 1] = [("damaged-media", "damaged")];

/// The words asked for, in the vocabulary's form (lower case, the summary's
/// synonyms turned into flags); an unknown one is refused with the list.
pub fn checked_flags(asked: &[String], in_case: &[(String, u64)]) -> anyhow::Result<Vec<String>> {
    let mut valid: BTreeSet<&str> = KNOWN_FLAGS.into_iter().chain(MEDIA_CONDITIONS).chain(FAILURE_WORDS).collect();
    valid.extend(in_case.iter().map(|(flag, _)| flag.as_str()));
    asked
        .iter()
        .map(|flag| {
            let lower = flag.trim().to_ascii_lowercase();
            let word = SAME_AS.iter().find(|(alias, _)| *alias == lower).map_or(lower.as_str(), |(_, f)| f);
            if valid.contains(word) {
                Ok(word.to_owned())
            } else {
                let mut list: Vec<&str> = valid.iter().copied().collect();
                list.extend(SAME_AS.iter().map(|(alias, _)| *alias));
                list.sort_unstable();
                anyhow::bail!("--flag {}: no such flag; the flags are {}", escape_message(flag), list.join(", "))
            }
        })
        .collect()
}

/// Whether the artefact has the condition `word` names: a flag on it, or
/// a condition of its media type.
pub fn carries(m: &ArtefactManifest, word: &str) -> bool {
    m.flags.iter().any(|f| f == word)
        || (word == "unidentified" && m.media_type.unidentified.is_some())
        || (word == "extension-mismatch" && m.media_type.extension_mismatch.is_some())
}

/// The artefact's flags and media conditions, as `show` prints them.
pub fn words_of(m: &ArtefactManifest) -> Vec<&str> {
    let conditions = MEDIA_CONDITIONS.into_iter().filter(|c| !m.flags.iter().any(|f| f == c) && carries(m, c));
    m.flags.iter().map(String::as_str).chain(conditions).collect()
}

/// Whether the artefact carries any of `words`.
pub fn carries_any(m: &ArtefactManifest, words: &[String]) -> bool {
    words.iter().any(|w| carries(m, w))
}

/// The failure words ([`FAILURE_WORDS`]) of each artefact, by ID: the
/// artefact a failed job read (an image with a damaged record inside, a
/// video no decoder converts, a file past a limit); a bundle PDF missing
/// pages; the originals of an exhibit whose `--pages` check failed.
pub fn failure_words(
    events: &[CustodyEvent],
    artefacts: &[ArtefactManifest],
) -> BTreeMap<String, BTreeSet<&'static str>> {
    let mut words: BTreeMap<String, BTreeSet<&'static str>> = BTreeMap::new();
    let mut failed_pages: BTreeSet<String> = BTreeSet::new();
    let resolved = super::summary_attention::failures_done_since(events);
    for (i, e) in events.iter().enumerate() {
        match (&e.action, &e.outcome) {
            (Action::Failed, _) if resolved.contains(&i) => {}
            (Action::Failed, Outcome::Failed { .. }) => {
                let word = match e.failed_params().and_then(|p| p.fault).as_deref() {
                    Some(FAULT_DAMAGED) => "damaged-record",
                    Some(FAULT_UNCONVERTED) => "unconverted",
                    Some(FAULT_LIMIT) => "limit",
                    _ => continue,
                };
                for id in failed_inputs(e) {
                    words.entry(id).or_default().insert(word);
                }
            }
            // An E01 set whose media fails its checksums or stored hash.
            (Action::Verified, Outcome::Failed { .. }) if e.verified_params().is_some_and(|v| v.segments.is_some()) => {
                for input in &e.inputs {
                    words.entry(input.id.to_string()).or_default().insert("damaged");
                }
            }
            // The latest page count check of an exhibit stands: a passing
            // one (a corrected `--pages`) clears an earlier mismatch.
            (Action::Verified, outcome) if e.verified_params().is_some_and(|v| v.bundle.is_some()) => {
                let Some(exhibit) = e.exhibit.as_ref().map(ToString::to_string) else { continue };
                if matches!(outcome, Outcome::Failed { .. }) {
                    failed_pages.insert(exhibit);
                } else {
                    failed_pages.remove(&exhibit);
                }
            }
            _ => {}
        }
    }
    for m in artefacts {
        let short_of_pages = m.kind == ArtefactKind::Original && failed_pages.contains(&m.exhibit.to_string());
        if short_of_pages || m.flags.iter().any(|f| f == "incomplete-bundle") {
            words.entry(m.id.to_string()).or_default().insert("page-count-mismatch");
        }
    }
    words
}

/// The artefacts a failed event read: its inputs, else the artefact its
/// job input names.
fn failed_inputs(e: &CustodyEvent) -> Vec<String> {
    if !e.inputs.is_empty() {
        return e.inputs.iter().map(|i| i.id.to_string()).collect();
    }
    let named = e.failed_params().and_then(|p| p.input).and_then(|i| i.get("artefact")?.as_str().map(str::to_owned));
    e.artefact.as_ref().and_then(|a| a.id.as_ref()).map(ToString::to_string).into_iter().chain(named).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synonyms_become_flags_and_unknown_words_list_the_vocabulary() {
        let asked = ["Damaged-Media".to_owned(), " UNIDENTIFIED ".to_owned()];
        assert_eq!(checked_flags(&asked, &[]).unwrap(), ["damaged", "unidentified"]);
        let newer = [("from-a-newer-stage".to_owned(), 1)];
        assert_eq!(checked_flags(&["from-a-newer-stage".to_owned()], &newer).unwrap(), ["from-a-newer-stage"]);
        let err = checked_flags(&["bogus\u{1b}[2J".to_owned()], &[]).unwrap_err().to_string();
        assert!(!err.contains('\u{1b}'), "{err}");
        for word in ["damaged-media", "extension-mismatch", "incomplete-bundle", "needs-review", "unidentified"] {
            assert!(err.contains(word), "{word}: {err}");
        }
    }
}
