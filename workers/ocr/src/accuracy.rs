//! Character accuracy of OCR output against known text (Levenshtein based).

/// Collapses every run of whitespace to one space and trims the ends.
pub fn normalise_whitespace(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Edit distance between `a` and `b`, in Unicode scalar values (O(len) memory).
pub fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// `1 - distance / len(expected)` over whitespace-normalised text, floored at 0.
pub fn char_accuracy(expected: &str, actual: &str) -> f64 {
    let e = normalise_whitespace(expected);
    let a = normalise_whitespace(actual);
    let n = e.chars().count();
    if n == 0 {
        return if a.is_empty() { 1.0 } else { 0.0 };
    }
    (1.0 - levenshtein(&e, &a) as f64 / n as f64).max(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_and_accuracy() {
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("", "abc"), 3);
        assert!((char_accuracy("a  b\nc", "a b c") - 1.0).abs() < 1e-9);
        assert!(char_accuracy("abcd", "abxd") > 0.74);
    }

    #[test]
    fn reconcile_messages() {
        assert_eq!(crate::reconcile(None, 3), None);
        assert_eq!(crate::reconcile(Some(3), 3), None);
        assert!(crate::reconcile(Some(5), 3).unwrap().contains("2 missing"));
        assert!(crate::reconcile(Some(2), 3).unwrap().contains("1 extra"));
    }
}
