//! One byte sequence ready to match: a cheap literal check (the anchor of
//! the subsequence nearest the reference point must lie in its window),
//! and a byte regex, compiled on first use, for the whole sequence.

use std::sync::OnceLock;

use memchr::memmem;
use regex::bytes::{Regex, RegexBuilder};

use crate::error::PronomError;
use crate::parse::{Anchor, ByteSequence, Fragment, SubSequence};
use crate::pattern::{self, REPEAT_CAP, gap};

/// Compiled-program and lazy-DFA cache bounds per sequence: what a hostile
/// sample can make one regex hold.
const REGEX_SIZE_LIMIT: usize = 4 << 20;
const DFA_SIZE_LIMIT: usize = 64 << 10;
/// A literal window wider than this is checked through the one
/// Aho-Corasick pass over the sample first.
const WIDE_WINDOW: u64 = 256;

/// The bytes a sequence is matched against.
#[derive(Debug, Clone, Copy)]
pub struct Sample<'a> {
    /// The first bytes of the content.
    pub head: &'a [u8],
    /// The last bytes of the content (the same as `head` when it all fits).
    pub tail: &'a [u8],
}

impl Sample<'_> {
    /// Whether head and tail are the same bytes (content that fits).
    pub fn whole(&self) -> bool {
        std::ptr::eq(self.head, self.tail)
    }
}

/// A byte sequence ready to match.
#[derive(Debug)]
pub struct CompiledSequence {
    anchor: Anchor,
    /// Offset window of the reference subsequence from BOF or EOF.
    min: u64,
    max: Option<u64>,
    /// Anchor bytes of the reference subsequence, and the window of their
    /// distance from BOF (start) or EOF (end).
    literal: Vec<u8>,
    literal_min: u64,
    literal_max: Option<u64>,
    source: String,
    regex: OnceLock<Option<Regex>>,
}

impl CompiledSequence {
    /// Prepares a parsed sequence; a pattern that does not convert is an error.
    pub fn new(seq: &ByteSequence) -> Result<Self, PronomError> {
        let subs = &seq.subsequences;
        let (Some(first), Some(last)) = (subs.first(), subs.last()) else {
            return Err(PronomError::corrupt("byte sequence without subsequences".into()));
        };
        let reference = if seq.anchor == Anchor::Eof { last } else { first };
        // As in PRONOM, a BOF or EOF offset with no maximum is exact; only
        // later subsequences use "no maximum" for "any distance".
        let max_offset = reference.max_offset.or(Some(reference.min_offset));
        let mut body = String::new();
        for (i, sub) in subs.iter().enumerate() {
            // BOF/variable: a later subsequence's offset is from the end of the
            // one before. EOF: each one's offset is to the start of the next.
            if seq.anchor != Anchor::Eof && i > 0 {
                body.push_str(&gap(sub.min_offset, sub.max_offset));
            }
            body.push_str(&subsequence_regex(sub)?);
            if seq.anchor == Anchor::Eof && i + 1 < subs.len() {
                body.push_str(&gap(sub.min_offset, sub.max_offset));
            }
        }
        let (side_min, side_max) =
            if seq.anchor == Anchor::Eof { side(&reference.right)? } else { side(&reference.left)? };
        let window = max_offset.map(|m| m.saturating_sub(reference.min_offset));
        let source = match (seq.anchor, window) {
            (Anchor::Bof, Some(w)) if w <= REPEAT_CAP => format!("(?s-u)\\A{}{body}", gap(0, Some(w))),
            (Anchor::Eof, Some(w)) if w <= REPEAT_CAP => format!("(?s-u){body}{}\\z", gap(0, Some(w))),
            _ => format!("(?s-u){body}"),
        };
        Ok(Self {
            anchor: seq.anchor,
            min: reference.min_offset,
            max: max_offset,
            literal: reference.anchor.clone(),
            literal_min: reference.min_offset + side_min,
            literal_max: max_offset.zip(side_max).map(|(a, b)| a + b),
            source,
            regex: OnceLock::new(),
        })
    }

    /// The anchor literal of a sequence whose window is wide (variable, or
    /// more than [`WIDE_WINDOW`] bytes), long enough to look for all at once
    /// with the others before any window is searched.
    pub fn wide_literal(&self) -> Option<&[u8]> {
        let width = self.literal_max.map(|m| m.saturating_sub(self.literal_min));
        let wide = self.anchor == Anchor::Variable || width.is_none_or(|w| w > WIDE_WINDOW);
        (wide && self.literal.len() >= 3).then_some(self.literal.as_slice())
    }

    /// `(offset, first byte)` when the anchor literal of a BOF sequence has
    /// one exact place: the key a signature is indexed by.
    pub fn exact_bof(&self) -> Option<(u64, u8)> {
        let first = *self.literal.first()?;
        (self.anchor == Anchor::Bof && self.literal_max == Some(self.literal_min)).then_some((self.literal_min, first))
    }

