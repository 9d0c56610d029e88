//! One exhibit's part of the report: acquisition, E01 checks, truncation,
//! pages for review, derivatives and their reproduction, and the full
//! artefact table.

use exhibit_core::manifest::ArtefactKind;
use serde_json::{Map, Value};

use crate::html::Page;
use crate::model::{ArtefactRow, ExhibitReport, IntegrityReport, ManifestState};

/// The table of exhibits at the top of the exhibits section.
pub(crate) fn overview(p: &mut Page, r: &IntegrityReport) {
    if r.exhibits.is_empty() {
        p.raw("<p>The ledger names no artefact.</p>");
        return;
    }
    p.table(
        "Exhibits at a glance",
        &["Exhibit", "Originals", "Found inside", "Derivatives", "Bytes", "Unverified manifests"],
    );
    for (n, e) in r.exhibits.iter().enumerate() {
        let c = &e.counts;
        p.raw("<tr><td><a href=\"#exhibit-").num(n as u64).raw("\">").text(e.exhibit.as_str()).raw("</a></td>");
        for v in [c.originals, c.extracted, c.derivatives, c.bytes, c.unverified_manifests] {
            p.el("td", &v.to_string());
        }
        p.raw("</tr>");
    }
    p.end_table();
}

pub(crate) fn exhibit(p: &mut Page, n: usize, e: &ExhibitReport) {
    let id = format!("exhibit-{n}");
    p.raw("<section class=\"exhibit\" id=\"").raw(&id).raw("\" aria-labelledby=\"").raw(&id).raw("-h\">");
    p.raw("<h3 id=\"").raw(&id).raw("-h\">Exhibit ").text(e.exhibit.as_str()).raw("</h3>");
    item(p, e);
    acquisitions(p, e);
    image_checks(p, e);
    if !e.truncations.is_empty() {
        p.el("h4", "Truncated media").raw("<ul>");
        for t in &e.truncations {
            p.el("li", &flat(t));
        }
        p.raw("</ul>");
    }
    review(p, e);
    derivatives(p, e);
    artefacts(p, e);
    p.raw("</section>");
}

/// What the item manifest said: description, seizure, seal, device, notes.
fn item(p: &mut Page, e: &ExhibitReport) {
    let Some(item) = &e.item else { return };
    let pages = item.expected_pages.map(|n| n.to_string());
    let ocr = item.ocr.map(|on| if on { "on" } else { "off" }.to_owned());
    let rows = [
        ("Description", &item.description),
        ("Seized by", &item.seized_by),
        ("Seized at", &item.seized_at),
        ("Seized where", &item.seized_place),
        ("Seal or bag", &item.seal),
        ("Device make", &item.device_make),
        ("Device model", &item.device_model),
        ("Device serial", &item.device_serial),
        ("Expected pages", &pages),
        ("OCR", &ocr),
        ("Notes", &item.notes),
    ];
    p.el("h4", "Item").raw("<dl class=\"facts item\">");
    for (term, value) in rows {
        if let Some(value) = value {
            p.pair(term, value);
        }
    }
    p.raw("</dl>");
}

