//! Integration tests for exhibit-queue, in one binary so linking stays fast.

mod amqp;
mod memory;
