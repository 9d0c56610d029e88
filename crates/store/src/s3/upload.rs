//! Streaming uploads at constant memory: the body is read one part at a
//! time on a blocking thread and hashed as it is read; a body of one part
//! goes up in one PUT, a longer one as a multipart upload. Every part
//! carries its SHA-256 (`x-amz-checksum-sha256`), so the server verifies
//! the bytes it stores.

use std::io::Read;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, CompletedMultipartUpload, CompletedPart};
use base64::Engine;
use exhibit_core::digest::{Digests, HashSelection};
use exhibit_core::hashing::MultiHasher;
use sha2::{Digest, Sha256};

use super::S3Store;
use super::errors::{is_taken, sdk};
use crate::{Body, StoreError};

/// Bytes of the first part (and of every part up to [`PARTS_PER_SIZE`]):
/// over S3's 5 MiB minimum. A body shorter than this goes up in one PUT.
pub(crate) const PART: usize = 8 << 20;
/// Parts of one size before the size doubles, so that S3's 10,000 parts
/// hold a disk image: 1,000 parts each of 8, 16, 32 and 64 MiB, then
/// 128 MiB parts, about 867 GiB in all.
const PARTS_PER_SIZE: usize = 1000;
/// The largest part: what one upload holds in memory per part at most.
const LARGEST_PART: usize = 128 << 20;
/// S3's limit on the parts of one upload.
const MAX_PARTS: usize = 10_000;
/// Bytes of parts being sent at once: the pipeline's memory, beside the
/// part being read (four 8 MiB parts; one part whatever its size).
const IN_FLIGHT_BYTES: usize = 32 << 20;

/// The size of part `number` (from 1).
pub(crate) fn part_size(number: usize) -> usize {
    let doublings = (number.saturating_sub(1) / PARTS_PER_SIZE).min(4);
    (PART << doublings).min(LARGEST_PART)
}

/// One part of a body, with its SHA-256 as S3 wants it (base64).
pub(crate) struct Part {
    pub(crate) bytes: Vec<u8>,
    pub(crate) sha256_b64: String,
}

impl Part {
    /// A part of bytes already in memory.
    pub(crate) fn of(bytes: Vec<u8>) -> Self {
        let sha256_b64 = sha256_b64(&bytes);
        Self { bytes, sha256_b64 }
    }
}

/// A body being read part by part, hashed as it goes.
pub(crate) struct PartReader {
    body: Option<Body>,
    hasher: Option<MultiHasher>,
    size: u64,
    target: String,
}

impl PartReader {
    pub(crate) fn new(body: Body, hashes: HashSelection, target: &str) -> Self {
        Self { body: Some(body), hasher: Some(MultiHasher::new(hashes)), size: 0, target: target.to_owned() }
    }

    /// The next part, up to `size` bytes, hashed (the body's digests and
    /// the part's own SHA-256) on a blocking thread; empty at the end.
    pub(crate) async fn next_part(&mut self, size: usize) -> Result<Part, StoreError> {
        let (Some(mut body), Some(mut hasher)) = (self.body.take(), self.hasher.take()) else {
            return Ok(Part { bytes: Vec::new(), sha256_b64: sha256_b64(&[]) });
        };
        let target = self.target.clone();
        let (body, hasher, part) = tokio::task::spawn_blocking(move || {
            let mut bytes = Vec::with_capacity(size);
            let read = (&mut body).take(size as u64).read_to_end(&mut bytes);
            hasher.update(&bytes);
            let sha256_b64 = sha256_b64(&bytes);
            read.map(|_| (body, hasher, Part { bytes, sha256_b64 }))
                .map_err(|e| StoreError::io_at("reading the body for", target, e))
        })
        .await
        .map_err(StoreError::join)??;
        self.size += part.bytes.len() as u64;
        self.body = Some(body);
        self.hasher = Some(hasher);
        Ok(part)
    }

    pub(crate) fn finish(self) -> (u64, Digests) {
        let digests = self
            .hasher
            .map(MultiHasher::finish)
            .unwrap_or_else(|| MultiHasher::new(HashSelection::SHA256_ONLY).finish());
        (self.size, digests)
    }
}

pub(crate) fn sha256_b64(bytes: &[u8]) -> String {
    b64(&Sha256::digest(bytes))
}

/// A digest as S3's checksum headers carry it (base64).
pub(crate) fn b64(digest: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(digest)
}

/// How a write ended.
pub(crate) enum Written {
    Created,
    /// A create-only write found the key taken.
    Taken,
    /// A part differed from the checksum expected of it (the file changed
    /// since it was hashed): the upload was aborted, nothing is stored.
    Changed,
}

