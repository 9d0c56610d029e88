//! Integration tests of the application layer: the read-model conformance
//! suite on SQLite, refreshing from a real ledger, and two workers.

mod common;
mod conformance_sqlite;
mod refresh;
mod two_workers;
