//! The parent side: runs one document's OCR in the `exhibit-ocr-child`
//! process under a timeout and rlimits, and turns how it ended into an
//! [`OcrOutcome`] or a typed [`OcrError`].

use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use wait_timeout::ChildExt;

use crate::child::{CHILD_BIN, COUNT_ONLY, ChildReport, REPORT_FILE, STDERR_FILE, WORK_DIR};
use crate::{OcrError, OcrErrorKind, OcrOutcome, OcrPolicy, memory_cap};

/// Env var naming the child binary, when it is not next to the current executable.
pub const CHILD_ENV: &str = "EXHIBIT_OCR_CHILD";

/// OCRs one document in a child process, writing `text.txt`, `hocr.html` and
/// `searchable.pdf` into `out_dir` (created if missing).
pub fn ocr_document(
    input: &Path,
    media_type: &str,
    policy: &OcrPolicy,
    out_dir: &Path,
) -> Result<OcrOutcome, OcrError> {
    policy.validate()?;
    let input =
        std::fs::canonicalize(input).map_err(|e| OcrError::io(&format!("cannot open {}", input.display()), e))?;
    std::fs::create_dir_all(out_dir).map_err(|e| OcrError::io("cannot create the output folder", e))?;
    let out_dir = std::fs::canonicalize(out_dir).map_err(|e| OcrError::io("cannot resolve the output folder", e))?;
    let work = out_dir.join(WORK_DIR);
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| OcrError::io("cannot create the work folder", e))?;
    let result = run_child(&input, media_type, policy, &out_dir, &work, false).and_then(|report| match report {
        ChildReport::Ok(outcome) => Ok(outcome),
        _ => Err(OcrError::corrupt("the OCR child sent a page count, not an outcome")),
    });
    let _ = std::fs::remove_dir_all(&work);
    if result.is_err() {
        for name in [crate::TEXT_FILE, crate::HOCR_FILE, crate::PDF_FILE] {
            let _ = std::fs::remove_file(out_dir.join(name));
        }
    }
    result
}

/// Counts a document's pages in a child process (its page tree or IFD
/// chain walked, no page decoded), for `--pages` when OCR is off or
/// skipped. `scratch` holds the child's work folder meanwhile.
pub fn count_pages(input: &Path, media_type: &str, policy: &OcrPolicy, scratch: &Path) -> Result<u32, OcrError> {
    policy.validate()?;
    let input =
        std::fs::canonicalize(input).map_err(|e| OcrError::io(&format!("cannot open {}", input.display()), e))?;
    let scratch = std::fs::canonicalize(scratch).map_err(|e| OcrError::io("cannot resolve the scratch folder", e))?;
    let work = scratch.join(WORK_DIR);
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| OcrError::io("cannot create the work folder", e))?;
    let result = run_child(&input, media_type, policy, &scratch, &work, true);
    let _ = std::fs::remove_dir_all(&work);
    match result? {
        ChildReport::Counted(pages) => Ok(pages),
        _ => Err(OcrError::corrupt("the OCR child sent an outcome, not a page count")),
    }
}

fn run_child(
    input: &Path,
    media_type: &str,
    policy: &OcrPolicy,
    out_dir: &Path,
    work: &Path,
    count_only: bool,
) -> Result<ChildReport, OcrError> {
    let policy_json = serde_json::to_string(policy).map_err(|e| OcrError::new(OcrErrorKind::Config, e.to_string()))?;
    let stderr = std::fs::File::create(work.join(STDERR_FILE)).map_err(|e| OcrError::io("cannot create the log", e))?;
    let mut cmd = Command::new(child_binary()?);
    if count_only {
        cmd.arg(COUNT_ONLY);
    }
    cmd.arg(input)
        .arg(media_type)
        .arg(out_dir)
        .arg(policy_json)
        .current_dir(work)
        .env("OMP_THREAD_LIMIT", "1")
        .env("MALLOC_ARENA_MAX", "2")
        .env("TZ", "UTC")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .process_group(0);
    let limits = Limits::for_policy(policy);
    let parent = exhibit_pipeline::child_process::this_process();
    // SAFETY: the closure runs between fork and exec and only calls
    // `prctl`, `getppid` and `setrlimit`, which are async-signal-safe; it
    // allocates nothing.
    unsafe {
        cmd.pre_exec(move || {
            exhibit_pipeline::child_process::die_with_parent(parent)?;
            limits.apply()
        });
    }
    let mut child = cmd.spawn().map_err(|e| OcrError::io("cannot start exhibit-ocr-child", e))?;
    let status = wait_with_timeout(&mut child, policy.timeout)?;
    let Some(status) = status else {
        return Err(OcrError::new(
            OcrErrorKind::Timeout,
            format!("OCR took longer than {} s and was stopped", policy.timeout.as_secs_f64()),
        ));
    };
    let log_tail = read_tail(&work.join(STDERR_FILE));
    match std::fs::read(work.join(REPORT_FILE)) {
        Ok(bytes) => match serde_json::from_slice::<ChildReport>(&bytes) {
            Ok(report @ (ChildReport::Ok(_) | ChildReport::Counted(_))) if status.success() => Ok(report),
            Ok(ChildReport::Err(e))
                if e.kind == OcrErrorKind::Corrupt && memory_cap::log_shows_alloc_failure(&log_tail) =>
            {
                Err(memory_cap::limit_error(policy.max_memory, &e.message))
            }
            Ok(ChildReport::Err(e)) => Err(e),
            _ => Err(died(status, &log_tail, policy.max_memory)),
        },
        Err(_) => Err(died(status, &log_tail, policy.max_memory)),
    }
}

