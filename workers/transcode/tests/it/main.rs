//! Integration tests for exhibit-transcode. Media fixtures come from
//! `scripts/fixtures/media.sh`; corpus tests skip when `../shared/corpus` is
//! absent. Each transcode runs the real child binary.

mod bad_input;
mod corpus;
mod fixtures;
mod probe_media;
mod reproduce;
mod support;
