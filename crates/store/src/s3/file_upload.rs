//! Content puts of a regular file, which may be read twice: a first pass
//! hashes it (its SHA-256, on a thread of its own, and the SHA-256 of every
//! part the upload will send, on the reading thread), so its content key
//! is known before anything is sent; unless that key is already stored
//! (then nothing is uploaded), a second pass uploads it once, straight to
//! the key, parts in flight as for a stream, each part's SHA-256 checked
//! against the first pass before it is sent and sent as its checksum. The
//! server writes the bytes once, instead of a staging object and a copy.
//!
//! A file that changed between the passes is never stored under the first
//! pass's key: the first part that differs stops the upload (aborted, not
//! completed), and the file is then stored as a stream read once
//! (staging and copy), under the hashes of what that read saw; the caller's
//! own checks (the acquire stage compares the file's metadata before and
//! after) then see the change.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use bytes::Bytes;
use exhibit_core::digest::{Digests, HashSelection, Sha256Digest};
use exhibit_core::hashing::ParallelHasher;
use exhibit_core::layout::ObjectKey;
use sha2::{Digest, Sha256};

use super::S3Store;
use super::content::content_key;
use super::upload::{PART, PartReader, Written, part_size};
use crate::{PutReceipt, RereadableFile, StoreError, StoreErrorKind};

/// Bytes per read of the hashing passes.
const CHUNK: usize = 1 << 20;

/// What the hashing pass learnt.
pub(crate) struct FirstPass {
    pub(crate) size: u64,
    pub(crate) sha256: Sha256Digest,
    /// The SHA-256 (base64) of each part, as [`part_size`] cuts them.
    pub(crate) parts: Vec<String>,
}

impl S3Store {
    /// Stores a regular file under `prefix<sha256>`, hashing it first (see
    /// the module's documentation).
    pub(crate) async fn put_content_file(
        &self,
        prefix: &str,
        mut file: RereadableFile,
        hashes: HashSelection,
    ) -> Result<PutReceipt, StoreError> {
        if file.len() < PART as u64 {
            // One part: read once into memory, hashed, one PUT to its key.
            return self.put_content_streaming(prefix, rewound(file, prefix)?, hashes).await;
        }
        let first = {
            let handle = file.file().try_clone().map_err(|e| StoreError::io_at("opening again", prefix, e))?;
            let target = prefix.to_owned();
            tokio::task::spawn_blocking(move || hash_pass(&handle))
                .await
                .map_err(StoreError::join)?
                .map_err(|e| StoreError::io_at("hashing the file for", target, e))?
        };
        if let Some(hook) = file.take_between_passes() {
            hook();
        }
        if first.size < PART as u64 {
            return self.put_content_streaming(prefix, rewound(file, prefix)?, hashes).await;
        }
        let key = content_key(prefix, &first.sha256.to_hex())?;
        let stored = match self.head_object(&key).await {
            Ok(_) => self.known_content(&key, &file, &first, hashes).await?,
            Err(e) if e.kind() == StoreErrorKind::NotFound => self.upload_known(&key, &file, &first, hashes).await?,
            Err(e) => return Err(e),
        };
        match stored {
            Some(receipt) => Ok(receipt),
            None => {
                tracing::warn!(
                    prefix,
                    "the file changed between its hashing pass and its upload; storing it as read once"
                );
                self.put_content_streaming(prefix, rewound(file, prefix)?, hashes).await
            }
        }
    }

    /// The second pass: the file uploaded to `key`, checked part by part
    /// against the first. `None` when it differed (nothing was stored).
    async fn upload_known(
        &self,
        key: &ObjectKey,
        file: &RereadableFile,
        first: &FirstPass,
        hashes: HashSelection,
    ) -> Result<Option<PutReceipt>, StoreError> {
        let body = file.stream_from_start().map_err(|e| StoreError::io_at("opening again", key.to_string(), e))?;
        let mut reader = PartReader::new(body, hashes, key.as_str());
        let part = reader.next_part(PART).await?;
        if first.parts.first() != Some(&part.sha256_b64) {
            return Ok(None);
        }
        let written = self.put_multipart_checked(key.as_str(), part, &mut reader, &first.parts).await?;
        let created = match written {
            Written::Created => true,
            Written::Taken => false,
            Written::Changed => return Ok(None),
        };
        let (size, digests) = reader.finish();
        if (size, digests.sha256) != (first.size, first.sha256) {
            // Every part matched its first-pass SHA-256, so this cannot
            // happen short of a SHA-256 collision; say so loudly.
            return Err(StoreError::corrupt(
                key,
                format!("uploaded {size} bytes of SHA-256 {} though every part matched", digests.sha256),
            ));
        }
        Ok(Some(PutReceipt { key: key.clone(), size, digests, created }))
    }

