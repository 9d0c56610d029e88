//! Integration tests for exhibit-store: the conformance suite against the
//! local store, and the local store's own guarantees.

mod conformance;
mod local;
mod no_local_path;
mod open_existing;
mod ranged;
#[cfg(feature = "s3")]
mod s3;
mod special_files;
mod stale_temp;
mod view;

use std::any::Any;
use std::sync::{Arc, LazyLock};

use exhibit_store::{LocalStore, ObjectStore};
use tempfile::TempDir;
use tokio::sync::RwLock;

/// Peak memory is measured for the whole process, so the memory check runs
/// with no other test of this binary beside it: it takes this lock for
/// writing, every other store test for reading.
static MEMORY: LazyLock<RwLock<()>> = LazyLock::new(|| RwLock::new(()));

/// A fresh local store in its own temporary folder.
pub struct Fixture {
    pub dir: TempDir,
    pub store: Arc<LocalStore>,
    /// Held for the test's lifetime: a read or write guard on [`MEMORY`].
    _guard: Box<dyn Any + Send + Sync>,
}

impl Fixture {
    /// The store as a trait object, as the conformance suite takes it.
    pub fn dyn_store(&self) -> Arc<dyn ObjectStore> {
        self.store.clone()
    }
}

fn fixture(guard: Box<dyn Any + Send + Sync>) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(LocalStore::open(dir.path().join("store")).unwrap());
    Fixture { dir, store, _guard: guard }
}

/// A store for a test that may run beside others.
pub async fn local_store() -> Fixture {
    fixture(Box::new(MEMORY.read().await))
}

/// A store for a test that must run alone in this process.
pub async fn local_store_alone() -> Fixture {
    fixture(Box::new(MEMORY.write().await))
}
