//! DFXML rendering for `exhibit listing`, in the layout fiwalk writes.

use std::io::Write;

use exhibit_core::ids::{CaseId, ExhibitRef};
use exhibit_core::item::ItemRecord;
use exhibit_intake::explore::listing::{EntryRow, ListingLine, TrackSectors, VolumeRow};
use exhibit_intake::explore::name_text::escape as name_text;

use super::listing_formats::{Renderer, type_letter, when};

/// DFXML in the layout fiwalk writes: `<volume>` elements holding
/// `<fileobject>`s with `<byte_runs>` and `<hashdigest>`s.
#[derive(Default)]
pub struct Dfxml {
    /// What the exhibit's item manifest row said, written in `<metadata>`.
    item: Option<ItemRecord>,
    open_volume: bool,
    next_id: u64,
    volume_offset: u64,
    partition: u32,
    /// Where the open volume (a cue data track) lies in its `.bin`.
    sectors: Option<TrackSectors>,
}

/// Namespace of exhibit's own DFXML attributes.
const EXHIBIT_NS: &str = "urn:x-exhibit:dfxml:1";

/// Free text as XML: first the escaped name form, which leaves no character
/// that XML 1.0 cannot carry (U+FFFE, C0 controls...), then XML's own
/// escapes. [`exhibit_intake::explore::name_text::unescape`] of the parsed
/// text gives back the exact bytes.
fn esc(s: &str) -> String {
    esc_bytes(s.as_bytes())
}

