//! Audio and video typed by what libavformat finds. A signature (infer's or
//! PRONOM's) that says audio or video is only a claim: two bytes of ADTS
//! sync or an ID3 tag start plenty of random files. The claim is confirmed
//! by opening the file with libavformat and decoding a frame, in the
//! transcode child ([`exhibit_transcode::probe_media`]); content nothing
//! typed is shown to libavformat's probes in process first
//! ([`exhibit_transcode::sniff`]), so formats neither signature set knows
//! are found too.

use std::path::Path;

use exhibit_core::manifest::{AvFormat, AvStream, MediaType};
use exhibit_pipeline::derive::{TRANSCODE, stage_for};
use exhibit_transcode::{ErrorKind, Limits, MediaProbe, SCORE_RETRY, TranscodeError, probe_media, sniff};

/// Whether libavformat should look at content typed `media`, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AvCandidate {
    /// A signature says audio or video: confirmed, or left unidentified.
    Claimed,
    /// Nothing typed it, but a demuxer's probe is fairly sure of it.
    Sniffed,
}

/// Whether content typed `media` that starts with `head` should be probed.
pub fn av_candidate(media: &MediaType, head: &[u8]) -> Option<AvCandidate> {
    if stage_for(&media.mime) == Some(TRANSCODE) {
        return Some(AvCandidate::Claimed);
    }
    if media.mime != "application/octet-stream" {
        return None;
    }
    let sniffed = sniff(head)?;
    (sniffed.score > SCORE_RETRY && !sniffed.is_still_image()).then_some(AvCandidate::Sniffed)
}

/// Probes the content at `path` (typed `media` by its signature) with
/// libavformat and returns its media type: typed by the container when a
/// stream decodes; unidentified when the signature claimed audio or video
/// and nothing accepts it; unchanged otherwise. An error only when the
/// probe itself could not run (the child is missing, the file unreadable).
pub fn confirm_av(media: MediaType, candidate: AvCandidate, path: &Path) -> Result<MediaType, TranscodeError> {
    match probe_media(path, &Limits::for_probe()) {
        Ok(probe) => Ok(typed_by_container(media, &probe)),
        Err(e) if matches!(e.kind, ErrorKind::Io | ErrorKind::Internal | ErrorKind::Policy) => Err(e),
        Err(e) if candidate == AvCandidate::Claimed => Ok(unidentified(media, &without_path(&e.reason, path))),
        Err(e) => {
            tracing::debug!("libavformat's probe guessed media, but: {e}");
            Ok(media)
        }
    }
}

/// The probe's reason without the path it read: that is a working copy in
/// the store's temporary area, which means nothing to the person reading
/// the attention line (the line names the evidence file itself).
fn without_path(reason: &str, path: &Path) -> String {
    let canonical = std::fs::canonicalize(path).ok();
    let paths = canonical.iter().map(|p| p.display().to_string()).chain([path.display().to_string()]);
    paths.filter(|p| !p.is_empty()).fold(reason.to_owned(), |r, p| r.replace(&p, "the file"))
}

/// Content a signature calls audio or video that nothing decodes.
fn unidentified(media: MediaType, reason: &str) -> MediaType {
    let claim = match &media.pronom {
        Some(p) => format!("{} ({}, {})", media.mime, p.name, p.puid),
        None => media.mime.clone(),
    };
    MediaType {
        mime: "application/octet-stream".into(),
        extension: None,
        detected_by: format!("{} + libavformat", media.detected_by),
        unidentified: Some(format!("its signature says {claim}, but no demuxer or decoder accepts it: {reason}")),
        ..media
    }
}

/// The media type of a container libavformat opened.
fn typed_by_container(media: MediaType, probe: &MediaProbe) -> MediaType {
    let report = &probe.report;
    let video = report.streams.iter().any(|s| s.kind == "video" && !s.attached_picture);
    let brand = report.tags.get("major_brand").map(|b| b.trim().to_owned()).filter(|b| !b.is_empty());
    let (mime, extension) = container_mime(&report.container, brand.as_deref(), video)
        .map(|(m, e)| (m.to_owned(), e.to_owned()))
        .unwrap_or_else(|| fallback_mime(&media, &report.container, video));
    let streams = report.streams.iter().take(AvFormat::MAX_STREAMS);
    let av = AvFormat {
        container: report.container.clone(),
        container_long_name: report.container_long_name.clone(),
        brand,
        streams: streams.map(|s| AvStream { index: s.index, kind: s.kind.clone(), codec: s.codec.clone() }).collect(),
        stream_count: report.streams.len(),
        decoded_stream: probe.decoded_stream,
        probed_by: format!("libavformat {}", probe.libavformat),
    };
    MediaType {
        mime,
        extension: Some(extension),
        detected_by: av.probed_by.clone(),
        av: Some(av),
        unidentified: None,
        ..media
    }
}

