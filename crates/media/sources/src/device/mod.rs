//! Block devices to acquire from: a trait, the Linux implementation
//! (read-only file handle plus sysfs identity), and a fault-injecting fake.

mod acquire;
mod faulty;

use std::fs::File;
use std::io::{self, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use acquire::{AcquisitionRecord, RetryPolicy, acquire};
pub use faulty::FaultyDevice;

/// Who made a device, as the kernel reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceIdentity {
    /// The path it was opened by.
    pub path: Option<String>,
    /// Kernel name (`sda`, `nvme0n1p1`).
    pub name: Option<String>,
    /// Model string.
    pub model: Option<String>,
    /// Serial number.
    pub serial: Option<String>,
    /// Vendor string.
    pub vendor: Option<String>,
}

/// A device read by position; never written.
pub trait BlockDevice: Send {
    /// Size in bytes.
    fn size(&self) -> u64;
    /// Logical sector size in bytes.
    fn sector_size(&self) -> u32;
    /// Reads up to `buf.len()` bytes at `offset`.
    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<usize>;
    /// Model, serial and vendor where known.
    fn identity(&self) -> DeviceIdentity;
}

/// A Linux block device (or an image file) opened read-only.
#[derive(Debug)]
pub struct LinuxBlockDevice {
    file: File,
    size: u64,
    sector_size: u32,
    identity: DeviceIdentity,
}

impl LinuxBlockDevice {
    /// Opens `path` with `O_RDONLY`; size by seeking to the end, sector size
    /// and identity from `/sys/class/block/<name>` (the parent disk for a
    /// partition). A regular file works too, with 512-byte sectors.
    pub fn open(path: &Path) -> io::Result<Self> {
        let _span = tracing::info_span!("open_block_device", path = %path.display()).entered();
        let mut file = File::open(path)?;
        let size = file.seek(SeekFrom::End(0))?;
        let real = std::fs::canonicalize(path)?;
        let name = real.file_name().map(|n| n.to_string_lossy().into_owned());
        let disk = name.as_deref().and_then(sysfs_disk);
        let read = |rel: &str| disk.as_ref().and_then(|d| sysfs_text(&d.join(rel)));
        let sector_size = read("queue/logical_block_size").and_then(|s| s.parse().ok()).unwrap_or(512);
        let serial = read("device/serial").or_else(|| read("serial"));
        let identity = DeviceIdentity {
            path: Some(path.display().to_string()),
            name,
            model: read("device/model"),
            serial,
            vendor: read("device/vendor"),
        };
        tracing::info!(size, sector_size, ?identity, "block device opened");
        Ok(Self { file, size, sector_size, identity })
    }
}

/// The sysfs folder of the whole disk that `name` is or belongs to.
fn sysfs_disk(name: &str) -> Option<PathBuf> {
    let dir = std::fs::canonicalize(Path::new("/sys/class/block").join(name)).ok()?;
    if dir.join("partition").exists() { dir.parent().map(Path::to_path_buf) } else { Some(dir) }
}

fn sysfs_text(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

impl BlockDevice for LinuxBlockDevice {
    fn size(&self) -> u64 {
        self.size
    }

    fn sector_size(&self) -> u32 {
        self.sector_size
    }

    fn read_at(&mut self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let left = usize::try_from(self.size.saturating_sub(offset)).unwrap_or(usize::MAX);
        let len = buf.len().min(left);
        self.file.read_at(&mut buf[..len], offset)
    }

    fn identity(&self) -> DeviceIdentity {
        self.identity.clone()
    }
}
