//! `exhibit hash`: digests of files, in one read pass with every algorithm
//! on its own thread. One algorithm (SHA-256 by default) prints `HEX  PATH`,
//! which `sha256sum -c` (or `md5sum -c`, `sha1sum -c`) reads without a
//! warning. Several print tagged lines `SHA256 (PATH) = HEX`, which
//! `cksum -c` reads; `sha256sum -c` would count the other algorithms' lines
//! as improperly formatted, so they are only printed when asked for.
//!
//! Names holding `\`, a newline or a carriage return are written in
//! coreutils' escaped form (a leading `\` on the line). On a terminal,
//! names are shown through [`crate::terminal::escape_name`] instead.

use std::fs::File;
use std::io::{IsTerminal, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use bytes::Bytes;
use exhibit_core::digest::{Digests, HashSelection};
use exhibit_core::hashing::ParallelHasher;
use walkdir::WalkDir;

use crate::EXIT_USAGE;
use crate::config::Config;
use crate::logging::notice;
use crate::terminal::escape_name;

/// Bytes read per chunk.
const CHUNK: usize = 4 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Algorithm {
    Sha256,
    Md5,
    Sha1,
}

#[derive(Debug, clap::Args)]
pub struct HashArgs {
    /// Algorithms to compute (default: sha256). With more than one, lines
    /// are tagged (`SHA256 (PATH) = HEX`) for `cksum -c`.
    #[arg(long, value_delimiter = ',')]
    algorithms: Vec<Algorithm>,
    /// Files or folders (walked; symlinks not followed).
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
}

pub async fn run(args: HashArgs, _config: Config) -> anyhow::Result<ExitCode> {
    let mut algorithms = args.algorithms;
    if algorithms.is_empty() {
        algorithms.push(Algorithm::Sha256);
    }
    let mut seen = Vec::new();
    algorithms.retain(|a| {
        !seen.contains(a) && {
            seen.push(*a);
            true
        }
    });
    let paths = args.paths;
    tokio::task::spawn_blocking(move || hash_all(&paths, &algorithms)).await?
}

fn hash_all(paths: &[PathBuf], algorithms: &[Algorithm]) -> anyhow::Result<ExitCode> {
    let selection =
        HashSelection { md5: algorithms.contains(&Algorithm::Md5), sha1: algorithms.contains(&Algorithm::Sha1) };
    let mut out = std::io::stdout().lock();
    let names = if out.is_terminal() { NameStyle::Terminal } else { NameStyle::Coreutils };
    let mut failed = false;
    for root in paths {
        for entry in WalkDir::new(root).follow_links(false).sort_by_file_name() {
            let entry = match entry {
                Ok(entry) if entry.file_type().is_file() => entry,
                // Named itself, a FIFO, socket or device is said so; found
                // in a folder (as symlinks are), it is passed over.
                Ok(entry) if entry.depth() == 0 && !entry.file_type().is_dir() && !entry.file_type().is_symlink() => {
                    notice(&format!(
                        "{}: not a regular file (a FIFO, socket or device); nothing hashed",
                        root.display()
                    ));
                    failed = true;
                    continue;
                }
                Ok(_) => continue,
                Err(e) => {
                    let path = e.path().unwrap_or(root).display().to_string();
                    match e.io_error().map(std::io::Error::kind) {
                        Some(std::io::ErrorKind::NotFound) => {
                            notice(&format!("{path}: does not exist; check the path"))
                        }
                        _ => notice(&format!("{path}: {e}; check the path")),
                    }
                    failed = true;
                    continue;
                }
            };
            match hash_file(entry.path(), selection) {
                Ok(digests) => write_lines(&mut out, names, entry.path(), &digests, algorithms)?,
                Err(e) => {
                    notice(&format!("{e:#}"));
                    failed = true;
                }
            }
        }
    }
    Ok(if failed { ExitCode::from(EXIT_USAGE) } else { ExitCode::SUCCESS })
}

/// Hashes one file in a single pass.
pub fn hash_file(path: &Path, selection: HashSelection) -> anyhow::Result<Digests> {
    let mut file = File::open(path).with_context(|| format!("{}: cannot be opened", path.display()))?;
    let mut hasher = ParallelHasher::new(selection);
    loop {
        // read_to_end fills spare capacity without zeroing it first.
        let mut buf = Vec::with_capacity(CHUNK);
        let n = (&mut file)
            .take(CHUNK as u64)
            .read_to_end(&mut buf)
            .with_context(|| format!("{}: read failed", path.display()))?;
        if n == 0 {
            break;
        }
        hasher.update(Bytes::from(buf));
    }
    hasher.finish().with_context(|| format!("{}: hashing failed", path.display()))
}

/// How names are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NameStyle {
    /// Raw bytes, with coreutils' escapes for `\\`, newline and CR.
    Coreutils,
    /// Escaped for a person at a terminal.
    Terminal,
}

/// The name as written, and whether the line needs coreutils' leading `\\`.
fn name_bytes(path: &Path, style: NameStyle) -> (bool, Vec<u8>) {
    if style == NameStyle::Terminal {
        return (false, escape_name(&path.to_string_lossy()).into_owned().into_bytes());
    }
    let raw = path.as_os_str().as_bytes();
    let mut out = Vec::with_capacity(raw.len());
    for &b in raw {
        match b {
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b => out.push(b),
        }
    }
    (out.len() != raw.len(), out)
}

fn write_lines(
    out: &mut impl Write,
    style: NameStyle,
    path: &Path,
    d: &Digests,
    algorithms: &[Algorithm],
) -> std::io::Result<()> {
    let (escaped, name) = name_bytes(path, style);
    let mark = if escaped { "\\" } else { "" };
    let hex = |a: Algorithm| match a {
        Algorithm::Sha256 => Some(d.sha256.to_hex()),
        Algorithm::Md5 => d.md5.map(|h| h.to_hex()),
        Algorithm::Sha1 => d.sha1.map(|h| h.to_hex()),
    };
    if let [only] = algorithms {
        write!(out, "{mark}{}  ", hex(*only).unwrap_or_default())?;
        out.write_all(&name)?;
        return out.write_all(b"\n");
    }
    for a in algorithms {
        let tag = match a {
            Algorithm::Sha256 => "SHA256",
            Algorithm::Md5 => "MD5",
            Algorithm::Sha1 => "SHA1",
        };
        write!(out, "{mark}{tag} (")?;
        out.write_all(&name)?;
        writeln!(out, ") = {}", hex(*a).unwrap_or_default())?;
    }
    Ok(())
}
