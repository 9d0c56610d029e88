//! The command-line conventions people expect: checksum lines coreutils
//! reads without a warning, `get` that will not overwrite silently, `-q`,
//! `-v` and JSON logs, no colour codes in pipes, and a signing key
//! announced when it is made.

use std::process::Command;

use crate::common::{Sandbox, stderr};

const CASE: &str = "42AB1234520";

/// Names coreutils must escape in a checksum line, and an ordinary one.
fn awkward_sources(sb: &Sandbox) -> std::path::PathBuf {
    let src = sb.dir.path().join("awkward");
    std::fs::create_dir_all(&src).unwrap();
    for (name, body) in [("plain.txt", "a"), ("back\\slash", "b"), ("new\nline", "c"), ("carriage\rreturn", "d")] {
        std::fs::write(src.join(name), body).unwrap();
    }
    src
}

fn check_sums(sb: &Sandbox, checker: &str, sums: &[u8]) -> (bool, String, String) {
    let file = sb.dir.path().join(format!("{checker}.sums"));
    std::fs::write(&file, sums).unwrap();
    let out = Command::new(checker).arg("-c").arg(&file).current_dir(sb.dir.path()).output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned(), stderr(&out))
}

#[test]
fn hash_lines_are_read_by_coreutils_without_a_warning() {
    let sb = Sandbox::new();
    awkward_sources(&sb);
    for (algorithms, checker) in
        [(None, "sha256sum"), (Some("md5"), "md5sum"), (Some("sha1"), "sha1sum"), (Some("sha256,md5,sha1"), "cksum")]
    {
        let mut cmd = sb.exhibit();
        cmd.current_dir(sb.dir.path()).arg("hash");
        if let Some(list) = algorithms {
            cmd.args(["--algorithms", list]);
        }
        let out = cmd.arg("awkward").output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let (ok, stdout, warnings) = check_sums(&sb, checker, &out.stdout);
        assert!(ok, "{checker} -c failed: {stdout}{warnings}");
        assert_eq!(warnings, "", "{checker} -c warned");
        let per_file = algorithms.map_or(1, |a| a.split(',').count());
        assert_eq!(stdout.matches(": OK").count(), 4 * per_file, "{checker}: {stdout}");
        // coreutils' escaped form: a leading backslash, then \\, \n or \r.
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.lines().filter(|l| l.starts_with('\\')).count() >= 3, "{text}");
    }
}

