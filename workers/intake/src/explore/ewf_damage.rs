//! What is wrong with an E01 set's media, in one line for the summary:
//! the chunks that fail their checksums (by number, media offset and
//! segment), and whether the media hash differs from the one stored.

use exhibit_media::sources::EwfVerification;

/// Why the set at `path` fails its check, if it does.
pub fn reason(path: &str, v: &EwfVerification) -> Option<String> {
    let hash_differs = v.md5_matches == Some(false) || v.sha1_matches == Some(false);
    if v.damaged_chunks == 0 && !hash_differs {
        return None;
    }
    let mut parts = Vec::new();
    if v.damaged_chunks > 0 {
        let more = v.damaged_chunks.saturating_sub(v.damage.len() as u64);
        let also = if more > 0 { format!("; and {more} more") } else { String::new() };
        parts.push(format!(
            "{} chunk(s) of the media fail their checksums, read as zeros: {}{also}",
            v.damaged_chunks,
            v.damage.join("; ")
        ));
    }
    if hash_differs {
        parts.push("the media hash differs from the hash stored in the E01".to_owned());
    }
    Some(format!("{path}: {}", parts.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(damaged_chunks: u64, damage: &[&str], md5_matches: Option<bool>) -> EwfVerification {
        EwfVerification {
            md5: [0; 16],
            sha1: [0; 20],
            md5_matches,
            sha1_matches: None,
            damaged_chunks,
            damage: damage.iter().map(|d| (*d).to_owned()).collect(),
        }
    }

    #[test]
    fn names_the_damaged_chunks_and_counts_the_rest() {
        assert_eq!(reason("x.E01", &check(0, &[], Some(true))), None);
        assert_eq!(reason("x.E01", &check(0, &[], None)), None);
        let text = reason("x.E01", &check(10, &["EWF chunk 4: bad", "EWF chunk 9: bad"], Some(false))).unwrap();
        assert!(text.starts_with("x.E01: 10 chunk(s)"), "{text}");
        assert!(text.contains("EWF chunk 4: bad; EWF chunk 9: bad; and 8 more"), "{text}");
        assert!(text.ends_with("the media hash differs from the hash stored in the E01"), "{text}");
    }
}
