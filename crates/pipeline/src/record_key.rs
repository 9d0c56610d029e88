//! What makes a custody event "the same record" as another, so that a job
//! done twice (redelivered, duplicated, or run by two workers at once)
//! records nothing twice.
//!
//! The key names the fact an event records, not when or by whom:
//! - a derivation output (an event with a `rule`): the action, its inputs,
//!   the rule and the policy version. Its artefact ID is left out because
//!   an output that is not bit-for-bit reproducible gets a new ID each run;
//! - any other event: its action, outcome, artefact, inputs, and the
//!   params that place it (`job_id`, `source_key`, `input`, `run`).
//!
//! Events that place nothing (access, anchors, key changes) have no key
//! and are always recorded.

use exhibit_core::digest::Sha256Digest;
use exhibit_core::event::{CustodyEvent, Outcome};

use crate::index::{PARAM_JOB_ID, PARAM_SOURCE_KEY};

/// Param of a worker's `failed` event naming the ingest run it belongs to,
/// so that a later run may record its own failure of the same job.
pub const PARAM_RUN: &str = "run";

/// The identity of the fact `event` records, if it places one.
pub fn record_key(event: &CustodyEvent) -> Option<Sha256Digest> {
    let param = |k: &str| event.params.get(k).map(|v| v.to_string()).unwrap_or_default();
    let inputs: Vec<&str> = event.inputs.iter().map(|i| i.id.as_str()).collect();
    let action = serde_json::to_string(&event.action).ok()?;
    let outcome = if event.outcome == Outcome::Ok { "ok" } else { "failed" };
    let parts: Vec<String> = if event.params.contains_key("rule") {
        vec!["output".into(), action, outcome.into(), inputs.join(","), param("rule"), param("policy_version")]
    } else {
        let artefact = event.artefact.as_ref().and_then(|a| a.id.as_ref()).map(|id| id.as_str().to_owned());
        let placing = [param(PARAM_JOB_ID), param(PARAM_SOURCE_KEY), param("input"), param(PARAM_RUN)];
        if artefact.is_none() && inputs.is_empty() && placing.iter().all(String::is_empty) {
            return None;
        }
        let mut parts = vec!["event".into(), action, outcome.into(), artefact.unwrap_or_default(), inputs.join(",")];
        parts.extend(placing);
        parts
    };
    let mut bytes = Vec::new();
    for part in parts {
        bytes.extend_from_slice(&(part.len() as u64).to_be_bytes());
        bytes.extend_from_slice(part.as_bytes());
    }
    Some(Sha256Digest::of(&bytes))
}
