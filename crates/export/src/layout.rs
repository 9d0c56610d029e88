//! Where each artefact goes in the bag:
//!
//! ```text
//! data/<exhibit>/originals/<path as given at ingest>
//! data/<exhibit>/inside/<image artefact ID>/vol-<offset>/<path in the volume>
//! data/<exhibit>/inside/<image artefact ID>/deleted/vol-<offset>/<path>
//! data/<exhibit>/derived/<source artefact ID>/<rule>-<artefact ID>.<ext>
//! ```
//!
//! Every component is made safe by [`crate::bag_paths`]; the exact
//! original goes into `path-map.tsv`.

use std::collections::BTreeMap;

use exhibit_core::manifest::{ArtefactKind, ArtefactManifest};

use crate::bag_paths::BagPaths;
use crate::snapshot::StoredManifest;

/// One payload file to write: which artefact, and where.
#[derive(Debug, Clone)]
pub struct Placed {
    /// Index into the snapshot's artefacts.
    pub index: usize,
    /// Path in the bag.
    pub bag_path: String,
}

/// Bag paths for every artefact, in a stable order (exhibit, kind,
/// original path, ID) so that the same case always gives the same bag.
pub fn place_artefacts(artefacts: &[StoredManifest]) -> Vec<Placed> {
    let mut order: Vec<usize> = (0..artefacts.len()).collect();
    order.sort_by_key(|&i| sort_key(&artefacts[i].manifest));
    let mut paths = BagPaths::new();
    let mut roots = BTreeMap::new();
    order
        .into_iter()
        .map(|index| {
            let m = &artefacts[index].manifest;
            let root = roots
                .entry(m.exhibit.clone())
                .or_insert_with(|| paths.unique_dir("data", &m.exhibit.as_str().replace('/', "-")))
                .clone();
            Placed { index, bag_path: place_one(&mut paths, &root, m) }
        })
        .collect()
}

fn sort_key(m: &ArtefactManifest) -> (String, u8, Vec<u8>, String) {
    let kind = match m.kind {
        ArtefactKind::Original => 0,
        ArtefactKind::Extracted => 1,
        ArtefactKind::Derivative => 2,
    };
    (m.exhibit.as_str().to_owned(), kind, original_path(m), m.id.to_string())
}

/// The path an artefact had in the evidence, as raw bytes (an alternate
/// data stream as `path:stream`); empty for derivatives.
pub fn original_path(m: &ArtefactManifest) -> Vec<u8> {
    if let Some(source) = &m.source {
        return source.path.to_bytes();
    }
    if let Some(inside) = &m.inside {
        let mut path = inside.path.to_bytes();
        if let Some(stream) = &inside.stream {
            path.push(b':');
            path.extend_from_slice(&stream.to_bytes());
        }
        return path;
    }
    Vec::new()
}

/// The components of a path inside a volume as manifests record it:
/// `/`-separated, with `\/` and `\\` standing for a `/` or `\` inside a
/// component.
pub fn inside_components(recorded: &[u8]) -> Vec<Vec<u8>> {
    let mut parts = vec![Vec::new()];
    let mut bytes = recorded.iter();
    while let Some(&b) = bytes.next() {
        match b {
            b'\\' => parts.last_mut().into_iter().for_each(|p| p.push(*bytes.next().unwrap_or(&b'\\'))),
            b'/' => parts.push(Vec::new()),
            _ => parts.last_mut().into_iter().for_each(|p| p.push(b)),
        }
    }
    parts.retain(|p| !p.is_empty());
    parts
}

fn place_one(paths: &mut BagPaths, root: &str, m: &ArtefactManifest) -> String {
    let parent = m.parent.as_ref().map(|p| p.id.to_string()).unwrap_or_else(|| "unknown".to_owned());
    match (&m.source, &m.inside, &m.derivation) {
        (Some(source), _, _) => {
            let raw = source.path.to_bytes();
            let mut parts: Vec<&[u8]> = vec![b"originals"];
            parts.extend(raw.split(|b| *b == b'/'));
            paths.file(root, &parts)
        }
        (None, Some(inside), _) => {
            let components = inside_components(&original_path(m));
            let volume = format!("vol-{}", inside.volume.offset);
            let mut parts: Vec<&[u8]> = vec![b"inside", parent.as_bytes()];
            if !inside.allocated {
                parts.push(b"deleted");
            }
            parts.push(volume.as_bytes());
            parts.extend(components.iter().map(Vec::as_slice));
            paths.file(root, &parts)
        }
        (None, None, derivation) => {
            let rule = derivation.as_ref().map_or("derived", |d| d.rule.as_str());
            let leaf = match &m.media_type.extension {
                Some(ext) => format!("{rule}-{}.{ext}", m.id),
                None => format!("{rule}-{}", m.id),
            };
            paths.file(root, &[b"derived", parent.as_bytes(), leaf.as_bytes()])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inside_paths_split_on_unescaped_slashes_only() {
        let parts = inside_components(br"/dir/a\/b\\c/d");
        assert_eq!(parts, vec![b"dir".to_vec(), b"a/b\\c".to_vec(), b"d".to_vec()]);
        assert_eq!(inside_components(b"/"), Vec::<Vec<u8>>::new());
        assert_eq!(inside_components(b"/x\\"), vec![b"x\\".to_vec()]);
    }
}
