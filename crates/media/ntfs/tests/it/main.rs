//! Integration tests of the NTFS reader: fixtures against sleuthkit's
//! listing, the shared corpus, hostile mutations and the `ntfs` crate as an
//! independent oracle.

mod common;
mod corpus;
mod fixture;
mod oracle;
mod robustness;
