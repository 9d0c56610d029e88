//! A synthetic case: ledger events and manifests as ingest writes them,
//! with hostile names, an E01 check, OCR pages for review, a reproduced
//! derivative, an altered manifest and, optionally, a large exhibit.

use exhibit_core::digest::{Digests, HexDigest, Sha256Digest};
use exhibit_core::event::{Action, Actor, ArtefactRef, CustodyEvent, InputRef, Outcome};
use exhibit_core::ids::{ArtefactId, CaseId, ExhibitRef};
use exhibit_core::manifest::{
    ArtefactKind, ArtefactManifest, Derivation, InsideInfo, MediaType, ParentRef, RecordedPath, SourceInfo, Timestamps,
    ToolInfo, VolumeRef,
};
use exhibit_custody::{AnchorSummary, HeadReceipt, Problem, SignerSummary, VerifyReport};
use exhibit_report::StoredManifest;
use serde_json::json;

/// Names a hostile image could carry.
pub const HOSTILE: [&str; 5] = [
    "<script>alert(1)</script>.txt",
    "bad\u{fffe}name\u{ffff}.doc",
    "invoice\u{202e}fdp.exe",
    "nul\u{0}inside",
    "\"quoted\" & 'apos' <img src=x onerror=alert(2)>",
];

pub struct Case {
    pub case: CaseId,
    pub entries: Vec<(u64, CustodyEvent)>,
    pub manifests: Vec<StoredManifest>,
    pub image: ArtefactId,
    pub derivative: ArtefactId,
    pub altered: ArtefactId,
    pub hostile: Vec<ArtefactId>,
}

fn sha(data: &[u8]) -> Sha256Digest {
    Sha256Digest::of(data)
}

fn event(case: &CaseId, exhibit: &ExhibitRef, action: Action) -> CustodyEvent {
    CustodyEvent {
        at: time::macros::datetime!(2026-03-01 10:00 UTC),
        case: case.clone(),
        exhibit: Some(exhibit.clone()),
        action,
        artefact: None,
        inputs: Vec::new(),
        tool: ToolInfo::exhibit("test"),
        params: Default::default(),
        actor: Actor {
            operator: "Jane <b>Smith</b>".into(),
            host: "desk-1".into(),
            process: 1,
            public_key: "ssh-ed25519 AAAA".into(),
        },
        outcome: Outcome::Ok,
    }
}

fn manifest(case: &CaseId, exhibit: &ExhibitRef, id: &ArtefactId, kind: ArtefactKind, data: &[u8]) -> ArtefactManifest {
    ArtefactManifest {
        format: exhibit_core::manifest::MANIFEST_FORMAT.into(),
        id: id.clone(),
        case: case.clone(),
        exhibit: exhibit.clone(),
        kind,
        source: None,
        size: data.len() as u64,
        digests: Digests { sha256: sha(data), md5: Some(HexDigest::from_bytes([7; 16])), sha1: None },
        media_type: MediaType {
            mime: "text/plain".into(),
            extension: None,
            detected_by: "test".into(),
            ..Default::default()
        },
        timestamps: Timestamps::default(),
        parent: None,
        inside: None,
        derivation: None,
        view: None,
        operator: "Jane".into(),
        tool: ToolInfo::exhibit("test"),
        flags: Vec::new(),
    }
}

struct Writer {
    case: CaseId,
    entries: Vec<(u64, CustodyEvent)>,
    manifests: Vec<StoredManifest>,
}

impl Writer {
    fn push(&mut self, e: CustodyEvent) {
        self.entries.push((self.entries.len() as u64 + 1, e));
    }

    /// Records an artefact the way identify and explore do: an event with
    /// the manifest's SHA-256, and the manifest stored beside it.
    fn store(&mut self, action: Action, m: &ArtefactManifest, raw: Option<serde_json::Value>) {
        let bytes = serde_json::to_vec(&raw.unwrap_or_else(|| serde_json::to_value(m).unwrap())).unwrap();
        let mut e = event(&self.case, &m.exhibit, action);
        e.artefact = Some(ArtefactRef {
            id: Some(m.id.clone()),
            sha256: m.digests.sha256,
            size: m.size,
            manifest_sha256: Some(sha(&bytes)),
        });
        self.push(e);
        self.manifests.push(StoredManifest { id: m.id.clone(), bytes });
    }
}

