//! The tag files of a bag: the custody records as stored, the path map,
//! the listing, `bag-info.txt` facts, and the offline checker.

use std::collections::BTreeSet;

use exhibit_core::event::Action;
use time::format_description::well_known::Rfc3339;

use crate::bag::{BagFile, BagWriter};
use crate::error::ExportError;
use crate::layout::{Placed, original_path};
use crate::safe_name::safe_component;
use crate::snapshot::{CaseSnapshot, ExportFacts};

/// The offline checker, run as `verify.sh ALLOWED_SIGNERS [TSA_CA]`.
pub const VERIFY_SH: &str = include_str!("offline/verify.sh");
/// How to check the bag by hand, and what each check proves.
pub const VERIFYING_MD: &str = include_str!("offline/VERIFYING.md");

/// Writes every tag file but those [`BagWriter::finish`] writes.
pub fn write_tags(bag: &mut BagWriter, snap: &CaseSnapshot, placed: &[Placed]) -> Result<(), ExportError> {
    for entry in &snap.ledger {
        bag.add_tag(&format!("exhibit/ledger/{:020}.json", entry.seq), &entry.bytes)?;
    }
    for anchor in &snap.anchors {
        bag.add_tag(&format!("exhibit/anchors/{:020}.tsr", anchor.seq), &anchor.bytes)?;
    }
    for stored in &snap.artefacts {
        bag.add_tag(&format!("exhibit/artefacts/{}.json", stored.manifest.id), &stored.bytes)?;
    }
    bag.add_tag("exhibit/path-map.tsv", path_map(snap, placed).as_bytes())?;
    bag.add_tag("exhibit/listing.tsv", listing(snap, placed).as_bytes())?;
    if let Some((seq, sha)) = &snap.head {
        bag.add_tag("exhibit/head.txt", format!("head: seq {seq} sha256 {sha}\n").as_bytes())?;
    }
    for (exhibit, file) in &snap.listings {
        let parts: Vec<String> = exhibit.as_str().split('/').map(|p| safe_component(p.as_bytes())).collect();
        let mut reader = std::fs::File::open(file).map_err(|e| ExportError::io(file, e))?;
        bag.add_tag_from(&format!("exhibit/listings/{}.dfxml", parts.join("/")), &mut reader)?;
    }
    if let Some(report) = &snap.report {
        bag.add_tag("exhibit/report.html", report)?;
    }
    bag.add_tag("verify.sh", VERIFY_SH.as_bytes())?;
    set_executable(&bag.root().join("verify.sh"))?;
    bag.add_tag("VERIFYING.md", VERIFYING_MD.as_bytes())
}

fn set_executable(path: &std::path::Path) -> Result<(), ExportError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).map_err(|e| ExportError::io(path, e))
}

/// `bag_path`, artefact ID, its exhibit (so `K/1` in `data/K-1~2` and an
/// exhibit named `K-1` cannot be confused), the original path as a JSON string (exact when
/// it is UTF-8), and its bytes in hex when it is not. Paths inside a volume
/// are in their recorded form (`\/` and `\\` inside a component).
fn path_map(snap: &CaseSnapshot, placed: &[Placed]) -> String {
    let mut text = String::from("bag_path\tartefact_id\texhibit\toriginal_json\toriginal_hex\n");
    for p in placed {
        let m = &snap.artefacts[p.index].manifest;
        let raw = original_path(m);
        let (json, hex) = match std::str::from_utf8(&raw) {
            Ok(s) => (serde_json::Value::from(s).to_string(), "-".to_owned()),
            Err(_) => (serde_json::Value::from(String::from_utf8_lossy(&raw)).to_string(), hex::encode(&raw)),
        };
        text.push_str(&format!("{}\t{}\t{}\t{json}\t{hex}\n", p.bag_path, m.id, m.exhibit));
    }
    text
}

fn listing(snap: &CaseSnapshot, placed: &[Placed]) -> String {
    let mut text =
        String::from("bag_path\tartefact_id\texhibit\tkind\tsize\tsha256\tmd5\tsha1\tmedia_type\tparent_id\n");
    for p in placed {
        let m = &snap.artefacts[p.index].manifest;
        let kind = serde_json::to_value(m.kind).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
        let opt = |v: Option<String>| v.unwrap_or_else(|| "-".to_owned());
        text.push_str(&format!(
            "{}\t{}\t{}\t{kind}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            p.bag_path,
            m.id,
            m.exhibit,
            m.size,
            m.digests.sha256,
            opt(m.digests.md5.map(|d| d.to_hex())),
            opt(m.digests.sha1.map(|d| d.to_hex())),
            m.media_type.mime.replace(['\t', '\n', '\r'], " "),
            opt(m.parent.as_ref().map(|p| p.id.to_string())),
        ));
    }
    text
}

/// The `bag-info.txt` labels and values (RFC 8493 section 2.2.2, plus
/// `Exhibit-*` labels of this tool).
pub fn bag_info(snap: &CaseSnapshot, facts: &ExportFacts, payload: &[BagFile]) -> Vec<(String, String)> {
    let mut info: Vec<(String, String)> = Vec::new();
    let mut add = |label: &str, value: String| info.push((label.to_owned(), value));
    if let Some(org) = &facts.organisation {
        add("Source-Organization", org.clone());
    }
    add("Contact-Name", facts.operator.clone());
    add("External-Identifier", snap.case.to_string());
    add(
        "External-Description",
        format!(
            "Evidence of case {} with its signed custody ledger; check it with: sh verify.sh ALLOWED_SIGNERS [TSA_CA] (see VERIFYING.md)",
            snap.case
        ),
    );
    add("Bagging-Date", facts.at.date().to_string());
    add("Bag-Software-Agent", facts.software.clone());
    let bytes: u64 = payload.iter().map(|f| f.size).sum();
    add("Payload-Oxum", format!("{bytes}.{}", payload.len()));
    add("Exhibit-Case", snap.case.to_string());
    // verify.sh requires every recorded artefact of the case (or of the
    // named exhibits) to be in the bag.
    add("Exhibit-Scope", if snap.exhibit.is_some() { "exhibit" } else { "case" }.to_owned());
    let exhibits: BTreeSet<&str> = snap.artefacts.iter().map(|a| a.manifest.exhibit.as_str()).collect();
    for exhibit in exhibits {
        add("Exhibit-Exhibit", exhibit.to_owned());
    }
    let operators: BTreeSet<&str> = snap.artefacts.iter().map(|a| a.manifest.operator.as_str()).collect();
    for operator in operators {
        add("Exhibit-Acquired-By", operator.to_owned());
    }
    let acquired = snap.events.iter().filter(|(_, e)| e.action == Action::Acquired).map(|(_, e)| e.at);
    let (first, last) = acquired.fold((None, None), |(lo, hi), at| {
        (
            Some(lo.map_or(at, |lo: time::OffsetDateTime| lo.min(at))),
            Some(hi.map_or(at, |hi: time::OffsetDateTime| hi.max(at))),
        )
    });
    for (label, at) in [("Exhibit-Acquired-From", first), ("Exhibit-Acquired-Until", last)] {
        if let Some(text) = at.and_then(|at| at.format(&Rfc3339).ok()) {
            add(label, text);
        }
    }
    if let Some((seq, sha)) = &snap.head {
        add("Exhibit-Ledger-Head", format!("seq {seq} sha256 {sha}"));
    }
    add("Exhibit-Exported-At", facts.at.format(&Rfc3339).unwrap_or_default());
    info
}
