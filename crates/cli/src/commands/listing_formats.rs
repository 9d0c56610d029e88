//! Renderers for `exhibit listing`.

use std::io::Write;

use exhibit_core::ids::{CaseId, ExhibitRef};
use exhibit_core::manifest::SourcedTime;
use exhibit_intake::explore::listing::{EntryRow, ListingLine, VolumeRow};
use exhibit_intake::explore::name_text::{csv_cell, escape as name_text};
use exhibit_media_core::EntryKind;
use time::format_description::well_known::Rfc3339;

pub use super::listing_dfxml::Dfxml;

/// Writes listing lines in one format.
pub trait Renderer {
    fn begin(
        &mut self,
        out: &mut dyn Write,
        case: &CaseId,
        exhibit: &ExhibitRef,
        images: &[String],
    ) -> anyhow::Result<()>;
    fn line(&mut self, out: &mut dyn Write, line: &ListingLine) -> anyhow::Result<()>;
    fn end(&mut self, out: &mut dyn Write) -> anyhow::Result<()>;
}

pub(super) fn when(t: &Option<SourcedTime>) -> String {
    t.as_ref().and_then(|t| t.at.format(&Rfc3339).ok()).unwrap_or_default()
}

pub(super) fn type_letter(kind: &EntryKind) -> &'static str {
    match kind {
        EntryKind::File => "r",
        EntryKind::Directory => "d",
        EntryKind::Symlink { .. } => "l",
        EntryKind::Device { class, .. } if class == "block" => "b",
        EntryKind::Device { .. } => "c",
        EntryKind::Other { .. } => "-",
    }
}

/// JSON: one document, entries streamed.
#[derive(Default)]
pub struct Json {
    entries: usize,
    volumes: Vec<VolumeRow>,
    /// What the exhibit's item manifest row said, written after `volumes`.
    item: Option<exhibit_core::item::ItemRecord>,
}

impl Json {
    /// A renderer that ends the document with the exhibit's metadata.
    pub fn with_item(item: Option<exhibit_core::item::ItemRecord>) -> Self {
        Self { item, ..Self::default() }
    }
}

impl Renderer for Json {
    fn begin(
        &mut self,
        out: &mut dyn Write,
        case: &CaseId,
        exhibit: &ExhibitRef,
        images: &[String],
    ) -> anyhow::Result<()> {
        write!(
            out,
            "{{\"case\":{},\"exhibit\":{},\"images\":{},\"entries\":[",
            serde_json::to_string(case)?,
            serde_json::to_string(exhibit)?,
            serde_json::to_string(images)?
        )?;
        Ok(())
    }

    fn line(&mut self, out: &mut dyn Write, line: &ListingLine) -> anyhow::Result<()> {
        match line {
            ListingLine::Volume(v) => self.volumes.push(v.clone()),
            ListingLine::Entry(e) => {
                if self.entries > 0 {
                    out.write_all(b",")?;
                }
                out.write_all(b"\n")?;
                serde_json::to_writer(&mut *out, &json_entry(e)?)?;
                self.entries += 1;
            }
        }
        Ok(())
    }

    fn end(&mut self, out: &mut dyn Write) -> anyhow::Result<()> {
        let item = serde_json::to_string(&self.item)?;
        writeln!(out, "\n],\"volumes\":{},\"item\":{item}}}", serde_json::to_string(&self.volumes)?)?;
        Ok(())
    }
}

/// An entry as JSON, plus its path and stream in the escaped name form
/// that DFXML and CSV use, so all three formats read back the same way.
fn json_entry(e: &EntryRow) -> anyhow::Result<serde_json::Value> {
    let mut value = serde_json::to_value(e)?;
    if let Some(map) = value.as_object_mut() {
        map.insert("path_text".into(), name_text(&e.path.to_bytes()).into());
        map.insert("stream_text".into(), e.stream.as_ref().map(|s| name_text(&s.to_bytes())).into());
    }
    Ok(value)
}

/// CSV: one row per entry. Every cell is escaped text
/// ([`exhibit_intake::explore::name_text`]) guarded against formulas.
#[derive(Default)]
pub struct Csv;

const CSV_HEADER: [&str; 21] = [
    "image",
    "volume",
    "path",
    "stream",
    "type",
    "size",
    "allocated",
    "recovered_bytes",
    "modified",
    "accessed",
    "changed",
    "created",
    "address",
    "md5",
    "sha1",
    "sha256",
    "artefact",
    "zero_filled",
    "sparse",
    "missing",
    "error",
];

impl Renderer for Csv {
    fn begin(&mut self, out: &mut dyn Write, _: &CaseId, _: &ExhibitRef, _: &[String]) -> anyhow::Result<()> {
        let mut w = csv::Writer::from_writer(out);
        w.write_record(CSV_HEADER)?;
        w.flush()?;
        Ok(())
    }

    fn line(&mut self, out: &mut dyn Write, line: &ListingLine) -> anyhow::Result<()> {
        let ListingLine::Entry(e) = line else { return Ok(()) };
        let mut w = csv::Writer::from_writer(out);
        w.write_record(csv_record(e).into_iter().map(csv_cell))?;
        w.flush()?;
        Ok(())
    }

    fn end(&mut self, _: &mut dyn Write) -> anyhow::Result<()> {
        Ok(())
    }
}

/// The cells of an entry; free text (path, stream, error) already in the
/// escaped name form, the rest digits, hex and RFC 3339 times.
fn csv_record(e: &EntryRow) -> Vec<String> {
    let t = &e.timestamps;
    let digest = |f: fn(&exhibit_core::Digests) -> Option<String>| e.digests.as_ref().and_then(f).unwrap_or_default();
    vec![
        e.image.to_string(),
        e.volume.to_string(),
        name_text(&e.path.to_bytes()),
        e.stream.as_ref().map(|s| name_text(&s.to_bytes())).unwrap_or_default(),
        type_letter(&e.kind).to_owned(),
        e.size.to_string(),
        u8::from(e.allocated).to_string(),
        e.recovery.map(|r| r.recoverable_bytes.to_string()).unwrap_or_default(),
        when(&t.modified),
        when(&t.accessed),
        when(&t.changed),
        when(&t.created),
        e.address.map(|a| a.to_string()).unwrap_or_default(),
        digest(|d| d.md5.map(|h| h.to_hex())),
        digest(|d| d.sha1.map(|h| h.to_hex())),
        digest(|d| Some(d.sha256.to_hex())),
        e.artefact.as_ref().map(|a| a.to_string()).unwrap_or_default(),
        ranges(&e.zero_filled),
        ranges(&e.sparse),
        ranges(&e.missing),
        name_text(e.error.as_deref().unwrap_or_default().as_bytes()),
    ]
}

/// File byte ranges `[start, end)` as `start-end`, space-separated.
fn ranges(list: &[[u64; 2]]) -> String {
    list.iter().map(|[a, b]| format!("{a}-{b}")).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
#[path = "listing_formats_tests.rs"]
mod tests;
