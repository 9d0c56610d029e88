//! Integration tests of the application layer: the read-model conformance
//! suite on SQLite and PostgreSQL, refreshing from a real ledger, and two workers.

mod common;
mod conformance_postgres;
mod conformance_sqlite;
mod pg;
mod refresh;
mod two_workers;
