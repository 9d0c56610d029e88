//! Opening a path that must be a regular file, without blocking on what is
//! not one. The one piece of I/O in this crate, shared so that every reader
//! of an operator-named file (signing key, TSA CA file, ...) refuses a FIFO
//! the same way.

use std::fs::{self, File, FileType};
use std::io;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;

use rustix::fs::{Mode, OFlags};

/// Why a path could not be opened as a regular file.
#[derive(Debug, thiserror::Error)]
pub enum OpenRegularError {
    /// Reading its metadata or opening it failed.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// It is something else; `what` says what, for messages.
    #[error("it is {what}, not a regular file")]
    NotRegular {
        /// "a named pipe (FIFO)", "a folder", ...
        what: &'static str,
    },
}

/// Opens `path` for reading only if it is a regular file. Its type is
/// checked before opening, because opening a FIFO blocks until a writer
/// comes and opening a device can act on the device. The open is
/// non-blocking and the type is checked again on the opened file, so a swap
/// between the two checks is caught too.
pub fn open_regular(path: &Path) -> Result<File, OpenRegularError> {
    refuse_special(fs::metadata(path)?.file_type())?;
    let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY;
    let fd = rustix::fs::open(path, flags, Mode::empty()).map_err(io::Error::from)?;
    let file = File::from(fd);
    refuse_special(file.metadata()?.file_type())?;
    Ok(file)
}

fn refuse_special(kind: FileType) -> Result<(), OpenRegularError> {
    let what = if kind.is_file() {
        return Ok(());
    } else if kind.is_dir() {
        "a folder"
    } else if kind.is_fifo() {
        "a named pipe (FIFO)"
    } else if kind.is_block_device() || kind.is_char_device() {
        "a device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    };
    Err(OpenRegularError::NotRegular { what })
}
