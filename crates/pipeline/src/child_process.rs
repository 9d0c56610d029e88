//! Child processes that end with the process that started them. Transcode
//! and OCR run each job in a child; a worker that is SIGKILLed (or stopped
//! at once by a second signal) used to leave its child running, spending
//! the CPU its replacement needs (attacker finding F7).

use std::io;

/// The process ID of this process, to hand to [`die_with_parent`] in a
/// child's `pre_exec`.
pub fn this_process() -> libc::pid_t {
    // SAFETY: getpid has no preconditions and cannot fail.
    unsafe { libc::getpid() }
}

/// Run in a child between fork and exec: the kernel SIGKILLs the child
/// when the thread that forked it ends (Linux `PR_SET_PDEATHSIG`; the
/// thread waits for the child, so that is when the process dies). Fails
/// when `parent` ended before the request took hold. Allocates nothing,
/// as code between fork and exec must not.
pub fn die_with_parent(parent: libc::pid_t) -> io::Result<()> {
    // SAFETY: PR_SET_PDEATHSIG takes a signal number and no pointers;
    // prctl is async-signal-safe.
    if unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: getppid has no preconditions and cannot fail.
    if unsafe { libc::getppid() } != parent {
        return Err(io::Error::from_raw_os_error(libc::ESRCH));
    }
    Ok(())
}
