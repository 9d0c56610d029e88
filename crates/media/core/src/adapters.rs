//! Adapters for crates that want `Read + Seek` (ntfs, ewf, hadris) or
//! `Read + Write + Seek` (mbrman, gpt) over a [`ReadAt`]. The writer half
//! refuses every write: evidence is never altered.

use std::io::{self, Read, Seek, SeekFrom, Write};
use std::sync::Arc;

use exhibit_core::read_at::ReadAt;

/// A cursor over a [`ReadAt`].
#[derive(Clone)]
pub struct ReadSeekAt {
    inner: Arc<dyn ReadAt>,
    pos: u64,
}

impl ReadSeekAt {
    /// A cursor at position 0.
    pub fn new(inner: Arc<dyn ReadAt>) -> Self {
        Self { inner, pos: 0 }
    }
}

impl Read for ReadSeekAt {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read_at(self.pos, buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for ReadSeekAt {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        let target = match pos {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.inner.size().checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        let target = target.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before the start"))?;
        self.pos = target;
        Ok(target)
    }
}

/// A `Read + Write + Seek` whose writes always fail.
#[derive(Clone)]
pub struct ReadOnlyWriter(pub ReadSeekAt);

impl Read for ReadOnlyWriter {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl Seek for ReadOnlyWriter {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.0.seek(pos)
    }
}

impl Write for ReadOnlyWriter {
    fn write(&mut self, _buf: &[u8]) -> io::Result<usize> {
        Err(io::Error::new(io::ErrorKind::PermissionDenied, "evidence media are read-only; a write was refused"))
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
