//! File Identifier Descriptors (ECMA-167 4/14.4), read one at a time from a
//! directory's content stream so a large directory never sits in memory.

use std::io::{self, Read};

use exhibit_media_core::{Limits, MediaError};

use crate::icb::{LbAddr, long_ad};
use crate::tag::{self, u8_at, u16_at};

/// FID characteristic: hidden.
pub const HIDDEN: u8 = 1;
/// FID characteristic: directory.
pub const DIRECTORY: u8 = 2;
/// FID characteristic: deleted.
pub const DELETED: u8 = 4;
/// FID characteristic: parent directory.
pub const PARENT: u8 = 8;

/// One directory entry as recorded.
#[derive(Debug, Clone)]
pub struct Fid {
    /// Byte offset within the directory's content.
    pub offset: u64,
    /// Characteristics bits.
    pub characteristics: u8,
    /// The entry's ICB.
    pub icb: LbAddr,
    /// The file identifier as stored (CS0).
    pub name: Vec<u8>,
}

/// Streams FIDs from a directory's content.
pub struct FidReader<R> {
    inner: R,
    offset: u64,
    dir_at: u64,
}

impl<R: Read> FidReader<R> {
    /// Reads FIDs from `inner`, the content of the directory whose entry is at byte `dir_at`.
    pub fn new(inner: R, dir_at: u64) -> Self {
        Self { inner, offset: 0, dir_at }
    }

    /// The next FID, `None` at the clean end of the directory.
    pub fn next_fid(&mut self, limits: &Limits) -> Result<Option<Fid>, MediaError> {
        let at = self.offset;
        let mut head = [0u8; 38];
        let got = fill(&mut self.inner, &mut head).map_err(|e| self.err(at, &e.to_string()))?;
        if got == 0 {
            return Ok(None);
        }
        if got < head.len() {
            return Err(self.err(at, "the directory ends inside a file identifier descriptor"));
        }
        let what = "file identifier descriptor";
        let name_len = usize::from(u8_at(&head, 19, what, at)?);
        let iu_len = usize::from(u16_at(&head, 36, what, at)?);
        let total = (38 + iu_len + name_len).next_multiple_of(4);
        let mut fid = vec![0u8; limits.check_alloc(total as u64, "UDF file identifier descriptor")?];
        fid[..38].copy_from_slice(&head);
        let rest = fid.get_mut(38..).unwrap_or_default();
        let got = fill(&mut self.inner, rest).map_err(|e| self.err(at, &e.to_string()))?;
        // The last FID may omit its padding; anything shorter is damage.
        if got < iu_len + name_len {
            return Err(self.err(at, "the directory ends inside a file identifier"));
        }
        self.offset += total as u64;
        tag::expect(&fid, tag::FID, what, at).map_err(|e| self.err(at, &e.message))?;
        let name = fid.get(38 + iu_len..38 + iu_len + name_len).unwrap_or_default().to_vec();
        Ok(Some(Fid { offset: at, characteristics: head[18], icb: long_ad(&head, 20, at)?.1, name }))
    }

    fn err(&self, at: u64, why: &str) -> MediaError {
        MediaError::corrupt(format!(
            "directory of the file entry at byte {}: file identifier at directory offset {at}: {why}",
            self.dir_at
        ))
    }
}

/// Reads until `buf` is full or the stream ends; returns the bytes read.
fn fill(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}
