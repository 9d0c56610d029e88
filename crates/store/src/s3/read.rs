//! Reads: whole objects streamed into a blocking reader, ranged GETs,
//! heads, and paginated lists.

use std::io::{self, Read};
use std::sync::mpsc;

use aws_sdk_s3::primitives::ByteStream;
use bytes::Bytes;
use exhibit_core::layout::ObjectKey;

use super::S3Store;
use super::errors::{sdk, sdk_at};
use crate::{ObjectMeta, StoreError};

/// Chunks in flight between the download task and the reader: bounded, so
/// a slow reader holds the download back instead of buffering the object.
const CHUNKS_IN_FLIGHT: usize = 4;

/// A blocking [`Read`] over a download running on the runtime.
struct StreamReader {
    chunks: mpsc::Receiver<io::Result<Bytes>>,
    current: Bytes,
}

impl Read for StreamReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.chunks.recv() {
                Ok(chunk) => self.current = chunk?,
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

/// Feeds `body` into a blocking reader. The download stops when the reader
/// is dropped.
pub(crate) fn blocking_reader(mut body: ByteStream) -> Box<dyn Read + Send> {
    let (send, chunks) = mpsc::sync_channel(CHUNKS_IN_FLIGHT);
    tokio::spawn(async move {
        loop {
            let next = body.try_next().await.map_err(io::Error::other);
            let (done, item) = match next {
                Ok(Some(chunk)) => (false, Ok(chunk)),
                Ok(None) => return,
                Err(e) => (true, Err(e)),
            };
            let send = send.clone();
            // The channel is bounded and blocking: send off the runtime.
            let sent = tokio::task::spawn_blocking(move || send.send(item)).await;
            if done || !matches!(sent, Ok(Ok(()))) {
                return;
            }
        }
    });
    Box::new(StreamReader { chunks, current: Bytes::new() })
}

impl S3Store {
    pub(crate) async fn head_object(&self, key: &ObjectKey) -> Result<ObjectMeta, StoreError> {
        let full = self.full_key(key.as_str());
        let head = self.client().await?.head_object().bucket(&self.location.bucket).key(&full).send().await;
        let head = head.map_err(|e| sdk_at("looking at", key, &full, e))?;
        let size = head.content_length().and_then(|n| u64::try_from(n).ok()).unwrap_or(0);
        Ok(ObjectMeta { key: key.clone(), size })
    }

    /// Downloads `key` (or a `bytes=a-b` range of it); the size it reports.
    pub(crate) async fn download(
        &self,
        key: &ObjectKey,
        range: Option<String>,
    ) -> Result<(ByteStream, u64), StoreError> {
        let full = self.full_key(key.as_str());
        let get =
            self.client().await?.get_object().bucket(&self.location.bucket).key(&full).set_range(range).send().await;
        let got = get.map_err(|e| sdk_at("reading", key, &full, e))?;
        let size = got.content_length().and_then(|n| u64::try_from(n).ok()).unwrap_or(0);
        Ok((got.body, size))
    }

    /// Bytes `[offset, offset + len)` of `key`, fewer at its end.
    pub(crate) async fn range(&self, key: &ObjectKey, offset: u64, len: u64) -> Result<Vec<u8>, StoreError> {
        let len = crate::ranged::check_len(key, len)?;
        let size = self.head_object(key).await?.size;
        let len = len.min(size.saturating_sub(offset));
        if len == 0 {
            return Ok(Vec::new());
        }
        let (body, _) = self.download(key, Some(format!("bytes={offset}-{}", offset + len - 1))).await?;
        let bytes = body
            .collect()
            .await
            .map_err(|e| StoreError::io_at("reading a range of", key.to_string(), io::Error::other(e)))?;
        let bytes = bytes.into_bytes();
        if bytes.len() as u64 != len {
            return Err(StoreError::corrupt(key, format!("a ranged read returned {} bytes, not {len}", bytes.len())));
        }
        Ok(bytes.to_vec())
    }

    /// Every object under `prefix`, page by page, sorted by key.
    pub(crate) async fn list_objects(&self, prefix: &str) -> Result<Vec<ObjectMeta>, StoreError> {
        let full = self.full_key(prefix);
        let client = self.client().await?;
        let mut pages = client.list_objects_v2().bucket(&self.location.bucket).prefix(&full).into_paginator().send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| sdk("listing", &full, e))?;
            for object in page.contents() {
                let Some(key) =
                    object.key().and_then(|k| k.strip_prefix(&self.location.prefix)).and_then(ObjectKey::new)
                else {
                    continue;
                };
                let size = object.size().and_then(|n| u64::try_from(n).ok()).unwrap_or(0);
                out.push(ObjectMeta { key, size });
            }
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }
}
