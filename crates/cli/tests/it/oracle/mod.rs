//! Tool oracles over every fixture image (issue 11): the real `exhibit`
//! binary ingests each image, and its listing must hold every name the
//! reference tool prints (deleted ones included, flagged alike), and
//! `exhibit get` of every file must give the tool's bytes.
//!
//! Oracles: sleuthkit (`mmls`, `fls -r -p`, `icat`) for MBR/GPT volumes,
//! FAT12/16/32, exFAT, NTFS, ext2/4 and E01; xorriso for ISO 9660 Rock
//! Ridge names; `7z x -tudf` and pycdlib for UDF; `udfinfo`'s counts for
//! the empty mkudffs images. Names an oracle prints that are not on the
//! volume (sleuthkit's virtual files) are left out by the rules in
//! [`compare`], each with its reason.

mod compare;
mod damaged;
mod exhibit;
mod images;
mod tree;
pub mod tsk;

use std::io::Write;
use std::process::{Command, Stdio};

/// One name an oracle reports.
#[derive(Debug, Clone)]
pub struct Named {
    /// Path from the volume root, no leading `/`, as the tool prints it.
    pub path: Vec<u8>,
    /// NTFS stream name, for `file:stream`.
    pub stream: Option<Vec<u8>>,
    pub deleted: bool,
    /// Sleuthkit's `name/meta` type letters (`r/r`, `d/d`, `-/r`, `v/v`).
    pub types: String,
    /// Sleuthkit's metadata address (`17`, `64-128-2`), empty for others.
    pub address: String,
    /// SHA-256 of the oracle's bytes for regular files (for deleted ones,
    /// what `icat` recovers).
    pub sha256: Option<String>,
}

impl Named {
    /// The name as a person reads it in a failure message.
    pub fn shown(&self) -> String {
        let path = String::from_utf8_lossy(&self.path);
        match &self.stream {
            Some(s) => format!("/{path}:{}", String::from_utf8_lossy(s)),
            None => format!("/{path}"),
        }
    }
}

/// What an oracle found on one volume.
#[derive(Debug)]
pub struct OracleVolume {
    /// Byte offset of the volume on the medium.
    pub offset: u64,
    /// File-system type as the tool names it.
    pub fs: Option<String>,
    pub entries: Vec<Named>,
    pub tool: &'static str,
}

/// SHA-256 as coreutils' `sha256sum` computes it.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let mut child = Command::new("sha256sum").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().expect("sha256sum");
    let mut stdin = child.stdin.take().unwrap();
    let input = bytes.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    String::from_utf8(out.stdout).unwrap().split_whitespace().next().unwrap().to_owned()
}

/// Whether a reference tool is missing: a skip with a message, or a
/// failure under CI, where scripts/setup-debian.sh installs them all.
pub fn tool_missing(available: bool, tool: &str) -> bool {
    if available {
        return false;
    }
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{tool} is not installed (scripts/setup-debian.sh)");
    eprintln!("skipping: {tool} is not installed");
    true
}
