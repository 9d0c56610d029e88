//! `exhibit show` for people: a tree per exhibit (original → files found
//! inside it → derivatives), originals first, derivatives named by what
//! they are, the exhibit's manifest metadata above it and totals below.
//! Every evidence name is escaped for the terminal.

use std::collections::{BTreeMap, HashMap, HashSet};

use exhibit_core::ids::ExhibitRef;
use exhibit_core::item::ItemRecord;
use exhibit_core::manifest::{ArtefactKind, ArtefactManifest, RecordedPath};

use crate::terminal::{escape_message, escape_name, escape_name_bytes};

/// The artefacts of one exhibit as a forest, and what the manifest said.
pub struct ExhibitTree<'a> {
    pub exhibit: &'a ExhibitRef,
    pub item: Option<&'a ItemRecord>,
    pub artefacts: Vec<&'a ArtefactManifest>,
    /// Words of failures by artefact ID (`show_flags::failure_words`).
    pub failure_words: &'a FailureWords,
    /// Why OCR left a file out, by artefact ID (its latest skip's reason).
    pub ocr_skips: &'a BTreeMap<&'a str, &'a str>,
}

/// Failure words by artefact ID.
pub type FailureWords = std::collections::BTreeMap<String, std::collections::BTreeSet<&'static str>>;

/// The words shown beside an artefact and matched by `--flag`: its flags,
/// media conditions and failure words.
fn words<'a>(m: &'a ArtefactManifest, failure_words: &'a FailureWords) -> Vec<&'a str> {
    let failed = failure_words.get(m.id.as_str()).into_iter().flatten().copied();
    super::show_flags::words_of(m).into_iter().chain(failed).collect()
}

/// Whether `m` is shown for `flags`: every artefact without flags, else
/// one that carries one of them.
pub fn matches(m: &ArtefactManifest, flags: &[String], failure_words: &FailureWords) -> bool {
    flags.is_empty() || words(m, failure_words).iter().any(|w| flags.iter().any(|f| f == w))
}

/// `flagged needs-review` (or `flagged damaged or deleted`).
pub fn flagged_words(flags: &[String]) -> String {
    format!("flagged {}", flags.join(" or "))
}

/// Prints one exhibit's tree. With `flags`, only artefacts carrying one
/// of them are shown, with the artefacts they came from, and the totals
/// count those that carry one.
pub fn print_exhibit(tree: &ExhibitTree<'_>, flags: &[String]) {
    match tree.item.and_then(|i| i.description.as_deref()) {
        Some(d) => println!("exhibit {}: {}", escape_name(tree.exhibit.as_str()), escape_name(d)),
        None => println!("exhibit {}", escape_name(tree.exhibit.as_str())),
    }
    if let Some(item) = tree.item {
        for line in item_lines(item) {
            println!("  {}", escape_name(&line));
        }
    }
    let ids: HashSet<&str> = tree.artefacts.iter().map(|m| m.id.as_str()).collect();
    let mut children: HashMap<&str, Vec<&ArtefactManifest>> = HashMap::new();
    let mut roots = Vec::new();
    for m in &tree.artefacts {
        // A bundle's PDF comes from many page files: it stands beside them, not under the first.
        let parent = m.parent.as_ref().map(|p| p.id.as_str()).filter(|p| ids.contains(p) && !is_bundle(m));
        match parent {
            Some(parent) => children.entry(parent).or_default().push(m),
            None => roots.push(*m),
        }
    }
    let keep = kept(&tree.artefacts, &children, &|m| matches(m, flags, tree.failure_words));
    let printer =
        Printer { children: &children, keep: &keep, failure_words: tree.failure_words, ocr_skips: tree.ocr_skips };
    let roots = sorted(roots, &keep);
    for (i, m) in roots.iter().enumerate() {
        printer.node(m, "  ", i + 1 == roots.len());
    }
    if flags.is_empty() {
        println!("  totals: {}", totals(&tree.artefacts));
    } else {
        let n = tree.artefacts.iter().filter(|m| matches(m, flags, tree.failure_words)).count();
        println!("  totals: {n} {}", flagged_words(flags));
    }
}

