//! Integration tests: fixtures against sleuthkit listings, the shared corpus,
//! and robustness under truncation and byte flips.

mod common;
mod corpus;
mod fixtures;
mod robustness;
