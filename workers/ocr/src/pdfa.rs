//! Turns Tesseract's searchable PDF into a PDF/A-2b with real metadata.
//!
//! Tesseract writes a plain PDF 1.5 (classic cross-reference table, embedded
//! GlyphLessFont, device grey or RGB images) with `Title` and a run-time date
//! in its Info. The file is rewritten object by object: every object is
//! copied as it is, except the catalog (which gains the XMP `Metadata` and an
//! sRGB `OutputIntent`) and the Info (title, creation date, producer
//! `exhibit <version>`). The trailer gets an `/ID` derived from the content.
//! The output depends only on its inputs, so `reproduce` gets the same bytes.

use std::fmt::Write as _;

use exhibit_core::digest::Sha256Digest;
use time::OffsetDateTime;
use time::macros::format_description;

use crate::OcrError;

/// sRGB IEC61966-2.1 from Debian's icc-profiles-free (Zlib licence, see assets/README.md).
const SRGB_ICC: &[u8] = include_bytes!("../assets/sRGB.icc");

/// What the PDF says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentInfo {
    /// The document title (from the exhibit and the scanned file).
    pub title: String,
    /// When the document was made: the ingest's time, in UTC.
    pub created: OffsetDateTime,
}

impl DocumentInfo {
    /// The producer string: `exhibit <version>`.
    pub fn producer() -> String {
        format!("{} {}", exhibit_core::TOOL_NAME, exhibit_core::TOOL_VERSION)
    }
}

fn bad(why: &str) -> OcrError {
    OcrError::corrupt(format!("searchable PDF: {why}"))
}

/// Rewrites `path` (a PDF written by Tesseract) as PDF/A-2b in place.
pub fn convert_file(path: &std::path::Path, info: &DocumentInfo) -> Result<(), OcrError> {
    let pdf = std::fs::read(path).map_err(|e| OcrError::io("cannot read the searchable PDF", e))?;
    let out = make_pdfa(&pdf, info)?;
    std::fs::write(path, out).map_err(|e| OcrError::io("cannot write the searchable PDF", e))
}

/// The PDF/A-2b form of a PDF written by Tesseract.
pub fn make_pdfa(pdf: &[u8], info: &DocumentInfo) -> Result<Vec<u8>, OcrError> {
    let table = XrefTable::read(pdf)?;
    let root_body = table.object(pdf, table.root).ok_or_else(|| bad("no catalog"))?;
    let pages = reference_after(root_body, b"/Pages").ok_or_else(|| bad("the catalog has no /Pages"))?;
    let (metadata, intent, icc) = (table.size, table.size + 1, table.size + 2);
    let mut out = pdf[..table.first_offset()].to_vec();
    let mut offsets = vec![0usize; table.size as usize + 3];
    for n in 1..table.size {
        let body: Vec<u8> = if n == table.root {
            format!("<< /Type /Catalog /Pages {pages} 0 R /Metadata {metadata} 0 R /OutputIntents [ {intent} 0 R ] >>")
                .into_bytes()
        } else if Some(n) == table.info {
            info_dict(info).into_bytes()
        } else if let Some(whole) = table.raw_object(pdf, n) {
            offsets[n as usize] = out.len();
            out.extend_from_slice(whole);
            continue;
        } else {
            continue;
        };
        offsets[n as usize] = out.len();
        write_object(&mut out, n, &body);
    }
    offsets[metadata as usize] = out.len();
    let xmp = xmp(info);
    write_object(&mut out, metadata, &stream(&format!("/Type /Metadata /Subtype /XML /Length {}", xmp.len()), &xmp));
    offsets[intent as usize] = out.len();
    let intent_dict = format!(
        "<< /Type /OutputIntent /S /GTS_PDFA1 /OutputConditionIdentifier (sRGB IEC61966-2.1) \
         /Info (sRGB IEC61966-2.1) /DestOutputProfile {icc} 0 R >>"
    );
    write_object(&mut out, intent, intent_dict.as_bytes());
    offsets[icc as usize] = out.len();
    write_object(&mut out, icc, &stream(&format!("/N 3 /Length {}", SRGB_ICC.len()), SRGB_ICC));
    let id = Sha256Digest::of(&out).to_hex()[..32].to_owned();
    let info_ref = table.info.map(|i| format!(" /Info {i} 0 R")).unwrap_or_default();
    let xref_at = out.len();
    let mut xref = format!("xref\n0 {}\n0000000000 65535 f \n", offsets.len());
    for offset in &offsets[1..] {
        if *offset == 0 {
            xref.push_str("0000000000 65535 f \n");
        } else {
            let _ = writeln!(xref, "{offset:010} 00000 n ");
        }
    }
    let _ = write!(
        xref,
        "trailer\n<< /Size {} /Root {} 0 R{info_ref} /ID [ <{id}> <{id}> ] >>\nstartxref\n{xref_at}\n%%EOF\n",
        offsets.len(),
        table.root
    );
    out.extend_from_slice(xref.as_bytes());
    Ok(out)
}

