//! What the cluster tests run against, all on loopback: a RabbitMQ vhost
//! of their own (made with `rabbitmqctl`, deleted on drop), moto's S3
//! server on a free port, and `exhibit worker` processes.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, ChildStderr, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use exhibit_testkit::servers::LoopbackServer;
use serde_json::Value;

use crate::common::Sandbox;

/// A vhost on the loopback broker for one test, deleted on drop.
pub struct Vhost {
    name: String,
}

impl Vhost {
    pub fn new() -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!("exhibit-cli-test-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        rabbitmqctl(&["add_vhost", &name]);
        rabbitmqctl(&["set_permissions", "-p", &name, "guest", ".*", ".*", ".*"]);
        Self { name }
    }

    pub fn uri(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1:5672/{}", self.name)
    }

    /// Polls until the vhost holds the queue `name` (a worker declares its
    /// stages' queues once it has checked its store), for up to 60 s.
    pub fn wait_for_queue(&self, name: &str) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let out = Command::new("rabbitmqctl").args(["-q", "list_queues", "-p", &self.name, "name"]).output();
            let listed = out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default();
            if listed.lines().any(|l| l.trim() == name) {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no queue {name} in vhost {} after 60 s: {listed}",
                self.name
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    }
}

impl Drop for Vhost {
    fn drop(&mut self) {
        let _ = Command::new("rabbitmqctl").args(["delete_vhost", &self.name]).output();
    }
}

fn rabbitmqctl(args: &[&str]) {
    let out = Command::new("rabbitmqctl")
        .args(args)
        .output()
        .expect("rabbitmqctl (RabbitMQ on 127.0.0.1:5672 must be running; .ci/run starts it)");
    assert!(out.status.success(), "rabbitmqctl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// moto's S3 server on a free loopback port with one bucket, killed on drop.
pub struct Moto {
    _server: LoopbackServer,
    pub port: u16,
    pub bucket: &'static str,
}

impl Moto {
    pub fn start() -> Self {
        let server = LoopbackServer::moto();
        let moto = Self { port: server.port, _server: server, bucket: "evidence" };
        let (status, _) = http(moto.port, "PUT", &format!("/{}", moto.bucket));
        assert_eq!(status, 200, "create the bucket");
        moto
    }

    /// The SDK's standard configuration, pointed at this server.
    pub fn env(&self, cmd: &mut Command) {
        cmd.env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{}", self.port))
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env_remove("AWS_ENDPOINT_URL_S3")
            .env_remove("AWS_PROFILE");
    }

    /// Every event of a case's ledger in the bucket under `prefix`, read
    /// with boto3 (which moto's server installs beside itself).
    pub fn ledger_events(&self, prefix: &str, case: &str) -> Vec<Value> {
        let tools = std::env::var("EXHIBIT_PYTHON_TOOLS").unwrap_or_else(|_| "/opt/exhibit-python".to_owned());
        let script = r#"
import boto3, json, sys
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test")
pages = s3.get_paginator("list_objects_v2").paginate(Bucket=sys.argv[2], Prefix=sys.argv[3])
keys = sorted(o["Key"] for p in pages for o in p.get("Contents", []))
print(json.dumps([json.loads(s3.get_object(Bucket=sys.argv[2], Key=k)["Body"].read()) for k in keys]))
"#;
        let out = Command::new(format!("{tools}/bin/python"))
            .args(["-c", script, &format!("http://127.0.0.1:{}", self.port), self.bucket])
            .arg(format!("{prefix}/cases/{case}/ledger/"))
            .output()
            .expect("python with boto3 (installed with moto)");
        assert!(out.status.success(), "read the ledger: {}", String::from_utf8_lossy(&out.stderr));
        let entries: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
        assert!(!entries.is_empty(), "no ledger entries under {prefix}/cases/{case}/ledger/");
        entries.into_iter().flat_map(entry_events).collect()
    }
}

/// The events of one ledger entry: its batch, or itself.
fn entry_events(entry: Value) -> Vec<Value> {
    match entry.get("batch").and_then(Value::as_array) {
        Some(events) => events.clone(),
        None => vec![entry],
    }
}

/// One HTTP/1.0 request without a body; the status and the body.
pub fn http(port: u16, method: &str, path: &str) -> (u16, Vec<u8>) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(stream, "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\n\r\n").unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").expect("an HTTP response");
    let head = String::from_utf8_lossy(&response[..split]).into_owned();
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).expect("a status code");
    (status, response[split + 4..].to_vec())
}