/// The error for a child that ended without a report.
fn died(status: std::process::ExitStatus, log_tail: &str, max_memory: u64) -> OcrError {
    let log = if log_tail.is_empty() { String::new() } else { format!("; log: {log_tail}") };
    match status.signal() {
        Some(libc::SIGXCPU) => OcrError::limit(format!("OCR used up its CPU-time limit (from ocr.timeout){log}")),
        _ if memory_cap::log_shows_alloc_failure(log_tail) => {
            memory_cap::limit_error(max_memory, &format!("the OCR child ended with {status}{log}"))
        }
        Some(sig) => OcrError::new(
            OcrErrorKind::Crashed,
            format!(
                "OCR child was killed by signal {sig} (a crash, or the memory limit ocr.max_memory = {}){log}",
                memory_cap::human(max_memory)
            ),
        ),
        None => OcrError::new(OcrErrorKind::Crashed, format!("OCR child exited with {status} and no report{log}")),
    }
}

/// Waits for the child (woken by its exit, not by polling); kills its
/// process group at the deadline (`Ok(None)`).
fn wait_with_timeout(child: &mut Child, timeout: Duration) -> Result<Option<std::process::ExitStatus>, OcrError> {
    match child.wait_timeout(timeout) {
        Ok(Some(status)) => Ok(Some(status)),
        Ok(None) => {
            kill_group(child);
            let _ = child.wait();
            Ok(None)
        }
        Err(e) => {
            kill_group(child);
            let _ = child.wait();
            Err(OcrError::io("cannot wait for the OCR child", e))
        }
    }
}

fn kill_group(child: &mut Child) {
    if let Ok(pid) = i32::try_from(child.id()) {
        // SAFETY: plain syscall; the child leads its own process group
        // (`process_group(0)`), so `-pid` names only it and its helpers.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
    let _ = child.kill();
}

/// The last lines of the child's stderr, for the error message.
fn read_tail(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_default();
    let start = bytes.len().saturating_sub(600);
    String::from_utf8_lossy(&bytes[start..]).split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The child binary: `$EXHIBIT_OCR_CHILD`, else next to the current
/// executable (or its parent folder, where test binaries live in `deps/`).
fn child_binary() -> Result<PathBuf, OcrError> {
    if let Some(p) = std::env::var_os(CHILD_ENV) {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe().map_err(|e| OcrError::io("cannot find the current executable", e))?;
    let mut dir = exe.parent();
    for _ in 0..2 {
        if let Some(d) = dir {
            let candidate = d.join(CHILD_BIN);
            if candidate.is_file() {
                return Ok(candidate);
            }
            dir = d.parent();
        }
    }
    Err(OcrError::new(OcrErrorKind::Io, format!("{CHILD_BIN} not found next to {}; set {CHILD_ENV}", exe.display())))
}

/// Resource limits applied in the child before exec.
#[derive(Clone, Copy)]
struct Limits {
    address_space: u64,
    cpu_seconds: u64,
}

impl Limits {
    fn for_policy(policy: &OcrPolicy) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
        Self { address_space: policy.max_memory, cpu_seconds: policy.timeout.as_secs().saturating_add(1) * cores + 5 }
    }

    fn apply(self) -> std::io::Result<()> {
        set_limit(libc::RLIMIT_AS, self.address_space, self.address_space)?;
        // The soft limit sends SIGXCPU (reported as a limit); the hard one kills.
        set_limit(libc::RLIMIT_CPU, self.cpu_seconds, self.cpu_seconds + 5)?;
        set_limit(libc::RLIMIT_CORE, 0, 0)
    }
}

fn set_limit(resource: libc::__rlimit_resource_t, soft: u64, hard: u64) -> std::io::Result<()> {
    let lim = libc::rlimit { rlim_cur: soft, rlim_max: hard };
    // SAFETY: `lim` is a valid rlimit that outlives the call.
    if unsafe { libc::setrlimit(resource, &lim) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}
