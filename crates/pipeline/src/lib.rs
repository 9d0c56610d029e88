//! exhibit-pipeline
