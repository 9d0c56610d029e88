//! `exhibit hash`: digests of files, in one read pass with every algorithm
//! on its own thread. One algorithm prints `HEX  PATH` (what `sha256sum -c`
//! reads); several print tagged lines `SHA256 (PATH) = HEX`, which
//! `sha256sum -c`, `md5sum -c` and `sha1sum -c` each read, skipping the
//! other algorithms' lines.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use bytes::Bytes;
use exhibit_core::digest::{Digests, HashSelection};
use exhibit_core::hashing::ParallelHasher;
use walkdir::WalkDir;

use crate::EXIT_USAGE;
use crate::config::Config;

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
    /// Algorithms to compute (default: sha256 plus those enabled in [hashing]).
    #[arg(long, value_delimiter = ',')]
    algorithms: Vec<Algorithm>,
    /// Files or folders (walked; symlinks not followed).
    #[arg(required = true, value_name = "PATH")]
    paths: Vec<PathBuf>,
}

pub async fn run(args: HashArgs, config: Config) -> anyhow::Result<ExitCode> {
    let algorithms = if args.algorithms.is_empty() {
        let mut all = vec![Algorithm::Sha256];
        all.extend(config.hashing.md5.then_some(Algorithm::Md5));
        all.extend(config.hashing.sha1.then_some(Algorithm::Sha1));
        all
    } else {
        args.algorithms
    };
    let paths = args.paths;
    tokio::task::spawn_blocking(move || hash_all(&paths, &algorithms)).await?
}

fn hash_all(paths: &[PathBuf], algorithms: &[Algorithm]) -> anyhow::Result<ExitCode> {
    let selection =
        HashSelection { md5: algorithms.contains(&Algorithm::Md5), sha1: algorithms.contains(&Algorithm::Sha1) };
    let mut out = std::io::stdout().lock();
    let mut failed = false;
    for root in paths {
        for entry in WalkDir::new(root).follow_links(false).sort_by_file_name() {
            let entry = match entry {
                Ok(entry) if entry.file_type().is_file() => entry,
                Ok(_) => continue,
                Err(e) => {
                    let path = e.path().unwrap_or(root).display();
                    match e.io_error().map(std::io::Error::kind) {
                        Some(std::io::ErrorKind::NotFound) => {
                            eprintln!("exhibit: {path}: does not exist; check the path")
                        }
                        _ => eprintln!("exhibit: {path}: {e}; check the path"),
                    }
                    failed = true;
                    continue;
                }
            };
            match hash_file(entry.path(), selection) {
                Ok(digests) => write_lines(&mut out, entry.path(), &digests, algorithms)?,
                Err(e) => {
                    eprintln!("exhibit: {e:#}");
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
    Ok(hasher.finish())
}

/// GNU checksum files escape a name holding `\` or a newline and mark the
/// line with a leading `\`.
fn escaped(path: &Path) -> (bool, String) {
    let name = path.to_string_lossy();
    let needs = name.contains('\\') || name.contains('\n');
    (needs, if needs { name.replace('\\', "\\\\").replace('\n', "\\n") } else { name.into_owned() })
}

fn write_lines(out: &mut impl Write, path: &Path, d: &Digests, algorithms: &[Algorithm]) -> std::io::Result<()> {
    let (mark, name) = escaped(path);
    let mark = if mark { "\\" } else { "" };
    let hex = |a: Algorithm| match a {
        Algorithm::Sha256 => Some(d.sha256.to_hex()),
        Algorithm::Md5 => d.md5.map(|h| h.to_hex()),
        Algorithm::Sha1 => d.sha1.map(|h| h.to_hex()),
    };
    if let [only] = algorithms {
        return writeln!(out, "{mark}{}  {name}", hex(*only).unwrap_or_default());
    }
    for a in algorithms {
        let tag = match a {
            Algorithm::Sha256 => "SHA256",
            Algorithm::Md5 => "MD5",
            Algorithm::Sha1 => "SHA1",
        };
        writeln!(out, "{mark}{tag} ({name}) = {}", hex(*a).unwrap_or_default())?;
    }
    Ok(())
}
