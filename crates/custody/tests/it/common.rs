//! Shared fixtures: a store in a temporary folder, a case, keys, events.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::sync::Arc;

use exhibit_core::event::{Action, Actor, CustodyEvent, Outcome};
use exhibit_core::ids::CaseId;
use exhibit_core::layout::ledger_key;
use exhibit_core::manifest::ToolInfo;
use exhibit_custody::{Ledger, Signer};
use exhibit_store::{LocalStore, ObjectStore};
use serde_json::{Map, Value};
use tempfile::TempDir;
use time::OffsetDateTime;

pub struct Fixture {
    pub dir: TempDir,
    pub local: Arc<LocalStore>,
    pub store: Arc<dyn ObjectStore>,
    pub case: CaseId,
    pub signer: Arc<Signer>,
}

impl Fixture {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let local = Arc::new(LocalStore::open(dir.path().join("store")).unwrap());
        let store: Arc<dyn ObjectStore> = local.clone();
        let signer = Arc::new(Signer::load_or_create(&dir.path().join("keys/worker")).unwrap());
        Self { dir, local, store, case: "42AB1234520".parse().unwrap(), signer }
    }

    /// Another signing key, in its own file.
    pub fn other_signer(&self, name: &str) -> Arc<Signer> {
        Arc::new(Signer::load_or_create(&self.dir.path().join("keys").join(name)).unwrap())
    }

    pub async fn ledger(&self) -> Ledger {
        self.ledger_with(self.signer.clone()).await
    }

    pub async fn ledger_with(&self, signer: Arc<Signer>) -> Ledger {
        Ledger::open(self.store.clone(), self.case.clone(), signer).await.unwrap()
    }

    /// Appends `n` `accessed` events; returns the ledger's last seq.
    pub async fn append_n(&self, n: u64) -> u64 {
        let ledger = self.ledger().await;
        let mut last = 0;
        for i in 0..n {
            last = ledger.append(event(&self.case, &self.signer, Action::Accessed, i)).await.unwrap().seq;
        }
        last
    }

    /// The file of ledger entry `seq` under the store root.
    pub fn entry_path(&self, seq: u64) -> PathBuf {
        self.local.path_of(&ledger_key(&self.case, seq)).unwrap()
    }
}

/// An event by `signer`, with `n` in its params to tell events apart.
pub fn event(case: &CaseId, signer: &Signer, action: Action, n: u64) -> CustodyEvent {
    CustodyEvent {
        at: OffsetDateTime::now_utc().replace_nanosecond(0).unwrap(),
        case: case.clone(),
        exhibit: Some("JS/1".parse().unwrap()),
        action,
        artefact: None,
        inputs: Vec::new(),
        tool: ToolInfo::exhibit("test"),
        params: Map::from_iter([("n".to_owned(), Value::from(n))]),
        actor: Actor {
            operator: "DC Smith 1234".to_owned(),
            host: "test-host".to_owned(),
            process: std::process::id(),
            public_key: signer.public_key_openssh(),
        },
        outcome: Outcome::Ok,
    }
}

/// Overwrites a stored (read-only) file, as an attacker with disk access would.
pub fn overwrite(path: &std::path::Path, bytes: &[u8]) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::write(path, bytes).unwrap();
}
