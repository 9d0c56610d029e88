//! Integration tests of exhibit-media-sources: fixtures made by real tools
//! (scripts/fixtures/sources.sh), the shared corpus, and hostile variants.

mod corpus;
mod cue;
mod detect;
mod device;
mod ewf;
mod robustness;
mod support;
