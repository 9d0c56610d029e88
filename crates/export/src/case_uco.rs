//! The case as CASE/UCO JSON-LD (CASE 1.5.0, UCO 1.5.0, the version
//! case-utils 0.18 validates against by default): each artefact an
//! observable `File` with its hashes, each ledger entry an
//! `InvestigativeAction` with its performer, instrument (tool and version),
//! inputs as objects and a `ProvenanceRecord` among its results, and each
//! extracted or derived artefact linked to its parent by a `Relationship`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use exhibit_core::event::{CustodyEvent, Outcome};
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;

use crate::case_uco_nodes::{file, file_stub, iri, performer, relationship, tool};
use crate::layout::original_path;
use crate::snapshot::CaseSnapshot;

/// The CASE ontology version whose IRIs this export uses.
pub const CASE_VERSION: &str = "1.5.0";

fn context(case: &str) -> Value {
    json!({
        "kb": format!("urn:exhibit:{case}:"),
        "case-investigation": "https://ontology.caseontology.org/case/investigation/",
        "uco-action": "https://ontology.unifiedcyberontology.org/uco/action/",
        "uco-core": "https://ontology.unifiedcyberontology.org/uco/core/",
        "uco-identity": "https://ontology.unifiedcyberontology.org/uco/identity/",
        "uco-observable": "https://ontology.unifiedcyberontology.org/uco/observable/",
        "uco-tool": "https://ontology.unifiedcyberontology.org/uco/tool/",
        "uco-types": "https://ontology.unifiedcyberontology.org/uco/types/",
        "xsd": "http://www.w3.org/2001/XMLSchema#",
    })
}

/// Collects nodes once each, by `@id`.
#[derive(Default)]
struct Graph {
    nodes: BTreeMap<String, Value>,
    /// Files referenced by an action: (key, sha256, size) for stubs.
    referenced: BTreeMap<String, (String, Option<u64>)>,
}

impl Graph {
    fn add(&mut self, node: Value) {
        let id = node["@id"].as_str().unwrap_or_default().to_owned();
        self.nodes.entry(id).or_insert(node);
    }
}

/// The JSON-LD document for `snap`: its artefacts, and the ledger entries
/// about its exhibit (every entry when the whole case is exported).
pub fn case_uco_document(snap: &CaseSnapshot) -> Value {
    let mut graph = Graph::default();
    let mut exported = BTreeSet::new();
    for stored in &snap.artefacts {
        let m = &stored.manifest;
        let path = String::from_utf8_lossy(&original_path(m)).into_owned();
        graph.add(file(m, &path));
        exported.insert(m.id.to_string());
        if let Some(parent) = &m.parent {
            let kind = if m.inside.is_some() { "Contained_Within" } else { "Derived_From" };
            graph.add(relationship(&m.id.to_string(), &parent.id.to_string(), kind));
            graph.referenced.insert(parent.id.to_string(), (parent.sha256.to_hex(), None));
        }
    }
    let mut actions = Vec::new();
    let mut per_entry: HashMap<u64, usize> = HashMap::new();
    for (seq, _) in &snap.events {
        *per_entry.entry(*seq).or_default() += 1;
    }
    let mut nth: HashMap<u64, usize> = HashMap::new();
    for (seq, event) in &snap.events {
        let n = nth.entry(*seq).or_default();
        *n += 1;
        // Events of a batch entry share its number; each gets its place.
        let place = match per_entry.get(seq) {
            Some(&count) if count > 1 => Place { id: format!("{seq}.{n}"), label: format!("{seq}, event {n}") },
            _ => Place { id: seq.to_string(), label: seq.to_string() },
        };
        if snap.exhibit.as_ref().is_none_or(|x| event.exhibit.as_ref() == Some(x)) {
            actions.push(Value::from(action(&mut graph, snap, &place, event)));
        }
    }
    for (key, (sha256, size)) in std::mem::take(&mut graph.referenced) {
        if !exported.contains(&key) {
            graph.add(file_stub(&key, sha256, size));
        }
    }
    graph.add(json!({
        "@id": iri("investigation", snap.case.as_str()),
        "@type": "case-investigation:Investigation",
        "uco-core:name": snap.case.as_str(),
        "uco-core:description": "Evidence and chain of custody exported by exhibit",
        "uco-core:object": actions.into_iter().map(|a| json!({"@id": a})).collect::<Vec<_>>(),
    }));
    json!({"@context": context(snap.case.as_str()), "@graph": graph.nodes.into_values().collect::<Vec<_>>()})
}

/// Where an event is in the ledger: `7` for entry 7, `7.3` for the third
/// event of batch entry 7 (IRIs), and the same in words.
struct Place {
    id: String,
    label: String,
}

/// One ledger event as an investigative action; returns its IRI.
fn action(graph: &mut Graph, snap: &CaseSnapshot, place: &Place, e: &CustodyEvent) -> String {
    let (seq, label) = (&place.id, &place.label);
    let id = iri("investigative-action", &format!("{}/{seq}", snap.case));
    let verb = serde_json::to_value(e.action).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
    graph.add(tool(&e.tool));
    graph.add(performer(&e.actor.operator));
    let objects: Vec<Value> = e
        .inputs
        .iter()
        .map(|input| {
            graph.referenced.entry(input.id.to_string()).or_insert((input.sha256.to_hex(), None));
            json!({"@id": iri("file", &input.id.to_string())})
        })
        .collect();
    let mut results = Vec::new();
    if let Some(a) = &e.artefact {
        let key = a.id.as_ref().map_or_else(|| format!("content-{}", a.sha256), |id| id.to_string());
        graph.referenced.entry(key.clone()).or_insert((a.sha256.to_hex(), Some(a.size)));
        let record = iri("provenance-record", &format!("{}/{seq}", snap.case));
        let mut provenance = json!({
            "@id": record,
            "@type": "case-investigation:ProvenanceRecord",
            "uco-core:description": format!("{verb} by ledger entry {label} of case {}", snap.case),
            "uco-core:object": [{"@id": iri("file", &key)}],
        });
        if let Some(exhibit) = &e.exhibit {
            provenance["case-investigation:exhibitNumber"] = json!(exhibit.as_str());
            let root = exhibit.as_str().split('/').take(2).collect::<Vec<_>>().join("/");
            provenance["case-investigation:rootExhibitNumber"] = json!(root);
        }
        graph.add(provenance);
        results.push(json!({"@id": iri("file", &key)}));
        results.push(json!({"@id": record}));
    }
    let (status, description) = match &e.outcome {
        Outcome::Ok => ("Success", format!("ledger entry {label}: {verb}")),
        Outcome::Failed { reason } => ("Fail", format!("ledger entry {label}: {verb} failed: {reason}")),
    };
    let mut node = json!({
        "@id": id,
        "@type": "case-investigation:InvestigativeAction",
        "uco-core:name": verb,
        "uco-core:description": description,
        "uco-action:actionStatus": status,
        "uco-action:performer": {"@id": iri("identity", &e.actor.operator)},
        "uco-action:instrument": {"@id": iri("tool", &format!("{}/{}", e.tool.name, e.tool.version))},
        "uco-action:object": objects,
        "uco-action:result": results,
    });
    if let Ok(at) = e.at.format(&Rfc3339) {
        node["uco-action:startTime"] = json!({"@type": "xsd:dateTime", "@value": at});
    }
    graph.add(node);
    id
}
