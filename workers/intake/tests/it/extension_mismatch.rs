//! The extension check on real files: nothing in `fixtures/` or the corpus
//! (all named as their makers named them) is flagged, so a flag means
//! something.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use exhibit_intake::{extension_mismatch, identify_bytes};

const SAMPLE: u64 = 64 * 1024;

fn flagged_under(root: &Path) -> Vec<String> {
    let mut flagged = Vec::new();
    for entry in walkdir::WalkDir::new(root).into_iter().map(Result::unwrap).filter(|e| e.file_type().is_file()) {
        let mut file = std::fs::File::open(entry.path()).unwrap();
        let size = file.metadata().unwrap().len();
        let mut head = Vec::new();
        (&mut file).take(SAMPLE).read_to_end(&mut head).unwrap();
        let mut tail = head.clone();
        if size > SAMPLE {
            tail.clear();
            file.seek(SeekFrom::Start(size - SAMPLE)).unwrap();
            file.read_to_end(&mut tail).unwrap();
        }
        let media = identify_bytes(&head, &tail, size, &exhibit_intake::IdentifyPolicy::default());
        if let Some(text) = extension_mismatch(&entry.file_name().to_string_lossy(), &media) {
            flagged.push(format!("{}: {text}", entry.path().display()));
        }
    }
    flagged
}

#[test]
fn no_fixture_is_flagged() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    let flagged = flagged_under(&root);
    assert!(flagged.is_empty(), "{flagged:#?}");
}

/// Corpus files flagged on purpose, with the reason.
const FLAGGED_ON_PURPOSE: &[(&str, &str)] = &[
    // androidx-media names an MPEG-2 program stream `.ps`, an extension
    // PRONOM (and most people) read as PostScript: the flag is true.
    ("androidx-media/sample_h262_mpeg_audio.ps", "MPEG-2 program stream named like PostScript"),
];

#[test]
fn no_corpus_file_is_flagged() {
    let Some(corpus) = exhibit_testkit::corpus_dir() else { return };
    let mut flagged = flagged_under(&corpus);
    for (name, _) in FLAGGED_ON_PURPOSE {
        let before = flagged.len();
        flagged.retain(|f| !f.contains(name));
        assert_eq!(before, flagged.len() + 1, "{name} should be flagged");
    }
    assert!(flagged.is_empty(), "{flagged:#?}");
}
