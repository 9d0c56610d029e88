//! The S3 [`ObjectStore`]: path-style addressing, create-only writes with
//! `If-None-Match: *`, streaming multipart uploads with a SHA-256 per part,
//! content-addressed puts by staging and conditional copy (see
//! `content.rs`), ranged GETs, paginated lists, Object Lock retention on
//! everything it keeps, and a capability probe that refuses a server which
//! silently overwrites (see `probe.rs`).

mod config;
mod content;
mod errors;
mod file_upload;
mod probe;
mod read;
mod upload;

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::retry::{RetryConfig, RetryPartition};
use aws_sdk_s3::config::{RequestChecksumCalculation, ResponseChecksumValidation};
use aws_sdk_s3::primitives::DateTime;
use aws_sdk_s3::types::ObjectLockMode;
use aws_smithy_runtime::client::retries::TokenBucket;
use exhibit_core::digest::{HashSelection, Sha256Digest};
use exhibit_core::layout::ObjectKey;
use tokio::sync::OnceCell;

pub use config::{Retention, S3Location};
pub use probe::probe_create_only;

use crate::{Body, ContentBody, ObjectMeta, ObjectStore, PutReceipt, Staged, StoreError, VerifyingReader};
use upload::{PartReader, Written};

/// Objects in an S3 bucket, under a prefix. A clone shares the client (and
/// the probe's verdict, once given).
#[derive(Clone)]
pub struct S3Store {
    location: S3Location,
    /// Built on first use from the SDK's standard configuration (loading it
    /// is async), or given by [`S3Store::with_client`].
    client: OnceCell<Client>,
    /// The create-only probe's verdict, run before the first create-only
    /// write (ledger entries, manifests).
    probed: OnceCell<()>,
}

impl fmt::Debug for S3Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Store").field("location", &self.location).finish_non_exhaustive()
    }
}

impl S3Store {
    /// A store at `location`, configured from the environment on first use.
    pub fn new(location: S3Location) -> Self {
        Self { location, client: OnceCell::new(), probed: OnceCell::new() }
    }

    /// Opens `s3://BUCKET[/PREFIX][?retention=MODE&retention_days=N]`.
    pub fn open(uri: &str) -> Result<Self, StoreError> {
        Ok(Self::new(S3Location::parse(uri)?))
    }

    /// A store at `location` using `config` (endpoint, region, credentials)
    /// instead of the environment; addressing is made path-style.
    pub fn with_config(location: S3Location, config: &aws_config::SdkConfig) -> Self {
        Self { location, client: OnceCell::new_with(Some(client_from(config))), probed: OnceCell::new() }
    }

    /// As [`S3Store::with_config`], with `interceptor` run on every
    /// request the store sends (tests count requests with it).
    pub fn with_config_and_interceptor(
        location: S3Location,
        config: &aws_config::SdkConfig,
        interceptor: impl aws_sdk_s3::config::Intercept + 'static,
    ) -> Self {
        let client = Client::from_conf(client_config(config).interceptor(interceptor).build());
        Self { location, client: OnceCell::new_with(Some(client)), probed: OnceCell::new() }
    }

    async fn client(&self) -> Result<&Client, StoreError> {
        self.client
            .get_or_try_init(|| async {
                let config = aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await;
                if config.region().is_none() {
                    return Err(StoreError::invalid(
                        "S3 region",
                        "",
                        "set AWS_REGION (or a profile's region) for the S3 store",
                    ));
                }
                Ok(client_from(&config))
            })
            .await
    }

    fn full_key(&self, key: &str) -> String {
        format!("{}{key}", self.location.prefix)
    }

    fn retention_until(&self) -> Option<(ObjectLockMode, DateTime)> {
        let retention = self.location.retention.as_ref()?;
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let until = i64::try_from(now + u64::from(retention.days) * 86_400).unwrap_or(i64::MAX);
        Some((retention.mode.clone(), DateTime::from_secs(until)))
    }

    async fn ensure_probed(&self) -> Result<(), StoreError> {
        self.probed.get_or_try_init(|| probe::probe_create_only(self)).await.map(drop)
    }
}

/// Attempts at one S3 call that fails for a reason a retry may cure (the
/// connection refused or cut, a timeout, 5xx, throttling). With the pauses
/// below (jittered, 1 s doubling to 8 s) they span about 45 s on average
/// and at most 90 s, so a short storage outage (a restart, a failover)
/// stalls the calls in flight instead of failing their jobs.
const OUTAGE_ATTEMPTS: u32 = 14;
const OUTAGE_FIRST_PAUSE: Duration = Duration::from_secs(1);
const OUTAGE_LONGEST_PAUSE: Duration = Duration::from_secs(8);

