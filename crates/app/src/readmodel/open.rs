//! Choosing the read model once, from a URI: `postgres://...` (the
//! cluster), `sqlite://PATH`, `sqlite::memory:`, or none given, the file
//! beside a local store.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{PostgresReadModel, ReadModel, SqliteReadModel};
use crate::error::{AppError, Result};

/// The folder under a local store's root that holds the read model.
pub const READ_MODEL_DIR: &str = ".exhibit";

/// Where the read model of a local store lives by default:
/// `<store>/.exhibit/readmodel.sqlite`. `None` for a store URI that names
/// no local folder.
pub fn default_sqlite_path(store_uri: &str) -> Option<PathBuf> {
    let root = match store_uri.split_once("://") {
        Some(("file", path)) => path,
        Some(_) => return None,
        None => store_uri,
    };
    Some(Path::new(root).join(READ_MODEL_DIR).join("readmodel.sqlite"))
}

/// Opens the read model `uri` names; without one, the default file beside
/// the local store `store_uri` (its folder is created owner-only), or one
/// in memory for a store with no local folder.
pub async fn open_read_model(uri: Option<&str>, store_uri: &str) -> Result<Arc<dyn ReadModel>> {
    let path = match uri {
        Some("sqlite::memory:") => return Ok(Arc::new(SqliteReadModel::in_memory().await?)),
        Some(uri) if is_postgres(uri) => return Ok(Arc::new(PostgresReadModel::open(uri).await?)),
        Some(uri) => match uri.strip_prefix("sqlite://") {
            Some(path) => PathBuf::from(path),
            None => return Err(AppError::UnsupportedUri { uri: uri.to_owned() }),
        },
        None => match default_sqlite_path(store_uri) {
            Some(path) => path,
            None => return Ok(Arc::new(SqliteReadModel::in_memory().await?)),
        },
    };
    if let Some(dir) = path.parent() {
        create_private_dir(dir).map_err(|e| AppError::Io { path: dir.to_owned(), source: e })?;
    }
    Ok(Arc::new(SqliteReadModel::open(&path).await?))
}

fn is_postgres(uri: &str) -> bool {
    uri.starts_with("postgres://") || uri.starts_with("postgresql://")
}

/// Creates `dir` readable by its owner only: the read model repeats file
/// names and case facts the store keeps private.
pub(crate) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    match std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(e) => Err(e),
    }
}
