//! Cluster mode end to end, on loopback: `exhibit worker` processes on a
//! RabbitMQ vhost of the test's own, an `exhibit ingest` handing them its
//! jobs, the store local or moto's S3 server.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::cluster_env::{Moto, Vhost, WorkerProcess, http, mixed_case, small_case};
use crate::common::{Sandbox, bounded, stderr};
use exhibit_queue::conformance::sample_job;

const CASE: &str = "C1";

fn ingest_cmd(sb: &Sandbox, src: &Path, extra: &[&str]) -> Command {
    let mut cmd = sb.exhibit();
    cmd.args(extra).args(["ingest", "--case", CASE, "--exhibit", "JS/1", "--operator", "Test Officer"]).arg(src);
    cmd
}

/// Each artefact as what it is, not where it is: kind, media type, rule,
/// and the SHA-256 where the derivation is deterministic. The searchable
/// PDFs (a page's, a bundle's) say they are, but hold the time they were
/// made (CreationDate, XMP CreateDate), so two runs differ in those bytes
/// alone.
fn artefacts(show: &Value) -> Vec<String> {
    let mut out: Vec<String> = show["artefacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let deterministic = a["derivation"]["deterministic"].as_bool() != Some(false)
                && a["derivation"]["rule"] != "ocr-searchable-pdf"
                && a["derivation"]["rule"] != "ocr-bundle-pdf";
            let sha = if deterministic { a["digests"]["sha256"].as_str().unwrap_or("") } else { "-" };
            format!("{} {} {} {sha}", a["kind"], a["media_type"]["mime"], a["derivation"]["rule"])
        })
        .collect();
    out.sort();
    out
}

/// How many events of each action and outcome.
fn event_counts(events: &[Value]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for e in events {
        *counts.entry(format!("{} {}", e["action"], e["outcome"]["status"])).or_default() += 1;
    }
    counts
}

/// No fact twice: no two events of one action name the same artefact.
fn assert_nothing_twice(events: &[Value]) {
    let mut seen = std::collections::HashSet::new();
    for e in events.iter().filter(|e| !e["artefact"].is_null()) {
        assert!(seen.insert((e["action"].to_string(), e["artefact"].to_string())), "recorded twice: {e:#}");
    }
}

/// The same sources ingested on the embedded default (local store,
/// in-process queue), for comparison.
fn embedded_reference(src: &Path) -> (Vec<String>, BTreeMap<String, usize>) {
    let sb = Sandbox::new();
    let out = bounded(&mut ingest_cmd(&sb, src, &[]), Duration::from_secs(300));
    assert_eq!(out.status.code(), Some(0), "embedded ingest: {}", stderr(&out));
    let events: Vec<Value> = sb.ledger(CASE).into_iter().map(|(_, e)| e).collect();
    (artefacts(&sb.show_json(CASE)), event_counts(&events))
}

