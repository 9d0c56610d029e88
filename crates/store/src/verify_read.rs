//! A reader that re-hashes an object as it is read and fails at the end if
//! the bytes are not the ones that were stored.

use std::fmt;
use std::io::{self, Read};

use exhibit_core::digest::{HashSelection, Sha256Digest};
use exhibit_core::hashing::MultiHasher;
use exhibit_core::layout::ObjectKey;

/// Wraps an object's byte stream, hashes SHA-256 as bytes pass, and at the
/// end returns [`io::ErrorKind::InvalidData`] (naming the key, the expected
/// and the actual value) if the digest or the size is not what was expected.
/// Once failed, every later read fails the same way, so a caller that retries
/// cannot mistake a damaged object for a good one.
pub struct VerifyingReader {
    inner: Box<dyn Read + Send>,
    key: ObjectKey,
    /// What the messages call the bytes (default `object <key>`).
    subject: Option<String>,
    expect_sha256: Option<Sha256Digest>,
    expect_size: Option<u64>,
    read: u64,
    state: State,
}

enum State {
    Reading(Box<MultiHasher>),
    Done(Sha256Digest),
    Failed { sha256: Option<Sha256Digest>, message: String },
}

impl VerifyingReader {
    /// Wraps `inner`, the bytes of `key`. Checks nothing until told what to
    /// expect with [`Self::expect_sha256`] or [`Self::expect_size`].
    pub fn new(key: ObjectKey, inner: Box<dyn Read + Send>) -> Self {
        Self {
            inner,
            key,
            subject: None,
            expect_sha256: None,
            expect_size: None,
            read: 0,
            state: State::Reading(Box::new(MultiHasher::new(HashSelection::SHA256_ONLY))),
        }
    }

    /// Fails at the end unless the bytes' SHA-256 is `sha256` (if given).
    pub fn expect_sha256(mut self, sha256: Option<Sha256Digest>) -> Self {
        self.expect_sha256 = sha256;
        self
    }

    /// Names the bytes in messages as `subject` (a view into an image, say)
    /// rather than as `object <key>`.
    pub fn describe_as(mut self, subject: String) -> Self {
        self.subject = Some(subject);
        self
    }

    fn subject(&self) -> String {
        self.subject.clone().unwrap_or_else(|| format!("object {}", self.key))
    }

    /// Fails unless exactly `size` bytes are read (if given).
    pub fn expect_size(mut self, size: Option<u64>) -> Self {
        self.expect_size = size;
        self
    }

    /// The key being read.
    pub fn key(&self) -> &ObjectKey {
        &self.key
    }

    /// How many bytes have been returned so far.
    pub fn bytes_read(&self) -> u64 {
        self.read
    }

    /// The SHA-256 of every byte read, once the end has been reached (even
    /// when it did not match: this is what was actually read). `None` before
    /// the end.
    pub fn sha256(&self) -> Option<Sha256Digest> {
        match &self.state {
            State::Done(d) => Some(*d),
            State::Failed { sha256, .. } => *sha256,
            State::Reading(_) => None,
        }
    }

    /// True once the end was reached and every expectation held.
    pub fn is_verified(&self) -> bool {
        matches!(self.state, State::Done(_))
    }

    fn fail(&mut self, sha256: Option<Sha256Digest>, message: String) -> io::Error {
        let err = io::Error::new(io::ErrorKind::InvalidData, message.clone());
        self.state = State::Failed { sha256, message };
        err
    }

