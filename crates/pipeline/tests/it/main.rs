//! Integration tests for exhibit-pipeline, in one binary so linking stays fast.

mod broker_limit;
mod record;
mod worker;
