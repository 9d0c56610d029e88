//! What the pages show: plain data the server fills from its read model.
//! Text in these types is shown as text (escaped), never as markup.

use exhibit_core::{CaseId, ExhibitRef};
use serde::{Deserialize, Serialize};

/// How many jobs are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobCounts {
    /// Waiting in the queue.
    pub queued: u64,
    /// Being worked on.
    pub running: u64,
    /// Finished.
    pub done: u64,
    /// Failed (each failure is listed as needing attention).
    pub failed: u64,
}

/// One word for a set of counts, shown as a coloured tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Nothing recorded yet.
    NotStarted,
    /// Queued, nothing running.
    Queued,
    /// Something is running.
    Running,
    /// All done.
    Done,
    /// Something failed.
    Failed,
}

impl JobCounts {
    /// The word for these counts: failed beats running beats queued.
    pub fn progress(&self) -> Progress {
        if self.failed > 0 {
            Progress::Failed
        } else if self.running > 0 {
            Progress::Running
        } else if self.queued > 0 {
            Progress::Queued
        } else if self.done > 0 {
            Progress::Done
        } else {
            Progress::NotStarted
        }
    }

    /// The four numbers in table order: queued, running, done, failed.
    pub fn cells(&self) -> [u64; 4] {
        [self.queued, self.running, self.done, self.failed]
    }

    /// The sum of two sets of counts.
    pub fn plus(self, other: Self) -> Self {
        Self {
            queued: self.queued + other.queued,
            running: self.running + other.running,
            done: self.done + other.done,
            failed: self.failed + other.failed,
        }
    }
}

impl Progress {
    /// The tag's text.
    pub fn label(self) -> &'static str {
        match self {
            Self::NotStarted => "Not started",
            Self::Queued => "Queued",
            Self::Running => "Running",
            Self::Done => "Done",
            Self::Failed => "Failed",
        }
    }

    /// The GOV.UK tag colour class.
    pub fn tag_class(self) -> &'static str {
        match self {
            Self::NotStarted => "govuk-tag--grey",
            Self::Queued => "govuk-tag--yellow",
            Self::Running => "govuk-tag--blue",
            Self::Done => "govuk-tag--green",
            Self::Failed => "govuk-tag--red",
        }
    }
}

/// A case in the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseSummary {
    /// The case.
    pub case: CaseId,
    /// A short description, if the case has one.
    pub description: Option<String>,
    /// The organisation that owns it.
    pub owner: String,
    /// Jobs of all its exhibits.
    pub jobs: JobCounts,
}

impl CaseSummary {
    /// The case's ID as one path segment of its page's URL
    /// (`2024/00123/POL` is `2024%2F00123%2FPOL`).
    pub fn path_segment(&self) -> String {
        self.case.key_component()
    }
}

/// One stage (acquire, identify, explore, transcode, OCR...) of an exhibit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageProgress {
    /// The stage's name.
    pub stage: String,
    /// Its jobs.
    pub jobs: JobCounts,
}

/// An exhibit with its stages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExhibitProgress {
    /// The exhibit.
    pub exhibit: ExhibitRef,
    /// Its item-manifest description, if any.
    pub description: Option<String>,
    /// Its stages, in pipeline order.
    pub stages: Vec<StageProgress>,
}

/// Something that failed and needs a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// The exhibit, if the failure belongs to one.
    pub exhibit: Option<ExhibitRef>,
    /// The item that failed: a file name or path inside the exhibit.
    pub item: String,
    /// The stage it failed in.
    pub stage: String,
    /// What went wrong.
    pub problem: String,
    /// What to do about it.
    pub what_to_do: String,
}

/// A page or file a reviewer should look at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewItem {
    /// The exhibit.
    pub exhibit: ExhibitRef,
    /// The artefact's ID.
    pub artefact: String,
    /// Its name or path inside the exhibit.
    pub item: String,
    /// Why it needs review (a flag such as `needs-review`, with detail).
    pub reason: String,
}

/// Everything the case page shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseDetail {
    /// The case, its description, owner and job counts.
    pub summary: CaseSummary,
    /// Whether the principal sees it through a read-only share.
    pub shared_read_only: bool,
    /// Its exhibits.
    pub exhibits: Vec<ExhibitProgress>,
    /// Failures that need attention.
    pub failures: Vec<Failure>,
    /// Pages and files for review.
    pub review: Vec<ReviewItem>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_beats_running_beats_queued() {
        let counts = |queued, running, done, failed| JobCounts { queued, running, done, failed };
        assert_eq!(counts(0, 0, 0, 0).progress(), Progress::NotStarted);
        assert_eq!(counts(0, 0, 3, 0).progress(), Progress::Done);
        assert_eq!(counts(1, 0, 3, 0).progress(), Progress::Queued);
        assert_eq!(counts(1, 1, 3, 0).progress(), Progress::Running);
        assert_eq!(counts(1, 1, 3, 1).progress(), Progress::Failed);
        assert_eq!(counts(1, 2, 3, 4).plus(counts(1, 1, 1, 1)), counts(2, 3, 4, 5));
    }
}
