//! What a probe and a transcode report. Times are integer microseconds and
//! rationals are `[num, den]` so that every value fits custody event params.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::policy::{Container, InputClass};

/// What the source is, as libavformat reads it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeReport {
    /// Demuxer name, e.g. `avi`, `mov,mp4,m4a,3gp,3g2,mj2`.
    pub container: String,
    /// Demuxer description.
    pub container_long_name: String,
    /// Declared duration.
    pub duration_us: Option<i64>,
    /// Declared start time.
    pub start_time_us: Option<i64>,
    /// Declared overall bit rate.
    pub bit_rate: Option<i64>,
    /// The streams.
    pub streams: Vec<StreamInfo>,
    /// Container tags (bounded in count and length).
    pub tags: BTreeMap<String, String>,
    /// The `creation_time` tag of the container or first stream that has one.
    pub creation_time: Option<String>,
    /// The policy class it falls in.
    pub class: InputClass,
    /// Whether the main audio stream is lossless or uncompressed.
    pub lossless_audio: bool,
}

/// One stream of the source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamInfo {
    /// Index in the container.
    pub index: usize,
    /// `video`, `audio`, `subtitle`, `data`, `attachment` or `unknown`.
    pub kind: String,
    /// Codec name, e.g. `mpeg4`, `mp3`, `pcm_s16le`.
    pub codec: String,
    /// Stream time base.
    pub time_base: [i32; 2],
    /// Declared duration.
    pub duration_us: Option<i64>,
    /// Declared frame count, when the container states one.
    pub declared_frames: Option<i64>,
    /// Declared bit rate.
    pub bit_rate: Option<i64>,
    /// Video width.
    pub width: Option<u32>,
    /// Video height.
    pub height: Option<u32>,
    /// Pixel format.
    pub pix_fmt: Option<String>,
    /// Real base frame rate (`r_frame_rate`).
    pub frame_rate: Option<[i32; 2]>,
    /// Average frame rate.
    pub avg_frame_rate: Option<[i32; 2]>,
    /// Audio sample rate.
    pub sample_rate: Option<u32>,
    /// Audio channels.
    pub channels: Option<u16>,
    /// Audio sample format.
    pub sample_fmt: Option<String>,
    /// Cover art rather than video.
    pub attached_picture: bool,
    /// Stream tags (bounded).
    pub tags: BTreeMap<String, String>,
}

/// One problem met while decoding the source.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecodeIssue {
    /// Source stream index; absent for container-level problems.
    pub stream: Option<usize>,
    /// Where in the media, when known.
    pub at_us: Option<i64>,
    /// Byte position in the source, when known.
    pub byte_pos: Option<i64>,
    /// `demux-error`, `corrupt-packet`, `decode-error`, `corrupt-frame`, `truncated`.
    pub kind: String,
    /// The library's message.
    pub message: String,
}

/// A span of the source that could not be decoded in full.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DamagedRange {
    /// Source stream index.
    pub stream: usize,
    /// Start of the span.
    pub start_us: i64,
    /// End of the span.
    pub end_us: i64,
    /// Issue kinds in the span.
    pub kinds: Vec<String>,
}

/// What was decoded from one source stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceStreamStats {
    /// Source stream index.
    pub stream: usize,
    /// `video` or `audio`.
    pub kind: String,
    /// Video frames decoded.
    pub frames: u64,
    /// Audio samples decoded (per channel).
    pub samples: u64,
    /// Duration of what decoded.
    pub decodable_duration_us: i64,
    /// Timestamp of the first decoded frame, relative to the file start.
    pub first_us: i64,
}

/// What decoding one output stream in full gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputStreamStats {
    /// `video` or `audio`.
    pub kind: String,
    /// Codec name as ffprobe shows it.
    pub codec: String,
    /// Video frames decoded.
    pub frames: u64,
    /// Audio samples decoded (per channel).
    pub samples: u64,
    /// Duration decoded.
    pub duration_us: i64,
    /// Timestamp of the first decoded frame.
    pub start_us: i64,
    /// Video width and height, or audio sample rate and channels.
    pub shape: [u32; 2],
    /// Decode errors met.
    pub errors: u64,
}

/// The result of decoding an output in full.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Validation {
    /// Every check passed.
    pub passed: bool,
    /// What failed, in words.
    pub failures: Vec<String>,
    /// Per output stream.
    pub streams: Vec<OutputStreamStats>,
    /// Tolerance applied to video duration (one frame).
    pub video_tolerance_us: i64,
    /// Tolerance applied to audio duration.
    pub audio_tolerance_us: i64,
}

/// One file the policy produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputReport {
    /// The policy rule that made it.
    pub rule: String,
    /// Where it is.
    pub path: PathBuf,
    /// Container.
    pub container: Container,
    /// Codec names in the output, video first.
    pub codecs: Vec<String>,
    /// SHA-256 of the file, hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 over every decoded frame and sample of the output, hex: what
    /// `reproduce` compares when the bytes cannot be deterministic. Only
    /// computed for such outputs, unless the policy asks for it always.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decoded_sha256: Option<String>,
    /// Whether a re-run gives the same bytes (same policy and library versions).
    pub deterministic: bool,
    /// Source streams read and what decoded from them.
    pub source: Vec<SourceStreamStats>,
    /// The full-decode check.
    pub validation: Validation,
    /// Encoder settings actually used, as key/value text.
    pub settings: BTreeMap<String, String>,
}

/// Everything one transcode produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TranscodeOutcome {
    /// The source as probed.
    pub probe: ProbeReport,
    /// The policy version used.
    pub policy_version: String,
    /// The outputs, in rule order.
    pub outputs: Vec<OutputReport>,
    /// Problems met decoding the source (bounded; see `issues_dropped`).
    pub issues: Vec<DecodeIssue>,
    /// Issues not kept because the list was full.
    pub issues_dropped: u64,
    /// Spans of the source affected by the issues.
    pub damaged: Vec<DamagedRange>,
    /// `damaged`, `validation-failed`, `not-deterministic`.
    pub flags: Vec<String>,
    /// Library versions that shaped the result (for `ToolInfo.libraries`).
    pub libraries: BTreeMap<String, String>,
    /// Child process peak RSS in KiB, when the OS reports it.
    pub child_max_rss_kib: Option<u64>,
}

impl TranscodeOutcome {
    /// Whether the source had decode problems.
    pub fn is_damaged(&self) -> bool {
        self.flags.iter().any(|f| f == FLAG_DAMAGED)
    }
}

/// Flag: the source had decode errors or missing data.
pub const FLAG_DAMAGED: &str = "damaged";
/// Flag: an output failed its full-decode check.
pub const FLAG_VALIDATION_FAILED: &str = "validation-failed";
/// Flag: an output cannot be reproduced byte for byte.
pub const FLAG_NOT_DETERMINISTIC: &str = "not-deterministic";
