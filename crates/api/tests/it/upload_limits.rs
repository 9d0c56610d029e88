//! The per-token limits around the real router (as `exhibit serve` runs
//! it): with one upload slot, a token that holds a tus PATCH open gets 429
//! for another upload, tus or PUT, while another token of its organisation
//! uploads; the slot frees when the client goes away.

use std::time::{Duration, Instant};

use exhibit_api::limits::TokenLimitConfig;
use exhibit_app::access::Role;
use exhibit_tus::content_digest::header_value;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::common::{Reply, Server, request, seg};
use crate::uploads::{CASE, force_case, metadata, tus_create};

/// A PATCH that declares 100 bytes and sends 10; the stream stays open.
async fn hold_patch(server: &Server, token: &str, location: &str) -> TcpStream {
    let addr = server.base.trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "PATCH {location} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {token}\r\ntus-resumable: 1.0.0\r\n\
         upload-offset: 0\r\ncontent-type: application/offset+octet-stream\r\ncontent-length: 100\r\n\r\n0123456789"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream
}

/// A PUT of `body` to exhibit JS/2, with its digest or (to be refused 400
/// by the handler, changing nothing) without.
async fn put(server: &Server, token: &str, name: &str, body: &[u8], with_digest: bool) -> Reply {
    let path = format!("/v1/cases/{}/exhibits/JS%2F2/files/{name}", seg(CASE));
    let digest = header_value(&exhibit_core::Sha256Digest::of(body));
    let headers: Vec<(&str, &str)> = if with_digest { vec![("Content-Digest", digest.as_str())] } else { Vec::new() };
    request("PUT", &server.url(&path), Some(token), &headers, Some(body.to_vec())).await
}

/// Whether the server has answered (or closed) a held request.
fn answered(held: &TcpStream) -> bool {
    let mut byte = [0u8; 1];
    !matches!(held.try_read(&mut byte), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
}

/// Holds a PATCH of `token` open until a digest-less PUT of the same token
/// is refused 429, and returns the held stream and that refusal. A probe
/// PUT can itself take the slot just before the PATCH arrives (the PATCH is
/// then refused); such a PATCH is sent again, so the result never depends
/// on which request the server saw first.
async fn hold_until_put_refused(server: &Server, token: &str, location: &str) -> (TcpStream, Reply) {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut held = hold_patch(server, token, location).await;
    loop {
        let reply = put(server, token, "probe.txt", b"probe", false).await;
        if reply.status == 429 || Instant::now() > deadline {
            return (held, reply);
        }
        if answered(&held) {
            held = hold_patch(server, token, location).await;
        }
        // The interval of the poll, not a wait for anything in particular.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Polls a digest-less PUT of `token` until it answers `status`.
async fn wait_for_put_status(server: &Server, token: &str, status: u16) -> Reply {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let reply = put(server, token, "probe.txt", b"probe", false).await;
        if reply.status == status || Instant::now() > deadline {
            return reply;
        }
        // The interval of the poll, not a wait for anything in particular.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_upload_takes_the_tokens_slot_for_tus_and_put_alike() {
    let limits = TokenLimitConfig { requests_per_minute: 60_000, burst: 10_000, concurrent_uploads: 1 };
    let server = Server::start_limited(limits).await;
    let alice = force_case(&server).await;
    let anne = server.token("Force A", "anne", Role::Submitter).await;
    let created = tus_create(&server, &alice, 100, &metadata(CASE, "JS/1", "a.bin")).await;
    assert_eq!(created.status, 201, "{created:?}");
    let location = created.header("location").unwrap().to_owned();

    let (held, refused) = hold_until_put_refused(&server, &alice, &location).await;
    assert_eq!((refused.status, refused.kind().as_str()), (429, "too_many_uploads"), "{refused:?}");
    assert!(refused.header("retry-after").is_some());
    let second = tus_create(&server, &alice, 5, &metadata(CASE, "JS/1", "b.bin")).await;
    assert_eq!(second.status, 429, "a tus creation counts too: {second:?}");
    let other = put(&server, &anne, "c.txt", b"anne's file\n", true).await;
    assert_eq!(other.status, 201, "another token has its own slot: {other:?}");

    drop(held);
    let freed = wait_for_put_status(&server, &alice, 400).await;
    assert_eq!(freed.status, 400, "the slot frees when the client goes away: {freed:?}");
    assert_eq!(put(&server, &alice, "d.txt", b"alice's file\n", true).await.status, 201);
}
