//! Temporary files of a killed writer are removed by the next writer; those
//! of a live writer survive any cleanup.
//!
//! The writer is a second process (this test binary run again, see
//! [`writer_process`]), so that it can really be SIGKILLed.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use exhibit_core::digest::HashSelection;
use exhibit_store::{ObjectStore, WriteBatch, open_store};

use crate::local_store;

const ROLE: &str = "EXHIBIT_TEST_WRITER_STORE";

/// Every path below `dir`, files and folders.
fn below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(below(&path));
        }
        out.push(path);
    }
    out
}

/// In the child role: stage a write (a temporary file that is never
/// published), say `ready`, then wait until killed or stdin closes.
/// Ignored in normal runs: only the test below starts it, with `--ignored`.
#[test]
#[ignore = "the writer process of a_killed_writers_temp_files_go_and_a_live_writers_stay"]
fn writer_process() {
    let Ok(root) = std::env::var(ROLE) else { return };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let store = open_store(&root).unwrap();
    let mut batch = WriteBatch::new(store);
    let key = exhibit_core::layout::ObjectKey::new("pending/one").unwrap();
    let body = Box::new(std::io::Cursor::new(vec![7u8; 4096]));
    runtime.block_on(batch.put_new(&key, body, HashSelection::default())).unwrap();
    println!("ready");
    std::io::stdout().flush().unwrap();
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
    drop(batch);
}

#[tokio::test]
async fn a_killed_writers_temp_files_go_and_a_live_writers_stay() {
    let fx = local_store().await;
    let root = fx.store.root().to_path_buf();
    let tmp = root.join(".tmp");
    let mut writer = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "stale_temp::writer_process", "--ignored", "--nocapture", "--test-threads=1"])
        .env(ROLE, &root)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(writer.stdout.take().unwrap()).lines();
    assert!(lines.any(|l| l.unwrap().contains("ready")), "the writer process staged its write");
    let theirs = below(&tmp);
    assert!(theirs.iter().any(|p| p.is_file() && !p.to_string_lossy().ends_with(".lock")), "{theirs:?}");

    // A cleanup while the writer lives (this store's first write runs one)
    // leaves every one of its files in place.
    fx.store
        .put_content("x/objects/sha256/", Box::new(std::io::Cursor::new(b"abc".to_vec())), HashSelection::default())
        .await
        .unwrap();
    let after_live = below(&tmp);
    assert!(theirs.iter().all(|p| after_live.contains(p)), "a live writer lost files: {theirs:?} vs {after_live:?}");

    writer.kill().unwrap(); // SIGKILL: no destructor runs
    writer.wait().unwrap();
    assert!(theirs.iter().all(|p| p.exists()), "killed writers leave their files until the next run");

    // The next run's open clears what the killed writer left, even when
    // that run writes nothing (a rerun after a kill late in an ingest: the
    // CLI crash test found the folder left when the cleanup waited for a
    // first write).
    let next = open_store(root.to_str().unwrap()).unwrap();
    let left: Vec<_> = theirs.iter().filter(|p| p.exists()).collect();
    assert!(left.is_empty(), "stale temporary files survived the open: {left:?}");
    next.put_content("x/objects/sha256/", Box::new(std::io::Cursor::new(b"def".to_vec())), HashSelection::default())
        .await
        .unwrap();
    assert!(fx.store.head(&exhibit_core::layout::ObjectKey::new("pending/one").unwrap()).await.is_err());
}
