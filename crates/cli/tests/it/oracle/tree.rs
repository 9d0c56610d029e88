//! Oracles that extract a whole tree: xorriso (ISO 9660 with Rock Ridge
//! names), `7z x` (UDF) and pycdlib (UDF 2.60, which 7z cannot open). The
//! names and bytes are read back from the extracted folder.

use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::Command;

use super::{Named, OracleVolume, sha256_hex};

/// A tool's name and whether it runs here.
pub fn available(program: &str, probe: &[&str]) -> bool {
    Command::new(program).args(probe).output().is_ok()
}

/// xorriso's own Rock Ridge reader: sleuthkit reads an ISO's Joliet names
/// (cut to 103 characters, bytes it cannot encode replaced by `_`), while
/// exhibit lists Rock Ridge names, which keep the full name. Names come
/// from `-find` (raw bytes) because `-extract` of a whole tree drops
/// control bytes from the names it writes; each file is extracted alone.
pub fn xorriso(image: &Path, scratch: &Path) -> OracleVolume {
    std::fs::create_dir_all(scratch).unwrap();
    let mut entries = Vec::new();
    for (kind, types) in [("d", "d/d"), ("f", "r/r"), ("l", "l/l"), ("c", "c/c"), ("b", "b/b"), ("p", "p/p")] {
        for path in xorriso_find(image, kind) {
            let sha256 = (kind == "f").then(|| xorriso_extract(image, &path, &scratch.join("file")));
            let rel = path.strip_prefix(b"/").unwrap_or(&path).to_vec();
            entries.push(Named {
                path: rel,
                stream: None,
                deleted: false,
                types: types.into(),
                address: String::new(),
                sha256,
            });
        }
    }
    OracleVolume { offset: 0, fs: None, entries, tool: "xorriso -find / -extract" }
}

/// Paths of one type, as xorriso quotes them: `'name'`, a quote as `'"'"'`.
fn xorriso_find(image: &Path, kind: &str) -> Vec<Vec<u8>> {
    let out = Command::new("xorriso").arg("-indev").arg(image).args(["-find", "/", "-type", kind]).output();
    let out = out.expect("xorriso");
    assert!(out.status.success(), "xorriso -find: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
        .split(|&b| b == b'\n')
        .filter_map(|line| line.strip_prefix(b"'")?.strip_suffix(b"'"))
        .map(unquote)
        .filter(|p| p != b"/")
        .collect()
}

fn unquote(quoted: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = quoted;
    while let Some(at) = rest.windows(5).position(|w| w == b"'\"'\"'") {
        out.extend_from_slice(&rest[..at]);
        out.push(b'\'');
        rest = &rest[at + 5..];
    }
    out.extend_from_slice(rest);
    out
}

fn xorriso_extract(image: &Path, path: &[u8], dest: &Path) -> String {
    let _ = std::fs::remove_file(dest);
    let out = Command::new("xorriso")
        .args(["-osirrox", "on", "-indev"])
        .arg(image)
        .arg("-extract")
        .arg(std::ffi::OsStr::from_bytes(path))
        .arg(dest)
        .output()
        .expect("xorriso");
    if !out.status.success() {
        // Never equal to a digest: the comparison reports it.
        return format!("xorriso -extract failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    sha256_hex(&std::fs::read(dest).unwrap())
}

/// `7z x -tudf`.
pub fn seven_zip_udf(image: &Path, scratch: &Path) -> OracleVolume {
    let out = Command::new("7z").args(["x", "-tudf", "-y"]).arg(format!("-o{}", scratch.display())).arg(image).output();
    let out = out.expect("7z");
    assert!(out.status.success(), "7z: {}", String::from_utf8_lossy(&out.stdout));
    walked(scratch, "7z x -tudf")
}

const PYCDLIB_EXTRACT: &str = r#"
import os, sys, pycdlib
iso = pycdlib.PyCdlib()
iso.open(sys.argv[1])
out = sys.argv[2]
for root, dirs, files in iso.walk(udf_path="/"):
    for d in dirs:
        os.makedirs(os.path.join(out, (root + "/" + d).lstrip("/")), exist_ok=True)
    for f in files:
        path = (root + "/" + f).lstrip("/")
        rec = iso.get_record(udf_path="/" + path)
        dest = os.path.join(out, path)
        os.makedirs(os.path.dirname(dest) or out, exist_ok=True)
        if rec.is_symlink():
            os.symlink(rec.file_identifier().decode(), dest)
            continue
        with open(dest, "wb") as fp:
            iso.get_file_from_iso_fp(fp, udf_path="/" + path)
"#;

/// The Python with pycdlib: Debian's own `/usr/bin/python3` when another
/// interpreter comes first on the PATH.
pub fn pycdlib_python() -> Option<&'static str> {
    ["python3", "/usr/bin/python3"]
        .into_iter()
        .find(|py| Command::new(py).args(["-c", "import pycdlib"]).output().is_ok_and(|o| o.status.success()))
}

/// pycdlib's UDF reader, for UDF 2.60 which `7z` does not open.
pub fn pycdlib_udf(python: &str, image: &Path, scratch: &Path) -> OracleVolume {
    std::fs::create_dir_all(scratch).unwrap();
    let out = Command::new(python).args(["-c", PYCDLIB_EXTRACT]).arg(image).arg(scratch).output().expect("python3");
    assert!(out.status.success(), "pycdlib: {}", String::from_utf8_lossy(&out.stderr));
    walked(scratch, "pycdlib (UDF)")
}

/// Every entry under `root`: folders, files with their SHA-256, symlinks
/// and device nodes.
fn walked(root: &Path, tool: &'static str) -> OracleVolume {
    let mut entries = Vec::new();
    walk(root, root, &mut entries);
    OracleVolume { offset: 0, fs: None, entries, tool }
}

fn walk(root: &Path, dir: &Path, entries: &mut Vec<Named>) {
    let mut children: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    children.sort();
    for child in children {
        let meta = child.symlink_metadata().unwrap();
        let rel = child.strip_prefix(root).unwrap().as_os_str().as_bytes().to_vec();
        let kind = meta.file_type();
        let (types, sha256) = if kind.is_dir() {
            ("d/d", None)
        } else if kind.is_symlink() {
            ("l/l", None)
        } else if kind.is_file() {
            ("r/r", Some(sha256_hex(&std::fs::read(&child).unwrap())))
        } else {
            ("-/-", None)
        };
        entries.push(Named {
            path: rel,
            stream: None,
            deleted: false,
            types: types.into(),
            address: String::new(),
            sha256,
        });
        if kind.is_dir() {
            walk(root, &child, entries);
        }
    }
}

/// `udfinfo`'s `numfiles` and `numdirs` (the root included).
pub fn udfinfo_counts(image: &Path) -> (usize, usize) {
    let out = Command::new("udfinfo").arg(image).output().expect("udfinfo");
    assert!(out.status.success(), "udfinfo: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |key: &str| text.lines().find_map(|l| l.strip_prefix(key)?.parse().ok()).expect("udfinfo count");
    (field("numfiles="), field("numdirs="))
}
