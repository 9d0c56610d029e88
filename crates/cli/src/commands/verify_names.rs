//! Who a tampered artefact is, for `verify`'s text: the report names
//! altered and missing content and manifests by artefact ID only, which a
//! person cannot act on. Each such artefact gets a line naming its exhibit
//! and where it came from (its source path from the recorded bytes,
//! escaped as `show` escapes names), from the same ledger read.

use std::collections::{BTreeSet, HashMap};

use exhibit_core::event::{Action, CustodyEvent};
use exhibit_core::ids::ArtefactId;
use exhibit_core::manifest::RecordedPath;
use exhibit_custody::{Problem, VerifyReport};

use crate::terminal::{escape_name, escape_name_bytes};

/// One line per artefact the report's problems name as tampered (content
/// or manifest altered or missing, a view broken), in the order named:
/// `tampered: artefact ID: exhibit JS/1, /evidence/statement.txt`.
pub fn tampered_lines(report: &VerifyReport, events: &[(u64, CustodyEvent)]) -> Vec<String> {
    let origins = origins(events);
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let named = report.problems.iter().flat_map(tampered_artefacts).filter(|id| seen.insert(id.to_string()));
    named
        .map(|id| {
            let origin = origins.get(id.as_str());
            let exhibit = origin.and_then(|o| o.exhibit.as_deref()).map(|x| format!("exhibit {}", escape_name(x)));
            let what = origin.map(|o| describe(o, &origins, 0)).filter(|w| !w.is_empty());
            let known: Vec<String> = exhibit.into_iter().chain(what).collect();
            let known = if known.is_empty() { "not recorded by any event read".to_owned() } else { known.join(", ") };
            format!("tampered: artefact {}: {known}", id.as_str())
        })
        .collect()
}

/// The artefacts a problem says were tampered with.
fn tampered_artefacts(problem: &Problem) -> Vec<&ArtefactId> {
    match problem {
        Problem::ObjectAltered { artefacts, .. } | Problem::ObjectMissing { artefacts, .. } => {
            artefacts.iter().collect()
        }
        Problem::ViewBroken { artefact, .. }
        | Problem::ManifestAltered { artefact }
        | Problem::ManifestMissing { artefact } => vec![artefact],
        _ => Vec::new(),
    }
}

/// Where one artefact came from, as its recording event says.
struct Origin {
    exhibit: Option<String>,
    /// The recorded source path (an original's, or the path inside its
    /// image for a file found inside one).
    path: Option<RecordedPath>,
    /// What it was made or found from (the first input).
    from: Option<String>,
    action: Action,
}

/// The recording event of each artefact, by ID.
fn origins(events: &[(u64, CustodyEvent)]) -> HashMap<String, Origin> {
    let makes = |a: &Action| matches!(a, Action::Acquired | Action::Extracted | Action::Transcoded | Action::Ocr);
    let mut out = HashMap::new();
    for (_, e) in events.iter().filter(|(_, e)| makes(&e.action)) {
        let Some(id) = e.artefact.as_ref().and_then(|a| a.id.as_ref()) else { continue };
        let path = e
            .params
            .get("facts")
            .and_then(|f| f.pointer("/source/path"))
            .and_then(|p| serde_json::from_value(p.clone()).ok());
        let origin = Origin {
            exhibit: e.exhibit.as_ref().map(|x| x.as_str().to_owned()),
            path,
            from: e.inputs.first().map(|i| i.id.to_string()),
            action: e.action,
        };
        out.entry(id.to_string()).or_insert(origin);
    }
    out
}

/// `/evidence/statement.txt`; `/DCIM/a.jpg inside /evidence/card.dd`;
/// `made from /evidence/interview.mov`. A chain of parents is followed a
/// few steps at most.
fn describe(origin: &Origin, origins: &HashMap<String, Origin>, depth: usize) -> String {
    let parent = || {
        let from = origin.from.as_deref()?;
        let named = origins.get(from).map(|p| describe(p, origins, depth + 1)).filter(|d| !d.is_empty());
        Some(named.unwrap_or_else(|| format!("artefact {from}")))
    };
    if depth > 4 {
        return String::new();
    }
    let own = origin.path.as_ref().map(|p| escape_name_bytes(&p.to_bytes()));
    match (origin.action, own) {
        (Action::Acquired, Some(path)) => path,
        (Action::Extracted, Some(path)) => match parent() {
            Some(image) => format!("{path} inside {image}"),
            None => path,
        },
        _ => parent().map(|p| format!("made from {p}")).unwrap_or_default(),
    }
}
