//! Quiet exit when the reader of our output goes away (`exhibit show | head`).
//!
//! Rust starts every program with SIGPIPE ignored, so a write to a closed
//! pipe returns `BrokenPipe` and `println!` panics with a backtrace. Unix
//! tools instead die of SIGPIPE without a word. Restoring the default
//! disposition once, before anything is written, gives every command that
//! behaviour; handling `BrokenPipe` at each of the many places output is
//! written would miss some. A process killed this way mid-ingest is no
//! worse off than one killed by Ctrl-C: writes are create-only and the
//! next run resumes and clears stale temporary files.

/// Sets SIGPIPE back to its default action (terminate quietly).
pub fn restore_default() {
    // SAFETY: signal() with SIG_DFL installs no handler, so there is no
    // handler code that could run in an async-signal-unsafe way; it is
    // called from main before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