fn esc_bytes(bytes: &[u8]) -> String {
    let text = name_text(bytes);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\'' => out.push_str("&apos;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

impl Dfxml {
    /// DFXML whose `<metadata>` carries the exhibit's item record.
    pub fn with_item(item: Option<ItemRecord>) -> Self {
        Self { item, ..Self::default() }
    }

    /// `<exhibit:item>` with one element per recorded field, named as in
    /// the item manifest's JSON (`seized_by`, `device_serial`...).
    fn item(&self, out: &mut dyn Write, exhibit: &ExhibitRef) -> anyhow::Result<()> {
        let Some(item) = &self.item else { return Ok(()) };
        let serde_json::Value::Object(fields) = serde_json::to_value(item)? else { return Ok(()) };
        writeln!(out, "    <exhibit:item exhibit='{}'>", esc(exhibit.as_str()))?;
        for (name, value) in &fields {
            let text = value.as_str().map_or_else(|| value.to_string(), str::to_owned);
            writeln!(out, "      <exhibit:{name}>{}</exhibit:{name}>", esc(&text))?;
        }
        writeln!(out, "    </exhibit:item>")?;
        Ok(())
    }

    fn close_volume(&mut self, out: &mut dyn Write) -> std::io::Result<()> {
        if self.open_volume {
            writeln!(out, "  </volume>")?;
            self.open_volume = false;
        }
        Ok(())
    }

    fn volume(&mut self, out: &mut dyn Write, v: &VolumeRow) -> std::io::Result<()> {
        self.close_volume(out)?;
        let Some(fs) = &v.fs else {
            return writeln!(
                out,
                "<!-- volume at {}: {} -->",
                v.offset,
                esc(v.error.as_deref().unwrap_or("no file system")).replace("--", "- -")
            );
        };
        self.volume_offset = v.offset;
        self.partition = v.index + 1;
        self.sectors = v.sectors.as_deref().cloned();
        writeln!(out, "  <volume offset='{}'>", v.offset)?;
        writeln!(out, "    <partition_offset>{}</partition_offset>", v.offset)?;
        if let Some(t) = &v.sectors {
            // img_offset then counts in this file, the .bin as stored.
            writeln!(out, "    <exhibit:image_file>{}</exhibit:image_file>", esc(&t.file))?;
        }
        writeln!(out, "    <ftype_str>{}</ftype_str>", esc(fs))?;
        if let Some(label) = &v.label {
            writeln!(out, "    <volume_label>{}</volume_label>", esc(label))?;
        }
        self.open_volume = true;
        Ok(())
    }

    fn entry(&mut self, out: &mut dyn Write, e: &EntryRow) -> std::io::Result<()> {
        self.next_id += 1;
        let path = e.path.to_bytes();
        let path = esc_bytes(path.strip_prefix(b"/").unwrap_or(&path));
        writeln!(out, "    <fileobject>")?;
        // fiwalk writes a stream as `name:stream`; the attribute says where
        // the stream starts, since a hostile name may hold `:` too.
        match &e.stream {
            Some(s) => {
                let stream = esc_bytes(&s.to_bytes());
                writeln!(out, "      <filename exhibit:stream='{stream}'>{path}:{stream}</filename>")?
            }
            None => writeln!(out, "      <filename>{path}</filename>")?,
        }
        writeln!(out, "      <partition>{}</partition>", self.partition)?;
        writeln!(out, "      <id>{}</id>", self.next_id)?;
        writeln!(out, "      <name_type>{}</name_type>", type_letter(&e.kind))?;
        writeln!(out, "      <filesize>{}</filesize>", e.size)?;
        writeln!(out, "      <alloc>{}</alloc>", u8::from(e.allocated))?;
        if let Some(inode) = e.address {
            writeln!(out, "      <inode>{inode}</inode>")?;
        }
        for (tag, t) in [
            ("mtime", &e.timestamps.modified),
            ("ctime", &e.timestamps.changed),
            ("atime", &e.timestamps.accessed),
            ("crtime", &e.timestamps.created),
        ] {
            if t.is_some() {
                writeln!(out, "      <{tag}>{}</{tag}>", when(t))?;
            }
        }
        self.byte_runs(out, e)?;
        if let Some(d) = &e.digests {
            if let Some(md5) = d.md5 {
                writeln!(out, "      <hashdigest type='md5'>{md5}</hashdigest>")?;
            }
            if let Some(sha1) = d.sha1 {
                writeln!(out, "      <hashdigest type='sha1'>{sha1}</hashdigest>")?;
            }
            writeln!(out, "      <hashdigest type='sha256'>{}</hashdigest>", d.sha256)?;
        }
        writeln!(out, "    </fileobject>")
    }

    /// The file's runs in file order, clipped to its size: `img_offset`
    /// is where its bytes are in the image, so `dd` can cut them out;
    /// `fill='0'` runs are zeros that are not in the image (sparse runs, and
    /// runs past the end of a truncated image, marked `exhibit:missing`).
    /// A compressed file's runs (`exhibit:transform`, e.g. `zisofs`) are
    /// its stored, encoded stream, not clipped to its decoded size: `dd`
    /// rebuilds that stream, which must then be decoded.
    fn byte_runs(&self, out: &mut dyn Write, e: &EntryRow) -> std::io::Result<()> {
        if e.extents.is_empty() {
            return Ok(());
        }
        // Only kinds this version decodes; the attribute is the reader's.
        let transform =
            e.attributes.get("compression").map(String::as_str).filter(|k| matches!(*k, "zisofs" | "lznt1"));
        match transform {
            Some(kind) => writeln!(out, "      <byte_runs exhibit:transform='{kind}'>")?,
            None => writeln!(out, "      <byte_runs>")?,
        }
        for x in &e.extents {
            let whole = x.file_offset.saturating_add(x.len);
            let end = if transform.is_some() { whole } else { whole.min(e.size) };
            let Some(fs) = x.volume_offset else {
                if x.file_offset < end {
                    writeln!(
                        out,
                        "        <byte_run file_offset='{}' fill='0' len='{}'/>",
                        x.file_offset,
                        end - x.file_offset
                    )?;
                }
                continue;
            };
            for (start, stop, missing) in split_missing(x.file_offset, end, &e.missing) {
                let fs = fs + (start - x.file_offset);
                if missing {
                    writeln!(
                        out,
                        "        <byte_run file_offset='{start}' fill='0' exhibit:missing='1' len='{}'/>",
                        stop - start
                    )?;
                } else {
                    self.present_run(out, start, fs, stop - start)?;
                }
            }
        }
        writeln!(out, "      </byte_runs>")
    }
}

impl Dfxml {
    /// `len` bytes of a file from `file_offset`, at `fs` in its volume: one
    /// `byte_run` whose `img_offset` is in the image, or for a cue data
    /// track one per run of sectors, with offsets in the `.bin` itself (the
    /// sector headers between are left out), so `dd` cuts from the `.bin`.
    fn present_run(&self, out: &mut dyn Write, file_offset: u64, fs: u64, len: u64) -> std::io::Result<()> {
        let at = fs.saturating_add(self.volume_offset);
        let Some(track) = &self.sectors else {
            return writeln!(
                out,
                "        <byte_run file_offset='{file_offset}' fs_offset='{fs}' img_offset='{at}' len='{len}'/>"
            );
        };
        let mut done = 0;
        for (raw, n) in track.bin_runs(at, len) {
            writeln!(
                out,
                "        <byte_run file_offset='{}' fs_offset='{}' img_offset='{raw}' len='{n}'/>",
                file_offset + done,
                fs + done
            )?;
            done += n;
        }
        Ok(())
    }
}

/// `[start, end)` cut where it meets the `missing` ranges (sorted): each
/// piece with whether it is missing.
fn split_missing(start: u64, end: u64, missing: &[[u64; 2]]) -> Vec<(u64, u64, bool)> {
    let mut pieces = Vec::new();
    let mut pos = start;
    for &[a, b] in missing.iter().filter(|[a, b]| *a < end && *b > start) {
        if a > pos {
            pieces.push((pos, a, false));
        }
        pieces.push((a.max(pos), b.min(end), true));
        pos = b.min(end);
    }
    if pos < end {
        pieces.push((pos, end, false));
    }
    pieces
}

impl Renderer for Dfxml {
    fn begin(
        &mut self,
        out: &mut dyn Write,
        case: &CaseId,
        exhibit: &ExhibitRef,
        images: &[String],
    ) -> anyhow::Result<()> {
        writeln!(out, "<?xml version='1.0' encoding='UTF-8'?>")?;
        writeln!(
            out,
            "<dfxml\n  xmlns='http://www.forensicswiki.org/wiki/Category:Digital_Forensics_XML'\n  xmlns:dc='http://purl.org/dc/elements/1.1/'\n  xmlns:exhibit='{EXHIBIT_NS}'\n  version='1.0'>"
        )?;
        writeln!(
            out,
            "  <!-- Names are escaped reversibly: \\\\ is a backslash, \\xHH a byte that is not UTF-8, \\u{{H}} a control or other character XML cannot carry. -->"
        )?;
        writeln!(out, "  <metadata>\n    <dc:type>Disk Image</dc:type>")?;
        self.item(out, exhibit)?;
        writeln!(out, "  </metadata>")?;
        writeln!(
            out,
            "  <creator version='1.0'>\n    <program>exhibit</program>\n    <version>{}</version>",
            exhibit_core::TOOL_VERSION
        )?;
        writeln!(
            out,
            "    <execution_environment>\n      <command_line>exhibit listing --case {} --exhibit {} --format dfxml</command_line>\n    </execution_environment>\n  </creator>",
            esc(case.as_str()),
            esc(exhibit.as_str())
        )?;
        writeln!(out, "  <source>")?;
        for image in images {
            writeln!(out, "    <image_filename>{}</image_filename>", esc(image))?;
        }
        writeln!(out, "  </source>")?;
        Ok(())
    }

    fn line(&mut self, out: &mut dyn Write, line: &ListingLine) -> anyhow::Result<()> {
        match line {
            ListingLine::Volume(v) => self.volume(out, v)?,
            ListingLine::Entry(e) => self.entry(out, e)?,
        }
        Ok(())
    }

    fn end(&mut self, out: &mut dyn Write) -> anyhow::Result<()> {
        self.close_volume(out)?;
        writeln!(out, "</dfxml>")?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::split_missing;

    #[test]
    fn runs_are_cut_where_the_image_ends() {
        assert_eq!(split_missing(0, 100, &[]), vec![(0, 100, false)]);
        assert_eq!(split_missing(0, 100, &[[60, 200]]), vec![(0, 60, false), (60, 100, true)]);
        assert_eq!(split_missing(50, 100, &[[0, 70]]), vec![(50, 70, true), (70, 100, false)]);
        assert_eq!(split_missing(0, 10, &[[20, 30]]), vec![(0, 10, false)]);
    }
}
