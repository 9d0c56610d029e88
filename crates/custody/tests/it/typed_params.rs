//! Ledgers written before params were typed read back into the typed
//! params. The fixture `tests/fixtures/main-9985a75/ledger` was written by
//! `exhibit ingest` at main 9985a75 (an E01 set, a WAV, a PNG scan, a text
//! file, a cut AVI), then `get`, `audit` and `export --case-uco`: every
//! action those write, with their untyped params as signed then.

use std::path::{Path, PathBuf};

use exhibit_core::event::{Action, CustodyEvent, Outcome};
use exhibit_core::params::{EventParams, PARAM_SCHEMA};
use exhibit_custody::{LedgerEntry, body_of_file, verify_signature};

fn entries() -> Vec<(PathBuf, Vec<u8>, LedgerEntry)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/main-9985a75/ledger");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let bytes = std::fs::read(&path).unwrap();
            let entry = LedgerEntry::parse(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (path, bytes, entry)
        })
        .collect()
}

fn events(action: Action) -> Vec<CustodyEvent> {
    entries().into_iter().flat_map(|(_, _, e)| e.events().to_vec()).filter(|e| e.action == action).collect()
}

#[test]
fn every_entry_written_before_typing_still_verifies_and_reads_into_its_typed_params_losslessly() {
    let all = entries();
    assert_eq!(all.len(), 28);
    for (path, bytes, entry) in &all {
        let body = entry.body_bytes().unwrap();
        assert_eq!(body, body_of_file(bytes).unwrap(), "{}", path.display());
        assert!(verify_signature(entry.signer_key(), &body, &entry.sig), "{}", path.display());
        let [event] = entry.events() else { panic!("{}: written before batches, one event an entry", path.display()) };
        assert!(!event.params.contains_key(PARAM_SCHEMA), "written before schemas");
        let typed = event.typed_params().unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        // Every key of the old shape has a typed home: writing the typed
        // form gives the same params, plus the schema version.
        let mut again = typed.to_map();
        assert_eq!(again.remove(PARAM_SCHEMA), Some(1.into()));
        assert_eq!(again, event.params, "{}", path.display());
    }
}

#[test]
fn old_intake_params_read_as_the_same_typed_values() {
    let acquired = events(Action::Acquired);
    let paths: Vec<String> =
        acquired.iter().filter_map(|e| e.acquired_params()?.source_display().map(str::to_owned)).collect();
    for expected in ["src/note.txt", "src/disc/split.E01", "src/disc/split.E02", "src/disc/split.E03"] {
        assert!(paths.iter().any(|p| p == expected), "{expected} in {paths:?}");
    }
    for e in &acquired {
        let p = e.acquired_params().unwrap();
        assert!(p.job_id.is_some() && p.source_key.is_some());
        assert_eq!(p.digests().map(|d| d.sha256), e.artefact.as_ref().map(|a| a.sha256));
    }
    let mimes: Vec<String> =
        events(Action::Identified).iter().filter_map(|e| e.identified_params()?.media_type).collect();
    assert!(mimes.contains(&"application/x-ewf".to_owned()) && mimes.contains(&"audio/x-wav".to_owned()), "{mimes:?}");
    let [e01] = &events(Action::Verified).iter().filter_map(|e| e.verified_params()?.segments).collect::<Vec<_>>()[..]
    else {
        panic!("one E01 check")
    };
    assert_eq!(e01.len(), 3, "{e01:?}");
    let check = events(Action::Verified).iter().find_map(|e| e.verified_params().filter(|v| v.segments.is_some()));
    let check = check.unwrap();
    assert_eq!((check.md5_matches, check.sha1_matches), (Some(true), Some(true)));
    let explored = events(Action::Explored).pop().and_then(|e| e.explored_params()).unwrap();
    assert_eq!(explored.medium.as_deref(), Some("application/x-ewf"));
    assert_eq!(explored.counts.as_ref().and_then(|c| c["files"].as_u64()), Some(2));
    assert_eq!(
        events(Action::Extracted).iter().filter(|e| e.extracted_params().and_then(|p| p.source_key).is_some()).count(),
        2
    );
}

#[test]
fn old_derivation_failure_and_access_params_read_as_the_same_typed_values() {
    let rules: Vec<String> = events(Action::Transcoded).iter().filter_map(|e| e.transcoded_params()?.rule).collect();
    assert_eq!(rules, ["audio-access", "audio-preservation"]);
    let ocr: Vec<_> = events(Action::Ocr).iter().filter_map(CustodyEvent::ocr_params).collect();
    assert_eq!(ocr.len(), 3);
    assert!(ocr.iter().all(|p| p.pages == Some(1) && p.policy_version.is_some()));
    assert_eq!(ocr.iter().filter(|p| p.job_id.is_some()).count(), 1, "the job ID on the last output only");
    let failed = events(Action::Failed).pop().unwrap();
    assert!(matches!(failed.outcome, Outcome::Failed { .. }));
    let f = failed.failed_params().unwrap();
    assert_eq!((f.stage.as_deref(), f.fault.as_deref()), (Some("transcode"), Some("unconverted")));
    assert_eq!(f.input_path(), Some("src/cut.avi"), "the old unversioned job input still names its path");
    assert!(f.run.is_some() && f.job_id.is_some());
    let accessed = events(Action::Accessed).pop().and_then(|e| e.accessed_params()).unwrap();
    assert_eq!(accessed.output.as_deref(), Some("/tmp/fx/note.out"));
    let audit = events(Action::Verified).iter().find_map(|e| e.verified_params()?.audit);
    assert!(audit.is_some_and(|a| a.is_object()));
    let exported = events(Action::Exported).pop().and_then(|e| e.exported_params()).unwrap();
    assert_eq!(exported.artefacts, Some(15));
    assert!(exported.case_uco.is_some_and(|c| c["sha256"].is_string()));
    let key = events(Action::KeyAdded).pop().and_then(|e| e.key_added_params()).unwrap();
    assert!(key.public_key.is_some_and(|k| k.starts_with("ssh-ed25519 ")));
    assert!(matches!(events(Action::KeyAdded)[0].typed_params(), Ok(EventParams::KeyAdded(_))));
}
