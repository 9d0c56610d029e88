//! Naming each source by where it was found: its folder's canonical path
//! and its own name, whatever the current folder or the spelling the
//! operator typed (`scans`, `./scans/`, `in/scans`, a path through a
//! symlinked folder). The recorded path is what a source is known by (its
//! source key, artefact ID and job IDs derive from it), so one folder
//! reached two ways must be one set of sources. The last component is
//! never resolved: a named symlink stays a symlink, recorded, not followed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::plan::{Plan, path_bytes};

impl Plan {
    /// Renames every source read at a path of its own (not one
    /// [`Plan::record_under`] moved) to where it was found, set members
    /// and the files they were found beside with it. A source whose typed
    /// path `held` says the ledger already holds keeps that path: a
    /// release before this one recorded paths as typed, and the rerun of
    /// its command must find what it recorded.
    /// A source whose folder cannot be resolved any more (removed since the
    /// walk) keeps its typed path: reading it fails that source alone, with
    /// the reason, and its neighbours go ahead.
    pub fn name_where_found(&mut self, held: impl Fn(&[u8]) -> bool) {
        let mut folders = HashMap::new();
        let mut renamed = HashMap::new();
        for item in self.items.iter_mut().filter(|i| i.recorded_as.is_none()) {
            if held(path_bytes(&item.path)) {
                continue;
            }
            let found = match where_found(&item.path, &mut folders) {
                Ok(found) => found,
                Err(e) => {
                    tracing::warn!(path = %item.path.display(), reason = %e, "its folder cannot be resolved (gone since the walk?): kept as typed");
                    continue;
                }
            };
            if found != item.path {
                renamed.insert(item.path.clone(), found.clone());
                item.path = found;
            }
        }
        let rename = |path: &mut PathBuf| {
            if let Some(found) = renamed.get(path) {
                *path = found.clone();
            }
        };
        self.items.iter_mut().filter_map(|i| i.found_beside.as_mut()).for_each(rename);
        self.sets.iter_mut().flat_map(|s| s.members.iter_mut()).for_each(|m| rename(&mut m.path));
        for incomplete in &mut self.incomplete_sets {
            if let Some(found) = renamed.get(&incomplete.head) {
                let (typed, found_text) = (incomplete.head.to_string_lossy(), found.to_string_lossy());
                incomplete.reason = incomplete.reason.replace(&*typed, &found_text);
                incomplete.head = found.clone();
            }
        }
    }
}

/// `path`'s folder resolved (symlinks, `.`, `..`, relative to the current
/// folder), joined with its own name. `folders` caches resolved folders:
/// a folder of 10,000 files is resolved once.
fn where_found(path: &Path, folders: &mut HashMap<PathBuf, PathBuf>) -> std::io::Result<PathBuf> {
    let resolve = |p: &Path| std::fs::canonicalize(p);
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else { return resolve(path) };
    let parent = if parent.as_os_str().is_empty() { Path::new(".") } else { parent };
    if let Some(folder) = folders.get(parent) {
        return Ok(folder.join(name));
    }
    let folder = resolve(parent)?;
    let found = folder.join(name);
    folders.insert(parent.to_owned(), folder);
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan_sources;

    #[test]
    fn sets_follow_their_members_and_a_held_spelling_is_kept() {
        let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/sources/ewf");
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("real")).unwrap();
        for name in ["split.E01", "split.E02", "split.E03"] {
            std::fs::copy(fixtures.join(name), dir.path().join("real").join(name)).unwrap();
        }
        std::fs::write(dir.path().join("real/notes.txt"), b"notes").unwrap();
        std::os::unix::fs::symlink("real", dir.path().join("link")).unwrap();
        let typed = dir.path().join("link/../link/split.E01");
        let notes = dir.path().join("link/notes.txt");
        let mut plan = plan_sources(&[typed.clone(), notes.clone()]).unwrap();
        let notes_bytes = path_bytes(&notes).to_vec();
        plan.name_where_found(|p| p == notes_bytes.as_slice());
        let real = std::fs::canonicalize(dir.path().join("real")).unwrap();
        let paths: Vec<&Path> = plan.items.iter().map(|i| i.path.as_path()).collect();
        let e = |n: &str| real.join(n);
        assert_eq!(paths, [e("split.E01").as_path(), &notes, &e("split.E02"), &e("split.E03")], "held: kept");
        assert_eq!(plan.items[2].found_beside.as_deref(), Some(e("split.E01").as_path()));
        let members: Vec<&Path> = plan.sets[0].members.iter().map(|m| m.path.as_path()).collect();
        assert_eq!(members, [e("split.E01"), e("split.E02"), e("split.E03")]);
    }

    #[test]
    fn sources_recorded_under_another_root_are_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("upload.bin"), b"bytes").unwrap();
        let mut plan = plan_sources(&[dir.path().join("./upload.bin")]).unwrap();
        plan.record_under(dir.path(), Path::new("upload/u1"));
        plan.name_where_found(|_| false);
        assert_eq!(plan.items[0].path, dir.path().join("./upload.bin"));
    }

    /// Attack pass of stop 27 (repro 3): a sub-folder removed between the
    /// walk and this naming failed the whole plan ("cannot be read (No such
    /// file or directory); fix its permissions"). Its files keep their typed
    /// paths, and reading them fails each alone.
    #[test]
    fn a_source_whose_folder_is_gone_keeps_its_typed_path() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("van/gone")).unwrap();
        std::fs::write(dir.path().join("van/kept.txt"), b"kept").unwrap();
        std::fs::write(dir.path().join("van/gone/lost.txt"), b"lost").unwrap();
        let mut plan = plan_sources(&[dir.path().join("van")]).unwrap();
        std::fs::remove_dir_all(dir.path().join("van/gone")).unwrap();
        plan.name_where_found(|_| false);
        let real = std::fs::canonicalize(dir.path().join("van")).unwrap();
        let paths: Vec<&Path> = plan.items.iter().map(|i| i.path.as_path()).collect();
        assert_eq!(paths, [dir.path().join("van/gone/lost.txt").as_path(), real.join("kept.txt").as_path()]);
    }
}
