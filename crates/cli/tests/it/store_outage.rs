//! A worker started while its object store is down waits for it instead
//! of exiting (the chaos test saw a worker restarted during a 20 s storage
//! outage give up on its create-only probe after the client's retries and
//! exit), and says so on `/healthz`; misconfigured stores say what to fix.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use exhibit_testkit::servers::OutageProxy;

use crate::cluster_env::{Moto, http};
use crate::common::{Sandbox, bounded, stderr};

fn s3_env(cmd: &mut Command, endpoint: &str) {
    cmd.env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env_remove("AWS_ENDPOINT_URL_S3")
        .env_remove("AWS_PROFILE");
}

/// `/healthz` of the worker on `port`, polled until `want` or 90 s.
fn health_becomes(port: u16, want: u16) -> String {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let (status, body) = http(port, "GET", "/healthz");
        let body = String::from_utf8_lossy(&body).into_owned();
        if status == want {
            return body;
        }
        assert!(Instant::now() < deadline, "/healthz stayed {status} ({body}), expected {want}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_worker_started_while_the_store_is_down_waits_for_it_and_then_serves() {
    let (sb, moto) = (Sandbox::new(), Moto::start());
    let mut proxy = OutageProxy::start(moto.port);
    proxy.outage();
    let mut cmd = sb.exhibit();
    cmd.args(["worker", "--queue", "memory://", "--store", &format!("s3://{}/force", moto.bucket)]);
    cmd.args(["--stages", "explore", "--operator", "Worker"]);
    s3_env(&mut cmd, &proxy.endpoint());
    let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("start exhibit worker");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut next_line = || lines.next().and_then(Result::ok).expect("the worker ended early");
    let port: u16 = loop {
        let line = next_line();
        if let Some(addr) = line.split("http://127.0.0.1:").nth(1) {
            break addr.split('/').next().unwrap().parse().unwrap();
        }
    };
    // The client retries for up to about a minute before the worker says
    // it waits; meanwhile /healthz already says it is not ready.
    let body = health_becomes(port, 503);
    assert!(body.contains("waiting"), "{body}");
    let waiting = loop {
        let line = next_line();
        if line.contains("waiting for the object store") {
            break line;
        }
    };
    assert!(waiting.contains("cannot reach the object store"), "says what is wrong: {waiting}");
    assert!(!waiting.contains("free space"), "no advice about disks for a network fault: {waiting}");
    proxy.restore();
    assert_eq!(health_becomes(port, 200), "ok\n");
    let sent = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(sent.success());
    assert_eq!(child.wait().unwrap().code(), Some(0), "stopped cleanly after waiting");
}

#[test]
fn an_ingest_into_a_bucket_that_does_not_exist_says_so() {
    let (sb, moto) = (Sandbox::new(), Moto::start());
    let evidence = sb.dir.path().join("note.txt");
    std::fs::write(&evidence, b"evidence").unwrap();
    let mut cmd = sb.exhibit();
    cmd.args(["--store", "s3://no-such-bucket/force", "--queue", "memory://"]);
    cmd.args(["ingest", "--case", "NOBUCKET1", "--exhibit", "JS/1", "--operator", "T", evidence.to_str().unwrap()]);
    moto.env(&mut cmd);
    let out = bounded(&mut cmd, Duration::from_secs(180));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("bucket") && err.contains("does not exist"), "names the missing bucket: {err}");
    assert!(!err.contains("is not in the store"), "not reported as a missing object: {err}");
}
