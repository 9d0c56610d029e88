//! Checks of the RFC 3161 anchors beside the ledger: each token must be
//! signed by a TSA that chains to the configured CA, and its imprint must
//! be the body hash of the entry with that sequence number in the chain as
//! it stands. So a rewrite of anything anchored, or a cut of the chain back
//! past the latest anchor, is caught even when every entry is validly
//! signed.

use std::fmt;

use exhibit_core::digest::Sha256Digest;
use exhibit_core::ids::CaseId;
use exhibit_core::layout::{ObjectKey, anchors_prefix, ledger_key, parse_anchor_name};
use exhibit_store::{ObjectStore, StoreErrorKind, read_small};
use exhibit_timestamp::{ParsedToken, TsaTrust};
use serde::{Deserialize, Serialize};
use tracing::{debug, instrument, warn};

use super::Problem;
use crate::entry::body_of_file;
use crate::error::Result;
use crate::ledger::ENTRY_LIMIT;

/// Largest anchor file read: a response with a long chain is a few KiB.
pub(crate) const ANCHOR_LIMIT: u64 = 1 << 20;

/// What the anchor check found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnchorSummary {
    /// Anchor files found.
    pub found: u64,
    /// The CA file tokens were checked against; `None` when no CA was
    /// configured, so signatures were NOT checked (`null` in JSON).
    #[serde(default)]
    pub checked_against: Option<String>,
    /// The highest entry a valid, matching anchor vouches for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest: Option<u64>,
    /// When the TSA signed that anchor, if its signature was checked.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "time::serde::rfc3339::option")]
    pub latest_time: Option<time::OffsetDateTime>,
    /// The first entry after the latest valid anchor, when that anchor is
    /// below the head: entries from here to `unanchored_to` are vouched for
    /// by nothing outside the data folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unanchored_from: Option<u64>,
    /// The head, when `unanchored_from` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unanchored_to: Option<u64>,
}

impl fmt::Display for AnchorSummary {
    /// One line, or nothing when there is nothing to say.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.checked_against, self.found) {
            (None, 0) => Ok(()),
            (None, n) => write!(
                f,
                "WARNING: {n} timestamp anchor(s) were NOT checked: no TSA CA is configured ([anchoring] ca_file); anything after the ledger's own signatures is unverified"
            ),
            (Some(ca), 0) => {
                write!(f, "warning: no timestamp anchors (CA {ca}): nothing outside the ledger vouches for its head")
            }
            (Some(ca), n) => match self.latest {
                Some(latest) => write!(f, "anchors: {n} checked against {ca}; latest vouches for entry {latest}"),
                None => write!(f, "anchors: {n} checked against {ca}; none is valid"),
            },
        }
    }
}

impl AnchorSummary {
    /// Writes the summary as a line of its own, if it has anything to say.
    pub(super) fn write_line(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let line = self.to_string();
        if !line.is_empty() {
            write!(f, "\n{line}")?;
        }
        if let (Some(from), Some(to)) = (self.unanchored_from, self.unanchored_to) {
            write!(
                f,
                "\nwarning: entries {from}..{to} are not anchored: a cut back to entry {} combined with deleting anchors would go unnoticed without a receipt kept outside the data folder",
                from - 1
            )?;
        }
        Ok(())
    }

    /// Notes the entries after the latest valid anchor, up to `head`.
    pub(super) fn note_head(&mut self, head: Option<u64>) {
        if let (Some(latest), Some(head)) = (self.latest, head)
            && latest < head
        {
            self.unanchored_from = Some(latest + 1);
            self.unanchored_to = Some(head);
        }
    }
}

/// The text of an anchor problem.
pub(super) fn describe(problem: &Problem, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match problem {
        Problem::AnchorInvalid { file, seq, reason } => {
            write!(f, "anchor {file} (entry {seq}): invalid timestamp ({reason})")
        }
        Problem::AnchorMismatch { file, seq, anchored, found } => {
            write!(f, "entry {seq} altered: anchor {file} timestamped sha256 {anchored}, but ")?;
            match found {
                Some(found) => write!(f, "the entry's body now hashes to {found}"),
                None => f.write_str("the entry is no longer readable"),
            }
        }
        Problem::AnchorEntryMissing { file, seq } => write!(f, "entry {seq} missing: anchor {file} shows it existed"),
        // Other problems describe themselves; mod.rs sends only these here.
        _ => Ok(()),
    }
}

