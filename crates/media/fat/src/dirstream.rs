//! Streams a directory's 32-byte entries from byte runs on the volume, a
//! 4 KiB chunk at a time: memory stays constant whatever the directory claims.

use exhibit_media_core::{MediaError, ReadAt};

use crate::util::read_struct;

const CHUNK: usize = 4096;

/// Reads 32-byte directory slots in order.
pub(crate) struct DirStream<'a> {
    vol: &'a dyn ReadAt,
    runs: Vec<(u64, u64)>,
    run: usize,
    within: u64,
    buf: Vec<u8>,
    buf_at: u64,
    buf_len: usize,
    pos: usize,
}

impl<'a> DirStream<'a> {
    /// A stream over `runs` (volume offset, byte length).
    pub(crate) fn new(vol: &'a dyn ReadAt, runs: Vec<(u64, u64)>) -> Self {
        Self { vol, runs, run: 0, within: 0, buf: vec![0; CHUNK], buf_at: 0, buf_len: 0, pos: 0 }
    }

    /// The next slot and its volume offset, `None` at the end of the runs.
    pub(crate) fn next_slot(&mut self) -> Result<Option<(u64, [u8; 32])>, MediaError> {
        if self.pos + 32 > self.buf_len && !self.refill()? {
            return Ok(None);
        }
        let mut slot = [0u8; 32];
        let at = self.buf_at + self.pos as u64;
        if let Some(src) = self.buf.get(self.pos..self.pos + 32) {
            slot.copy_from_slice(src);
        }
        self.pos += 32;
        Ok(Some((at, slot)))
    }

    fn refill(&mut self) -> Result<bool, MediaError> {
        while let Some(&(offset, len)) = self.runs.get(self.run) {
            let left = len.saturating_sub(self.within) / 32 * 32;
            if left == 0 {
                self.run += 1;
                self.within = 0;
                continue;
            }
            let n = usize::try_from(left).unwrap_or(CHUNK).min(CHUNK);
            let at = offset + self.within;
            let buf = self.buf.get_mut(..n).unwrap_or_default();
            read_struct(self.vol, at, buf, "directory cluster")?;
            (self.buf_at, self.buf_len, self.pos) = (at, n, 0);
            self.within += n as u64;
            return Ok(true);
        }
        Ok(false)
    }
}
