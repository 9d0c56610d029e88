//! Reading an item manifest for `exhibit ingest --manifest`: the rows are
//! parsed by [`exhibit_app::item_manifest`] (shared with the HTTP API's
//! bulk submissions), with `path` as the source column. Every row is
//! checked on its own, so a bad row is reported by its line (CSV) or
//! position (JSON) and the others go ahead.
//!
//! Paths: a row's `path` is relative to the manifest's folder and must stay
//! inside it. Absolute paths, `..` components and symlinks (in the path or
//! as the path) that lead outside are refused, so a manifest received from
//! elsewhere cannot pull host files (keys, other cases) into a case.

use std::path::{Component, Path, PathBuf};

use anyhow::Context as _;
use exhibit_app::item_manifest::{self, MANIFEST_LIMIT, ManifestFormat, ManifestRow, SourceColumns};
use exhibit_core::ids::{CaseId, ExhibitRef};
use exhibit_core::item::ItemRecord;

pub use exhibit_app::item_manifest::BadRow;

/// The CLI's source column: a path beside the manifest.
const PATH_COLUMN: SourceColumns = SourceColumns { names: &["path"], one_required: true };

/// One good row.
#[derive(Debug, Clone)]
pub struct Row {
    /// Where it is: `line 4` (CSV) or `item 3` (JSON).
    pub place: String,
    pub exhibit: ExhibitRef,
    /// The case the row names (`case` column), if it names one.
    pub case: Option<CaseId>,
    /// The path to ingest: the manifest's folder joined with the row's path.
    pub path: PathBuf,
    pub item: ItemRecord,
    /// Columns whose cell was `(clear)`: a previous value is removed.
    pub cleared: Vec<&'static str>,
    /// The item columns' cells as written, to pass on unchanged.
    pub item_cells: Vec<(&'static str, String)>,
}

/// Reads a manifest for `ingest`: its SHA-256, and every row, good or
/// bad, in order; a second row for an exhibit is a bad row.
pub fn read(manifest: &Path) -> anyhow::Result<(exhibit_core::Sha256Digest, Vec<Result<Row, BadRow>>)> {
    read_rows(manifest, true)
}

/// Reads a manifest for `submit`, whose rows each name one file: several
/// rows may name one exhibit.
pub fn read_for_submit(manifest: &Path) -> anyhow::Result<(exhibit_core::Sha256Digest, Vec<Result<Row, BadRow>>)> {
    read_rows(manifest, false)
}

fn read_rows(
    manifest: &Path,
    one_row_per_exhibit: bool,
) -> anyhow::Result<(exhibit_core::Sha256Digest, Vec<Result<Row, BadRow>>)> {
    let file = exhibit_core::regular_file::open_regular(manifest)
        .with_context(|| format!("cannot open the manifest {}", manifest.display()))?;
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut std::io::Read::take(file, MANIFEST_LIMIT + 1), &mut bytes)
        .with_context(|| format!("cannot read the manifest {}", manifest.display()))?;
    // Rows are joined to the folder as given (so recorded paths read as
    // the operator wrote them) and checked against its resolved form.
    let folder = manifest.parent().unwrap_or(Path::new(""));
    let resolvable = if folder.as_os_str().is_empty() { Path::new(".") } else { folder };
    let inside = resolvable.canonicalize().with_context(|| format!("cannot resolve {}", resolvable.display()))?;
    let format = if manifest.extension().is_some_and(|e| e.eq_ignore_ascii_case("json")) {
        ManifestFormat::Json
    } else {
        ManifestFormat::Csv
    };
    let rows = item_manifest::parse(&bytes, format, PATH_COLUMN, one_row_per_exhibit)
        .with_context(|| format!("the manifest {}", manifest.display()))?
        .into_iter()
        .map(|row| with_path(row?, folder, &inside))
        .collect();
    Ok((exhibit_core::Sha256Digest::of(&bytes), rows))
}

fn with_path(row: ManifestRow, folder: &Path, inside: &Path) -> Result<Row, BadRow> {
    let given = row.sources.get("path").map_or("", String::as_str);
    let path = row_path(given, folder, inside).map_err(|reason| BadRow {
        place: row.place.clone(),
        exhibit: Some(row.exhibit.to_string()),
        reason,
    })?;
    Ok(Row {
        place: row.place,
        exhibit: row.exhibit,
        case: row.case,
        path,
        item: row.item,
        cleared: row.cleared,
        item_cells: row.item_cells,
    })
}

/// The row's path under the manifest's folder, if it stays inside.
fn row_path(given: &str, folder: &Path, inside: &Path) -> Result<PathBuf, String> {
    let shown = given.escape_debug().to_string();
    let relative = Path::new(given);
    if given.is_empty() {
        return Err("path: empty; give the file or folder, relative to the manifest's folder".into());
    }
    if given.contains('\0') || !relative.components().all(|c| matches!(c, Component::Normal(_) | Component::CurDir)) {
        return Err(format!("path {shown:?}: give a path relative to the manifest's folder, without `..`"));
    }
    // `a/./b`, `a//b` and `a/b` are one path: record it once, one way.
    let normal: PathBuf = relative.components().filter(|c| matches!(c, Component::Normal(_))).collect();
    let joined = if normal.as_os_str().is_empty() { folder.to_path_buf() } else { folder.join(normal) };
    let joined = if joined.as_os_str().is_empty() { PathBuf::from(".") } else { joined };
    let resolved = joined.canonicalize().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => format!("path {shown:?} does not exist beside the manifest"),
        _ => format!("path {shown:?} cannot be read: {e}"),
    })?;
    if !resolved.starts_with(inside) {
        return Err(format!(
            "path {shown:?} leads outside the manifest's folder (through a symlink); copy the item in, or move the manifest"
        ));
    }
    Ok(joined)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &[u8] = b"exhibit,path,description,pages,ocr\nJS/1,a,\"x, y\",3,on\nSB 1,a,\"multi\nline\",,off\n";

    /// Every single-byte change of a manifest, and every cut of it, reads
    /// as rows or as a header error: never a panic, and a row that names
    /// the folder itself or outside it is never good.
    #[test]
    fn mutated_manifests_never_panic() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("a")).unwrap();
        let manifest = dir.path().join("m.csv");
        let mut seen_rows = 0;
        for i in 0..SAMPLE.len() {
            for byte in [b'"', b',', b'\n', b'/', b'.', 0xff, 0x00, 0x1b] {
                let mut bytes = SAMPLE.to_vec();
                bytes[i] = byte;
                for body in [bytes.clone(), SAMPLE[..i].to_vec()] {
                    std::fs::write(&manifest, &body).unwrap();
                    if let Ok((_, rows)) = read(&manifest) {
                        for row in rows.into_iter().flatten() {
                            seen_rows += 1;
                            let resolved = row.path.canonicalize().unwrap();
                            assert!(resolved.starts_with(dir.path().canonicalize().unwrap()), "{row:?}");
                        }
                    }
                }
            }
        }
        assert!(seen_rows > 100, "{seen_rows}");
        std::fs::write(dir.path().join("m.json"), b"[{\"exhibit\": [1], \"path\": {}}, 7, null]").unwrap();
        let (_, rows) = read(&dir.path().join("m.json")).unwrap();
        assert!(rows.iter().all(Result::is_err));
    }
}
