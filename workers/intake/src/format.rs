//! What content is, from its bytes: the PRONOM format (the registry
//! archivists use, through `exhibit-pronom`), the MIME type that routes it
//! (infer's signatures, then PRONOM's, then a text check), and whether the
//! file name's extension names a format the content is not.

use exhibit_core::manifest::{MediaType, PronomFormat};
use exhibit_pronom::{FileFormat, Registry, SAMPLE_BYTES};

use crate::IdentifyPolicy;

/// How many leading (and trailing) bytes identification reads.
pub const SNIFF_BYTES: u64 = SAMPLE_BYTES as u64;
/// Name and version of the signature detector, recorded in manifests.
const DETECTOR: &str = "infer 0.16 + exhibit text check";

/// The media type of content that starts with `head`. For content longer
/// than `head`, signatures that look at the end of the file cannot match;
/// [`identify_bytes`] takes the tail as well.
pub fn detect_media_type(head: &[u8], total_size: u64, policy: &IdentifyPolicy) -> MediaType {
    let tail: &[u8] = if total_size <= head.len() as u64 { head } else { &[] };
    identify_bytes(head, tail, total_size, policy)
}

/// The media type of content of `total_size` bytes that starts with `head`
/// and ends with `tail` (each at most [`SNIFF_BYTES`]). With
/// `policy.pronom` off, no PRONOM signature is matched.
pub fn identify_bytes(head: &[u8], tail: &[u8], total_size: u64, policy: &IdentifyPolicy) -> MediaType {
    if total_size == 0 {
        return MediaType { mime: "application/x-empty".into(), detected_by: DETECTOR.into(), ..Default::default() };
    }
    let registry = if policy.pronom { exhibit_pronom::bundled().ok() } else { None };
    let matches = registry.map(|r| r.identify(head, tail)).unwrap_or_default();
    let pronom = pronom_format(registry, &matches);
    let (mime, extension, detected_by) = if let Some(kind) = infer::get(head) {
        (kind.mime_type().to_owned(), Some(kind.extension().to_owned()), DETECTOR.to_owned())
    } else if let Some((format, mime)) = matches.iter().find_map(|f| routing_mime(f).map(|m| (f, m))) {
        (mime, format.extensions.first().cloned(), format!("PRONOM v{}", pronom_version(registry)))
    } else if looks_like_text(head) {
        ("text/plain".to_owned(), Some("txt".to_owned()), DETECTOR.to_owned())
    } else {
        ("application/octet-stream".to_owned(), None, DETECTOR.to_owned())
    };
    MediaType { mime, extension, detected_by, pronom, ..Default::default() }
}

/// The text that says a file's extension does not fit its content, when
/// the extension belongs only to formats PRONOM can recognise by signature
/// and the content matched none of them (an unknown extension, or one a
/// format without signatures also uses, such as `.txt` or `.bin`, is never
/// a mismatch).
pub fn extension_mismatch(file_name: &str, media: &MediaType) -> Option<String> {
    let ext = extension_of(file_name)?;
    // Content nothing recognises cannot be said to be something else.
    // Empty content is nothing else, but a media name on it is worth a look.
    let empty = media.mime == "application/x-empty";
    if media.mime == "application/octet-stream"
        || GENERIC.contains(&ext.as_str())
        || media.extension.as_deref().is_some_and(|e| same_extension(e, &ext))
    {
        return None;
    }
    let registry = exhibit_pronom::bundled().ok()?;
    if let Some(found) = &media.pronom {
        let matched = std::iter::once(&found.puid).chain(&found.also);
        let formats: Vec<&FileFormat> =
            registry.formats().iter().filter(|f| matched.clone().any(|p| *p == f.puid)).collect();
        if formats.iter().any(|f| f.extensions.iter().any(|e| same_extension(e, &ext))) {
            return None;
        }
    }
    let claimed = registry.formats_with_extension(&ext);
    if claimed.is_empty() || claimed.iter().any(|f| f.signatures.is_empty()) {
        return None;
    }
    if empty {
        return Some(format!("named .{ext}, but the content is empty (0 bytes)"));
    }
    let content = media.pronom.as_ref().map_or_else(|| media.mime.clone(), |p| format!("{} ({})", p.name, p.puid));
    Some(format!("named .{ext}, but the content is {content}"))
}

/// Extensions that name a kind of container rather than one format:
/// `.img` is any raw disk or floppy image (PRONOM ties it to a few
/// specific ones), `.vob` any MPEG-2 program stream from a DVD (PRONOM
/// ties it to one signature of that family).
const GENERIC: &[&str] = &["img", "vob"];

/// The lower-case extension of a file name, when it has a plausible one.
fn extension_of(file_name: &str) -> Option<String> {
    let (stem, ext) = file_name.rsplit_once('.')?;
    let plausible = !stem.is_empty() && (1..=8).contains(&ext.len()) && ext.bytes().all(|b| b.is_ascii_alphanumeric());
    plausible.then(|| ext.to_ascii_lowercase())
}

