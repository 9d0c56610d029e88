//! Integration tests of the HTTP API against a real server on loopback:
//! isolation between organisations, bad input, the OpenAPI document and a
//! schemathesis run, and the PostgreSQL access state.

mod bad_input;
mod common;
mod connection_limits;
mod dashboard_auth;
mod dashboard_choice;
mod dashboard_data;
mod isolation;
mod ledger_head;
mod limits;
mod names;
mod namespaces;
mod openapi;
mod postgres;
mod problems;
mod put;
mod rejections;
mod submissions;
mod tls;
mod upload_limits;
mod uploads;
