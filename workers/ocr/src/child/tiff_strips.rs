//! A damaged TIFF page read strip by strip, for when libtiff (through
//! Leptonica) gives nothing of a page one strip of which fails: each strip
//! is decoded alone, a strip that ends early or stops inflating keeps its
//! complete rows, and rows no strip gives are left white.
//!
//! Covers what scanners and image libraries write in strips: no
//! compression, Deflate, LZW and PackBits; 1 to 8 bits of grey, or 8-bit
//! RGB; the horizontal predictor on 8-bit samples. Anything else (tiles,
//! CCITT, JPEG, planar RGB, palettes) is `Unsupported` here, and the page
//! stays a blank stand-in.

use crate::OcrError;
use crate::tiff_bytes::TiffBytes;

use super::samples::{self, Colour, Raster};

/// A page's samples as far as its strips decode.
pub struct Strips {
    /// What the samples are.
    pub raster: Raster,
    /// Packed samples of every row, white where no strip gave them.
    pub samples: Vec<u8>,
    /// Rows that decoded.
    pub rows: u32,
    /// The rows left white, as zero-based inclusive ranges in order.
    pub white: Vec<(u32, u32)>,
}

impl Strips {
    /// The white rows for people, one-based: "rows 53-104 and 900-951".
    pub fn white_rows(&self) -> Option<String> {
        const SHOWN: usize = 4;
        let one = |&(a, b): &(u32, u32)| if a == b { format!("{}", a + 1) } else { format!("{}-{}", a + 1, b + 1) };
        let mut parts: Vec<String> = self.white.iter().take(SHOWN).map(one).collect();
        let more = self.white.len().saturating_sub(SHOWN);
        if more > 0 {
            parts.push(format!("{more} more ranges"));
        }
        let last = parts.pop()?;
        let list = if parts.is_empty() { last } else { format!("{} and {last}", parts.join(", ")) };
        let single = self.white.len() == 1 && self.white[0].0 == self.white[0].1;
        Some(format!("{} {list}", if single { "row" } else { "rows" }))
    }
}

/// Adds rows `from..to` (zero-based, `to` exclusive) to `white`, joining a range that touches the last.
fn add_white(white: &mut Vec<(u32, u32)>, from: u32, to: u32) {
    if from >= to {
        return;
    }
    match white.last_mut() {
        Some(last) if last.1 + 1 == from => last.1 = to - 1,
        _ => white.push((from, to - 1)),
    }
}

/// The tags of one IFD that strip reading needs.
struct Layout {
    raster: Raster,
    compression: u32,
    predictor: u32,
    rows_per_strip: u32,
    offsets: Vec<u32>,
    counts: Vec<u32>,
    /// Byte value of a white sample run.
    white: u8,
}

/// Reads the page whose IFD is at `ifd`, strip by strip (`index` names it).
/// A page of more than `max_pixels` (`ocr.max_pixels`) is refused before
/// anything is allocated for it: its size is the IFD's claim.
pub fn read(data: &[u8], ifd: usize, index: u32, max_pixels: u64) -> Result<Strips, OcrError> {
    let layout = layout(data, ifd, index, max_pixels)?;
    let row_bytes = layout.raster.row_bytes();
    let height = layout.raster.height as usize;
    let mut out = vec![layout.white; row_bytes * height];
    let (mut rows, mut white) = (0u32, Vec::new());
    for (strip, (&offset, &count)) in layout.offsets.iter().zip(&layout.counts).enumerate() {
        let top = strip.saturating_mul(layout.rows_per_strip as usize);
        if top >= height {
            break;
        }
        let want = (layout.rows_per_strip as usize).min(height - top);
        let got = strip_rows(data, &layout, (offset, count), want, index).unwrap_or_default();
        let whole = got.len() / row_bytes.max(1);
        out[top * row_bytes..(top + whole) * row_bytes].copy_from_slice(&got[..whole * row_bytes]);
        rows += whole as u32;
        add_white(&mut white, (top + whole) as u32, (top + want) as u32);
    }
    let declared = layout.offsets.len().saturating_mul(layout.rows_per_strip as usize);
    add_white(&mut white, declared.min(height) as u32, height as u32);
    Ok(Strips { raster: layout.raster, samples: out, rows, white })
}

/// The complete rows one strip decodes to (at most `want`).
fn strip_rows(data: &[u8], l: &Layout, (offset, count): (u32, u32), want: usize, index: u32) -> Option<Vec<u8>> {
    let start = offset as usize;
    let end = start.checked_add(count as usize)?.min(data.len());
    let raw = data.get(start..end)?;
    let limit = l.raster.row_bytes() * want;
    let mut rows = match l.compression {
        1 => raw.get(..limit.min(raw.len()))?.to_vec(),
        8 | 32946 => samples::inflate(raw, limit, index).ok()?,
        5 => lzw(raw, limit),
        32773 => packbits(raw, limit),
        _ => return None,
    };
    rows.truncate(limit);
    rows.truncate(rows.len() - rows.len() % l.raster.row_bytes().max(1));
    if l.predictor == 2 {
        unpredict(&mut rows, &l.raster);
    }
    Some(rows)
}