/// The exhibit's metadata but its description, as lines for a person
/// (unescaped: the caller escapes each line for the terminal).
pub fn item_lines(item: &ItemRecord) -> Vec<String> {
    let mut seized = Vec::new();
    seized.extend(item.seized_by.as_ref().map(|s| format!("by {s}")));
    seized.extend(item.seized_at.as_ref().map(|s| format!("at {s}")));
    seized.extend(item.seized_place.as_ref().map(|s| format!("in {s}")));
    let device: Vec<&str> = [&item.device_make, &item.device_model].into_iter().filter_map(|s| s.as_deref()).collect();
    let mut lines = Vec::new();
    if !seized.is_empty() {
        lines.push(format!("seized {}", seized.join(", ")));
    }
    lines.extend(item.seal.as_ref().map(|s| format!("seal or bag {s}")));
    if !device.is_empty() || item.device_serial.is_some() {
        let serial = item.device_serial.as_ref().map(|s| format!(" serial {s}")).unwrap_or_default();
        lines.push(format!("device {}{serial}", device.join(" ")));
    }
    lines.extend(item.expected_pages.map(|n| format!("expected pages {n}")));
    lines.extend(item.ocr.map(|on| format!("OCR {}", if on { "on" } else { "off" })));
    lines.extend(item.notes.as_ref().map(|n| format!("notes: {n}")));
    lines
}

/// IDs of the artefacts to show: all without `flags`, else those flagged
/// and every artefact above them.
fn kept<'a>(
    all: &[&'a ArtefactManifest],
    children: &HashMap<&str, Vec<&'a ArtefactManifest>>,
    flagged: &dyn Fn(&ArtefactManifest) -> bool,
) -> HashSet<&'a str> {
    fn wanted<'a>(
        m: &'a ArtefactManifest,
        children: &HashMap<&str, Vec<&'a ArtefactManifest>>,
        flagged: &dyn Fn(&ArtefactManifest) -> bool,
        out: &mut HashSet<&'a str>,
    ) -> bool {
        let mut any = flagged(m);
        for child in children.get(m.id.as_str()).into_iter().flatten() {
            any |= wanted(child, children, flagged, out);
        }
        if any {
            out.insert(m.id.as_str());
        }
        any
    }
    let mut out = HashSet::new();
    for m in all {
        wanted(m, children, flagged, &mut out);
    }
    out
}

/// Originals, then files found inside, then derivatives; by name within,
/// with numbers by value as a file manager sorts them (page2 before page10).
fn sorted<'a>(list: Vec<&'a ArtefactManifest>, keep: &HashSet<&str>) -> Vec<&'a ArtefactManifest> {
    let rank = |m: &ArtefactManifest| match m.kind {
        ArtefactKind::Original => 0,
        ArtefactKind::Extracted => 1,
        ArtefactKind::Derivative => 2,
    };
    let mut named: Vec<(u8, String, &ArtefactManifest)> =
        list.into_iter().filter(|m| keep.contains(m.id.as_str())).map(|m| (rank(m), name(m), m)).collect();
    named.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| natural_order(&a.1, &b.1)));
    named.into_iter().map(|(_, _, m)| m).collect()
}

/// Names with their numbers compared by value (alphanumeric-sort), then
/// byte for byte, so two names that differ only in leading zeros keep one order.
fn natural_order(a: &str, b: &str) -> std::cmp::Ordering {
    alphanumeric_sort::compare_str(a, b).then_with(|| a.cmp(b))
}

struct Printer<'a, 'b> {
    children: &'b HashMap<&'b str, Vec<&'a ArtefactManifest>>,
    keep: &'b HashSet<&'a str>,
    failure_words: &'b FailureWords,
    ocr_skips: &'b BTreeMap<&'b str, &'b str>,
}

impl Printer<'_, '_> {
    fn node(&self, m: &ArtefactManifest, prefix: &str, last: bool) {
        let (branch, below) = if last { ("└─ ", "   ") } else { ("├─ ", "│  ") };
        let words = words(m, self.failure_words);
        let flags = if words.is_empty() { String::new() } else { format!("  [{}]", words.join(", ")) };
        let pronom = media_text(&m.media_type);
        println!(
            "{prefix}{branch}{}  {}, {}  {}{flags}{pronom}",
            name(m),
            escape_name(&m.media_type.mime),
            size(m.size),
            m.id
        );
        let kids = sorted(self.children.get(m.id.as_str()).cloned().unwrap_or_default(), self.keep);
        let prefix = format!("{prefix}{below}");
        if let Some(reason) = self.ocr_skips.get(m.id.as_str()) {
            let rail = if kids.is_empty() { "   " } else { "│  " };
            println!("{prefix}{rail}OCR skipped: {}", escape_message(reason));
        }
        for (i, child) in kids.iter().enumerate() {
            self.node(child, &prefix, i + 1 == kids.len());
        }
    }
}

/// What a person calls the artefact: its path, or what a derivative is,
/// escaped for the terminal, with bytes that are not UTF-8 as `\xNN` as
/// `listing` shows them.
pub fn name(m: &ArtefactManifest) -> String {
    match (m.kind, &m.source, &m.inside, &m.derivation) {
        (ArtefactKind::Original, Some(s), _, _) => path_text(&s.path),
        (_, _, Some(i), _) => {
            let deleted = if i.allocated { "" } else { " (deleted)" };
            format!("{}{deleted}", path_text(&i.path))
        }
        (_, _, _, Some(d)) => {
            escape_name(&format!("{} ({})", derivative_label(m).unwrap_or_default(), d.rule)).into_owned()
        }
        _ if m.flags.iter().any(|f| f == "listing") => "listing of the files found (JSON lines)".into(),
        _ => m.id.to_string(),
    }
}

