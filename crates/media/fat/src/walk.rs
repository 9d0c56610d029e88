//! Walk bookkeeping shared by both readers: entry limits, and problems that
//! are noted and walked past, then reported once the walk is done.

use exhibit_media_core::{FsEntry, Limits, MediaError};

/// Counts, limits and the problems met so far.
pub(crate) struct WalkState<'a> {
    pub limits: &'a Limits,
    entries: u64,
    /// Metadata bytes the walk may still read (directory slots, table
    /// entries): `max_expansion_ratio` times the medium, so cross-linked
    /// directories or chains cannot make a small image cost unbounded work.
    budget: u64,
    first_problem: Option<MediaError>,
    problems: u64,
}

impl<'a> WalkState<'a> {
    /// A fresh walk under `limits` over a medium of `medium` bytes.
    pub(crate) fn new(limits: &'a Limits, medium: u64) -> Self {
        let budget = medium.saturating_mul(limits.max_expansion_ratio.max(1)).saturating_add(1 << 20);
        Self { limits, entries: 0, budget, first_problem: None, problems: 0 }
    }

    /// Spends `bytes` of the metadata budget; running out ends the walk.
    pub(crate) fn charge(&mut self, bytes: u64) -> Result<(), MediaError> {
        self.budget = self.budget.checked_sub(bytes).ok_or_else(|| {
            MediaError::limit(format!(
                "the walk read more metadata than {} times the medium (limits.max_expansion_ratio): cross-linked structures?",
                self.limits.max_expansion_ratio
            ))
        })?;
        Ok(())
    }

    /// Hands `entry` to `visit`, enforcing `limits.max_entries`.
    pub(crate) fn emit(
        &mut self,
        visit: &mut dyn FnMut(FsEntry) -> Result<(), MediaError>,
        entry: FsEntry,
    ) -> Result<(), MediaError> {
        self.entries += 1;
        if self.entries > self.limits.max_entries {
            return Err(MediaError::limit(format!(
                "the volume holds more than {} entries (limits.max_entries)",
                self.limits.max_entries
            )));
        }
        visit(entry)
    }

    /// Notes a problem and carries on with the rest of the volume.
    pub(crate) fn problem(&mut self, e: MediaError) {
        tracing::warn!(kind = ?e.kind, "{}", e.message);
        self.problems += 1;
        self.first_problem.get_or_insert(e);
    }

    /// `Ok` for a clean walk, else the first problem with a count of all.
    pub(crate) fn finish(self) -> Result<(), MediaError> {
        match self.first_problem {
            None => Ok(()),
            Some(first) if self.problems == 1 => Err(first),
            Some(first) => Err(MediaError {
                kind: first.kind,
                message: format!(
                    "{} (and {} more problems; the rest of the volume was listed)",
                    first.message,
                    self.problems - 1
                ),
            }),
        }
    }
}
