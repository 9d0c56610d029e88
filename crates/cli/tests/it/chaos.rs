//! Chaos during a cluster ingest (issue 14, acceptance 3). Three `exhibit
//! worker` processes take the jobs of four ingests into one case (a folder
//! of files, a disc image, a scan bundle, a folder of videos) while the test
//! SIGKILLs a random worker 10 times at random moments and starts it again,
//! restarts RabbitMQ once, and takes the S3 server away for 20 s. Then the
//! case must be complete, hold every artefact the embedded default gives
//! (once), record no event twice nor any failure, and `verify` clean. It
//! prints the schedule and the counts.
//!
//! - **Seeded**: the seed is printed; `EXHIBIT_CHAOS_SEED=N` replays the
//!   schedule (the moments are wall-clock times, so a replay hits similar,
//!   not identical, points of the work).
//! - **Broker**: a RabbitMQ node of the test's own
//!   ([`exhibit_testkit::servers::RabbitNode`]), so that restarting it
//!   (`rabbitmqctl stop`, then start on the same data) disturbs no other
//!   test on the shared broker.
//! - **Storage outage**: moto keeps its state in memory, so stopping it
//!   would lose the bucket; s3s-fs persists, but its conditional create is
//!   a check then a write, unsafe with several ledger writers. So moto stays
//!   up behind a loopback proxy ([`exhibit_testkit::servers::OutageProxy`])
//!   that for 20 s refuses new connections and cuts the live ones. That is a
//!   server that is down or unreachable and comes back with its data (a
//!   restart, a network cut). Not simulated: a server that loses data, or
//!   one that hangs without refusing.
//! - **Bounded**: every command has a time limit; the whole takes 3 to 6
//!   minutes on a loaded 2-core machine, so it is left out of the default
//!   test command (`#[ignore]`) and `.ci/run` runs it as a step of its own:
//!   `cargo test --workspace --test it -- --ignored chaos`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use exhibit_testkit::servers::{OutageProxy, RabbitNode};
use serde_json::Value;

use crate::cluster_env::Moto;
use crate::common::{Sandbox, bounded, stderr};

const CASE: &str = "CHAOS-1";
const KILLS: usize = 10;
const OUTAGE: Duration = Duration::from_secs(20);
const STAGES: &str = "explore,transcode,ocr,ocr-bundle";

/// One exhibit of the case: its reference, what is ingested, and the
/// ingest's own flags.
struct Exhibit {
    reference: &'static str,
    path: PathBuf,
    flags: Vec<&'static str>,
}

/// The case's sources: a folder of files, an ISO 9660 disc image, four
/// scanned pages as one bundle, four videos.
fn exhibits(dir: &Path) -> Vec<Exhibit> {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    let copy_into = |folder: &str, files: &[&str]| {
        let to = dir.join(folder);
        std::fs::create_dir_all(&to).unwrap();
        for file in files {
            let from = fixtures.join(file);
            std::fs::copy(&from, to.join(from.file_name().unwrap())).unwrap();
        }
        to
    };
    let scans = copy_into("scans", &["ocr/memo.png", "ocr/letter.jpg", "ocr/statement-g4.tif", "ocr/rotated-90.png"]);
    let videos = copy_into(
        "videos",
        // Enough work that the ingests outlast every planned fault (with
        // one job per small loose file, four videos ended before the last
        // faults were injected).
        &[
            "media/mpeg1_mp2.mpg",
            "media/mjpeg_pcm.avi",
            "media/h263_aac.3gp",
            "media/mpeg4_pcm.mov",
            "media/flv1_mp3.flv",
            "media/mpeg2_mp2.vob",
            "media/mpeg4_mp3.avi",
            "media/wmv2_wma2.wmv",
        ],
    );
    vec![
        Exhibit { reference: "JS/1", path: fixtures.join("sample-folder"), flags: vec![] },
        Exhibit { reference: "JS/2", path: fixtures.join("iso/iso.iso"), flags: vec![] },
        Exhibit { reference: "JS/3", path: scans, flags: vec!["--pages", "4"] },
        Exhibit { reference: "JS/4", path: videos, flags: vec![] },
    ]
}

