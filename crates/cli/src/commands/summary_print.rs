//! The summary as a person reads it (a short table on stdout, failures on
//! stderr) or as a submitting system reads it (`ingest --json`).

use super::summary::{Failure, Summary};
use crate::failure_text::failure_text;
use crate::terminal::{escape_message, escape_name};

/// Prints the table and the attention lines on stdout.
pub fn print_table(summary: &Summary) {
    let c = &summary.counts;
    let rows = [
        ("items", c.items),
        ("originals", c.originals),
        ("found inside images", c.found_inside_images),
        ("derivatives", c.derivatives),
        ("duplicates", c.duplicates),
    ];
    println!("exhibit {} in case {}:", escape_name(summary.exhibit.as_str()), escape_name(summary.case.as_str()));
    if let Some(item) = &summary.item {
        let description = item.description.iter().map(|d| format!("description: {d}"));
        for line in description.chain(super::show_tree::item_lines(item)) {
            println!("  {}", escape_name(&line));
        }
    }
    for (label, n) in rows {
        println!("  {label:<20} {n:>6}");
    }
    for dup in summary.artefacts.iter().filter(|a| a.duplicate_of.is_some()) {
        let first = dup.duplicate_of.as_deref().unwrap_or_default();
        let first_path = summary.artefacts.iter().find(|a| a.id == first).map_or_else(
            // The case's first copy can belong to another exhibit (a
            // manifest often names the same file under two items).
            || "(in another exhibit of this case)".to_owned(),
            |a| a.label.clone(),
        );
        println!("    {} is a duplicate of {first} {first_path}", dup.label);
    }
    for note in &summary.notes {
        println!("    {}", escape_message(note));
    }
    if summary.attention.is_empty() {
        println!("needs attention: nothing");
        return;
    }
    println!("needs attention: {} item(s)", summary.attention.len());
    for a in &summary.attention {
        println!("  - {}: {}", a.kind, a.text_for_terminal());
        println!("    what to do: {}", a.advice);
    }
}

/// With `-q`: each line that needs attention as a warning on stderr, with
/// what to do; nothing when the run is clean.
pub fn print_attention_warnings(summary: &Summary) {
    for a in &summary.attention {
        crate::logging::notice(&format!(
            "exhibit {}: needs attention: {}: {}; what to do: {}",
            summary.exhibit,
            a.kind,
            a.text_for_terminal(),
            a.advice
        ));
    }
}

/// Prints the failures of this run on stderr, each path from its recorded
/// bytes, and what to do about them: rerunning the same command helps only
/// where storage or the OS failed.
pub fn print_failures(summary: &Summary) {
    for f in &summary.failures {
        let name = f.path_bytes.as_deref().unwrap_or(f.what.as_bytes());
        eprintln!("failed: {}", failure_text(name, &f.reason));
    }
    if let Some(footer) = failure_footer(&summary.failures) {
        eprintln!("{footer}");
    }
}

/// The line under the failures: what to do, by whether a rerun may help.
fn failure_footer(failures: &[Failure]) -> Option<String> {
    let n = failures.len();
    let retry = failures.iter().filter(|f| f.rerun_may_help).count();
    let recorded = format!("{n} file(s) failed and are recorded as failed in the ledger");
    Some(match (n, retry) {
        (0, _) => return None,
        (n, retry) if retry == n => format!("{recorded}; fix the cause and rerun the same command to retry them."),
        (_, 0) => format!(
            "{recorded}; the same command fails them again until their cause is fixed: do what each line says first."
        ),
        (n, retry) => format!(
            "{recorded}: {retry} failed on storage or the system and may succeed if you rerun the same command; for the other {}, do what their line says first.",
            n - retry
        ),
    })
}

/// Prints the whole summary as one JSON document on stdout.
pub fn print_json(summary: &Summary) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(summary)?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(rerun_may_help: bool) -> Failure {
        Failure { what: "/in/x".into(), reason: "why".into(), rerun_may_help, path_bytes: None }
    }

    #[test]
    fn the_footer_offers_a_rerun_only_for_failures_a_rerun_may_mend() {
        assert_eq!(failure_footer(&[]), None);
        let all = failure_footer(&[failure(true), failure(true)]).unwrap();
        assert!(all.contains("rerun the same command to retry them"), "{all}");
        let none = failure_footer(&[failure(false)]).unwrap();
        assert!(!none.contains("rerun the same command") && none.contains("do what each line says first"), "{none}");
        let mixed = failure_footer(&[failure(true), failure(false), failure(false)]).unwrap();
        assert!(mixed.contains(": 1 failed on storage or the system") && mixed.contains("for the other 2"), "{mixed}");
    }
}
