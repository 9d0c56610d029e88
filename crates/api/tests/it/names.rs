//! File names and manifest cells that read differently from what they are
//! (bidirectional controls) or that Windows cannot hold (reserved device
//! names, a trailing dot) are refused with a clear 400; in a manifest,
//! that row alone.

use crate::common::{request, seg};
use crate::uploads::{CASE, force_case, metadata, tus_create, tus_upload};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_file_names_are_refused_by_tus_and_put() {
    let server = crate::common::Server::start().await;
    let token = force_case(&server).await;
    for name in ["invoice\u{202E}fdp.exe", "a\u{2067}b.txt", "CON", "nul.txt", "Com1.log", "lpt1", "report.", "notes. "]
    {
        let reply = tus_create(&server, &token, 3, &metadata(CASE, "JS/1", name)).await;
        assert_eq!(reply.status, 400, "{name:?}: {reply:?}");
        assert_eq!((reply.kind(), reply.json()["key"].as_str()), ("invalid_metadata".to_owned(), Some("filename")));
        let path = format!("/v1/cases/{}/exhibits/JS%2F1/files/{}", seg(CASE), urlencode(name));
        let digest = exhibit_tus::content_digest::header_value(&exhibit_core::Sha256Digest::of(b"abc"));
        let put =
            request("PUT", &server.url(&path), Some(&token), &[("Content-Digest", &digest)], Some(b"abc".to_vec()))
                .await;
        assert_eq!((put.status, put.kind()), (400, "invalid".to_owned()), "{name:?}: {put:?}");
    }
    assert_eq!(server.ledger_len(CASE).await, 0, "nothing recorded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manifest_row_with_a_bidi_control_fails_alone() {
    let server = crate::common::Server::start().await;
    let token = force_case(&server).await;
    let first = tus_upload(&server, &token, "JS/1", "a.txt", b"first\n").await;
    let second = tus_upload(&server, &token, "JS/2", "b.txt", b"second\n").await;
    let id = |location: &str| location.rsplit('/').next().unwrap().to_owned();
    let csv = format!(
        "exhibit,upload,description\nJS/1,{},invoice\u{202E}fdp.exe\nJS/2,{},A plain note\n",
        id(&first),
        id(&second)
    );
    let path = format!("/v1/cases/{}/submissions", seg(CASE));
    let reply =
        request("POST", &server.url(&path), Some(&token), &[("Content-Type", "text/csv")], Some(csv.into_bytes()))
            .await;
    assert_eq!(reply.status, 207, "{reply:?}");
    let body = reply.json();
    assert_eq!(body["rows"][0]["result"], "rejected", "{body}");
    assert_eq!(body["rows"][0]["place"], "line 2");
    assert!(body["rows"][0]["reason"].as_str().unwrap().contains("bidirectional"), "{body}");
    assert_eq!(body["rows"][1]["result"], "accepted", "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_columns_unclosed_quotes_and_empty_manifests_are_clear_errors() {
    let server = crate::common::Server::start().await;
    let token = force_case(&server).await;
    let path = format!("/v1/cases/{}/submissions", seg(CASE));
    let send = |csv: &'static str| {
        let url = server.url(&path);
        let token = token.clone();
        async move { request("POST", &url, Some(&token), &[("Content-Type", "text/csv")], Some(csv.into())).await }
    };
    let twice = send("exhibit,upload,notes,NOTES\nJS/1,u,a,b\n").await;
    assert_eq!((twice.status, twice.kind()), (400, "malformed_manifest".to_owned()), "{twice:?}");
    assert!(twice.json()["error"].as_str().unwrap().contains("\"notes\" twice"), "{twice:?}");
    for empty in ["exhibit,upload\n", "exhibit,upload"] {
        let reply = send(empty).await;
        assert_eq!(reply.status, 400, "{reply:?}");
        assert!(reply.json()["error"].as_str().unwrap().starts_with("the manifest has no rows"), "{reply:?}");
    }
    let open = send("exhibit,upload,notes\nJS/1,ffffffffffffffffffffffffffffffff,ok\nJS/2,eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee,\"never closed\nJS/3,u,\n").await;
    assert_eq!(open.status, 207, "{open:?}");
    let rows = open.json()["rows"].as_array().unwrap().clone();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1]["place"], "line 3");
    assert!(rows[1]["reason"].as_str().unwrap().contains("never closed"), "{rows:?}");
}

fn urlencode(name: &str) -> String {
    name.bytes()
        .map(|b| if b.is_ascii_alphanumeric() || b == b'.' { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}
