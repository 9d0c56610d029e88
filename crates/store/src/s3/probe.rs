//! The capability probe. exhibit's custody ledger relies on create-only
//! writes: two writers of one ledger entry must not both win. Some
//! S3-compatible servers ignore `If-None-Match` and overwrite silently, so
//! before a store's first create-only write, a probe key is created twice;
//! the second create must be refused. If it is not, the store refuses every
//! create-only write and says why.

use super::S3Store;
use super::upload::{Part, Written};
use crate::StoreError;

/// Probe objects live here (`~` keeps them out of every object key).
const PROBE: &str = "probe~/create-only-";

/// Creates a probe object twice with `If-None-Match: *`; Ok only when the
/// server refuses the second.
pub async fn probe_create_only(store: &S3Store) -> Result<(), StoreError> {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let key = format!("{PROBE}{nanos}-{}", std::process::id());
    let first = store.put_whole(&key, Part::of(b"first".to_vec()), true, false).await?;
    let second = store.put_whole(&key, Part::of(b"second".to_vec()), true, false).await;
    // Object Lock may keep it; then it stays, a few bytes under probe~/.
    store.delete_leftover(&key, "remove probe~/ objects once their retention ends").await;
    match (first, second?) {
        (Written::Created, Written::Taken) => Ok(()),
        _ => Err(StoreError::NotCreateOnly { uri: crate::ObjectStore::uri(store) }),
    }
}
