//! Who may read a local store: its owner alone (folders 0700, files 0400),
//! or its owner and one group (folders 0750, files 0440, group-owned), for
//! an evidence team that shares a store under one service account.

use std::fs::{self, File, Permissions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::Path;

/// The access a local store gives to what it creates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Access {
    group: Option<u32>,
}

impl Access {
    /// Only the owner can read (the default).
    pub fn owner_only() -> Self {
        Self { group: None }
    }

    /// The owner and the group with ID `gid` can read; only the owner writes.
    pub fn with_group(gid: u32) -> Self {
        Self { group: Some(gid) }
    }

    /// Mode of the folders the store makes.
    pub fn folder_mode(&self) -> u32 {
        if self.group.is_some() { 0o750 } else { 0o700 }
    }

    /// Mode of the files the store keeps.
    pub fn file_mode(&self) -> u32 {
        if self.group.is_some() { 0o440 } else { 0o400 }
    }

    /// Creates the folder `dir` (its parent must exist); `AlreadyExists`
    /// when it does, leaving it as it is.
    pub(crate) fn create_folder(&self, dir: &Path) -> io::Result<()> {
        fs::DirBuilder::new().mode(self.folder_mode()).create(dir)?;
        self.share_folder(dir)
    }

    /// Creates `dir` and any missing parents; only a new `dir` is given the
    /// store's mode and group, an existing one keeps what its owner set.
    pub(crate) fn create_root(&self, dir: &Path) -> io::Result<()> {
        if dir.is_dir() {
            return Ok(());
        }
        fs::DirBuilder::new().recursive(true).mode(self.folder_mode()).create(dir)?;
        self.share_folder(dir)
    }

    /// Hands a new folder to the group; the mode is set again because the
    /// umask may have narrowed it.
    fn share_folder(&self, dir: &Path) -> io::Result<()> {
        if let Some(gid) = self.group {
            std::os::unix::fs::chown(dir, None, Some(gid))?;
            fs::set_permissions(dir, Permissions::from_mode(self.folder_mode()))?;
        }
        Ok(())
    }

    /// Makes a finished file read-only, for the group too where one is set.
    pub(crate) fn finish_file(&self, file: &File) -> io::Result<()> {
        if let Some(gid) = self.group {
            std::os::unix::fs::fchown(file, None, Some(gid))?;
        }
        file.set_permissions(Permissions::from_mode(self.file_mode()))
    }
}
