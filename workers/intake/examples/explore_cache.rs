//! Benchmark of the block cache of `exhibit_store::ObjectAt` (see
//! benches/explore-cache.sh): walks every volume of a disk or optical image
//! and reads every file's content, as explore does, three ways:
//!
//! - `pread`: the image file read in place (the peer, no store);
//! - `ranged, cache off`: through a store without local files
//!   (`NoLocalPathStore`, every read a ranged get);
//! - `ranged, cache on`: the same store through the default block cache.
//!
//! Prints one line per way: seconds, ranged gets, bytes fetched.
//! Usage: `explore_cache IMAGE [RUNS]`.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use exhibit_media::{EntryKind, FileAt, Limits, ReadAt, open_content, open_volumes};
use exhibit_store::conformance::NoLocalPathStore;
use exhibit_store::{CacheConfig, LocalStore, ObjectStore, open_object_at};

/// Walks every volume and reads every file; returns (files, bytes).
fn explore(medium: Arc<dyn ReadAt>) -> (u64, u64) {
    let limits = Limits::default();
    let (mut files, mut bytes) = (0u64, 0u64);
    let mut buf = vec![0u8; 1 << 16];
    for volume in open_volumes(medium, &limits).into_iter().flatten() {
        let fs = volume.fs;
        let mut entries = Vec::new();
        let walked = fs.walk(&limits, &mut |entry| {
            entries.push(entry);
            Ok(())
        });
        if let Err(e) = walked {
            eprintln!("walk ended early: {e}");
        }
        for entry in entries.iter().filter(|e| e.kind == EntryKind::File && e.damage.is_none()) {
            let mut content = open_content(fs.volume(), entry);
            loop {
                match content.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => bytes += n as u64,
                }
            }
            files += 1;
        }
    }
    (files, bytes)
}

fn report(way: &str, seconds: f64, (files, bytes): (u64, u64), gets: u64, fetched: u64) {
    println!(
        "{way:<18} {seconds:>8.4} s  {files:>5} files  {bytes:>11} bytes  {gets:>7} ranged gets  {fetched:>11} fetched"
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let image = args.next().ok_or("usage: explore_cache IMAGE [RUNS]")?;
    let runs: u32 = args.next().map(|r| r.parse()).transpose()?.unwrap_or(3);
    let dir = tempfile::tempdir()?;
    let local: Arc<dyn ObjectStore> = Arc::new(LocalStore::open(dir.path().join("store"))?);
    let file = std::fs::File::open(Path::new(&image))?;
    let receipt = local
        .put_content("cases/BENCH/objects/sha256/", Box::new(file), exhibit_core::digest::HashSelection::SHA256_ONLY)
        .await?;
    println!("image {image}: {} bytes; figures of the last of {runs} runs (page cache warm)", receipt.size);
    for run in 0..runs {
        let last = run + 1 == runs;
        let peer: Arc<dyn ReadAt> = Arc::new(FileAt::open(Path::new(&image))?);
        let started = Instant::now();
        let done = tokio::task::spawn_blocking(move || explore(peer)).await?;
        if last {
            report("pread", started.elapsed().as_secs_f64(), done, 0, 0);
        }
        for (way, config) in [("ranged, cache off", CacheConfig::OFF), ("ranged, cache on", CacheConfig::DEFAULT)] {
            let wrapper = Arc::new(NoLocalPathStore::new(local.clone()));
            let store: Arc<dyn ObjectStore> = wrapper.clone();
            let started = Instant::now();
            let at = open_object_at(&store, &receipt.key, Some(receipt.digests.sha256), config).await?;
            let medium: Arc<dyn ReadAt> = at.clone();
            let done = tokio::task::spawn_blocking(move || explore(medium)).await?;
            if last {
                report(way, started.elapsed().as_secs_f64(), done, wrapper.ranged_gets(), at.stats().snapshot().2);
            }
        }
    }
    Ok(())
}
