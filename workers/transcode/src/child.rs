//! Isolation: every job runs in a child process (`exhibit-transcode-child`)
//! under RLIMIT_AS, RLIMIT_CPU and no core dumps, with a wall-clock timeout
//! after which it is killed. A crash or hang in libav* fails that job only.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use wait_timeout::ChildExt;

use crate::engine::ChildRequest;
use crate::error::{ErrorKind, TranscodeError};
use crate::limits::Limits;
use crate::media_probe::{MediaProbe, ProbeRequest};
use crate::report::TranscodeOutcome;

/// What the parent asks a child to do. Parent and child are one build, so
/// the format needs no compatibility with other releases.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "task", rename_all = "kebab-case")]
enum ChildTask {
    /// Decode, encode and validate under a policy.
    Transcode(ChildRequest),
    /// Open and decode just enough to say whether the file is media.
    Probe(ProbeRequest),
}

/// Name of the child binary.
pub const CHILD_BINARY: &str = "exhibit-transcode-child";
/// Environment variable that names the child binary explicitly.
pub const CHILD_ENV: &str = "EXHIBIT_TRANSCODE_CHILD";
/// Most bytes of child stdout read (the JSON answer).
const MAX_ANSWER_BYTES: u64 = 64 << 20;
/// Most bytes of child stderr kept (the tail goes into errors).
const MAX_LOG_BYTES: usize = 16 << 10;

/// Finds the child binary: `$EXHIBIT_TRANSCODE_CHILD`, else next to the
/// current executable or one folder up (test binaries live in `deps/`).
pub fn child_path() -> Result<PathBuf, TranscodeError> {
    if let Some(p) = std::env::var_os(CHILD_ENV) {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe().map_err(|e| TranscodeError::io("cannot find current executable", e))?;
    exe.ancestors().skip(1).take(2).map(|d| d.join(CHILD_BINARY)).find(|p| p.is_file()).ok_or_else(|| {
        TranscodeError::new(
            ErrorKind::Internal,
            format!("{CHILD_BINARY} not found next to {}; set {CHILD_ENV}", exe.display()),
        )
    })
}

/// Runs one transcode job in a child and returns its answer.
pub(crate) fn run(req: &ChildRequest) -> Result<TranscodeOutcome, TranscodeError> {
    run_task(&ChildTask::Transcode(req.clone()), &req.limits, "transcode")
}

/// Runs one probe in a child and returns its answer.
pub(crate) fn run_probe(req: &ProbeRequest) -> Result<MediaProbe, TranscodeError> {
    run_task(&ChildTask::Probe(req.clone()), &req.limits, "probe")
}

/// Runs one task in a child under `limits` and returns its answer.
fn run_task<T: DeserializeOwned>(task: &ChildTask, limits: &Limits, what: &str) -> Result<T, TranscodeError> {
    let body = serde_json::to_vec(task).map_err(|e| TranscodeError::internal("encode request", e))?;
    let mut cmd = Command::new(child_path()?);
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let (mem, cpu) = (limits.max_address_space, limits.max_cpu.as_secs().max(1));
    let parent = exhibit_pipeline::child_process::this_process();
    use std::os::unix::process::CommandExt;
    // SAFETY: the closure runs between fork and exec and only calls
    // prctl, getppid and setrlimit, which are async-signal-safe; it
    // allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            exhibit_pipeline::child_process::die_with_parent(parent)?;
            set_limit(libc::RLIMIT_AS, mem)?;
            set_limit(libc::RLIMIT_CPU, cpu)?;
            set_limit(libc::RLIMIT_CORE, 0)
        });
    }
    let mut child = cmd.spawn().map_err(|e| TranscodeError::io("cannot start the transcode child", e))?;
    let mut stdin = child.stdin.take();
    let writer = std::thread::spawn(move || stdin.as_mut().map(|s| s.write_all(&body)));
    let mut stdout = child.stdout.take().ok_or_else(|| TranscodeError::internal("child", "no stdout"))?;
    let reader = std::thread::spawn(move || {
        let mut out = Vec::new();
        let _ = (&mut stdout).take(MAX_ANSWER_BYTES).read_to_end(&mut out);
        let _ = std::io::copy(&mut stdout, &mut std::io::sink());
        out
    });
    let mut stderr = child.stderr.take().ok_or_else(|| TranscodeError::internal("child", "no stderr"))?;
    let log = std::thread::spawn(move || tail(&mut stderr));
    let status = wait(&mut child, limits.timeout)?;
    let _ = writer.join();
    let answer = reader.join().unwrap_or_default();
    let log = log.join().unwrap_or_default();
    let Some(status) = status else {
        return Err(TranscodeError::new(
            ErrorKind::Timeout,
            format!(
                "{what} ran past transcode.timeout ({} s) and was stopped; last log: {log}",
                limits.timeout.as_secs()
            ),
        ));
    };
    if let Ok(result) = serde_json::from_slice::<Result<T, TranscodeError>>(&answer) {
        return result;
    }
    use std::os::unix::process::ExitStatusExt;
    if status.signal() == Some(libc::SIGXCPU) {
        return Err(TranscodeError::limit(format!(
            "{what} used more than transcode.max_cpu ({} s) of CPU time and was stopped; last log: {log}",
            limits.max_cpu.as_secs()
        )));
    }
    Err(TranscodeError::new(
        ErrorKind::Crashed,
        format!(
            "{what} child ended with {status} and no answer (a file that needs more than transcode.max_memory, \
             {} bytes, ends so too); last log: {log}",
            limits.max_address_space
        ),
    ))
}

