//! Decode problems met in the source, bounded, and the damaged time ranges
//! they imply.

use crate::report::{DamagedRange, DecodeIssue, SourceStreamStats};

/// Most issues kept per job; further ones are only counted.
const MAX_ISSUES: usize = 1000;
/// Issues closer than this merge into one damaged range.
const MERGE_GAP_US: i64 = 1_000_000;

/// A bounded list of issues.
#[derive(Debug, Default)]
pub(crate) struct Issues {
    pub list: Vec<DecodeIssue>,
    pub dropped: u64,
}

impl Issues {
    pub fn push(&mut self, stream: Option<usize>, at_us: Option<i64>, byte_pos: Option<i64>, kind: &str, msg: String) {
        if self.list.len() >= MAX_ISSUES {
            self.dropped += 1;
            return;
        }
        let message = msg.chars().take(512).collect();
        self.list.push(DecodeIssue { stream, at_us, byte_pos, kind: kind.to_owned(), message });
    }

    /// Adds issues from another pass over the same source, skipping repeats.
    pub fn merge(&mut self, other: Issues) {
        for i in other.list {
            if !self.list.contains(&i) {
                if self.list.len() >= MAX_ISSUES {
                    self.dropped += 1;
                } else {
                    self.list.push(i);
                }
            }
        }
        self.dropped = self.dropped.max(other.dropped);
    }
}

/// Records a `truncated` issue when a stream's declared duration runs past
/// what decoded by more than `slack_us`.
pub(crate) fn check_truncation(
    issues: &mut Issues,
    stats: &SourceStreamStats,
    declared_us: Option<i64>,
    slack_us: i64,
) {
    let Some(declared) = declared_us else { return };
    let decoded_end = stats.first_us.saturating_add(stats.decodable_duration_us);
    if declared > decoded_end.saturating_add(slack_us) {
        issues.push(
            Some(stats.stream),
            Some(decoded_end),
            None,
            "truncated",
            format!("declared duration {declared} µs but decoding stopped at {decoded_end} µs"),
        );
        issues.push(Some(stats.stream), Some(declared), None, "truncated", "declared end of stream".into());
    }
}

/// Groups issues into per-stream ranges. Each issue covers `span_us` from
/// its time; issues within a second of each other merge.
pub(crate) fn damaged_ranges(issues: &[DecodeIssue], span_us: impl Fn(usize) -> i64) -> Vec<DamagedRange> {
    let mut points: Vec<(usize, i64, &str)> =
        issues.iter().filter_map(|i| Some((i.stream?, i.at_us?, i.kind.as_str()))).collect();
    points.sort();
    let mut out: Vec<DamagedRange> = Vec::new();
    for (stream, at, kind) in points {
        let end = at.saturating_add(span_us(stream));
        match out.last_mut() {
            Some(r) if r.stream == stream && at <= r.end_us.saturating_add(MERGE_GAP_US) => {
                r.end_us = r.end_us.max(end);
                if !r.kinds.iter().any(|k| k == kind) {
                    r.kinds.push(kind.to_owned());
                }
            }
            _ => out.push(DamagedRange { stream, start_us: at, end_us: end, kinds: vec![kind.to_owned()] }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issue(stream: usize, at: i64, kind: &str) -> DecodeIssue {
        DecodeIssue { stream: Some(stream), at_us: Some(at), byte_pos: None, kind: kind.into(), message: String::new() }
    }

    #[test]
    fn nearby_issues_merge_and_streams_stay_apart() {
        let list = [issue(0, 0, "a"), issue(0, 500_000, "b"), issue(0, 5_000_000, "a"), issue(1, 100, "a")];
        let r = damaged_ranges(&list, |_| 40_000);
        assert_eq!(r.len(), 3);
        assert_eq!((r[0].start_us, r[0].end_us), (0, 540_000));
        assert_eq!(r[0].kinds, ["a", "b"]);
    }

    #[test]
    fn issue_list_is_bounded() {
        let mut i = Issues::default();
        for n in 0..(MAX_ISSUES as i64 + 5) {
            i.push(None, Some(n), None, "x", String::new());
        }
        assert_eq!((i.list.len(), i.dropped), (MAX_ISSUES, 5));
    }
}
