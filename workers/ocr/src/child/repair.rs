//! Repairs of the two faults seen in real scan PDFs, as qpdf (and so
//! ocrmypdf) makes them: a cross-reference table whose offsets miss their
//! objects is rebuilt from the `N G obj` headers in the file, and a stream
//! whose `/Length` does not reach its `endstream` (tiff2pdf's JPEG
//! pass-through writes both faults) gets the length it really has.

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

/// The file with every stream `/Length` (direct, or an indirect length
/// object) set to where its `endstream` really is, and the cross-reference
/// table rebuilt; None when every length is right.
pub fn fix_stream_lengths(data: &[u8]) -> Option<Vec<u8>> {
    let objects = find_objects(data);
    let mut edits: Vec<(std::ops::Range<usize>, Vec<u8>)> = Vec::new();
    let mut at = 0;
    while let Some(pos) = find(&data[at..], b"stream") {
        let keyword = at + pos;
        at = keyword + 6;
        let Some(start) = stream_data_start(data, keyword) else { continue };
        let Some(end) = find(&data[start..], b"endstream").map(|e| start + e) else { break };
        at = end + 9;
        let Some(header) = data[..keyword].windows(3).rposition(|w| w == b"obj") else { continue };
        let dict = &data[header..keyword];
        let Some(key) = find(dict, b"/Length").map(|k| header + k + 7) else { continue };
        let Some((value, number)) = length_value(data, key) else { continue };
        let declared = match number {
            Some(n) => objects.get(&n).and_then(|(offset, _)| {
                let body = find(&data[*offset..], b"obj").map(|o| offset + o + 3)?;
                length_value(data, body).and_then(|(v, indirect)| indirect.is_none().then_some(v))
            }),
            None => Some(value),
        };
        let declared = declared.unwrap_or(usize::MAX);
        // A stream's data may hold the word endstream: a declared length that
        // ends at whitespace and `endstream` is right wherever the first one is.
        let declared_end = start.checked_add(declared).filter(|e| *e <= data.len());
        if let Some(e) = declared_end.filter(|e| ends_stream(&data[*e..])) {
            at = e;
            continue;
        }
        let actual = trim_eol(&data[start..end]).len();
        match number {
            Some(n) => {
                let Some((offset, generation)) = objects.get(&n).copied() else { continue };
                let Some(stop) = find(&data[offset..], b"endobj").map(|e| offset + e + 6) else { continue };
                edits.push((offset..stop, format!("{n} {generation} obj\n{actual}\nendobj").into_bytes()));
            }
            None => {
                let digits = data[key..].iter().take_while(|b| b.is_ascii_whitespace() || b.is_ascii_digit()).count();
                edits.push((key..key + digits, format!(" {actual} ").into_bytes()));
            }
        }
    }
    if edits.is_empty() {
        return None;
    }
    edits.sort_by_key(|(range, _)| range.start);
    let mut out = Vec::with_capacity(data.len() + 64);
    let mut copied = 0;
    for (range, bytes) in edits {
        if range.start < copied {
            continue;
        }
        out.extend_from_slice(&data[copied..range.start]);
        out.extend_from_slice(&bytes);
        copied = range.end;
    }
    out.extend_from_slice(&data[copied..]);
    rebuild_xref(&out)
}

/// Where a stream's data starts: after `stream` and its end of line, when
/// the keyword follows a dictionary (`>>`).
fn stream_data_start(data: &[u8], keyword: usize) -> Option<usize> {
    let before = data[..keyword].iter().rev().skip_while(|b| b.is_ascii_whitespace()).take(2).collect::<Vec<_>>();
    if before != [&b'>', &b'>'] {
        return None;
    }
    match data.get(keyword + 6..keyword + 8)? {
        [b'\r', b'\n'] => Some(keyword + 8),
        [b'\n', _] | [b'\r', _] => Some(keyword + 7),
        _ => None,
    }
}

/// The value after `/Length`: a number, or `N G R` (the length object's number).
fn length_value(data: &[u8], from: usize) -> Option<(usize, Option<u32>)> {
    let text = std::str::from_utf8(&data[from..data.len().min(from + 40)]).unwrap_or_default();
    let mut words = text.split(|c: char| c.is_ascii_whitespace() || c == '/' || c == '>').filter(|w| !w.is_empty());
    let first: usize = words.next()?.parse().ok()?;
    let (second, third) = (words.next(), words.next());
    if second.is_some_and(|g| g.parse::<u16>().is_ok()) && third == Some("R") {
        return Some((0, Some(u32::try_from(first).ok()?)));
    }
    Some((first, None))
}

/// True when `rest` is optional whitespace then `endstream`.
fn ends_stream(rest: &[u8]) -> bool {
    let skip = rest.iter().take(4).take_while(|b| b.is_ascii_whitespace()).count();
    rest[skip..].starts_with(b"endstream")
}

fn trim_eol(data: &[u8]) -> &[u8] {
    let data = data.strip_suffix(b"\n").unwrap_or(data);
    data.strip_suffix(b"\r").unwrap_or(data)
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
    fn stream_lengths_direct_and_indirect_are_fixed() {
        let pdf = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Length 3 >>\nstream\nabcdef\nendstream\nendobj\n3 0 obj\n<< /Length 4 0 R >>\nstream\nxyz\nendstream\nendobj\n4 0 obj\n1\nendobj\n";
        let fixed = fix_stream_lengths(pdf).unwrap();
        let text = String::from_utf8_lossy(&fixed);
        assert!(text.contains("<< /Length 6 >>\nstream\nabcdef"), "{text}");
        assert!(text.contains("4 0 obj\n3\nendobj"), "{text}");
        assert!(text.contains("/Root 1 0 R"), "{text}");
        assert!(fix_stream_lengths(&fixed[..]).is_none(), "nothing left to fix");
        let inner = b"%PDF-1.4\n1 0 obj\n<< /Length 16 >>\nstream\nab endstream cd\nendstream\nendobj\n";
        assert!(fix_stream_lengths(inner).is_none(), "a right length past an inner endstream is kept");
    }

    #[test]
    fn no_catalog_no_repair() {
        assert!(rebuild_xref(b"%PDF-1.4\n1 0 obj\n<< >>\nendobj\n").is_none());
        assert!(rebuild_xref(b"garbage").is_none());
    }
}
