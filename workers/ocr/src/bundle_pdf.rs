//! One PDF from the searchable PDFs of a bundle's pages, in page order.
//!
//! Each page file's PDF (as exhibit wrote it: classic cross-reference
//! table, one page tree) keeps its objects byte for byte: only the objects
//! reachable from its page tree are copied (its catalog, Info, XMP and
//! output intent are left behind), renumbered into one sequence, and its
//! page tree node becomes a kid of the bundle's root page tree. References
//! are rewritten only in the dictionary part of an object, never inside
//! stream data. The result is then made PDF/A-2b by [`crate::make_pdfa`],
//! so it depends only on its inputs and their order: `reproduce` gets the
//! same bytes.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;

use crate::OcrError;
use crate::pdfa::{XrefTable, find, number_at, reference_after, write_object};

/// Most objects the merged PDF may hold (as `make_pdfa` allows).
const MAX_OBJECTS: u32 = 1 << 20;
/// Objects of the bundle itself: catalog, root page tree, Info.
const CATALOG: u32 = 1;
const ROOT_PAGES: u32 = 2;
const INFO: u32 = 3;

fn bad(doc: usize, why: &str) -> OcrError {
    OcrError::corrupt(format!("bundle page file {}: searchable PDF {why}", doc + 1))
}

/// Merges `docs` (PDFs written by exhibit's OCR) into one plain PDF with
/// their pages in the given order; returns it and its page count.
pub fn merge_documents(docs: &[Vec<u8>]) -> Result<(Vec<u8>, u64), OcrError> {
    let first = docs.first().ok_or_else(|| OcrError::corrupt("a bundle needs at least one page"))?;
    let header_end = XrefTable::read(first).map_err(|e| bad(0, &e.message))?.first_offset();
    let mut out = first[..header_end].to_vec();
    let mut offsets = vec![0usize; INFO as usize + 1];
    let (mut kids, mut count) = (Vec::new(), 0u64);
    for (i, doc) in docs.iter().enumerate() {
        let (kid, pages) = append_document(&mut out, &mut offsets, doc).map_err(|e| bad(i, &e.message))?;
        kids.push(kid);
        count = count.saturating_add(pages);
    }
    let kids: String = kids.iter().map(|k| format!("{k} 0 R ")).collect();
    offsets[CATALOG as usize] = out.len();
    write_object(&mut out, CATALOG, format!("<< /Type /Catalog /Pages {ROOT_PAGES} 0 R >>").as_bytes());
    offsets[ROOT_PAGES as usize] = out.len();
    write_object(&mut out, ROOT_PAGES, format!("<< /Type /Pages /Kids [ {kids}] /Count {count} >>").as_bytes());
    offsets[INFO as usize] = out.len();
    write_object(&mut out, INFO, b"<< >>");
    write_xref(&mut out, &offsets);
    Ok((out, count))
}

/// Copies one document's page tree into `out`; returns the new number of
/// its page tree node and its page count.
fn append_document(out: &mut Vec<u8>, offsets: &mut Vec<usize>, doc: &[u8]) -> Result<(u32, u64), OcrError> {
    let table = XrefTable::read(doc)?;
    let catalog = table.object(doc, table.root).ok_or_else(|| OcrError::corrupt("has no catalog"))?;
    let pages = reference_after(catalog, b"/Pages").ok_or_else(|| OcrError::corrupt("has no /Pages"))?;
    let reachable = reachable(doc, &table, pages)?;
    let base = u32::try_from(offsets.len()).map_err(|_| OcrError::limit("too many objects"))?;
    let total = base.saturating_add(u32::try_from(reachable.len()).unwrap_or(u32::MAX));
    if total > MAX_OBJECTS {
        return Err(OcrError::limit(format!("the bundle would hold over {MAX_OBJECTS} PDF objects")));
    }
    let map: HashMap<u32, u32> = reachable.iter().zip(base..).map(|(old, new)| (*old, new)).collect();
    let mut count = 0;
    for old in &reachable {
        let raw = table.raw_object(doc, *old).ok_or_else(|| OcrError::corrupt(format!("object {old} is missing")))?;
        let (dict, tail) = split_object(raw).ok_or_else(|| OcrError::corrupt(format!("object {old} is malformed")))?;
        let mut body = renumber(dict, &map)?;
        if *old == pages {
            count = find(dict, b"/Count").and_then(|at| number_at::<u64>(dict, at + 6)).unwrap_or(0);
            let at = find(&body, b"<<").ok_or_else(|| OcrError::corrupt("page tree is not a dictionary"))? + 2;
            body.splice(at..at, format!(" /Parent {ROOT_PAGES} 0 R").into_bytes());
        }
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj", map[old]).as_bytes());
        out.extend_from_slice(&body);
        out.extend_from_slice(tail);
    }
    Ok((map[&pages], count))
}

/// Object numbers reachable from `start` through references in dictionaries.
fn reachable(doc: &[u8], table: &XrefTable, start: u32) -> Result<BTreeSet<u32>, OcrError> {
    let mut seen = BTreeSet::from([start]);
    let mut todo = vec![start];
    while let Some(n) = todo.pop() {
        let raw = table.raw_object(doc, n).ok_or_else(|| OcrError::corrupt(format!("object {n} is missing")))?;
        let (dict, _) = split_object(raw).ok_or_else(|| OcrError::corrupt(format!("object {n} is malformed")))?;
        for (_, _, r) in references(dict) {
            if r == 0 || r >= table.size {
                return Err(OcrError::corrupt(format!("object {n} refers to object {r}, which is not there")));
            }
            if seen.insert(r) {
                todo.push(r);
            }
        }
    }
    Ok(seen)
}

