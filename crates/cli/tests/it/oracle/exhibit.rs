//! The side under test: the real `exhibit` binary ingests an image into a
//! sandbox store; its JSON listing and `exhibit get` are what is compared.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Output;

use serde_json::Value;

use crate::common::{Sandbox, stderr};

pub const CASE: &str = "ORACLE";

/// One ingested image and what exhibit says about it.
pub struct Ingested {
    pub sb: Sandbox,
    pub out: Output,
    pub entries: Vec<Value>,
    pub volumes: Vec<Value>,
    gets: std::cell::RefCell<BTreeMap<String, String>>,
}

impl Ingested {
    /// Ingests `source` (an image, or a folder holding one E01 set).
    pub fn new(sb: Sandbox, source: &Path) -> Self {
        let out = sb.ingest(CASE, source);
        let listing = sb.run(&["listing", "--case", CASE, "--exhibit", "JS/1", "--format", "json"]);
        let doc: Value = if stderr(&listing).contains("has no explored images") {
            // Nothing exhibit could open: no volume, no entry.
            serde_json::json!({ "entries": [], "volumes": [] })
        } else {
            assert!(listing.status.success(), "listing: {}\ningest: {}", stderr(&listing), stderr(&out));
            serde_json::from_slice(&listing.stdout).unwrap()
        };
        // Images found inside the image (an NTFS `$Boot` looks like a
        // volume) have their own volume numbers: keep the originals' only.
        let shown = sb.show_json(CASE);
        let originals: Vec<&Value> = shown["artefacts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["kind"] == "original")
            .map(|a| &a["id"])
            .collect();
        let entries =
            doc["entries"].as_array().unwrap().iter().filter(|e| originals.contains(&&e["image"])).cloned().collect();
        let volumes = doc["volumes"].as_array().unwrap().clone();
        Self { sb, out, entries, volumes, gets: Default::default() }
    }

    /// The exhibit volume at `offset` on the medium, preferring one whose
    /// file system has the oracle's name.
    pub fn volume_at(&self, offset: u64, fs: Option<&str>) -> Option<&Value> {
        let at: Vec<&Value> = self.volumes.iter().filter(|v| v["offset"] == offset).collect();
        let named = fs.and_then(|fs| at.iter().find(|v| v["fs"].as_str().is_some_and(|f| same_fs(f, fs))));
        named.or(at.first()).copied()
    }

    /// Entries of volume `index`.
    pub fn entries_of(&self, index: u64) -> impl Iterator<Item = &Value> {
        self.entries.iter().filter(move |e| e["volume"] == index)
    }

    /// SHA-256 of what `exhibit get` writes for an artefact (each artefact
    /// read once).
    pub fn get_sha256(&self, artefact: &str) -> Result<String, String> {
        if let Some(hash) = self.gets.borrow().get(artefact) {
            return Ok(hash.clone());
        }
        let file = self.sb.dir.path().join(format!("get-{artefact}"));
        let out = self.sb.run(&["get", "--case", CASE, artefact, "-o", file.to_str().unwrap()]);
        if !out.status.success() {
            return Err(format!("exhibit get {artefact}: {}", stderr(&out)));
        }
        let hash = super::sha256_hex(&std::fs::read(&file).unwrap());
        std::fs::remove_file(&file).unwrap();
        self.gets.borrow_mut().insert(artefact.to_owned(), hash.clone());
        Ok(hash)
    }
}

/// Sleuthkit says `fat16`, `ext4`, `iso9660`; exhibit may say the family.
fn same_fs(exhibit: &str, oracle: &str) -> bool {
    let e = exhibit.to_lowercase();
    e == oracle
        || oracle.starts_with(&e)
        || e.starts_with(oracle)
        || e[..3.min(e.len())] == oracle[..3.min(oracle.len())]
}

/// A recorded path's exact bytes (`display`, or `bytes_hex` when lossy).
pub fn path_bytes(path: &Value) -> Option<Vec<u8>> {
    if path.is_null() {
        return None;
    }
    match path["bytes_hex"].as_str() {
        Some(hex) => Some((0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect()),
        None => Some(path["display"].as_str().unwrap().as_bytes().to_vec()),
    }
}
