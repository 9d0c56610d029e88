//! Clients that reset a download mid-body do not stop `exhibit serve`.
//! The CLI once restored SIGPIPE's default action for every command (for a
//! quiet `exhibit show | head`), and hyper's vectored socket writes raise
//! SIGPIPE on a reset connection: any token that could download could
//! kill the server. The tester's repro took 2 to 5 resets.

use std::io::{Read, Write};
use std::net::TcpStream;

use crate::common::{Sandbox, stderr};
use crate::serve::{curl, serve};

const CASE: &str = "RESET-1";

#[test]
fn clients_that_reset_downloads_do_not_stop_the_server() {
    let sb = Sandbox::new();
    let src = sb.dir.path().join("big");
    std::fs::create_dir_all(&src).unwrap();
    let body: Vec<u8> = (0..5_000_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    std::fs::write(src.join("big.bin"), &body).unwrap();
    let out = sb.ingest(CASE, &src);
    assert!(out.status.success(), "{}", stderr(&out));
    for args in [&["admin", "org", "add", "Force A"][..], &["admin", "case", "add", "--org", "Force A", CASE][..]] {
        let out = sb.run(args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    }
    let out = sb.run(&["admin", "token", "add", "--org", "Force A", "--role", "reviewer", "--user", "rita"]);
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let mut server = serve(&sb);
    let (status, listed) = curl(&token, &format!("{}/v1/cases/{CASE}/artefacts", server.base));
    assert_eq!(status, 200, "{listed}");
    let listed: serde_json::Value = serde_json::from_str(&listed).unwrap();
    let id = listed["artefacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["size"] == body.len())
        .and_then(|a| a["id"].as_str())
        .unwrap_or_else(|| panic!("{listed}"))
        .to_owned();

    let addr = server.base.trim_start_matches("http://").to_owned();
    for _ in 0..30 {
        let mut stream = TcpStream::connect(&addr).unwrap();
        let ask = format!(
            "GET /v1/cases/{CASE}/artefacts/{id}/content HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n"
        );
        stream.write_all(ask.as_bytes()).unwrap();
        let mut some = vec![0u8; 65536];
        let _ = stream.read(&mut some);
        // Closed with unread data: the kernel answers the server's next
        // write with a reset.
        drop(stream);
    }
    let (status, body) = curl(&token, &format!("{}/v1/cases", server.base));
    assert_eq!(status, 200, "the server stopped answering: {body}");
    assert!(server.child.try_wait().unwrap().is_none(), "the server exited");
}
