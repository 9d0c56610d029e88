//! A store whose server ignores create-only writes is refused before
//! anything is written to it, and the refusal ends the command: it is not
//! a transient fault to retry (the issue 14 attacker saw ingest retry it
//! about five times a second, forever, after uploading the original).

use std::time::Duration;

use exhibit_testkit::servers::AcceptEverything;

use crate::common::{Sandbox, bounded, stderr};

fn on_stub(sb: &Sandbox, stub: &AcceptEverything, args: &[&str]) -> std::process::Output {
    let mut cmd = sb.exhibit();
    cmd.args(["--store", "s3://stub-bucket/force", "--queue", "memory://"]).args(args);
    cmd.env("AWS_ENDPOINT_URL", &stub.endpoint)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env_remove("AWS_ENDPOINT_URL_S3")
        .env_remove("AWS_PROFILE");
    bounded(&mut cmd, Duration::from_secs(120))
}

#[test]
fn ingest_and_worker_refuse_a_store_that_ignores_create_only_writes_and_store_nothing() {
    let (sb, stub) = (Sandbox::new(), AcceptEverything::start());
    let evidence = sb.dir.path().join("note.txt");
    std::fs::write(&evidence, b"evidence").unwrap();
    let ingest = ["ingest", "--case", "PROBE1", "--exhibit", "JS/1", "--operator", "T", evidence.to_str().unwrap()];
    let out = on_stub(&sb, &stub, &ingest);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("If-None-Match") && err.contains("ledger"), "says why: {err}");
    let out = on_stub(&sb, &stub, &["worker", "--operator", "W", "--stages", "explore"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let writes: Vec<String> =
        stub.requests().into_iter().filter(|r| r.starts_with("PUT") && !r.contains("probe~")).collect();
    assert!(writes.is_empty(), "nothing but the probe was written: {writes:?}");
}
