//! One path component from evidence, made safe to create on every common
//! file system (ext4, NTFS, APFS, exFAT) and in every BagIt tool.
//!
//! Unsafe characters become `=XX` (the UTF-8 bytes, or the raw byte when
//! the name is not UTF-8), and `=` itself becomes `=3D`, so a name that
//! needed no change is never confused with one that did. `%` is escaped
//! too: RFC 8493 manifests percent-encode it, and bagit.py does not decode
//! that, so a bag path never holds one. The bag's
//! `path-map.tsv` keeps the exact original beside every bag path.

use sha2::{Digest, Sha256};

/// Longest component written, in bytes (file systems allow 255, NTFS
/// counts UTF-16 units, and the whole path has a limit too).
pub const MAX_COMPONENT_BYTES: usize = 120;

/// Names Windows reserves for devices, whatever their extension.
const RESERVED: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", "COM0", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7",
    "COM8", "COM9", "COM¹", "COM²", "COM³", "LPT0", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8",
    "LPT9", "LPT¹", "LPT²", "LPT³",
];

/// The safe form of one component given as raw bytes. Never empty, never
/// `.` or `..`, never holds `/` or `\`.
pub fn safe_component(raw: &[u8]) -> String {
    let mut out = escape_characters(raw);
    if out.is_empty() {
        out.push_str("=00");
    }
    escape_trailing_dots_and_spaces(&mut out);
    escape_reserved_device(&mut out);
    shorten(out, raw)
}

fn escape_characters(raw: &[u8]) -> String {
    let mut out = String::with_capacity(raw.len());
    for chunk in raw.utf8_chunks() {
        for c in chunk.valid().chars() {
            if needs_escape(c) {
                push_escaped(&mut out, c);
            } else {
                out.push(c);
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("={b:02X}"));
        }
    }
    out
}

/// Characters some file system, shell or BagIt manifest cannot carry as
/// they are, or that would make a name display as something else.
fn needs_escape(c: char) -> bool {
    let u = c as u32;
    c.is_control()
        || matches!(c, '<' | '>' | ':' | '"' | '/' | '\\' | '|' | '?' | '*' | '%' | '=')
        || (0xFDD0..=0xFDEF).contains(&u)
        || u & 0xFFFE == 0xFFFE
        || matches!(u, 0x061C | 0x200E | 0x200F | 0x202A..=0x202E | 0x2066..=0x2069 | 0xFEFF)
}

fn push_escaped(out: &mut String, c: char) {
    let mut buf = [0u8; 4];
    for b in c.encode_utf8(&mut buf).bytes() {
        out.push_str(&format!("={b:02X}"));
    }
}

/// Windows drops trailing dots and spaces, so `a.` and `a` would collide;
/// `.` and `..` would climb.
fn escape_trailing_dots_and_spaces(name: &mut String) {
    let kept = name.trim_end_matches(['.', ' ']).len();
    if kept == name.len() {
        return;
    }
    let tail: String = name[kept..].chars().map(|c| if c == '.' { "=2E" } else { "=20" }).collect();
    name.truncate(kept);
    name.push_str(&tail);
}

fn escape_reserved_device(name: &mut String) {
    let stem = name.split('.').next().unwrap_or_default().trim_end_matches(' ');
    if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(stem)) {
        let first = name.remove(0);
        name.insert_str(0, &format!("={:02X}", first as u32));
    }
}

/// Cuts a long name to [`MAX_COMPONENT_BYTES`], keeping a short extension
/// and adding a hash of the original so cut names stay distinct.
fn shorten(name: String, raw: &[u8]) -> String {
    if name.len() <= MAX_COMPONENT_BYTES {
        return name;
    }
    let tag = &hex::encode(Sha256::digest(raw))[..16];
    let ext = name.rsplit_once('.').map(|(_, e)| e).filter(|e| !e.is_empty() && e.len() <= 12).unwrap_or_default();
    let room = MAX_COMPONENT_BYTES - tag.len() - 2 - ext.len();
    let mut cut = room;
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    let head = name[..cut].trim_end_matches(['.', ' ']);
    match ext {
        "" => format!("{head}~{tag}"),
        ext => format!("{head}~{tag}.{ext}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_are_kept() {
        assert_eq!(safe_component(b"report final.docx"), "report final.docx");
        assert_eq!(safe_component("Ünïcödé.txt".as_bytes()), "Ünïcödé.txt");
    }

    #[test]
    fn traversal_and_separators_are_escaped() {
        assert_eq!(safe_component(b".."), "=2E=2E");
        assert_eq!(safe_component(b"."), "=2E");
        assert_eq!(safe_component(b""), "=00");
        assert_eq!(safe_component(b"a\\..\\b"), "a=5C..=5Cb");
        assert_eq!(safe_component(b"a/b"), "a=2Fb");
    }

    #[test]
    fn windows_rules_are_applied() {
        assert_eq!(safe_component(b"CON"), "=43ON");
        assert_eq!(safe_component(b"nul.txt"), "=6Eul.txt");
        assert_eq!(safe_component(b"lpt1 .log"), "=6Cpt1 .log");
        assert_eq!(safe_component(b"CONSOLE"), "CONSOLE");
        assert_eq!(safe_component(b"name. ."), "name=2E=20=2E");
        assert_eq!(safe_component(b"a:stream"), "a=3Astream");
        assert_eq!(safe_component(b"q?*<>|\"x"), "q=3F=2A=3C=3E=7C=22x");
    }

    #[test]
    fn controls_noncharacters_bidi_and_bad_utf8_are_escaped() {
        assert_eq!(safe_component(b"a\0b\n\x7f"), "a=00b=0A=7F");
        assert_eq!(safe_component("x\u{FFFE}\u{FFFF}".as_bytes()), "x=EF=BF=BE=EF=BF=BF");
        assert_eq!(safe_component("evil\u{202E}gpj.exe".as_bytes()), "evil=E2=80=AEgpj.exe");
        assert_eq!(safe_component(b"\xff\xfe.bin"), "=FF=FE.bin");
        assert_eq!(safe_component(b"100%"), "100=25");
    }

    #[test]
    fn long_names_are_cut_distinctly_and_keep_their_extension() {
        let a = safe_component(format!("{}a.pdf", "x".repeat(300)).as_bytes());
        let b = safe_component(format!("{}b.pdf", "x".repeat(300)).as_bytes());
        assert!(a.len() <= MAX_COMPONENT_BYTES && a.ends_with(".pdf"), "{a}");
        assert_ne!(a, b);
        let wide = safe_component("é".repeat(200).as_bytes());
        assert!(wide.len() <= MAX_COMPONENT_BYTES, "{wide}");
    }
}
