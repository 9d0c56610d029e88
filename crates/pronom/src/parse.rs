//! Reads a DROID signature file (the PRONOM registry's `FFSignatureFile`
//! XML) into plain structures: file formats and their internal signatures.

use roxmltree::{Document, Node};

use crate::error::PronomError;

/// One PRONOM file format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileFormat {
    /// The signature file's own ID, used by signatures and priorities.
    pub id: u32,
    /// The persistent unique identifier, e.g. `fmt/43`.
    pub puid: String,
    /// The format's name.
    pub name: String,
    /// Its version, when PRONOM gives one.
    pub version: Option<String>,
    /// Its MIME types, in PRONOM's order (often none).
    pub mimes: Vec<String>,
    /// Extensions, lower case, without the dot.
    pub extensions: Vec<String>,
    /// Internal signatures that identify it.
    pub signatures: Vec<u32>,
    /// Formats (by `id`) this one wins over when both match.
    pub priority_over: Vec<u32>,
}

/// What a byte sequence's offsets are measured from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    /// The beginning of the file.
    Bof,
    /// The end of the file.
    Eof,
    /// Anywhere.
    Variable,
}

/// A fragment beside a subsequence's anchor; fragments with the same
/// position are alternatives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fragment {
    /// 1 is next to the anchor.
    pub position: u32,
    /// Gap between the fragment and its neighbour toward the anchor.
    pub min_offset: u64,
    pub max_offset: u64,
    /// PRONOM pattern syntax (hex, `[00:1F]`, `[!00]`, `??`, `{n-m}`, ...).
    pub pattern: String,
}

/// A literal anchor with fragments on either side, found at an offset
/// window from the reference point or from the previous subsequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubSequence {
    pub position: u32,
    pub min_offset: u64,
    /// `None`: any distance.
    pub max_offset: Option<u64>,
    /// The literal bytes every match contains.
    pub anchor: Vec<u8>,
    pub left: Vec<Fragment>,
    pub right: Vec<Fragment>,
}

/// A sequence of subsequences measured from one reference point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ByteSequence {
    pub anchor: Anchor,
    /// In file order (for an EOF sequence, the one nearest the end last).
    pub subsequences: Vec<SubSequence>,
}

/// An internal signature: every byte sequence must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InternalSignature {
    pub id: u32,
    pub sequences: Vec<ByteSequence>,
}

/// The parsed signature file.
#[derive(Debug, Clone)]
pub struct SignatureFile {
    /// The `Version` attribute.
    pub version: String,
    pub formats: Vec<FileFormat>,
    pub signatures: Vec<InternalSignature>,
}

/// Parses a DROID signature file.
pub fn parse(xml: &str) -> Result<SignatureFile, PronomError> {
    let doc = Document::parse(xml).map_err(|e| PronomError::corrupt(format!("signature file XML: {e}")))?;
    let root = doc.root_element();
    if root.tag_name().name() != "FFSignatureFile" {
        return Err(PronomError::corrupt(format!("root element is {}, not FFSignatureFile", root.tag_name().name())));
    }
    let version = root.attribute("Version").unwrap_or_default().to_owned();
    let mut formats = Vec::new();
    let mut signatures = Vec::new();
    for node in root.descendants().filter(Node::is_element) {
        match node.tag_name().name() {
            "FileFormat" => formats.push(file_format(node)?),
            "InternalSignature" => signatures.push(internal_signature(node)?),
            _ => {}
        }
    }
    Ok(SignatureFile { version, formats, signatures })
}

fn file_format(node: Node) -> Result<FileFormat, PronomError> {
    let ids = |tag: &str| -> Result<Vec<u32>, PronomError> { children(node, tag).map(|c| number(&text(c))).collect() };
    Ok(FileFormat {
        id: number(node.attribute("ID").unwrap_or_default())?,
        puid: node.attribute("PUID").unwrap_or_default().to_owned(),
        name: node.attribute("Name").unwrap_or_default().to_owned(),
        version: node.attribute("Version").filter(|v| !v.is_empty()).map(str::to_owned),
        mimes: node
            .attribute("MIMEType")
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(str::to_owned)
            .collect(),
        extensions: children(node, "Extension").map(|e| text(e).to_ascii_lowercase()).collect(),
        signatures: ids("InternalSignatureID")?,
        priority_over: ids("HasPriorityOverFileFormatID")?,
    })
}

fn internal_signature(node: Node) -> Result<InternalSignature, PronomError> {
    let sequences = children(node, "ByteSequence").map(byte_sequence).collect::<Result<_, _>>()?;
    Ok(InternalSignature { id: number(node.attribute("ID").unwrap_or_default())?, sequences })
}

fn byte_sequence(node: Node) -> Result<ByteSequence, PronomError> {
    let anchor = match node.attribute("Reference") {
        Some("BOFoffset") => Anchor::Bof,
        Some("EOFoffset") => Anchor::Eof,
        _ => Anchor::Variable,
    };
    let mut subsequences: Vec<SubSequence> =
        children(node, "SubSequence").map(subsequence).collect::<Result<_, _>>()?;
    subsequences.sort_by_key(|s| s.position);
    if anchor == Anchor::Eof {
        // Position 1 is the one nearest the end of the file.
        subsequences.reverse();
    }
    Ok(ByteSequence { anchor, subsequences })
}

fn subsequence(node: Node) -> Result<SubSequence, PronomError> {
    let hex = children(node, "Sequence").next().map(text).unwrap_or_default();
    let anchor = decode_hex(&hex)?;
    let fragments = |tag: &str| -> Result<Vec<Fragment>, PronomError> { children(node, tag).map(fragment).collect() };
    Ok(SubSequence {
        position: number(node.attribute("Position").unwrap_or("1"))?,
        min_offset: number(node.attribute("SubSeqMinOffset").unwrap_or("0"))?,
        max_offset: node.attribute("SubSeqMaxOffset").map(number).transpose()?,
        anchor,
        left: fragments("LeftFragment")?,
        right: fragments("RightFragment")?,
    })
}

fn fragment(node: Node) -> Result<Fragment, PronomError> {
    Ok(Fragment {
        position: number(node.attribute("Position").unwrap_or("1"))?,
        min_offset: number(node.attribute("MinOffset").unwrap_or("0"))?,
        max_offset: number(node.attribute("MaxOffset").unwrap_or("0"))?,
        pattern: text(node),
    })
}

fn children<'a, 'i>(node: Node<'a, 'i>, tag: &'a str) -> impl Iterator<Item = Node<'a, 'i>> + 'a {
    node.children().filter(move |c| c.is_element() && c.tag_name().name() == tag)
}

fn text(node: Node) -> String {
    node.text().unwrap_or_default().trim().to_owned()
}

fn number<T: std::str::FromStr>(s: &str) -> Result<T, PronomError> {
    s.trim().parse().map_err(|_| PronomError::corrupt(format!("not a number: {s:?}")))
}

/// Decodes a plain hex string (the anchors of a compiled signature file).
pub(crate) fn decode_hex(hex: &str) -> Result<Vec<u8>, PronomError> {
    let bytes = hex.as_bytes();
    if bytes.len() % 2 != 0 {
        return Err(PronomError::corrupt(format!("odd-length hex sequence {hex:?}")));
    }
    bytes
        .chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|p| u8::from_str_radix(p, 16).ok())
                .ok_or_else(|| PronomError::corrupt(format!("not hex: {hex:?}")))
        })
        .collect()
}
