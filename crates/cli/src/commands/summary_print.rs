//! The summary as a person reads it (a short table on stdout, failures on
//! stderr) or as a submitting system reads it (`ingest --json`).

use super::summary::Summary;
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
        println!("  - {}: {}", a.kind, escape_message(&a.text));
        println!("    what to do: {}", a.advice);
    }
}

/// With `-q`: each line that needs attention as a warning on stderr, with
/// what to do; nothing when the run is clean.
pub fn print_attention_warnings(summary: &Summary) {
    for a in &summary.attention {
        crate::logging::notice(&format!(
            "exhibit {}: needs attention: {}: {}; what to do: {}",
            summary.exhibit, a.kind, a.text, a.advice
        ));
    }
}

/// Prints the failures of this run on stderr, with the advice for them.
pub fn print_failures(summary: &Summary) {
    for f in &summary.failures {
        // Most reasons already start with the file they name.
        if f.reason.starts_with(&format!("{}: ", f.what)) {
            eprintln!("failed: {}", escape_message(&f.reason));
        } else {
            eprintln!("failed: {}: {}", escape_name(&f.what), escape_message(&f.reason));
        }
    }
    if !summary.failures.is_empty() {
        eprintln!(
            "{} file(s) failed and are recorded as failed in the ledger; fix the cause and rerun the same command to retry them.",
            summary.failures.len()
        );
    }
}

/// Prints the whole summary as one JSON document on stdout.
pub fn print_json(summary: &Summary) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(summary)?);
    Ok(())
}
