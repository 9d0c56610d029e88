//! Ingest progress: one bar per phase (acquire, explore, derive = transcode
//! and OCR), each counting files and bytes, with an ETA from both, and a
//! bar of pages for the scan bundles' PDFs, which are made while the derive
//! phase runs. Drawn only when stderr is a terminal and `-q` was not given,
//! so logs and pipes stay clean; the bars carry no colour.

use std::sync::{Arc, Mutex};

use exhibit_pipeline::{ProgressSink, Stage};
use exhibit_queue::Job;
use indicatif::MultiProgress;

use crate::logging::notice;
use crate::progress_bar::PhaseBar;
use crate::progress_stage::CountedStage;

/// The ingest phases, in order; `Bundle` runs inside `Derive`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Store and identify every source; counted by the acquire stage.
    Acquire,
    /// Open images and extract what they hold; counted per image.
    Explore,
    /// Transcode and OCR, counted per job.
    Derive,
    /// The searchable PDF/A of each scan bundle, counted in pages as the
    /// bundle stage reads them.
    Bundle,
}

impl Phase {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Phase::Acquire => "acquire",
            Phase::Explore => "explore",
            Phase::Derive => "derive",
            Phase::Bundle => "bundle",
        }
    }
}

/// The progress of one ingest; the pipeline reports to it as a sink.
pub struct Progress {
    /// Where the bars draw: stderr when it is a terminal and not `-q`.
    bars: Option<MultiProgress>,
    current: Mutex<Option<Arc<PhaseBar>>>,
    /// The bundle bar, made when the first bundle starts.
    pages: Mutex<Option<Arc<PhaseBar>>>,
}

impl Progress {
    /// Draws when stderr is a terminal, unless `-q`.
    pub fn new() -> Self {
        let draw = !crate::logging::quiet() && std::io::IsTerminal::is_terminal(&std::io::stderr());
        Self { bars: draw.then(MultiProgress::new), current: Mutex::default(), pages: Mutex::default() }
    }

    /// Starts `phase`'s bar and returns the stages to run, wrapped to count
    /// jobs where the stage itself does not report progress. `sources` is
    /// the (files, bytes) of the plan, for the acquire phase. The bundle
    /// stage is not counted as files: its bar counts pages.
    pub fn begin(
        self: &Arc<Self>,
        phase: Phase,
        stages: Vec<Arc<dyn Stage>>,
        jobs: &[Job],
        sources: (u64, u64),
    ) -> Vec<Arc<dyn Stage>> {
        let lanes: Vec<&'static str> =
            stages.iter().map(|s| s.name()).filter(|name| *name != exhibit_ocr::BUNDLE_LANE).collect();
        let (files, bytes) = match phase {
            Phase::Acquire => sources,
            _ => jobs
                .iter()
                .filter(|j| lanes.contains(&j.stage.as_str()))
                .fold((0, 0), |(f, b), j| (f + 1, b + job_size(j))),
        };
        // A phase with nothing to do (no images to explore) draws nothing.
        let bars = self.bars.as_ref().filter(|_| files > 0 || bytes > 0);
        let bar = Arc::new(PhaseBar::new(phase, (files, bytes), bars));
        *lock(&self.current) = Some(bar.clone());
        if phase == Phase::Acquire {
            return stages;
        }
        stages
            .into_iter()
            .map(|inner| match lanes.contains(&inner.name()) {
                true => Arc::new(CountedStage::new(inner, bar.clone(), lanes.clone())) as Arc<dyn Stage>,
                false => inner,
            })
            .collect()
    }

    /// Finishes the current phase's bar (and the bundle bar, which runs
    /// within the derive phase) and leaves a line saying what each did.
    pub fn end(&self) {
        for slot in [&self.current, &self.pages] {
            if let Some(bar) = lock(slot).take() {
                bar.finish();
            }
        }
    }

    fn with_bar(&self, f: impl FnOnce(&PhaseBar)) {
        if let Some(bar) = lock(&self.current).as_ref() {
            f(bar);
        }
    }

    /// Runs `f` with the bars lifted off the screen, so a line printed
    /// meanwhile is not drawn over.
    fn suspended(&self, f: impl FnOnce()) {
        match &self.bars {
            Some(bars) => bars.suspend(f),
            None => f(),
        }
    }
}

fn lock<T>(slot: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    slot.lock().unwrap_or_else(|p| p.into_inner())
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
        self.suspended(|| notice(line));
    }

    /// The summary says it again, with what to do: here it is a log line,
    /// seen with `-v`, so a person reads each problem once.
    fn problem(&self, line: &str) {
        self.suspended(|| tracing::warn!("{}", crate::terminal::escape_message(line)));
    }

    fn pages_to_do(&self, pages: u64) {
        let mut slot = lock(&self.pages);
        match slot.as_ref() {
            Some(bar) => bar.grow(pages, 0),
            None => *slot = Some(Arc::new(PhaseBar::new(Phase::Bundle, (pages, 0), self.bars.as_ref()))),
        }
    }

    fn pages_done(&self, pages: u64) {
        if let Some(bar) = lock(&self.pages).as_ref() {
            bar.add(pages, 0);
        }
    }
}
