//! Cue sheet text: `FILE`, `TRACK`, `INDEX`, `PREGAP` and the descriptive
//! commands. Any other first word means the text is not a cue sheet.

use exhibit_media_core::MediaError;
use serde::{Deserialize, Serialize};

/// Cue sheets are a few kilobytes; this bounds what is read as one.
pub const MAX_CUE_BYTES: u64 = 1 << 20;
const FRAMES_PER_SECOND: u64 = 75;
const IGNORED: &[&str] =
    &["REM", "CATALOG", "CDTEXTFILE", "FLAGS", "ISRC", "PERFORMER", "SONGWRITER", "TITLE", "POSTGAP"];

/// How a track's sectors are stored in its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TrackMode {
    /// CD-DA: 2352 bytes of 16-bit stereo PCM per sector.
    Audio,
    /// `MODE1/2352`: raw sectors, user data at byte 16.
    Mode1Raw,
    /// `MODE1/2048`: user data only.
    Mode1Cooked,
    /// `MODE2/2352`: raw sectors, form 1 user data at byte 24.
    Mode2Raw,
    /// `MODE2/2336`: sectors without sync and header, form 1 data at byte 8.
    Mode2Headerless,
}

impl TrackMode {
    fn parse(word: &str) -> Option<Self> {
        Some(match word.to_ascii_uppercase().as_str() {
            "AUDIO" => Self::Audio,
            "MODE1/2352" => Self::Mode1Raw,
            "MODE1/2048" => Self::Mode1Cooked,
            "MODE2/2352" => Self::Mode2Raw,
            "MODE2/2336" => Self::Mode2Headerless,
            _ => return None,
        })
    }

    /// Bytes per sector in the file.
    pub fn sector_size(self) -> u64 {
        match self {
            Self::Audio | Self::Mode1Raw | Self::Mode2Raw => 2352,
            Self::Mode1Cooked => 2048,
            Self::Mode2Headerless => 2336,
        }
    }

    /// Where the 2048 user bytes start in each sector (`None`: audio).
    pub fn user_data_offset(self) -> Option<u64> {
        match self {
            Self::Audio => None,
            Self::Mode1Raw => Some(16),
            Self::Mode1Cooked => Some(0),
            Self::Mode2Raw => Some(24),
            Self::Mode2Headerless => Some(8),
        }
    }
}

/// A `TRACK` as written in the sheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SheetTrack {
    pub number: u8,
    pub mode: TrackMode,
    pub index0: Option<u64>,
    pub index1: Option<u64>,
    pub pregap: u64,
}

/// A `FILE` and its tracks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SheetFile {
    pub name: Vec<u8>,
    pub kind: String,
    pub tracks: Vec<SheetTrack>,
}

/// Splits a line into words; a double-quoted word may hold spaces.
fn words(line: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    let mut rest = line;
    loop {
        rest = rest.trim_ascii_start();
        match rest.first() {
            None => return Some(out),
            Some(b'"') => {
                let body = rest.get(1..).unwrap_or_default();
                let end = body.iter().position(|&b| b == b'"')?;
                out.push(body.get(..end)?.to_vec());
                rest = body.get(end + 1..).unwrap_or_default();
            }
            Some(_) => {
                let end = rest.iter().position(u8::is_ascii_whitespace).unwrap_or(rest.len());
                out.push(rest.get(..end)?.to_vec());
                rest = rest.get(end..).unwrap_or_default();
            }
        }
    }
}

/// `mm:ss:ff` to frames.
fn msf(word: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(word).ok()?;
    let mut parts = text.split(':').map(|p| p.parse::<u64>().ok());
    let (m, s, f) = (parts.next()??, parts.next()??, parts.next()??);
    (parts.next().is_none() && m < 1000 && s < 60 && f < FRAMES_PER_SECOND)
        .then_some((m * 60 + s) * FRAMES_PER_SECOND + f)
}

fn bad(line: usize, what: &str) -> MediaError {
    MediaError::corrupt(format!("cue sheet line {line}: {what}"))
}

