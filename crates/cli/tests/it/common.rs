//! A sandbox per test: its own data folder, signing key and sources.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Self {
        Self { dir: tempfile::tempdir().expect("tempdir") }
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn key_file(&self) -> PathBuf {
        self.dir.path().join("keys/signing_ed25519")
    }

    /// The `exhibit` command with this sandbox's store and key.
    pub fn exhibit(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_exhibit"));
        cmd.env("EXHIBIT_DATA", self.data())
            .env("EXHIBIT__SIGNING__KEY_FILE", self.key_file())
            // get and reproduce take the operator from $USER when no flag names one.
            .env("USER", "sandbox-user")
            .env_remove("EXHIBIT_CONFIG")
            .env_remove("EXHIBIT_LOG");
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.exhibit().args(args).output().expect("run exhibit")
    }

    /// A folder of sources: a few files in a nested layout, an empty file and
    /// a symlink.
    pub fn sources(&self) -> PathBuf {
        let src = self.dir.path().join("src");
        std::fs::create_dir_all(src.join("sub")).unwrap();
        std::fs::write(src.join("statement.txt"), "I saw the defendant at 10pm.\n").unwrap();
        std::fs::write(src.join("sub/photo.gif"), b"GIF89a\x01\x00\x01\x00\x00\x00\x00;").unwrap();
        std::fs::write(src.join("sub/empty"), b"").unwrap();
        std::os::unix::fs::symlink("../statement.txt", src.join("sub/link")).unwrap();
        src
    }

    pub fn ingest(&self, case: &str, src: &Path) -> Output {
        self.run(&["ingest", "--case", case, "--exhibit", "JS/1", "--operator", "Test Officer", src.to_str().unwrap()])
    }

    pub fn show_json(&self, case: &str) -> Value {
        let out = self.run(&["show", "--case", case, "--json"]);
        assert!(out.status.success(), "show failed: {}", stderr(&out));
        serde_json::from_slice(&out.stdout).expect("show --json output")
    }

    /// The organisation's `allowed_signers`, made from the sandbox key as
    /// the README shows: `ssh-keygen -y` prints the public half.
    pub fn trusted_keys(&self) -> PathBuf {
        let path = self.dir.path().join("allowed_signers");
        std::fs::write(&path, allowed_signers_line("officer@force.example", &self.key_file())).unwrap();
        path
    }

    /// Verify with the sandbox key pinned.
    pub fn verify_json(&self, case: &str) -> (i32, Value) {
        let trusted = self.trusted_keys();
        self.verify_json_with(case, &["--trusted-keys", trusted.to_str().unwrap()])
    }

    /// Verify with extra flags, as JSON.
    pub fn verify_json_with(&self, case: &str, extra: &[&str]) -> (i32, Value) {
        let mut args = vec!["verify", "--case", case, "--json"];
        args.extend_from_slice(extra);
        let out = self.run(&args);
        let report =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("verify --json: {e}: {}", stderr(&out)));
        (out.status.code().unwrap_or(-1), report)
    }

    pub fn case_dir(&self, case: &str) -> PathBuf {
        self.data().join("cases").join(case)
    }

    /// The folder segment (the key component of the storage ID) of the
    /// case an organisation created through the API as `name`: API
    /// creates store under a fresh ID, which `exhibit admin case list`
    /// shows beside the name.
    pub fn stored_segment(&self, name: &str) -> String {
        let out = self.run(&["admin", "case", "list"]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let listed = String::from_utf8_lossy(&out.stdout).into_owned();
        let ids: Vec<&str> = listed
            .lines()
            .skip(1)
            .filter_map(|l| l.split('\t').collect::<Vec<_>>().get(..3).map(|f| (f[0], f[2])))
            .filter(|(_, n)| *n == name)
            .map(|(id, _)| id)
            .collect();
        let [id] = ids.as_slice() else { panic!("one case named {name}: {listed}") };
        id.parse::<exhibit_core::ids::CaseId>().unwrap().key_component()
    }

    /// Every ledger entry file of a case, in order, parsed.
    /// Every event of the case's ledger with the file of the entry that
    /// holds it (a batch entry's events each with its file and `seq`).
    pub fn ledger(&self, case: &str) -> Vec<(PathBuf, Value)> {
        let mut files: Vec<PathBuf> =
            std::fs::read_dir(self.case_dir(case).join("ledger")).unwrap().map(|e| e.unwrap().path()).collect();
        files.sort();
        let mut out = Vec::new();
        for path in files {
            let entry: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            match entry.get("batch").and_then(Value::as_array) {
                // A batch entry's events, each with the entry's number.
                Some(events) => {
                    for event in events {
                        let mut event = event.clone();
                        event["seq"] = entry["seq"].clone();
                        out.push((path.clone(), event));
                    }
                }
                None => out.push((path, entry)),
            }
        }
        out
    }
}

/// One `allowed_signers` line for the key in `private_key_file`.
pub fn allowed_signers_line(principal: &str, private_key_file: &Path) -> String {
    let out = Command::new("ssh-keygen").arg("-y").arg("-f").arg(private_key_file).output().expect("ssh-keygen -y");
    assert!(out.status.success(), "ssh-keygen -y: {}", stderr(&out));
    format!("{principal} namespaces=\"exhibit-ledger\" {}", String::from_utf8_lossy(&out.stdout))
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Overwrites a stored file even though the store made it read-only.
pub fn overwrite(path: &Path, bytes: &[u8]) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// The problems of a verify report with this `kind`.
pub fn problems<'a>(report: &'a Value, kind: &str) -> Vec<&'a Value> {
    report["problems"].as_array().unwrap().iter().filter(|p| p["kind"] == kind).collect()
}

/// Runs `cmd` to its end, killing it if it takes over `limit`.
pub fn bounded(cmd: &mut Command, limit: Duration) -> Output {
    let child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn exhibit");
    let pid = child.id();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let watchdog = std::thread::spawn(move || {
        if done_rx.recv_timeout(limit).is_err() {
            let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
        }
    });
    let out = child.wait_with_output().unwrap();
    let _ = done_tx.send(());
    watchdog.join().unwrap();
    out
}

/// A file of the repository's `fixtures/` folder.
pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures").join(rel)
}

/// A new 4 MiB FAT image `dir/name` (volume ID `volume_id`) holding the
/// fixture `rel` as `inside` (e.g. `::/CLIP.AVI`), made with mkfs.fat and
/// mcopy.
pub fn fat_image_holding(dir: &Path, name: &str, volume_id: &str, (rel, inside): (&str, &str)) -> PathBuf {
    let image = dir.join(name);
    let made =
        Command::new("mkfs.fat").args(["-C", "-i", volume_id]).arg(&image).arg("4096").output().expect("mkfs.fat");
    assert!(made.status.success(), "mkfs.fat: {}", stderr(&made));
    let copied = Command::new("mcopy")
        .env("MTOOLS_SKIP_CHECK", "1")
        .arg("-i")
        .arg(&image)
        .arg(fixture(rel))
        .arg(inside)
        .output()
        .expect("mcopy");
    assert!(copied.status.success(), "mcopy: {}", stderr(&copied));
    image
}
