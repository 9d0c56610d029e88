//! A closed output pipe ends exhibit quietly, as it ends `cat` or `grep`:
//! killed by SIGPIPE, no panic, no backtrace, no error message.

use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;

use crate::common::{Sandbox, stderr};

/// A folder of `n` small files.
fn many_files(sb: &Sandbox, n: usize) -> std::path::PathBuf {
    let src = sb.dir.path().join("many");
    std::fs::create_dir(&src).unwrap();
    for i in 0..n {
        std::fs::write(src.join(format!("file-{i:05}.txt")), i.to_string()).unwrap();
    }
    src
}

/// Runs exhibit with `args`, reads one byte of its output, closes the pipe,
/// and checks that it died of SIGPIPE without a word.
fn check_quiet_on_closed_pipe(sb: &Sandbox, args: &[&str]) {
    let mut child = sb
        .exhibit()
        .env("RUST_BACKTRACE", "1")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 1];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.signal(), Some(libc::SIGPIPE), "status {:?}, stderr: {}", out.status, stderr(&out));
    assert!(out.stderr.is_empty(), "nothing on stderr: {}", stderr(&out));
}

#[test]
fn output_pipe_closed_by_the_reader_ends_the_command_quietly() {
    let sb = Sandbox::new();
    // Far more output than a pipe buffers (64 KiB), so later writes must
    // meet the closed pipe.
    let src = many_files(&sb, 2000);
    check_quiet_on_closed_pipe(&sb, &["hash", "--algorithms", "sha256,md5,sha1", src.to_str().unwrap()]);
}

#[test]
fn show_piped_into_head_ends_quietly() {
    let sb = Sandbox::new();
    let src = many_files(&sb, 800);
    let out = sb.ingest("C1", &src);
    assert!(out.status.success(), "{}", stderr(&out));
    check_quiet_on_closed_pipe(&sb, &["show", "--case", "C1"]);
}
