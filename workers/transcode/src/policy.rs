//! The declared normalisation policy (`config/normalisation.toml`): which
//! outputs each input class gets, with fixed encoder settings so that a
//! re-run reproduces the same bytes. Its `version` is recorded with every
//! output, and so is the name of the rule that made it.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{ErrorKind, TranscodeError};

/// Largest policy file read.
const MAX_POLICY_BYTES: u64 = 1 << 20;

/// What kind of input a rule applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InputClass {
    /// Has at least one video stream that is not cover art.
    Video,
    /// Audio only.
    Audio,
    /// A CD audio track as WAV: PCM s16le, 44.1 kHz, stereo.
    Cdda,
}

/// When a rule applies within its class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum When {
    /// Always.
    #[default]
    Always,
    /// Only when the source audio is lossless or uncompressed (PCM, FLAC...).
    LosslessSource,
}

/// Output container.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Container {
    /// MP4 (ISO BMFF) with the moov atom moved to the front.
    Mp4,
    /// M4A: audio-only MP4 with the iTunes brand.
    M4a,
    /// Matroska.
    Matroska,
    /// Native FLAC.
    Flac,
    /// MP3 elementary stream.
    Mp3,
}

impl Container {
    /// The libavformat muxer name.
    pub fn muxer(self) -> &'static str {
        match self {
            Self::Mp4 => "mp4",
            Self::M4a => "ipod",
            Self::Matroska => "matroska",
            Self::Flac => "flac",
            Self::Mp3 => "mp3",
        }
    }

    /// The file extension used for outputs.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Mp4 => "mp4",
            Self::M4a => "m4a",
            Self::Matroska => "mkv",
            Self::Flac => "flac",
            Self::Mp3 => "mp3",
        }
    }

    fn carries_video(self) -> bool {
        matches!(self, Self::Mp4 | Self::Matroska)
    }
}

/// Video encoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VideoCodec {
    /// H.264 through libx264.
    Libx264,
    /// FFV1 (lossless).
    Ffv1,
}

/// Audio encoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AudioCodec {
    /// FFmpeg's native AAC-LC encoder.
    Aac,
    /// FLAC (lossless).
    Flac,
    /// MP3 through libmp3lame.
    Mp3,
}

/// Fixed video encoder settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VideoSettings {
    /// The encoder.
    pub codec: VideoCodec,
    /// Pixel format for lossy output (`yuv420p`); lossless keeps the source's when it can.
    #[serde(default)]
    pub pix_fmt: Option<String>,
    /// x264 constant rate factor.
    #[serde(default)]
    pub crf: Option<u8>,
    /// x264 preset.
    #[serde(default)]
    pub preset: Option<String>,
    /// FFV1 slice count.
    #[serde(default)]
    pub slices: Option<u8>,
}

/// Fixed audio encoder settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AudioSettings {
    /// The encoder.
    pub codec: AudioCodec,
    /// Bit rate for lossy codecs, bits per second.
    #[serde(default)]
    pub bitrate: Option<u32>,
    /// FLAC compression level.
    #[serde(default)]
    pub compression_level: Option<u8>,
}

/// One rule: an input class mapped to one output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Unique name, recorded with the output and used as its file stem.
    pub name: String,
    /// Input class it applies to.
    pub class: InputClass,
    /// Extra condition.
    #[serde(default)]
    pub when: When,
    /// False to keep the rule declared but unused.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Output container.
    pub container: Container,
    /// Video encoding, for classes with video.
    #[serde(default)]
    pub video: Option<VideoSettings>,
    /// Audio encoding; sources without audio get none.
    #[serde(default)]
    pub audio: Option<AudioSettings>,
}

fn yes() -> bool {
    true
}

/// Which outputs get a hash of their decoded content. Every output is
/// decoded in full either way; the hash costs a SHA-256 over every decoded
/// frame (about 2 GB for a minute of 720p), which only `reproduce` needs,
/// and only for outputs whose bytes cannot be deterministic.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DecodedHash {
    /// Outputs that are not byte-for-byte reproducible; the others are
    /// re-checked by their file SHA-256.
    #[default]
    WhenNotDeterministic,
    /// Every output.
    Always,
}

/// The whole policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Policy version, recorded with every output and custody event.
    pub version: String,
    /// Encoder threads; fixed so that output does not depend on the machine.
    /// 0 means "automatic", which makes x264 output machine-dependent.
    pub threads: u8,
    /// Which outputs get a SHA-256 over their decoded frames and samples.
    #[serde(default)]
    pub decoded_hash: DecodedHash,
    /// The rules, in output order.
    #[serde(rename = "rule")]
    pub rules: Vec<Rule>,
}

impl Policy {
    /// Parses and validates a policy from TOML text.
    pub fn from_toml(text: &str) -> Result<Self, TranscodeError> {
        let policy: Policy =
            toml::from_str(text).map_err(|e| TranscodeError::new(ErrorKind::Policy, format!("invalid policy: {e}")))?;
        policy.validate()?;
        Ok(policy)
    }

    /// The enabled rules that apply to an input.
    pub fn rules_for(&self, class: InputClass, lossless_audio: bool) -> Vec<&Rule> {
        self.rules
            .iter()
            .filter(|r| r.enabled && r.class == class)
            .filter(|r| r.when == When::Always || lossless_audio)
            .collect()
    }