impl S3Store {
    /// Stores `first` (already read) and the rest of `reader` under `key`.
    /// With `create_only`, the write is `If-None-Match: *`; with `locked`,
    /// it carries the store's Object Lock retention.
    pub(crate) async fn upload(
        &self,
        key: &str,
        first: Part,
        reader: &mut PartReader,
        create_only: bool,
        locked: bool,
    ) -> Result<Written, StoreError> {
        if first.bytes.len() < PART {
            return self.put_whole(key, first, create_only, locked).await;
        }
        self.put_multipart(key, first, reader, (create_only, locked), None).await
    }

    /// A create-only, retained multipart upload of `first` and the rest of
    /// `reader` whose every part must have the SHA-256 (base64) `expected`
    /// of it, in order, and no part more or fewer; else nothing is
    /// completed and the result is [`Written::Changed`].
    pub(crate) async fn put_multipart_checked(
        &self,
        key: &str,
        first: Part,
        reader: &mut PartReader,
        expected: &[String],
    ) -> Result<Written, StoreError> {
        self.put_multipart(key, first, reader, (true, true), Some(expected)).await
    }

    /// One PUT of a body that fits in a part.
    pub(crate) async fn put_whole(
        &self,
        key: &str,
        part: Part,
        create_only: bool,
        locked: bool,
    ) -> Result<Written, StoreError> {
        let full = self.full_key(key);
        // The algorithm header too: Object Lock writes require it.
        let mut put = self
            .client()
            .await?
            .put_object()
            .bucket(&self.location.bucket)
            .key(&full)
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            .checksum_sha256(part.sha256_b64);
        if create_only {
            put = put.if_none_match("*");
        }
        if let Some((mode, until)) = self.retention_until().filter(|_| locked) {
            put = put.object_lock_mode(mode).object_lock_retain_until_date(until);
        }
        match put.body(ByteStream::from(part.bytes)).send().await {
            Ok(_) => Ok(Written::Created),
            Err(e) if create_only && is_taken(&e) => Ok(Written::Taken),
            Err(e) => Err(sdk("writing", &full, e)),
        }
    }

    async fn put_multipart(
        &self,
        key: &str,
        first: Part,
        reader: &mut PartReader,
        (create_only, locked): (bool, bool),
        expected: Option<&[String]>,
    ) -> Result<Written, StoreError> {
        let full = self.full_key(key);
        let client = self.client().await?;
        let mut create = client
            .create_multipart_upload()
            .bucket(&self.location.bucket)
            .key(&full)
            .checksum_algorithm(ChecksumAlgorithm::Sha256);
        if let Some((mode, until)) = self.retention_until().filter(|_| locked) {
            create = create.object_lock_mode(mode).object_lock_retain_until_date(until);
        }
        let created = create.send().await.map_err(|e| sdk("starting an upload of", &full, e))?;
        let upload_id = created.upload_id().unwrap_or_default().to_owned();
        let result = self.send_parts(&full, &upload_id, (first, reader), create_only, expected).await;
        if !matches!(result, Ok(Written::Created)) {
            let abort = client.abort_multipart_upload().bucket(&self.location.bucket).key(&full).upload_id(&upload_id);
            if let Err(e) = abort.send().await {
                tracing::warn!(key = %full, error = %sdk("aborting an upload of", &full, e), "an incomplete upload is left behind; a lifecycle rule for incomplete uploads removes it");
            }
        }
        result
    }

    /// Sends the parts of an upload while the next is read and hashed,
    /// with up to [`IN_FLIGHT_BYTES`] of parts in flight (at least one), as
    /// boto3 and the AWS CLI overlap theirs; memory stays bounded by that
    /// and one part being read.
    async fn send_parts(
        &self,
        full: &str,
        upload_id: &str,
        (first, reader): (Part, &mut PartReader),
        create_only: bool,
        expected: Option<&[String]>,
    ) -> Result<Written, StoreError> {
        let client = self.client().await?;
        let mut in_flight = InFlight::default();
        let mut part = first;
        let mut number = 0;
        while !part.bytes.is_empty() {
            number += 1;
            if number > MAX_PARTS {
                return Err(StoreError::invalid(
                    "upload",
                    full,
                    "over 10,000 parts (about 867 GiB); S3 cannot store it",
                ));
            }
            if expected.is_some_and(|sums| sums.get(number - 1) != Some(&part.sha256_b64)) {
                tracing::debug!(key = %full, part = number, "a part differs from its first read; the upload stops");
                return Ok(Written::Changed);
            }
            while !in_flight.tasks.is_empty() && in_flight.bytes + part.bytes.len() > IN_FLIGHT_BYTES {
                in_flight.settle_one(full).await?;
            }
            let send = SendPart {
                client: client.clone(),
                bucket: self.location.bucket.clone(),
                key: full.to_owned(),
                upload_id: upload_id.to_owned(),
                number: i32::try_from(number).unwrap_or(i32::MAX),
            };
            in_flight.bytes += part.bytes.len();
            in_flight.tasks.spawn(send.run(part));
            part = reader.next_part(part_size(number + 1)).await?;
        }
        if expected.is_some_and(|sums| sums.len() != number) {
            tracing::debug!(key = %full, parts = number, "fewer parts than at the first read; the upload stops");
            return Ok(Written::Changed);
        }
        while !in_flight.tasks.is_empty() {
            in_flight.settle_one(full).await?;
        }
        let mut parts = in_flight.done;
        parts.sort_by_key(|part| part.part_number());
        // The whole object's checksum too, so the server checks that the
        // parts it assembles are the parts sent, in order.
        let whole = composite_sha256(&parts)?;
        let mut complete = client
            .complete_multipart_upload()
            .bucket(&self.location.bucket)
            .key(full)
            .upload_id(upload_id)
            .checksum_sha256(whole)
            .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build());
        if create_only {
            complete = complete.if_none_match("*");
        }
        match complete.send().await {
            Ok(_) => Ok(Written::Created),
            Err(e) if create_only && is_taken(&e) => Ok(Written::Taken),
            Err(e) => Err(sdk("completing an upload of", full, e)),
        }
    }
}