pub(crate) fn write_object(out: &mut Vec<u8>, n: u32, body: &[u8]) {
    out.extend_from_slice(format!("{n} 0 obj\n").as_bytes());
    out.extend_from_slice(body);
    out.extend_from_slice(b"\nendobj\n");
}

fn stream(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut out = format!("<< {dict} >>\nstream\n").into_bytes();
    out.extend_from_slice(data);
    out.extend_from_slice(b"\nendstream");
    out
}

/// The classic cross-reference table of a PDF, with its trailer's references.
pub(crate) struct XrefTable {
    /// Offset of each object, by number (0 = free).
    offsets: Vec<usize>,
    /// Where the table starts (the end of the last object).
    at: usize,
    pub(crate) size: u32,
    pub(crate) root: u32,
    info: Option<u32>,
}

impl XrefTable {
    pub(crate) fn read(pdf: &[u8]) -> Result<Self, OcrError> {
        let start = rfind(pdf, b"startxref").ok_or_else(|| bad("no startxref"))?;
        let at: usize = number_at(pdf, start + 9).ok_or_else(|| bad("bad startxref"))?;
        let mut lines = pdf.get(at..).ok_or_else(|| bad("startxref past the end"))?.split(|b| *b == b'\n');
        if lines.next().map(|l| l.trim_ascii()) != Some(b"xref") {
            return Err(bad("no classic xref table"));
        }
        let header = std::str::from_utf8(lines.next().unwrap_or_default()).map_err(|_| bad("bad xref header"))?;
        let mut nums = header.split_whitespace().map(str::parse::<u32>);
        let (Some(Ok(0)), Some(Ok(size))) = (nums.next(), nums.next()) else {
            return Err(bad("xref table must start at object 0"));
        };
        if size > 1 << 20 {
            return Err(bad("too many objects"));
        }
        let mut offsets = vec![0usize; size as usize];
        for entry in offsets.iter_mut() {
            let line = lines.next().ok_or_else(|| bad("xref table is short"))?;
            if line.get(17) == Some(&b'n') {
                *entry = number_at(line, 0).ok_or_else(|| bad("bad xref entry"))?;
            }
        }
        let trailer = &pdf[at..start];
        let root = reference_after(trailer, b"/Root").ok_or_else(|| bad("trailer has no /Root"))?;
        let info = reference_after(trailer, b"/Info");
        if offsets.iter().any(|o| *o >= at) || root >= size || info.is_some_and(|i| i >= size) {
            return Err(bad("xref table points outside the objects"));
        }
        Ok(Self { offsets, at, size, root, info })
    }

    pub(crate) fn first_offset(&self) -> usize {
        self.offsets.iter().copied().filter(|o| *o > 0).min().unwrap_or(self.at)
    }

    /// The bytes of object `n` from `N 0 obj` to the next object (or the table).
    pub(crate) fn raw_object<'a>(&self, pdf: &'a [u8], n: u32) -> Option<&'a [u8]> {
        let start = *self.offsets.get(n as usize).filter(|o| **o > 0)?;
        let end = self.offsets.iter().copied().filter(|o| *o > start).min().unwrap_or(self.at);
        Some(&pdf[start..end])
    }

    /// The body of object `n` (between `obj` and `endobj`).
    pub(crate) fn object<'a>(&self, pdf: &'a [u8], n: u32) -> Option<&'a [u8]> {
        let raw = self.raw_object(pdf, n)?;
        let from = find(raw, b"obj")? + 3;
        let to = rfind(raw, b"endobj")?;
        raw.get(from..to)
    }
}

