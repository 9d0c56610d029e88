//! `[queue] delivery_limit`: a value out of range is a configuration error
//! before anything runs, and a worker given another limit than its queues
//! were made with stops with an error that says what to do (RabbitMQ
//! cannot change a quorum queue's arguments: PRECONDITION_FAILED).

use std::time::Duration;

use crate::cluster_env::{Vhost, WorkerProcess};
use crate::common::{Sandbox, bounded, stderr};

#[test]
fn a_delivery_limit_out_of_range_is_a_configuration_error_naming_the_key() {
    let sb = Sandbox::new();
    for (limit, shown) in
        [("0", "0"), ("1001", "1001"), ("-1", "-1"), ("abc", "\"abc\""), ("99999999999", "99999999999")]
    {
        let out = sb.exhibit().env("EXHIBIT__QUEUE__DELIVERY_LIMIT", limit).args(["cases"]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "delivery_limit {limit}: {}", stderr(&out));
        let text = stderr(&out);
        assert!(text.contains(&format!("[queue] delivery_limit is {shown}")), "{text}");
        assert!(text.contains("from 1 to 1000"), "{text}");
        assert!(!text.contains("expected u32"), "the range's words, not the deserialiser's: {text}");
    }
    // The same from a config file, as TOML types it.
    std::fs::create_dir_all(sb.data()).unwrap();
    let file = sb.data().join("limit.toml");
    for (written, shown) in [("\"abc\"", "\"abc\""), ("-1", "-1"), ("2.5", "2.5")] {
        std::fs::write(&file, format!("[queue]\ndelivery_limit = {written}\n")).unwrap();
        let out = sb.exhibit().arg("--config").arg(&file).args(["cases"]).output().unwrap();
        let text = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "delivery_limit {written}: {text}");
        assert!(
            text.contains(&format!("[queue] delivery_limit is {shown}")) && text.contains("from 1 to 1000"),
            "{text}"
        );
    }
}

#[test]
fn a_worker_given_another_delivery_limit_than_its_queues_stops_saying_what_to_do() {
    let (sb, vhost) = (Sandbox::new(), Vhost::new());
    let store = sb.data().to_str().unwrap().to_owned();
    // The first worker makes the stage's queues with the default limit, 10.
    let first = WorkerProcess::start(&sb, &vhost.uri(), &store, "explore", None);
    vhost.wait_for_queue("exhibit.explore");
    let (code, rest) = first.terminate();
    assert_eq!(code, 0, "{rest}");
    let mut cmd = sb.exhibit();
    cmd.env("EXHIBIT__QUEUE__DELIVERY_LIMIT", "20").args([
        "worker",
        "--queue",
        &vhost.uri(),
        "--store",
        &store,
        "--stages",
        "explore",
        "--operator",
        "Worker",
    ]);
    let out = bounded(&mut cmd, Duration::from_secs(120));
    let text = stderr(&out);
    assert!(out.status.code().is_some_and(|c| c != 0), "it stops by itself, with an error: {text}");
    for needed in ["exhibit.explore", "x-delivery-limit", "[queue] delivery_limit", "delete_queue"] {
        assert!(text.contains(needed), "the error says {needed}: {text}");
    }
}