#[test]
fn get_onto_an_existing_file_needs_force() {
    let sb = Sandbox::new();
    let src = sb.sources();
    assert!(sb.ingest(CASE, &src).status.success());
    let listing = sb.show_json(CASE);
    let statement = listing["artefacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["source"]["name"]["display"] == "statement.txt")
        .unwrap();
    let id = statement["id"].as_str().unwrap();
    let target = sb.dir.path().join("existing.txt");
    std::fs::write(&target, "do not lose me").unwrap();
    let entries_before = sb.ledger(CASE).len();
    let out = sb.run(&["get", "--case", CASE, id, "-o", target.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--force"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("verification"), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "do not lose me");
    assert_eq!(sb.ledger(CASE).len(), entries_before, "a refused get records no access");
    // A dangling symlink is a file too: never written through.
    let link = sb.dir.path().join("link-out");
    let aim = sb.dir.path().join("elsewhere");
    std::os::unix::fs::symlink(&aim, &link).unwrap();
    let out = sb.run(&["get", "--case", CASE, id, "-o", link.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(!aim.exists() && link.symlink_metadata().unwrap().file_type().is_symlink());
    // --force replaces a regular file only: a FIFO, a directory or a
    // symlink stays what it is (as root, `-o /dev/null --force` replaced
    // the machine's /dev/null with the evidence).
    use std::os::unix::fs::FileTypeExt;
    let fifo = sb.dir.path().join("fifo-out");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let folder = sb.dir.path().join("folder-out");
    std::fs::create_dir(&folder).unwrap();
    for not_a_file in [&fifo, &folder, &link] {
        let out = sb.run(&["get", "--case", CASE, id, "-o", not_a_file.to_str().unwrap(), "--force"]);
        assert_eq!(out.status.code(), Some(2), "{}: {}", not_a_file.display(), stderr(&out));
        assert!(stderr(&out).contains("not a regular file"), "{}", stderr(&out));
    }
    assert!(fifo.symlink_metadata().unwrap().file_type().is_fifo(), "the FIFO is untouched");
    assert!(folder.is_dir() && link.symlink_metadata().unwrap().file_type().is_symlink());
    assert_eq!(sb.ledger(CASE).len(), entries_before, "a refused get records no access");
    let out = sb.run(&["get", "--case", CASE, id, "-o", target.to_str().unwrap(), "--force"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read(&target).unwrap(), std::fs::read(src.join("statement.txt")).unwrap());
    assert_eq!(sb.ledger(CASE).last().unwrap().1["action"], "accessed");
}

#[test]
fn quiet_verbose_and_json_logs() {
    let sb = Sandbox::new();
    let src = sb.sources();
    let run = |extra: &[&str]| {
        let mut args = extra.to_vec();
        args.extend([
            "ingest",
            "--case",
            CASE,
            "--exhibit",
            "JS/1",
            "--operator",
            "Test Officer",
            src.to_str().unwrap(),
        ]);
        let out = sb.run(&args);
        assert!(out.status.success(), "{}", stderr(&out));
        (String::from_utf8_lossy(&out.stdout).into_owned(), stderr(&out))
    };
    let (_, first) = run(&[]);
    assert!(first.contains("created a new signing key"), "{first}");
    let (stdout, quiet) = run(&["-q"]);
    assert_eq!(quiet, "", "-q prints nothing on stderr for a clean run");
    assert_eq!(stdout, "", "-q prints no table for a clean run: the exit code says it");
    let (_, plain) = run(&[]);
    assert!(!plain.contains("INFO"), "default level is warn: {plain}");
    let (_, verbose) = run(&["-v"]);
    assert!(verbose.contains("INFO") && verbose.contains("phase finished"), "{verbose}");
    assert!(!verbose.contains('\u{1b}'), "no colour codes into a pipe: {verbose:?}");
    let (_, json) = run(&["-vv", "--log-format", "json"]);
    let lines: Vec<&str> = json.lines().collect();
    assert!(lines.iter().any(|l| l.contains("phase finished")), "{json}");
    for line in lines {
        let value: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(value["level"].is_string() && value["timestamp"].is_string(), "{line}");
    }
    let both = sb.run(&["-q", "-v", "cases"]);
    assert_eq!(both.status.code(), Some(2), "-q and -v conflict");
}

/// With `--log-format json` every stderr line is a JSON object: logs, the
/// new-key notice, failures and the final error alike.
#[test]
fn json_logs_keep_stderr_one_object_per_line() {
    let sb = Sandbox::new();
    let src = sb.sources();
    std::fs::write(src.join("bad\u{1b}[2Jname"), "x").unwrap();
    let fifo = src.join("a-fifo");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let ingest = sb.run(&[
        "--log-format",
        "json",
        "-v",
        "ingest",
        "--case",
        CASE,
        "--exhibit",
        "JS/1",
        "--operator",
        "T",
        src.to_str().unwrap(),
    ]);
    let missing = sb.run(&["--log-format", "json", "hash", "/no/such/file"]);
    assert_eq!(missing.status.code(), Some(2));
    let text = stderr(&ingest) + &stderr(&missing);
    let mut messages = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with("failed: ") && !l.contains("file(s) failed")) {
        let value: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(value["level"].is_string() && value["timestamp"].is_string(), "{line}");
        messages.push(value["fields"]["message"].as_str().unwrap_or_default().to_owned());
    }
    assert!(messages.iter().any(|m| m.starts_with("created a new signing key")), "{messages:?}");
    assert!(messages.iter().any(|m| m.contains("a-fifo")), "the failure: {messages:?}");
    assert!(messages.iter().any(|m| m.contains("/no/such/file")), "the error: {messages:?}");
    assert!(!text.contains('\u{1b}'), "{text:?}");
}

#[test]
fn a_new_signing_key_is_announced_with_its_fingerprint() {
    let sb = Sandbox::new();
    let src = sb.sources();
    let out = sb.ingest(CASE, &src);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stderr(&out);
    let key = sb.key_file();
    assert!(text.contains(&format!("created a new signing key {}", key.display())), "{text}");
    assert!(text.contains("back this key up"), "{text}");
    let keygen = Command::new("ssh-keygen").arg("-lf").arg(&key).output().unwrap();
    assert!(keygen.status.success(), "{}", stderr(&keygen));
    let fingerprint = String::from_utf8_lossy(&keygen.stdout).split_whitespace().nth(1).unwrap().to_owned();
    assert!(fingerprint.starts_with("SHA256:"));
    assert!(text.contains(&format!("fingerprint {fingerprint}")), "ssh-keygen says {fingerprint}: {text}");
    let again = sb.ingest(CASE, &src);
    assert!(!stderr(&again).contains("signing key"), "said once: {}", stderr(&again));
}

/// `-q` on every command: only warnings and errors. A clean result prints
/// nothing and its exit code tells it; what needs attention or failed is
/// still said (on stderr). Commands whose output is what was asked for
/// (`hash`, `show`, `--json`) still print it.
#[test]
fn quiet_prints_only_warnings_and_errors_on_every_command() {
    let sb = Sandbox::new();
    let src = sb.sources();
    let q = |args: &[&str]| {
        let mut all = vec!["-q"];
        all.extend_from_slice(args);
        let out = sb.run(&all);
        (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned(), stderr(&out))
    };
    let ingest = ["ingest", "--case", CASE, "--exhibit", "JS/1", "--operator", "Tester", src.to_str().unwrap()];
    let (code, stdout, _) = q(&ingest);
    assert_eq!((code, stdout.as_str()), (Some(0), ""), "clean ingest");
    // Five pages expected, none found: needs attention, said on stderr.
    let scans = sb.dir.path().join("scans");
    std::fs::create_dir_all(&scans).unwrap();
    std::fs::write(scans.join("note.txt"), "not a page").unwrap();
    let pages = ["ingest", "--case", CASE, "--exhibit", "JS/2", "--operator", "Tester", "--pages", "5"];
    let (code, stdout, err) = q(&[&pages[..], &[scans.to_str().unwrap()]].concat());
    assert_eq!(code, Some(3), "{stdout}{err}");
    assert_eq!(stdout, "", "no table with -q");
    assert!(err.contains("needs attention") && err.contains("what to do"), "the warning stays: {err}");
    let trusted = sb.trusted_keys();
    let verify = ["verify", "--case", CASE, "--trusted-keys", trusted.to_str().unwrap()];
    let (code, stdout, err) = q(&verify);
    assert_eq!((code, stdout.as_str()), (Some(0), ""), "trusted verify: {err}");
    let (code, stdout, err) = q(&["verify", "--case", CASE]);
    assert_eq!(code, Some(3));
    assert!((stdout.clone() + &err).contains("SIGNERS NOT CHECKED"), "a warning stays: {stdout}{err}");
    let (code, stdout, err) = q(&["verify", "--all", "--trusted-keys", trusted.to_str().unwrap()]);
    assert_eq!((code, stdout.as_str()), (Some(0), ""), "verify of every case: {err}");
    let (code, stdout, err) = q(&["audit", "--case", CASE, "--operator", "Auditor"]);
    assert_eq!((code, stdout.as_str()), (Some(0), ""), "audit: {err}");
    let bag = sb.dir.path().join("bag");
    let (code, stdout, err) =
        q(&["export", "--case", CASE, "--bagit", bag.to_str().unwrap(), "--organisation", "Force"]);
    assert_eq!((code, stdout.as_str()), (Some(0), ""), "export: {err}");
    let (code, stdout, _) = q(&["hash", src.join("statement.txt").to_str().unwrap()]);
    assert_eq!(code, Some(0));
    assert!(stdout.contains("statement.txt"), "hash prints what was asked for: {stdout}");
    let (_, stdout, _) = q(&["show", "--case", CASE]);
    assert!(stdout.contains("statement.txt"), "show prints what was asked for: {stdout}");
    let (code, stdout, _) = q(&[&ingest[..], &["--json"]].concat());
    assert_eq!(code, Some(0));
    assert!(serde_json::from_str::<serde_json::Value>(&stdout).is_ok(), "--json is still printed: {stdout}");
}
