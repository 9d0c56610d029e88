//! PRONOM pattern syntax to byte-regex source. Patterns hold hex bytes,
//! byte classes (`[00:1F]`, `[!00]`, `[&01]` all bits, `[~01]` any bit),
//! `??`, gaps (`{4}`, `{0-8}`, `{2-*}`, `*`), alternatives (`(0A|0D)`) and
//! quoted ASCII (`'GIF'`). The output is for `regex::bytes` with `(?s-u)`,
//! whose matching is linear in the input, whatever the pattern.

use std::fmt::Write as _;

use crate::error::PronomError;

/// Longest bounded repeat written into a regex. A larger bound becomes
/// "at least the minimum": the match is a superset, but the compiled
/// automaton stays small. In the signature file this affects fragment and
/// end-of-file windows wider than this (about 280 of 6,000), all of them
/// long-range "somewhere after" conditions.
pub const REPEAT_CAP: u64 = 2048;

/// A pattern as regex source, with the shortest and longest input it spans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compiled {
    pub regex: String,
    pub min_len: u64,
    /// `None`: unbounded.
    pub max_len: Option<u64>,
}

/// Converts one PRONOM pattern.
pub fn compile(pattern: &str) -> Result<Compiled, PronomError> {
    let mut parser = Parser { s: pattern.as_bytes(), i: 0, depth: 0 };
    let out = parser.sequence()?;
    if parser.i != parser.s.len() {
        return Err(parser.error("unexpected character"));
    }
    Ok(out)
}

