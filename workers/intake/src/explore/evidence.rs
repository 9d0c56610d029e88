//! Facts about the evidence that explore records instead of failing on:
//! sparse runs, media cut short, and damaged records; and the expansion
//! budget, measured against the media the container declares.

use std::collections::HashMap;

use exhibit_media::{ContentMap, DataLayout, ExtentClaims, FileSystem, FsEntry, Limits, ReadAt, content_map};
use exhibit_pipeline::StageContext;
use serde_json::json;

use super::extract::readable_bytes;

/// Flag on an extracted file some of whose bytes lie past the end of a
/// truncated medium (recorded as `missing` ranges, read as zeros).
pub const FLAG_TRUNCATED: &str = "truncated";
/// Flag on an extracted file with sparse runs (recorded as `sparse` ranges).
pub const FLAG_SPARSE: &str = "sparse";

/// Bytes the files of one image may make explore read, as a multiple of
/// the media it holds. Sparse runs cost nothing; they are zeros by the file
/// system's own account and never read from the medium. A hard link (an
/// extent list identical to one already admitted on the volume) is a view
/// of bytes already hashed, so it costs nothing; see [`ExtentClaims`].
#[derive(Debug)]
pub struct Budget {
    base: u64,
    ratio: u64,
    used: u64,
    /// Sparse bytes the image's files may have together
    /// (`limits.max_sparse_bytes`).
    max_sparse: u64,
    /// Sparse bytes of the files admitted so far.
    sparse_used: u64,
    /// Per volume of the image.
    claims: HashMap<u32, ExtentClaims>,
}

impl Budget {
    /// A budget for an image of `image_size` stored bytes whose container
    /// declares `declared_media` bytes of media (an E01's media size; the
    /// largest wins, so a well-compressed E01 is measured by its disk).
    pub fn new(limits: &Limits, image_size: u64, declared_media: &[u64]) -> Self {
        let base = declared_media.iter().copied().fold(image_size, u64::max).max(1 << 20);
        Self {
            base,
            ratio: limits.max_expansion_ratio,
            used: 0,
            max_sparse: limits.max_sparse_bytes,
            sparse_used: 0,
            claims: HashMap::new(),
        }
    }

    /// Widens the base to a volume's declared size: a truncated volume's
    /// files are measured by the volume it was, and their missing runs
    /// (stored as zeros) fit that measure.
    pub fn widen(&mut self, declared_volume: Option<u64>) {
        self.base = self.base.max(declared_volume.unwrap_or(0));
    }

    /// Takes `map`'s share of `entry` (`logical` bytes, on volume number
    /// `volume` of `volume_size` bytes) from the budget, or says why the
    /// file is refused. A refused file leaves the budget as it was.
    pub fn admit(
        &mut self,
        (volume, volume_size): (u32, u64),
        entry: &FsEntry,
        logical: u64,
        map: &ContentMap,
    ) -> Result<(), String> {
        let cap = self.ratio.saturating_mul(self.base);
        let runs = match &entry.data {
            DataLayout::Extents(runs) => runs.as_slice(),
            _ => &[],
        };
        let claims = self.claims.entry(volume).or_default();
        let readable = ExtentClaims::readable(runs, volume_size);
        let shared = readable.saturating_sub(claims.cost(runs, volume_size));
        // Sparse runs cost no reads and nothing against the ratio, but every
        // digest still runs over them as zeros: they have a limit of their own.
        let counted = logical.saturating_sub(map.sparse_bytes()).saturating_sub(shared);
        let sparse_used = self.sparse_used.saturating_add(map.sparse_bytes());
        if sparse_used > self.max_sparse {
            return Err(format!(
                "it declares {logical} bytes, {} of them sparse, which with the sparse runs of the files before it \
                 in this image is more than limits.max_sparse_bytes ({}). Sparse runs are never read or stored, \
                 but hashing them as zeros is work; not extracted",
                map.sparse_bytes(),
                self.max_sparse
            ));
        }
        let used = self.used.saturating_add(counted);
        if used > cap {
            return Err(format!(
                "the files of this image claim more than {}x its {} bytes of media (limits.max_expansion_ratio): \
                 extents that repeat the same data? not extracted",
                self.ratio, self.base
            ));
        }
        self.used = used;
        self.sparse_used = sparse_used;
        claims.admit(runs, volume_size);
        Ok(())
    }
}

