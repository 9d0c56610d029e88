//! What a content-addressed put reads, and whether it may read it twice.
//!
//! A content key is the SHA-256 of the bytes, known only once they are all
//! read. A backend that must name an object before it writes it (S3) can
//! either stream the bytes to a staging object and copy them under their
//! key (which writes them twice on the server), or, when the source can be
//! read twice, hash it first and upload it once under its key. The caller
//! says which sources allow the second read: a regular file does; a drive
//! or disc being imaged, a pipe, a child's output do not.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::sync::Arc;

use crate::Body;

/// Called with the number of bytes each read returned.
pub type OnRead = Arc<dyn Fn(u64) + Send + Sync>;

/// What a content put reads.
pub enum ContentBody {
    /// Read once, front to back: a device being imaged, a pipe, a child
    /// process's output, bytes in memory.
    Stream(Body),
    /// A regular file, which the store may read twice (see
    /// [`RereadableFile`]).
    File(RereadableFile),
}

impl std::fmt::Debug for ContentBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Stream(_) => f.write_str("ContentBody::Stream"),
            Self::File(file) => f.debug_tuple("ContentBody::File").field(&file.len).finish(),
        }
    }
}

impl ContentBody {
    /// `file` as a [`ContentBody::File`] when it is a regular file, else
    /// (a block or character device, a FIFO, a socket) as a
    /// [`ContentBody::Stream`] read once. `on_read` counts the bytes of the
    /// read that stores them.
    pub fn from_file(file: File, on_read: Option<OnRead>) -> io::Result<Self> {
        let meta = file.metadata()?;
        if meta.file_type().is_file() {
            return Ok(Self::File(RereadableFile {
                file,
                len: meta.len(),
                on_read,
                between_passes: std::sync::Mutex::new(None),
            }));
        }
        Ok(Self::Stream(Box::new(Counted { inner: file, on_read })))
    }

    /// Whether the store may read it twice.
    pub fn is_rereadable(&self) -> bool {
        matches!(self, Self::File(_))
    }

    /// The body read once from its start: what a backend that does not
    /// read twice stores.
    pub fn into_stream(self) -> Result<Body, io::Error> {
        match self {
            Self::Stream(body) => Ok(body),
            Self::File(file) => file.into_stream(),
        }
    }
}

/// A regular file that a store may read twice: once to hash it, once to
/// store it. The second read is checked against the first (a file that
/// changed between them is never stored under the first read's hashes).
pub struct RereadableFile {
    file: File,
    /// Its size when it was opened; the hashing pass reads to its end.
    len: u64,
    on_read: Option<OnRead>,
    /// Behind a lock only so that the file may be shared across awaits.
    between_passes: std::sync::Mutex<Option<BetweenPasses>>,
}

type BetweenPasses = Box<dyn FnOnce() + Send>;

impl RereadableFile {
    /// Runs `hook` once, after the hashing pass and before the store reads
    /// the file again: a deterministic seam for tests that change the file
    /// between the two reads. Stores that read once never run it.
    pub fn between_passes(mut self, hook: impl FnOnce() + Send + 'static) -> Self {
        self.between_passes = std::sync::Mutex::new(Some(Box::new(hook)));
        self
    }

    /// The file's size when it was opened.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether it was empty when opened.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The open file, for the hashing pass (positional reads).
    pub(crate) fn file(&self) -> &File {
        &self.file
    }

    /// Takes the hook to run between the passes, if any.
    pub(crate) fn take_between_passes(&mut self) -> Option<BetweenPasses> {
        self.between_passes.get_mut().unwrap_or_else(|p| p.into_inner()).take()
    }

    /// Another read of the file from its start, counted by `on_read`,
    /// by positional reads (the open file's offset is not touched).
    pub(crate) fn stream_from_start(&self) -> io::Result<Body> {
        let at = ReadFrom { file: self.file.try_clone()?, offset: 0 };
        Ok(Box::new(Counted { inner: at, on_read: self.on_read.clone() }))
    }

    /// The file read once from its start, counted by `on_read`.
    pub fn into_stream(mut self) -> Result<Body, io::Error> {
        self.file.seek(SeekFrom::Start(0))?;
        Ok(Box::new(Counted { inner: self.file, on_read: self.on_read }))
    }
}

/// Reads a file from an offset of its own by positional reads.
struct ReadFrom {
    file: File,
    offset: u64,
}

impl Read for ReadFrom {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = std::os::unix::fs::FileExt::read_at(&self.file, buf, self.offset)?;
        self.offset += n as u64;
        Ok(n)
    }
}

/// Counts bytes as they pass.
struct Counted<R> {
    inner: R,
    on_read: Option<OnRead>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(on_read) = &self.on_read {
            on_read(n as u64);
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_regular_file_may_be_read_twice_and_a_device_may_not() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("f");
        std::fs::write(&path, b"abc").expect("write");
        let file = ContentBody::from_file(File::open(&path).expect("open"), None).expect("metadata");
        assert!(file.is_rereadable());
        let device = ContentBody::from_file(File::open("/dev/null").expect("open /dev/null"), None).expect("metadata");
        assert!(!device.is_rereadable(), "a character device is read once");
    }

    #[test]
    fn a_file_read_as_a_stream_starts_at_its_start_and_counts() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("f");
        std::fs::write(&path, b"abcdef").expect("write");
        let mut opened = File::open(&path).expect("open");
        opened.seek(SeekFrom::Start(4)).expect("seek");
        let seen = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let count = seen.clone();
        let on_read: OnRead = Arc::new(move |n| {
            count.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
        });
        let body = ContentBody::from_file(opened, Some(on_read)).expect("metadata");
        let mut read = Vec::new();
        body.into_stream().expect("rewind").read_to_end(&mut read).expect("read");
        assert_eq!(read, b"abcdef");
        assert_eq!(seen.load(std::sync::atomic::Ordering::Relaxed), 6);
    }
}
