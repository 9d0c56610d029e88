//! Work a request leaves behind once its response is gone: recording that
//! a download was cut ([`crate::download_cut`]) happens after the body is
//! dropped. Such tasks are counted, so a stopping server waits for them
//! ([`AfterResponse::idle`]) instead of losing a custody record, and a test
//! waits for the record it caused ([`AfterResponse::finished`]).

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::Notify;

/// Tasks spawned after a response, counted as they start and finish.
#[derive(Debug, Default)]
pub struct AfterResponse {
    started: AtomicU64,
    finished: AtomicU64,
    changed: Notify,
}

impl AfterResponse {
    /// Runs `work` on `runtime`, counted.
    pub fn spawn(self: &Arc<Self>, runtime: &tokio::runtime::Handle, work: impl Future<Output = ()> + Send + 'static) {
        self.started.fetch_add(1, Ordering::SeqCst);
        let counter = self.clone();
        runtime.spawn(async move {
            work.await;
            counter.finished.fetch_add(1, Ordering::SeqCst);
            counter.changed.notify_waiters();
        });
    }

    /// Returns once at least `count` tasks have finished since the server
    /// started.
    pub async fn finished(&self, count: u64) {
        self.wait_until(|finished, _| finished >= count).await;
    }

    /// Returns once every task started so far has finished.
    pub async fn idle(&self) {
        self.wait_until(|finished, started| finished >= started).await;
    }

    async fn wait_until(&self, done: impl Fn(u64, u64) -> bool) {
        loop {
            // Registered before the check, so a finish between the check
            // and the wait is not missed.
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if done(self.finished.load(Ordering::SeqCst), self.started.load(Ordering::SeqCst)) {
                return;
            }
            changed.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn waits_for_the_tasks_it_counted() {
        let after = Arc::new(AfterResponse::default());
        after.idle().await;
        let (go, wait) = tokio::sync::oneshot::channel::<()>();
        after.spawn(&tokio::runtime::Handle::current(), async move {
            let _ = wait.await;
        });
        let idle = tokio::spawn({
            let after = after.clone();
            async move { after.idle().await }
        });
        tokio::task::yield_now().await;
        assert!(!idle.is_finished(), "a task is still running");
        go.send(()).unwrap();
        idle.await.unwrap();
        after.finished(1).await;
    }
}
