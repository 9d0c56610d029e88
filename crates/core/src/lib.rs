//! The vocabulary of exhibit: identifiers, digests, manifests and custody
//! events, plus the storage key layout. This crate does no I/O (beyond
//! [`regular_file`], the one safe way to open an operator-named file) so
//! that every other crate can share it cheaply.
//!
//! ```
//! use exhibit_core::ids::{CaseId, ExhibitRef};
//! let case: CaseId = "42AB1234520".parse().unwrap();
//! let exhibit: ExhibitRef = "JS/1".parse().unwrap();
//! assert_eq!(exhibit.key_component(), "JS%2F1");
//! assert_eq!(case.as_str(), "42AB1234520");
//! ```

pub mod canonical;
pub mod digest;
pub mod error;
pub mod event;
pub mod hashing;
mod id_text;
pub mod ids;
pub mod item;
pub mod layout;
pub mod lznt1;
pub mod manifest;
pub mod params;
pub mod read_at;
pub mod regular_file;
pub mod serde_seconds;
pub mod set_record;
pub mod view;

pub use digest::{Digests, HashSelection, Sha256Digest};
pub use error::{ErrorKind, IdError};
pub use ids::{ArtefactId, CaseId, ExhibitRef};
pub use read_at::{BytesAt, FileAt, ReadAt, SliceAt, read_exact_at};

/// Name and version of this build of exhibit, recorded in every custody event.
pub const TOOL_NAME: &str = "exhibit";
/// Version of this build of exhibit.
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");
