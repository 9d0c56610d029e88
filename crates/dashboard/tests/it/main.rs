//! Integration tests: the router on a real loopback server, spoken to over
//! raw HTTP/1.1 (so tests can send what browsers never would), and a real
//! browser (Playwright driving Debian's Chromium) with axe-core.

#[path = "../../src/bin/dashboard_stub/stub.rs"]
mod stub;

mod assets;
mod browser;
mod csrf;
mod escaping;
mod failures;
mod isolation;
mod login;
mod support;
mod throttle;