/// TIFF LZW (MSB first), as far as it decodes.
fn lzw(raw: &[u8], limit: usize) -> Vec<u8> {
    let mut decoder = weezl::decode::Decoder::with_tiff_size_switch(weezl::BitOrder::Msb, 8);
    let mut out = Vec::new();
    let _partial = decoder.into_vec(&mut out).decode(raw);
    out.truncate(limit);
    out
}

/// PackBits runs, as far as they go.
fn packbits(raw: &[u8], limit: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < raw.len() && out.len() < limit {
        let n = raw[i] as i8;
        i += 1;
        match n {
            0..=127 => {
                let len = n as usize + 1;
                let Some(run) = raw.get(i..i + len) else { break };
                out.extend_from_slice(run);
                i += len;
            }
            -127..=-1 => {
                let Some(&b) = raw.get(i) else { break };
                out.resize(out.len() + (1 - n as isize) as usize, b);
                i += 1;
            }
            -128 => {}
        }
    }
    out.truncate(limit);
    out
}

/// Undoes the horizontal predictor on 8-bit samples, row by row.
fn unpredict(rows: &mut [u8], r: &Raster) {
    let comps = r.colour.components();
    for row in rows.chunks_mut(r.row_bytes().max(1)) {
        for x in comps..row.len() {
            row[x] = row[x].wrapping_add(row[x - comps]);
        }
    }
}

/// The strip layout of the IFD at `ifd`, or why it cannot be read here.
fn layout(data: &[u8], ifd: usize, index: u32, max_pixels: u64) -> Result<Layout, OcrError> {
    let no = |why: &str| OcrError::new(crate::OcrErrorKind::Unsupported, format!("TIFF page {}: {why}", index + 1));
    let tiff = TiffBytes::new(data).ok_or_else(|| no("not a classic TIFF"))?;
    let tags = Tags { tiff: &tiff, ifd, count: tiff.u16_at(ifd).ok_or_else(|| no("IFD past the end"))? };
    let one = |tag: u16, default: Option<u32>| tags.values(tag).and_then(|v| v.first().copied()).or(default);
    let (width, height) = (one(256, None), one(257, None));
    let (Some(width), Some(height)) = (width, height) else { return Err(no("no width or height")) };
    if u64::from(width) * u64::from(height) > max_pixels {
        return Err(no(&format!("{width}x{height} is over ocr.max_pixels = {max_pixels}")));
    }
    let spp = one(277, Some(1)).unwrap_or(1);
    let bpc = one(258, Some(1)).unwrap_or(1);
    let photometric = one(262, None).ok_or_else(|| no("no photometric interpretation"))?;
    if tags.values(322).is_some() || one(284, Some(1)) != Some(1) {
        return Err(no("tiled or planar image data"));
    }
    let colour = match (photometric, spp, bpc) {
        (0 | 1, 1, 1 | 2 | 4 | 8) => Colour::Gray,
        (2, 3, 8) => Colour::Rgb,
        _ => return Err(no(&format!("photometric {photometric} with {spp}x{bpc} bits"))),
    };
    let predictor = one(317, Some(1)).unwrap_or(1);
    if !(predictor == 1 || predictor == 2 && bpc == 8) {
        return Err(no(&format!("predictor {predictor}")));
    }
    let offsets = tags.values(273).ok_or_else(|| no("no strip offsets"))?;
    let counts = tags.values(279).ok_or_else(|| no("no strip byte counts"))?;
    // WhiteIsZero: samples are inverted on the way to the PNM, and 0 is white.
    let (decode, white) = if photometric == 0 { (Some(vec![1.0, 0.0]), 0x00) } else { (None, 0xFF) };
    Ok(Layout {
        raster: Raster { width, height, bpc, colour, decode },
        compression: one(259, Some(1)).unwrap_or(1),
        predictor,
        rows_per_strip: one(278, Some(height)).unwrap_or(height).clamp(1, height),
        offsets,
        counts,
        white,
    })
}

/// The entries of one IFD.
struct Tags<'a> {
    tiff: &'a TiffBytes<'a>,
    ifd: usize,
    count: u16,
}

/// Most values read from one tag (strip tables of a huge page are cut here).
const MAX_VALUES: usize = 1 << 20;