fn set_limit(resource: libc::__rlimit_resource_t, value: u64) -> std::io::Result<()> {
    let lim = libc::rlimit { rlim_cur: value, rlim_max: value };
    // SAFETY: `lim` is a valid rlimit for the duration of the call.
    if unsafe { libc::setrlimit(resource, &lim) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Waits up to `timeout` (woken by the child's exit, not by polling); kills
/// the child and returns `None` past it.
fn wait(
    child: &mut std::process::Child,
    timeout: Duration,
) -> Result<Option<std::process::ExitStatus>, TranscodeError> {
    match child.wait_timeout(timeout).map_err(|e| TranscodeError::io("waiting for child", e))? {
        Some(status) => Ok(Some(status)),
        None => {
            let _ = child.kill();
            let _ = child.wait();
            Ok(None)
        }
    }
}

/// The last [`MAX_LOG_BYTES`] of a stream, as text.
fn tail(r: &mut impl Read) -> String {
    let mut keep: Vec<u8> = Vec::new();
    let mut buf = [0u8; 8192];
    while let Ok(n) = r.read(&mut buf) {
        if n == 0 {
            break;
        }
        keep.extend_from_slice(&buf[..n]);
        if keep.len() > 2 * MAX_LOG_BYTES {
            keep.drain(..keep.len() - MAX_LOG_BYTES);
        }
    }
    let start = keep.len().saturating_sub(MAX_LOG_BYTES);
    String::from_utf8_lossy(&keep[start..]).trim().to_owned()
}

/// The child's `main`: reads a task on stdin, answers on stdout.
pub fn child_main() -> std::process::ExitCode {
    let mut input = Vec::new();
    let task = std::io::stdin()
        .take(16 << 20)
        .read_to_end(&mut input)
        .map_err(|e| TranscodeError::io("cannot read request", e))
        .and_then(|_| {
            serde_json::from_slice::<ChildTask>(&input).map_err(|e| TranscodeError::internal("bad request", e))
        });
    let (ok, out) = match task {
        Ok(ChildTask::Transcode(req)) => {
            answer(run_in_child(&req.limits, || crate::engine::run_job(&req)).map(|mut o| {
                o.child_max_rss_kib = max_rss_kib();
                o
            }))
        }
        Ok(ChildTask::Probe(req)) => answer(run_in_child(&req.limits, || crate::media_probe::run(&req))),
        Err(e) => answer::<()>(Err(e)),
    };
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(&out).and_then(|_| stdout.flush());
    if ok { std::process::ExitCode::SUCCESS } else { std::process::ExitCode::from(2) }
}

/// Runs `work` with libav*'s allocation cap set, turning a panic into an error.
fn run_in_child<T>(
    limits: &Limits,
    work: impl FnOnce() -> Result<T, TranscodeError> + std::panic::UnwindSafe,
) -> Result<T, TranscodeError> {
    crate::init()?;
    // SAFETY: plain setter of a libavutil global, before any allocation it governs.
    unsafe { ffmpeg_next::ffi::av_max_alloc(usize::try_from(limits.max_alloc).unwrap_or(usize::MAX)) };
    std::panic::catch_unwind(work)
        .unwrap_or_else(|_| Err(TranscodeError::new(ErrorKind::Internal, "the transcode child panicked")))
}

/// Whether a result is `Ok`, and its JSON.
fn answer<T: Serialize>(result: Result<T, TranscodeError>) -> (bool, Vec<u8>) {
    (result.is_ok(), serde_json::to_vec(&result).unwrap_or_default())
}

fn max_rss_kib() -> Option<u64> {
    // SAFETY: getrusage fills the zeroed struct we own.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    (unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } == 0).then(|| usage.ru_maxrss.max(0) as u64)
}
