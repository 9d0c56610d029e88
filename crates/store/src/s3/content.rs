//! Content-addressed puts. The key is the SHA-256 of the bytes, known only
//! once they are all read, so a body longer than one part is first uploaded
//! to a unique staging key (`staging~/…`, a name no object key can have),
//! then copied server-side to `PREFIX<sha256>` by a multipart copy whose
//! completion is `If-None-Match: *` (S3's CopyObject has no create-only
//! condition; CompleteMultipartUpload has), then the staging key is
//! deleted. A body of one part is hashed in memory and put create-only at
//! once. Losing the race to an identical object is success, `created`
//! false: the bytes under a content key are the same whoever wrote them.

use std::sync::atomic::{AtomicU64, Ordering};

use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use exhibit_core::digest::HashSelection;
use exhibit_core::layout::ObjectKey;

use super::S3Store;
use super::errors::{is_taken, sdk};
use super::upload::{PART, PartReader, Written};
use crate::{Body, PutReceipt, StoreError, StoreErrorKind};

/// Where staging objects go, under the store's prefix. `~` is not allowed
/// in an object key, so no stored object can collide or be listed.
pub(crate) const STAGING: &str = "staging~/";
/// Bytes per part of a server-side copy (S3 allows up to 5 GiB), more
/// where the object needs it to stay within [`MAX_COPY_PARTS`].
const COPY_PART: u64 = 256 << 20;
const MAX_COPY_PARTS: u64 = 10_000;
/// Parts copied at once: the server does the work, so this costs exhibit
/// no memory.
const COPIES_AT_ONCE: usize = 4;

impl S3Store {
    pub(crate) async fn put_content_streaming(
        &self,
        prefix: &str,
        body: Body,
        hashes: HashSelection,
    ) -> Result<PutReceipt, StoreError> {
        let mut reader = PartReader::new(body, hashes, prefix);
        let first = reader.next_part(PART).await?;
        if first.bytes.len() < PART {
            let (size, digests) = reader.finish();
            let key = content_key(prefix, &digests.sha256.to_hex())?;
            let written = self.put_whole(key.as_str(), first, true, true).await?;
            return Ok(PutReceipt { key, size, digests, created: matches!(written, Written::Created) });
        }
        let staging = staging_key();
        self.upload(&staging, first, &mut reader, false, false).await?;
        let (size, digests) = reader.finish();
        let key = content_key(prefix, &digests.sha256.to_hex())?;
        let copied = self.copy_create_only(&staging, key.as_str(), size).await;
        self.delete_leftover(&staging, "remove staging~/ objects older than a day").await;
        Ok(PutReceipt { key, size, digests, created: matches!(copied?, Written::Created) })
    }

    /// Copies `from` to `to` server-side, create-only, with retention.
    async fn copy_create_only(&self, from: &str, to: &str, size: u64) -> Result<Written, StoreError> {
        let to_key = ObjectKey::new(to).ok_or_else(|| StoreError::invalid("content key", to, "a valid key"))?;
        match self.head_object(&to_key).await {
            Ok(_) => return Ok(Written::Taken),
            Err(e) if e.kind() == StoreErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        let full = self.full_key(to);
        let client = self.client().await?;
        let mut create = client.create_multipart_upload().bucket(&self.location.bucket).key(&full);
        if let Some((mode, until)) = self.retention_until() {
            create = create.object_lock_mode(mode).object_lock_retain_until_date(until);
        }
        let created = create.send().await.map_err(|e| sdk("starting a copy to", &full, e))?;
        let upload_id = created.upload_id().unwrap_or_default().to_owned();
        let result = self.copy_parts(from, &full, &upload_id, size).await;
        if !matches!(result, Ok(Written::Created)) {
            let abort = client.abort_multipart_upload().bucket(&self.location.bucket).key(&full).upload_id(&upload_id);
            if let Err(e) = abort.send().await {
                tracing::warn!(key = %full, error = %sdk("aborting a copy to", &full, e), "an incomplete copy is left behind");
            }
        }
        result
    }

    /// Copies `from` part by part, [`COPIES_AT_ONCE`] parts at a time.
    async fn copy_parts(&self, from: &str, full: &str, upload_id: &str, size: u64) -> Result<Written, StoreError> {
        let client = self.client().await?;
        let source = format!("{}/{}", self.location.bucket, self.full_key(from));
        let part_bytes = COPY_PART.max(size.div_ceil(MAX_COPY_PARTS));
        let mut copies = tokio::task::JoinSet::new();
        let mut parts = Vec::new();
        let (mut start, mut number) = (0, 0);
        while start < size {
            if copies.len() >= COPIES_AT_ONCE {
                parts.push(next_copied(&mut copies).await?);
            }
            let end = (start + part_bytes).min(size) - 1;
            number += 1;
            let copy = client
                .upload_part_copy()
                .bucket(&self.location.bucket)
                .key(full)
                .upload_id(upload_id)
                .part_number(number)
                .copy_source(&source)
                .copy_source_range(format!("bytes={start}-{end}"));
            let what = full.to_owned();
            copies.spawn(async move {
                let copied = copy.send().await.map_err(|e| sdk("copying a part to", &what, e))?;
                let e_tag = copied.copy_part_result().and_then(|r| r.e_tag()).map(str::to_owned);
                Ok(CompletedPart::builder().part_number(number).set_e_tag(e_tag).build())
            });
            start = end + 1;
        }
        while !copies.is_empty() {
            parts.push(next_copied(&mut copies).await?);
        }
        parts.sort_by_key(|part| part.part_number());
        let complete = client
            .complete_multipart_upload()
            .bucket(&self.location.bucket)
            .key(full)
            .upload_id(upload_id)
            .multipart_upload(CompletedMultipartUpload::builder().set_parts(Some(parts)).build())
            .if_none_match("*");
        match complete.send().await {
            Ok(_) => Ok(Written::Created),
            Err(e) if is_taken(&e) => Ok(Written::Taken),
            Err(e) => Err(sdk("completing a copy to", full, e)),
        }
    }

    /// Deletes an object exhibit no longer needs (a staging copy, a probe);
    /// a failure (Object Lock retention, a lost connection) only leaves
    /// garbage, so it warns with `advice`.
    pub(crate) async fn delete_leftover(&self, key: &str, advice: &str) {
        let full = self.full_key(key);
        let deleted = match self.client().await {
            Ok(client) => client
                .delete_object()
                .bucket(&self.location.bucket)
                .key(&full)
                .send()
                .await
                .map(drop)
                .map_err(|e| sdk("deleting", &full, e)),
            Err(e) => Err(e),
        };
        if let Err(e) = deleted {
            tracing::warn!(key = %full, error = %e, advice, "an object exhibit no longer needs is left behind");
        }
    }
}

/// The next part copy to finish; its error ends the copy.
async fn next_copied(
    copies: &mut tokio::task::JoinSet<Result<CompletedPart, StoreError>>,
) -> Result<CompletedPart, StoreError> {
    match copies.join_next().await {
        Some(joined) => joined.map_err(StoreError::join)?,
        None => Err(StoreError::invalid("copy", "parts", "a part copy in flight")),
    }
}

pub(crate) fn content_key(prefix: &str, hex: &str) -> Result<ObjectKey, StoreError> {
    ObjectKey::new(format!("{prefix}{hex}"))
        .ok_or_else(|| StoreError::invalid("content prefix", prefix, "a valid key prefix ending in /"))
}

fn staging_key() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{STAGING}{nanos}-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}
