//! Attacker finding F1: an ingest or `status --wait` that waited for good.
//! A job dead-lettered without a `failed` event (refused for its signature
//! by workers that do not trust the ingest's key) now ends the ingest with
//! exit 2 naming it; two identical ingests at once both complete; an
//! ingest killed before handing its jobs over leaves a run `status` calls
//! abandoned; and a waiting ingest says what it waits for.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::cluster_env::{Vhost, WorkerProcess, small_case};
use crate::common::{Sandbox, bounded, stderr};

const CASE: &str = "C1";

fn ingest_cmd(sb: &Sandbox, queue: &str, src: &Path) -> Command {
    let mut cmd = sb.exhibit();
    cmd.args(["--queue", queue, "ingest", "--case", CASE, "--exhibit", "JS/1", "--operator", "Test Officer"]).arg(src);
    cmd
}

/// A sandbox for a worker with a signing key of its own (made on first use).
fn stranger() -> Sandbox {
    Sandbox::new()
}

#[test]
fn jobs_refused_by_workers_that_do_not_trust_the_ingest_end_it_with_exit_2_naming_them() {
    let (sb, vhost) = (Sandbox::new(), Vhost::new());
    let src = small_case(&sb);
    let store = sb.data().to_str().unwrap().to_owned();
    // Workers with a key of their own and no --trusted-keys: they refuse
    // the ingest's jobs unrun, and have no ledger to record that in.
    let other = stranger();
    let worker = WorkerProcess::start(&other, &vhost.uri(), &store, "explore,transcode,ocr,ocr-bundle", None);
    let out = bounded(&mut ingest_cmd(&sb, &vhost.uri(), &src), Duration::from_secs(180));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "the ingest ends, exit 2: {err}");
    assert!(err.contains("was dead-lettered and not run") && err.contains("refused, not run"), "{err}");
    for name in ["memo.png", "interview.mpg", "cctv.avi"] {
        assert!(err.contains(name), "names the job of {name}: {err}");
    }
    let out = bounded(
        sb.exhibit().args(["--store", &store, "status", "--case", CASE, "--json", "--wait"]),
        Duration::from_secs(60),
    );
    assert_eq!(out.status.code(), Some(1), "status --wait returns, exit 1: {}", stderr(&out));
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    let run = &status["runs"][0];
    assert_eq!(run["dead_letters"].as_array().map(Vec::len), Some(3), "{status:#}");
    assert_eq!(run["exhibits"]["JS/1"]["failed"], 3, "{status:#}");
    drop(worker);
}

#[test]
fn two_identical_ingests_at_once_both_complete() {
    let (sb, vhost) = (Sandbox::new(), Vhost::new());
    let src = small_case(&sb);
    let store = sb.data().to_str().unwrap().to_owned();
    let worker = WorkerProcess::start(&sb, &vhost.uri(), &store, "explore,transcode,ocr,ocr-bundle", None);
    let spawn = || {
        let (mut first, limit) = (ingest_cmd(&sb, &vhost.uri(), &src), Duration::from_secs(240));
        std::thread::spawn(move || bounded(&mut first, limit))
    };
    let (a, b) = (spawn(), spawn());
    for out in [a.join().unwrap(), b.join().unwrap()] {
        assert_eq!(out.status.code(), Some(0), "each ingest completes: {}", stderr(&out));
    }
    let out = bounded(
        sb.exhibit().args(["--store", &store, "status", "--case", CASE, "--json", "--wait"]),
        Duration::from_secs(30),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let (code, rest) = worker.terminate();
    assert_eq!(code, 0, "{rest}");
    let (code, report) = sb.verify_json(CASE);
    assert_eq!(code, 0, "{report:#}");
}

/// The run folders of the case in a local store.
fn owner_records(sb: &Sandbox) -> Vec<PathBuf> {
    let runs = sb.case_dir(CASE).join("runs");
    let Ok(dir) = std::fs::read_dir(runs) else { return Vec::new() };
    dir.filter_map(Result::ok).map(|e| e.path().join("owner")).filter(|p| p.exists()).collect()
}

#[test]
fn an_ingest_killed_before_handing_over_its_run_leaves_it_abandoned_and_status_wait_returns() {
    let (sb, vhost) = (Sandbox::new(), Vhost::new());
    let src = sb.dir.path().join("big-src");
    std::fs::create_dir_all(&src).unwrap();
    // Enough bytes that acquiring them takes a while.
    for n in 0..4 {
        let bytes: Vec<u8> = (0..(16u32 << 20)).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8 ^ n).collect();
        std::fs::write(src.join(format!("disk{n}.bin")), bytes).unwrap();
    }
    let store = sb.data().to_str().unwrap().to_owned();
    // The case exists already (status reads only existing cases).
    let out = sb.ingest(CASE, &sb.sources());
    assert!(out.status.success(), "{}", stderr(&out));
    let mut ingest = ingest_cmd(&sb, &vhost.uri(), &src);
    ingest.env("EXHIBIT__QUEUE__HEARTBEAT_SECS", "1").stdout(Stdio::null()).stderr(Stdio::null());
    let mut child = ingest.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while owner_records(&sb).is_empty() {
        assert!(Instant::now() < deadline, "the ingest records itself as the run's owner");
        assert!(child.try_wait().unwrap().is_none(), "the ingest is still acquiring");
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let run_dir = owner_records(&sb)[0].parent().unwrap().to_owned();
    assert!(!run_dir.join("handed-off").exists(), "killed while acquiring");
    let out = bounded(
        sb.exhibit().args(["--store", &store, "status", "--case", CASE, "--json", "--wait"]),
        Duration::from_secs(60),
    );
    assert_eq!(out.status.code(), Some(1), "status --wait returns, exit 1: {}", stderr(&out));
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["runs"][0]["abandoned"], true, "{status:#}");
    let out = sb.run(&["--store", &store, "status", "--case", CASE]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("abandoned") && text.contains("rerun the same ingest"), "{text}");
}

