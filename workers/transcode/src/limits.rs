//! Resource limits for one transcode job. Inputs are hostile: every limit is
//! checked against declared values before anything is allocated, and the
//! child process runs under rlimits and a wall-clock timeout as a backstop.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Bounds for one job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Largest frame (width × height) accepted, declared or decoded.
    pub max_frame_pixels: u64,
    /// Longest media duration accepted, declared or decoded.
    pub max_duration: Duration,
    /// Highest audio sample rate accepted.
    pub max_sample_rate: u32,
    /// Most audio channels accepted.
    pub max_channels: u16,
    /// Wall-clock time before the child is killed.
    pub timeout: Duration,
    /// CPU time for the child (RLIMIT_CPU).
    pub max_cpu: Duration,
    /// Address space for the child in bytes (RLIMIT_AS).
    pub max_address_space: u64,
    /// Largest single allocation libav* may make (`av_max_alloc`).
    pub max_alloc: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_frame_pixels: 8192 * 8192,
            max_duration: Duration::from_secs(12 * 3600),
            max_sample_rate: 768_000,
            max_channels: 32,
            timeout: Duration::from_secs(4 * 3600),
            max_cpu: Duration::from_secs(8 * 3600),
            max_address_space: 8 << 30,
            max_alloc: 1 << 30,
        }
    }
}

impl Limits {
    /// Bounds for probing one file ([`crate::probe_media`]): the same caps on
    /// declared values, but a minute of wall and CPU time and 2 GiB of
    /// address space, since it decodes one frame, not the whole file.
    pub fn for_probe() -> Self {
        Self {
            timeout: Duration::from_secs(60),
            max_cpu: Duration::from_secs(60),
            max_address_space: 2 << 30,
            ..Self::default()
        }
    }
}
