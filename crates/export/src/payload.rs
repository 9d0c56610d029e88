//! Copying artefact content into the bag: every byte is read once, through
//! the [`ContentSource`] (which checks the SHA-256 on the way), and written
//! once. The MD5 is the one the manifest recorded at ingest (the manifest
//! is one a ledger entry recorded, and the SHA-256 check proves the bytes
//! are the ones ingested); it is computed while copying only when the
//! manifest has none. Memory is one buffer per worker; workers copy
//! different files at once.

use std::io::{Read, Write};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use md5::{Digest, Md5};
use tracing::{debug, info_span};

use crate::bag::{BagFile, BagWriter};
use crate::error::ExportError;
use crate::layout::Placed;
use crate::snapshot::{ContentSource, StoredManifest};

const BUFFER: usize = 1 << 20;

/// Copies every placed artefact into `bag` with `workers` threads. Returns
/// the manifest lines of the copied files, and the errors of those that
/// failed (each failure fails its file only).
pub fn copy_payload(
    bag: &BagWriter,
    artefacts: &[StoredManifest],
    placed: &[Placed],
    source: &dyn ContentSource,
    workers: usize,
) -> (Vec<BagFile>, Vec<ExportError>) {
    let _span = info_span!("copy_payload", files = placed.len(), workers).entered();
    let next = AtomicUsize::new(0);
    let done = Mutex::new((Vec::with_capacity(placed.len()), Vec::new()));
    std::thread::scope(|scope| {
        for _ in 0..workers.max(1) {
            scope.spawn(|| {
                let mut buffer = vec![0u8; BUFFER];
                while let Some(p) = placed.get(next.fetch_add(1, Ordering::Relaxed)) {
                    let result = copy_one(bag, &artefacts[p.index], &p.bag_path, source, &mut buffer);
                    let mut done = done.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                    match result {
                        Ok(file) => done.0.push(file),
                        Err(e) => done.1.push(e),
                    }
                }
            });
        }
    });
    done.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn copy_one(
    bag: &BagWriter,
    stored: &StoredManifest,
    bag_path: &str,
    source: &dyn ContentSource,
    buffer: &mut [u8],
) -> Result<BagFile, ExportError> {
    let m = &stored.manifest;
    let content_error = |source| ExportError::Content { artefact: m.id.to_string(), source };
    let mut reader = source.open(m).map_err(content_error)?;
    let mut file = bag.create_file(bag_path)?;
    let target = bag.root().join(bag_path);
    let mut md5 = m.digests.md5.is_none().then(Md5::new);
    let mut size = 0u64;
    loop {
        let n = match reader.read(buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(content_error(e)),
        };
        if let Some(md5) = md5.as_mut() {
            md5.update(&buffer[..n]);
        }
        file.write_all(&buffer[..n]).map_err(|e| ExportError::io(&target, e))?;
        size += n as u64;
    }
    if size != m.size {
        let message = format!("read {size} bytes, the manifest records {}", m.size);
        return Err(content_error(std::io::Error::new(std::io::ErrorKind::InvalidData, message)));
    }
    debug!(artefact = %m.id, bag_path, size, "copied");
    let md5 = match md5 {
        Some(computed) => hex::encode(computed.finalize()),
        None => m.digests.md5.map(|recorded| recorded.to_hex()).unwrap_or_default(),
    };
    Ok(BagFile { path: bag_path.to_owned(), sha256: m.digests.sha256.to_hex(), md5, size })
}