/// What the file system says its volume spans, when the medium holds less:
/// `(declared, held)`.
pub fn volume_truncation(fs: &dyn FileSystem) -> Option<(u64, u64)> {
    let held = fs.volume().size();
    fs.declared_size().filter(|&declared| declared > held).map(|declared| (declared, held))
}

/// Where `entry`'s readable bytes do not come from `data`: sparse runs, and
/// runs past the end of a truncated volume. An extent outside the volume
/// the file system declares is a corrupt record. A compressed file's
/// extents are its stored stream: their sparse runs are compression-unit
/// tails, not zeros of the file, so its map is empty; a stream cut by the
/// end of the medium cannot be decoded and fails the record.
pub fn map_content(entry: &FsEntry, data: &dyn ReadAt, fs_declared: Option<u64>) -> Result<ContentMap, String> {
    let held = data.size();
    let Some(stored) = super::view::stored_len(entry) else {
        return content_map(entry, readable_bytes(entry), held, fs_declared.unwrap_or(held))
            .map_err(|e| format!("a corrupt record: {e}"));
    };
    let map =
        content_map(entry, stored, held, fs_declared.unwrap_or(held)).map_err(|e| format!("a corrupt record: {e}"))?;
    if !map.missing.is_empty() {
        return Err("its compressed stream runs past the end of the medium; it cannot be decoded".into());
    }
    Ok(ContentMap::default())
}

/// Media of this image that hold less than they declare, and the files
/// with bytes past their end.
#[derive(Debug, Default)]
pub struct Truncation {
    /// Each medium or volume that is cut, and by how much.
    pub media: Vec<String>,
    /// Files with bytes past the end.
    pub files: Vec<String>,
}

impl Truncation {
    /// The `truncated` fact for the `explored` event, also noted as a
    /// warning for the run's summary; `None` for a whole image.
    pub fn recorded(&self, ctx: &StageContext, image: &str) -> Option<serde_json::Value> {
        if self.media.is_empty() && self.files.is_empty() {
            return None;
        }
        let cut = match self.files.len() {
            0 => "no file is cut short".to_owned(),
            n => format!("{n} file(s) cut short, recorded with their missing ranges: {}", self.files.join(", ")),
        };
        let note = match self.media.is_empty() {
            // The image is whole; a record's data ends short of its size.
            true => format!("records end before the size they declare; {cut}"),
            false => format!("the image is truncated ({}); {cut}", self.media.join("; ")),
        };
        ctx.tally.warn(image, &note);
        Some(json!({"image": image, "media": self.media, "files": self.files}))
    }
}

#[cfg(test)]
mod tests {
    use exhibit_media::{EntryKind, Extent, NamePath};

    use super::*;

    const VOL: (u32, u64) = (0, 8 << 20);

    fn file(size: u64, runs: &[(Option<u64>, u64)]) -> FsEntry {
        let mut e = FsEntry::new(NamePath::root().join(b"f"), EntryKind::File);
        e.size = size;
        let mut at = 0;
        let extents = runs
            .iter()
            .map(|&(volume_offset, len)| {
                at += len;
                Extent { file_offset: at - len, len, volume_offset }
            })
            .collect();
        e.data = DataLayout::Extents(extents);
        e
    }