    /// The content is already stored: nothing is uploaded. The digests
    /// beyond SHA-256 come from one more read, checked against the first.
    async fn known_content(
        &self,
        key: &ObjectKey,
        file: &RereadableFile,
        first: &FirstPass,
        hashes: HashSelection,
    ) -> Result<Option<PutReceipt>, StoreError> {
        let digests = if hashes == HashSelection::SHA256_ONLY {
            Digests { sha256: first.sha256, md5: None, sha1: None }
        } else {
            let handle = file.file().try_clone().map_err(|e| StoreError::io_at("opening again", key.to_string(), e))?;
            let (size, digests) = tokio::task::spawn_blocking(move || digest_pass(&handle, hashes))
                .await
                .map_err(StoreError::join)?
                .map_err(|e| StoreError::io_at("hashing", key.to_string(), e))?;
            if (size, digests.sha256) != (first.size, first.sha256) {
                return Ok(None);
            }
            digests
        };
        tracing::debug!(key = %key, "content already stored; nothing uploaded");
        Ok(Some(PutReceipt { key: key.clone(), size: first.size, digests, created: false }))
    }
}

fn rewound(file: RereadableFile, prefix: &str) -> Result<crate::Body, StoreError> {
    file.into_stream().map_err(|e| StoreError::io_at("rewinding the file for", prefix, e))
}

/// Reads up to `buf.len()` bytes at `offset`, fewer only at the end.
fn read_full_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read_at(&mut buf[filled..], offset + filled as u64) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// The first pass: the whole SHA-256 on a thread of its own, each part's
/// SHA-256 here, so two cores hash both at once.
pub(crate) fn hash_pass(file: &File) -> io::Result<FirstPass> {
    let mut whole = ParallelHasher::new(HashSelection::SHA256_ONLY);
    let (mut offset, mut parts) = (0u64, Vec::new());
    loop {
        let size = part_size(parts.len() + 1);
        let mut part = Sha256::new();
        let mut in_part = 0;
        while in_part < size {
            let mut chunk = vec![0; CHUNK.min(size - in_part)];
            let n = read_full_at(file, &mut chunk, offset)?;
            if n == 0 {
                break;
            }
            chunk.truncate(n);
            part.update(&chunk);
            whole.update(Bytes::from(chunk));
            (offset, in_part) = (offset + n as u64, in_part + n);
        }
        if in_part == 0 {
            break;
        }
        parts.push(super::upload::b64(&part.finalize()));
        if in_part < size {
            break;
        }
    }
    let digests = whole.finish().map_err(io::Error::other)?;
    Ok(FirstPass { size: offset, sha256: digests.sha256, parts })
}

/// Every selected digest of the file, with its size.
fn digest_pass(file: &File, hashes: HashSelection) -> io::Result<(u64, Digests)> {
    let mut hasher = ParallelHasher::new(hashes);
    let mut offset = 0u64;
    loop {
        let mut chunk = vec![0; CHUNK];
        let n = read_full_at(file, &mut chunk, offset)?;
        if n == 0 {
            break;
        }
        chunk.truncate(n);
        hasher.update(Bytes::from(chunk));
        offset += n as u64;
    }
    Ok((offset, hasher.finish().map_err(io::Error::other)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use exhibit_core::hashing::MultiHasher;

    #[test]
    fn the_first_pass_cuts_parts_as_the_upload_does() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("f");
        let data: Vec<u8> = (0..PART + PART / 2).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &data).expect("write");
        let first = hash_pass(&File::open(&path).expect("open")).expect("hash");
        assert_eq!(first.size, data.len() as u64);
        assert_eq!(first.sha256, Sha256Digest::of(&data));
        let expected: Vec<String> = data.chunks(PART).map(super::super::upload::sha256_b64).collect();
        assert_eq!(first.parts, expected);
        let (size, digests) = digest_pass(&File::open(&path).expect("open"), HashSelection::default()).expect("hash");
        let mut all = MultiHasher::new(HashSelection::default());
        all.update(&data);
        assert_eq!((size, digests), (data.len() as u64, all.finish()));
    }
}