#[test]
fn worker_serves_healthz_and_metrics_and_exits_0_on_sigterm() {
    let (sb, vhost) = (Sandbox::new(), Vhost::new());
    let store = sb.data().to_str().unwrap().to_owned();
    let worker = WorkerProcess::start(&sb, &vhost.uri(), &store, "explore,ocr", None);
    // While it checks its store it answers 503 "waiting: ..."; then ok.
    let deadline = Instant::now() + Duration::from_secs(30);
    let (status, body) = loop {
        let (status, body) = http(worker.metrics_port, "GET", "/healthz");
        if status != 503 || Instant::now() > deadline {
            break (status, body);
        }
        assert!(body.starts_with(b"waiting: "), "503 only while waiting: {}", String::from_utf8_lossy(&body));
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!((status, body.as_slice()), (200, b"ok\n".as_slice()));
    // The depth comes from the broker once the worker's consumer has
    // declared the stage's queue.
    let deadline = Instant::now() + Duration::from_secs(30);
    let metrics = loop {
        let metrics = worker.metrics();
        if metrics.contains("exhibit_worker_queue_depth{stage=\"explore\"} 0") || Instant::now() > deadline {
            break metrics;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(metrics.contains("exhibit_worker_queue_depth{stage=\"explore\"} 0"), "{metrics}");
    assert!(metrics.contains("exhibit_worker_bytes_read_total 0"), "{metrics}");
    assert!(metrics.contains("# TYPE exhibit_worker_jobs counter"), "{metrics}");
    let (code, rest) = worker.terminate();
    assert_eq!(code, 0, "{rest}");
    assert!(rest.contains("stopped after 0 jobs"), "{rest}");
}

#[test]
fn bad_backend_uris_are_usage_errors_naming_the_key() {
    let sb = Sandbox::new();
    let out = sb.run(&["--queue", "amqp://guest:hunter2@/x", "cases"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("[queue] uri") && !err.contains("hunter2"), "{err}");
    let out = sb.run(&["--store", "gopher://x", "cases"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("[store] uri"), "{}", stderr(&out));
    let out = sb.run(&["worker", "--operator", "W", "--stages", "explore,polish"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unknown stage \"polish\""), "{}", stderr(&out));
}

/// Issue 14, acceptance 2: an E01 set, a cue/bin disc, a scan bundle and a
/// video, through three worker processes into S3. A set is explored only
/// once every member is stored (its record names them by hash), so the
/// result equals the embedded default's.
#[test]
fn three_workers_and_an_ingest_into_s3_give_what_the_embedded_default_gives() {
    let (sb, vhost, moto) = (Sandbox::new(), Vhost::new(), Moto::start());
    let src = mixed_case(&sb);
    let store = format!("s3://{}/force", moto.bucket);
    let workers: Vec<WorkerProcess> = (0..3)
        .map(|_| WorkerProcess::start(&sb, &vhost.uri(), &store, "explore,transcode,ocr,ocr-bundle", Some(&moto)))
        .collect();
    let mut cmd = ingest_cmd(&sb, &src, &["--queue", &vhost.uri(), "--store", &store]);
    moto.env(&mut cmd);
    let out = bounded(&mut cmd, Duration::from_secs(300));
    assert_eq!(out.status.code(), Some(0), "cluster ingest: {}", stderr(&out));

    let on_s3 = |args: &[&str]| {
        let mut cmd = sb.exhibit();
        cmd.args(["--store", &store]).args(args);
        moto.env(&mut cmd);
        bounded(&mut cmd, Duration::from_secs(120))
    };
    let trusted = sb.trusted_keys();
    let out = on_s3(&["verify", "--case", CASE, "--trusted-keys", trusted.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "verify against S3: {}{}",
        String::from_utf8_lossy(&out.stdout),
        stderr(&out)
    );
    let out = on_s3(&["show", "--case", CASE, "--json"]);
    assert!(out.status.success(), "show against S3: {}", stderr(&out));
    let show: Value = serde_json::from_slice(&out.stdout).unwrap();
    let out = on_s3(&["listing", "--case", CASE, "--exhibit", "JS/1", "--format", "csv"]);
    assert!(out.status.success() && out.stdout.len() > 100, "listing against S3: {}", stderr(&out));
    let original = show["artefacts"].as_array().unwrap().iter().find(|a| a["kind"] == "original").unwrap();
    let copy = sb.dir.path().join("copy.bin");
    let out = on_s3(&["get", "--case", CASE, original["id"].as_str().unwrap(), "-o", copy.to_str().unwrap()]);
    assert!(out.status.success(), "get against S3: {}", stderr(&out));

    let events = moto.ledger_events("force", CASE);
    assert_nothing_twice(&events);
    let kinds =
        |mime: &str| show["artefacts"].as_array().unwrap().iter().filter(|a| a["media_type"]["mime"] == mime).count();
    assert_eq!(kinds("application/x-ewf"), 3, "the E01 set's three segments");
    assert_eq!(kinds("application/x-cue"), 1, "the cue sheet");
    let explored = event_counts(&events).get("\"explored\" \"ok\"").copied();
    assert_eq!(explored, Some(2), "the E01 set and the disc, each explored once, whole");
    let sets = event_counts(&events).get("\"assembled\" \"ok\"").copied();
    assert_eq!(sets, Some(2), "one set record each");
    let (reference_artefacts, reference_events) = embedded_reference(&src);
    assert_eq!(artefacts(&show), reference_artefacts);
    // The cluster run's `get` above is one `accessed` event more.
    let mut counts = event_counts(&events);
    assert_eq!(counts.remove("\"accessed\" \"ok\""), Some(1));
    assert_eq!(counts, reference_events);

    let mut done = 0;
    for worker in workers {
        let (code, rest) = worker.terminate();
        assert_eq!(code, 0, "{rest}");
        done += rest
            .split("stopped after ")
            .nth(1)
            .and_then(|r| r.split(' ').next())
            .and_then(|n| n.parse::<u32>().ok())
            .unwrap();
    }
    println!("cluster: {} artefacts, {} events, {done} jobs over 3 workers", reference_artefacts.len(), events.len());
}

/// Waits until the worker holds a transcode job while at least one more
/// is still to come.
fn wait_until_busy(worker: &WorkerProcess, transcodes: usize) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let metrics = worker.metrics();
        let busy = metrics.contains("exhibit_worker_jobs_in_hand{stage=\"transcode\"} 1");
        let done = metrics
            .lines()
            .find(|l| l.starts_with("exhibit_worker_jobs_total{stage=\"transcode\",outcome=\"done\"}"))
            .and_then(|l| l.rsplit(' ').next()?.parse::<usize>().ok())
            .unwrap_or(0);
        if busy && done + 1 < transcodes {
            return;
        }
        assert!(done + 1 < transcodes, "the worker did the transcodes before it was seen busy");
        assert!(Instant::now() < deadline, "the worker took no transcode job within 120 s");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn sigterm_on_a_busy_worker_loses_no_job_and_another_worker_completes_the_rest() {
    let (sb, vhost) = (Sandbox::new(), Vhost::new());
    let src = small_case(&sb);
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/media");
    for name in ["h263_aac.3gp", "mpeg4_pcm.mov"] {
        std::fs::copy(fixtures.join(name), src.join(name)).unwrap();
    }
    let store = sb.data().to_str().unwrap().to_owned();
    let first = WorkerProcess::start(&sb, &vhost.uri(), &store, "explore,transcode,ocr", None);
    let mut cmd = ingest_cmd(&sb, &src, &["--queue", &vhost.uri()]);
    let ingest = std::thread::spawn(move || bounded(&mut cmd, Duration::from_secs(300)));

    wait_until_busy(&first, 4);
    let (code, rest) = first.terminate();
    assert_eq!(code, 0, "the first worker, stopped while busy: {rest}");
    let by_first: u32 =
        rest.split("stopped after ").nth(1).and_then(|r| r.split(' ').next()).and_then(|n| n.parse().ok()).unwrap();
    let second = WorkerProcess::start(&sb, &vhost.uri(), &store, "explore,transcode,ocr", None);
    let out = ingest.join().unwrap();
    assert_eq!(out.status.code(), Some(0), "ingest: {}", stderr(&out));
    let (code, rest) = second.terminate();
    assert_eq!(code, 0, "{rest}");
    let by_second: u32 =
        rest.split("stopped after ").nth(1).and_then(|r| r.split(' ').next()).and_then(|n| n.parse().ok()).unwrap();
    println!("jobs: {by_first} by the worker given SIGTERM, {by_second} by the one after it");
    assert!(by_second >= 1, "the second worker completed nothing");
    assert_eq!(by_first + by_second, 5, "4 transcodes and 1 OCR, each once");

    let events: Vec<Value> = sb.ledger(CASE).into_iter().map(|(_, e)| e).collect();
    assert_nothing_twice(&events);
    let show = sb.show_json(CASE);
    let derivatives = show["artefacts"].as_array().unwrap().iter().filter(|a| a["kind"] == "derivative").count();
    assert_eq!(derivatives, 4 + 3, "an access copy per video, text, hOCR and PDF for the scan");
    let (code, report) = sb.verify_json(CASE);
    assert_eq!(code, 0, "{report:#}");
}

/// `status --json`'s counts for exhibit JS/1 in the one run.
fn run_counts(status: &Value) -> (u64, u64, u64, u64) {
    let runs = status["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1, "{status:#}");
    let c = &runs[0]["exhibits"]["JS/1"];
    let n = |k: &str| c[k].as_u64().unwrap();
    (n("queued"), n("running"), n("done"), n("failed"))
}

#[test]
fn a_detached_ingest_is_followed_by_status_until_the_workers_are_done() {
    let (sb, vhost) = (Sandbox::new(), Vhost::new());
    let src = small_case(&sb);
    let store = sb.data().to_str().unwrap().to_owned();
    let mut detached = ingest_cmd(&sb, &src, &["--queue", &vhost.uri()]);
    let out = bounded(detached.arg("--detach"), Duration::from_secs(120));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("3 jobs queued"), "{}", String::from_utf8_lossy(&out.stdout));
    // No worker yet: acquire and identify are done here, the rest waits.
    // Three acquire jobs, and an identify job for each video only: the PNG
    // is identified by its acquire job (small files are identified inline).
    let out = sb.run(&["--store", &store, "status", "--case", CASE, "--json"]);
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(run_counts(&status), (3, 0, 5, 0), "{status:#}");

    let worker = WorkerProcess::start(&sb, &vhost.uri(), &store, "explore,transcode,ocr", None);
    let mut wait = sb.exhibit();
    wait.args(["--store", &store, "status", "--case", CASE, "--json", "--wait"]);
    let out = bounded(&mut wait, Duration::from_secs(300));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(run_counts(&status), (0, 0, 8, 0), "{status:#}");
    let (code, rest) = worker.terminate();
    assert_eq!(code, 0, "{rest}");
    let (code, report) = sb.verify_json(CASE);
    assert_eq!(code, 0, "{report:#}");
}

/// A message on the broker is input like any other: a job naming a case
/// that no `exhibit ingest` started, or a run that is not one key segment,
/// is dead-lettered, and the worker writes nothing for it, even when a
/// trusted key signed it (unsigned jobs: `forged_jobs`).
#[test]
fn a_job_for_a_case_no_ingest_started_or_a_hostile_run_is_dead_lettered_and_writes_nothing() {
    let (sb, vhost) = (Sandbox::new(), Vhost::new());
    let store = sb.data().to_str().unwrap().to_owned();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let config = exhibit_queue::AmqpConfig::new(vhost.uri());
        let queue =
            crate::forged_jobs::signed_by(&sb.key_file(), exhibit_queue::AmqpQueue::connect(config).await.unwrap());
        let unknown_case = exhibit_queue::Job { run: Some("run-1".into()), ..sample_job("explore", 1) };
        let hostile_run = exhibit_queue::Job { run: Some("../../../etc".into()), ..sample_job("explore", 2) };
        for job in [unknown_case, hostile_run] {
            exhibit_queue::JobQueue::publish(&queue, job).await.unwrap();
        }
    });
    let worker = WorkerProcess::start(&sb, &vhost.uri(), &store, "explore", None);
    let deadline = Instant::now() + Duration::from_secs(60);
    let settled = "exhibit_worker_jobs_total{stage=\"explore\",outcome=\"dead_lettered\"} 2";
    while !worker.metrics().contains(settled) {
        assert!(Instant::now() < deadline, "both jobs dead-lettered within 60 s: {}", worker.metrics());
        std::thread::sleep(Duration::from_millis(20));
    }
    let (code, rest) = worker.terminate();
    assert_eq!(code, 0, "{rest}");
    assert!(!sb.case_dir("42AB1234520").exists(), "nothing written for a case no ingest started");
}
