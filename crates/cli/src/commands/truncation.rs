//! Truncated evidence, as the ledger records it: images that hold less
//! than their volumes (or E01 sets) declare, and the files they cut short.
//! Not a failure (a rerun cannot change it), so `show` and `verify` name
//! it as a note and ingest as a line that needs attention (exit 3).

pub use exhibit_app::verify::truncation_notes;