/// An `exhibit worker` process, killed on drop if still running.
pub struct WorkerProcess {
    pub child: Child,
    pub metrics_port: u16,
    stderr: Option<BufReader<ChildStderr>>,
}

impl WorkerProcess {
    /// Starts a worker of `stages` and waits for the line naming its
    /// metrics address.
    pub fn start(sb: &Sandbox, queue: &str, store: &str, stages: &str, moto: Option<&Moto>) -> Self {
        let mut cmd = sb.exhibit();
        cmd.args(["worker", "--queue", queue, "--store", store, "--stages", stages, "--operator", "Worker"]);
        if let Some(moto) = moto {
            moto.env(&mut cmd);
        }
        Self::spawn(cmd)
    }

    /// Starts the `exhibit worker` command `cmd` and waits for the line
    /// naming its metrics address.
    pub fn spawn(mut cmd: Command) -> Self {
        let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("start exhibit worker");
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        let port = loop {
            line.clear();
            assert!(stderr.read_line(&mut line).unwrap() > 0, "the worker ended before it listened");
            if let Some(addr) = line.split("http://127.0.0.1:").nth(1) {
                break addr.split('/').next().unwrap().parse().unwrap();
            }
        };
        Self { child, metrics_port: port, stderr: Some(stderr) }
    }

    /// The worker's `/metrics` text.
    pub fn metrics(&self) -> String {
        let (status, body) = http(self.metrics_port, "GET", "/metrics");
        assert_eq!(status, 200);
        String::from_utf8(body).unwrap()
    }

    /// Sends SIGTERM and waits for the exit code, with the rest of stderr.
    pub fn terminate(mut self) -> (i32, String) {
        // The child is not reaped yet, so its pid is still its own.
        let sent = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().unwrap();
        assert!(sent.success(), "kill -TERM");
        let mut rest = String::new();
        if let Some(mut stderr) = self.stderr.take() {
            stderr.read_to_string(&mut rest).unwrap();
        }
        let status = self.child.wait().unwrap();
        (status.code().unwrap_or(-1), rest)
    }
}

impl Drop for WorkerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A folder with a scan and two short videos from the fixtures.
pub fn small_case(sb: &Sandbox) -> std::path::PathBuf {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    let src = sb.dir.path().join("case-src");
    std::fs::create_dir_all(&src).unwrap();
    for (from, to) in
        [("ocr/memo.png", "memo.png"), ("media/mpeg1_mp2.mpg", "interview.mpg"), ("media/mjpeg_pcm.avi", "cctv.avi")]
    {
        std::fs::copy(fixtures.join(from), src.join(to)).unwrap();
    }
    src
}

/// A case of every kind of evidence cluster mode must carry: an E01 set
/// (three segments), a disc as a cue sheet with its two `.bin` files, a
/// scan bundle (a folder of two page images) and a video.
pub fn mixed_case(sb: &Sandbox) -> std::path::PathBuf {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    let src = sb.dir.path().join("mixed-src");
    std::fs::create_dir_all(src.join("scans")).unwrap();
    for (from, to) in [
        ("sources/ewf/split.E01", "split.E01"),
        ("sources/ewf/split.E02", "split.E02"),
        ("sources/ewf/split.E03", "split.E03"),
        ("sources/cue/two-files.cue", "two-files.cue"),
        ("sources/cue/data track.bin", "data track.bin"),
        ("sources/cue/audio.bin", "audio.bin"),
        ("ocr/memo.png", "scans/page1.png"),
        ("ocr/letter.jpg", "scans/page2.jpg"),
        ("media/mpeg1_mp2.mpg", "interview.mpg"),
    ] {
        std::fs::copy(fixtures.join(from), src.join(to)).unwrap();
    }
    src
}
