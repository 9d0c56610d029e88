//! Prints the PUIDs the bundled signatures give each file named, as
//! `path<TAB>puid,puid...`, and on stderr the time spent matching (file
//! reads excluded): `benches/pronom.sh` uses it to measure what PRONOM
//! identification adds to an ingest. `-` reads the file names from stdin.

use std::io::{BufRead, Read, Seek, SeekFrom, Write};
use std::time::{Duration, Instant};

use exhibit_pronom::SAMPLE_BYTES;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let registry = exhibit_pronom::bundled()?;
    let load = started.elapsed();
    let mut names: Vec<String> = std::env::args().skip(1).collect();
    if names == ["-"] {
        names = std::io::stdin().lock().lines().collect::<Result<_, _>>()?;
    }
    let mut matching = Duration::ZERO;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for path in &names {
        let (head, tail) = sample(path)?;
        let t = Instant::now();
        let found = registry.identify(&head, &tail);
        matching += t.elapsed();
        let puids: Vec<&str> = found.iter().map(|f| f.puid.as_str()).collect();
        writeln!(out, "{path}\t{}", puids.join(","))?;
    }
    out.flush()?;
    let per_file = matching.as_secs_f64() * 1e6 / names.len().max(1) as f64;
    eprintln!(
        "pronom: {} files, load {:.1} ms, matching {:.1} ms ({per_file:.1} us/file)",
        names.len(),
        load.as_secs_f64() * 1e3,
        matching.as_secs_f64() * 1e3
    );
    Ok(())
}

/// The first and last `SAMPLE_BYTES` of a file, as the identify stage reads them.
fn sample(path: &str) -> std::io::Result<(Vec<u8>, Vec<u8>)> {
    let mut file = std::fs::File::open(path)?;
    let size = file.metadata()?.len();
    let mut head = Vec::new();
    (&mut file).take(SAMPLE_BYTES as u64).read_to_end(&mut head)?;
    if size <= head.len() as u64 {
        return Ok((head.clone(), head));
    }
    file.seek(SeekFrom::Start(size.saturating_sub(SAMPLE_BYTES as u64)))?;
    let mut tail = Vec::new();
    file.read_to_end(&mut tail)?;
    Ok((head, tail))
}
