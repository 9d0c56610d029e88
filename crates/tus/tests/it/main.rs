//! Integration tests: a real server on loopback, raw HTTP requests, and
//! the real tus client tuspy.

mod checksum;
mod hostile;
mod isolation;
mod limits;
mod protocol;
mod put;
mod support;
mod tuspy;
