//! The `show` and `status` use cases: what a case holds, from the read
//! model, after bringing it up to the ledger's head; and, for a process
//! that appends (`exhibit serve`), the check that a case may take more
//! records: its ledger still holds every entry read before, and its whole
//! chain checks out.

use std::sync::Arc;

use exhibit_core::event::CustodyEvent;
use exhibit_core::ids::{CaseId, ExhibitRef};
use exhibit_core::manifest::ArtefactManifest;
use exhibit_custody::TrustedKeys;
use exhibit_store::ObjectStore;
use serde::Serialize;
use tracing::instrument;

use crate::error::{AppError, Result};
use crate::head_memory::HeadMemory;
use crate::readmodel::{ExhibitRow, JobCount, Problem, ReadModel, RefreshReport, refresh_known};

/// What `show` prints: the artefacts of a case (or one exhibit), its
/// exhibits with their item rows, the events it reports on, and problems
/// the projection found.
#[derive(Debug, Clone)]
pub struct CaseView {
    /// Artefacts, by exhibit and source path.
    pub artefacts: Vec<ArtefactManifest>,
    /// Exhibits, with their latest item-manifest row.
    pub exhibits: Vec<ExhibitRow>,
    /// Failures not resolved since (their job completed later),
    /// descriptions, truncation and OCR notes, in ledger order, with the
    /// sequence number of the entry that holds each.
    pub notable: Vec<(u64, CustodyEvent)>,
    /// Every flag in the case, with how many artefacts carry it.
    pub flags: Vec<(String, u64)>,
    /// Damaged entries, manifests that do not match the ledger.
    pub problems: Vec<Problem>,
}

/// What `status` prints: each exhibit's jobs, by action and outcome.
#[derive(Debug, Clone, Serialize)]
pub struct CaseStatus {
    /// The case.
    pub case: CaseId,
    /// The last ledger entry read.
    pub head_seq: u64,
    /// Jobs by exhibit, action and outcome.
    pub jobs: Vec<JobCount>,
    /// Problems the projection found.
    pub problems: Vec<Problem>,
}

/// Reads a case through the read model. Clones share what the reader
/// remembers of each ledger's head ([`HeadMemory`]).
#[derive(Debug, Clone)]
pub struct CaseReader {
    store: Arc<dyn ObjectStore>,
    model: Arc<dyn ReadModel>,
    memory: Arc<HeadMemory>,
}

impl CaseReader {
    /// A reader over `store`'s ledgers, projected into `model`.
    pub fn new(store: Arc<dyn ObjectStore>, model: Arc<dyn ReadModel>) -> Self {
        Self { store, model, memory: Arc::default() }
    }

    /// The read model.
    pub fn model(&self) -> &Arc<dyn ReadModel> {
        &self.model
    }

    /// Brings the case's projection up to its ledger's head, holding the
    /// ledger to the last entry this reader saw of it. A ledger that lost
    /// or rewrote entries is reported in [`RefreshReport::broken`] and
    /// listed among the case's problems.
    pub async fn refresh(&self, case: &CaseId) -> Result<RefreshReport> {
        let known = self.memory.get(case);
        let report = refresh_known(self.store.as_ref(), self.model.as_ref(), case, known.as_ref()).await?;
        if report.broken.is_none()
            && let Some(cursor) = &report.cursor
        {
            self.memory.remember(case, cursor);
        }
        Ok(report)
    }

    /// Refuses ([`AppError::Refused`]) to let anything more be recorded in
    /// `case` unless its ledger still holds every entry read before and its
    /// whole chain checks out (with `trusted`, every signer too). What is
    /// wrong is listed among the case's problems.
    #[instrument(skip(self, trusted), fields(case = %case))]
    pub async fn writable(&self, case: &CaseId, trusted: Option<&TrustedKeys>) -> Result<()> {
        let report = self.refresh(case).await?;
        let problems = match report.broken {
            Some(lost) => vec![lost],
            None => self.check_chain(case, trusted, report.cursor.as_ref()).await?,
        };
        match problems.first() {
            None => Ok(()),
            Some(first) => Err(AppError::Refused(format!(
                "nothing more can be recorded in case {case} until its ledger is investigated: {}",
                first.text
            ))),
        }
    }

    /// [`status`](Self::status) after the whole chain check, so a ledger
    /// entry altered or removed below the projection's head is listed among
    /// the problems, not only found by the next download.
    #[instrument(skip(self, trusted), fields(case = %case))]
    pub async fn checked_status(&self, case: &CaseId, trusted: Option<&TrustedKeys>) -> Result<CaseStatus> {
        let report = self.refresh(case).await?;
        if report.broken.is_none() {
            self.check_chain(case, trusted, report.cursor.as_ref()).await?;
        }
        Ok(CaseStatus {
            case: case.clone(),
            head_seq: report.head,
            jobs: self.model.job_counts(case).await?,
            problems: self.model.problems(case).await?,
        })
    }

    /// The whole chain check of `case`; its problems, also listed in the
    /// read model at `cursor`.
    async fn check_chain(
        &self,
        case: &CaseId,
        trusted: Option<&TrustedKeys>,
        cursor: Option<&crate::readmodel::Cursor>,
    ) -> Result<Vec<Problem>> {
        let problems = crate::chain_problems::chain_problems(self.store.as_ref(), case, trusted).await?;
        crate::readmodel::list_problems(self.model.as_ref(), case, cursor, &problems).await?;
        Ok(problems)
    }

    /// The exhibit as the case records it (`js/1` finds `JS/1`), or `None`
    /// when the case never names it. Call after [`refresh`](Self::refresh).
    pub async fn recorded_exhibit(&self, case: &CaseId, typed: &ExhibitRef) -> Result<Option<ExhibitRef>> {
        Ok(self.model.exhibits(case).await?.into_iter().map(|row| row.exhibit).find(|e| e == typed))
    }

    /// The case (or one exhibit, as recorded) for `show`.
    #[instrument(skip(self), fields(case = %case))]
    pub async fn show(&self, case: &CaseId, exhibit: Option<&ExhibitRef>) -> Result<CaseView> {
        self.refresh(case).await?;
        let mut exhibits = self.model.exhibits(case).await?;
        exhibits.retain(|row| exhibit.is_none_or(|e| row.exhibit == *e));
        Ok(CaseView {
            artefacts: self.model.artefacts(case, exhibit).await?,
            exhibits,
            notable: self.notable(case, exhibit).await?,
            flags: self.model.flags(case).await?,
            problems: self.model.problems(case).await?,
        })
    }

    /// The notable events `show` reports on: a failure whose job completed
    /// later is resolved and left out (`readmodel::resolved`), so its flag
    /// words and `failed:` line go with it.
    async fn notable(&self, case: &CaseId, exhibit: Option<&ExhibitRef>) -> Result<Vec<(u64, CustodyEvent)>> {
        let mut out = Vec::new();
        for n in self.model.notable_events(case, exhibit).await? {
            if !crate::readmodel::resolved(self.model.as_ref(), case, &n.event).await? {
                out.push((n.seq, n.event));
            }
        }
        Ok(out)
    }

    /// The case's jobs for `status`.
    #[instrument(skip(self), fields(case = %case))]
    pub async fn status(&self, case: &CaseId) -> Result<CaseStatus> {
        let report = self.refresh(case).await?;
        Ok(CaseStatus {
            case: case.clone(),
            head_seq: report.head,
            jobs: self.model.job_counts(case).await?,
            problems: self.model.problems(case).await?,
        })
    }
}
