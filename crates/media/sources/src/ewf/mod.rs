//! EWF-E01 (EnCase 1–7, libewf, FTK) images: segment discovery, section
//! parsing, and chunk reads that verify every chunk's checksum.
//!
//! Hand-written rather than the `ewf` crate: that crate keeps chunk
//! locations private and never checks the Adler-32 stored after an
//! uncompressed chunk, and its allocations follow its own constants rather
//! than [`Limits`].

mod chunk;
mod header;
mod placement;
mod segment;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use exhibit_media_core::{FileAt, Limits, MediaError, MediaErrorKind, ReadAt};

use crate::lru::Lru;
pub use chunk::EwfVerification;
pub use header::EwfMetadata;
pub use segment::EVF_SIGNATURE;
use segment::{SegmentScan, TableRef, Volume};

/// Segment numbers run `E01..E99`, then `EAA..ZZZ`.
const MAX_SEGMENTS: u16 = 14_971;
const CHUNK_CACHE: usize = 8;
const TABLE_CACHE: usize = 4;

/// What a section parser needs to check sizes and name the file.
pub(crate) struct ParseCtx<'a> {
    pub limits: &'a Limits,
    pub name: &'a str,
}

/// A segment file's name and bytes, as given.
type NamedSegment = (String, Arc<dyn ReadAt>);

/// One segment file of a set.
struct Segment {
    name: String,
    data: Arc<dyn ReadAt>,
}

/// An opened EWF image: the acquired media as a [`ReadAt`], with the hashes
/// and case details the imaging tool stored. Every chunk read is checked.
pub struct EwfImage {
    segments: Vec<Segment>,
    tables: Vec<TableRef>,
    first_chunk: Vec<u64>,
    chunk_size: u64,
    media_size: u64,
    /// Bytes of media the reader spans: `media_size`, unless the set lost
    /// its end (then what its first segments hold).
    available: u64,
    /// Media bytes `[from, to)` that a missing segment held: read as zeros,
    /// recorded as missing.
    hole: Option<(u64, u64)>,
    truncation: Option<String>,
    bytes_per_sector: u32,
    md5: Option<[u8; 16]>,
    sha1: Option<[u8; 20]>,
    metadata: EwfMetadata,
    limits: Limits,
    chunks: Mutex<Lru<[u8]>>,
    table_cache: Mutex<Lru<[u32]>>,
}

/// Opens an EWF set from its first segment; `.E02`, `.E03`... are looked
/// for beside it as the sections ask for them.
pub fn open_ewf(first_segment: &Path, limits: &Limits) -> Result<EwfImage, MediaError> {
    let _span = tracing::info_span!("open_ewf", path = %first_segment.display()).entered();
    let mut open = |number: u16| -> Result<(String, Arc<dyn ReadAt>), MediaError> {
        let path = if number == 1 { Some(first_segment.to_path_buf()) } else { segment_path(first_segment, number) };
        let Some(path) = path else {
            return Err(MediaError::unsupported(format!(
                "EWF segment {number} is needed, but {} has no extension like .E01 to derive its name from",
                first_segment.display()
            )));
        };
        let file = FileAt::open(&path).map_err(|e| {
            let context = format!("EWF segment {number} is missing or unreadable: expected {}", path.display());
            match e.kind() {
                std::io::ErrorKind::NotFound => MediaError::corrupt(format!("{context}: {e}")),
                _ => MediaError::io(context, e),
            }
        })?;
        Ok((path.display().to_string(), Arc::new(file)))
    };
    EwfImage::open_with(&mut open, limits, last_beside(first_segment))
}

/// The highest segment number found beside `first`, looking on while
/// fewer than 16 numbers in a row are absent (a set missing segments in
/// the middle still has its later ones found).
fn last_beside(first: &Path) -> u16 {
    let (mut last, mut absent) = (1u16, 0u16);
    for number in 2..=MAX_SEGMENTS {
        match segment_path(first, number) {
            Some(p) if p.exists() => (last, absent) = (number, 0),
            Some(_) if absent < 16 => absent += 1,
            _ => break,
        }
    }
    last
}

/// The file name of segment `number` of the set whose first segment is
/// `first` (`x.E01` → `x.E02`, ..., `x.E99`, `x.EAA`, ...; case kept).
pub fn segment_path(first: &Path, number: u16) -> Option<PathBuf> {
    let letter = *first.extension()?.as_encoded_bytes().first()?;
    if !letter.is_ascii_alphabetic() || number == 0 {
        return None;
    }
    let ext = if number < 100 {
        format!("{}{number:02}", char::from(letter))
    } else {
        let (a, i) = (if letter.is_ascii_lowercase() { b'a' } else { b'A' }, u32::from(number) - 100);
        let lead = u32::from(letter) + i / 676;
        if lead > u32::from(a) + 25 {
            return None;
        }
        let [b, c] = [(i / 26) % 26, i % 26].map(|d| char::from(a + d as u8));
        format!("{}{b}{c}", char::from_u32(lead)?)
    };
    Some(first.with_extension(ext))
}

