//! Integration tests: committed fixtures, the shared corpus, and hostile input.

mod common;
mod corpus;
mod fixtures;
mod robustness;
