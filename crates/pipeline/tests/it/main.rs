//! Integration tests for exhibit-pipeline, in one binary so linking stays fast.

mod record;
mod worker;
