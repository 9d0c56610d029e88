//! End-to-end tests of the `exhibit` binary on the embedded default (local
//! folder store, in-process queue).

mod bad_input;
mod common;
mod crash;
mod explore;
mod get_show_hash;
mod hostile_listing;
mod ocr;
mod permissions;
mod quiet_exit;
mod tamper;
mod transcode;