/// S3's checksum of a multipart object with SHA-256 part checksums: the
/// SHA-256 of the parts' digests one after the other, in base64, with
/// `-` and the number of parts (a "composite" checksum).
fn composite_sha256(parts: &[CompletedPart]) -> Result<String, StoreError> {
    let mut of_parts = Sha256::new();
    for part in parts {
        let digest = part
            .checksum_sha256()
            .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
            .ok_or_else(|| StoreError::invalid("upload", "a part", "was sent without its SHA-256"))?;
        of_parts.update(digest);
    }
    let whole = base64::engine::general_purpose::STANDARD.encode(of_parts.finalize());
    Ok(format!("{whole}-{}", parts.len()))
}

/// Parts being sent, and those sent.
#[derive(Default)]
struct InFlight {
    tasks: tokio::task::JoinSet<Result<(CompletedPart, usize), StoreError>>,
    bytes: usize,
    done: Vec<CompletedPart>,
}

impl InFlight {
    /// Waits for one part to be sent; its error ends the upload (dropping
    /// the set aborts the others).
    async fn settle_one(&mut self, full: &str) -> Result<(), StoreError> {
        let Some(joined) = self.tasks.join_next().await else { return Ok(()) };
        let (part, len) = joined.map_err(StoreError::join)?.map_err(|e| {
            tracing::debug!(key = %full, error = %e, "a part failed; the upload stops");
            e
        })?;
        self.bytes -= len;
        self.done.push(part);
        Ok(())
    }
}

/// What sending one part needs, owned so that it runs as a task.
struct SendPart {
    client: aws_sdk_s3::Client,
    bucket: String,
    key: String,
    upload_id: String,
    number: i32,
}

impl SendPart {
    async fn run(self, part: Part) -> Result<(CompletedPart, usize), StoreError> {
        let len = part.bytes.len();
        let sent = self
            .client
            .upload_part()
            .bucket(&self.bucket)
            .key(&self.key)
            .upload_id(&self.upload_id)
            .part_number(self.number)
            .checksum_sha256(&part.sha256_b64)
            .body(ByteStream::from(part.bytes))
            .send()
            .await
            .map_err(|e| sdk("uploading a part of", &self.key, e))?;
        let completed = CompletedPart::builder()
            .part_number(self.number)
            .set_e_tag(sent.e_tag().map(str::to_owned))
            .checksum_sha256(part.sha256_b64)
            .build();
        Ok((completed, len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_composite_checksum_is_the_sha256_of_the_part_digests() {
        let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
        let (a, b) = (Sha256::digest(b"first part"), Sha256::digest(b"second"));
        let part = |n, d: &[u8]| CompletedPart::builder().part_number(n).checksum_sha256(b64(d)).build();
        let both: Vec<u8> = a.iter().chain(b.iter()).copied().collect();
        let expected = format!("{}-2", b64(&Sha256::digest(&both)));
        assert_eq!(composite_sha256(&[part(1, &a), part(2, &b)]).unwrap(), expected);
        let unsent = CompletedPart::builder().part_number(1).build();
        assert!(composite_sha256(&[unsent]).is_err());
    }

    #[test]
    fn parts_grow_so_that_ten_thousand_hold_a_disk_image() {
        assert_eq!(part_size(1), PART);
        assert_eq!(part_size(1000), PART);
        assert_eq!(part_size(1001), 2 * PART);
        assert_eq!(part_size(4001), LARGEST_PART);
        assert_eq!(part_size(MAX_PARTS), LARGEST_PART);
        let capacity: u64 = (1..=MAX_PARTS).map(|n| part_size(n) as u64).sum();
        assert!(capacity > 800 << 30, "10,000 parts hold {capacity} bytes");
        assert!((1..=MAX_PARTS).all(|n| part_size(n) >= 5 << 20), "every part but the last is over S3's minimum");
    }
}