    /// Whether `rule`'s output is reproducible byte for byte on any machine
    /// with the same library versions.
    pub fn deterministic(&self, rule: &Rule) -> bool {
        // x264 and FFV1 split work by thread count; "auto" varies by machine.
        self.threads != 0 || rule.video.is_none()
    }

    /// Whether `rule`'s output gets a decoded-content hash.
    pub fn hashes_decoded(&self, rule: &Rule) -> bool {
        self.decoded_hash == DecodedHash::Always || !self.deterministic(rule)
    }

    /// Checks consistency and names the bad rule or key.
    pub fn validate(&self) -> Result<(), TranscodeError> {
        let bad = |msg: String| Err(TranscodeError::new(ErrorKind::Policy, msg));
        if self.version.trim().is_empty() {
            return bad("policy `version` is empty".into());
        }
        if self.threads > 16 {
            return bad(format!("policy `threads` = {} is above 16", self.threads));
        }
        let mut names = std::collections::BTreeSet::new();
        for r in &self.rules {
            if r.name.is_empty() || !r.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
                return bad(format!("rule name {:?} must be non-empty [A-Za-z0-9_-]", r.name));
            }
            if !names.insert(r.name.as_str()) {
                return bad(format!("rule name {:?} is used twice", r.name));
            }
            let wants_video = r.class == InputClass::Video;
            if wants_video != r.video.is_some() {
                return bad(format!("rule {:?}: `video` settings are required for class video and only there", r.name));
            }
            if r.video.is_some() && !r.container.carries_video() {
                return bad(format!("rule {:?}: container {:?} cannot carry video", r.name, r.container));
            }
            if r.audio.is_none() && r.video.is_none() {
                return bad(format!("rule {:?} has neither `video` nor `audio`", r.name));
            }
            if let Some(v) = &r.video {
                validate_video(&r.name, v, r.container)?;
            }
            if let Some(a) = &r.audio {
                validate_audio(&r.name, a, r.container)?;
            }
        }
        Ok(())
    }
}

fn validate_video(name: &str, v: &VideoSettings, container: Container) -> Result<(), TranscodeError> {
    let bad = |msg: String| Err(TranscodeError::new(ErrorKind::Policy, format!("rule {name:?}: {msg}")));
    match v.codec {
        VideoCodec::Libx264 => {
            if v.crf.is_none_or(|c| c > 51) || v.preset.is_none() {
                return bad("libx264 needs `crf` (0-51) and `preset`".into());
            }
        }
        VideoCodec::Ffv1 if container != Container::Matroska => return bad("ffv1 needs container matroska".into()),
        VideoCodec::Ffv1 => {}
    }
    if let Some(fmt) = &v.pix_fmt
        && fmt.parse::<ffmpeg_next::format::Pixel>().is_err()
    {
        return bad(format!("unknown pix_fmt {fmt:?}"));
    }
    Ok(())
}

fn validate_audio(name: &str, a: &AudioSettings, container: Container) -> Result<(), TranscodeError> {
    let ok = matches!(
        (a.codec, container),
        (AudioCodec::Aac, Container::Mp4 | Container::M4a | Container::Matroska)
            | (AudioCodec::Flac, Container::Flac | Container::Matroska | Container::Mp4)
            | (AudioCodec::Mp3, Container::Mp3 | Container::Matroska | Container::Mp4)
    );
    if !ok {
        return Err(TranscodeError::new(
            ErrorKind::Policy,
            format!("rule {name:?}: audio codec {:?} cannot go in container {container:?}", a.codec),
        ));
    }
    Ok(())
}

/// Reads and validates a policy file.
pub fn load_policy(path: &Path) -> Result<Policy, TranscodeError> {
    use std::io::Read;
    let file =
        std::fs::File::open(path).map_err(|e| TranscodeError::io(&format!("cannot open {}", path.display()), e))?;
    let mut text = String::new();
    file.take(MAX_POLICY_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| TranscodeError::io(&format!("cannot read {}", path.display()), e))?;
    if text.len() as u64 > MAX_POLICY_BYTES {
        return Err(TranscodeError::new(ErrorKind::Policy, format!("{} is over 1 MiB", path.display())));
    }
    Policy::from_toml(&text).map_err(|e| TranscodeError::new(e.kind, format!("{}: {}", path.display(), e.reason)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEFAULT: &str = include_str!("../../../config/normalisation.toml");

    #[test]
    fn default_policy_parses() {
        let p = Policy::from_toml(DEFAULT).unwrap();
        assert!(!p.version.is_empty());
        assert!(p.rules_for(InputClass::Video, false).iter().any(|r| r.container == Container::Mp4));
        assert!(p.rules_for(InputClass::Audio, true).len() > p.rules_for(InputClass::Audio, false).len());
        assert!(p.rules_for(InputClass::Cdda, true).iter().any(|r| r.container == Container::Flac));
    }

    #[test]
    fn unknown_keys_are_named() {
        let text = DEFAULT.replacen("threads =", "treads = 1\nthreads =", 1);
        let err = Policy::from_toml(&text).unwrap_err();
        assert!(err.reason.contains("treads"), "{err}");
    }

    #[test]
    fn x264_without_crf_is_refused() {
        let text = "version = \"t\"\nthreads = 1\n[[rule]]\nname = \"v\"\nclass = \"video\"\ncontainer = \"mp4\"\nvideo = { codec = \"libx264\", preset = \"fast\" }\n";
        let err = Policy::from_toml(text).unwrap_err();
        assert!(err.reason.contains("crf"), "{err}");
    }
}
