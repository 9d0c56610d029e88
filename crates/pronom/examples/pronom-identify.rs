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
    let mut cpu = Duration::ZERO;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for path in &names {
        let (head, tail) = sample(path)?;
        let (t, c) = (Instant::now(), thread_cpu());
        let found = registry.identify(&head, &tail);
        matching += t.elapsed();
        cpu += thread_cpu().saturating_sub(c);
        let puids: Vec<&str> = found.iter().map(|f| f.puid.as_str()).collect();
        writeln!(out, "{path}\t{}", puids.join(","))?;
    }
    out.flush()?;
    let per_file = matching.as_secs_f64() * 1e6 / names.len().max(1) as f64;
    eprintln!(
        "pronom: {} files, load {:.1} ms, matching {:.1} ms ({per_file:.1} us/file), cpu {:.1} ms",
        names.len(),
        load.as_secs_f64() * 1e3,
        matching.as_secs_f64() * 1e3,
        cpu.as_secs_f64() * 1e3
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

/// CPU time of this thread: on a busy machine the wall time of a step
/// includes waiting for a core.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec for the call.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    if rc != 0 {
        return Duration::ZERO;
    }
    Duration::new(u64::try_from(ts.tv_sec).unwrap_or(0), u32::try_from(ts.tv_nsec).unwrap_or(0))
}
