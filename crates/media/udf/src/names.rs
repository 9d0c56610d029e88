//! OSTA Compressed Unicode (CS0, UDF 2.1.1) names and dstrings, decoded to
//! UTF-8 bytes. Nothing is lost: a lone UTF-16 surrogate is kept in its
//! generalised UTF-8 form (WTF-8) and an unknown compression ID keeps the raw
//! bytes, so a name is data, never replaced by U+FFFD.

/// Decodes a CS0 identifier (compression ID byte, then the characters).
pub fn decode_cs0(raw: &[u8]) -> Vec<u8> {
    let Some((&id, body)) = raw.split_first() else { return Vec::new() };
    match id {
        8 | 254 => body.iter().flat_map(|&b| encode_utf8(u32::from(b))).collect(),
        16 | 255 => decode_utf16be(body),
        _ => raw.to_vec(),
    }
}

/// Decodes a dstring field (CS0 with its used length in the last byte).
pub fn decode_dstring(field: &[u8]) -> Vec<u8> {
    let Some((&used, chars)) = field.split_last() else { return Vec::new() };
    let used = usize::from(used).min(chars.len());
    chars.get(..used).map(decode_cs0).unwrap_or_default()
}

fn decode_utf16be(body: &[u8]) -> Vec<u8> {
    let units: Vec<u16> = body.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
    let mut out = Vec::with_capacity(body.len() * 2);
    let mut i = 0;
    while let Some(&unit) = units.get(i) {
        let next = units.get(i + 1).copied();
        let paired = (0xD800..0xDC00).contains(&unit) && next.is_some_and(|n| (0xDC00..0xE000).contains(&n));
        if let (true, Some(low)) = (paired, next) {
            let cp = 0x10000 + ((u32::from(unit) - 0xD800) << 10) + (u32::from(low) - 0xDC00);
            out.extend(encode_utf8(cp));
            i += 2;
        } else {
            out.extend(encode_utf8(u32::from(unit)));
            i += 1;
        }
    }
    if body.len() % 2 == 1 {
        out.extend(body.last().copied());
    }
    out
}

/// UTF-8 encoding of any code point below 0x110000, surrogates included.
fn encode_utf8(cp: u32) -> impl Iterator<Item = u8> {
    let bytes: Vec<u8> = match cp {
        0..=0x7F => vec![cp as u8],
        0x80..=0x7FF => vec![0xC0 | (cp >> 6) as u8, 0x80 | (cp & 0x3F) as u8],
        0x800..=0xFFFF => vec![0xE0 | (cp >> 12) as u8, 0x80 | ((cp >> 6) & 0x3F) as u8, 0x80 | (cp & 0x3F) as u8],
        _ => vec![
            0xF0 | ((cp >> 18) & 0x07) as u8,
            0x80 | ((cp >> 12) & 0x3F) as u8,
            0x80 | ((cp >> 6) & 0x3F) as u8,
            0x80 | (cp & 0x3F) as u8,
        ],
    };
    bytes.into_iter()
}

/// A display string for labels: lossy only where the bytes are not UTF-8.
pub fn display(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_compression_ids_decode() {
        assert_eq!(decode_cs0(b"\x08caf\xe9"), "café".as_bytes());
        assert_eq!(decode_cs0(b"\x10\x04\x36\x03\x98"), "жΘ".as_bytes());
        assert_eq!(decode_cs0(b"\x10\xd8\x3d\xde\x00"), "\u{1F600}".as_bytes());
    }

    #[test]
    fn lone_surrogates_and_unknown_ids_keep_their_bytes() {
        assert_eq!(decode_cs0(b"\x10\xd8\x00\x00A"), b"\xed\xa0\x80A");
        assert_eq!(decode_cs0(b"\x07ab"), b"\x07ab");
        assert_eq!(decode_dstring(b"\x08ab\0\0\x03"), b"ab");
        assert_eq!(decode_dstring(b"\x08ab\xff"), b"ab");
    }
}
