//! What reaches a terminal. Evidence file names are hostile data: a name
//! holding `ESC ] 0 ; ... BEL` retitles the window, `ESC [ 2 J` clears the
//! screen, and U+202E turns the rest of a line around. Every name (and every
//! message that may hold one) goes through [`escape_name`] or
//! [`escape_message`] before it is printed for a person. Machine formats
//! (JSON, CSV, DFXML, checksum files) keep their own escaping.
//!
//! Colour: none unless the stream is a terminal and `NO_COLOR` is unset or
//! empty (<https://no-color.org>).

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::IsTerminal;

/// Whether coloured output may go to stderr.
pub fn stderr_colour() -> bool {
    std::io::stderr().is_terminal() && !no_colour_requested()
}

/// `NO_COLOR` set to anything but the empty string.
pub fn no_colour_requested() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

/// A name as a terminal should show it: every control character (C0, DEL,
/// C1), line and paragraph separator and bidirectional formatting character
/// becomes a visible escape (`\x1b`, `\u{202e}`), and `\` becomes `\\` so the
/// escaped form cannot be mistaken for a name that holds those characters.
pub fn escape_name(name: &str) -> Cow<'_, str> {
    escape(name, Style::Name)
}

/// Like [`escape_name`] for a whole one-line message, which may hold names:
/// tabs stay, and `\` is left alone (messages are read, not parsed). A
/// newline is escaped, so a name cannot forge a second message line.
pub fn escape_message(message: &str) -> Cow<'_, str> {
    escape(message, Style::Message)
}

/// A report of several lines for a person: each line escaped as by
/// [`escape_message`]. The report's own parts must keep to one line each
/// (a name holding a newline shown as `\n`), or they could forge a line.
pub fn escape_lines(text: &str) -> String {
    text.split('\n').map(escape_message).collect::<Vec<_>>().join("\n")
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    Name,
    Message,
    /// Lines of a machine format: tabs and line ends stay.
    Stream,
}

fn escape(text: &str, style: Style) -> Cow<'_, str> {
    let keep = |c: char| match c {
        '\\' => style != Style::Name,
        '\t' => style != Style::Name,
        '\n' => style == Style::Stream,
        c => !is_unsafe(c),
    };
    if text.chars().all(keep) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if keep(c) {
            out.push(c);
        } else {
            push_escape(&mut out, c);
        }
    }
    Cow::Owned(out)
}

/// Characters that change what a terminal shows beyond themselves.
fn is_unsafe(c: char) -> bool {
    c.is_control() // C0, DEL and C1
        || matches!(c,
            '\u{061c}' // Arabic letter mark
            | '\u{200e}' | '\u{200f}' // left-to-right and right-to-left marks
            | '\u{2028}' | '\u{2029}' // line and paragraph separators
            | '\u{202a}'..='\u{202e}' // embeddings and overrides
            | '\u{2066}'..='\u{2069}' // isolates
        )
}

fn push_escape(out: &mut String, c: char) {
    let _ = match c {
        '\\' => write!(out, "\\\\"),
        '\n' => write!(out, "\\n"),
        '\r' => write!(out, "\\r"),
        '\t' => write!(out, "\\t"),
        c if (c as u32) < 0x80 => write!(out, "\\x{:02x}", c as u32),
        c => write!(out, "\\u{{{:x}}}", c as u32),
    };
}

/// A name recorded as bytes, escaped as [`escape_name`]; each byte that
/// is not UTF-8 is shown as `\xNN`, as `listing` shows it.
pub fn escape_name_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(&escape(chunk.valid(), Style::Name));
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

/// Lines of bytes for a terminal: valid UTF-8 is escaped as by
/// [`escape_message`] but line ends stay; each byte that is not UTF-8 is
/// shown as `\xNN`.
pub fn escape_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(&escape(chunk.valid(), Style::Stream));
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

/// Standard output, escaped line by line when it is a terminal.
pub fn stdout_for_people() -> Box<dyn std::io::Write> {
    let stdout = std::io::stdout();
    if stdout.is_terminal() { Box::new(EscapingWriter::new(stdout.lock())) } else { Box::new(stdout.lock()) }
}

/// A writer that passes whole lines through [`escape_bytes`], for output
/// in a machine format (JSON, CSV, DFXML) that is going to a terminal
/// rather than a file: those formats leave DEL, C1 and bidi characters raw.
pub struct EscapingWriter<W: std::io::Write> {
    inner: W,
    line: Vec<u8>,
}

impl<W: std::io::Write> EscapingWriter<W> {
    pub fn new(inner: W) -> Self {
        Self { inner, line: Vec::new() }
    }

    fn write_line(&mut self) -> std::io::Result<()> {
        let text = escape_bytes(&self.line);
        self.line.clear();
        self.inner.write_all(text.as_bytes())
    }
}

impl<W: std::io::Write> std::io::Write for EscapingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        for part in buf.split_inclusive(|&b| b == b'\n') {
            self.line.extend_from_slice(part);
            if part.ends_with(b"\n") {
                self.write_line()?;
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if !self.line.is_empty() {
            self.write_line()?;
        }
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_in_names_become_visible() {
        assert_eq!(escape_name("a\x1b]0;pwned\x07b"), "a\\x1b]0;pwned\\x07b");
        assert_eq!(escape_name("\x1b[2J.txt"), "\\x1b[2J.txt");
        assert_eq!(escape_name("del\x7f"), "del\\x7f");
        assert_eq!(escape_name("c1\u{9b}31m"), "c1\\u{9b}31m");
        assert_eq!(escape_name("gpj.\u{202e}exe"), "gpj.\\u{202e}exe");
        assert_eq!(escape_name("iso\u{2067}late"), "iso\\u{2067}late");
        assert_eq!(escape_name("two\nlines\tand\rback"), "two\\nlines\\tand\\rback");
        assert_eq!(escape_name("back\\slash"), "back\\\\slash");
    }

    #[test]
    fn ordinary_names_are_untouched() {
        for name in ["statement.txt", "Größe 1.pdf", "写真/東京.jpg", "a b (1).JPG", "שלום.txt"] {
            assert!(matches!(escape_name(name), Cow::Borrowed(n) if n == name), "{name}");
        }
    }

    #[test]
    fn messages_stay_one_line_and_keep_backslashes() {
        assert_eq!(escape_message("failed: a\x1b[2J\n  hint\\x\t"), "failed: a\\x1b[2J\\n  hint\\x\t");
        assert_eq!(escape_message("over\rwrite"), "over\\rwrite");
    }

    #[test]
    fn report_lines_stay_and_each_is_escaped() {
        assert_eq!(escape_lines("FAILED: 1 problem\n  file a\x1b[2J\\nOK"), "FAILED: 1 problem\n  file a\\x1b[2J\\nOK");
    }

    #[test]
    fn invalid_utf8_bytes_are_shown_as_hex() {
        assert_eq!(escape_bytes(b"ok\xff\x1b[0m"), "ok\\xff\\x1b[0m");
    }

    #[test]
    fn the_writer_escapes_across_split_writes() {
        use std::io::Write as _;
        let mut out = EscapingWriter::new(Vec::new());
        // A UTF-8 character and an escape split between two writes.
        out.write_all(b"{\"name\":\"a\xe2\x80").unwrap();
        out.write_all(b"\xae\x7f\"}\n\ttail").unwrap();
        out.flush().unwrap();
        assert_eq!(String::from_utf8(out.inner).unwrap(), "{\"name\":\"a\\u{202e}\\x7f\"}\n\ttail");
    }
}
