//! Integration tests of the integrity report: building it from a ledger
//! and manifests, and loading it in headless Chromium with axe-core.

mod browser;
mod build;
mod fixture;
