//! `Upload-Metadata`: comma-separated `key base64(value)` pairs. The server
//! requires `case`, `exhibit` and `filename`, validated here; other keys are
//! kept and echoed on HEAD.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use exhibit_core::{CaseId, ExhibitRef};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::TusError;

/// The most pairs one `Upload-Metadata` may carry.
pub const MAX_PAIRS: usize = 32;
/// The longest `Upload-Metadata` accepted, in bytes.
pub const MAX_HEADER_LEN: usize = 8 * 1024;
const MAX_FILENAME_LEN: usize = 255;

/// A file name as the client's user knew it: a name only, never a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileName(String);

impl FileName {
    /// The name as sent.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for FileName {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.is_empty() || s.len() > MAX_FILENAME_LEN {
            return Err(format!("must be 1 to {MAX_FILENAME_LEN} bytes"));
        }
        if s == "." || s == ".." {
            return Err("must name a file, not . or ..".into());
        }
        if let Some(c) = s.chars().find(|c| matches!(c, '/' | '\\' | ':') || c.is_control()) {
            return Err(format!("must be a name only, without {c:?} (no paths, drives or control characters)"));
        }
        if let Some(c) = s.chars().find(|c| matches!(c, '<' | '>' | '"' | '|' | '?' | '*')) {
            return Err(format!(
                "must not hold {c:?}: Windows and SMB shares cannot name a file with it, so the case could not be \
                 exported there; rename the file"
            ));
        }
        if s.trim() != s {
            return Err("must not start or end with white space".into());
        }
        if let Some(c) = s.chars().find(|c| exhibit_core::item::is_bidi_control(*c)) {
            return Err(format!(
                "must not hold the bidirectional control {}: it makes a name read differently from what it is",
                c.escape_unicode()
            ));
        }
        if s.ends_with('.') {
            return Err("must not end with a dot: Windows drops it, and the name changes".into());
        }
        if let Some(reserved) = windows_reserved(s) {
            return Err(format!(
                "must not be {reserved:?}, with or without an extension: Windows reserves it for a device; rename the file"
            ));
        }
        Ok(Self(s.to_owned()))
    }
}

/// The device name Windows reserves that `name` is (`con`, `nul`, `com1`,
/// `lpt1.txt`...), in any case and with any extension.
fn windows_reserved(name: &str) -> Option<String> {
    let stem = name.split('.').next().unwrap_or(name).trim_end().to_ascii_lowercase();
    let numbered = |prefix: &str| {
        stem.strip_prefix(prefix).is_some_and(|n| {
            matches!(n, "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9" | "\u{b9}" | "\u{b2}" | "\u{b3}")
        })
    };
    let reserved = matches!(stem.as_str(), "con" | "prn" | "aux" | "nul" | "conin$" | "conout$")
        || numbered("com")
        || numbered("lpt");
    reserved.then_some(stem)
}