/// The same extension, a spelling of it (`jpeg`/`jpg`), or a numbered
/// sibling of it: segment `e02` of a format PRONOM lists as `e01`.
fn same_extension(a: &str, b: &str) -> bool {
    let (a, b) = (a.to_ascii_lowercase(), b.to_ascii_lowercase());
    let numbered = |e: &str| e.len() >= 3 && e.bytes().rev().take(2).all(|c| c.is_ascii_digit());
    if a.len() == b.len() && numbered(&a) && numbered(&b) && a[..a.len() - 2] == b[..b.len() - 2] {
        return true;
    }
    let canon = |e: &str| match e {
        "jpeg" | "jpe" => "jpg".to_owned(),
        "tiff" => "tif".to_owned(),
        "html" => "htm".to_owned(),
        "mpeg" => "mpg".to_owned(),
        other => other.to_owned(),
    };
    canon(&a) == canon(&b)
}

/// The MIME type a PRONOM format routes by: a video type over an audio one
/// (a 3GP container says `audio/3gpp, video/3gpp`).
fn routing_mime(format: &FileFormat) -> Option<String> {
    let video = format.mimes.iter().find(|m| m.starts_with("video/"));
    video.or(format.mimes.first()).cloned()
}

fn pronom_version(registry: Option<&Registry>) -> &str {
    registry.map_or(exhibit_pronom::SIGNATURE_VERSION, Registry::version)
}

fn pronom_format(registry: Option<&Registry>, matches: &[&FileFormat]) -> Option<PronomFormat> {
    let (first, rest) = matches.split_first()?;
    Some(PronomFormat {
        puid: first.puid.clone(),
        name: first.name.clone(),
        version: first.version.clone(),
        also: rest.iter().map(|f| f.puid.clone()).collect(),
        signatures: format!("PRONOM v{}", pronom_version(registry)),
    })
}

/// UTF-8 (allowing a character cut at the end of the sample) with no NULs.
fn looks_like_text(head: &[u8]) -> bool {
    if head.contains(&0) {
        return false;
    }
    match std::str::from_utf8(head) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none() && head.len() - e.valid_up_to() < 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ON: IdentifyPolicy = IdentifyPolicy { pronom: true };

    #[test]
    fn a_jpg_that_is_text_is_a_mismatch() {
        let media = identify_bytes(b"hello\n", b"hello\n", 6, &ON);
        assert_eq!(media.mime, "text/plain");
        let text = extension_mismatch("photo.JPG", &media).unwrap();
        assert!(text.contains(".jpg") && text.contains("text/plain"), "{text}");
    }

    #[test]
    fn an_empty_file_named_as_media_is_a_mismatch() {
        let empty = identify_bytes(b"", b"", 0, &ON);
        assert_eq!(empty.mime, "application/x-empty");
        for name in ["empty.mp4", "scan.PNG", "photo.jpg", "call.wav", "letter.pdf"] {
            let text = extension_mismatch(name, &empty).unwrap_or_else(|| panic!("{name} is empty"));
            assert!(text.contains("empty (0 bytes)"), "{text}");
        }
        for name in ["notes.txt", "data.bin", "disk.img", "noext"] {
            assert_eq!(extension_mismatch(name, &empty), None, "{name}");
        }
    }

    #[test]
    fn fitting_unknown_and_unsigned_extensions_are_not() {
        let gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;";
        let media = identify_bytes(gif, gif, gif.len() as u64, &ON);
        assert_eq!(media.pronom.as_ref().unwrap().puid, "fmt/4");
        assert_eq!(extension_mismatch("a.gif", &media), None);
        let text = identify_bytes(b"notes\n", b"notes\n", 6, &ON);
        for name in ["notes.txt", "notes", ".profile", "x.zzzq", "data.bin", "a.b c"] {
            assert_eq!(extension_mismatch(name, &text), None, "{name}");
        }
        assert!(extension_mismatch("a.png", &media).unwrap().contains("Graphics Interchange Format (fmt/4)"));
        // PRONOM lists EWF as `.e01` only (`.e02` is also ESRI's Arc/Info
        // export); a later segment of the set is not a mismatch.
        let ewf = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/sources/ewf/split.E02")).unwrap();
        let media = identify_bytes(&ewf[..SAMPLE_BYTES], &ewf[ewf.len() - SAMPLE_BYTES..], ewf.len() as u64, &ON);
        assert_eq!(media.pronom.as_ref().unwrap().puid, "fmt/803");
        assert_eq!(extension_mismatch("split.E02", &media), None);
    }

    #[test]
    fn pronom_types_what_infer_does_not() {
        // A 3GP `ftyp` box: infer 0.16 does not know the brand, PRONOM does.
        let head = b"\x00\x00\x00\x14ftyp3gp4\x00\x00\x02\x00isom3gp4\x00\x00\x00\x08free";
        let media = identify_bytes(head, head, head.len() as u64, &ON);
        assert_eq!(media.pronom.as_ref().map(|p| p.puid.as_str()), Some("fmt/357"));
        assert!(media.mime.starts_with("video/"), "{media:?}");
        // With PRONOM off, nothing but PRONOM knew it.
        let off = identify_bytes(head, head, head.len() as u64, &IdentifyPolicy { pronom: false });
        assert_eq!((off.mime.as_str(), off.pronom), ("application/octet-stream", None));
    }
}
