//! A recorded failure for a terminal. Its reason is free text that embeds
//! the path it is about as display text: a backslash not doubled, a tab
//! raw, bytes that are not UTF-8 as U+FFFD, so `a<ESC>b` and a file
//! literally named `a\x1bb` would read alike. The path is shown instead
//! from its recorded bytes, escaped as `show`'s tree and the attention
//! lines escape names; the rest of the reason is escaped as a message.

use crate::terminal::{escape_message, escape_name_bytes};

/// `reason` about the path `name` (its exact bytes) for a terminal: the
/// path where the reason names it as its subject (`PATH: why`) shown from
/// `name`, else `name: reason`. Old ledgers, whose events hold only the
/// display path, are shown from that text the same way.
pub fn failure_text(name: &[u8], reason: &str) -> String {
    if name.is_empty() {
        return escape_message(reason).into_owned();
    }
    let shown = escape_name_bytes(name);
    let subject = format!("{}: ", String::from_utf8_lossy(name));
    match reason.find(&subject) {
        Some(at) => {
            let (before, after) = (&reason[..at], &reason[at + subject.len()..]);
            format!("{}{shown}: {}", escape_message(before), escape_message(after))
        }
        None => format!("{shown}: {}", escape_message(reason)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_escape_and_a_literal_backslash_name_print_apart() {
        let esc = failure_text(b"/in/a\x1bb", "/in/a\x1bb: cannot be read (denied)");
        let literal = failure_text(b"/in/a\\x1bb", "/in/a\\x1bb: cannot be read (denied)");
        assert_eq!(esc, "/in/a\\x1bb: cannot be read (denied)");
        assert_eq!(literal, "/in/a\\\\x1bb: cannot be read (denied)");
    }

    #[test]
    fn bytes_that_are_not_utf8_and_tabs_show_from_the_recorded_bytes() {
        let reason = format!("{}: cannot be read", String::from_utf8_lossy(b"/in/bad\xfe"));
        assert_eq!(failure_text(b"/in/bad\xfe", &reason), "/in/bad\\xfe: cannot be read");
        assert_eq!(failure_text(b"/in/t\tab", "/in/t\tab: gone\tnow"), "/in/t\\tab: gone\tnow");
    }

    #[test]
    fn a_reason_that_does_not_name_the_path_gets_it_in_front() {
        assert_eq!(failure_text(b"/in/x", "no stream to encode"), "/in/x: no stream to encode");
        assert_eq!(failure_text(b"", "job failed\x1b[2J"), "job failed\\x1b[2J");
    }

    #[test]
    fn a_path_inside_an_image_is_found_after_the_image() {
        let reason = "/in/disk.E01 > /DCIM/a\tb.jpg: record damaged";
        assert_eq!(failure_text(b"/DCIM/a\tb.jpg", reason), "/in/disk.E01 > /DCIM/a\\tb.jpg: record damaged");
    }
}