/// An S3 client from `config`, path-style, computing and checking only the
/// checksums exhibit sets itself (SHA-256, per part), retrying through a
/// storage outage (see [`OUTAGE_ATTEMPTS`]). The retry quota is unlimited:
/// the SDK's default bucket (500 tokens, 5 a retry) runs dry within seconds
/// of an outage when several jobs retry at once, and then fails every call
/// at its first error.
fn client_from(config: &aws_config::SdkConfig) -> Client {
    Client::from_conf(client_config(config).build())
}

/// The configuration [`client_from`] builds a client from.
fn client_config(config: &aws_config::SdkConfig) -> aws_sdk_s3::config::Builder {
    let retry = RetryConfig::standard()
        .with_max_attempts(OUTAGE_ATTEMPTS)
        .with_initial_backoff(OUTAGE_FIRST_PAUSE)
        .with_max_backoff(OUTAGE_LONGEST_PAUSE);
    let partition = RetryPartition::custom("exhibit-s3").token_bucket(TokenBucket::unlimited()).build();
    aws_sdk_s3::config::Builder::from(config)
        .force_path_style(true)
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(ResponseChecksumValidation::WhenRequired)
        .retry_config(retry)
        .retry_partition(partition)
}

#[async_trait]
impl ObjectStore for S3Store {
    fn uri(&self) -> String {
        format!("s3://{}/{}", self.location.bucket, self.location.prefix)
    }

    async fn check_create_only(&self) -> Result<(), StoreError> {
        self.ensure_probed().await
    }

    #[tracing::instrument(skip(self, body), fields(key = %key))]
    async fn put_new(&self, key: &ObjectKey, body: Body, hashes: HashSelection) -> Result<PutReceipt, StoreError> {
        self.ensure_probed().await?;
        let mut reader = PartReader::new(body, hashes, key.as_str());
        let first = reader.next_part(upload::PART).await?;
        match self.upload(key.as_str(), first, &mut reader, true, true).await? {
            Written::Created => {
                let (size, digests) = reader.finish();
                Ok(PutReceipt { key: key.clone(), size, digests, created: true })
            }
            Written::Taken => Err(StoreError::already_exists(key)),
            Written::Changed => Err(StoreError::invalid("upload", key.as_str(), "no checked parts on a new key")),
        }
    }

    #[tracing::instrument(skip(self, body))]
    async fn put_content(&self, prefix: &str, body: Body, hashes: HashSelection) -> Result<PutReceipt, StoreError> {
        if !prefix.ends_with('/') || ObjectKey::new(prefix.trim_end_matches('/')).is_none() {
            return Err(StoreError::invalid("content prefix", prefix, "a valid key prefix ending in /"));
        }
        self.put_content_streaming(prefix, body, hashes).await
    }

    /// A regular file is hashed first and uploaded once, straight to its
    /// content key (see `file_upload.rs`); a stream is staged and copied.
    #[tracing::instrument(skip(self, body))]
    async fn put_content_from(
        &self,
        prefix: &str,
        body: ContentBody,
        hashes: HashSelection,
    ) -> Result<PutReceipt, StoreError> {
        if !prefix.ends_with('/') || ObjectKey::new(prefix.trim_end_matches('/')).is_none() {
            return Err(StoreError::invalid("content prefix", prefix, "a valid key prefix ending in /"));
        }
        match body {
            ContentBody::File(file) => self.put_content_file(prefix, file, hashes).await,
            ContentBody::Stream(body) => self.put_content_streaming(prefix, body, hashes).await,
        }
    }

    /// Puts at once (every S3 put is durable), by [`ObjectStore::put_content_from`].
    async fn stage_content(
        &self,
        prefix: &str,
        body: ContentBody,
        hashes: HashSelection,
    ) -> Result<Staged, StoreError> {
        self.put_content_from(prefix, body, hashes).await.map(crate::batch::staged_done)
    }

    #[tracing::instrument(level = "debug", skip(self), fields(key = %key))]
    async fn get(&self, key: &ObjectKey, expect: Option<Sha256Digest>) -> Result<VerifyingReader, StoreError> {
        let (body, size) = self.download(key, None).await?;
        let expect = expect.or_else(|| key.content_sha256());
        Ok(VerifyingReader::new(key.clone(), read::blocking_reader(body)).expect_sha256(expect).expect_size(Some(size)))
    }

    fn to_shared(&self) -> Option<std::sync::Arc<dyn ObjectStore>> {
        Some(std::sync::Arc::new(self.clone()))
    }

    #[tracing::instrument(level = "debug", skip(self), fields(key = %key))]
    async fn get_range(&self, key: &ObjectKey, offset: u64, len: u64) -> Result<Vec<u8>, StoreError> {
        self.range(key, offset, len).await
    }

    #[tracing::instrument(level = "debug", skip(self), fields(key = %key))]
    async fn head(&self, key: &ObjectKey) -> Result<ObjectMeta, StoreError> {
        self.head_object(key).await
    }

    #[tracing::instrument(level = "debug", skip(self))]
    async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>, StoreError> {
        self.list_objects(prefix).await
    }
}
