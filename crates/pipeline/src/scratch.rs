//! Scratch folders for derivations (OCR, transcode, explore's set members
//! and listings) that a killed run does
//! not leak: they live in this process's [`TempArea`] under
//! `$TMPDIR/exhibit-scratch-<uid>/`, and the first derivation of the next
//! run removes the areas of dead processes, never those of live ones.

use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, PoisonError};

use exhibit_store::temp_area::{TempArea, remove_stale};

use crate::StageError;

/// A new scratch folder, removed when dropped.
pub fn scratch_dir() -> Result<tempfile::TempDir, StageError> {
    let no_space = |e: io::Error| StageError::transient(format!("no scratch space: {e}"));
    let area = process_area().map_err(no_space)?;
    tempfile::Builder::new().prefix("job-").tempdir_in(area.path()).map_err(no_space)
}

/// A new scratch file (e.g. a listing being written), removed when dropped.
pub fn scratch_file() -> io::Result<tempfile::NamedTempFile> {
    tempfile::Builder::new().prefix("file-").tempfile_in(process_area()?.path())
}

/// This process's area, claimed once. It lives as long as the process; the
/// empty folder a clean exit leaves is removed by the next run.
fn process_area() -> io::Result<&'static TempArea> {
    static AREA: OnceLock<TempArea> = OnceLock::new();
    static CLAIMING: Mutex<()> = Mutex::new(());
    if let Some(area) = AREA.get() {
        return Ok(area);
    }
    let _one_at_a_time = CLAIMING.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(area) = AREA.get() {
        return Ok(area);
    }
    let area = clean_and_claim(&private_parent()?)?;
    Ok(AREA.get_or_init(|| area))
}

/// Removes dead processes' areas under `parent`, then claims a new one.
fn clean_and_claim(parent: &Path) -> io::Result<TempArea> {
    match remove_stale(parent) {
        Ok(0) => {}
        Ok(n) => tracing::info!(folders = n, parent = %parent.display(), "removed scratch folders of killed runs"),
        Err(e) => tracing::warn!(error = %e, parent = %parent.display(), "could not clear stale scratch folders"),
    }
    TempArea::claim(parent)
}

/// `$TMPDIR/exhibit-scratch-<uid>`, made 0700. In a shared `/tmp` another
/// user could make that name first (as a symlink, or open to all) to read
/// derivatives of the evidence, so it is used only if it is a real folder
/// owned by this user that nobody else may enter.
fn private_parent() -> io::Result<PathBuf> {
    let uid = rustix::process::geteuid().as_raw();
    let parent = std::env::temp_dir().join(format!("exhibit-scratch-{uid}"));
    match fs::DirBuilder::new().mode(0o700).create(&parent) {
        Err(e) if e.kind() != io::ErrorKind::AlreadyExists => return Err(e),
        _ => {}
    }
    let meta = fs::symlink_metadata(&parent)?;
    if !meta.is_dir() || meta.uid() != uid || meta.mode() & 0o077 != 0 {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!("{} is not a private folder of this user; remove it", parent.display()),
        ));
    }
    Ok(parent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dead_runs_scratch_is_removed_and_a_live_ones_kept() {
        let parent = tempfile::tempdir().unwrap();
        // What a SIGKILLed run leaves: its folder and an unlocked lock file
        // (the kernel drops a dead process's flock).
        fs::create_dir_all(parent.path().join("wdead/job-1")).unwrap();
        fs::write(parent.path().join("wdead/job-1/page.txt"), "text").unwrap();
        fs::write(parent.path().join("wdead.lock"), "").unwrap();
        let live = TempArea::claim(parent.path()).unwrap();
        fs::write(live.path().join("frame.raw"), "live").unwrap();

        let mine = clean_and_claim(parent.path()).unwrap();
        assert!(!parent.path().join("wdead").exists() && !parent.path().join("wdead.lock").exists());
        assert_eq!(fs::read_to_string(live.path().join("frame.raw")).unwrap(), "live");
        assert!(mine.path().is_dir());
    }

    #[test]
    fn scratch_folders_are_private_and_removed_after_use() {
        let scratch = scratch_dir().unwrap();
        let parent = scratch.path().parent().and_then(Path::parent).unwrap().to_owned();
        assert_eq!(fs::metadata(&parent).unwrap().mode() & 0o777, 0o700);
        let path = scratch.path().to_owned();
        drop(scratch);
        assert!(!path.exists());
    }
}
