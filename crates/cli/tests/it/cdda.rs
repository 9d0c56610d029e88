//! CD audio from a bin/cue image end to end: each audio track comes out as
//! a WAV and gets the `cdda` derivatives of `normalisation.toml` (FLAC
//! preservation and AAC access copies), as every extracted file of a
//! derivable type gets its derive job.

use std::path::Path;

use serde_json::Value;

use crate::common::{Sandbox, stderr};

fn cue_folder(sb: &Sandbox) -> std::path::PathBuf {
    let src = sb.dir.path().join("disc");
    std::fs::create_dir(&src).unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/sources/cue");
    for name in ["two-files.cue", "data track.bin", "audio.bin"] {
        std::fs::copy(fixtures.join(name), src.join(name)).unwrap();
    }
    src
}

#[test]
fn cd_audio_tracks_from_bin_cue_get_flac_and_aac_copies() {
    let sb = Sandbox::new();
    let src = cue_folder(&sb);
    let out = sb.ingest("CDDA-1", &src.join("two-files.cue"));
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    let shown = sb.show_json("CDDA-1");
    let artefacts = shown["artefacts"].as_array().unwrap();
    let wav = artefacts
        .iter()
        .find(|a| a["inside"]["path"]["display"] == "/track02.wav")
        .expect("the audio track is an artefact");
    let copies: Vec<&Value> = artefacts.iter().filter(|a| a["parent"]["id"] == wav["id"]).collect();
    let mut rules: Vec<&str> = copies.iter().map(|c| c["derivation"]["rule"].as_str().unwrap()).collect();
    rules.sort();
    assert_eq!(rules, ["cdda-access", "cdda-preservation"], "{copies:#?}");
    let mimes: Vec<&str> = copies.iter().map(|c| c["media_type"]["mime"].as_str().unwrap()).collect();
    assert!(mimes.contains(&"audio/flac"), "{mimes:?}");
    assert!(copies.iter().all(|c| c["kind"] == "derivative"));
    let (code, report) = sb.verify_json("CDDA-1");
    assert_eq!(code, 0, "{report:#}");
    // A rerun derives nothing new.
    let again = sb.ingest("CDDA-1", &src.join("two-files.cue"));
    assert!(again.status.success(), "{}", stderr(&again));
    let shown = sb.show_json("CDDA-1");
    assert_eq!(shown["artefacts"].as_array().unwrap().len(), artefacts.len());
}

/// What a person sees: a tree with the originals first, the files found
/// in the image under the cue sheet, and each copy named by what it is.
#[test]
fn show_draws_the_disc_as_a_tree_with_named_copies() {
    let sb = Sandbox::new();
    let src = cue_folder(&sb);
    assert!(sb.ingest("CDDA-2", &src).status.success());
    let out = sb.run(&["show", "--case", "CDDA-2"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("case CDDA-2: 1 exhibit(s), 9 artefact(s): 3 original(s)"), "{text}");
    assert_eq!(lines[1], "exhibit JS/1");
    let at = |needle: &str| lines.iter().position(|l| l.contains(needle)).unwrap_or_else(|| panic!("{needle}\n{text}"));
    assert!(lines[at("two-files.cue")].starts_with("  └─ "), "the cue sheet is the last original: {text}");
    assert!(lines[at("/track02.wav")].starts_with("     ├─ /track02.wav  audio/x-wav"), "{text}");
    assert!(lines[at("FLAC preservation copy (cdda-preservation)")].starts_with("     │  ├─ "), "{text}");
    assert!(lines[at("M4A access copy (cdda-access)")].starts_with("     │  └─ "), "{text}");
    assert!(at("audio.bin") < at("two-files.cue") && at("two-files.cue") < at("/track02.wav"));
    assert_eq!(*lines.last().unwrap(), "  totals: 3 original(s), 3 file(s) found inside, 3 derivative(s)");
}
