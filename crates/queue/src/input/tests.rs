use serde_json::json;

use super::*;

fn explore() -> StageInput {
    let case = "42AB1234520".parse().unwrap();
    let sha256 = Sha256Digest::of(b"disc");
    StageInput::Explore(ExploreInput {
        path: "disc.iso".into(),
        artefact: ArtefactId::derive(&case, &"JS/1".parse().unwrap(), b"disc.iso", &sha256),
        sha256,
        size: 4,
        depth: 0,
        bad_ranges: Vec::new(),
        set: None,
    })
}

#[test]
fn the_wire_form_is_versioned_and_tagged_by_kind_and_reads_back_equal() {
    let input = JobInput::from(explore());
    let wire = input.to_value();
    assert_eq!(wire["v"], json!(1));
    assert_eq!(wire["kind"], json!("explore"));
    let text = serde_json::to_string(&input).unwrap();
    assert_eq!(serde_json::from_str::<JobInput>(&text).unwrap(), input);
    assert_eq!(input.for_stage("explore").unwrap(), &explore());
}

#[test]
fn an_unknown_version_or_kind_is_kept_and_refused_as_unreadable() {
    let mut newer = JobInput::from(explore()).to_value();
    newer["v"] = json!(2);
    let mut strange = JobInput::from(explore()).to_value();
    strange["kind"] = json!("teleport");
    for raw in [newer, strange, json!({"path": "old.txt"}), json!([1, 2]), json!(null)] {
        let input: JobInput = serde_json::from_value(raw.clone()).unwrap();
        assert_eq!(input, JobInput::Unreadable(raw.clone()));
        assert!(matches!(input.for_stage("explore"), Err(JobInputError::Unreadable(_))), "{raw}");
        assert_eq!(input.to_value(), raw, "kept as received, for the failed event");
    }
}

#[test]
fn an_input_of_another_stage_is_refused() {
    let err = JobInput::from(explore()).for_stage("ocr").unwrap_err();
    assert_eq!(err, JobInputError::WrongStage { stage: "ocr".into(), found: "explore" });
}

#[test]
fn a_huge_unreadable_input_is_named_by_its_start_only() {
    let raw = json!({"v": 9, "junk": "x".repeat(1 << 20)});
    let err = JobInput::from_value(raw).for_stage("acquire").unwrap_err();
    assert!(err.to_string().len() < 400, "{}", err.to_string().len());
}

#[test]
fn a_set_explore_names_the_record_by_hash_and_an_older_message_reads_without_one() {
    let StageInput::Explore(mut input) = explore() else { unreachable!() };
    let plain = JobInput::from(StageInput::Explore(input.clone())).to_value();
    assert!(plain.get("set").is_none(), "absent unless set, so older readers see the same message");
    input.set = Some(Sha256Digest::of(b"a set record"));
    let wire = JobInput::from(StageInput::Explore(input.clone())).to_value();
    assert_eq!(wire["set"], json!(Sha256Digest::of(b"a set record").to_hex()));
    assert_eq!(JobInput::from_value(wire), JobInput::from(StageInput::Explore(input)));
    assert_eq!(JobInput::from_value(plain), JobInput::from(explore()), "a message without `set` is a plain medium");
}

#[test]
fn an_assemble_input_lists_members_by_role_and_order() {
    use exhibit_core::set_record::{SetKind, SetRole};
    let member = |role, order, path: &str| SetSource { role, order, path: path.into(), path_hex: hex_of(path) };
    let input = StageInput::Assemble(SetInput {
        path: "disc.cue".into(),
        set: SetKind::CueSheet,
        members: vec![member(SetRole::Sheet, 0, "disc.cue"), member(SetRole::TrackFile, 1, "disc.bin")],
    });
    let wire = JobInput::from(input.clone()).to_value();
    assert_eq!(wire["kind"], json!("assemble"));
    assert_eq!(wire["set"], json!("cue-sheet"));
    assert_eq!(wire["members"][1]["role"], json!("track-file"));
    assert_eq!(JobInput::from_value(wire).for_stage("assemble").unwrap(), &input);
}

fn hex_of(path: &str) -> String {
    path.bytes().map(|b| format!("{b:02x}")).collect()
}