impl EwfImage {
    /// Opens a set from segments already at hand (stored objects, memory),
    /// in order, first segment first. Each segment's number is read from
    /// its own header, so a set given without a middle segment is known to
    /// lack it.
    pub fn from_segments(segments: Vec<(String, Arc<dyn ReadAt>)>, limits: &Limits) -> Result<Self, MediaError> {
        let _span = tracing::info_span!("ewf_from_segments", count = segments.len()).entered();
        let given = segments.len();
        let numbered: Vec<(u16, NamedSegment)> = segments
            .into_iter()
            .enumerate()
            .map(|(i, (name, data))| {
                let ctx = ParseCtx { limits, name: &name };
                let fallback = u16::try_from(i + 1).unwrap_or(u16::MAX);
                (segment::segment_number(data.as_ref(), &ctx).unwrap_or(fallback), (name, data))
            })
            .collect();
        let last_known = numbered.iter().map(|(n, _)| *n).max().unwrap_or(1);
        let first = numbered.first().map(|(_, (name, _))| PathBuf::from(name));
        let mut open = |number: u16| {
            let found = numbered.iter().find(|(n, _)| *n == number).map(|(_, seg)| seg.clone());
            found.ok_or_else(|| {
                let name = first.as_deref().and_then(|f| segment_path(f, number));
                let name = name.map_or_else(String::new, |p| format!(" ({})", p.display()));
                MediaError::corrupt(format!("EWF segment {number}{name} is missing: only {given} were given"))
            })
        };
        Self::open_with(&mut open, limits, last_known)
    }

    fn open_with(
        open: &mut dyn FnMut(u16) -> Result<(String, Arc<dyn ReadAt>), MediaError>,
        limits: &Limits,
        last_known: u16,
    ) -> Result<Self, MediaError> {
        let mut segments = Vec::new();
        let mut all = SegmentScan::default();
        let mut runs = placement::Runs::default();
        let mut after_gap = true;
        for number in 1..=MAX_SEGMENTS {
            let (name, data, scan) = match open_segment(open, number, segments.len(), limits) {
                Ok(found) => found,
                // A later segment that is missing or cut short leaves its
                // media missing; the segments around it still hold theirs.
                Err(e) if number > 1 && all.volume.is_some() && e.kind == MediaErrorKind::Corrupt => {
                    tracing::warn!(segment = number, error = %e, "EWF set is truncated: a segment is missing or cut");
                    runs.missing.push((number, e.to_string()));
                    if number >= last_known {
                        return Self::assemble(segments, all, &runs, limits, false);
                    }
                    after_gap = true;
                    continue;
                }
                Err(e) => return Err(e),
            };
            tracing::debug!(segment = %name, tables = scan.tables.len(), "EWF segment scanned");
            if after_gap {
                runs.starts.push(all.tables.len());
                runs.names.push(Vec::new());
                after_gap = false;
            }
            if let Some(names) = runs.names.last_mut() {
                names.push(name.clone());
            }
            segments.push(Segment { name, data });
            let last = scan.last;
            merge(&mut all, scan);
            if last {
                return Self::assemble(segments, all, &runs, limits, true);
            }
        }
        Err(MediaError::limit(format!("EWF set has more than {MAX_SEGMENTS} segments")))
    }

    fn assemble(
        segments: Vec<Segment>,
        mut all: SegmentScan,
        runs: &placement::Runs,
        limits: &Limits,
        complete_tail: bool,
    ) -> Result<Self, MediaError> {
        let first = segments.first().map_or("", |s| s.name.as_str());
        let vol = all.volume.ok_or_else(|| MediaError::corrupt(format!("EWF set {first} has no volume section")))?;
        let (chunk_size, media_size) = geometry(&vol, first)?;
        limits.check_alloc(chunk_size, "EWF chunk size")?;
        let needed = media_size.div_ceil(chunk_size);
        let placed = placement::place(std::mem::take(&mut all.tables), runs, needed, complete_tail);
        let total: u64 = placed.tables.iter().map(|t| u64::from(t.count)).sum();
        if total < needed && placed.note.is_none() {
            return Err(MediaError::corrupt(format!(
                "EWF set {first}: tables list {total} chunks, but the volume section's {media_size} bytes need {needed}"
            )));
        }
        let bytes = |chunks: u64| chunks.saturating_mul(chunk_size).min(media_size);
        let hole = placed.hole.map(|(from, to)| (bytes(from), bytes(to))).filter(|(from, to)| from < to);
        let available = if placed.hole.is_some() { media_size } else { bytes(placed.prefix_chunks) };
        let metadata = EwfMetadata::parse(all.header2.as_deref(), all.header.as_deref());
        Ok(Self {
            segments,
            tables: placed.tables,
            first_chunk: placed.first_chunk,
            chunk_size,
            media_size,
            available,
            hole,
            truncation: placed.note,
            bytes_per_sector: vol.bytes_per_sector,
            md5: all.md5,
            sha1: all.sha1,
            metadata,
            limits: *limits,
            chunks: Mutex::new(Lru::new(CHUNK_CACHE)),
            table_cache: Mutex::new(Lru::new(TABLE_CACHE)),
        })
    }