/// The object number of the reference `key N G R` in `hay`.
pub(crate) fn reference_after(hay: &[u8], key: &[u8]) -> Option<u32> {
    let at = find(hay, key)? + key.len();
    number_at(hay, at)
}

pub(crate) fn number_at<T: std::str::FromStr>(hay: &[u8], from: usize) -> Option<T> {
    let rest = hay.get(from..)?;
    let skip = rest.iter().take_while(|b| b.is_ascii_whitespace()).count();
    let digits = rest[skip..].iter().take(12).take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(&rest[skip..skip + digits]).ok()?.parse().ok()
}

pub(crate) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

/// A PDF text string: UTF-16BE with a byte order mark, in hex.
fn text_string(s: &str) -> String {
    let mut out = String::from("<FEFF");
    for unit in s.encode_utf16() {
        let _ = write!(out, "{unit:04X}");
    }
    out.push('>');
    out
}

fn info_dict(info: &DocumentInfo) -> String {
    let date = pdf_date(info.created);
    let producer = text_string(&DocumentInfo::producer());
    format!(
        "<< /Title {} /Producer {producer} /Creator {producer} /CreationDate ({date}) /ModDate ({date}) >>",
        text_string(&info.title)
    )
}

fn pdf_date(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let f = format_description!("D:[year][month][day][hour][minute][second]Z");
    t.format(&f).unwrap_or_default()
}

fn xmp_date(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let f = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    t.format(&f).unwrap_or_default()
}

fn xml_escape(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() || *c == '\t')
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

/// The XMP packet: PDF/A identification and the same facts as the Info.
fn xmp(info: &DocumentInfo) -> Vec<u8> {
    let (date, producer, title) =
        (xmp_date(info.created), xml_escape(&DocumentInfo::producer()), xml_escape(&info.title));
    format!(
        "<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n\
<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n\
<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n\
<rdf:Description rdf:about=\"\" xmlns:pdfaid=\"http://www.aiim.org/pdfa/ns/id/\" \
xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:xmp=\"http://ns.adobe.com/xap/1.0/\" \
xmlns:pdf=\"http://ns.adobe.com/pdf/1.3/\">\n\
<pdfaid:part>2</pdfaid:part>\n<pdfaid:conformance>B</pdfaid:conformance>\n\
<dc:format>application/pdf</dc:format>\n\
<dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">{title}</rdf:li></rdf:Alt></dc:title>\n\
<xmp:CreateDate>{date}</xmp:CreateDate>\n<xmp:ModifyDate>{date}</xmp:ModifyDate>\n\
<xmp:MetadataDate>{date}</xmp:MetadataDate>\n<xmp:CreatorTool>{producer}</xmp:CreatorTool>\n\
<pdf:Producer>{producer}</pdf:Producer>\n\
</rdf:Description>\n</rdf:RDF>\n</x:xmpmeta>\n<?xpacket end=\"w\"?>"
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_are_utf16_and_dates_are_utc() {
        assert_eq!(text_string("Aé"), "<FEFF004100E9>");
        let t = time::macros::datetime!(2026-12-06 04:05:06 +01:00);
        assert_eq!(pdf_date(t), "D:20261206030506Z");
        assert_eq!(xmp_date(t), "2026-12-06T03:05:06Z");
        assert_eq!(xml_escape("a<b>&\u{1b}"), "a&lt;b&gt;&amp;");
    }

    #[test]
    fn a_pdf_without_a_classic_xref_is_refused() {
        let info = DocumentInfo { title: "t".into(), created: OffsetDateTime::UNIX_EPOCH };
        assert!(make_pdfa(b"%PDF-1.5\nstartxref\n0\n%%EOF", &info).is_err());
        assert!(make_pdfa(b"garbage", &info).is_err());
    }
}
