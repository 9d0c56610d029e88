//! End-to-end tests of the `exhibit` binary on the embedded default (local
//! folder store, in-process queue).

mod bad_input;
mod common;
mod companions;
mod completions_man;
mod conventions;
mod crash;
mod derive_policy;
mod explore;
mod get_show_hash;
mod ocr;
mod tamper;
mod terminal;
mod transcode;
