//! A one-block read cache for table lookups (FAT entries, bitmap bits), so
//! following a chain costs one read per 4 KiB of table, not one per entry.

use std::sync::{Mutex, PoisonError};

use exhibit_media_core::{MediaError, ReadAt};

const BLOCK: u64 = 4096;

struct Block {
    base: u64,
    len: usize,
    bytes: Vec<u8>,
}

/// The last table block read.
pub(crate) struct BlockCache {
    block: Mutex<Block>,
}

impl BlockCache {
    /// An empty cache.
    pub(crate) fn new() -> Self {
        Self { block: Mutex::new(Block { base: u64::MAX, len: 0, bytes: vec![0; BLOCK as usize] }) }
    }

    /// The byte at `offset` of `vol`; past the end is `Corrupt`, naming `what`.
    pub(crate) fn byte(&self, vol: &dyn ReadAt, offset: u64, what: &str) -> Result<u8, MediaError> {
        let base = offset - offset % BLOCK;
        let mut block = self.block.lock().unwrap_or_else(PoisonError::into_inner);
        if block.base != base {
            block.len = fill(vol, base, &mut block.bytes).map_err(|e| MediaError::io(format!("reading {what}"), e))?;
            block.base = base;
        }
        let at = usize::try_from(offset - base).unwrap_or(usize::MAX);
        match block.bytes.get(at) {
            Some(b) if at < block.len => Ok(*b),
            _ => Err(MediaError::corrupt(format!(
                "{what} at byte {offset} lies past the end of the medium ({} bytes)",
                vol.size()
            ))),
        }
    }
}

/// Reads as much of `buf` as the medium holds; returns the count.
fn fill(vol: &dyn ReadAt, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut done = 0;
    while let Some(rest) = buf.get_mut(done..) {
        if rest.is_empty() {
            break;
        }
        match vol.read_at(offset + done as u64, rest) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}
