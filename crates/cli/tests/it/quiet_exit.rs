//! A closed output pipe ends exhibit quietly, as it ends `cat` or `grep`:
//! killed by SIGPIPE, no panic, no backtrace, no error message.

use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;

use crate::common::{Sandbox, stderr};

#[test]
fn output_pipe_closed_by_the_reader_ends_the_command_quietly() {
    let sb = Sandbox::new();
    let src = sb.dir.path().join("many");
    std::fs::create_dir(&src).unwrap();
    // Far more output than a pipe buffers (64 KiB), so later writes must
    // meet the closed pipe.
    for i in 0..2000 {
        std::fs::write(src.join(format!("file-{i:05}.txt")), i.to_string()).unwrap();
    }
    let mut child = sb
        .exhibit()
        .env("RUST_BACKTRACE", "1")
        .args(["hash", "--algorithms", "sha256,md5,sha1"])
        .arg(&src)
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