/// An object's bytes after `N G obj`, split before its stream data (or its `endobj`).
fn split_object(raw: &[u8]) -> Option<(&[u8], &[u8])> {
    let rest = &raw[find(raw, b"obj")? + 3..];
    let end = find(rest, b"stream").or_else(|| find(rest, b"endobj"))?;
    Some(rest.split_at(end))
}

/// Spans (start, end, object number) of every `N G R` outside strings.
fn references(part: &[u8]) -> Vec<(usize, usize, u32)> {
    let mut found = Vec::new();
    let (mut i, mut depth) = (0, 0usize);
    while i < part.len() {
        let b = part[i];
        if depth > 0 {
            match b {
                b'\\' => i += 1,
                b'(' => depth += 1,
                b')' => depth -= 1,
                _ => {}
            }
            i += 1;
            continue;
        }
        if b == b'(' {
            depth = 1;
        } else if b.is_ascii_digit() && (i == 0 || is_delimiter(part[i - 1])) {
            if let Some((end, n)) = reference_at(part, i) {
                found.push((i, end, n));
                i = end;
                continue;
            }
            i += part[i..].iter().take_while(|c| c.is_ascii_digit()).count();
            continue;
        }
        i += 1;
    }
    found
}

fn is_delimiter(b: u8) -> bool {
    b.is_ascii_whitespace() || b"[]<>()/{}%".contains(&b)
}

/// `N G R` starting at `at`: where it ends and `N`.
fn reference_at(part: &[u8], at: usize) -> Option<(usize, u32)> {
    let digits =
        |from: usize| part.get(from..).map_or(0, |r| r.iter().take(10).take_while(|c| c.is_ascii_digit()).count());
    let spaces = |from: usize| part.get(from..).map_or(0, |r| r.iter().take_while(|c| c.is_ascii_whitespace()).count());
    let n_len = digits(at);
    let g_at = at + n_len + spaces(at + n_len);
    let g_len = digits(g_at);
    let r_at = g_at + g_len + spaces(g_at + g_len);
    let ends = part.get(r_at + 1).is_none_or(|b| is_delimiter(*b));
    if g_len == 0 || g_at == at + n_len || r_at == g_at + g_len || part.get(r_at) != Some(&b'R') || !ends {
        return None;
    }
    let n = std::str::from_utf8(&part[at..at + n_len]).ok()?.parse().ok()?;
    Some((r_at + 1, n))
}

/// `part` with every reference renumbered by `map` (generation 0).
fn renumber(part: &[u8], map: &HashMap<u32, u32>) -> Result<Vec<u8>, OcrError> {
    let mut out = Vec::with_capacity(part.len() + 16);
    let mut from = 0;
    for (start, end, n) in references(part) {
        let new = map.get(&n).ok_or_else(|| OcrError::corrupt(format!("reference to object {n} was not copied")))?;
        out.extend_from_slice(&part[from..start]);
        out.extend_from_slice(format!("{new} 0 R").as_bytes());
        from = end;
    }
    out.extend_from_slice(&part[from..]);
    Ok(out)
}

fn write_xref(out: &mut Vec<u8>, offsets: &[usize]) {
    let at = out.len();
    let mut xref = format!("xref\n0 {}\n0000000000 65535 f \n", offsets.len());
    for offset in &offsets[1..] {
        let _ = writeln!(xref, "{offset:010} 00000 n ");
    }
    let _ = write!(
        xref,
        "trailer\n<< /Size {} /Root {CATALOG} 0 R /Info {INFO} 0 R >>\nstartxref\n{at}\n%%EOF\n",
        offsets.len()
    );
    out.extend_from_slice(xref.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_found_outside_strings_and_streams_only() {
        let part = b"<< /Kids [ 4 0 R 12 0 R ] /Title (see 5 0 R) /MediaBox [0 0 612 792] /Length 9 0 R>>";
        let refs: Vec<u32> = references(part).iter().map(|r| r.2).collect();
        assert_eq!(refs, vec![4, 12, 9]);
        let map = HashMap::from([(4, 7), (12, 8), (9, 10)]);
        let out = renumber(part, &map).unwrap();
        assert_eq!(
            out,
            b"<< /Kids [ 7 0 R 8 0 R ] /Title (see 5 0 R) /MediaBox [0 0 612 792] /Length 10 0 R>>".to_vec()
        );
        let (dict, tail) = split_object(b"3 0 obj\n<< /Length 5 0 R >>\nstream\n1 0 R\nendstream\nendobj\n").unwrap();
        assert_eq!(references(dict).len(), 1);
        assert!(tail.starts_with(b"stream"));
    }

    #[test]
    fn hostile_input_is_refused_without_panicking() {
        assert!(merge_documents(&[]).is_err());
        assert!(merge_documents(&[b"garbage".to_vec()]).is_err());
        let dangling = b"%PDF-1.5\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [ 9 0 R ] /Count 1 >>\nendobj\n";
        let mut pdf = dangling.to_vec();
        let at = pdf.len();
        pdf.extend_from_slice(
            format!("xref\n0 3\n0000000000 65535 f \n0000000009 00000 n \n0000000058 00000 n \ntrailer\n<< /Size 3 /Root 1 0 R >>\nstartxref\n{at}\n%%EOF\n")
                .as_bytes(),
        );
        let err = merge_documents(&[pdf]).unwrap_err();
        assert!(err.message.contains("object 9"), "{}", err.message);
        assert!(references(b"1 0").is_empty() && references(b"12 0 Rx").is_empty() && references(b"(\\").is_empty());
    }
}
