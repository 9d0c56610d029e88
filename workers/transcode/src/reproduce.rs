//! Re-running a derivation (ACPO principle 3): transcode the source again
//! with the same policy and compare each output's SHA-256 with the record,
//! or the decoded-data hash where the output is declared non-deterministic.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{ErrorKind, TranscodeError};
use crate::limits::Limits;
use crate::policy::Policy;
use crate::report::{OutputReport, TranscodeOutcome};

/// The comparison for one output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReproducedOutput {
    /// The rule.
    pub rule: String,
    /// `sha256` or `decoded-sha256`.
    pub compared: String,
    /// The recorded hash.
    pub recorded: String,
    /// The re-run's hash; empty when the re-run made no such output.
    pub reproduced: String,
    /// Whether they are equal.
    pub matched: bool,
}

/// The result of a re-run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReproduceReport {
    /// Policy version used.
    pub policy_version: String,
    /// Per output.
    pub outputs: Vec<ReproducedOutput>,
    /// Every output matched.
    pub matched: bool,
    /// Libraries whose version differs from the record: name → (recorded, now).
    pub library_changes: BTreeMap<String, (String, String)>,
}

/// Re-runs the derivation recorded in `recorded` into `scratch` (which
/// should be empty) and compares hashes. The policy version must match.
pub fn reproduce(
    input: &Path,
    policy: &Policy,
    limits: &Limits,
    recorded: &TranscodeOutcome,
    scratch: &Path,
) -> Result<ReproduceReport, TranscodeError> {
    if policy.version != recorded.policy_version {
        return Err(TranscodeError::new(
            ErrorKind::Mismatch,
            format!("recorded with policy {}, but policy {} was given", recorded.policy_version, policy.version),
        ));
    }
    let again = crate::transcode(input, policy, scratch, limits)?;
    let outputs: Vec<ReproducedOutput> = recorded
        .outputs
        .iter()
        .map(|r| {
            let new = again.outputs.iter().find(|o| o.rule == r.rule);
            let (compared, recorded_hash, new_hash) = if r.deterministic {
                ("sha256", r.sha256.clone(), new.map(|o| o.sha256.clone()))
            } else {
                let decoded = |o: &OutputReport| o.decoded_sha256.clone().unwrap_or_default();
                ("decoded-sha256", decoded(r), new.map(decoded))
            };
            let reproduced = new_hash.unwrap_or_default();
            ReproducedOutput {
                rule: r.rule.clone(),
                compared: compared.into(),
                matched: !reproduced.is_empty() && reproduced == recorded_hash,
                recorded: recorded_hash,
                reproduced,
            }
        })
        .collect();
    let library_changes = recorded
        .libraries
        .iter()
        .filter_map(|(k, v)| {
            let now = again.libraries.get(k).cloned().unwrap_or_default();
            (now != *v).then(|| (k.clone(), (v.clone(), now)))
        })
        .collect();
    Ok(ReproduceReport {
        policy_version: policy.version.clone(),
        matched: !outputs.is_empty() && outputs.iter().all(|o| o.matched),
        outputs,
        library_changes,
    })
}
