//! Third parties can check entries with stock tools; key files stay private.

use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::sync::Arc;

use exhibit_core::ErrorKind;
use exhibit_core::event::Action;
use exhibit_custody::{CustodyError, LedgerEntry, NAMESPACE, Signer, read_entries};

use crate::common::{Fixture, event};

fn ssh_keygen_verify(dir: &std::path::Path, body: &[u8]) -> bool {
    let mut child = Command::new("/usr/bin/ssh-keygen")
        .args(["-Y", "verify", "-f", "allowed", "-I", "exhibit", "-n", NAMESPACE, "-s", "entry.sig"])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), body).unwrap();
    child.wait().unwrap().success()
}

#[tokio::test]
async fn ssh_keygen_verifies_an_entry_signature() {
    let fx = Fixture::new();
    fx.append_n(2).await;
    let stored = &read_entries(fx.store.as_ref(), &fx.case).await.unwrap()[2];
    let entry = stored.parsed.clone().unwrap();
    let body = entry.body_bytes().unwrap();
    let dir = fx.dir.path();
    let allowed = format!("exhibit namespaces=\"{NAMESPACE}\" {}\n", entry.events()[0].actor.public_key);
    std::fs::write(dir.join("allowed"), allowed).unwrap();
    std::fs::write(dir.join("entry.sig"), &entry.sig).unwrap();
    assert!(ssh_keygen_verify(dir, &body), "ssh-keygen rejected an intact entry");

    let mut flipped = body.clone();
    flipped[10] ^= 1;
    assert!(!ssh_keygen_verify(dir, &flipped), "ssh-keygen accepted an altered body");
}

#[tokio::test]
async fn python_rederives_the_signed_body() {
    let fx = Fixture::new();
    fx.append_n(1).await;
    for stored in read_entries(fx.store.as_ref(), &fx.case).await.unwrap() {
        let entry = stored.parsed.unwrap();
        let out = Command::new("python3")
            .args([
                "-c",
                r#"import json,sys; d=json.load(open(sys.argv[1], encoding="utf-8")); d.pop("sig"); sys.stdout.buffer.write(json.dumps(d, sort_keys=True, separators=(",",":"), ensure_ascii=False).encode("utf-8"))"#,
            ])
            .arg(fx.entry_path(stored.seq))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert_eq!(String::from_utf8(out.stdout).unwrap(), String::from_utf8(entry.body_bytes().unwrap()).unwrap());
        assert_eq!(stored.bytes, entry.file_bytes().unwrap());
    }
}

#[test]
fn key_file_is_created_private_and_in_openssh_format() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new/keys/worker");
    let signer = Signer::load_or_create(&path).unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(path.parent().unwrap()), 0o700);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----"));
    // ssh-keygen reads it and derives the same public key.
    let out = Command::new("/usr/bin/ssh-keygen").arg("-y").arg("-f").arg(&path).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let derived = String::from_utf8(out.stdout).unwrap();
    let key_of = |line: &str| line.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
    assert_eq!(key_of(&derived), key_of(&signer.public_key_openssh()));
}

#[test]
fn key_file_readable_by_others_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("worker");
    Signer::load_or_create(&path).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = Signer::load_or_create(&path).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains(&format!("chmod 600 {}", path.display())), "{msg}");
    assert_eq!(err.kind(), ErrorKind::Invalid);
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert!(Signer::load_or_create(&path).is_ok());
}

#[test]
fn a_damaged_key_file_is_refused_and_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("worker");
    std::fs::write(&path, "not a key").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let err = Signer::load_or_create(&path).unwrap_err();
    assert!(matches!(err, CustodyError::KeyFormat { .. }), "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "not a key");
}

/// Loads the key at `path` on another thread and gives up after 20 s, so a
/// load that blocks fails the test instead of hanging it.
fn load_with_deadline(path: &std::path::Path) -> Result<Signer, CustodyError> {
    let (tx, rx) = std::sync::mpsc::channel();
    let path = path.to_owned();
    std::thread::spawn(move || {
        let _ = tx.send(Signer::load_or_create(&path));
    });
    rx.recv_timeout(std::time::Duration::from_secs(20)).expect("loading the key blocked instead of refusing")
}

