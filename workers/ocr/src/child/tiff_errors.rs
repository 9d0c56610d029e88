//! libtiff's error reports, caught per thread (tester's repro-18). A G4 page
//! with spoiled data decodes to rows of garbage: libtiff reports "Bad code
//! word at line N" through its error handler and Leptonica returns the
//! image as if sound. The handler installed here keeps the reports made
//! while a page is decoded, so the page is flagged with them. An FFI
//! wrapper: with `ffi`, the only place with `unsafe`.
//!
//! libtiff is reached through the dynamic linker (it is loaded with
//! Leptonica), so no link line changes; without it nothing is caught.

use std::cell::RefCell;
use std::ffi::{CStr, c_char, c_void};

/// libtiff's `TIFFErrorHandlerExt`: client data, module, printf format, `va_list`.
type Handler = unsafe extern "C" fn(*mut c_void, *const c_char, *const c_char, *mut c_void);
/// libtiff's `TIFFSetErrorHandlerExt`. The plain handler is not used:
/// Leptonica resets it when it opens a TIFF; libtiff calls both.
type SetHandler = unsafe extern "C" fn(Option<Handler>) -> Option<Handler>;

/// Reports kept per page; the rest are counted.
const MAX_KEPT: usize = 3;

/// What libtiff reported while a page decoded.
#[derive(Debug, Default)]
pub struct Caught {
    pub messages: Vec<String>,
    pub total: usize,
}

impl Caught {
    /// The reports in one line: the first few, and how many more.
    pub fn summary(&self) -> Option<String> {
        let first = self.messages.join("; ");
        match self.total.saturating_sub(self.messages.len()) {
            _ if self.total == 0 => None,
            0 => Some(first),
            more => Some(format!("{first}; and {more} more")),
        }
    }
}

thread_local! {
    static CAUGHT: RefCell<Option<Caught>> = const { RefCell::new(None) };
}

/// Routes libtiff's error reports to [`capture`] (to the debug log outside it).
pub fn install() {
    // SAFETY: a NUL-terminated symbol name looked up in the libraries already loaded.
    let sym = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"TIFFSetErrorHandlerExt".as_ptr()) };
    if sym.is_null() {
        tracing::warn!("libtiff's TIFFSetErrorHandlerExt not found: TIFF decoder errors are not caught");
        return;
    }
    // SAFETY: the symbol is libtiff's `TIFFErrorHandlerExt TIFFSetErrorHandlerExt(TIFFErrorHandlerExt)` (tiffio.h).
    let set: SetHandler = unsafe { std::mem::transmute::<*mut c_void, SetHandler>(sym) };
    // SAFETY: on_error has the handler's signature and lives for the whole process.
    unsafe { set(Some(on_error)) };
}

/// Runs `f`, returning what libtiff reported on this thread meanwhile.
pub fn capture<T>(f: impl FnOnce() -> T) -> (T, Caught) {
    CAUGHT.with(|c| *c.borrow_mut() = Some(Caught::default()));
    let out = f();
    let caught = CAUGHT.with(|c| c.borrow_mut().take()).unwrap_or_default();
    (out, caught)
}

unsafe extern "C" fn on_error(_client: *mut c_void, module: *const c_char, fmt: *const c_char, ap: *mut c_void) {
    // SAFETY: libtiff passes a NUL-terminated module name (or null) and its format with the matching va_list.
    let text = unsafe { format(fmt, ap) };
    let module = if module.is_null() {
        String::new()
    } else {
        // SAFETY: non-null, NUL-terminated (libtiff's module names are literals).
        unsafe { CStr::from_ptr(module) }.to_string_lossy().into_owned()
    };
    let message = if module.is_empty() { text } else { format!("{module}: {text}") };
    let kept = CAUGHT
        .try_with(|c| match c.try_borrow_mut().ok().as_deref_mut().and_then(Option::as_mut) {
            Some(caught) => {
                caught.total += 1;
                if caught.messages.len() < MAX_KEPT {
                    caught.messages.push(message.clone());
                }
                true
            }
            None => false,
        })
        .unwrap_or(false);
    if !kept {
        // Reports outside a capture reach stderr, as libtiff's own handler (if kept) also writes them.
        tracing::debug!(message, "TIFF error");
    }
}

/// The report, formatted (on x86-64, where a `va_list` argument is a pointer).
#[cfg(target_arch = "x86_64")]
unsafe fn format(fmt: *const c_char, ap: *mut c_void) -> String {
    unsafe extern "C" {
        fn vsnprintf(buf: *mut c_char, n: usize, fmt: *const c_char, ap: *mut c_void) -> i32;
    }
    if fmt.is_null() {
        return String::new();
    }
    let mut buf = [0 as c_char; 400];
    // SAFETY: buf is writable for its length; fmt and ap come from libtiff together.
    let n = unsafe { vsnprintf(buf.as_mut_ptr(), buf.len(), fmt, ap) };
    if n < 0 {
        // SAFETY: fmt is non-null and NUL-terminated.
        return unsafe { CStr::from_ptr(fmt) }.to_string_lossy().into_owned();
    }
    // SAFETY: vsnprintf NUL-terminates within buf.
    unsafe { CStr::from_ptr(buf.as_ptr()) }.to_string_lossy().into_owned()
}

/// The report's format string unformatted (elsewhere a `va_list` is not passed as a pointer).
#[cfg(not(target_arch = "x86_64"))]
unsafe fn format(fmt: *const c_char, _ap: *mut c_void) -> String {
    if fmt.is_null() {
        return String::new();
    }
    // SAFETY: fmt is non-null and NUL-terminated.
    unsafe { CStr::from_ptr(fmt) }.to_string_lossy().into_owned()
}
