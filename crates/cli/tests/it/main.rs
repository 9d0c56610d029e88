//! End-to-end tests of the `exhibit` binary on the embedded default (local
//! folder store, in-process queue).

mod anchor;
mod audit;
mod bad_input;
mod cdda;
mod common;
mod companions;
mod completions_man;
mod conventions;
mod crash;
mod damaged;
mod derive_policy;
mod desk_attack;
mod explore;
mod export;
mod export_demo;
mod export_names;
mod export_tamper;
mod get_show_hash;
mod hostile_listing;
mod ids;
mod keys;
mod manifest;
mod ocr;
mod oracle;
mod permissions;
mod quiet_exit;
mod report;
mod summary;
mod tamper;
mod terminal;
mod transcode;
mod trust;
mod trust_gate;
