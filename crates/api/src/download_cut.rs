//! A recorded download that does not finish: the `accessed` event is
//! written before the first byte leaves (so no byte leaves unrecorded),
//! and when the body is dropped before its last byte (the client went
//! away, the write-stall limit closed the connection, the stored bytes
//! failed their check) a second `accessed` event says how far it got, so
//! the ledger never claims a whole download that was cut.

use std::sync::Arc;

use exhibit_app::artefact::OpenArtefact;

use crate::after_response::AfterResponse;
use tracing::{info, warn};

/// Counts the bytes a recorded download hands to the connection; on drop
/// short of `expected`, records the cut.
pub(crate) struct CutWatch {
    artefact: Arc<OpenArtefact>,
    after: Arc<AfterResponse>,
    expected: u64,
    passed: u64,
    failed: bool,
    what: String,
}

impl CutWatch {
    /// Watches a download of `expected` bytes, described as `what` ("the
    /// whole artefact", "bytes 0-99").
    pub(crate) fn new((artefact, after): (Arc<OpenArtefact>, Arc<AfterResponse>), expected: u64, what: String) -> Self {
        Self { artefact, after, expected, passed: 0, failed: false, what }
    }

    /// `n` more bytes went to the connection.
    pub(crate) fn passed(&mut self, n: usize) {
        self.passed = self.passed.saturating_add(n as u64);
    }

    /// The stream ended in an error (the stored bytes failed their check at
    /// the end): the response was cut even if every byte went out.
    pub(crate) fn failed(&mut self) {
        self.failed = true;
    }
}

impl Drop for CutWatch {
    fn drop(&mut self) {
        if self.passed >= self.expected && !self.failed {
            return;
        }
        let text = format!(
            "HTTP download of {} cut: at most {} of {} bytes left the server (the client stopped reading or went \
             away, or the stored bytes failed their check)",
            self.what, self.passed, self.expected
        );
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return warn!(%text, "no runtime left to record a cut download");
        };
        let artefact = self.artefact.clone();
        self.after.spawn(&runtime, async move {
            match artefact.record_cut_access("serve", text).await {
                Ok(_) => info!(artefact = %artefact.manifest.id, "cut download recorded"),
                Err(e) => warn!(error = %e, artefact = %artefact.manifest.id, "cannot record a cut download"),
            }
        });
    }
}
