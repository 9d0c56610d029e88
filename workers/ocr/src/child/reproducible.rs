//! Makes Tesseract's PDF byte-for-byte reproducible: its Info dictionary
//! carries the creation time, which is replaced in place by a fixed date of
//! the same length, so the xref offsets stay valid.

/// The fixed date written instead of the run time.
const FIXED: &[u8] = b"19700101000000";

/// Replaces the digits of every `/CreationDate (D:` and `/ModDate (D:` value.
pub fn fix_dates(pdf: &mut [u8]) -> usize {
    let mut fixed = 0;
    for key in [&b"/CreationDate (D:"[..], &b"/ModDate (D:"[..]] {
        let mut from = 0;
        while let Some(pos) = find(&pdf[from..], key) {
            let start = from + pos + key.len();
            let digits = pdf[start..].iter().take(FIXED.len()).take_while(|b| b.is_ascii_digit()).count();
            pdf[start..start + digits].copy_from_slice(&FIXED[..digits]);
            fixed += 1;
            from = start;
        }
    }
    fixed
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_are_fixed_in_place() {
        let mut pdf = b"<< /CreationDate (D:20240102030405+00'00') >>".to_vec();
        let len = pdf.len();
        assert_eq!(super::fix_dates(&mut pdf), 1);
        assert_eq!(pdf.len(), len);
        assert_eq!(&pdf[..], b"<< /CreationDate (D:19700101000000+00'00') >>");
    }
}
