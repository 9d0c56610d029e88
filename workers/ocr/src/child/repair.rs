//! A PDF whose cross-reference table is wrong (tiff2pdf's JPEG pass-through
//! writes offsets that miss their objects) is read again with a table rebuilt
//! from the `N G obj` headers found in the file, as qpdf (and so ocrmypdf)
//! does. The rebuilt table is appended as an update; the bytes before it are
//! untouched.

use std::collections::BTreeMap;

/// Highest object number accepted in a rebuilt table (bounds the table's size).
const MAX_OBJECT: u32 = 1 << 20;

/// The file with a rebuilt cross-reference table and trailer appended, or
/// None when no objects or no catalog are found.
pub fn rebuild_xref(data: &[u8]) -> Option<Vec<u8>> {
    let objects = find_objects(data);
    let root = objects.iter().rev().find(|(_, (at, _))| is_catalog(data, *at)).map(|(n, (_, g))| (*n, *g))?;
    let size = objects.keys().next_back()? + 1;
    let mut out = Vec::with_capacity(data.len() + 20 * size as usize + 100);
    out.extend_from_slice(data);
    out.push(b'\n');
    let xref_at = out.len();
    out.extend_from_slice(format!("xref\n0 {size}\n").as_bytes());
    for n in 0..size {
        let line = match objects.get(&n) {
            Some((at, generation)) if n > 0 => format!("{at:010} {generation:05} n \n"),
            _ => "0000000000 65535 f \n".to_owned(),
        };
        out.extend_from_slice(line.as_bytes());
    }
    let trailer = format!("trailer\n<< /Size {size} /Root {} {} R >>\nstartxref\n{xref_at}\n%%EOF\n", root.0, root.1);
    out.extend_from_slice(trailer.as_bytes());
    Some(out)
}

/// Object number -> (offset, generation) of each `N G obj` at a line start; the last one wins.
fn find_objects(data: &[u8]) -> BTreeMap<u32, (usize, u16)> {
    let mut found = BTreeMap::new();
    let mut at = 0;
    while let Some(pos) = find(&data[at..], b" obj") {
        let end = at + pos;
        at = end + 4;
        if let Some((start, n, generation)) = header_before(data, end) {
            if n <= MAX_OBJECT {
                found.insert(n, (start, generation));
            }
        }
    }
    found
}

/// Parses `N G` ending at `end`, preceded by a line start; returns its start.
fn header_before(data: &[u8], end: usize) -> Option<(usize, u32, u16)> {
    let digits_back = |to: usize| data[..to].iter().rev().take(10).take_while(|b| b.is_ascii_digit()).count();
    let g_len = digits_back(end);
    let g_start = end.checked_sub(g_len).filter(|_| g_len > 0)?;
    let space = g_start.checked_sub(1).filter(|s| data[*s] == b' ')?;
    let n_len = digits_back(space);
    let n_start = space.checked_sub(n_len).filter(|_| n_len > 0)?;
    if n_start > 0 && !matches!(data[n_start - 1], b'\n' | b'\r') {
        return None;
    }
    let n = std::str::from_utf8(&data[n_start..space]).ok()?.parse().ok()?;
    let generation = std::str::from_utf8(&data[g_start..end]).ok()?.parse().ok()?;
    Some((n_start, n, generation))
}

/// True when the object at `at` is a `/Type /Catalog` dictionary.
fn is_catalog(data: &[u8], at: usize) -> bool {
    let body = &data[at..data.len().min(at + 4096)];
    let end = find(body, b"endobj").unwrap_or(body.len());
    let body = &body[..end];
    find(body, b"/Catalog").is_some() && find(body, b"/Type").is_some()
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_found_and_the_catalog_is_the_root() {
        let pdf = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages >>\nendobj\nxref\n0 3\n0000000000 65535 f \n0000000999 00000 n \n";
        let fixed = rebuild_xref(pdf).unwrap();
        let text = String::from_utf8_lossy(&fixed[pdf.len()..]);
        let second = find(pdf, b"2 0 obj").unwrap();
        assert!(text.contains("0000000009 00000 n \n"), "{text}");
        assert!(text.contains(&format!("{second:010} 00000 n \n")), "{text}");
        assert!(text.contains("/Root 1 0 R"), "{text}");
    }

    #[test]
    fn no_catalog_no_repair() {
        assert!(rebuild_xref(b"%PDF-1.4\n1 0 obj\n<< >>\nendobj\n").is_none());
        assert!(rebuild_xref(b"garbage").is_none());
    }
}