    #[test]
    fn sparse_runs_are_free_and_repeated_data_is_refused() {
        let limits = Limits { max_expansion_ratio: 4, ..Limits::default() };
        // A 100 KiB E01 declaring 8 MiB of media: measured by the media.
        let mut budget = Budget::new(&limits, 100 << 10, &[8 << 20]);
        let sparse = ContentMap { sparse: vec![[0, 8 << 20]], missing: Vec::new() };
        let hole = file(8 << 20, &[(None, 8 << 20)]);
        for _ in 0..100 {
            budget.admit(VOL, &hole, 8 << 20, &sparse).expect("a volume-long sparse file costs nothing");
        }
        let dense = ContentMap::default();
        // Each file repeats the volume inside itself: no run of it is free.
        let twice = file(16 << 20, &[(Some(0), 8 << 20), (Some(0), 8 << 20)]);
        budget.admit(VOL, &twice, 16 << 20, &dense).expect("half the budget");
        budget.admit(VOL, &twice, 16 << 20, &dense).expect("the rest of it");
        let refused = budget.admit(VOL, &file(1, &[(Some(1), 1)]), 1, &dense).expect_err("over 4x");
        assert!(refused.contains("limits.max_expansion_ratio"), "{refused}");
        // Sparse runs past limits.max_sparse_bytes are refused by that name.
        let capped = Limits { max_sparse_bytes: 16 << 20, ..limits };
        let huge = file(64 << 20, &[(None, 64 << 20)]);
        let map = ContentMap { sparse: vec![[0, 64 << 20]], missing: Vec::new() };
        let refused = Budget::new(&capped, 100 << 10, &[8 << 20]).admit(VOL, &huge, 64 << 20, &map);
        assert!(refused.expect_err("over the sparse limit").contains("limits.max_sparse_bytes (16777216)"));
        // The limit is the image's: files each under it are refused once
        // together they pass it, so many crafted files cannot multiply it.
        let mut together = Budget::new(&capped, 100 << 10, &[8 << 20]);
        let ten = file(10 << 20, &[(None, 10 << 20)]);
        let map_ten = ContentMap { sparse: vec![[0, 10 << 20]], missing: Vec::new() };
        together.admit(VOL, &ten, 10 << 20, &map_ten).expect("10 of 16 MiB");
        let refused = together.admit(VOL, &ten, 10 << 20, &map_ten).expect_err("20 of 16 MiB together");
        assert!(refused.contains("limits.max_sparse_bytes"), "{refused}");
        budget.admit(VOL, &huge, 64 << 20, &map).expect("64 MiB of sparse runs cost nothing against 4x 8 MiB");
        // A truncated volume that declares 16 MiB widens the measure to it.
        budget.widen(Some(16 << 20));
        budget
            .admit(VOL, &file(16 << 20, &[(Some(4096), 16 << 20)]), 16 << 20, &dense)
            .expect("within 4x the declared volume");
    }

    #[test]
    fn hard_links_are_free_but_overlapping_lists_pay() {
        let limits = Limits { max_expansion_ratio: 4, ..Limits::default() };
        let mut budget = Budget::new(&limits, 8 << 20, &[]);
        let dense = ContentMap::default();
        let link = file(6 << 20, &[(Some(0), 6 << 20)]);
        for n in 0..50 {
            budget.admit(VOL, &link, 6 << 20, &dense).unwrap_or_else(|e| panic!("link {n}: {e}"));
        }
        // Lists that differ from it but read the same bytes are no links.
        let shifted = file(6 << 20, &[(Some(4096), 6 << 20)]);
        for _ in 0..4 {
            budget.admit(VOL, &shifted, 6 << 20, &dense).expect("within 32 MiB");
        }
        let over = budget.admit(VOL, &shifted, 6 << 20, &dense);
        assert!(over.expect_err("overlaps pay").contains("limits.max_expansion_ratio"));
        // Another volume of the image shares nothing with this one.
        let other = (1, 8 << 20);
        assert!(budget.admit(other, &link, 6 << 20, &dense).is_err(), "the budget is spent");
    }
}
