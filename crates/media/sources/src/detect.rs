//! Format detection by content, never by file name.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use exhibit_media_core::MediaError;
use serde::{Deserialize, Serialize};

use crate::cue::{MAX_CUE_BYTES, parse_sheet};
use crate::ewf::EVF_SIGNATURE;

/// EWF2 (`.Ex01`) and logical (`.L01`, `.Lx01`) signatures: recognised so
/// they are refused by name rather than imaged as raw bytes.
const OTHER_EWF: [(&[u8], &str); 3] = [
    (b"EVF2\x0d\x0a\x81\x00", "EWF2 (Ex01)"),
    (b"LVF\x09\x0d\x0a\xff\x00", "EWF logical evidence (L01)"),
    (b"LEF2\x0d\x0a\x81\x00", "EWF2 logical evidence (Lx01)"),
];

/// What kind of acquisition source a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceFormat {
    /// A plain image (dd, iso, img...): read as a `FileAt`.
    Raw,
    /// The first segment of an EWF-E01 set.
    Ewf,
    /// A cue sheet describing bin files.
    Cue,
}

/// Looks at a file's content to tell EWF, cue sheets and raw images apart.
pub fn detect(path: &Path) -> Result<SourceFormat, MediaError> {
    let io = |e| MediaError::io(format!("detecting the format of {}", path.display()), e);
    let mut file = File::open(path).map_err(io)?;
    let mut head = [0u8; 8];
    let n = file.read(&mut head).map_err(io)?;
    if n == head.len() && head == EVF_SIGNATURE {
        return Ok(SourceFormat::Ewf);
    }
    if let Some((_, name)) = OTHER_EWF.iter().find(|(sig, _)| head.starts_with(sig)) {
        return Err(MediaError::unsupported(format!("{} is {name}, which is not read yet", path.display())));
    }
    let len = file.metadata().map_err(io)?.len();
    if len <= MAX_CUE_BYTES && head.get(..n).is_some_and(|h| !h.contains(&0)) {
        let mut text = head.get(..n).unwrap_or_default().to_vec();
        file.take(MAX_CUE_BYTES).read_to_end(&mut text).map_err(io)?;
        if parse_sheet(&text).is_ok() {
            return Ok(SourceFormat::Cue);
        }
    }
    Ok(SourceFormat::Raw)
}
