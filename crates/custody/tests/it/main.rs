//! Integration tests of exhibit-custody against a real `LocalStore`.

mod anchor;
mod append;
mod batch;
mod clock;
mod common;
mod content;
mod older_release;
mod signing;
mod tamper;
mod trust;
mod typed_params;