/// Ingests every exhibit in turn with `cmd` (each given `exhibit`'s
/// arguments); the exit code and stderr of each.
fn ingest_all(make: impl Fn() -> Command, exhibits: &[Exhibit]) -> Vec<(i32, String)> {
    exhibits
        .iter()
        .map(|e| {
            let mut cmd = make();
            cmd.args(["ingest", "--case", CASE, "--exhibit", e.reference, "--operator", "Test Officer"])
                .args(&e.flags)
                .arg(&e.path);
            let out = bounded(&mut cmd, Duration::from_secs(900));
            (out.status.code().unwrap_or(-1), stderr(&out))
        })
        .collect()
}

/// The SDK's standard configuration, pointed at `endpoint`.
fn s3_env(cmd: &mut Command, endpoint: &str) {
    cmd.env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env_remove("AWS_ENDPOINT_URL_S3")
        .env_remove("AWS_PROFILE");
}

/// Each artefact as what it is: kind, media type, rule, and the SHA-256
/// where the derivation is deterministic (searchable PDFs hold the time
/// they were made).
fn artefacts(show: &Value) -> Vec<String> {
    let mut out: Vec<String> = show["artefacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let rule = a["derivation"]["rule"].as_str().unwrap_or("");
            let deterministic = a["derivation"]["deterministic"].as_bool() != Some(false) && !rule.ends_with("pdf");
            let sha = if deterministic { a["digests"]["sha256"].as_str().unwrap_or("") } else { "-" };
            format!("{} {} {rule} {sha}", a["kind"], a["media_type"]["mime"])
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

/// An `exhibit worker` whose stderr goes to a log file (a pipe nobody
/// reads would stall it once full).
struct ChaosWorker {
    child: Child,
    log: PathBuf,
}

impl ChaosWorker {
    fn start(sb: &Sandbox, n: usize, queue: &str, store: &str, endpoint: &str) -> Self {
        let log = sb.dir.path().join(format!("worker-{n}.log"));
        let mut cmd = sb.exhibit();
        cmd.args(["worker", "--queue", queue, "--store", store, "--stages", STAGES, "--operator", "Worker"]);
        s3_env(&mut cmd, endpoint);
        let file = std::fs::File::create(&log).unwrap();
        let child = cmd.stdout(Stdio::null()).stderr(file).spawn().expect("start exhibit worker");
        let worker = Self { child, log };
        let deadline = Instant::now() + Duration::from_secs(60);
        while !worker.log_text().contains("metrics on http://") {
            assert!(Instant::now() < deadline, "worker {n} did not start within 60 s: {}", worker.log_text());
            std::thread::sleep(Duration::from_millis(20));
        }
        worker
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    /// SIGTERM; the exit code and the jobs it says it did.
    fn terminate(mut self) -> (i32, u32) {
        let sent = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(sent.success());
        let code = self.child.wait().unwrap().code().unwrap_or(-1);
        let log = self.log_text();
        let jobs = log.split("stopped after ").nth(1).and_then(|r| r.split(' ').next()?.parse().ok());
        (code, jobs.unwrap_or_else(|| panic!("no summary in the worker's log: {log}")))
    }
}

impl Drop for ChaosWorker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// splitmix64: enough randomness for a schedule, and the same for a seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// When each fault happens: the pause before each kill and its victim, and
/// after which kills the broker restarts and the storage outage begins.
#[derive(Debug)]
struct Plan {
    pauses: Vec<Duration>,
    victims: Vec<usize>,
    restart_after: usize,
    outage_after: usize,
}

impl Plan {
    fn new(seed: u64) -> Self {
        let mut rng = Rng(seed);
        // Short pauses and an early restart and outage, so that every
        // fault falls inside the ingest on a quiet machine too: a seed
        // whose outage began after 6 kills (18.9 s) found the ingest over.
        // Kills after the outage begins fall inside it (the ingest waits
        // for the storage).
        let pauses = (0..KILLS).map(|_| Duration::from_millis(200 + rng.below(1000))).collect();
        let victims = (0..KILLS).map(|_| rng.below(3) as usize).collect();
        let restart_after = 1 + rng.below(2) as usize;
        let outage_after = restart_after + 1 + rng.below(2) as usize;
        Self { pauses, victims, restart_after, outage_after }
    }
}

/// What happened when, and whether the ingest was still running.
struct Happened {
    at: Duration,
    what: String,
    during_ingest: bool,
}

/// Runs the plan against the cluster while `ingest` runs.
struct Chaos<'a> {
    sb: &'a Sandbox,
    queue: String,
    store: String,
    endpoint: String,
    rabbit: &'a mut RabbitNode,
    proxy: &'a mut OutageProxy,
    workers: Vec<Option<ChaosWorker>>,
    started: Instant,
    outage_ends: Option<Instant>,
    log: Vec<Happened>,
    next_worker: usize,
}

impl Chaos<'_> {
    fn note(&mut self, what: String, ingest: &JoinHandle<Vec<(i32, String)>>) {
        let at = self.started.elapsed();
        println!("chaos: {:>6.1} s  {what}", at.as_secs_f64());
        self.log.push(Happened { at, what, during_ingest: !ingest.is_finished() });
    }

    /// Waits `pause`, ending the storage outage when its time comes.
    fn wait(&mut self, pause: Duration, ingest: &JoinHandle<Vec<(i32, String)>>) {
        let until = Instant::now() + pause;
        if let Some(ends) = self.outage_ends.filter(|ends| *ends <= until) {
            std::thread::sleep(ends.saturating_duration_since(Instant::now()));
            self.proxy.restore();
            self.outage_ends = None;
            self.note("S3 back".into(), ingest);
        }
        std::thread::sleep(until.saturating_duration_since(Instant::now()));
    }

    fn run(&mut self, plan: &Plan, ingest: &JoinHandle<Vec<(i32, String)>>) {
        for (k, (pause, victim)) in plan.pauses.iter().zip(&plan.victims).enumerate() {
            self.wait(*pause, ingest);
            self.workers[*victim].take().expect("a worker in each slot").kill();
            self.next_worker += 1;
            let worker = ChaosWorker::start(self.sb, self.next_worker, &self.queue, &self.store, &self.endpoint);
            self.workers[*victim] = Some(worker);
            self.note(format!("SIGKILL worker slot {victim} ({} of {KILLS}), started again", k + 1), ingest);
            if k + 1 == plan.restart_after {
                self.note("RabbitMQ stopping".into(), ingest);
                self.rabbit.stop();
                self.rabbit.start_again();
                self.note("RabbitMQ restarted".into(), ingest);
            }
            if k + 1 == plan.outage_after {
                self.proxy.outage();
                self.outage_ends = Some(Instant::now() + OUTAGE);
                self.note(format!("S3 unreachable for {} s", OUTAGE.as_secs()), ingest);
            }
        }
        if let Some(ends) = self.outage_ends {
            self.wait(ends.saturating_duration_since(Instant::now()), ingest);
        }
    }
}

#[test]
#[ignore = "chaos: 3 to 6 minutes; .ci/run runs it: cargo test --workspace --test it -- --ignored chaos"]
fn chaos_kills_a_broker_restart_and_a_storage_outage_during_a_cluster_ingest_lose_and_duplicate_nothing() {
    let seed = std::env::var("EXHIBIT_CHAOS_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
    });
    let plan = Plan::new(seed);
    println!("chaos: seed {seed} (EXHIBIT_CHAOS_SEED={seed} replays it): {plan:?}");

    // The same case on the embedded default, for comparison.
    let reference = Sandbox::new();
    let sources = exhibits(reference.dir.path());
    let reference_codes: Vec<i32> = ingest_all(|| reference.exhibit(), &sources).into_iter().map(|(c, _)| c).collect();
    let reference_events: Vec<Value> = reference.ledger(CASE).into_iter().map(|(_, e)| e).collect();
    let reference_artefacts = artefacts(&reference.show_json(CASE));

    let sb = Sandbox::new();
    let mut rabbit = RabbitNode::start();
    let moto = Moto::start();
    let mut proxy = OutageProxy::start(moto.port);
    let (queue, store, endpoint) = (rabbit.uri(), format!("s3://{}/force", moto.bucket), proxy.endpoint());
    let workers = (0..3).map(|n| Some(ChaosWorker::start(&sb, n, &queue, &store, &endpoint))).collect();

    let ingest = std::thread::spawn({
        let (sb_exhibit, queue, store, endpoint) = (sb.exhibit(), queue.clone(), store.clone(), endpoint.clone());
        let (program, envs) = (
            sb_exhibit.get_program().to_owned(),
            sb_exhibit.get_envs().map(|(k, v)| (k.to_owned(), v.map(ToOwned::to_owned))).collect::<Vec<_>>(),
        );
        let sources = exhibits(sb.dir.path());
        move || {
            let make = || {
                let mut cmd = Command::new(&program);
                for (key, value) in &envs {
                    match value {
                        Some(value) => cmd.env(key, value),
                        None => cmd.env_remove(key),
                    };
                }
                cmd.args(["--queue", &queue, "--store", &store]);
                s3_env(&mut cmd, &endpoint);
                cmd
            };
            ingest_all(make, &sources)
        }
    });
    let mut chaos = Chaos {
        sb: &sb,
        queue: queue.clone(),
        store: store.clone(),
        endpoint: endpoint.clone(),
        rabbit: &mut rabbit,
        proxy: &mut proxy,
        workers,
        started: Instant::now(),
        outage_ends: None,
        log: Vec::new(),
        next_worker: 2,
    };
    chaos.run(&plan, &ingest);
    let results = ingest.join().unwrap();
    let ingest_took = chaos.started.elapsed();
    let (log, workers) = (std::mem::take(&mut chaos.log), std::mem::take(&mut chaos.workers));
    for (exhibit, ((code, err), expected)) in sources_refs().iter().zip(results.iter().zip(&reference_codes)) {
        assert_eq!(code, expected, "the cluster ingest of {exhibit} under chaos: {err}");
    }
    let late: Vec<String> =
        log.iter().filter(|h| !h.during_ingest).map(|h| format!("{:.1} s {}", h.at.as_secs_f64(), h.what)).collect();
    assert!(late.is_empty(), "the ingests ended before these faults, which tested nothing: {late:?}");

    let direct = format!("http://127.0.0.1:{}", moto.port);
    let on_s3 = |args: &[&str]| {
        let mut cmd = sb.exhibit();
        cmd.args(["--store", &store]).args(args);
        s3_env(&mut cmd, &direct);
        bounded(&mut cmd, Duration::from_secs(300))
    };
    let trusted = sb.trusted_keys();
    let out = on_s3(&["verify", "--case", CASE, "--trusted-keys", trusted.to_str().unwrap()]);
    let report = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "verify after chaos: {report}{}", stderr(&out));
    let out = on_s3(&["show", "--case", CASE, "--json"]);
    assert!(out.status.success(), "show: {}", stderr(&out));
    let show: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = show["artefacts"].as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap()).collect();
    let unique: std::collections::BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "an artefact listed twice");
    assert_eq!(artefacts(&show), reference_artefacts, "every artefact of the embedded default, once");

    let events = moto.ledger_events("force", CASE);
    let mut seen = std::collections::HashSet::new();
    for e in events.iter().filter(|e| !e["artefact"].is_null()) {
        assert!(seen.insert((e["action"].to_string(), e["artefact"].to_string())), "recorded twice: {e:#}");
    }
    assert_eq!(event_counts(&events), event_counts(&reference_events), "the same events as the embedded default");

    let mut jobs = 0;
    for worker in workers.into_iter().flatten() {
        let (code, done) = worker.terminate();
        assert_eq!(code, 0, "a worker's exit on SIGTERM");
        jobs += done;
    }
    println!(
        "chaos: seed {seed}: {KILLS} SIGKILLs, 1 RabbitMQ restart, {} s without S3; ingests took {:.0} s; \
         {} artefacts, {} ledger events, none twice; {jobs} jobs by the last 3 workers; verify clean",
        OUTAGE.as_secs(),
        ingest_took.as_secs_f64(),
        ids.len(),
        events.len(),
    );
}

fn sources_refs() -> [&'static str; 4] {
    ["JS/1", "JS/2", "JS/3", "JS/4"]
}
