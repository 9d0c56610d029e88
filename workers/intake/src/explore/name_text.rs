//! Names found on media as text that every listing format can carry and
//! that reads back to the exact bytes.
//!
//! A name on a volume may hold any byte: NUL, newlines, U+FFFE, bytes that
//! are not UTF-8, bidirectional overrides. XML 1.0 cannot carry some of
//! these at all, and CSV and terminals mangle others. So DFXML, CSV and
//! JSON all write names in one escaped form:
//!
//! | in the name | written as |
//! | --- | --- |
//! | `\` | `\\` |
//! | a byte that is not part of valid UTF-8 | `\xHH` (two lowercase hex digits) |
//! | a control character (C0, DEL, C1), a noncharacter (U+FFFE, U+FFFF, U+FDD0–U+FDEF, ...), a line or paragraph separator, or a bidirectional control | `\u{H}` (1–6 uppercase hex digits) |
//! | anything else | itself |
//!
//! The backslash is escaped too, so a name that really holds the four
//! characters `\x00` is written `\\x00` and cannot be confused with NUL.
//! [`unescape`] reverses [`escape`] exactly and refuses any other use of
//! `\`. It is hand-written because no crate offers a reversible escape of
//! arbitrary bytes: `str::escape_debug` takes text, not bytes, and has no
//! inverse in std.

use std::fmt::Write as _;

/// Writes `bytes` in the escaped form.
pub fn escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            escape_char(c, &mut out);
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

fn escape_char(c: char, out: &mut String) {
    if c == '\\' {
        out.push_str("\\\\");
    } else if needs_escape(c) {
        let _ = write!(out, "\\u{{{:X}}}", c as u32);
    } else {
        out.push(c);
    }
}

/// Characters written as `\u{H}`: those XML 1.0 cannot carry or that change
/// how the surrounding text is shown.
fn needs_escape(c: char) -> bool {
    let u = c as u32;
    c.is_control()
        || (0xFDD0..=0xFDEF).contains(&u)
        || u & 0xFFFE == 0xFFFE
        || matches!(u, 0x061C | 0x200E | 0x200F | 0x2028 | 0x2029 | 0x202A..=0x202E | 0x2066..=0x2069)
}

/// Why escaped text could not be read back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not exhibit name text at character {at}: {reason}")]
pub struct UnescapeError {
    /// Character offset of the bad escape.
    pub at: usize,
    /// What is wrong.
    pub reason: &'static str,
}

/// The exact bytes that [`escape`] wrote as `text`.
pub fn unescape(text: &str) -> Result<Vec<u8>, UnescapeError> {
    let mut out = Vec::with_capacity(text.len());
    let mut chars = text.char_indices();
    while let Some((at, c)) = chars.next() {
        if c != '\\' {
            let mut buf = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            continue;
        }
        let bad = |reason| UnescapeError { at, reason };
        match chars.next().map(|(_, c)| c) {
            Some('\\') => out.push(b'\\'),
            Some('x') => {
                let hex: String = (0..2).filter_map(|_| chars.next().map(|(_, c)| c)).collect();
                let byte = parse_hex(&hex, 2)
                    .filter(|_| hex.len() == 2)
                    .and_then(|b| u8::try_from(b).ok())
                    .ok_or_else(|| bad("\\x needs two hex digits"))?;
                out.push(byte);
            }
            Some('u') => {
                if chars.next().map(|(_, c)| c) != Some('{') {
                    return Err(bad("\\u needs {"));
                }
                let hex: String = chars.by_ref().map(|(_, c)| c).take_while(|&c| c != '}').take(7).collect();
                let closed = text[at..].find('}').is_some_and(|end| end == 3 + hex.len());
                let c = parse_hex(&hex, 6)
                    .filter(|_| closed)
                    .and_then(char::from_u32)
                    .ok_or_else(|| bad("\\u{...} needs 1-6 hex digits of a Unicode scalar value"))?;
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
            _ => return Err(bad("\\ must be followed by \\, x or u")),
        }
    }
    Ok(out)
}

/// `hex` as a number: 1 to `max_digits` hex digits, nothing else.
fn parse_hex(hex: &str, max_digits: usize) -> Option<u32> {
    let digits_only = !hex.is_empty() && hex.len() <= max_digits && hex.bytes().all(|b| b.is_ascii_hexdigit());
    digits_only.then(|| u32::from_str_radix(hex, 16).ok()).flatten()
}

/// Characters that make a spreadsheet read a cell as a formula (OWASP CSV
/// injection guidance); tab and CR are already escaped by [`escape`].
const FORMULA_START: [char; 4] = ['=', '+', '-', '@'];

/// A CSV cell that no spreadsheet runs: text starting with a formula
/// character, or with `'` itself, gets a leading `'` (which spreadsheets
/// show as "text follows" and hide). [`from_csv_cell`] removes it again.
pub fn csv_cell(text: String) -> String {
    match text.chars().next() {
        Some(c) if FORMULA_START.contains(&c) || c == '\'' => format!("'{text}"),
        _ => text,
    }
}

/// The text a [`csv_cell`] was made from.
pub fn from_csv_cell(cell: &str) -> &str {
    cell.strip_prefix('\'').unwrap_or(cell)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_bytes_escape_to_safe_text_and_back() {
        let cases: [&[u8]; 9] = [
            b"plain name.txt",
            b"nul\0here",
            b"\\x00 literally",
            "bom\u{FFFE}\u{FFFF}end".as_bytes(),
            b"bad utf8 \xff\xfe\xc3",
            b"line\nbreak\r\ttab\x7f",
            "evil\u{202E}txt.exe".as_bytes(),
            b"\\u{41}",
            b"",
        ];
        for raw in cases {
            let text = escape(raw);
            assert!(!text.chars().any(needs_escape), "{text:?}");
            assert_eq!(unescape(&text).unwrap(), raw, "{text:?}");
        }
        assert_eq!(escape(b"a\0b"), "a\\u{0}b");
        assert_eq!(escape(b"\\x00"), "\\\\x00");
        assert_eq!(escape(b"\xff"), "\\xff");
    }

    #[test]
    fn malformed_escapes_are_refused() {
        for bad in [
            "\\",
            "\\q",
            "\\x1",
            "\\x+1",
            "\\u{+41}",
            "\\xZZ",
            "\\u41",
            "\\u{41",
            "\\u{}",
            "\\u{D800}",
            "\\u{1234567}",
            "\\u{110000}",
        ] {
            assert!(unescape(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn formula_cells_are_neutralised_reversibly() {
        for text in ["=cmd|' /C calc'!A0", "+1", "-2", "@SUM(A1)", "'quoted", "''", "safe", ""] {
            let cell = csv_cell(text.to_owned());
            assert!(!cell.starts_with(FORMULA_START), "{cell:?}");
            assert_eq!(from_csv_cell(&cell), text);
        }
    }
}