#[test]
fn an_ingest_waiting_for_workers_says_what_it_waits_for() {
    let (sb, vhost) = (Sandbox::new(), Vhost::new());
    let src = small_case(&sb);
    let mut ingest = ingest_cmd(&sb, &vhost.uri(), &src);
    ingest.env("EXHIBIT__QUEUE__HEARTBEAT_SECS", "1").stdout(Stdio::null()).stderr(Stdio::piped());
    let mut child = ingest.spawn().unwrap();
    let lines = BufReader::new(child.stderr.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in lines.lines().map_while(Result::ok) {
            if line.contains("still waiting for") {
                let _ = tx.send(line);
                return;
            }
        }
    });
    // No worker runs: explore, transcode and OCR wait on the queue.
    let line = rx.recv_timeout(Duration::from_secs(90));
    child.kill().unwrap();
    child.wait().unwrap();
    let line = line.expect("a 'still waiting' line within 90 s");
    assert!(line.contains("still waiting for 3 jobs"), "{line}");
    assert!(line.contains("memo.png") && line.contains("ocr"), "{line}");
}

/// A folder of two scanned pages.
fn scan_bundle(sb: &Sandbox) -> PathBuf {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    let src = sb.dir.path().join("bundle-src/scans");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::copy(fixtures.join("ocr/memo.png"), src.join("page1.png")).unwrap();
    std::fs::copy(fixtures.join("ocr/letter.jpg"), src.join("page2.jpg")).unwrap();
    src
}

/// Attacker finding F2: the bundle PDF was made by the attached ingest
/// only, so a detached run lost it. Now the pipeline queues it, once, with
/// two workers taking the jobs.
#[test]
fn a_detached_ingest_of_a_scan_bundle_gets_its_searchable_pdf_once() {
    let (sb, vhost) = (Sandbox::new(), Vhost::new());
    let src = scan_bundle(&sb);
    let store = sb.data().to_str().unwrap().to_owned();
    let out = bounded(ingest_cmd(&sb, &vhost.uri(), &src).arg("--detach"), Duration::from_secs(120));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let stages = "explore,transcode,ocr,ocr-bundle";
    let workers = [0, 1].map(|_| WorkerProcess::start(&sb, &vhost.uri(), &store, stages, None));
    let out = bounded(
        sb.exhibit().args(["--store", &store, "status", "--case", CASE, "--json", "--wait"]),
        Duration::from_secs(300),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    let counts = &status["runs"][0]["exhibits"]["JS/1"];
    assert_eq!((&counts["queued"], &counts["running"], &counts["failed"]), (&0.into(), &0.into(), &0.into()));
    let show = sb.show_json(CASE);
    let artefacts = show["artefacts"].as_array().unwrap();
    let rule = |a: &&Value| a["derivation"]["rule"].as_str().unwrap_or("").to_owned();
    let bundles: Vec<&Value> = artefacts.iter().filter(|a| rule(a) == "ocr-bundle-pdf").collect();
    assert_eq!(bundles.len(), 1, "one searchable PDF of the bundle: {show:#}");
    let derivatives = artefacts.iter().filter(|a| a["kind"] == "derivative").count();
    assert_eq!(derivatives, 7, "text, hOCR and PDF per page, and the bundle's PDF");
    let bundle_events = sb
        .ledger(CASE)
        .into_iter()
        .filter(|(_, e)| e["action"] == "ocr" && e["artefact"]["id"] == bundles[0]["id"])
        .count();
    assert_eq!(bundle_events, 1, "recorded once");
    for worker in workers {
        let (code, rest) = worker.terminate();
        assert_eq!(code, 0, "{rest}");
    }
    let (code, report) = sb.verify_json(CASE);
    assert_eq!(code, 0, "{report:#}");
}
