//! Integration tests of the application layer: the read-model conformance
//! suite on SQLite and PostgreSQL, the access-state suite on both, refreshing from a real ledger, two workers, and the use cases get, verify, listing and reproduce.

mod access_state;
mod common;
mod conformance_postgres;
mod conformance_sqlite;
mod job_keys;
mod pg;
mod refresh;
mod two_workers;
mod usecases;
