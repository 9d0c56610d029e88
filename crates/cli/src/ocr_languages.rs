//! `[ocr] languages` checked against the languages Tesseract has installed,
//! before anything is recorded. A typo ("engl") is a configuration error
//! (exit 2) that names the key and the installed languages, not a failed
//! OCR of every scan, blamed on the evidence, in the signed ledger.
//!
//! The installed list is what `tesseract --list-langs` prints: it reads the
//! tessdata folder the OCR child's libtesseract reads (`TESSDATA_PREFIX`,
//! else the compiled-in one). Without the `tesseract` program nothing is
//! checked here and the OCR stage reports the language itself.

use std::io::Read as _;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use exhibit_ocr::OcrPolicy;

/// `tesseract --list-langs` reads one folder; it answers at once.
const LIST_TIMEOUT: Duration = Duration::from_secs(30);

/// Why `[ocr] languages` cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum LanguageError {
    /// A language has no traineddata in Tesseract's folder.
    #[error(
        "ocr.languages: {missing} not installed for Tesseract (installed in {folder}: {installed}); \
         correct [ocr] languages or install the language's traineddata"
    )]
    NotInstalled { missing: String, folder: String, installed: String },
}

/// The languages Tesseract can load and the folder it reads them from,
/// or None when `tesseract` cannot be run or answers nothing usable.
fn installed() -> Option<(String, Vec<String>)> {
    let mut child = Command::new("tesseract")
        .arg("--list-langs")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| tracing::debug!(error = %e, "tesseract --list-langs cannot run; [ocr] languages not checked"))
        .ok()?;
    let mut stdout = child.stdout.take()?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        let read = stdout.read_to_string(&mut text).map(|_| text);
        let _ = tx.send(read);
    });
    let answer = rx.recv_timeout(LIST_TIMEOUT);
    // Killed whether or not it answered, so it never outlives the check.
    let _ = child.kill();
    let _ = child.wait();
    parse_list(&answer.ok()?.ok()?)
}

/// `List of available languages in "DIR" (N):` then one name a line.
fn parse_list(text: &str) -> Option<(String, Vec<String>)> {
    let mut lines = text.lines();
    let head = lines.next()?;
    let folder = head.split('"').nth(1).unwrap_or("Tesseract's tessdata folder").to_owned();
    let langs: Vec<String> = lines.map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect();
    (head.starts_with("List of available languages") && !langs.is_empty()).then_some((folder, langs))
}

/// Every language of `policy` is installed, or the error naming them.
pub fn check_installed(policy: &OcrPolicy) -> Result<(), LanguageError> {
    match installed() {
        Some((folder, langs)) => check_against(policy, &folder, &langs),
        None => Ok(()),
    }
}

fn check_against(policy: &OcrPolicy, folder: &str, langs: &[String]) -> Result<(), LanguageError> {
    let missing: Vec<String> =
        policy.languages.iter().filter(|l| !langs.contains(l)).map(|l| format!("{l:?}")).collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(LanguageError::NotInstalled {
        missing: missing.join(", "),
        folder: format!("{folder:?}"),
        installed: langs.join(", "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LISTED: &str = "List of available languages in \"/usr/share/tesseract-ocr/5/tessdata/\" (2):\neng\nosd\n";

    #[test]
    fn the_list_gives_folder_and_names() {
        let (folder, langs) = parse_list(LISTED).unwrap();
        assert_eq!(folder, "/usr/share/tesseract-ocr/5/tessdata/");
        assert_eq!(langs, ["eng", "osd"]);
        assert!(parse_list("tesseract: error\n").is_none());
    }

    #[test]
    fn a_typo_names_the_key_the_language_and_what_is_installed() {
        let (folder, langs) = parse_list(LISTED).unwrap();
        let policy = OcrPolicy { languages: vec!["engl".into()], ..OcrPolicy::default() };
        let err = check_against(&policy, &folder, &langs).unwrap_err().to_string();
        assert!(err.starts_with("ocr.languages: \"engl\" not installed"), "{err}");
        assert!(err.contains("/usr/share/tesseract-ocr/5/tessdata/") && err.contains(": eng, osd)"), "{err}");
        check_against(&OcrPolicy::default(), &folder, &langs).unwrap();
    }
}
