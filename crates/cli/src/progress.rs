//! The ingest progress bar: files, bytes, rate and ETA. Hidden when stderr
//! is not a terminal, so logs and pipes stay clean.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};

use exhibit_pipeline::ProgressSink;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Draws progress with indicatif.
pub struct Bar {
    bar: ProgressBar,
    files_total: u64,
    files_done: AtomicU64,
}

impl Bar {
    /// A bar over `total_bytes` in `files` files.
    pub fn new(files: u64, total_bytes: u64) -> Self {
        let bar = ProgressBar::with_draw_target(Some(total_bytes), draw_target());
        let template =
            "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta} {msg}";
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style);
        }
        let this = Self { bar, files_total: files, files_done: AtomicU64::new(0) };
        this.update_message(0);
        this
    }

    fn update_message(&self, done: u64) {
        self.bar.set_message(format!("files {done}/{}", self.files_total));
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

fn draw_target() -> ProgressDrawTarget {
    if std::io::stderr().is_terminal() { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() }
}

impl ProgressSink for Bar {
    fn bytes_read(&self, bytes: u64) {
        self.bar.inc(bytes);
    }

    fn file_done(&self) {
        let done = self.files_done.fetch_add(1, Ordering::Relaxed) + 1;
        self.update_message(done);
    }

    fn message(&self, line: &str) {
        self.bar.suspend(|| eprintln!("exhibit: {line}"));
    }
}
