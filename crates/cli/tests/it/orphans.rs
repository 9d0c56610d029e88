//! A process killed while its transcode child runs takes the child with it
//! (attacker finding F7: a SIGKILLed worker left its child transcoding,
//! spending the CPU its replacement needed).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::Sandbox;

/// Process IDs whose parent is `parent` and whose command line names `what`.
fn children_named(parent: u32, what: &str) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
        let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        // pid (comm) state ppid ...: comm may hold spaces, so split after ')'.
        let ppid = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok());
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        if ppid == Some(parent) && String::from_utf8_lossy(&cmdline).contains(what) {
            found.push(pid);
        }
    }
    found
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().next()).is_some_and(|state| state != "Z")
    })
}

#[test]
fn a_sigkilled_ingest_leaves_no_transcode_child_running() {
    let sb = Sandbox::new();
    let video = sb.dir.path().join("long.mpg");
    let made = Command::new("ffmpeg")
        .args(["-v", "error", "-f", "lavfi", "-i", "testsrc2=duration=600:size=640x360:rate=25"])
        .args(["-c:v", "mpeg1video", "-q:v", "8"])
        .arg(&video)
        .status()
        .unwrap();
    assert!(made.success(), "ffmpeg made the video");
    let mut ingest = sb
        .exhibit()
        .args(["ingest", "--case", "ORPHAN1", "--exhibit", "JS/1", "--operator", "T"])
        .arg(&video)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The first children are short probes: take one that has run for 3 s.
    let deadline = Instant::now() + Duration::from_secs(180);
    let mut seen: Option<(u32, Instant)> = None;
    let child = loop {
        let now = children_named(ingest.id(), "exhibit-transcode-child").first().copied();
        seen = match (seen, now) {
            (Some((pid, since)), Some(now)) if pid == now && since.elapsed() > Duration::from_secs(3) => break pid,
            (Some((pid, since)), Some(now)) if pid == now => Some((pid, since)),
            (_, Some(now)) => Some((now, Instant::now())),
            (_, None) => None,
        };
        assert!(ingest.try_wait().unwrap().is_none(), "the ingest ended before a long transcode child ran");
        assert!(Instant::now() < deadline, "no long-running transcode child within 180 s");
        std::thread::sleep(Duration::from_millis(50));
    };
    ingest.kill().unwrap();
    ingest.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while alive(child) {
        assert!(Instant::now() < deadline, "the transcode child {child} still runs 10 s after its parent was killed");
        std::thread::sleep(Duration::from_millis(50));
    }
}
