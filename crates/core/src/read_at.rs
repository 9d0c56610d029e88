//! Positional reads. Every reader works through [`ReadAt`], so one image can
//! be read by several parsers and threads at once without seeking.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::sync::Arc;

/// Thread-safe reads at an offset.
pub trait ReadAt: Send + Sync {
    /// Reads up to `buf.len()` bytes at `offset`. Returns 0 at or past the end.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize>;
    /// Size in bytes.
    fn size(&self) -> u64;
}

/// Fills `buf` from `offset`, or fails with `UnexpectedEof`.
pub fn read_exact_at(src: &dyn ReadAt, mut offset: u64, mut buf: &mut [u8]) -> io::Result<()> {
    while !buf.is_empty() {
        match src.read_at(offset, buf) {
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("read past the end at byte {offset}"),
                ));
            }
            Ok(n) => {
                offset += n as u64;
                buf = &mut buf[n..];
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// A file read with `pread`.
#[derive(Debug)]
pub struct FileAt {
    file: File,
    size: u64,
}

impl FileAt {
    /// Wraps an open file; its size is taken now.
    pub fn new(file: File) -> io::Result<Self> {
        let size = file.metadata()?.len();
        Ok(Self { file, size })
    }

    /// Opens a path read-only.
    pub fn open(path: &std::path::Path) -> io::Result<Self> {
        Self::new(File::open(path)?)
    }
}

impl ReadAt for FileAt {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        if offset >= self.size {
            return Ok(0);
        }
        let len = buf.len().min(usize::try_from(self.size - offset).unwrap_or(usize::MAX));
        self.file.read_at(&mut buf[..len], offset)
    }

    fn size(&self) -> u64 {
        self.size
    }
}

/// Bytes in memory (tests, fuzzing, small resident data).
#[derive(Debug, Clone)]
pub struct BytesAt(pub Arc<[u8]>);

impl BytesAt {
    /// Wraps a byte vector.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes.into())
    }
}

impl ReadAt for BytesAt {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let Ok(start) = usize::try_from(offset) else { return Ok(0) };
        let Some(rest) = self.0.get(start..) else { return Ok(0) };
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        Ok(n)
    }

    fn size(&self) -> u64 {
        self.0.len() as u64
    }
}

/// A window `[offset, offset + len)` of another medium, e.g. a partition.
/// The window is clipped to the medium, so a partition table that claims
/// more than the disk holds reads as a shorter partition, never out of bounds.
#[derive(Clone)]
pub struct SliceAt {
    inner: Arc<dyn ReadAt>,
    offset: u64,
    len: u64,
}

impl SliceAt {
    /// A window of `inner`.
    pub fn new(inner: Arc<dyn ReadAt>, offset: u64, len: u64) -> Self {
        let available = inner.size().saturating_sub(offset);
        Self { inner, offset, len: len.min(available) }
    }

    /// Where the window starts in the medium.
    pub fn offset(&self) -> u64 {
        self.offset
    }
}

impl ReadAt for SliceAt {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        if offset >= self.len {
            return Ok(0);
        }
        let len = buf.len().min(usize::try_from(self.len - offset).unwrap_or(usize::MAX));
        self.inner.read_at(self.offset + offset, &mut buf[..len])
    }

    fn size(&self) -> u64 {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_clip_to_the_medium() {
        let bytes: Arc<dyn ReadAt> = Arc::new(BytesAt::new((0u8..100).collect()));
        let slice = SliceAt::new(bytes, 90, 1000);
        assert_eq!(slice.size(), 10);
        let mut buf = [0u8; 20];
        assert_eq!(slice.read_at(5, &mut buf).unwrap(), 5);
        assert_eq!(&buf[..5], &[95, 96, 97, 98, 99]);
        assert!(read_exact_at(&slice, 8, &mut buf).is_err());
    }
}
