use serde_json::{Map, Value, json};

use super::*;

fn map(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(m) => m,
        _ => panic!("not an object"),
    }
}

#[test]
fn params_written_before_schemas_read_as_schema_zero_into_the_same_types() {
    let old = map(json!({"job_id": "j1", "source_key": "k", "facts": {"source": {"path": {"display": "a.txt"}}}}));
    let EventParams::Acquired(p) = EventParams::parse(Action::Acquired, &old).unwrap() else { panic!() };
    assert_eq!(p.job_id.as_deref(), Some("j1"));
    assert_eq!(p.source_key.as_deref(), Some("k"));
    assert_eq!(p.source_display(), Some("a.txt"));
}

#[test]
fn writing_stamps_the_current_schema_and_reads_back_equal() {
    let p = OcrParams {
        rule: Some("ocr-text".into()),
        pages: Some(3),
        needs_review: Some(vec![json!({"page": 1})]),
        ..Default::default()
    };
    let wire = EventParams::Ocr(p.clone()).to_map();
    assert_eq!(wire[PARAM_SCHEMA], json!(PARAMS_SCHEMA));
    assert!(wire.contains_key("needs-review"), "the wire key is the one old entries use");
    assert_eq!(EventParams::parse(Action::Ocr, &wire).unwrap(), EventParams::Ocr(p));
}

#[test]
fn a_newer_schema_is_refused_not_guessed() {
    let newer = map(json!({"schema": PARAMS_SCHEMA + 1, "job_id": "j"}));
    let err = EventParams::parse(Action::Identified, &newer).unwrap_err();
    assert!(matches!(err, ParamsError::NewerSchema { found, .. } if found == u64::from(PARAMS_SCHEMA) + 1), "{err}");
}

#[test]
fn hostile_params_are_a_typed_error_never_a_panic() {
    for bad in [
        json!({"schema": "one"}),
        json!({"schema": -1}),
        json!({"pages": "many"}),
        json!({"pages": -3}),
        json!({"needs-review": {"not": "a list"}}),
    ] {
        let err = EventParams::parse(Action::Ocr, &map(bad.clone())).unwrap_err();
        assert!(matches!(err, ParamsError::Corrupt { .. }), "{bad}: {err}");
    }
}

#[test]
fn unknown_keys_are_ignored_so_old_shapes_keep_reading() {
    let old = map(json!({"public_key": "ssh-ed25519 AAAA", "whatever": [1, 2]}));
    let p = EventParams::parse(Action::KeyAdded, &old).unwrap();
    assert_eq!(p, EventParams::KeyAdded(KeyAddedParams { public_key: Some("ssh-ed25519 AAAA".into()) }));
}

#[test]
fn job_id_and_rule_are_read_the_same_whatever_the_action() {
    let t = EventParams::Transcoded(TranscodedParams {
        rule: Some("access-mp4".into()),
        policy_version: Some("2".into()),
        job_id: Some("j".into()),
        ..Default::default()
    });
    assert_eq!(t.job_id(), Some("j"));
    assert_eq!(t.rule(), Some(("access-mp4", Some("2"))));
    assert_eq!(EventParams::Stored.job_id(), None);
}