/// Parses cue sheet text into its files and tracks.
pub(crate) fn parse_sheet(text: &[u8]) -> Result<Vec<SheetFile>, MediaError> {
    let text = text.strip_prefix(b"\xef\xbb\xbf").unwrap_or(text);
    if text.len() as u64 > MAX_CUE_BYTES || text.contains(&0) {
        return Err(MediaError::not_recognised("not a cue sheet: binary or over 1 MiB"));
    }
    let mut files: Vec<SheetFile> = Vec::new();
    for (n, raw) in text.split(|&b| b == b'\n').enumerate() {
        let line = n + 1;
        let w = words(raw).ok_or_else(|| bad(line, "unterminated quote"))?;
        let Some(cmd) = w.first() else { continue };
        let cmd = String::from_utf8_lossy(cmd).to_ascii_uppercase();
        let arg = |i: usize| w.get(i).map(Vec::as_slice).unwrap_or_default();
        match cmd.as_str() {
            "FILE" => {
                let kind = String::from_utf8_lossy(arg(2)).to_ascii_uppercase();
                files.push(SheetFile { name: arg(1).to_vec(), kind, tracks: Vec::new() });
            }
            "TRACK" => track(&mut files, line, arg(1), arg(2))?,
            "INDEX" | "PREGAP" => index(&mut files, line, &cmd, arg(1), w.get(2).map(Vec::as_slice))?,
            c if IGNORED.contains(&c) => {}
            other => {
                return Err(MediaError::not_recognised(format!("not a cue sheet: line {line} starts with {other:?}")));
            }
        }
    }
    if !files.iter().any(|f| !f.tracks.is_empty()) {
        return Err(MediaError::not_recognised("not a cue sheet: no FILE with a TRACK"));
    }
    Ok(files)
}

fn track(files: &mut [SheetFile], line: usize, number: &[u8], mode: &[u8]) -> Result<(), MediaError> {
    let previous = files.iter().flat_map(|f| f.tracks.last()).next_back().map_or(0, |t| t.number);
    let file = files.last_mut().ok_or_else(|| bad(line, "TRACK before any FILE"))?;
    let number: u8 = std::str::from_utf8(number).ok().and_then(|s| s.parse().ok()).unwrap_or(0);
    if number == 0 || number > 99 || number <= previous {
        return Err(bad(line, "track numbers must rise from 1 to at most 99"));
    }
    let mode = TrackMode::parse(&String::from_utf8_lossy(mode))
        .ok_or_else(|| MediaError::unsupported(format!("cue sheet line {line}: unsupported track mode")))?;
    file.tracks.push(SheetTrack { number, mode, index0: None, index1: None, pregap: 0 });
    Ok(())
}

fn index(files: &mut [SheetFile], line: usize, cmd: &str, a: &[u8], b: Option<&[u8]>) -> Result<(), MediaError> {
    let t = files.last_mut().and_then(|f| f.tracks.last_mut()).ok_or_else(|| bad(line, "INDEX before any TRACK"))?;
    if cmd == "PREGAP" {
        t.pregap = msf(a).ok_or_else(|| bad(line, "PREGAP needs mm:ss:ff"))?;
        return Ok(());
    }
    let at = b.and_then(msf).ok_or_else(|| bad(line, "INDEX needs a number and mm:ss:ff"))?;
    match a {
        b"00" | b"0" => t.index0 = Some(at),
        b"01" | b"1" => t.index1 = Some(at),
        _ => {} // sub-indexes 02..99 mark positions inside a track; nothing to map
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_quoted_names_and_indexes() {
        let text = b"REM x\r\nFILE \"a b.bin\" BINARY\r\n TRACK 01 MODE1/2352\r\n  INDEX 01 00:00:00\r\n \
                     TRACK 02 AUDIO\r\n  INDEX 00 00:02:10\r\n  INDEX 01 00:04:10\r\n";
        let files = parse_sheet(text).expect("parses");
        assert_eq!(files[0].name, b"a b.bin");
        assert_eq!(files[0].tracks[1].index0, Some(160));
        assert_eq!(files[0].tracks[1].index1, Some(310));
        assert!(parse_sheet(b"hello world\n").is_err());
        assert!(parse_sheet(b"FILE \"x BINARY\n").is_err());
    }
}
