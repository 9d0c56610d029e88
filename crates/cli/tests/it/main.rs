//! End-to-end tests of the `exhibit` binary on the embedded default (local
//! folder store, in-process queue).

mod bad_input;
mod common;
mod completions_man;
mod conventions;
mod crash;
mod damaged;
mod explore;
mod get_show_hash;
mod keys;
mod ocr;
mod summary;
mod tamper;
mod terminal;
mod transcode;
mod trust;
