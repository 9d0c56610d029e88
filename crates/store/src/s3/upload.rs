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

/// Bytes per part: over S3's 5 MiB minimum, and what one upload holds in
/// memory.
pub(crate) const PART: usize = 8 << 20;

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

    /// The next part, up to [`PART`] bytes; empty at the end.
    pub(crate) async fn next_part(&mut self) -> Result<Vec<u8>, StoreError> {
        let (Some(mut body), Some(mut hasher)) = (self.body.take(), self.hasher.take()) else {
            return Ok(Vec::new());
        };
        let target = self.target.clone();
        let (body, hasher, part) = tokio::task::spawn_blocking(move || {
            let mut part = Vec::with_capacity(PART);
            let read = (&mut body).take(PART as u64).read_to_end(&mut part);
            hasher.update(&part);
            read.map(|_| (body, hasher, part)).map_err(|e| StoreError::io_at("reading the body for", target, e))
        })
        .await
        .map_err(StoreError::join)??;
        self.size += part.len() as u64;
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
    base64::engine::general_purpose::STANDARD.encode(Sha256::digest(bytes))
}

/// How a write ended.
pub(crate) enum Written {
    Created,
    /// A create-only write found the key taken.
    Taken,
}

impl S3Store {
    /// Stores `first` (already read) and the rest of `reader` under `key`.
    /// With `create_only`, the write is `If-None-Match: *`; with `locked`,
    /// it carries the store's Object Lock retention.
    pub(crate) async fn upload(
        &self,
        key: &str,
        first: Vec<u8>,
        reader: &mut PartReader,
        create_only: bool,
        locked: bool,
    ) -> Result<Written, StoreError> {
        if first.len() < PART {
            return self.put_whole(key, first, create_only, locked).await;
        }
        self.put_multipart(key, first, reader, create_only, locked).await
    }

    /// One PUT of a body that fits in a part.
    pub(crate) async fn put_whole(
        &self,
        key: &str,
        bytes: Vec<u8>,
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
            .checksum_sha256(sha256_b64(&bytes));
        if create_only {
            put = put.if_none_match("*");
        }
        if let Some((mode, until)) = self.retention_until().filter(|_| locked) {
            put = put.object_lock_mode(mode).object_lock_retain_until_date(until);
        }
        match put.body(ByteStream::from(bytes)).send().await {
            Ok(_) => Ok(Written::Created),
            Err(e) if create_only && is_taken(&e) => Ok(Written::Taken),
            Err(e) => Err(sdk("writing", &full, e)),
        }
    }

    async fn put_multipart(
        &self,
        key: &str,
        first: Vec<u8>,
        reader: &mut PartReader,
        create_only: bool,
        locked: bool,
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
        let result = self.send_parts(&full, &upload_id, first, reader, create_only).await;
        if !matches!(result, Ok(Written::Created)) {
            let abort = client.abort_multipart_upload().bucket(&self.location.bucket).key(&full).upload_id(&upload_id);
            if let Err(e) = abort.send().await {
                tracing::warn!(key = %full, error = %sdk("aborting an upload of", &full, e), "an incomplete upload is left behind; a lifecycle rule for incomplete uploads removes it");
            }
        }
        result
    }

    async fn send_parts(
        &self,
        full: &str,
        upload_id: &str,
        first: Vec<u8>,
        reader: &mut PartReader,
        create_only: bool,
    ) -> Result<Written, StoreError> {
        let client = self.client().await?;
        let mut parts = Vec::new();
        let mut part = first;
        while !part.is_empty() {
            let number = i32::try_from(parts.len() + 1).unwrap_or(i32::MAX);
            if number > 10_000 {
                return Err(StoreError::invalid("upload", full, "over 10,000 parts of 8 MiB; S3 cannot store it"));
            }
            let checksum = sha256_b64(&part);
            let sent = client
                .upload_part()
                .bucket(&self.location.bucket)
                .key(full)
                .upload_id(upload_id)
                .part_number(number)
                .checksum_sha256(&checksum)
                .body(ByteStream::from(part))
                .send()
                .await
                .map_err(|e| sdk("uploading a part of", full, e))?;
            parts.push(
                CompletedPart::builder()
                    .part_number(number)
                    .set_e_tag(sent.e_tag().map(str::to_owned))
                    .checksum_sha256(checksum)
                    .build(),
            );
            part = reader.next_part().await?;
        }
        let mut complete = client
            .complete_multipart_upload()
            .bucket(&self.location.bucket)
            .key(full)
            .upload_id(upload_id)
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