/// MIME type and extension by libavformat's demuxer (the first name of
/// its list), the brand for the ISO/QuickTime family, and whether a video
/// stream is there. Where infer knows the format, its MIME type is used,
/// so derive rules and older manifests agree.
fn container_mime(container: &str, brand: Option<&str>, video: bool) -> Option<(&'static str, &'static str)> {
    let av = |v: (&'static str, &'static str), a: (&'static str, &'static str)| if video { v } else { a };
    let first = container.split(',').next().unwrap_or_default();
    Some(match first {
        "mov" => iso_family(brand.unwrap_or_default(), video),
        "avi" => ("video/x-msvideo", "avi"),
        "wav" | "w64" => ("audio/x-wav", "wav"),
        "flac" => ("audio/x-flac", "flac"),
        "amr" | "amrnb" | "amrwb" => ("audio/amr", "amr"),
        "mpeg" | "mpegvideo" => av(("video/mpeg", "mpg"), ("audio/mpeg", "mpg")),
        "mpegts" => av(("video/mp2t", "ts"), ("audio/mp2t", "ts")),
        "mp3" => ("audio/mpeg", "mp3"),
        "aac" => ("audio/aac", "aac"),
        "ogg" => av(("video/ogg", "ogv"), ("audio/ogg", "ogg")),
        "matroska" => av(("video/x-matroska", "mkv"), ("audio/x-matroska", "mka")),
        "asf" => av(("video/x-ms-asf", "wmv"), ("audio/x-ms-wma", "wma")),
        "flv" => ("video/x-flv", "flv"),
        "aiff" => ("audio/x-aiff", "aiff"),
        "au" => ("audio/basic", "au"),
        "rm" => av(("video/vnd.rn-realvideo", "rm"), ("audio/vnd.rn-realaudio", "ra")),
        "dv" => ("video/x-dv", "dv"),
        "ac3" => ("audio/ac3", "ac3"),
        "wv" => ("audio/x-wavpack", "wv"),
        "ape" => ("audio/x-ape", "ape"),
        "voc" => ("audio/x-voc", "voc"),
        "caf" => ("audio/x-caf", "caf"),
        _ => return None,
    })
}

/// The ISO base media / QuickTime family by brand: 3GPP phone video,
/// QuickTime, MPEG-4 audio or video.
fn iso_family(brand: &str, video: bool) -> (&'static str, &'static str) {
    match (brand, video) {
        (b, true) if b.starts_with("3gp") || b.starts_with("3ge") || b.starts_with("3gs") => ("video/3gpp", "3gp"),
        (b, false) if b.starts_with("3gp") || b.starts_with("3ge") || b.starts_with("3gs") => ("audio/3gpp", "3gp"),
        (b, true) if b.starts_with("3g2") => ("video/3gpp2", "3g2"),
        (b, false) if b.starts_with("3g2") => ("audio/3gpp2", "3g2"),
        ("qt", _) => ("video/quicktime", "mov"),
        ("M4A" | "M4B" | "M4P", _) | (_, false) => ("audio/mp4", "m4a"),
        ("M4V", _) => ("video/x-m4v", "m4v"),
        ("mjp2", _) => ("video/mj2", "mj2"),
        _ => ("video/mp4", "mp4"),
    }
}

/// For a demuxer not in the table: the signature's type when it already
/// says audio or video, else `video/x-NAME` or `audio/x-NAME`, so the
/// transcode stage still gets it.
fn fallback_mime(media: &MediaType, container: &str, video: bool) -> (String, String) {
    let first = container.split(',').next().unwrap_or(container);
    let name: String = first.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(32).collect();
    if stage_for(&media.mime) == Some(TRANSCODE) {
        return (media.mime.clone(), media.extension.clone().unwrap_or_else(|| name.clone()));
    }
    (format!("{}/x-{name}", if video { "video" } else { "audio" }), name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_iso_family_is_told_apart_by_brand_and_video() {
        assert_eq!(container_mime("mov,mp4,m4a,3gp,3g2,mj2", Some("3gp4"), true), Some(("video/3gpp", "3gp")));
        assert_eq!(container_mime("mov,mp4,m4a,3gp,3g2,mj2", Some("3gp4"), false), Some(("audio/3gpp", "3gp")));
        assert_eq!(container_mime("mov,mp4,m4a,3gp,3g2,mj2", Some("qt"), true), Some(("video/quicktime", "mov")));
        assert_eq!(container_mime("mov,mp4,m4a,3gp,3g2,mj2", Some("isom"), true), Some(("video/mp4", "mp4")));
        assert_eq!(container_mime("mov,mp4,m4a,3gp,3g2,mj2", Some("M4A"), false), Some(("audio/mp4", "m4a")));
        assert_eq!(container_mime("mov,mp4,m4a,3gp,3g2,mj2", None, false), Some(("audio/mp4", "m4a")));
    }

    #[test]
    fn unknown_demuxers_keep_an_av_signature_or_get_an_x_type() {
        let claimed = MediaType { mime: "video/x-ms-asf".into(), ..Default::default() };
        assert_eq!(fallback_mime(&claimed, "nuv", true).0, "video/x-ms-asf");
        let unknown = MediaType { mime: "application/octet-stream".into(), ..Default::default() };
        assert_eq!(fallback_mime(&unknown, "nuv", true), ("video/x-nuv".into(), "nuv".into()));
        assert_eq!(fallback_mime(&unknown, "sln", false).0, "audio/x-sln");
    }
}
