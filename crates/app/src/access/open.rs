//! Choosing the access state once, from a URI: `postgres://...` (the
//! cluster), `sqlite://PATH`, `sqlite::memory:`, or none given, the file
//! beside a local store.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{AccessState, PostgresAccessState, SqliteAccessState};
use crate::error::{AppError, Result};
use crate::readmodel::READ_MODEL_DIR;

/// Where the access state of a local store lives by default:
/// `<store>/.exhibit/access.sqlite`. `None` for a store URI that names no
/// local folder (S3): give `[api] state_uri` then.
pub fn default_access_path(store_uri: &str) -> Option<PathBuf> {
    let root = match store_uri.split_once("://") {
        Some(("file", path)) => path,
        Some(_) => return None,
        None => store_uri,
    };
    Some(Path::new(root).join(READ_MODEL_DIR).join("access.sqlite"))
}

/// Opens the access state `uri` names; without one, the file beside the
/// local store `store_uri` (its folder made owner-only). Unlike the read
/// model there is no fallback to memory: tokens and shares would vanish.
pub async fn open_access_state(uri: Option<&str>, store_uri: &str) -> Result<Arc<dyn AccessState>> {
    let path = match uri {
        Some("sqlite::memory:") => return Ok(Arc::new(SqliteAccessState::in_memory().await?)),
        Some(uri) if uri.starts_with("postgres://") || uri.starts_with("postgresql://") => {
            return Ok(Arc::new(PostgresAccessState::open(uri).await?));
        }
        Some(uri) => match uri.strip_prefix("sqlite://") {
            Some(path) => PathBuf::from(path),
            None => return Err(AppError::UnsupportedUri { uri: uri.to_owned() }),
        },
        None => match default_access_path(store_uri) {
            Some(path) => path,
            None => {
                return Err(AppError::Invalid {
                    what: "[api] state_uri".into(),
                    reason: format!("the store {store_uri} has no local folder; give postgres://... or sqlite://PATH"),
                });
            }
        },
    };
    if let Some(dir) = path.parent() {
        crate::readmodel::create_private_dir(dir).map_err(|e| AppError::Io { path: dir.to_owned(), source: e })?;
    }
    Ok(Arc::new(SqliteAccessState::open(&path).await?))
}
