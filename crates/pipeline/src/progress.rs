//! Progress reporting, so the CLI can draw bars without the pipeline knowing
//! about terminals.

/// Receives progress from stages. Implementations must be cheap.
pub trait ProgressSink: Send + Sync {
    /// `bytes` more were read from sources.
    fn bytes_read(&self, bytes: u64);
    /// One source file is finished (stored, skipped or failed).
    fn file_done(&self);
    /// A line for the operator, such as a failure.
    fn message(&self, line: &str);
}

/// Drops all progress.
#[derive(Debug, Default)]
pub struct NoProgress;

impl ProgressSink for NoProgress {
    fn bytes_read(&self, _bytes: u64) {}
    fn file_done(&self) {}
    fn message(&self, _line: &str) {}
}
