//! bin/cue disc images: the cue sheet maps tracks onto one or more binary
//! files; data tracks read as 2048-byte sectors (for ISO 9660), audio
//! tracks stream as WAV.

mod sheet;
mod view;

use std::ffi::OsStr;
use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use exhibit_media_core::{FileAt, Limits, MediaError, ReadAt};
use serde::{Deserialize, Serialize};

use exhibit_core::view::CdSectorsAt;
use sheet::SheetFile;
pub(crate) use sheet::parse_sheet;
pub use sheet::{MAX_CUE_BYTES, TrackMode};
use view::wav_stream;

/// One track, resolved against its file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CueTrack {
    /// Track number, 1–99.
    pub number: u8,
    /// How its sectors are stored.
    pub mode: TrackMode,
    /// The binary file holding it.
    pub file: PathBuf,
    /// Byte offset of `INDEX 01` in that file.
    pub file_offset: u64,
    /// Disc address (LBA) of `INDEX 01`, counting earlier files and `PREGAP`s.
    pub start: u64,
    /// Sectors from `INDEX 01` to the next track's first index or the file's end.
    pub length: u64,
    /// Pregap sectors: `INDEX 00` to `INDEX 01` in the file, plus `PREGAP`.
    pub pregap: u64,
}

/// An opened cue sheet and its binary files.
pub struct CueImage {
    tracks: Vec<CueTrack>,
    files: Vec<Arc<dyn ReadAt>>,
    track_file: Vec<usize>,
    /// Tracks the `.bin` files are too short for, as the sheet places them.
    cut: Vec<String>,
}

/// Opens a cue sheet; `FILE` names are resolved relative to its folder.
pub fn open_cue(cue_path: &Path, limits: &Limits) -> Result<CueImage, MediaError> {
    let _span = tracing::info_span!("open_cue", path = %cue_path.display()).entered();
    let io = |e| MediaError::io(format!("cue sheet {}", cue_path.display()), e);
    let len = std::fs::metadata(cue_path).map_err(io)?.len();
    limits.check_alloc(len.min(MAX_CUE_BYTES + 1), "cue sheet")?;
    let mut text = Vec::new();
    std::fs::File::open(cue_path).map_err(io)?.take(MAX_CUE_BYTES + 1).read_to_end(&mut text).map_err(io)?;
    let folder = cue_path.parent().unwrap_or(Path::new("."));
    open_cue_with(&text, |name| {
        let path = folder.join(OsStr::from_bytes(name));
        let data = FileAt::open(&path).map_err(|e| MediaError::io(format!("cue FILE {}", path.display()), e))?;
        Ok((path, Arc::new(data) as Arc<dyn ReadAt>))
    })
}

/// The names (raw bytes, as the sheet writes them) of the `BINARY` files
/// that hold the tracks of the cue sheet `text`; none when it does not parse.
pub fn cue_binary_files(text: &[u8]) -> Vec<Vec<u8>> {
    let sheet = parse_sheet(text).unwrap_or_default();
    sheet.into_iter().filter(|f| !f.tracks.is_empty() && f.kind == "BINARY").map(|f| f.name).collect()
}

/// Opens a cue sheet from its text (at most [`MAX_CUE_BYTES`]), asking
/// `open_file` for each `FILE` it names (raw name bytes, as written in the
/// sheet): the path to show for it and its bytes. Lets a caller serve the
/// `.bin` files from anywhere (a store's ranged reads) without a folder.
pub fn open_cue_with(
    text: &[u8],
    mut open_file: impl FnMut(&[u8]) -> Result<(PathBuf, Arc<dyn ReadAt>), MediaError>,
) -> Result<CueImage, MediaError> {
    let sheet = parse_sheet(text)?;
    let mut image = CueImage { tracks: Vec::new(), files: Vec::new(), track_file: Vec::new(), cut: Vec::new() };
    let mut lba = 0u64;
    for file in sheet.iter().filter(|f| !f.tracks.is_empty()) {
        if file.kind != "BINARY" {
            return Err(MediaError::unsupported(format!("cue FILE type {:?}: only BINARY is read", file.kind)));
        }
        let (path, data) = open_file(&file.name)?;
        lba = image.add_file(file, path, data, lba)?;
    }
    Ok(image)
}