/// What a derivative is, for a person or a submitting system (unescaped):
/// "searchable PDF of scans/ (12 pages)", "MP4 access copy".
pub fn derivative_label(m: &ArtefactManifest) -> Option<String> {
    let d = m.derivation.as_ref()?;
    if d.rule == exhibit_ocr::BUNDLE_RULE {
        let label = d.details.get("label").and_then(|l| l.as_str());
        return Some(label.unwrap_or("searchable PDF of a bundle").to_owned());
    }
    let pages = d.details.get("pages").and_then(|p| p.as_array()).map(Vec::len);
    let pages = pages.map(|n| format!(" ({n} page{})", if n == 1 { "" } else { "s" })).unwrap_or_default();
    Some(format!("{}{pages}", derivative_kind(&d.rule, &m.media_type.mime)))
}

fn is_bundle(m: &ArtefactManifest) -> bool {
    m.derivation.as_ref().is_some_and(|d| d.rule == exhibit_ocr::BUNDLE_RULE)
}

/// A recorded path as `listing` shows it: its exact bytes when the
/// display form is lossy, escaped.
fn path_text(path: &RecordedPath) -> String {
    escape_name_bytes(&path.to_bytes())
}

fn derivative_kind(rule: &str, mime: &str) -> String {
    let format = match mime {
        "video/mp4" => "MP4".to_owned(),
        "audio/mp4" | "audio/x-m4a" | "audio/m4a" => "M4A".to_owned(),
        "audio/flac" | "audio/x-flac" => "FLAC".to_owned(),
        "video/x-matroska" => "Matroska".to_owned(),
        "audio/mpeg" => "MP3".to_owned(),
        other => other.rsplit('/').next().unwrap_or(other).to_ascii_uppercase(),
    };
    match rule {
        "ocr-text" => "OCR text".into(),
        "ocr-hocr" => "OCR text with positions (hOCR)".into(),
        "ocr-searchable-pdf" => "searchable PDF".into(),
        r if r.ends_with("-access") => format!("{format} access copy"),
        r if r.ends_with("-preservation") => format!("{format} preservation copy"),
        _ => format!("{format} copy"),
    }
}

fn size(bytes: u64) -> String {
    match bytes {
        0..1024 => format!("{bytes} B"),
        1024..1_048_576 => format!("{:.1} KiB", bytes as f64 / 1024.0),
        _ => format!("{:.1} MiB", bytes as f64 / 1_048_576.0),
    }
}

/// `3 originals, 5 files found inside, 4 derivatives`, then flag counts.
pub fn totals(artefacts: &[&ArtefactManifest]) -> String {
    let of = |k: ArtefactKind| artefacts.iter().filter(|m| m.kind == k).count();
    let mut flags: BTreeMap<&str, usize> = BTreeMap::new();
    for f in artefacts.iter().flat_map(|m| &m.flags).filter(|f| *f != "listing") {
        *flags.entry(f.as_str()).or_default() += 1;
    }
    let mut text = format!(
        "{} original(s), {} file(s) found inside, {} derivative(s)",
        of(ArtefactKind::Original),
        of(ArtefactKind::Extracted),
        of(ArtefactKind::Derivative)
    );
    for (flag, n) in flags {
        text.push_str(&format!("; {n} {flag}"));
    }
    text
}

/// `  container avi: mpeg4 video, mp3 audio` for audio and video,
/// `  PRONOM fmt/43 (JPEG File Interchange Format 1.01)`, and a note when the
/// name's extension does not fit or a claimed format is unidentified.
fn media_text(media: &exhibit_core::manifest::MediaType) -> String {
    let mut out = String::new();
    if let Some(av) = &media.av {
        let streams: Vec<String> = av.streams.iter().map(|s| format!("{} {}", s.codec, s.kind)).collect();
        out.push_str(&format!("  container {}: {}", escape_name(&av.container), escape_name(&streams.join(", "))));
    }
    if let Some(p) = &media.pronom {
        let version = p.version.as_deref().map(|v| format!(" {v}")).unwrap_or_default();
        out.push_str(&format!("  PRONOM {} ({}{version})", p.puid, p.name));
    }
    if let Some(text) = &media.extension_mismatch {
        out.push_str(&format!("  extension mismatch: {}", escape_name(text)));
    }
    if let Some(text) = &media.unidentified {
        out.push_str(&format!("  unidentified: {}", escape_name(text)));
    }
    out
}
