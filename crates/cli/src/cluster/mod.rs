//! Cluster mode: `exhibit worker` processes taking jobs of any case off a
//! shared queue (`--queue amqp://...`) and recording into a shared store
//! (`--store s3://...`), and `exhibit ingest` handing them its jobs.

pub mod metrics;
pub mod scopes;
pub mod stages;
