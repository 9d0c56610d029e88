//! A stage wrapped to move its phase's bar: one file and the input's bytes
//! per finished job, and more to do for each follow-up job in the same
//! phase (an image inside an image). Explore, transcode and OCR report no
//! progress themselves.

use std::sync::Arc;

use async_trait::async_trait;
use exhibit_pipeline::{Stage, StageContext, StageError};
use exhibit_queue::Job;

use crate::progress::job_size;
use crate::progress_bar::PhaseBar;

pub struct CountedStage {
    inner: Arc<dyn Stage>,
    bar: Arc<PhaseBar>,
    lanes: Vec<&'static str>,
}

impl CountedStage {
    pub fn new(inner: Arc<dyn Stage>, bar: Arc<PhaseBar>, lanes: Vec<&'static str>) -> Self {
        Self { inner, bar, lanes }
    }
}

#[async_trait]
impl Stage for CountedStage {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn fault_settings(&self) -> Option<String> {
        self.inner.fault_settings()
    }

    async fn run(&self, ctx: &StageContext, job: &Job) -> Result<Vec<Job>, StageError> {
        let result = self.inner.run(ctx, job).await;
        if let Ok(next) = &result {
            for follow in next.iter().filter(|j| self.lanes.contains(&j.stage.as_str())) {
                self.bar.grow(1, job_size(follow));
            }
        }
        self.bar.add(1, job_size(job));
        result
    }
}
