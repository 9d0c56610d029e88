//! exhibit's PUIDs agree with fido's (opf-fido 1.6.1, which ships the same
//! PRONOM signature file, v109) on every file in `fixtures/` and in the
//! conformance corpus. Both run on internal signatures only: fido with
//! `-noextension -nocontainer -pronom_only`.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use exhibit_pronom::{SAMPLE_BYTES, bundled};

/// Files where exhibit and fido are known to differ, with the reason.
/// With signature file v109 there are none on these files; an entry here
/// must say why the difference is right (or tolerable).
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[];

#[test]
fn puids_agree_with_fido_on_fixtures() {
    let Some(fido) = fido() else { return };
    let root = exhibit_testkit::workspace_root().join("fixtures");
    compare(&fido, &files_under(&root));
}

#[test]
fn puids_agree_with_fido_on_the_corpus() {
    let Some(fido) = fido() else { return };
    let Some(corpus) = exhibit_testkit::corpus_dir() else { return };
    compare(&fido, &files_under(&corpus));
}

fn compare(fido: &Path, files: &[PathBuf]) {
    assert!(!files.is_empty());
    let theirs = fido_puids(fido, files);
    let mut differences = Vec::new();
    let mut identified = 0;
    for file in files {
        let ours = our_puids(file);
        let expected = theirs.get(file).cloned().unwrap_or_default();
        identified += usize::from(!ours.is_empty());
        let known = KNOWN_DIFFERENCES.iter().any(|(suffix, _)| file.ends_with(suffix));
        if ours != expected && !known {
            differences.push(format!("{}: exhibit {ours:?}, fido {expected:?}", file.display()));
        }
    }
    assert!(
        differences.is_empty(),
        "{} of {} files differ:\n{}",
        differences.len(),
        files.len(),
        differences.join("\n")
    );
    // A comparison where neither side identifies anything proves nothing.
    assert!(identified * 4 >= files.len(), "only {identified} of {} files identified", files.len());
}

fn our_puids(path: &Path) -> BTreeSet<String> {
    let mut file = std::fs::File::open(path).unwrap();
    let size = file.metadata().unwrap().len();
    let mut head = Vec::new();
    (&mut file).take(SAMPLE_BYTES as u64).read_to_end(&mut head).unwrap();
    let mut tail = Vec::new();
    if size > head.len() as u64 {
        file.seek(SeekFrom::Start(size.saturating_sub(SAMPLE_BYTES as u64))).unwrap();
        file.read_to_end(&mut tail).unwrap();
    } else {
        tail.clone_from(&head);
    }
    bundled().unwrap().identify(&head, &tail).iter().map(|f| f.puid.clone()).collect()
}

/// fido's signature matches per file, from its CSV output.
fn fido_puids(fido: &Path, files: &[PathBuf]) -> BTreeMap<PathBuf, BTreeSet<String>> {
    let mut child = Command::new(fido)
        .args(["-q", "-noextension", "-nocontainer", "-pronom_only", "-input", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let list: String = files.iter().map(|f| format!("{}\n", f.display())).collect();
    child.stdin.take().unwrap().write_all(list.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "fido failed");
    let mut found: BTreeMap<PathBuf, BTreeSet<String>> = BTreeMap::new();
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(out.stdout.as_slice());
    for record in reader.records() {
        let record = record.unwrap();
        if record.get(0) == Some("OK") && record.get(8) == Some("signature") {
            found.entry(PathBuf::from(&record[6])).or_default().insert(record[2].to_owned());
        }
    }
    found
}

fn files_under(root: &Path) -> Vec<PathBuf> {
    // fido prints paths without `..`.
    let root = std::fs::canonicalize(root).unwrap();
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(root)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .collect();
    files.sort();
    files
}

/// fido: `$EXHIBIT_FIDO`, else in the Python tools venv that
/// `scripts/setup-debian.sh` makes (`$EXHIBIT_PYTHON_TOOLS`, default
/// `/opt/exhibit-python`), else on `PATH`. Absent, the test is skipped with
/// a message, or fails under CI.
fn fido() -> Option<PathBuf> {
    let tools =
        std::env::var_os("EXHIBIT_PYTHON_TOOLS").map_or_else(|| PathBuf::from("/opt/exhibit-python"), PathBuf::from);
    let candidates = [
        std::env::var_os("EXHIBIT_FIDO").map(PathBuf::from),
        Some(tools.join("bin/fido")),
        Some(PathBuf::from("fido")),
    ];
    for candidate in candidates.into_iter().flatten() {
        let works = Command::new(&candidate).arg("-v").stdout(Stdio::null()).stderr(Stdio::null()).status();
        if works.is_ok_and(|s| s.success()) {
            return Some(candidate);
        }
    }
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    assert!(!ci, "fido is not installed (scripts/setup-debian.sh installs opf-fido)");
    println!("skipped: fido is not installed (scripts/setup-debian.sh installs opf-fido 1.6.1)");
    None
}