impl Tags<'_> {
    /// The SHORT or LONG values of `tag`, if the IFD has it.
    fn values(&self, tag: u16) -> Option<Vec<u32>> {
        let entry =
            (0..usize::from(self.count)).map(|i| self.ifd + 2 + i * 12).find(|&e| self.tiff.u16_at(e) == Some(tag))?;
        let kind = self.tiff.u16_at(entry + 2)?;
        let n = (self.tiff.u32_at(entry + 4)? as usize).min(MAX_VALUES);
        let size = match kind {
            3 => 2,
            4 => 4,
            _ => return None,
        };
        let at = if n * size <= 4 { entry + 8 } else { self.tiff.u32_at(entry + 8)? as usize };
        (0..n)
            .map(|i| match size {
                2 => self.tiff.u16_at(at + i * 2).map(u32::from),
                _ => self.tiff.u32_at(at + i * 4),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A little-endian 8x4 1-bit WhiteIsZero TIFF of two uncompressed
    /// strips of 2 rows; the second strip's offset is past the end.
    fn two_strips() -> Vec<u8> {
        strips_claiming(8, 4)
    }

    /// [`two_strips`]'s file with the page size its IFD claims.
    fn strips_claiming(width: u32, height: u32) -> Vec<u8> {
        let entries: [(u16, u16, u32, u32); 8] = [
            (256, 4, 1, width),
            (257, 4, 1, height),
            (258, 3, 1, 1),
            (259, 3, 1, 1),
            (262, 3, 1, 0),
            (273, 4, 2, 8 + 2 + 8 * 12 + 4),
            (278, 3, 1, 2),
            (279, 4, 2, 8 + 2 + 8 * 12 + 4 + 8),
        ];
        let mut tiff = b"II*\0\x08\0\0\0".to_vec();
        tiff.extend_from_slice(&8u16.to_le_bytes());
        for (tag, kind, count, value) in entries {
            tiff.extend_from_slice(&tag.to_le_bytes());
            tiff.extend_from_slice(&kind.to_le_bytes());
            tiff.extend_from_slice(&count.to_le_bytes());
            tiff.extend_from_slice(&value.to_le_bytes());
        }
        tiff.extend_from_slice(&0u32.to_le_bytes());
        let data = tiff.len() as u32 + 16;
        for v in [data, 10_000, 2, 2] {
            tiff.extend_from_slice(&v.to_le_bytes());
        }
        tiff.extend_from_slice(&[0x81, 0x18]);
        tiff
    }

    #[test]
    fn a_strip_that_is_not_there_leaves_its_rows_white() {
        let strips = read(&two_strips(), 8, 0, 1 << 20).unwrap();
        assert_eq!((strips.rows, strips.white.as_slice()), (2, &[(2, 3)][..]));
        assert_eq!(strips.white_rows().as_deref(), Some("rows 3-4"));
        assert_eq!(strips.samples, vec![0x81, 0x18, 0, 0], "WhiteIsZero: 0 is white");
        let pnm = samples::to_pnm(&strips.samples, &strips.raster, 0).unwrap();
        assert_eq!(&pnm[pnm.len() - 4..], &[0x81, 0x18, 0, 0], "PBM paints 1 black, as WhiteIsZero does");
    }

    /// A damaged page's IFD may claim any size: over the pixel limit it is
    /// refused before its rows are allocated (4294967295 squared would not
    /// fit in memory, or in a usize once multiplied by its row bytes).
    #[test]
    fn a_page_claiming_more_pixels_than_the_limit_is_refused_before_allocating() {
        let e = read(&strips_claiming(u32::MAX, u32::MAX), 8, 0, 1 << 20).err().expect("refused");
        assert!(e.message.contains("ocr.max_pixels"), "{e}");
        assert!(read(&strips_claiming(8, 4), 8, 0, 32).is_ok(), "a page at the limit is read");
    }

    #[test]
    fn white_ranges_join_when_they_touch_and_are_listed() {
        let mut white = Vec::new();
        for (a, b) in [(0, 2), (2, 4), (9, 10), (20, 30)] {
            add_white(&mut white, a, b);
        }
        assert_eq!(white, vec![(0, 3), (9, 9), (20, 29)]);
        let r = Raster { width: 1, height: 30, bpc: 1, colour: Colour::Gray, decode: None };
        let strips = Strips { raster: r, samples: Vec::new(), rows: 0, white };
        assert_eq!(strips.white_rows().as_deref(), Some("rows 1-4, 10 and 21-30"));
    }

    #[test]
    fn packbits_runs_and_literals_and_a_cut_end() {
        assert_eq!(packbits(&[2, 1, 2, 3, 0xFE, 9], 100), vec![1, 2, 3, 9, 9, 9]);
        assert_eq!(packbits(&[5, 1, 2], 100), Vec::<u8>::new(), "a literal run cut short is dropped");
        assert_eq!(packbits(&[0xFE, 7], 2), vec![7, 7]);
    }

    #[test]
    fn the_horizontal_predictor_adds_each_sample_to_the_one_before() {
        let r = Raster { width: 3, height: 1, bpc: 8, colour: Colour::Gray, decode: None };
        let mut row = vec![10, 1, 0xFF];
        unpredict(&mut row, &r);
        assert_eq!(row, vec![10, 11, 10]);
    }
}
