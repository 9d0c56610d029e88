//! Progress reporting, so the CLI can draw bars without the pipeline knowing
//! about terminals.

/// Receives progress from stages. Implementations must be cheap.
pub trait ProgressSink: Send + Sync {
    /// `bytes` more were read from sources.
    fn bytes_read(&self, bytes: u64);
    /// One source file is finished (stored, skipped or failed).
    fn file_done(&self);
    /// A line for the operator that nothing else reports, such as "still
    /// waiting for workers".
    fn message(&self, line: &str);
    /// A problem with one input (a failure, content no decoder accepts)
    /// that the run's summary reports again, with what to do: a sink that
    /// shows the summary may keep it for verbose output, so a person reads
    /// each problem once.
    fn problem(&self, line: &str) {
        self.message(line);
    }
    /// `pages` more pages are to be read into a scan bundle's PDF.
    fn pages_to_do(&self, _pages: u64) {}
    /// `pages` more pages of a scan bundle are read.
    fn pages_done(&self, _pages: u64) {}
}

/// Drops all progress.
#[derive(Debug, Default)]
pub struct NoProgress;

impl ProgressSink for NoProgress {
    fn bytes_read(&self, _bytes: u64) {}
    fn file_done(&self) {}
    fn message(&self, _line: &str) {}
}
