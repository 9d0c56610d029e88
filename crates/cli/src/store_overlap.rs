//! An ingest must never read the store it writes to: a folder that holds
//! the store (or lies inside it) would copy the store into itself, each
//! rerun larger, and pull other cases' ledgers into a case.

use std::path::{Path, PathBuf};

/// Refuses (exit 2) any input path that contains the local store named by
/// `store_uri` or lies inside it. Paths are compared once symlinks are
/// resolved; a store not made yet is placed where it will be made.
pub fn refuse_store_inputs(store_uri: &str, inputs: &[PathBuf]) -> anyhow::Result<()> {
    let root = match store_uri.split_once("://") {
        Some(("file", path)) => PathBuf::from(path),
        Some(_) => return Ok(()),
        None => PathBuf::from(store_uri),
    };
    let root = resolved(&root);
    for input in inputs {
        let Ok(input_real) = input.canonicalize() else { continue };
        if root.starts_with(&input_real) || input_real.starts_with(&root) {
            let how = if root.starts_with(&input_real) { "holds the store" } else { "is inside the store" };
            anyhow::bail!(
                "{} {how} ({}); ingest only evidence from outside the store, or move the store (EXHIBIT_DATA)",
                crate::terminal::escape_name(&input.display().to_string()),
                crate::terminal::escape_name(&root.display().to_string()),
            );
        }
    }
    Ok(())
}

/// `path` with symlinks resolved as far as it exists, the rest appended.
fn resolved(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = existing.canonicalize() {
            return rest.iter().rev().fold(real, |p: PathBuf, c| p.join(c));
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_owned());
                existing = parent;
            }
            _ => return absolute,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_holding_the_store_or_inside_it_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("case/store");
        std::fs::create_dir_all(store.join("cases")).unwrap();
        std::fs::create_dir_all(dir.path().join("other")).unwrap();
        let uri = format!("file://{}", store.display());
        assert!(refuse_store_inputs(&uri, &[dir.path().join("case")]).is_err());
        assert!(refuse_store_inputs(&uri, &[dir.path().join("case/./store/cases")]).is_err());
        assert!(refuse_store_inputs(&uri, &[dir.path().join("other")]).is_ok());
        let later = format!("file://{}", dir.path().join("other/not-yet/store").display());
        assert!(refuse_store_inputs(&later, &[dir.path().join("other")]).is_err());
    }
}
