//! Ingest progress: one bar per phase (acquire, explore, derive = transcode
//! and OCR), each counting files and bytes, with an ETA from both. Drawn
//! only when stderr is a terminal and `-q` was not given, so logs and pipes
//! stay clean; the bars carry no colour.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use exhibit_pipeline::{ProgressSink, Stage};
use exhibit_queue::Job;
use indicatif::{HumanBytes, ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

use crate::logging::notice;
use crate::progress_stage::CountedStage;

/// Resolution of a bar's position (parts per million of the work).
const SCALE: u64 = 1_000_000;

/// The ingest phases, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Store and identify every source; counted by the acquire stage.
    Acquire,
    /// Open images and extract what they hold; counted per image.
    Explore,
    /// Transcode, OCR and the searchable PDF of each scan bundle; counted
    /// per job.
    Derive,
}

impl Phase {
    fn label(self) -> &'static str {
        match self {
            Phase::Acquire => "acquire",
            Phase::Explore => "explore",
            Phase::Derive => "derive",
        }
    }
}

/// The progress of one ingest; the pipeline reports to it as a sink.
pub struct Progress {
    draw: bool,
    current: Mutex<Option<Arc<PhaseBar>>>,
}

impl Progress {
    /// Draws when stderr is a terminal, unless `-q`.
    pub fn new() -> Self {
        Self {
            draw: !crate::logging::quiet() && std::io::IsTerminal::is_terminal(&std::io::stderr()),
            current: Mutex::default(),
        }
    }

    /// Starts `phase`'s bar and returns the stages to run, wrapped to count
    /// jobs where the stage itself does not report progress. `sources` is
    /// the (files, bytes) of the plan, for the acquire phase.
    pub fn begin(
        self: &Arc<Self>,
        phase: Phase,
        stages: Vec<Arc<dyn Stage>>,
        jobs: &[Job],
        sources: (u64, u64),
    ) -> Vec<Arc<dyn Stage>> {
        let lanes: Vec<&'static str> = stages.iter().map(|s| s.name()).collect();
        let (files, bytes) = match phase {
            Phase::Acquire => sources,
            _ => jobs
                .iter()
                .filter(|j| lanes.contains(&j.stage.as_str()))
                .fold((0, 0), |(f, b), j| (f + 1, b + job_size(j))),
        };
        // A phase with nothing to do (no images to explore) draws nothing.
        let bar = Arc::new(PhaseBar::new(phase, files, bytes, self.draw && (files > 0 || bytes > 0)));
        *self.current.lock().unwrap_or_else(|p| p.into_inner()) = Some(bar.clone());
        if phase == Phase::Acquire {
            return stages;
        }
        stages
            .into_iter()
            .map(|inner| Arc::new(CountedStage::new(inner, bar.clone(), lanes.clone())) as Arc<dyn Stage>)
            .collect()
    }

    /// Finishes the current phase's bar and leaves a line saying what it did.
    pub fn end(&self) {
        if let Some(bar) = self.current.lock().unwrap_or_else(|p| p.into_inner()).take() {
            bar.finish();
        }
    }

    fn with_bar(&self, f: impl FnOnce(&PhaseBar)) {
        if let Some(bar) = self.current.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            f(bar);
        }
    }
}

/// The bytes a job reads, from its input's `size`.
pub fn job_size(job: &Job) -> u64 {
    job.input.for_stage(&job.stage).ok().and_then(exhibit_queue::StageInput::size).unwrap_or(0)
}

impl ProgressSink for Progress {
    fn bytes_read(&self, bytes: u64) {
        self.with_bar(|b| b.add(0, bytes));
    }

    fn file_done(&self) {
        self.with_bar(|b| b.add(1, 0));
    }

    fn message(&self, line: &str) {
        match self.current.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            Some(bar) => bar.bar.suspend(|| notice(line)),
            None => notice(line),
        }
    }
}

/// One phase's bar: files and bytes done out of totals that may grow (an
/// image found inside an image adds an explore job).
pub struct PhaseBar {
    bar: ProgressBar,
    phase: Phase,
    files: [AtomicU64; 2],
    bytes: [AtomicU64; 2],
}

impl PhaseBar {
    fn new(phase: Phase, files: u64, bytes: u64, draw: bool) -> Self {
        let target = if draw { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() };
        let bar = ProgressBar::with_draw_target(Some(SCALE), target);
        let template = "{prefix:>8} [{elapsed_precise}] {wide_bar} {msg} ETA {eta_by_files_and_bytes}";
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("#>-").with_key("eta_by_files_and_bytes", write_eta));
        }
        bar.set_prefix(phase.label());
        let this = Self {
            bar,
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
        self.bar.set_message(format!("{fd}/{ft} files, {}/{}", HumanBytes(bd), HumanBytes(bt)));
        self.bar.set_position((fraction_done(fd, ft, bd, bt) * SCALE as f64) as u64);
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
        if self.bar.is_hidden() {
            return;
        }
        let files = self.files[0].load(Ordering::Relaxed);
        let bytes = self.bytes[0].load(Ordering::Relaxed);
        let took = indicatif::HumanDuration(self.bar.elapsed());
        let plural = if files == 1 { "" } else { "s" };
        eprintln!("{:>8} done: {files} file{plural}, {} in {took}", self.phase.label(), HumanBytes(bytes));
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