/// Regex source for a gap of `min..=max` arbitrary bytes.
pub fn gap(min: u64, max: Option<u64>) -> String {
    match max {
        Some(0) => String::new(),
        Some(max) if max == min && max <= REPEAT_CAP => format!(".{{{max}}}"),
        Some(max) if max <= REPEAT_CAP => format!(".{{{min},{max}}}"),
        _ => format!(".{{{},}}", min.min(REPEAT_CAP)),
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    depth: u32,
}

impl Parser<'_> {
    fn error(&self, what: &str) -> PronomError {
        PronomError::corrupt(format!("pattern {:?}: {what} at {}", String::from_utf8_lossy(self.s), self.i))
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    /// Items up to the end, `|` or `)`.
    fn sequence(&mut self) -> Result<Compiled, PronomError> {
        let mut out = Compiled { regex: String::new(), min_len: 0, max_len: Some(0) };
        while let Some(c) = self.peek() {
            let item = match c {
                b'|' | b')' => break,
                b' ' | b'\t' | b'\r' | b'\n' => {
                    self.i += 1;
                    continue;
                }
                b'[' => self.class()?,
                b'(' => self.alternatives()?,
                b'{' => self.bounded_gap()?,
                b'*' => {
                    self.i += 1;
                    Compiled { regex: gap(0, None), min_len: 0, max_len: None }
                }
                b'?' => {
                    self.expect(b"??")?;
                    Compiled { regex: ".".into(), min_len: 1, max_len: Some(1) }
                }
                b'\'' => self.quoted()?,
                _ => {
                    let b = self.hex_byte()?;
                    Compiled { regex: format!("\\x{b:02X}"), min_len: 1, max_len: Some(1) }
                }
            };
            out.regex.push_str(&item.regex);
            out.min_len += item.min_len;
            out.max_len = out.max_len.zip(item.max_len).map(|(a, b)| a + b);
        }
        Ok(out)
    }

    fn expect(&mut self, what: &[u8]) -> Result<(), PronomError> {
        if self.s[self.i..].starts_with(what) {
            self.i += what.len();
            Ok(())
        } else {
            Err(self.error(&format!("expected {:?}", String::from_utf8_lossy(what))))
        }
    }

    fn hex_byte(&mut self) -> Result<u8, PronomError> {
        let pair = self.s.get(self.i..self.i + 2).ok_or_else(|| self.error("truncated hex byte"))?;
        let value = std::str::from_utf8(pair).ok().and_then(|p| u8::from_str_radix(p, 16).ok());
        let value = value.ok_or_else(|| self.error("not a hex byte"))?;
        self.i += 2;
        Ok(value)
    }

    fn number(&mut self) -> Result<u64, PronomError> {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        let digits = std::str::from_utf8(&self.s[start..self.i]).unwrap_or_default();
        digits.parse().map_err(|_| self.error("expected a number"))
    }

    /// `{n}`, `{n-m}`, `{n-*}`.
    fn bounded_gap(&mut self) -> Result<Compiled, PronomError> {
        self.i += 1;
        let min = self.number()?;
        let max = if self.peek() == Some(b'-') {
            self.i += 1;
            if self.peek() == Some(b'*') {
                self.i += 1;
                None
            } else {
                Some(self.number()?)
            }
        } else {
            Some(min)
        };
        self.expect(b"}")?;
        if max.is_some_and(|m| m < min) {
            return Err(self.error("gap maximum below minimum"));
        }
        Ok(Compiled { regex: gap(min, max), min_len: min, max_len: max })
    }

    fn quoted(&mut self) -> Result<Compiled, PronomError> {
        self.i += 1;
        let mut out = Compiled { regex: String::new(), min_len: 0, max_len: Some(0) };
        while let Some(c) = self.peek() {
            self.i += 1;
            if c == b'\'' {
                return Ok(out);
            }
            let _ = write!(out.regex, "\\x{c:02X}");
            out.min_len += 1;
            out.max_len = out.max_len.map(|m| m + 1);
        }
        Err(self.error("unterminated quoted string"))
    }

    fn alternatives(&mut self) -> Result<Compiled, PronomError> {
        self.depth += 1;
        if self.depth > 8 {
            return Err(self.error("alternatives nested too deeply"));
        }
        self.i += 1;
        let mut alts = vec![self.sequence()?];
        while self.peek() == Some(b'|') {
            self.i += 1;
            alts.push(self.sequence()?);
        }
        self.expect(b")")?;
        self.depth -= 1;
        let regex = format!("(?:{})", alts.iter().map(|a| a.regex.as_str()).collect::<Vec<_>>().join("|"));
        let min_len = alts.iter().map(|a| a.min_len).min().unwrap_or(0);
        let max_len = alts.iter().try_fold(0, |m, a| a.max_len.map(|x| m.max(x)));
        Ok(Compiled { regex, min_len, max_len })
    }

    /// `[...]`: one byte from a set.
    fn class(&mut self) -> Result<Compiled, PronomError> {
        self.i += 1;
        let negate = self.peek() == Some(b'!');
        if negate {
            self.i += 1;
        }
        let mut set = [false; 256];
        while self.peek().is_some_and(|c| c != b']') {
            self.class_item(&mut set)?;
        }
        self.expect(b"]")?;
        if negate {
            set.iter_mut().for_each(|b| *b = !*b);
        }
        Ok(Compiled {
            regex: class_regex(&set).ok_or_else(|| self.error("empty byte class"))?,
            min_len: 1,
            max_len: Some(1),
        })
    }

    fn class_item(&mut self, set: &mut [bool; 256]) -> Result<(), PronomError> {
        match self.peek() {
            Some(b'&') => {
                self.i += 1;
                let mask = self.hex_byte()?;
                (0..=255u8).filter(|b| b & mask == mask).for_each(|b| set[usize::from(b)] = true);
            }
            Some(b'~') => {
                self.i += 1;
                let mask = self.hex_byte()?;
                (0..=255u8).filter(|b| b & mask != 0).for_each(|b| set[usize::from(b)] = true);
            }
            _ => {
                let low = self.hex_byte()?;
                let high = if self.peek() == Some(b':') {
                    self.i += 1;
                    self.hex_byte()?
                } else {
                    low
                };
                (low.min(high)..=low.max(high)).for_each(|b| set[usize::from(b)] = true);
            }
        }
        Ok(())
    }
}

/// `[\xAA-\xBB...]` for a non-empty set, or `.` for all bytes.
fn class_regex(set: &[bool; 256]) -> Option<String> {
    if set.iter().all(|b| *b) {
        return Some(".".into());
    }
    let mut out = String::from("[");
    let mut b = 0usize;
    while b < 256 {
        if !set[b] {
            b += 1;
            continue;
        }
        let start = b;
        while b + 1 < 256 && set[b + 1] {
            b += 1;
        }
        let _ = write!(out, "\\x{start:02X}-\\x{b:02X}");
        b += 1;
    }
    out.push(']');
    (out.len() > 2).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn translates_every_construct() {
        let c = compile("0A[00:1F]??{2-4}(41|4243)[!00]'Hi'*").unwrap();
        assert_eq!(c.regex, r"\x0A[\x00-\x1F]..{2,4}(?:\x41|\x42\x43)[\x01-\xFF]\x48\x69.{0,}");
        assert_eq!((c.min_len, c.max_len), (9, None));
    }

    #[test]
    fn bit_mask_classes() {
        let all = regex::bytes::Regex::new(&format!("(?s-u)^{}$", compile("[&03]").unwrap().regex)).unwrap();
        let none = regex::bytes::Regex::new(&format!("(?s-u)^{}$", compile("[!&01]").unwrap().regex)).unwrap();
        let any = regex::bytes::Regex::new(&format!("(?s-u)^{}$", compile("[~81]").unwrap().regex)).unwrap();
        assert!(all.is_match(&[0x07]) && !all.is_match(&[0x05]));
        assert!(none.is_match(&[0x02]) && !none.is_match(&[0x03]));
        assert!(any.is_match(&[0x80]) && any.is_match(&[0x01]) && !any.is_match(&[0x7E]));
    }

    #[test]
    fn lengths_of_bounded_patterns() {
        let c = compile("01{3}(02|0304)").unwrap();
        assert_eq!((c.min_len, c.max_len), (5, Some(6)));
        assert_eq!(gap(5, Some(1_000_000)), ".{5,}");
        assert_eq!(gap(0, Some(0)), "");
    }

    #[test]
    fn hostile_patterns_are_errors_not_panics() {
        for bad in ["0", "GG", "[", "[]", "[00:FF", "(41|", "{3-1}", "{", "'abc", "??0", "[!00:FF]", &"(".repeat(100)] {
            assert!(compile(bad).is_err(), "{bad}");
        }
    }
}
