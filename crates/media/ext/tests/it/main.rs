//! Integration tests: committed fixtures (against fls and source hashes),
//! the corpus expectations, and hostile input.

mod common;
mod corpus;
mod deleted;
mod fixtures;
mod robustness;