fn acquisitions(p: &mut Page, e: &ExhibitReport) {
    p.el("h4", "Acquisition");
    if e.acquisitions.is_empty() {
        p.raw("<p>No acquisition is recorded for this exhibit.</p>");
    }
    let many = e.acquisitions.len() > 10;
    if many {
        p.details(&format!("{} originals acquired", e.acquisitions.len()), e.acquisitions.len() * 20);
    }
    for a in &e.acquisitions {
        p.raw("<dl class=\"facts acquisition\">").pair("Source", &a.source).pair("Operator", &a.operator);
        p.pair("Host", &a.host).pair("When (UTC)", &a.at).pair("Entry", &a.seq.to_string());
        p.raw("<dt>Artefact</dt><dd>").code(a.artefact.as_str()).raw("</dd>").pair("Bytes", &a.size.to_string());
        if let Some(d) = &a.digests {
            digest_pairs(p, &d.sha256.to_hex(), d.md5.map(|m| m.to_hex()), d.sha1.map(|s| s.to_hex()));
        }
        let bad = if a.bad_ranges.is_empty() {
            "none".to_owned()
        } else {
            let ranges: Vec<String> = a.bad_ranges.iter().map(|[o, l]| format!("{l} bytes at {o}")).collect();
            format!("{} unreadable, zero-filled: {}", a.bad_ranges.len(), ranges.join("; "))
        };
        p.pair("Bad sectors", &bad);
        if let Some(device) = &a.device {
            p.pair("Device record", &flat(device));
        }
        p.raw("</dl>");
    }
    if many {
        p.raw("</details>");
    }
}

fn digest_pairs(p: &mut Page, sha256: &str, md5: Option<String>, sha1: Option<String>) {
    p.raw("<dt>SHA-256</dt><dd>").code(sha256).raw("</dd>");
    if let Some(m) = md5 {
        p.raw("<dt>MD5</dt><dd>").code(&m).raw("</dd>");
    }
    if let Some(s) = sha1 {
        p.raw("<dt>SHA-1</dt><dd>").code(&s).raw("</dd>");
    }
}

fn image_checks(p: &mut Page, e: &ExhibitReport) {
    if e.image_checks.is_empty() {
        return;
    }
    p.el("h4", "E01 images: stored against computed hashes");
    for c in &e.image_checks {
        let verdict = match (&c.failed, c.md5_matches, c.sha1_matches) {
            (Some(why), ..) => format!("FAILED: {why}"),
            (None, Some(false), _) | (None, _, Some(false)) => "FAILED: a computed hash differs".to_owned(),
            (None, None, None) => "nothing to compare: the E01 stores no media hash".to_owned(),
            (None, ..) => "the media hashes match the hashes stored in the E01".to_owned(),
        };
        p.raw("<dl class=\"facts\">").raw("<dt>Image</dt><dd>").code(c.artefact.as_str()).raw("</dd>");
        p.pair("Segments", &c.segments.join(", ")).pair("Result", &verdict);
        for (label, map) in [("Stored", &c.stored), ("Computed", &c.computed)] {
            for alg in ["md5", "sha1"] {
                if let Some(v) = map.get(alg).and_then(Value::as_str) {
                    p.raw("<dt>")
                        .text(&format!("{label} {}", alg.to_uppercase()))
                        .raw("</dt><dd>")
                        .code(v)
                        .raw("</dd>");
                }
            }
        }
        p.pair("Entry", &c.seq.to_string()).raw("</dl>");
        metadata(p, &c.metadata);
    }
}

fn metadata(p: &mut Page, m: &Map<String, Value>) {
    let rows: Vec<(&String, String)> = m.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k, flat(v))).collect();
    if rows.is_empty() {
        return;
    }
    p.table("Acquisition metadata stored in the E01", &["Field", "Value"]);
    for (k, v) in rows {
        p.raw("<tr>").el("td", k).el("td", &v).raw("</tr>");
    }
    p.end_table();
}

/// A JSON value as one line of text: strings as they are, objects as
/// `key: value` pairs.
fn flat(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(m) => m.iter().map(|(k, v)| format!("{k}: {}", flat(v))).collect::<Vec<_>>().join("; "),
        Value::Array(a) => a.iter().map(flat).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}

fn review(p: &mut Page, e: &ExhibitReport) {
    p.el("h4", "Pages flagged for review");
    if e.review.is_empty() {
        p.raw("<p>None.</p>");
        return;
    }
    p.table("OCR pages a person should check", &["Artefact", "Name", "Pages"]);
    for r in &e.review {
        let pages: Vec<String> = r.pages.iter().map(u64::to_string).collect();
        p.raw("<tr><td>").code(r.artefact.as_str()).raw("</td>").el("td", &r.name).el("td", &pages.join(", "));
        p.raw("</tr>");
    }
    p.end_table();
}