#[test]
fn a_fifo_or_device_as_key_path_is_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo-key");
    let made = Command::new("mkfifo").arg("-m").arg("600").arg(&fifo).status().unwrap();
    assert!(made.success());
    let link = dir.path().join("link-to-fifo");
    std::os::unix::fs::symlink(&fifo, &link).unwrap();
    let device = std::path::PathBuf::from("/dev/null");
    for (path, what) in [(&fifo, "named pipe"), (&link, "named pipe"), (&device, "device")] {
        let err = load_with_deadline(path).unwrap_err();
        assert!(matches!(err, CustodyError::KeyNotAFile { .. }), "{}: {err}", path.display());
        assert!(err.to_string().contains(what), "{err}");
        assert_eq!(err.kind(), ErrorKind::Invalid);
    }
    let err = load_with_deadline(dir.path()).unwrap_err();
    assert!(err.to_string().contains("is a folder"), "{err}");
    let kind = std::fs::symlink_metadata(&fifo).unwrap().file_type();
    assert!(std::os::unix::fs::FileTypeExt::is_fifo(&kind), "the FIFO is left in place");
}

#[tokio::test]
async fn append_refuses_an_event_attributed_to_another_key() {
    let fx = Fixture::new();
    let ledger = fx.ledger().await;
    let other = fx.other_signer("other");
    let err = ledger.append(event(&fx.case, &other, Action::Accessed, 0)).await.unwrap_err();
    assert!(matches!(err, CustodyError::WrongKey { .. }), "{err}");
    assert!(read_entries(fx.store.as_ref(), &fx.case).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_key_is_recorded_once_before_its_first_entry() {
    let fx = Fixture::new();
    fx.append_n(2).await;
    fx.append_n(1).await; // a new instance finds the key already recorded
    let other = fx.other_signer("other");
    fx.ledger_with(other.clone()).await.append(event(&fx.case, &other, Action::Accessed, 9)).await.unwrap();
    let actions: Vec<(u64, Action)> = read_entries(fx.store.as_ref(), &fx.case)
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.seq, s.parsed.unwrap().events()[0].action))
        .collect();
    use Action::{Accessed as A, KeyAdded as K};
    assert_eq!(actions, vec![(1, K), (2, A), (3, A), (4, A), (5, K), (6, A)]);
    let first: LedgerEntry = read_entries(fx.store.as_ref(), &fx.case).await.unwrap()[0].parsed.clone().unwrap();
    assert_eq!(first.prev, None);
    assert_eq!(first.events()[0].params["public_key"], fx.signer.public_key_openssh());
}

/// A server's key joins a case on the first event it signs for a user:
/// the `key-added` entry names the key's holder, not that user, and is no
/// later than the event it comes before.
#[tokio::test]
async fn a_held_key_is_added_by_its_holder_and_no_later_than_the_first_event() {
    let fx = Fixture::new();
    let server = Signer::load_or_create(&fx.dir.path().join("keys/server")).unwrap();
    let server = Arc::new(server.held_by("exhibit serve on test-host"));
    let mut first = event(&fx.case, &server, Action::Acquired, 0);
    first.at -= time::Duration::seconds(5); // made before it was appended
    fx.ledger_with(server.clone()).await.append(first.clone()).await.unwrap();
    let entries = read_entries(fx.store.as_ref(), &fx.case).await.unwrap();
    let added = entries[0].parsed.clone().unwrap().events()[0].clone();
    assert_eq!(added.action, Action::KeyAdded);
    assert_eq!(added.actor.operator, "exhibit serve on test-host");
    assert!(added.at <= first.at, "{} after {}", added.at, first.at);
    let recorded = entries[1].parsed.clone().unwrap().events()[0].clone();
    assert_eq!(recorded.actor.operator, "DC Smith 1234", "the event itself keeps its operator");
}