    /// The cheap check: can the anchor literal be where the sequence needs it?
    pub fn may_match(&self, sample: Sample) -> bool {
        let lit = self.literal.len() as u64;
        match self.anchor {
            Anchor::Variable => {
                self.literal.is_empty()
                    || contains(sample.head, &self.literal)
                    || (!sample.whole() && contains(sample.tail, &self.literal))
            }
            Anchor::Bof => {
                let hi = self.literal_max.map_or(u64::MAX, |m| m.saturating_add(lit));
                contains(window(sample.head, self.literal_min, hi), &self.literal)
            }
            Anchor::Eof => {
                let len = sample.tail.len() as u64;
                let end = len.saturating_sub(self.literal_min);
                let start = self.literal_max.map_or(0, |m| len.saturating_sub(m.saturating_add(lit)));
                contains(window(sample.tail, start, end), &self.literal)
            }
        }
    }

    /// The full check. A sequence whose regex exceeds the size limits never
    /// matches (and is reported by [`CompiledSequence::compiles`]).
    pub fn matches(&self, sample: Sample) -> bool {
        let Some(regex) = self.regex() else { return false };
        match self.anchor {
            Anchor::Variable => regex.is_match(sample.head) || (!sample.whole() && regex.is_match(sample.tail)),
            Anchor::Bof => {
                let Some(hay) = sample.head.get(to_index(self.min)..) else { return false };
                match self.max.map(|m| m - self.min.min(m)) {
                    Some(w) if w > REPEAT_CAP => regex.find(hay).is_some_and(|m| m.start() as u64 <= w),
                    _ => regex.is_match(hay),
                }
            }
            Anchor::Eof => {
                let end = sample.tail.len().saturating_sub(to_index(self.min));
                regex.is_match(&sample.tail[..end])
            }
        }
    }

    /// Whether the regex builds within the limits (compiling it now).
    pub fn compiles(&self) -> bool {
        self.regex().is_some()
    }

    fn regex(&self) -> Option<&Regex> {
        self.regex
            .get_or_init(|| {
                let built = RegexBuilder::new(&self.source)
                    .unicode(false)
                    .size_limit(REGEX_SIZE_LIMIT)
                    .dfa_size_limit(DFA_SIZE_LIMIT)
                    .build();
                built.map_err(|e| tracing::debug!(source = %self.source, "PRONOM sequence does not compile: {e}")).ok()
            })
            .as_ref()
    }
}

/// Regex source of one subsequence: left fragments (outermost first), the
/// anchor, right fragments.
fn subsequence_regex(sub: &SubSequence) -> Result<String, PronomError> {
    let mut out = String::new();
    for alts in by_position(&sub.left).into_iter().rev() {
        let parts: Vec<String> = alts
            .iter()
            .map(|f| Ok(format!("{}{}", pattern::compile(&f.pattern)?.regex, gap(f.min_offset, Some(f.max_offset)))))
            .collect::<Result<_, PronomError>>()?;
        out.push_str(&format!("(?:{})", parts.join("|")));
    }
    sub.anchor.iter().for_each(|b| out.push_str(&format!("\\x{b:02X}")));
    for alts in by_position(&sub.right) {
        let parts: Vec<String> = alts
            .iter()
            .map(|f| Ok(format!("{}{}", gap(f.min_offset, Some(f.max_offset)), pattern::compile(&f.pattern)?.regex)))
            .collect::<Result<_, PronomError>>()?;
        out.push_str(&format!("(?:{})", parts.join("|")));
    }
    Ok(out)
}

/// Fragments grouped by position, nearest the anchor first.
fn by_position(fragments: &[Fragment]) -> Vec<Vec<&Fragment>> {
    let mut positions: Vec<u32> = fragments.iter().map(|f| f.position).collect();
    positions.sort_unstable();
    positions.dedup();
    positions.iter().map(|p| fragments.iter().filter(|f| f.position == *p).collect()).collect()
}

/// Shortest and longest span of one side's fragments with their gaps.
fn side(fragments: &[Fragment]) -> Result<(u64, Option<u64>), PronomError> {
    let (mut min, mut max) = (0u64, Some(0u64));
    for alts in by_position(fragments) {
        let mut lo = u64::MAX;
        let mut hi = Some(0u64);
        for f in alts {
            let c = pattern::compile(&f.pattern)?;
            lo = lo.min(c.min_len + f.min_offset);
            hi = hi.zip(c.max_len).map(|(h, l)| h.max(l + f.max_offset));
        }
        min += lo;
        max = max.zip(hi).map(|(a, b)| a + b);
    }
    Ok((min, max))
}

fn to_index(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

fn window(bytes: &[u8], start: u64, end: u64) -> &[u8] {
    let end = to_index(end).min(bytes.len());
    bytes.get(to_index(start)..end).unwrap_or_default()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    if needle.is_empty() {
        return true;
    }
    // Most windows are a few bytes wide: comparing in place beats building
    // a searcher.
    if hay.len() <= needle.len() + 16 {
        return hay.windows(needle.len()).any(|w| w == needle);
    }
    memmem::find(hay, needle).is_some()
}