impl CueImage {
    /// Adds one file's tracks; returns the disc address after the file.
    fn add_file(
        &mut self,
        file: &SheetFile,
        path: PathBuf,
        data: Arc<dyn ReadAt>,
        mut lba: u64,
    ) -> Result<u64, MediaError> {
        let file_len = data.size();
        let bad = |n: u8, what: &str| MediaError::corrupt(format!("cue TRACK {n:02} in {}: {what}", path.display()));
        // Track k begins at its first index; sector sizes may change there.
        let mut begin_byte = 0u64;
        let mut begin_frame = 0u64;
        let mut prev_size = file.tracks.first().map_or(2352, |t| t.mode.sector_size());
        let mut starts = Vec::new();
        for t in &file.tracks {
            let index1 = t.index1.ok_or_else(|| bad(t.number, "no INDEX 01"))?;
            let first = t.index0.unwrap_or(index1);
            let byte = (first.checked_sub(begin_frame))
                .and_then(|d| d.checked_mul(prev_size))
                .and_then(|d| d.checked_add(begin_byte))
                .filter(|_| first <= index1)
                .ok_or_else(|| bad(t.number, "indexes go backwards"))?;
            let offset = byte.saturating_add((index1 - first).saturating_mul(t.mode.sector_size()));
            starts.push((byte, offset));
            (begin_byte, begin_frame, prev_size) = (byte, first, t.mode.sector_size());
        }
        for (k, t) in file.tracks.iter().enumerate() {
            let (_, offset) = starts.get(k).copied().unwrap_or_default();
            let declared_end = starts.get(k + 1).map_or(file_len, |s| s.0);
            let end = declared_end.min(file_len);
            // A `.bin` shorter than the sheet says is truncated evidence:
            // the track keeps what the file holds, and the cut is recorded.
            if declared_end > file_len || offset > file_len {
                self.cut.push(format!(
                    "TRACK {:02} of {} ends at byte {declared_end} by the cue sheet; the file holds {file_len}",
                    t.number,
                    path.display()
                ));
            }
            let length = end.saturating_sub(offset);
            let in_file_gap = t.index1.unwrap_or(0) - t.index0.unwrap_or(t.index1.unwrap_or(0));
            lba = lba.saturating_add(t.pregap).saturating_add(in_file_gap);
            let sectors = length / t.mode.sector_size();
            self.tracks.push(CueTrack {
                number: t.number,
                mode: t.mode,
                file: path.clone(),
                file_offset: offset,
                start: lba,
                length: sectors,
                pregap: t.pregap + in_file_gap,
            });
            self.track_file.push(self.files.len());
            lba = lba.saturating_add(sectors);
        }
        self.files.push(data);
        Ok(lba)
    }

    /// The tracks, in order.
    pub fn tracks(&self) -> &[CueTrack] {
        &self.tracks
    }

    /// Why the `.bin` files hold less than the sheet places in them, or
    /// `None` when every track is whole.
    pub fn truncation(&self) -> Option<String> {
        (!self.cut.is_empty()).then(|| self.cut.join("; "))
    }

    fn find(&self, number: u8) -> Result<(&CueTrack, Arc<dyn ReadAt>), MediaError> {
        let at = self.tracks.iter().position(|t| t.number == number);
        let file = at.and_then(|i| self.track_file.get(i)).and_then(|&f| self.files.get(f));
        match (at.and_then(|i| self.tracks.get(i)), file) {
            (Some(t), Some(f)) => Ok((t, f.clone())),
            _ => Err(MediaError::not_recognised(format!("the cue sheet has no track {number}"))),
        }
    }

    /// A data track's 2048-byte user data as one medium (e.g. for ISO 9660).
    pub fn data_track_view(&self, number: u8) -> Result<Arc<dyn ReadAt>, MediaError> {
        let (track, file) = self.find(number)?;
        let user = track
            .mode
            .user_data_offset()
            .ok_or_else(|| MediaError::unsupported(format!("track {number} is audio; read it with audio_track_wav")))?;
        Ok(Arc::new(CdSectorsAt::new(file, track.file_offset, track.mode.sector_size(), user, track.length)))
    }

    /// An audio track as a WAV stream (44.1 kHz, 16-bit, stereo PCM).
    pub fn audio_track_wav(&self, number: u8) -> Result<impl Read + Send + use<>, MediaError> {
        let (track, file) = self.find(number)?;
        if track.mode != TrackMode::Audio {
            return Err(MediaError::unsupported(format!("track {number} is data; read it with data_track_view")));
        }
        wav_stream(file, track)
    }
}