fn derivatives(p: &mut Page, e: &ExhibitReport) {
    p.el("h4", "Derivatives and their reproduction");
    if e.derivatives.is_empty() {
        p.raw("<p>None.</p>");
        return;
    }
    let reproduced = e.derivatives.iter().filter(|d| d.reproduced.is_some()).count();
    let differ = e.derivatives.iter().filter(|d| d.reproduced.as_ref().is_some_and(|r| !r.matched)).count();
    p.raw("<p>").num(e.derivatives.len() as u64).raw(" derivatives; ").num(reproduced as u64);
    p.raw(" reproduced, of which ").num(differ as u64).raw(" differed.</p>");
    p.details(&format!("{} derivatives", e.derivatives.len()), e.derivatives.len());
    p.table("Derivatives", &["Artefact", "Rule", "Made from", "Reproduced"]);
    for d in &e.derivatives {
        let status = match &d.reproduced {
            None => "not yet reproduced".to_owned(),
            Some(r) if r.matched => format!("matched ({}, entry {}, {})", r.compared, r.seq, r.at),
            Some(r) => format!("DIFFERS ({}, entry {}, {})", r.compared, r.seq, r.at),
        };
        p.raw("<tr><td>").code(d.artefact.as_str()).raw("</td>").el("td", &d.rule).raw("<td>");
        match &d.input {
            Some(i) => p.code(i.as_str()),
            None => p.raw("-"),
        };
        p.raw("</td>").el("td", &status).raw("</tr>");
    }
    p.end_table().raw("</details>");
}

fn artefacts(p: &mut Page, e: &ExhibitReport) {
    let n = e.artefacts.len();
    p.el("h4", "Artefacts");
    p.details(&format!("All {n} artefacts, with digests and lineage"), n);
    p.table(
        &format!("Artefacts of exhibit {}", e.exhibit),
        &["Artefact", "Kind", "Name", "Bytes", "Digests", "Type", "PRONOM", "Lineage", "Flags", "Manifest"],
    );
    for row in &e.artefacts {
        artefact_row(p, row);
    }
    p.end_table().raw("</details>");
}

fn artefact_row(p: &mut Page, row: &ArtefactRow) {
    let kind = match row.kind {
        Some(ArtefactKind::Original) => "original",
        Some(ArtefactKind::Extracted) => "found inside",
        Some(ArtefactKind::Derivative) => "derivative",
        None => "-",
    };
    p.raw("<tr id=\"a-").text(row.id.as_str()).raw("\"><td>").code(row.id.as_str()).raw("</td>");
    p.el("td", kind).el("td", &row.name).el("td", &row.size.to_string());
    p.raw("<td class=\"digests\">SHA-256 ").code(&row.digests.sha256.to_hex());
    if let Some(m) = row.digests.md5 {
        p.raw("<br>MD5 ").code(&m.to_hex());
    }
    if let Some(s) = row.digests.sha1 {
        p.raw("<br>SHA-1 ").code(&s.to_hex());
    }
    p.raw("</td>").el("td", row.mime.as_deref().unwrap_or("-")).el("td", row.puid.as_deref().unwrap_or("-"));
    p.raw("<td>");
    for ancestor in &row.lineage {
        p.raw("<a href=\"#a-").text(ancestor.as_str()).raw("\">").code(ancestor.as_str()).raw("</a> → ");
    }
    p.raw(if row.lineage.is_empty() { "-" } else { "this" }).raw("</td>");
    p.el("td", &row.flags.join(", "));
    p.el(
        "td",
        match row.manifest {
            ManifestState::Recorded => "as recorded",
            ManifestState::Altered => "ALTERED: not shown",
            ManifestState::Missing => "missing",
        },
    );
    p.raw("</tr>");
}
