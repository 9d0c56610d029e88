//! One bar of the ingest's progress: files and bytes (or a bundle's pages)
//! done of totals that may grow, with an ETA paced by both.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use indicatif::{HumanBytes, MultiProgress, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

use crate::progress::Phase;

/// Resolution of a bar's position (parts per million of the work).
const SCALE: u64 = 1_000_000;

/// One phase's bar: files and bytes done out of totals that may grow (an
/// image found inside an image adds an explore job). The bundle bar counts
/// pages in `files` and no bytes.
pub struct PhaseBar {
    bar: ProgressBar,
    /// The bars it is drawn with, when it is drawn.
    bars: Option<MultiProgress>,
    phase: Phase,
    files: [AtomicU64; 2],
    bytes: [AtomicU64; 2],
}

impl PhaseBar {
    /// A bar for `phase` with (`files`, `bytes`) to do, drawn among `bars` if given.
    pub fn new(phase: Phase, (files, bytes): (u64, u64), bars: Option<&MultiProgress>) -> Self {
        let bar = match bars {
            Some(bars) => bars.add(ProgressBar::new(SCALE)),
            None => ProgressBar::with_draw_target(Some(SCALE), ProgressDrawTarget::hidden()),
        };
        let template = "{prefix:>8} [{elapsed_precise}] {wide_bar} {msg} ETA {eta_by_files_and_bytes}";
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("#>-").with_key("eta_by_files_and_bytes", write_eta));
        }
        bar.set_prefix(phase.label());
        let this = Self {
            bar,
            bars: bars.cloned(),
            phase,
            files: [AtomicU64::new(0), AtomicU64::new(files)],
            bytes: [AtomicU64::new(0), AtomicU64::new(bytes)],
        };
        this.redraw();
        this
    }

    /// `files` and `bytes` more are done.
    pub fn add(&self, files: u64, bytes: u64) {
        self.files[0].fetch_add(files, Ordering::Relaxed);
        self.bytes[0].fetch_add(bytes, Ordering::Relaxed);
        self.redraw();
    }

    /// `files` and `bytes` more are to do.
    pub fn grow(&self, files: u64, bytes: u64) {
        self.files[1].fetch_add(files, Ordering::Relaxed);
        self.bytes[1].fetch_add(bytes, Ordering::Relaxed);
        self.redraw();
    }

    fn redraw(&self) {
        let [fd, ft] = self.files.each_ref().map(|a| a.load(Ordering::Relaxed));
        let [bd, bt] = self.bytes.each_ref().map(|a| a.load(Ordering::Relaxed));
        self.bar.set_message(match self.phase {
            Phase::Bundle => format!("{fd}/{ft} pages"),
            _ => format!("{fd}/{ft} files, {}/{}", HumanBytes(bd), HumanBytes(bt)),
        });
        self.bar.set_position((fraction_done(fd, ft, bd, bt) * SCALE as f64) as u64);
    }

    /// Clears the bar and leaves a line saying what the phase did.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
        let Some(bars) = &self.bars else { return };
        let files = self.files[0].load(Ordering::Relaxed);
        let bytes = self.bytes[0].load(Ordering::Relaxed);
        let took = indicatif::HumanDuration(self.bar.elapsed());
        let (unit, plural) = match self.phase {
            Phase::Bundle => ("page", if files == 1 { "" } else { "s" }),
            _ => ("file", if files == 1 { "" } else { "s" }),
        };
        let amount = match self.phase {
            Phase::Bundle => String::new(),
            _ => format!(", {}", HumanBytes(bytes)),
        };
        let line = format!("{:>8} done: {files} {unit}{plural}{amount} in {took}", self.phase.label());
        // Other bars may still be drawn: lift them while the line is printed.
        bars.suspend(|| eprintln!("{line}"));
    }
}

/// The share of the work done, counting files and bytes equally: a folder
/// of small files is paced by files, one disc image by bytes.
pub fn fraction_done(files_done: u64, files_total: u64, bytes_done: u64, bytes_total: u64) -> f64 {
    let share = |done: u64, total: u64| (total > 0).then(|| (done as f64 / total as f64).min(1.0));
    match (share(files_done, files_total), share(bytes_done, bytes_total)) {
        (Some(f), Some(b)) => (f + b) / 2.0,
        (Some(x), None) | (None, Some(x)) => x,
        (None, None) => 0.0,
    }
}

/// Time left at the mean rate so far; `None` until there is a basis.
pub fn eta(elapsed: Duration, fraction: f64) -> Option<Duration> {
    if !(0.001..1.0).contains(&fraction) || elapsed < Duration::from_millis(500) {
        return None;
    }
    Some(elapsed.mul_f64((1.0 - fraction) / fraction))
}

fn write_eta(state: &ProgressState, w: &mut dyn std::fmt::Write) {
    let fraction = f64::from(state.fraction());
    let _ = match eta(state.elapsed(), fraction) {
        _ if fraction >= 1.0 => write!(w, "done"),
        Some(left) => write!(w, "{}", indicatif::HumanDuration(left)),
        None => write!(w, "-"),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_small_files_are_paced_by_files_not_bytes() {
        // 499 of 500 files done, but the last one is half the bytes.
        let f = fraction_done(499, 500, 50, 100);
        assert!((f - 0.749).abs() < 1e-9, "{f}");
        // 6 s in, a quarter left: 2 s, not minutes.
        let left = eta(Duration::from_secs(6), 0.75).unwrap();
        assert_eq!(left, Duration::from_secs(2));
    }

    #[test]
    fn one_total_missing_uses_the_other() {
        assert_eq!(fraction_done(3, 4, 0, 0), 0.75);
        assert_eq!(fraction_done(0, 0, 1, 4), 0.25);
        assert_eq!(fraction_done(0, 0, 0, 0), 0.0);
        assert_eq!(fraction_done(9, 4, 9, 4), 1.0, "overcounted retries never pass 100%");
    }

    #[test]
    fn no_eta_without_a_basis() {
        assert_eq!(eta(Duration::from_secs(5), 0.0), None);
        assert_eq!(eta(Duration::from_millis(10), 0.5), None);
        assert_eq!(eta(Duration::from_secs(5), 1.0), None);
    }
}
