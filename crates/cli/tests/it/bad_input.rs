//! Bad input gives a clear message and exit code 2, and records nothing.

use std::process::Output;

use crate::common::{Sandbox, stderr};

fn assert_refused(sb: &Sandbox, out: &Output, needle: &str) {
    assert_eq!(out.status.code(), Some(2), "stderr: {}", stderr(out));
    assert!(stderr(out).contains(needle), "expected {needle:?} in: {}", stderr(out));
    assert!(!sb.data().join("cases").exists(), "nothing may be recorded after bad input");
}

fn ingest(sb: &Sandbox, case: &str, operator: &str, path: &str) -> Output {
    sb.run(&["ingest", "--case", case, "--exhibit", "JS/1", "--operator", operator, path])
}

#[test]
fn missing_path() {
    let sb = Sandbox::new();
    let missing = sb.dir.path().join("no-such-disc");
    let out = ingest(&sb, "C1", "PC Smith", missing.to_str().unwrap());
    assert_refused(&sb, &out, "no-such-disc: no such file or folder");
}

#[test]
fn empty_folder() {
    let sb = Sandbox::new();
    let empty = sb.dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let out = ingest(&sb, "C1", "PC Smith", empty.to_str().unwrap());
    assert_refused(&sb, &out, "holds no files");
}

#[test]
fn bad_case_ids() {
    let sb = Sandbox::new();
    let src = sb.sources();
    // `a/b` is a valid case ID now (crime references hold slashes); empty
    // parts, `..` and stray spaces are not.
    for case in ["../x", "", "a//b", "/a"] {
        let out = ingest(&sb, case, "PC Smith", src.to_str().unwrap());
        assert_refused(&sb, &out, "A-Z a-z 0-9");
    }
    let out = ingest(&sb, " a", "PC Smith", src.to_str().unwrap());
    assert_refused(&sb, &out, "white space before or after it is refused");
}

#[test]
fn bad_exhibit_reference() {
    let sb = Sandbox::new();
    let src = sb.sources();
    let out =
        sb.run(&["ingest", "--case", "C1", "--exhibit", "JS/../1", "--operator", "PC Smith", src.to_str().unwrap()]);
    assert_refused(&sb, &out, "JS/1");
}

#[test]
fn missing_or_blank_operator() {
    let sb = Sandbox::new();
    let src = sb.sources();
    let out = sb.run(&["ingest", "--case", "C1", "--exhibit", "JS/1", src.to_str().unwrap()]);
    assert_refused(&sb, &out, "--operator");
    let out = ingest(&sb, "C1", "  ", src.to_str().unwrap());
    assert_refused(&sb, &out, "operator");
}

#[test]
fn unknown_config_key_in_file_and_env() {
    let sb = Sandbox::new();
    let src = sb.sources();
    let config = sb.dir.path().join("exhibit.toml");
    std::fs::write(&config, "[ingest]\nworkrs = 4\n").unwrap();
    let out = sb
        .exhibit()
        .args([
            "--config",
            config.to_str().unwrap(),
            "ingest",
            "--case",
            "C1",
            "--exhibit",
            "JS/1",
            "--operator",
            "PC Smith",
        ])
        .arg(&src)
        .output()
        .unwrap();
    assert_refused(&sb, &out, "workrs");
    let out = sb
        .exhibit()
        .env("EXHIBIT__HASHING__SHA3", "true")
        .args(["ingest", "--case", "C1", "--exhibit", "JS/1", "--operator", "PC Smith"])
        .arg(&src)
        .output()
        .unwrap();
    assert_refused(&sb, &out, "sha3");
}

/// Root reads any file, so as root the check runs as `nobody` via setpriv.
#[test]
fn zero_pages_is_a_usage_error() {
    let sb = Sandbox::new();
    let src = sb.sources();
    let out = sb
        .exhibit()
        .args(["ingest", "--case", "C1", "--exhibit", "JS/1", "--operator", "PC Smith", "--pages", "0"])
        .arg(&src)
        .output()
        .unwrap();
    assert_refused(&sb, &out, "--pages");
}

#[test]
fn workers_are_capped_on_the_flag_in_config_and_in_help() {
    let sb = Sandbox::new();
    let src = sb.sources();
    for bad in ["1000000", "0"] {
        let out = sb
            .exhibit()
            .args(["ingest", "--case", "C1", "--exhibit", "JS/1", "--operator", "PC Smith", "--workers", bad])
            .arg(&src)
            .output()
            .unwrap();
        assert_refused(&sb, &out, "1..=64");
    }
    let out = sb
        .exhibit()
        .env("EXHIBIT__INGEST__WORKERS", "100000")
        .args(["ingest", "--case", "C1", "--exhibit", "JS/1", "--operator", "PC Smith"])
        .arg(&src)
        .output()
        .unwrap();
    assert_refused(&sb, &out, "from 1 to 64");
    let help = sb.run(&["ingest", "--help"]);
    assert!(String::from_utf8_lossy(&help.stdout).contains("1 to 64"), "--help names the cap");
}

#[test]
fn a_folder_given_as_config_is_called_a_directory() {
    let sb = Sandbox::new();
    let src = sb.sources();
    let out = sb
        .exhibit()
        .args(["--config", sb.dir.path().to_str().unwrap(), "ingest", "--case", "C1", "--exhibit", "JS/1"])
        .args(["--operator", "PC Smith"])
        .arg(&src)
        .output()
        .unwrap();
    assert_refused(&sb, &out, "is a directory");
    assert!(!stderr(&out).contains("does not exist"), "{}", stderr(&out));
}

#[test]
fn hashing_a_missing_path_says_it_does_not_exist() {
    let sb = Sandbox::new();
    let missing = sb.dir.path().join("no-such-disc");
    let out = sb.run(&["hash", missing.to_str().unwrap()]);
    assert_refused(&sb, &out, "no-such-disc: does not exist");
}

#[test]
fn a_fifo_given_as_config_is_called_not_a_regular_file_without_key_advice() {
    let sb = Sandbox::new();
    let fifo = sb.dir.path().join("config.fifo");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let out = sb.exhibit().args(["--config", fifo.to_str().unwrap(), "verify", "--case", "C1"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("is not a regular file"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("does not exist"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("Fix or remove that key"), "{}", stderr(&out));
}

#[test]
fn an_empty_or_relative_xdg_config_home_does_not_put_the_key_in_the_current_folder() {
    let sb = Sandbox::new();
    let src = sb.sources();
    let home = sb.dir.path().join("home");
    let cwd = sb.dir.path().join("cwd");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&cwd).unwrap();
    for (n, xdg) in ["", "relative"].into_iter().enumerate() {
        let out = sb
            .exhibit()
            .env_remove("EXHIBIT__SIGNING__KEY_FILE")
            .env("XDG_CONFIG_HOME", xdg)
            .env("HOME", &home)
            .current_dir(&cwd)
            .args(["ingest", "--case", "C1", "--exhibit", &format!("JS/{}", n + 1), "--operator", "PC Smith"])
            .arg(&src)
            .output()
            .unwrap();
        assert!(out.status.success(), "{xdg:?}: {}", stderr(&out));
        assert!(home.join(".config/exhibit/signing_ed25519").is_file(), "{xdg:?}: key under $HOME/.config");
        assert_eq!(std::fs::read_dir(&cwd).unwrap().count(), 0, "{xdg:?}: nothing written under the current folder");
    }
}
