//! Stopping without leaving work half done. When the server is told to
//! stop, [`Drain::begin`] is called before it stops taking connections:
//! work that runs row by row (bulk submissions) finishes the row in
//! flight, records the rows it did not reach as not processed, and
//! answers, so the server can exit within a bounded drain time.

use std::sync::atomic::{AtomicBool, Ordering};

/// Whether the server is stopping.
#[derive(Debug, Default)]
pub struct Drain {
    stopping: AtomicBool,
}

impl Drain {
    /// The server is stopping: take no new rows.
    pub fn begin(&self) {
        self.stopping.store(true, Ordering::SeqCst);
    }

    /// Whether [`Self::begin`] was called.
    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }
}
