//! Escaping evidence-derived text for HTML. Besides `& < > " '`, every
//! character that HTML cannot carry or that could mislead a reader is
//! shown as a visible `\u{...}` escape: NUL and other C0 controls (tab
//! and newline too, so a name stays on one line), DEL, C1 controls, the
//! noncharacters (U+FDD0..U+FDEF, U+xFFFE/F), the line and paragraph
//! separators, and the bidi marks, embeddings, overrides and isolates
//! (which could reorder what the reader sees). A backslash is doubled, so
//! an escape can never be confused with a name that spells one out.

/// True for characters shown as an escape rather than as themselves.
fn needs_escape(c: char) -> bool {
    let u = c as u32;
    c.is_control()
        || (0xFDD0..=0xFDEF).contains(&u)
        || (u & 0xFFFE) == 0xFFFE
        || matches!(u, 0x2028 | 0x2029 | 0x200E | 0x200F | 0x061C | 0x202A..=0x202E | 0x2066..=0x2069)
}

/// `s` as HTML text or attribute content, with the escapes above.
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    push_html(&mut out, s);
    out
}

/// Appends `s` to `out`, escaped as [`html`] does.
pub fn push_html(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\\' => out.push_str("\\\\"),
            c if needs_escape(c) => out.push_str(&format!("\\u{{{:04x}}}", c as u32)),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_is_inert_and_unsafe_characters_are_visible() {
        assert_eq!(html("<script>alert('x')</script>"), "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
        assert_eq!(html("a\u{0}b"), "a\\u{0000}b");
        assert_eq!(html("\u{fffe}\u{ffff}\u{1fffe}\u{fdd0}"), "\\u{fffe}\\u{ffff}\\u{1fffe}\\u{fdd0}");
        assert_eq!(html("abc\u{202e}gpj.exe"), "abc\\u{202e}gpj.exe");
        assert_eq!(html("x\u{2066}y\u{2069}\u{200f}"), "x\\u{2066}y\\u{2069}\\u{200f}");
        assert_eq!(html("\u{85}\u{7f}\n\t"), "\\u{0085}\\u{007f}\\u{000a}\\u{0009}");
        assert_eq!(html("\"&amp;\""), "&quot;&amp;amp;&quot;");
    }

    #[test]
    fn a_name_that_spells_an_escape_differs_from_the_escaped_character() {
        assert_ne!(html("\\u{0000}"), html("\u{0}"));
        assert_eq!(html("\\u{0000}"), "\\\\u{0000}");
    }

    #[test]
    fn ordinary_text_in_any_script_is_kept() {
        assert_eq!(html("Ünïcödé 名前 שלום"), "Ünïcödé 名前 שלום");
    }
}
