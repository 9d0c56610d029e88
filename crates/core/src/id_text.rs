//! The text rules shared by case IDs and exhibit references: what may be
//! typed, how two spellings are compared, and how one becomes a single,
//! safe storage key component.
//!
//! A reference is 1 to `max_parts` parts separated by `/`. A part is words
//! of `A-Z a-z 0-9 . _ -` separated by single spaces, and starts with a
//! letter or digit, so `2024/00123/POL`, `SB 1` and `JS/1/A` are all
//! allowed, while `..`, `a//b`, `/a` and leading, trailing or double spaces
//! are not.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

/// Every byte but letters, digits, `.`, `_` and `-` is percent-encoded, so
/// `/` and ` ` never make a folder or a gap in a key, and a reference made
/// only of those characters (every one an older release accepted) is its
/// own key.
const KEY_SAFE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'.').remove(b'_').remove(b'-');

/// Limits of one kind of reference.
pub(crate) struct Shape {
    /// Most characters in all.
    pub max_len: usize,
    /// Most `/`-separated parts.
    pub max_parts: usize,
    /// Most characters in one part.
    pub max_part_len: usize,
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

fn is_part(part: &str, max: usize) -> bool {
    !part.is_empty()
        && part.len() <= max
        && part.starts_with(|c: char| c.is_ascii_alphanumeric())
        && part.split(' ').all(|word| !word.is_empty() && word.chars().all(is_word_char))
}

/// Whether `s` is a reference of this shape.
pub(crate) fn is_valid(s: &str, shape: &Shape) -> bool {
    let parts = s.split('/').count();
    !s.is_empty()
        && s.len() <= shape.max_len
        && parts <= shape.max_parts
        && s.split('/').all(|p| is_part(p, shape.max_part_len))
}

/// The form two spellings are compared by: ASCII upper case, and with
/// `numbers_by_value`, each word made only of digits without its leading
/// zeros (`js/01` and `JS/1` compare equal; `JS01` and `JS1` do not).
pub(crate) fn normalise(s: &str, numbers_by_value: bool) -> String {
    let upper = s.to_ascii_uppercase();
    if !numbers_by_value {
        return upper;
    }
    let mut out = String::with_capacity(upper.len());
    let mut word = String::new();
    for c in upper.chars().chain(std::iter::once('\0')) {
        if matches!(c, '/' | ' ' | '\0') {
            let digits = !word.is_empty() && word.bytes().all(|b| b.is_ascii_digit());
            let trimmed = if digits { word.trim_start_matches('0') } else { word.as_str() };
            out.push_str(if digits && trimmed.is_empty() { "0" } else { trimmed });
            word.clear();
            if c != '\0' {
                out.push(c);
            }
        } else {
            word.push(c);
        }
    }
    out
}

/// The reference as one key or path component: `JS/1` is `JS%2F1`.
pub(crate) fn key_component(s: &str) -> String {
    utf8_percent_encode(s, KEY_SAFE).to_string()
}

/// The reference a key component names, only when it is that reference's
/// own (canonical) encoding, so one reference has exactly one key.
pub(crate) fn from_key_component(component: &str) -> Option<String> {
    let text = percent_decode_str(component).decode_utf8().ok()?.into_owned();
    (key_component(&text) == component).then_some(text)
}

/// Why a key component would not survive a Windows or SMB file system, if
/// it would not: a device name (`CON`, `nul.txt`, `COM1`) cannot be made
/// there, and a trailing `.` is dropped, so `A.` would become the folder
/// of another case, `A`. On the POSIX store both are ordinary names.
pub(crate) fn non_portable(component: &str) -> Option<&'static str> {
    const DEVICES: [&str; 6] = ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"];
    let stem = component.split('.').next().unwrap_or_default().to_ascii_uppercase();
    let numbered =
        (stem.starts_with("COM") || stem.starts_with("LPT")) && stem.len() == 4 && stem.as_bytes()[3].is_ascii_digit();
    if DEVICES.contains(&stem.as_str()) || numbered {
        Some("it is a Windows device name, which a store on a Windows or SMB share cannot hold")
    } else if component.ends_with('.') {
        Some("it ends with `.`, which a Windows or SMB share drops (so `A.` would be case `A`)")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_compare_by_value_word_by_word() {
        assert_eq!(normalise("js/01", true), "JS/1");
        assert_eq!(normalise("SB 007/a", true), "SB 7/A");
        assert_eq!(normalise("JS/0", true), "JS/0");
        assert_eq!(normalise("JS/000", true), "JS/0");
        assert_eq!(normalise("JS01", true), "JS01");
        assert_eq!(normalise("2024/00123/pol", false), "2024/00123/POL");
    }

    #[test]
    fn key_components_round_trip_only_in_canonical_form() {
        assert_eq!(key_component("2024/00123/POL"), "2024%2F00123%2FPOL");
        assert_eq!(key_component("SB 1"), "SB%201");
        assert_eq!(key_component("42AB1234520"), "42AB1234520");
        assert_eq!(from_key_component("SB%201").as_deref(), Some("SB 1"));
        assert_eq!(from_key_component("SB%2D1"), None, "'-' needs no encoding");
        assert_eq!(from_key_component("SB%2f1"), None, "lower-case hex is not the canonical form");
        assert_eq!(from_key_component("%FF"), None);
    }

    #[test]
    fn device_names_and_trailing_dots_are_not_portable() {
        for bad in ["CON", "con", "nul.txt", "COM1", "lpt9.x", "A.", "2024%2FA."] {
            assert!(non_portable(bad).is_some(), "{bad}");
        }
        for good in ["CONTROL", "COM10", "A.1", "42AB1234520", "2024%2FCON", "AUXILIARY"] {
            assert!(non_portable(good).is_none(), "{good}");
        }
    }
}
