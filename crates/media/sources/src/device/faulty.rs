//! A device in memory whose chosen sectors fail with EIO, always or only for
//! the first few tries: for testing acquisition end to end.

use std::collections::HashMap;
use std::io;

use super::{BlockDevice, DeviceIdentity};

/// A failing range: sectors `[first, first + count)`.
#[derive(Debug, Clone, Copy)]
struct Fault {
    first: u64,
    count: u64,
    /// `None`: always fails; `Some(k)`: fails the first `k` reads touching it.
    fail_first: Option<u32>,
}

/// In-memory bytes with injected read errors.
#[derive(Debug, Clone)]
pub struct FaultyDevice {
    data: Vec<u8>,
    sector_size: u32,
    faults: Vec<Fault>,
    tries: HashMap<u64, u32>,
}

impl FaultyDevice {
    /// A device holding `data` with `sector_size`-byte sectors and no faults.
    pub fn new(data: Vec<u8>, sector_size: u32) -> Self {
        Self { data, sector_size: sector_size.max(1), faults: Vec::new(), tries: HashMap::new() }
    }

    /// Makes the sectors covering `[offset, offset + len)` always fail.
    pub fn fail(mut self, offset: u64, len: u64) -> Self {
        self.faults.push(self.fault(offset, len, None));
        self
    }

    /// Makes those sectors fail only for the first `k` reads touching them.
    pub fn fail_first(mut self, offset: u64, len: u64, k: u32) -> Self {
        self.faults.push(self.fault(offset, len, Some(k)));
        self
    }

    fn fault(&self, offset: u64, len: u64, fail_first: Option<u32>) -> Fault {
        let ss = u64::from(self.sector_size);
        let first = offset / ss;
        Fault { first, count: (offset + len).div_ceil(ss) - first, fail_first }
    }

    /// Whether a read of sectors `[first, last]` fails now (counting the try).
    fn fails(&mut self, first: u64, last: u64) -> bool {
        let mut failed = false;
        for f in self.faults.iter().filter(|f| f.count > 0) {
            let (lo, hi) = (first.max(f.first), last.min(f.first + f.count - 1));
            for s in lo..=hi {
                let tries = self.tries.entry(s).or_insert(0);
                *tries += 1;
                failed |= f.fail_first.is_none_or(|k| *tries <= k);
            }
        }
        failed
    }
}

impl BlockDevice for FaultyDevice {
    fn size(&self) -> u64 {
        self.data.len() as u64
    }

    fn sector_size(&self) -> u32 {
        self.sector_size
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let start = usize::try_from(offset).unwrap_or(usize::MAX).min(self.data.len());
        let n = buf.len().min(self.data.len() - start);
        if n == 0 {
            return Ok(0);
        }
        let ss = u64::from(self.sector_size);
        if self.fails(offset / ss, (offset + n as u64 - 1) / ss) {
            return Err(io::Error::from_raw_os_error(5));
        }
        buf[..n].copy_from_slice(&self.data[start..start + n]);
        Ok(n)
    }

    fn identity(&self) -> DeviceIdentity {
        DeviceIdentity { model: Some("FaultyDevice".into()), ..DeviceIdentity::default() }
    }
}
