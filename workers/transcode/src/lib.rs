//! The transcode worker: turns legacy audio and video (AVI, WMV/ASF, 3GP,
//! MPEG program streams, QuickTime, FLV, WAV...) into standard access and
//! preservation copies under a declared policy (`config/normalisation.toml`),
//! using the FFmpeg libraries through `ffmpeg-next`.
//!
//! It owns: the policy format, probing (in process for the first bytes,
//! [`sniff`]; in the child for opening and decoding, [`probe_media`]), the
//! decode-encode-validate engine,
//! the isolated child process it runs in, and re-running a derivation to
//! compare hashes. Custody (manifests, events) stays with the caller.
//!
//! ```no_run
//! use exhibit_transcode::{Limits, load_policy, transcode};
//! let policy = load_policy("config/normalisation.toml".as_ref())?;
//! let outcome = transcode("clip.avi".as_ref(), &policy, "out".as_ref(), &Limits::default())?;
//! for o in &outcome.outputs {
//!     println!("{} {} {}", o.rule, o.path.display(), o.sha256);
//! }
//! # Ok::<(), exhibit_transcode::TranscodeError>(())
//! ```

pub mod child;
mod engine;
mod error;
mod limits;
mod media_probe;
mod policy;
mod probe;
mod report;
mod reproduce;
mod sniff;
mod stage;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

pub use error::{ErrorKind, TranscodeError};
pub use limits::Limits;
pub use media_probe::{MediaProbe, probe_media};
pub use policy::{
    AudioCodec, AudioSettings, Container, DecodedHash, InputClass, Policy, Rule, VideoCodec, VideoSettings, When,
    load_policy,
};
pub use probe::probe;
pub use report::{
    DamagedRange, DecodeIssue, FLAG_DAMAGED, FLAG_NOT_DETERMINISTIC, FLAG_VALIDATION_FAILED, OutputReport,
    OutputStreamStats, ProbeReport, SourceStreamStats, StreamInfo, TranscodeOutcome, Validation,
};
pub use reproduce::{ReproduceReport, ReproducedOutput, reproduce};
pub use sniff::{SCORE_MAX, SCORE_RETRY, Sniffed, sniff};
pub use stage::{DEFAULT_POLICY, TranscodeStage};

/// Initialises the libraries once; quiet except for errors.
pub(crate) fn init() -> Result<(), TranscodeError> {
    static INIT: std::sync::OnceLock<Result<(), String>> = std::sync::OnceLock::new();
    INIT.get_or_init(|| {
        ffmpeg_next::init().map_err(|e| e.to_string())?;
        ffmpeg_next::log::set_level(ffmpeg_next::log::Level::Error);
        Ok(())
    })
    .clone()
    .map_err(|e| TranscodeError::internal("cannot initialise FFmpeg", e))
}

/// Versions of the linked FFmpeg libraries, for `ToolInfo.libraries`.
/// (`libx264` is added to an outcome once an encode reports its build.)
pub fn library_versions() -> BTreeMap<String, String> {
    let v = |n: u32| format!("{}.{}.{}", n >> 16, (n >> 8) & 0xff, n & 0xff);
    // SAFETY: the *_version functions only return a compile-time constant.
    let pairs = unsafe {
        [
            ("libavutil", ffmpeg_next::ffi::avutil_version()),
            ("libavcodec", ffmpeg_next::ffi::avcodec_version()),
            ("libavformat", ffmpeg_next::ffi::avformat_version()),
            ("libavfilter", ffmpeg_next::ffi::avfilter_version()),
            ("libswscale", ffmpeg_next::ffi::swscale_version()),
            ("libswresample", ffmpeg_next::ffi::swresample_version()),
        ]
    };
    pairs.into_iter().map(|(k, n)| (k.to_owned(), v(n))).collect()
}

/// Transcodes `input` into `out_dir` as the policy says, in an isolated
/// child process, and returns what was made, with SHA-256s, validation,
/// decode problems and library versions. Outputs are named `<rule>.<ext>`;
/// an existing file of that name is an error, never overwritten. On error no
/// output of this job is left behind.
pub fn transcode(
    input: &Path,
    policy: &Policy,
    out_dir: &Path,
    limits: &Limits,
) -> Result<TranscodeOutcome, TranscodeError> {
    policy.validate()?;
    std::fs::create_dir_all(out_dir)
        .map_err(|e| TranscodeError::io(&format!("cannot create {}", out_dir.display()), e))?;
    let targets: Vec<_> = policy.rules.iter().filter(|r| r.enabled).map(|r| engine::output_paths(out_dir, r)).collect();
    if let Some((p, _)) = targets.iter().find(|(p, _)| p.exists()) {
        return Err(TranscodeError::new(
            ErrorKind::Io,
            format!("{} already exists; outputs are never overwritten", p.display()),
        ));
    }
    let req = engine::ChildRequest {
        input: input.to_path_buf(),
        out_dir: out_dir.to_path_buf(),
        policy: policy.clone(),
        limits: limits.clone(),
    };
    let result = child::run(&req).and_then(|mut outcome| {
        for o in &mut outcome.outputs {
            (o.sha256, o.size) = sha256_file(&o.path)?;
        }
        Ok(outcome)
    });
    for (path, partial) in &targets {
        let _ = std::fs::remove_file(partial);
        if result.is_err() {
            let _ = std::fs::remove_file(path);
        }
    }
    result
}

/// SHA-256 (hex) and size of a file.
pub fn sha256_file(path: &Path) -> Result<(String, u64), TranscodeError> {
    use sha2::Digest;
    let mut f =
        std::fs::File::open(path).map_err(|e| TranscodeError::io(&format!("cannot open {}", path.display()), e))?;
    let mut hash = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf).map_err(|e| TranscodeError::io(&format!("cannot read {}", path.display()), e))?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hash.update(&buf[..n]);
    }
    Ok((hex::encode(hash.finalize()), size))
}
