//! Integration tests for the ISO 9660 reader: fixture listings and hashes,
//! corpus conformance, and robustness against damaged images.

mod common;
mod corpus;
mod fixture;
mod robustness;
mod zisofs;
