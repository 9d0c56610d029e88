//! Streams an entry's bytes from its volume, zero-filling sparse runs, and
//! fails on a short read: a file is never silently shorter than declared.
//! A reader made with [`ContentReader::filling_missing`] reads the runs past
//! the end of a truncated medium as zeros instead; its caller records those
//! runs ([`crate::content_map`]) so the file is never silently filled.

use std::io::{self, Read};
use std::sync::Arc;

use crate::entry::{DataLayout, Extent, FsEntry};
use exhibit_core::read_at::ReadAt;
use exhibit_core::view::{Fill, SequentialReader, Transform, ViewRun, decoded};

/// Reads one entry's content in file order.
pub struct ContentReader {
    volume: Arc<dyn ReadAt>,
    inline: Option<Vec<u8>>,
    extents: Vec<Extent>,
    next_extent: usize,
    within: u64,
    pos: u64,
    size: u64,
    fill_missing: bool,
    /// Where the record's data ends short of its size (see
    /// [`FsEntry::missing_from`]).
    missing_from: Option<u64>,
    /// For a compressed entry: its decoder, or why it cannot be decoded.
    decoded: Option<Result<SequentialReader, String>>,
}

/// A reader over `entry`'s content on `volume`.
pub fn open_content(volume: Arc<dyn ReadAt>, entry: &FsEntry) -> ContentReader {
    let (inline, extents) = match &entry.data {
        DataLayout::None => (None, Vec::new()),
        DataLayout::Inline(bytes) => (Some(bytes.clone()), Vec::new()),
        DataLayout::Extents(extents) => (None, extents.clone()),
    };
    let decoded = entry.transform.map(|t| decoder(volume.clone(), &extents, t, entry.size));
    let (size, missing_from) = (entry.size, entry.missing_from);
    ContentReader {
        volume,
        inline,
        extents,
        next_extent: 0,
        within: 0,
        pos: 0,
        size,
        fill_missing: false,
        missing_from,
        decoded,
    }
}

/// The decoded bytes of a compressed entry whose extents hold its stored
/// stream, read through the view transform every view read uses.
fn decoder(volume: Arc<dyn ReadAt>, extents: &[Extent], t: Transform, size: u64) -> Result<SequentialReader, String> {
    let runs = extents
        .iter()
        .map(|x| match x.volume_offset {
            Some(at) => ViewRun { file_offset: x.file_offset, len: x.len, base_offset: Some(at), fill: None },
            None => ViewRun { file_offset: x.file_offset, len: x.len, base_offset: None, fill: Some(Fill::Sparse) },
        })
        .collect();
    let at = decoded(volume, runs, t, size).map_err(|e| e.to_string())?;
    Ok(SequentialReader::new(at))
}

impl ContentReader {
    /// Reads the runs that lie past the end of the medium, and the bytes a
    /// record declares past its data's end, as zeros.
    pub fn filling_missing(mut self) -> Self {
        self.fill_missing = true;
        self
    }

    /// Reads up to `buf.len()` bytes at `at` on the volume; past its end,
    /// zeros when filling missing runs.
    fn read_volume(&self, at: u64, buf: &mut [u8]) -> io::Result<usize> {
        if self.fill_missing && at >= self.volume.size() {
            buf.fill(0);
            return Ok(buf.len());
        }
        self.volume.read_at(at, buf)
    }
}

fn short(pos: u64, size: u64) -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, format!("data ends at byte {pos} of a declared {size}"))
}

impl Read for ContentReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.size || buf.is_empty() {
            return Ok(0);
        }
        if let Some(decoded) = &mut self.decoded {
            let reader = decoded.as_mut().map_err(|why| io::Error::new(io::ErrorKind::InvalidData, why.clone()))?;
            let n = reader.read(buf)?;
            if n == 0 {
                return Err(short(self.pos, self.size));
            }
            self.pos += n as u64;
            return Ok(n);
        }
        let want = buf.len().min(usize::try_from(self.size - self.pos).unwrap_or(usize::MAX));
        if let Some(inline) = &self.inline {
            let start = usize::try_from(self.pos).unwrap_or(usize::MAX);
            let avail = inline.get(start..).unwrap_or_default();
            if avail.is_empty() {
                return Err(short(self.pos, self.size));
            }
            let n = avail.len().min(want);
            buf[..n].copy_from_slice(&avail[..n]);
            self.pos += n as u64;
            return Ok(n);
        }
        let Some(extent) = self.extents.get(self.next_extent).copied() else {
            if self.fill_missing && self.missing_from.is_some_and(|from| self.pos >= from) {
                buf[..want].fill(0);
                self.pos += want as u64;
                return Ok(want);
            }
            return Err(short(self.pos, self.size));
        };
        if extent.file_offset + self.within != self.pos {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("extents leave a gap or overlap at byte {}", self.pos),
            ));
        }
        let left = extent.len - self.within;
        let n = want.min(usize::try_from(left).unwrap_or(usize::MAX));
        let got = match extent.volume_offset {
            None => {
                buf[..n].fill(0);
                n
            }
            Some(base) => self.read_volume(base + self.within, &mut buf[..n])?,
        };
        if got == 0 {
            return Err(short(self.pos, self.size));
        }
        self.within += got as u64;
        self.pos += got as u64;
        if self.within == extent.len {
            self.next_extent += 1;
            self.within = 0;
        }
        Ok(got)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::{EntryKind, NamePath};
    use exhibit_core::read_at::BytesAt;

    fn entry(size: u64, extents: Vec<Extent>) -> FsEntry {
        let mut e = FsEntry::new(NamePath::root().join(b"f"), EntryKind::File);
        e.size = size;
        e.data = DataLayout::Extents(extents);
        e
    }

    #[test]
    fn sparse_runs_read_as_zeros_and_short_data_fails() {
        let vol: Arc<dyn ReadAt> = Arc::new(BytesAt::new(b"abcdefgh".to_vec()));
        let e = entry(
            6,
            vec![
                Extent { file_offset: 0, len: 2, volume_offset: Some(0) },
                Extent { file_offset: 2, len: 2, volume_offset: None },
                Extent { file_offset: 4, len: 2, volume_offset: Some(6) },
            ],
        );
        let mut out = Vec::new();
        open_content(vol.clone(), &e).read_to_end(&mut out).unwrap();
        assert_eq!(out, b"ab\0\0gh");
        let e = entry(10, vec![Extent { file_offset: 0, len: 10, volume_offset: Some(6) }]);
        assert!(open_content(vol.clone(), &e).read_to_end(&mut Vec::new()).is_err());
        let mut out = Vec::new();
        open_content(vol, &e).filling_missing().read_to_end(&mut out).unwrap();
        assert_eq!(out, b"gh\0\0\0\0\0\0\0\0");
    }
}
