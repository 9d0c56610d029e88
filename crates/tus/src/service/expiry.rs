//! Expiry: removing uploads nobody has added to for `expiry`.

use std::sync::{Arc, Weak};

use super::{Entry, TusService};
use crate::error::TusError;

impl TusService {
    /// Removes every upload past its expiry that no request holds, except
    /// a complete upload the completion hook has not taken: those are
    /// evidence whose hand-over failed, kept until it succeeds (or the
    /// upload is terminated). Returns how many were removed.
    pub async fn sweep_expired(&self) -> Result<usize, TusError> {
        let now = self.now();
        let expired: Vec<Arc<Entry>> =
            self.uploads().values().filter(|e| e.saved().expires_at <= now).cloned().collect();
        let mut removed = 0;
        for entry in expired {
            let Ok(mut slot) = entry.slot.try_lock() else { continue };
            let awaiting_hand_over = slot.record.is_complete() && !slot.record.handed_over;
            if !slot.removed && slot.record.expires_at <= now && !awaiting_hand_over {
                self.remove(&mut slot).await?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Sweeps expired uploads every `sweep_interval` until the service is dropped.
    pub fn spawn_sweeper(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let weak: Weak<Self> = Arc::downgrade(self);
        let interval = self.config.sweep_interval;
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(interval);
            loop {
                ticks.tick().await;
                let Some(service) = weak.upgrade() else { break };
                match service.sweep_expired().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(removed = n, "expired uploads removed"),
                    Err(e) => tracing::warn!(error = %e, "sweeping expired uploads failed"),
                }
            }
        })
    }
}
