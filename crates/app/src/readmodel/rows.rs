//! Turning stored rows back into values, for every backend: a row that
//! does not parse is `Corrupt` (the read model was altered), never a panic.

use std::str::FromStr;

use crate::error::{AppError, Result};

pub(super) fn to_i64(n: u64) -> Result<i64> {
    i64::try_from(n).map_err(|_| corrupt("sequence number", "beyond what the database holds"))
}

pub(super) fn to_u64(n: i64, what: &str) -> Result<u64> {
    u64::try_from(n).map_err(|_| corrupt(what, "negative"))
}

pub(super) fn corrupt(what: &str, reason: &str) -> AppError {
    AppError::Corrupt { what: what.to_owned(), reason: reason.to_owned() }
}

pub(super) fn parse_json<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T> {
    serde_json::from_str(text).map_err(|e| corrupt(what, &e.to_string()))
}

pub(super) fn parse_id<T: FromStr<Err = exhibit_core::IdError>>(text: &str, what: &str) -> Result<T> {
    text.parse().map_err(|e: exhibit_core::IdError| corrupt(what, &e.to_string()))
}

/// The exhibit of a job-count row: `''` stands for jobs of no exhibit.
pub(super) fn counted_exhibit(text: &str) -> Result<Option<exhibit_core::ids::ExhibitRef>> {
    if text.is_empty() { Ok(None) } else { parse_id(text, "job exhibit").map(Some) }
}
