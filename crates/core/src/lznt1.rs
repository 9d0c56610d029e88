//! LZNT1, the LZ77 variant of NTFS compression ([MS-XCA] 2.5): a
//! compression unit is a series of chunks of at most 4096 output bytes,
//! each stored raw or as flag-led groups of literals and back-references.

/// Output bytes of one chunk.
const CHUNK: usize = 4096;

/// Decompresses `input` (one compression unit) and appends at most `max`
/// bytes to `out`. A back-reference before its chunk's start, or a chunk
/// that runs past the input, is an error; the unit is not guessed at.
pub fn decompress(input: &[u8], max: usize, out: &mut Vec<u8>) -> Result<(), String> {
    let limit = out.len().saturating_add(max);
    let mut pos = 0;
    while out.len() < limit {
        let Some(header) = input.get(pos..pos + 2).map(|h| u16::from_le_bytes([h[0], h[1]])) else { break };
        if header == 0 {
            break;
        }
        let size = usize::from(header & 0x0FFF) + 1;
        let body =
            input.get(pos + 2..pos + 2 + size).ok_or_else(|| format!("LZNT1 chunk at byte {pos} is cut short"))?;
        let start = out.len();
        if header & 0x8000 == 0 {
            out.extend_from_slice(body);
        } else {
            chunk(body, out, limit).map_err(|why| format!("LZNT1 chunk at byte {pos}: {why}"))?;
        }
        if out.len() - start > CHUNK {
            return Err(format!("LZNT1 chunk at byte {pos} makes more than {CHUNK} bytes"));
        }
        pos += 2 + size;
    }
    out.truncate(limit);
    Ok(())
}

/// One compressed chunk: a flag byte, then eight tokens, literals for 0
/// bits and back-references for 1 bits.
fn chunk(body: &[u8], out: &mut Vec<u8>, limit: usize) -> Result<(), String> {
    let start = out.len();
    let mut at = 0;
    while let Some(&flags) = body.get(at) {
        at += 1;
        for bit in 0..8 {
            if at >= body.len() || out.len() >= limit {
                return Ok(());
            }
            if flags & (1 << bit) == 0 {
                out.push(body[at]);
                at += 1;
                continue;
            }
            let token = body.get(at..at + 2).map(|t| u16::from_le_bytes([t[0], t[1]])).ok_or("a token is cut short")?;
            at += 2;
            let (offset, length) = split(token, out.len() - start);
            if offset > out.len() - start {
                return Err(format!("a back-reference reaches {offset} bytes back, before the chunk"));
            }
            for _ in 0..length.min(limit - out.len()) {
                out.push(out[out.len() - offset]);
            }
        }
    }
    Ok(())
}

/// A token's (offset, length): the offset takes more bits the further into
/// the chunk the output is.
fn split(token: u16, written: usize) -> (usize, usize) {
    let mut length_bits = 12u32;
    let mut p = written.saturating_sub(1);
    while p >= 0x10 {
        p >>= 1;
        length_bits -= 1;
    }
    let offset = usize::from(token >> length_bits) + 1;
    let length = usize::from(token & ((1u16 << length_bits) - 1)) + 3;
    (offset, length)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// "abc", then a 9-byte copy from 3 back: header 0xB005 (compressed, 6
    /// data bytes), flags 0b1000, token (2 << 12) | 6.
    const ABC: [u8; 8] = [0x05, 0xB0, 0x08, b'a', b'b', b'c', 0x06, 0x20];

    fn run(input: &[u8], max: usize) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        decompress(input, max, &mut out).map(|()| out)
    }

    #[test]
    fn literals_and_an_overlapping_back_reference() {
        assert_eq!(run(&ABC, 1 << 16).unwrap(), b"abcabcabcabc");
    }

    #[test]
    fn raw_chunks_are_copied_and_a_zero_header_ends_the_unit() {
        let mut input = vec![0xFF, 0x3F];
        input.extend(std::iter::repeat_n(7u8, 4096));
        input.extend([0, 0, 0xFF, 0xFF]);
        assert_eq!(run(&input, 1 << 16).unwrap(), vec![7u8; 4096]);
    }

    #[test]
    fn output_stops_at_max() {
        assert_eq!(run(&ABC, 5).unwrap(), b"abcab");
    }

    #[test]
    fn hostile_units_fail_without_panicking() {
        // A back-reference with nothing written yet.
        assert!(run(&[0x02, 0xB0, 0x01, 0x00, 0x00], 100).is_err());
        // A chunk longer than the input.
        assert!(run(&[0x10, 0xB0, 0x00, b'a'], 100).is_err());
        // A token cut after one byte.
        assert!(run(&[0x02, 0xB0, 0x02, b'a', 0x00], 100).is_err());
        for len in 0..ABC.len() {
            let _ = run(&ABC[..len], 100);
        }
    }

    #[test]
    fn seeded_garbage_never_panics_or_passes_max() {
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..5000 {
            let len = (next() % 600) as usize;
            let mut input: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            if len >= 2 {
                input[1] |= 0x80; // mostly compressed chunks
            }
            let max = (next() % 20_000) as usize;
            let mut out = Vec::new();
            let _ = decompress(&input, max, &mut out);
            assert!(out.len() <= max);
        }
    }
}
