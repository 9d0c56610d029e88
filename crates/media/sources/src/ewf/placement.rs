//! Where the chunks of each surviving segment lie in the media when
//! segments are missing.
//!
//! EWF-E01 tables number no chunks: a segment's chunks follow the previous
//! segment's. So segments before the first missing one are placed from the
//! start of the media; when the set still ends with its final segment (the
//! `done` section), the segments after the last missing one are placed back
//! from the end of the media, which the volume section gives. The media
//! between is a hole: missing ranges, never guessed. Segments between two
//! missing ones cannot be placed and are left out, by name.

use super::segment::TableRef;

/// The surviving segments, in runs of consecutive numbers.
#[derive(Debug, Default)]
pub(crate) struct Runs {
    /// Index in the set's tables where each run starts.
    pub starts: Vec<usize>,
    /// Segment numbers that are missing or cut, with why.
    pub missing: Vec<(u16, String)>,
    /// Names of each run's segments.
    pub names: Vec<Vec<String>>,
}

/// The tables kept, the first chunk of each, and the media hole.
pub(crate) struct Placed {
    pub tables: Vec<TableRef>,
    pub first_chunk: Vec<u64>,
    /// Chunks `[from, to)` that no surviving segment holds, between the
    /// first run and the last; `None` when nothing was placed from the end.
    pub hole: Option<(u64, u64)>,
    /// Chunks the placed tables reach from the start, when nothing was
    /// placed from the end.
    pub prefix_chunks: u64,
    /// Why the set is incomplete, naming segments; `None` when whole.
    pub note: Option<String>,
}

/// Places the chunks of `tables` (split into `runs`) in media of `needed`
/// chunks; `complete_tail` says the set's final segment is there and whole.
pub(crate) fn place(tables: Vec<TableRef>, runs: &Runs, needed: u64, complete_tail: bool) -> Placed {
    let bounds: Vec<(usize, usize)> = runs
        .starts
        .iter()
        .enumerate()
        .map(|(i, &s)| (s, runs.starts.get(i + 1).copied().unwrap_or(tables.len())))
        .collect();
    let count = |(a, b): (usize, usize)| tables[a..b].iter().map(|t| u64::from(t.count)).sum::<u64>();
    let head = bounds.first().copied().unwrap_or((0, tables.len()));
    let head_chunks = count(head);
    let tail = bounds.last().copied().filter(|_| bounds.len() > 1 && complete_tail);
    let tail = tail.filter(|&t| head_chunks.saturating_add(count(t)) <= needed);
    let mut dropped: Vec<&str> = Vec::new();
    for (i, names) in runs.names.iter().enumerate().skip(1) {
        if tail.is_none() || i + 1 < bounds.len() {
            dropped.extend(names.iter().map(String::as_str));
        }
    }
    let (mut kept, mut first_chunk, mut at) = (Vec::new(), Vec::new(), 0u64);
    let mut push = |range: (usize, usize), from: u64, kept: &mut Vec<TableRef>| {
        at = from;
        for t in &tables[range.0..range.1] {
            first_chunk.push(at);
            at += u64::from(t.count);
            kept.push(*t);
        }
    };
    push(head, 0, &mut kept);
    let hole = tail.map(|t| {
        let from = needed - count(t);
        push(t, from, &mut kept);
        (head_chunks, from)
    });
    let mut parts: Vec<String> = runs.missing.iter().map(|(n, why)| format!("segment {n}: {why}")).collect();
    if !dropped.is_empty() {
        parts.push(format!(
            "{} cannot be placed in the media (a segment before and after it is missing) and is left out",
            dropped.join(", ")
        ));
    }
    Placed {
        tables: kept,
        first_chunk,
        hole,
        prefix_chunks: head_chunks,
        note: (!parts.is_empty()).then(|| parts.join("; ")),
    }
}
