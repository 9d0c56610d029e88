//! Quiet exit when the reader of our output goes away (`exhibit show | head`),
//! without letting a network peer kill the process.
//!
//! Rust starts every program with SIGPIPE ignored, so a write to a closed
//! pipe returns `BrokenPipe` and `println!` panics with a backtrace. Unix
//! tools instead die of SIGPIPE without a word. SIGPIPE stays ignored:
//! restoring its default action for the whole process let any client that
//! reset a download kill `exhibit serve` (hyper's vectored socket writes
//! raise SIGPIPE, where plain `send` does not), and a reset S3 or broker
//! connection could kill an ingest the same way. Instead, a panic from
//! printing to a closed stdout, and a command that ends in a `BrokenPipe`
//! error while stdout has no reader, end the process by SIGPIPE at that point ([`die_of_sigpipe`]),
//! as `cat` would.

use std::io::ErrorKind;

/// Makes a panic from printing to a closed stdout end the process quietly
/// by SIGPIPE; every other panic goes to the hook installed before.
pub fn quiet_on_closed_stdout() {
    let earlier = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if message.starts_with("failed printing to stdout") && message.contains("Broken pipe") {
            die_of_sigpipe();
        }
        earlier(info);
    }));
}

/// Whether `error` comes from writing to a stdout whose reader went away:
/// a `BrokenPipe` in its chain while stdout's pipe has no reader. A broken
/// pipe to a child process (OCR, transcode) stays an error to report.
pub fn is_closed_stdout(error: &anyhow::Error) -> bool {
    let broken = error
        .chain()
        .any(|cause| cause.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == ErrorKind::BrokenPipe));
    broken && stdout_reader_gone()
}

/// Whether stdout is a pipe whose read end is closed (poll reports an
/// error on the write end).
fn stdout_reader_gone() -> bool {
    let mut fd = libc::pollfd { fd: libc::STDOUT_FILENO, events: libc::POLLOUT, revents: 0 };
    // SAFETY: one valid pollfd, a count of 1 and no wait; poll only writes
    // `revents` of that struct.
    let ready = unsafe { libc::poll(&mut fd, 1, 0) };
    ready == 1 && fd.revents & libc::POLLERR != 0
}

/// Ends the process as SIGPIPE's default action does: at once, without a
/// word.
pub fn die_of_sigpipe() -> ! {
    // SAFETY: signal() with SIG_DFL installs no handler, and raise() sends
    // the signal to this thread only; the default action ends the process.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        libc::raise(libc::SIGPIPE);
    }
    std::process::exit(141)
}