/// Checks every anchor of `case`. Without `trust`, tokens are parsed and
/// compared but their signatures are not checked, and the summary says so.
#[instrument(skip_all, fields(case = %case, checked = trust.is_some()))]
pub(super) async fn check(
    store: &dyn ObjectStore,
    case: &CaseId,
    trust: Option<&TsaTrust>,
) -> Result<(AnchorSummary, Vec<Problem>)> {
    let prefix = anchors_prefix(case);
    let mut summary = AnchorSummary { checked_against: trust.map(|t| t.source().to_owned()), ..Default::default() };
    let mut problems = Vec::new();
    // A regular file where the anchors folder belongs hides every anchor.
    if let Some(folder) = ObjectKey::new(prefix.trim_end_matches('/'))
        && store.head(&folder).await.is_ok()
    {
        problems.push(Problem::UnexpectedFile { key: folder.to_string() });
    }
    for meta in store.list(&prefix).await? {
        let name = meta.key.as_str().strip_prefix(prefix.as_str()).unwrap_or_default();
        let Some(seq) = parse_anchor_name(name) else {
            problems.push(Problem::UnexpectedFile { key: meta.key.to_string() });
            continue;
        };
        summary.found += 1;
        match check_one(store, case, seq, &meta.key, trust).await? {
            Err(problem) => {
                warn!(seq, file = %meta.key, "anchor check failed");
                problems.push(problem);
            }
            Ok(signed_at) => {
                debug!(seq, "anchor holds");
                if summary.latest.is_none_or(|latest| seq > latest) {
                    summary.latest = Some(seq);
                    // Only a checked signature makes the TSA's time worth
                    // holding entries to.
                    summary.latest_time = trust.map(|_| signed_at);
                }
            }
        }
    }
    Ok((summary, problems))
}

async fn check_one(
    store: &dyn ObjectStore,
    case: &CaseId,
    seq: u64,
    key: &ObjectKey,
    trust: Option<&TsaTrust>,
) -> Result<std::result::Result<time::OffsetDateTime, Problem>> {
    let file = key.to_string();
    let invalid = |reason: String| Err(Problem::AnchorInvalid { file: file.clone(), seq, reason });
    let bytes = match read_small(store, key, ANCHOR_LIMIT).await {
        Ok(b) => b,
        Err(e) if matches!(e.kind(), StoreErrorKind::TooLarge | StoreErrorKind::Corrupt) => {
            return Ok(invalid(e.to_string()));
        }
        Err(e) => return Err(e.into()),
    };
    let (imprint, signed_at) = match imprint_of(&bytes, trust) {
        Ok(found) => found,
        Err(reason) => return Ok(invalid(reason)),
    };
    let entry = match read_small(store, &ledger_key(case, seq), ENTRY_LIMIT).await {
        Ok(b) => b,
        Err(e) if e.kind() == StoreErrorKind::NotFound => {
            return Ok(Err(Problem::AnchorEntryMissing { file, seq }));
        }
        Err(e) if matches!(e.kind(), StoreErrorKind::TooLarge | StoreErrorKind::Corrupt) => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    let found = body_of_file(&entry).ok().map(|body| Sha256Digest::of(&body));
    if found == Some(imprint) {
        Ok(Ok(signed_at))
    } else {
        Ok(Err(Problem::AnchorMismatch { file, seq, anchored: imprint, found }))
    }
}

/// The digest a stored response vouches for and when the TSA says it
/// signed, after checking it against `trust` when there is one.
pub(crate) fn imprint_of(
    bytes: &[u8],
    trust: Option<&TsaTrust>,
) -> Result<(Sha256Digest, time::OffsetDateTime), String> {
    let token = ParsedToken::from_response(bytes).map_err(|e| e.to_string())?;
    let signed_at = time::OffsetDateTime::UNIX_EPOCH + token.gen_time();
    let imprint = match trust {
        Some(trust) => trust.verify(&token).map_err(|e| e.to_string())?.imprint,
        None => token.imprint_sha256().map_err(|e| e.to_string())?,
    };
    Ok((Sha256Digest::from_bytes(imprint), signed_at))
}