    /// Called at end of input: checks size and digest.
    fn finish(&mut self) -> io::Result<()> {
        let State::Reading(hasher) = &self.state else {
            return Ok(());
        };
        // A clone is cheap (a few hundred bytes) and happens once.
        let actual = MultiHasher::clone(hasher).finish().sha256;
        self.state = State::Done(actual);
        if let Some(size) = self.expect_size.filter(|&s| s != self.read) {
            let msg = format!(
                "{} is {} bytes long but {size} bytes were expected; it was truncated or altered after storing",
                self.subject(),
                self.read
            );
            return Err(self.fail(Some(actual), msg));
        }
        if let Some(expect) = self.expect_sha256.filter(|&e| e != actual) {
            let msg = format!(
                "{} has SHA-256 {actual} but {expect} was expected; the stored bytes were altered or damaged",
                self.subject()
            );
            return Err(self.fail(Some(actual), msg));
        }
        Ok(())
    }
}

impl Read for VerifyingReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &self.state {
            State::Failed { message, .. } => {
                return Err(io::Error::new(io::ErrorKind::InvalidData, message.clone()));
            }
            State::Done(_) => return Ok(0),
            State::Reading(_) => {}
        }
        if buf.is_empty() {
            return Ok(0);
        }
        let n = self.inner.read(buf)?;
        if n == 0 {
            self.finish()?;
            return Ok(0);
        }
        self.read += n as u64;
        if let Some(size) = self.expect_size.filter(|&s| self.read > s) {
            let msg =
                format!("object {} is longer than the {size} bytes expected; it was altered after storing", self.key);
            return Err(self.fail(None, msg));
        }
        if let State::Reading(h) = &mut self.state {
            h.update(&buf[..n]);
        }
        Ok(n)
    }
}

impl fmt::Debug for VerifyingReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingReader")
            .field("key", &self.key)
            .field("expect_sha256", &self.expect_sha256)
            .field("expect_size", &self.expect_size)
            .field("read", &self.read)
            .field("sha256", &self.sha256())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    fn reader(data: &'static [u8]) -> VerifyingReader {
        VerifyingReader::new(ObjectKey::new("cases/C1/x").unwrap(), Box::new(Cursor::new(data)))
    }

    #[test]
    fn is_send() {
        fn assert_send<T: Send>() {}
        assert_send::<VerifyingReader>();
    }

    #[test]
    fn matching_digest_reads_through_and_reports_it() {
        let mut r = reader(b"abc").expect_sha256(Some(Sha256Digest::of(b"abc"))).expect_size(Some(3));
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!(out, b"abc");
        assert_eq!(r.sha256(), Some(Sha256Digest::of(b"abc")));
        assert!(r.is_verified());
        assert_eq!(r.read(&mut [0; 4]).unwrap(), 0);
    }

    #[test]
    fn wrong_digest_fails_at_end_and_keeps_failing() {
        let expect = Sha256Digest::of(b"abd");
        let mut r = reader(b"abc").expect_sha256(Some(expect));
        let err = r.read_to_end(&mut Vec::new()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        let msg = err.to_string();
        assert!(msg.contains("cases/C1/x") && msg.contains(&expect.to_hex()), "{msg}");
        assert!(msg.contains(&Sha256Digest::of(b"abc").to_hex()), "{msg}");
        assert_eq!(r.read(&mut [0; 4]).unwrap_err().kind(), io::ErrorKind::InvalidData);
        assert_eq!(r.sha256(), Some(Sha256Digest::of(b"abc")));
        assert!(!r.is_verified());
    }

    #[test]
    fn wrong_size_fails_both_ways() {
        let short = reader(b"abc").expect_size(Some(4)).read_to_end(&mut Vec::new()).unwrap_err();
        assert_eq!(short.kind(), io::ErrorKind::InvalidData);
        let mut long = reader(b"abc").expect_size(Some(2));
        let mut out = Vec::new();
        let err = long.read_to_end(&mut out).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(err.to_string().contains("cases/C1/x"));
    }

    #[test]
    fn empty_buffer_is_not_end_of_input() {
        let mut r = reader(b"abc").expect_sha256(Some(Sha256Digest::of(b"abc")));
        assert_eq!(r.read(&mut []).unwrap(), 0);
        assert_eq!(r.sha256(), None);
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!(out, b"abc");
    }
}
