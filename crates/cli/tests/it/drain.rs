//! SIGTERM gives the jobs in hand `--drain-timeout` to finish; a longer
//! job goes back to the queue and the worker exits, and another worker
//! completes it, recording nothing twice (before, a worker given SIGTERM
//! during a long transcode ran it to its end however long).

use std::collections::BTreeSet;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::cluster_env::{Vhost, WorkerProcess};
use crate::common::{Sandbox, bounded, stderr};

const CASE: &str = "DRAIN1";

#[test]
fn a_job_that_outruns_the_drain_timeout_goes_back_to_the_queue_and_another_worker_completes_it() {
    let (sb, vhost) = (Sandbox::new(), Vhost::new());
    let video = sb.dir.path().join("long.mpg");
    let made = Command::new("ffmpeg")
        .args(["-v", "error", "-f", "lavfi", "-i", "testsrc2=duration=300:size=640x360:rate=25"])
        .args(["-c:v", "mpeg1video", "-q:v", "8"])
        .arg(&video)
        .status()
        .unwrap();
    assert!(made.success(), "ffmpeg made the video");
    let store = sb.data().to_str().unwrap().to_owned();
    let mut first = sb.exhibit();
    first.args(["worker", "--queue", &vhost.uri(), "--store", &store, "--stages", "transcode"]);
    first.args(["--operator", "Worker", "--drain-timeout", "2"]);
    let first = WorkerProcess::spawn(first);
    let mut cmd = sb.exhibit();
    cmd.args(["--queue", &vhost.uri(), "ingest", "--case", CASE, "--exhibit", "JS/1", "--operator", "T"]).arg(&video);
    let ingest = std::thread::spawn(move || bounded(&mut cmd, Duration::from_secs(600)));

    let deadline = Instant::now() + Duration::from_secs(180);
    while !first.metrics().contains("exhibit_worker_jobs_in_hand{stage=\"transcode\"} 1") {
        assert!(Instant::now() < deadline, "the worker took no transcode job within 180 s");
        std::thread::sleep(Duration::from_millis(20));
    }
    let asked = Instant::now();
    let (code, rest) = first.terminate();
    let took = asked.elapsed();
    assert_eq!(code, 0, "{rest}");
    assert!(rest.contains("--drain-timeout"), "says why it stopped: {rest}");
    assert!(took < Duration::from_secs(20), "stopped {took:?} after SIGTERM, not at the transcode's end");

    let second = WorkerProcess::start(&sb, &vhost.uri(), &store, "transcode", None);
    let out = ingest.join().unwrap();
    assert_eq!(out.status.code(), Some(0), "ingest: {}", stderr(&out));
    let (code, rest) = second.terminate();
    assert_eq!(code, 0, "{rest}");
    let events: Vec<Value> = sb.ledger(CASE).into_iter().map(|(_, e)| e).collect();
    let transcoded: Vec<&Value> = events.iter().filter(|e| e["action"] == "transcoded").collect();
    assert_eq!(transcoded.len(), 1, "one access copy, recorded once: {transcoded:#?}");
    let facts: BTreeSet<String> = events
        .iter()
        .filter(|e| !e["artefact"].is_null())
        .map(|e| format!("{} {}", e["action"], e["artefact"]))
        .collect();
    assert_eq!(facts.len(), events.iter().filter(|e| !e["artefact"].is_null()).count(), "no fact twice");
    let (code, report) = sb.verify_json(CASE);
    assert_eq!(code, 0, "{report:#}");
}
