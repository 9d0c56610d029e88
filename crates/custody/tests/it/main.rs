//! Integration tests of exhibit-custody against a real `LocalStore`.

mod append;
mod common;
mod content;
mod signing;
mod tamper;
mod trust;