    /// The MD5 of the media stored in the `hash` or `digest` section.
    pub fn stored_md5(&self) -> Option<[u8; 16]> {
        self.md5
    }

    /// The SHA-1 of the media stored in the `digest` section.
    pub fn stored_sha1(&self) -> Option<[u8; 20]> {
        self.sha1
    }

    /// Case and acquisition details from `header`/`header2`.
    pub fn metadata(&self) -> &EwfMetadata {
        &self.metadata
    }

    /// Bytes per sector of the acquired media.
    pub fn bytes_per_sector(&self) -> u32 {
        self.bytes_per_sector
    }

    /// Bytes of media per chunk.
    pub fn chunk_size(&self) -> u64 {
        self.chunk_size
    }

    /// Number of chunks holding the media that the set still has.
    pub fn chunk_count(&self) -> u64 {
        self.available.div_ceil(self.chunk_size)
    }

    /// Bytes of media the set declares (its volume section), which is what
    /// was acquired; [`ReadAt::size`] is what the segments at hand hold.
    pub fn declared_size(&self) -> u64 {
        self.media_size
    }

    /// Why the set holds less media than it declares (a missing or cut
    /// segment), or `None` for a whole set.
    pub fn truncation(&self) -> Option<&str> {
        self.truncation.as_deref()
    }

    /// Media ranges `[start, end)` that a missing segment held: they read
    /// as zeros and are recorded as missing (past [`ReadAt::size`], a set
    /// that lost its end is missing the rest too).
    pub fn missing_ranges(&self) -> Vec<[u64; 2]> {
        self.hole.map(|(from, to)| vec![[from, to]]).unwrap_or_default()
    }

    /// Bytes of media the surviving segments hold.
    pub fn held(&self) -> u64 {
        self.available - self.hole.map_or(0, |(from, to)| to - from)
    }

    /// Whether media byte `pos` lies in the hole a missing segment left;
    /// the hole's end if so.
    pub(crate) fn hole_end(&self, pos: u64) -> Option<u64> {
        self.hole.filter(|&(from, to)| from <= pos && pos < to).map(|(_, to)| to)
    }

    /// How many segments were opened whole (a cut segment is not counted).
    pub fn segment_count(&self) -> usize {
        self.segments.len()
    }

    /// Names of the segment files, in order.
    pub fn segment_names(&self) -> Vec<String> {
        self.segments.iter().map(|s| s.name.clone()).collect()
    }
}

/// A failed read of EWF structures: running off the end of a segment means
/// the file is truncated (`Corrupt`); anything else is an I/O failure.
pub(crate) fn read_failed(context: impl std::fmt::Display, e: std::io::Error) -> MediaError {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        MediaError::corrupt(format!("{context}: the segment is truncated ({e})"))
    } else {
        MediaError::io(context, e)
    }
}

/// Opens segment `number` and scans its sections.
fn open_segment(
    open: &mut dyn FnMut(u16) -> Result<(String, Arc<dyn ReadAt>), MediaError>,
    number: u16,
    index: usize,
    limits: &Limits,
) -> Result<(String, Arc<dyn ReadAt>, SegmentScan), MediaError> {
    let (name, data) = open(number)?;
    let ctx = ParseCtx { limits, name: &name };
    let found = segment::segment_number(data.as_ref(), &ctx)?;
    if found != number {
        return Err(MediaError::corrupt(format!("{name} says it is EWF segment {found}, expected {number}")));
    }
    let scan = segment::scan(data.as_ref(), index, &ctx)?;
    Ok((name, data, scan))
}

fn merge(all: &mut SegmentScan, scan: SegmentScan) {
    all.volume = all.volume.or(scan.volume);
    all.header = all.header.take().or(scan.header);
    all.header2 = all.header2.take().or(scan.header2);
    all.md5 = scan.md5.or(all.md5);
    all.sha1 = scan.sha1.or(all.sha1);
    all.tables.extend(scan.tables);
}

fn geometry(vol: &Volume, name: &str) -> Result<(u64, u64), MediaError> {
    let bps = u64::from(vol.bytes_per_sector);
    let chunk = bps.checked_mul(u64::from(vol.sectors_per_chunk)).filter(|&c| c > 0);
    let media = bps.checked_mul(vol.sector_count);
    match (chunk, media) {
        (Some(chunk), Some(media)) => {
            if u64::from(vol.chunk_count) != media.div_ceil(chunk) {
                tracing::warn!(name, chunk_count = vol.chunk_count, "EWF volume chunk count disagrees with its size");
            }
            Ok((chunk, media))
        }
        _ => Err(MediaError::corrupt(format!(
            "EWF volume section of {name}: {} bytes per sector x {} sectors per chunk x {} sectors is not a valid geometry",
            vol.bytes_per_sector, vol.sectors_per_chunk, vol.sector_count
        ))),
    }
}
