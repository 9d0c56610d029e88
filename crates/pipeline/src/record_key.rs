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

use exhibit_core::params::EventParams;

/// Param of a worker's `failed` event naming the ingest run it belongs to,
/// so that a later run may record its own failure of the same job.
pub const PARAM_RUN: &str = "run";

/// The identity of the fact `event` records, if it places one.
pub fn record_key(event: &CustodyEvent) -> Option<Sha256Digest> {
    // Entries this build cannot type place nothing it can compare.
    let params = event.typed_params().unwrap_or(EventParams::Stored);
    // A param's JSON text, as keys were made before params were typed.
    let text = |v: Option<&str>| v.map(|s| serde_json::Value::from(s).to_string()).unwrap_or_default();
    let inputs: Vec<&str> = event.inputs.iter().map(|i| i.id.as_str()).collect();
    let action = serde_json::to_string(&event.action).ok()?;
    let outcome = if event.outcome == Outcome::Ok { "ok" } else { "failed" };
    let parts: Vec<String> = if let Some((rule, policy_version)) = params.rule() {
        vec!["output".into(), action, outcome.into(), inputs.join(","), text(Some(rule)), text(policy_version)]
    } else {
        let artefact = event.artefact.as_ref().and_then(|a| a.id.as_ref()).map(|id| id.as_str().to_owned());
        let (input, run) = match &params {
            EventParams::Failed(f) => {
                (f.input.as_ref().map(|i| i.to_string()).unwrap_or_default(), text(f.run.as_deref()))
            }
            _ => (String::new(), String::new()),
        };
        let placing = [text(params.job_id()), text(params.source_key()), input, run];
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

#[cfg(test)]
mod tests {
    use exhibit_core::digest::Sha256Digest;
    use exhibit_core::event::{Action, Actor, ArtefactRef, InputRef};
    use exhibit_core::ids::ArtefactId;
    use exhibit_core::manifest::ToolInfo;
    use time::OffsetDateTime;

    use super::*;
    use crate::index::PARAM_JOB_ID;

    fn event(action: Action) -> CustodyEvent {
        CustodyEvent {
            at: OffsetDateTime::now_utc(),
            case: "42AB1234520".parse().unwrap(),
            exhibit: Some("JS/1".parse().unwrap()),
            action,
            artefact: None,
            inputs: Vec::new(),
            tool: ToolInfo::exhibit("test"),
            params: Default::default(),
            actor: Actor { operator: "A".into(), host: "h".into(), process: 1, public_key: "k".into() },
            outcome: Outcome::Ok,
        }
    }

    fn id(text: &str) -> ArtefactId {
        let case = "42AB1234520".parse().unwrap();
        ArtefactId::derive(&case, &"JS/1".parse().unwrap(), text.as_bytes(), &Sha256Digest::of(text.as_bytes()))
    }

    fn output(artefact: &str) -> CustodyEvent {
        let mut e = event(Action::Transcoded);
        e.inputs = vec![InputRef { id: id("source"), sha256: Sha256Digest::of(b"source") }];
        e.params.insert("rule".into(), "access-mp4".into());
        e.params.insert("policy_version".into(), "2".into());
        e.artefact = Some(ArtefactRef {
            id: Some(id(artefact)),
            sha256: Sha256Digest::of(b"x"),
            size: 1,
            manifest_sha256: None,
        });
        e
    }

    #[test]
    fn the_same_fact_at_another_time_or_by_another_operator_has_the_same_key() {
        let mut a = event(Action::Identified);
        a.artefact =
            Some(ArtefactRef { id: Some(id("f")), sha256: Sha256Digest::of(b"f"), size: 1, manifest_sha256: None });
        let mut b = a.clone();
        b.at = OffsetDateTime::UNIX_EPOCH;
        b.actor.operator = "B".into();
        assert_eq!(record_key(&a), record_key(&b));
        assert!(record_key(&a).is_some());
    }

    #[test]
    fn an_output_is_named_by_input_rule_and_policy_not_its_artefact() {
        assert_eq!(record_key(&output("run 1")), record_key(&output("run 2")));
        let mut other_rule = output("run 1");
        other_rule.params.insert("rule".into(), "audio-flac".into());
        assert_ne!(record_key(&output("run 1")), record_key(&other_rule));
        let mut other_policy = output("run 1");
        other_policy.params.insert("policy_version".into(), "3".into());
        assert_ne!(record_key(&output("run 1")), record_key(&other_policy));
    }

    #[test]
    fn failures_of_different_runs_differ_and_events_placing_nothing_have_no_key() {
        let mut failed = event(Action::Failed);
        failed.outcome = Outcome::Failed { reason: "gone".into() };
        failed.params.insert(PARAM_JOB_ID.into(), "j".into());
        let mut later = failed.clone();
        failed.params.insert(PARAM_RUN.into(), "run-1".into());
        later.params.insert(PARAM_RUN.into(), "run-2".into());
        assert_ne!(record_key(&failed), record_key(&later));
        let mut ok = failed.clone();
        ok.outcome = Outcome::Ok;
        assert_ne!(record_key(&failed), record_key(&ok));
        assert_eq!(record_key(&event(Action::Accessed)), None);
    }
}
