//! Imaging a device: large reads while they succeed; on an error the chunk
//! is split in halves down to single sectors, each bad sector is retried,
//! and what stays unreadable is zero-filled and recorded.

use std::io::{self, Write};

use exhibit_media_core::MediaError;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{BlockDevice, DeviceIdentity};

/// How hard to try before giving a sector up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetryPolicy {
    /// Extra reads of a single failing sector.
    pub retries: u32,
    /// Bytes per normal read (rounded down to whole sectors).
    pub chunk_bytes: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { retries: 3, chunk_bytes: 1 << 20 }
    }
}

/// What an acquisition read, and what it could not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcquisitionRecord {
    /// Bytes written (the device size).
    pub size: u64,
    /// Logical sector size used.
    pub sector_size: u32,
    /// The device's identity.
    pub identity: DeviceIdentity,
    /// When reading began (UTC).
    #[serde(with = "time::serde::rfc3339")]
    pub started: OffsetDateTime,
    /// When reading ended (UTC).
    #[serde(with = "time::serde::rfc3339")]
    pub finished: OffsetDateTime,
    /// Unreadable `(offset, len)` ranges, zero-filled in the output, merged.
    pub bad_ranges: Vec<(u64, u64)>,
    /// Failed read calls.
    pub read_errors: u64,
    /// Single-sector re-reads attempted.
    pub retries: u64,
}

/// Counts kept while reading.
#[derive(Default)]
struct Tally {
    bad: Vec<(u64, u64)>,
    read_errors: u64,
    retries: u64,
}

impl Tally {
    fn mark_bad(&mut self, offset: u64, len: u64) {
        match self.bad.last_mut() {
            Some((start, l)) if *start + *l == offset => *l += len,
            _ => self.bad.push((offset, len)),
        }
    }
}

/// Copies the whole device to `out`, calling `progress` with the bytes done.
pub fn acquire(
    device: &mut dyn BlockDevice,
    out: &mut dyn Write,
    policy: RetryPolicy,
    progress: &mut dyn FnMut(u64),
) -> Result<AcquisitionRecord, MediaError> {
    let identity = device.identity();
    let _span = tracing::info_span!("acquire", device = ?identity.name).entered();
    let started = OffsetDateTime::now_utc();
    let (size, sector) = (device.size(), u64::from(device.sector_size().max(1)));
    let chunk = (u64::from(policy.chunk_bytes) / sector).max(1) * sector;
    let mut buf = vec![0u8; usize::try_from(chunk).map_err(|_| MediaError::limit("read size too large"))?];
    let mut tally = Tally::default();
    let mut pos = 0u64;
    while pos < size {
        let len = usize::try_from(chunk.min(size - pos)).unwrap_or(buf.len()).min(buf.len());
        let region = &mut buf[..len];
        read_region(device, pos, region, sector, policy.retries, &mut tally);
        out.write_all(region).map_err(|e| MediaError::io(format!("writing the image at byte {pos}"), e))?;
        pos += len as u64;
        progress(pos);
    }
    out.flush().map_err(|e| MediaError::io("flushing the image", e))?;
    tracing::info!(size, bad = tally.bad.len(), errors = tally.read_errors, "acquisition finished");
    Ok(AcquisitionRecord {
        size,
        sector_size: device.sector_size(),
        identity,
        started,
        finished: OffsetDateTime::now_utc(),
        bad_ranges: tally.bad,
        read_errors: tally.read_errors,
        retries: tally.retries,
    })
}

/// Fills `buf` from `pos`, bisecting around errors; bad sectors become zeros.
fn read_region(dev: &mut dyn BlockDevice, pos: u64, buf: &mut [u8], sector: u64, retries: u32, tally: &mut Tally) {
    let mut todo = vec![(0usize, buf.len())];
    let sector = usize::try_from(sector).unwrap_or(usize::MAX);
    while let Some((off, len)) = todo.pop() {
        let part = &mut buf[off..off + len];
        if read_full(dev, pos + off as u64, part).is_ok() {
            continue;
        }
        tally.read_errors += 1;
        if len > sector {
            let half = (len / sector / 2).max(1) * sector;
            todo.push((off + half, len - half));
            todo.push((off, half));
            continue;
        }
        if !retry(dev, pos + off as u64, part, retries, tally) {
            part.fill(0);
            tally.mark_bad(pos + off as u64, len as u64);
        }
    }
}

fn retry(dev: &mut dyn BlockDevice, at: u64, part: &mut [u8], retries: u32, tally: &mut Tally) -> bool {
    for _ in 0..retries {
        tally.retries += 1;
        if read_full(dev, at, part).is_ok() {
            return true;
        }
        tally.read_errors += 1;
    }
    false
}

/// Reads exactly `buf.len()` bytes; a short device counts as an error.
fn read_full(dev: &mut dyn BlockDevice, mut at: u64, mut buf: &mut [u8]) -> io::Result<()> {
    let mut interrupts = 0;
    while !buf.is_empty() {
        match dev.read_at(at, buf) {
            Ok(0) => return Err(io::Error::new(io::ErrorKind::UnexpectedEof, format!("device ends at byte {at}"))),
            Ok(n) => {
                let n = n.min(buf.len());
                at += n as u64;
                buf = &mut buf[n..];
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted && interrupts < 100 => interrupts += 1,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

impl AcquisitionRecord {
    /// The result as a GNU ddrescue mapfile: `+` finished, `-` bad sector,
    /// covering the whole device.
    pub fn ddrescue_mapfile(&self) -> String {
        let fmt = |t: OffsetDateTime| {
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                t.year(),
                u8::from(t.month()),
                t.day(),
                t.hour(),
                t.minute(),
                t.second()
            )
        };
        let mut out = String::from("# Mapfile. Created by exhibit-media-sources\n");
        out += &format!("# Start time:   {}\n# Current time: {}\n# Finished\n", fmt(self.started), fmt(self.finished));
        out += "# current_pos  current_status  current_pass\n";
        out += &format!("0x{:08X}     +               1\n", self.bad_ranges.last().map_or(0, |r| r.0));
        out += "#      pos        size  status\n";
        let mut pos = 0u64;
        for &(start, len) in &self.bad_ranges {
            if start > pos {
                out += &format!("0x{pos:08X}  0x{:08X}  +\n", start - pos);
            }
            out += &format!("0x{start:08X}  0x{len:08X}  -\n");
            pos = start + len;
        }
        if pos < self.size {
            out += &format!("0x{pos:08X}  0x{:08X}  +\n", self.size - pos);
        }
        out
    }
}