impl fmt::Display for FileName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for FileName {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for FileName {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

/// Where an upload goes, from its required metadata keys.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UploadTarget {
    /// The case the evidence belongs to.
    pub case: CaseId,
    /// The exhibit within the case.
    pub exhibit: ExhibitRef,
    /// The file's name.
    pub filename: FileName,
}

/// A parsed `Upload-Metadata`: the raw pairs (for echoing) and the target.
#[derive(Debug, Clone)]
pub struct UploadMetadata {
    /// Every pair as sent: key to base64 value (`None` for a bare key).
    pub pairs: BTreeMap<String, Option<String>>,
    /// The validated `case`, `exhibit` and `filename`.
    pub target: UploadTarget,
}

/// Parses and validates `Upload-Metadata`.
pub fn parse(header: &str) -> Result<UploadMetadata, TusError> {
    let pairs = parse_pairs(header)?;
    let target = UploadTarget {
        case: required(&pairs, "case")?
            .parse()
            .map_err(|e| TusError::bad_metadata_key("case", format!("case: {e}")))?,
        exhibit: required(&pairs, "exhibit")?
            .parse()
            .map_err(|e| TusError::bad_metadata_key("exhibit", format!("exhibit: {e}")))?,
        filename: required(&pairs, "filename")?
            .parse()
            .map_err(|e| TusError::bad_metadata_key("filename", format!("filename {e}")))?,
    };
    Ok(UploadMetadata { pairs, target })
}

fn parse_pairs(header: &str) -> Result<BTreeMap<String, Option<String>>, TusError> {
    if header.len() > MAX_HEADER_LEN {
        return Err(TusError::bad_metadata(format!("longer than {MAX_HEADER_LEN} bytes")));
    }
    let mut pairs = BTreeMap::new();
    for (n, pair) in header.split(',').enumerate() {
        if n >= MAX_PAIRS {
            return Err(TusError::bad_metadata(format!("more than {MAX_PAIRS} pairs")));
        }
        let pair = pair.trim_matches(' ');
        let (key, value) = match pair.split_once(' ') {
            Some((key, value)) => (key, Some(value)),
            None => (pair, None),
        };
        if key.is_empty() || !key.bytes().all(|b| b.is_ascii_graphic() && b != b',') {
            return Err(TusError::bad_metadata(format!("pair {} has no valid key", n + 1)));
        }
        if let Some(value) = value {
            STANDARD.decode(value).map_err(|e| TusError::bad_metadata(format!("{key}: value is not base64 ({e})")))?;
        }
        if pairs.insert(key.to_owned(), value.map(str::to_owned)).is_some() {
            return Err(TusError::bad_metadata(format!("key {key:?} appears twice")));
        }
    }
    Ok(pairs)
}

fn required(pairs: &BTreeMap<String, Option<String>>, key: &'static str) -> Result<String, TusError> {
    let encoded = pairs
        .get(key)
        .ok_or_else(|| TusError::bad_metadata_key(key, format!("the {key:?} key is required")))?
        .as_deref()
        .ok_or_else(|| TusError::bad_metadata_key(key, format!("the {key:?} key needs a value")))?;
    // Checked as base64 by parse_pairs already.
    let bytes = STANDARD.decode(encoded).map_err(|e| TusError::bad_metadata_key(key, format!("{key}: {e}")))?;
    String::from_utf8(bytes).map_err(|_| TusError::bad_metadata_key(key, format!("{key}: value is not UTF-8")))
}

/// The pairs back in header form, for HEAD.
pub fn to_header(pairs: &BTreeMap<String, Option<String>>) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .map(|(k, v)| match v {
            Some(v) => format!("{k} {v}"),
            None => k.clone(),
        })
        .collect();
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        STANDARD.encode(s)
    }

    fn header(case: &str, exhibit: &str, filename: &str) -> String {
        format!("case {},exhibit {},filename {}", b64(case), b64(exhibit), b64(filename))
    }

    fn reason(h: &str) -> String {
        match parse(h) {
            Err(TusError::BadMetadata { reason, .. }) => reason,
            other => panic!("{h:?} should be refused, got {other:?}"),
        }
    }

    #[test]
    fn parses_required_keys_and_keeps_others() {
        let h = format!("{},filetype {},private", header("2024/00123/POL", "JS/1", "disk 1.E01"), b64("x/y"));
        let m = parse(&h).unwrap();
        assert_eq!(m.target.case.as_str(), "2024/00123/POL");
        assert_eq!(m.target.exhibit.as_str(), "JS/1");
        assert_eq!(m.target.filename.as_str(), "disk 1.E01");
        assert_eq!(m.pairs.get("private"), Some(&None));
        assert_eq!(parse(&to_header(&m.pairs)).unwrap().pairs, m.pairs);
    }

    #[test]
    fn errors_name_the_key_at_fault() {
        for (h, key) in [
            (header("../C1", "JS/1", "a"), "case"),
            (header("C1", "JS/1/../x", "a"), "exhibit"),
            (header("C1", "JS/1", "../a"), "filename"),
            (format!("case {},exhibit {}", b64("C1"), b64("JS/1")), "filename"),
        ] {
            match parse(&h) {
                Err(TusError::BadMetadata { key: Some(k), .. }) => assert_eq!(k, key, "{h}"),
                other => panic!("{h}: {other:?}"),
            }
        }
    }

    #[test]
    fn bad_base64_is_refused() {
        assert!(reason("case !!!,exhibit SlMvMQ==,filename YQ==").contains("not base64"));
    }

    #[test]
    fn duplicate_keys_are_refused() {
        let h = format!("{},case {}", header("C1", "JS/1", "a"), b64("C2"));
        assert!(reason(&h).contains("twice"));
    }

    #[test]
    fn missing_or_empty_required_keys_are_refused() {
        assert!(reason(&format!("case {},exhibit {}", b64("C1"), b64("JS/1"))).contains("filename"));
        assert!(reason(&format!("case {},exhibit {},filename", b64("C1"), b64("JS/1"))).contains("needs a value"));
        assert!(reason("").contains("no valid key"));
        assert!(reason(&format!("{},,", header("C1", "JS/1", "a"))).contains("no valid key"));
    }

    #[test]
    fn invalid_case_and_exhibit_are_refused() {
        assert!(reason(&header("../C1", "JS/1", "a")).starts_with("case"));
        assert!(reason(&header("C1", "JS/1/../../x", "a")).starts_with("exhibit"));
    }

    #[test]
    fn path_traversal_filenames_are_refused() {
        for name in
            ["../../etc/passwd", "/etc/passwd", "a/b", "..\\..\\boot.ini", "C:evil", "..", ".", " a", "a\0b", "a\nb"]
        {
            assert!(reason(&header("C1", "JS/1", name)).starts_with("filename"), "{name:?}");
        }
        assert!(reason(&header("C1", "JS/1", &"a".repeat(256))).starts_with("filename"));
        for name in ["a?b*.txt", "a<b", "a>b", "a\"b", "a|b"] {
            assert!(reason(&header("C1", "JS/1", name)).contains("Windows and SMB"), "{name:?}");
        }
        // An empty name encodes to an empty value: a key without one.
        assert!(reason(&header("C1", "JS/1", "")).contains("\"filename\" key needs a value"));
    }

    #[test]
    fn non_utf8_values_are_refused() {
        let h = format!("case {},exhibit {},filename {}", b64("C1"), b64("JS/1"), STANDARD.encode([0xff, 0xfe]));
        assert!(reason(&h).contains("UTF-8"));
    }

    #[test]
    fn oversize_headers_and_too_many_pairs_are_refused() {
        let many: Vec<String> = (0..40).map(|i| format!("k{i}")).collect();
        assert!(reason(&many.join(",")).contains("pairs"));
        assert!(
            reason(&format!("{},big {}", header("C1", "JS/1", "a"), "A".repeat(MAX_HEADER_LEN))).contains("longer")
        );
    }

    #[test]
    fn bidi_controls_reserved_windows_names_and_trailing_dots_are_refused() {
        for bad in [
            "invoice\u{202E}fdp.exe",
            "a\u{200F}b",
            "a\u{2066}b",
            "\u{202A}x",
            "con",
            "CON.txt",
            "nul.tar.gz",
            "Com1",
            "lpt9.log",
            "aux .txt",
            "report.",
            "report. ",
            "name..",
        ] {
            assert!(bad.parse::<FileName>().is_err(), "{bad:?} was taken");
        }
        for good in
            ["console.txt", "com10", "lpt", "nullable.csv", "a.b", "conv.pdf", ".hidden", "r\u{e9}sum\u{e9}.pdf"]
        {
            assert!(good.parse::<FileName>().is_ok(), "{good:?} was refused");
        }
        assert!("x\u{202E}y".parse::<FileName>().unwrap_err().contains("bidirectional"));
        assert!("lpt1.txt".parse::<FileName>().unwrap_err().contains("\"lpt1\""));
    }
}
