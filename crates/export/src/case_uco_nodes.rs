//! Builders of single CASE/UCO nodes as JSON-LD objects, with IRIs that
//! end in a UUID derived from what the node stands for (so the same case
//! always exports to the same graph).

use exhibit_core::digest::Digests;
use exhibit_core::manifest::{ArtefactManifest, ToolInfo};
use serde_json::{Value, json};
use sha1::{Digest, Sha1};

/// The UUIDv5 namespace of exhibit's CASE/UCO node names.
const NAMESPACE: [u8; 16] =
    [0x6b, 0x1f, 0x0e, 0x52, 0x8d, 0x3a, 0x4c, 0x61, 0x9e, 0x07, 0x2d, 0x5c, 0x41, 0xa8, 0x93, 0x17];

/// A stable IRI for `kind`/`key`: `kb:<kind>-<UUID>`, a name-based UUID
/// (RFC 9562 version 5) of both, so the same case always exports to the
/// same graph and CASE's "ends with a UUID" rule holds.
pub fn iri(kind: &str, key: &str) -> String {
    let mut hasher = Sha1::new();
    hasher.update(NAMESPACE);
    hasher.update(format!("{kind}/{key}"));
    let mut bytes: [u8; 16] = hasher.finalize()[..16].try_into().unwrap_or([0; 16]);
    bytes[6] = (bytes[6] & 0x0F) | 0x50;
    bytes[8] = (bytes[8] & 0x3F) | 0x80;
    let h = hex::encode(bytes);
    format!("kb:{kind}-{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])
}

fn integer(n: u64) -> Value {
    json!({"@type": "xsd:integer", "@value": n.to_string()})
}

fn hash(owner: &str, method: &str, hex: String) -> Value {
    json!({
        "@id": iri("hash", &format!("{owner}/{method}")),
        "@type": "uco-types:Hash",
        "uco-types:hashMethod": method,
        "uco-types:hashValue": {"@type": "xsd:hexBinary", "@value": hex},
    })
}

/// A content-data facet with every digest known.
fn content_facet(owner: &str, sha256: String, md5: Option<String>, sha1: Option<String>, size: u64) -> Value {
    let mut hashes = vec![hash(owner, "SHA256", sha256)];
    hashes.extend(md5.map(|h| hash(owner, "MD5", h)));
    hashes.extend(sha1.map(|h| hash(owner, "SHA1", h)));
    json!({
        "@id": iri("content-data-facet", owner),
        "@type": "uco-observable:ContentDataFacet",
        "uco-observable:hash": hashes,
        "uco-observable:sizeInBytes": integer(size),
    })
}

fn digests_facet(owner: &str, d: &Digests, size: u64) -> Value {
    content_facet(owner, d.sha256.to_hex(), d.md5.map(|h| h.to_hex()), d.sha1.map(|h| h.to_hex()), size)
}

/// An artefact as an observable `File`: its name and path where it had
/// one, and its hashes.
pub fn file(m: &ArtefactManifest, original_path: &str) -> Value {
    let id = m.id.to_string();
    let mut facet = json!({
        "@id": iri("file-facet", &id),
        "@type": "uco-observable:FileFacet",
        "uco-observable:sizeInBytes": integer(m.size),
    });
    if !original_path.is_empty() {
        let name = original_path.rsplit('/').next().unwrap_or(original_path);
        facet["uco-observable:fileName"] = json!(name);
        facet["uco-observable:filePath"] = json!(original_path);
    }
    if let Some(ext) = &m.media_type.extension {
        facet["uco-observable:extension"] = json!(ext);
    }
    let mut content = digests_facet(&id, &m.digests, m.size);
    content["uco-observable:mimeType"] = json!(m.media_type.mime);
    json!({
        "@id": iri("file", &id),
        "@type": "uco-observable:File",
        "uco-core:name": format!("artefact {id}"),
        "uco-core:description": format!("{:?} artefact of exhibit {}", m.kind, m.exhibit),
        "uco-core:hasFacet": [facet, content],
    })
}

/// A `File` known only by the content a ledger entry names: an input from
/// another exhibit, or content that never became an artefact.
pub fn file_stub(key: &str, sha256: String, size: Option<u64>) -> Value {
    let mut content = json!({
        "@id": iri("content-data-facet", key),
        "@type": "uco-observable:ContentDataFacet",
        "uco-observable:hash": [hash(key, "SHA256", sha256)],
    });
    if let Some(size) = size {
        content["uco-observable:sizeInBytes"] = integer(size);
    }
    json!({
        "@id": iri("file", key),
        "@type": "uco-observable:File",
        "uco-core:hasFacet": [content],
    })
}

/// The tool (name and version) an action used.
pub fn tool(t: &ToolInfo) -> Value {
    let mut description = String::new();
    for (lib, version) in &t.libraries {
        description.push_str(&format!("{lib} {version}; "));
    }
    let mut node = json!({
        "@id": iri("tool", &format!("{}/{}", t.name, t.version)),
        "@type": "uco-tool:Tool",
        "uco-core:name": t.name,
        "uco-tool:version": t.version,
    });
    if !description.is_empty() {
        node["uco-core:description"] = json!(format!("libraries: {}", description.trim_end_matches("; ")));
    }
    node
}

/// The person an action names as responsible.
pub fn performer(operator: &str) -> Value {
    json!({
        "@id": iri("identity", operator),
        "@type": "uco-identity:Identity",
        "uco-core:name": operator,
    })
}

/// A link from `child` to the artefact it was found inside or made from.
/// Vocabulary values are plain `xsd:string`s, as UCO 1.4 and later ask.
pub fn relationship(child: &str, parent: &str, kind: &str) -> Value {
    json!({
        "@id": iri("relationship", &format!("{child}/{parent}/{kind}")),
        "@type": "uco-core:Relationship",
        "uco-core:source": [{"@id": iri("file", child)}],
        "uco-core:target": {"@id": iri("file", parent)},
        "uco-core:kindOfRelationship": kind,
        "uco-core:isDirectional": true,
    })
}