pub fn case(big: usize) -> Case {
    let case: CaseId = "T20247001".parse().unwrap();
    let js1: ExhibitRef = "JS/1".parse().unwrap();
    let mut w = Writer { case: case.clone(), entries: Vec::new(), manifests: Vec::new() };
    // The original: a disk image acquired from a device with bad sectors.
    let image_data = b"disk image";
    let image = ArtefactId::derive(&case, &js1, b"image", &sha(image_data));
    let mut acquired = event(&case, &js1, Action::Acquired);
    acquired.artefact =
        Some(ArtefactRef { id: Some(image.clone()), sha256: sha(image_data), size: 10, manifest_sha256: None });
    acquired.params.insert(
        "facts".into(),
        json!({"source": {"path": {"display": "/dev/sdb <script>"}}, "digests": {"sha256": sha(image_data)},
               "bad_ranges": [[4096, 512]]}),
    );
    w.push(acquired);
    let mut m = manifest(&case, &js1, &image, ArtefactKind::Original, image_data);
    m.source = Some(SourceInfo { path: RecordedPath::from_bytes(b"/dev/sdb"), name: RecordedPath::from_bytes(b"sdb") });
    let mut raw = serde_json::to_value(&m).unwrap();
    raw["media_type"]["puid"] = json!("fmt/1105");
    w.store(Action::Identified, &m, Some(raw));
    // Its E01 check.
    let mut check = event(&case, &js1, Action::Verified);
    check.inputs = vec![InputRef { id: image.clone(), sha256: sha(image_data) }];
    check.params.insert("segments".into(), json!(["image.E01", "image.E02"]));
    check.params.insert("metadata".into(), json!({"examiner": "Examiner \u{202e}evil", "case_number": "<b>42</b>"}));
    check.params.insert("stored".into(), json!({"md5": "00112233445566778899aabbccddeeff"}));
    check.params.insert("computed".into(), json!({"md5": "00112233445566778899aabbccddeeff"}));
    check.params.insert("md5_matches".into(), json!(true));
    w.push(check);
    // Files found inside, with hostile names.
    let mut hostile = Vec::new();
    for (n, name) in HOSTILE.iter().enumerate() {
        let data = format!("file {n}");
        let id = ArtefactId::derive(&case, &js1, name.as_bytes(), &sha(data.as_bytes()));
        let mut m = manifest(&case, &js1, &id, ArtefactKind::Extracted, data.as_bytes());
        m.parent = Some(ParentRef { id: image.clone(), sha256: sha(image_data), offset: Some(0) });
        m.inside = Some(inside(name));
        m.flags = vec!["deleted".into()];
        w.store(Action::Extracted, &m, None);
        hostile.push(id);
    }
    // A derivative of the first, with OCR pages for review, reproduced.
    let derivative = ArtefactId::derive(&case, &js1, b"ocr", &sha(b"ocr text"));
    let mut m = manifest(&case, &js1, &derivative, ArtefactKind::Derivative, b"ocr text");
    m.parent = Some(ParentRef { id: hostile[0].clone(), sha256: sha(b"file 0"), offset: None });
    m.derivation = Some(Derivation {
        rule: "ocr-text".into(),
        policy_version: "1".into(),
        deterministic: true,
        details: Default::default(),
    });
    w.store(Action::Ocr, &m, None);
    if let Some((_, e)) = w.entries.last_mut() {
        e.params.insert("needs-review".into(), json!([{"page": 0}, {"page": 2}]));
    }
    let mut repro = event(&case, &js1, Action::Verified);
    repro.artefact =
        Some(ArtefactRef { id: Some(derivative.clone()), sha256: sha(b"ocr text"), size: 8, manifest_sha256: None });
    repro.params.insert("reproduced".into(), json!(true));
    repro.params.insert("compared".into(), json!("file SHA-256"));
    w.push(repro);
    // An artefact whose stored manifest was rewritten after recording.
    let altered = ArtefactId::derive(&case, &js1, b"altered", &sha(b"altered"));
    let m = manifest(&case, &js1, &altered, ArtefactKind::Extracted, b"altered");
    w.store(Action::Extracted, &m, None);
    if let Some(last) = w.manifests.last_mut() {
        last.bytes = last.bytes.iter().map(|b| if *b == b'J' { b'X' } else { *b }).collect();
    }
    let mut failed = event(&case, &js1, Action::Failed);
    failed.outcome = Outcome::Failed { reason: "explore: <b>record</b> \u{0} damaged".into() };
    w.push(failed);
    big_exhibit(&mut w, &case, &image, big);
    Case { case, entries: w.entries, manifests: w.manifests, image, derivative, altered, hostile }
}

fn inside(name: &str) -> InsideInfo {
    InsideInfo {
        volume: VolumeRef { partition: Some(1), scheme: Some("mbr".into()), offset: 1_048_576, fs: "ntfs".into() },
        path: RecordedPath::from_bytes(format!("/Users/{name}").as_bytes()),
        stream: None,
        address: Some(5),
        allocated: false,
        recovery: None,
        attributes: Default::default(),
        zero_filled: Vec::new(),
        sparse: Vec::new(),
        missing: Vec::new(),
    }
}

fn big_exhibit(w: &mut Writer, case: &CaseId, image: &ArtefactId, n: usize) {
    let big: ExhibitRef = "BIG/2".parse().unwrap();
    for i in 0..n {
        let data = format!("big {i}");
        let id = ArtefactId::derive(case, &big, data.as_bytes(), &sha(data.as_bytes()));
        let mut m = manifest(case, &big, &id, ArtefactKind::Extracted, data.as_bytes());
        m.parent = Some(ParentRef { id: image.clone(), sha256: sha(b"disk image"), offset: None });
        m.inside = Some(inside(&format!("file{i}.bin")));
        w.store(Action::Extracted, &m, None);
    }
}

/// A verify run that found one altered object.
pub fn verify_report(case: &Case) -> VerifyReport {
    VerifyReport {
        case: case.case.clone(),
        entries: case.entries.len() as u64,
        artefacts: 3,
        objects: 3,
        keys: Vec::new(),
        problems: vec![Problem::ObjectAltered { sha256: sha(b"file 1"), artefacts: vec![case.hostile[1].clone()] }],
        head: Some(HeadReceipt { seq: case.entries.len() as u64, sha256: sha(b"head") }),
        signers: vec![SignerSummary {
            fingerprint: "SHA256:abc".into(),
            public_key: "ssh-ed25519 AAAA".into(),
            entries: 3,
            first_seq: 1,
            principals: None,
        }],
        signers_checked: false,
        trusted_keys: None,
        expected_head: None,
        anchors: AnchorSummary::default(),
    }
}
