//! Assigns every payload file a bag path that no other file or folder of
//! the bag takes, even on a case-insensitive file system: `Report.txt`
//! and `report.TXT` both from one image get `report.TXT~2`, a file named
//! like a folder gets another name, and over-long paths move under
//! `long-paths/`.

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use crate::safe_name::safe_component;

/// Longest bag path (relative to the bag, `data/...`) written: below the
/// 260-character Windows limit with room for the folder holding the bag.
pub const MAX_PATH_BYTES: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Dir,
    File,
}

/// The paths handed out so far, keyed by their case-folded form.
#[derive(Debug, Default)]
pub struct BagPaths {
    taken: HashMap<String, (Kind, String)>,
}

impl BagPaths {
    /// An empty allocation.
    pub fn new() -> Self {
        Self::default()
    }

    /// A fresh folder directly under `parent` (`""` for the bag's root),
    /// named after `name`, that no earlier call was given: the root of one
    /// exhibit.
    pub fn unique_dir(&mut self, parent: &str, name: &str) -> String {
        let base = safe_component(name.as_bytes());
        let chosen = self.free_name(parent, &base);
        let path = join(parent, &chosen);
        self.taken.insert(fold(&path), (Kind::Dir, path.clone()));
        path
    }

    /// A file path under `root` for the raw components `parts` (empty ones
    /// are skipped). Each part is made safe; clashes get a `~N` suffix.
    pub fn file(&mut self, root: &str, parts: &[&[u8]]) -> String {
        let mut names: Vec<String> = parts.iter().filter(|p| !p.is_empty()).map(|p| safe_component(p)).collect();
        if names.is_empty() {
            names.push(safe_component(b""));
        }
        let total = root.len() + names.iter().map(|n| n.len() + 1).sum::<usize>();
        if total > MAX_PATH_BYTES {
            let joined: Vec<u8> = parts.join(&b'/');
            let tag = hex::encode(&Sha256::digest(&joined)[..8]);
            let leaf = names.pop().unwrap_or_default();
            names = vec!["long-paths".to_owned(), tag, leaf];
        }
        let Some(leaf) = names.pop() else { return root.to_owned() };
        let mut dir = root.to_owned();
        for name in names {
            dir = self.folder(&dir, &name);
        }
        let chosen = self.free_name(&dir, &leaf);
        let path = join(&dir, &chosen);
        self.taken.insert(fold(&path), (Kind::File, path.clone()));
        path
    }

    /// The folder `name` under `dir`: an existing folder of that name (in
    /// any case) is shared, a file of that name forces another name.
    fn folder(&mut self, dir: &str, name: &str) -> String {
        let wanted = join(dir, name);
        match self.taken.get(&fold(&wanted)) {
            Some((Kind::Dir, actual)) => actual.clone(),
            Some((Kind::File, _)) => {
                let chosen = self.free_name(dir, name);
                let path = join(dir, &chosen);
                self.taken.insert(fold(&path), (Kind::Dir, path.clone()));
                path
            }
            None => {
                self.taken.insert(fold(&wanted), (Kind::Dir, wanted.clone()));
                wanted
            }
        }
    }

    /// `name`, or `name~2`, `name~3`... (before the extension), whichever
    /// is free under `dir`.
    fn free_name(&self, dir: &str, name: &str) -> String {
        if !self.taken.contains_key(&fold(&join(dir, name))) {
            return name.to_owned();
        }
        let (stem, ext) = match name.rsplit_once('.') {
            Some((stem, ext)) if !stem.is_empty() => (stem, format!(".{ext}")),
            _ => (name, String::new()),
        };
        (2u64..)
            .map(|n| format!("{stem}~{n}{ext}"))
            .find(|candidate| !self.taken.contains_key(&fold(&join(dir, candidate))))
            .unwrap_or_else(|| name.to_owned())
    }
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() { name.to_owned() } else { format!("{dir}/{name}") }
}

/// The form two names share when a case-insensitive file system would
/// treat them as one.
fn fold(path: &str) -> String {
    path.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_collisions_get_distinct_names() {
        let mut paths = BagPaths::new();
        let a = paths.file("data/X", &[b"Dir", b"Report.txt"]);
        let b = paths.file("data/X", &[b"dir", b"report.TXT"]);
        assert_eq!(a, "data/X/Dir/Report.txt");
        assert_eq!(b, "data/X/Dir/report~2.TXT");
    }

    #[test]
    fn a_file_and_a_folder_of_one_name_do_not_clash() {
        let mut paths = BagPaths::new();
        let file = paths.file("data", &[b"a"]);
        let nested = paths.file("data", &[b"a", b"b"]);
        assert_eq!(file, "data/a");
        assert_eq!(nested, "data/a~2/b");
        assert_eq!(paths.file("data", &[b"a"]), "data/a~3");
    }

    #[test]
    fn traversal_stays_inside_the_root() {
        let mut paths = BagPaths::new();
        let p = paths.file("data/X", &[b"..", b"..", b"etc", b"passwd"]);
        assert_eq!(p, "data/X/=2E=2E/=2E=2E/etc/passwd");
    }

    #[test]
    fn deep_paths_are_moved_under_long_paths() {
        let mut paths = BagPaths::new();
        let deep: Vec<Vec<u8>> = (0..40).map(|i| format!("folder{i}").into_bytes()).collect();
        let parts: Vec<&[u8]> = deep.iter().map(Vec::as_slice).collect();
        let p = paths.file("data/X", &parts);
        assert!(p.len() <= MAX_PATH_BYTES, "{p}");
        assert!(p.starts_with("data/X/long-paths/") && p.ends_with("/folder39"), "{p}");
    }

    #[test]
    fn exhibit_roots_are_unique() {
        let mut paths = BagPaths::new();
        assert_eq!(paths.unique_dir("data", "JS-1"), "data/JS-1");
        assert_eq!(paths.unique_dir("data", "js-1"), "data/js-1~2");
    }
}
