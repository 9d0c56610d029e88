//! Typed ledger params: one payload type per [`Action`], with a `schema`
//! version. Ledger entries are signed and kept for decades, so the wire
//! shape is the JSON object `CustodyEvent::params` always was; these types
//! only give it names and types.
//!
//! Rules (see docs/ARCHITECTURE.md, "Typed ledger params"):
//! - an entry without `schema` was written before schemas and is schema 0;
//!   its keys are the ones schema 1 names, so it reads into the same types;
//! - reading is tolerant: every field is optional, unknown keys are ignored;
//! - a schema newer than [`PARAMS_SCHEMA`] is refused (typed error), never
//!   guessed at;
//! - writing always goes through [`CustodyEvent::set_params`], which stamps
//!   the current schema.
//!
//! ```
//! use exhibit_core::params::{EventParams, IdentifiedParams};
//! let p = IdentifiedParams { media_type: Some("image/png".into()), ..Default::default() };
//! let map = EventParams::Identified(p).to_map();
//! assert_eq!(map["schema"], 1);
//! ```

mod derived;
mod intake;
mod other;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

pub use derived::{OcrParams, TranscodedParams};
pub use intake::{AcquiredParams, ExploredParams, ExtractedParams, IdentifiedParams, MapfileRef, VerifiedParams};
pub use other::{AccessedParams, AssembledParams, DescribedParams, ExportedParams, FailedParams, KeyAddedParams};

use crate::event::{Action, CustodyEvent};

/// The params schema this build writes.
pub const PARAMS_SCHEMA: u32 = 1;
/// The key of the schema version inside params.
pub const PARAM_SCHEMA: &str = "schema";

/// Why params could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ParamsError {
    /// Written by a newer release; this one does not know its meaning.
    #[error("{action} params have schema {found}; this build reads up to {PARAMS_SCHEMA}")]
    NewerSchema {
        /// The event's action, kebab-case.
        action: String,
        /// The schema the entry carries.
        found: u64,
    },
    /// A known key holds a value of the wrong type.
    #[error("{action} params do not fit their schema: {reason}")]
    Corrupt {
        /// The event's action, kebab-case.
        action: String,
        /// What serde said.
        reason: String,
    },
}

impl ParamsError {
    /// The error's kind: both mean stored data this build cannot use.
    pub fn kind(&self) -> crate::ErrorKind {
        crate::ErrorKind::Corrupt
    }
}

/// The params of one event, typed by its action.
#[derive(Debug, Clone, PartialEq)]
pub enum EventParams {
    /// `acquired`.
    Acquired(AcquiredParams),
    /// `identified`.
    Identified(IdentifiedParams),
    /// `explored`.
    Explored(ExploredParams),
    /// `extracted`.
    Extracted(ExtractedParams),
    /// `verified`: E01 verification, fixity audit, bundle check, reproduction.
    Verified(VerifiedParams),
    /// `transcoded`.
    Transcoded(TranscodedParams),
    /// `ocr`.
    Ocr(OcrParams),
    /// `failed`.
    Failed(FailedParams),
    /// `exported`.
    Exported(ExportedParams),
    /// `accessed`.
    Accessed(AccessedParams),
    /// `key-added`.
    KeyAdded(KeyAddedParams),
    /// `described`.
    Described(DescribedParams),
    /// `assembled`.
    Assembled(AssembledParams),
    /// `stored`: no params of its own.
    Stored,
}

fn parse<T: DeserializeOwned>(action: Action, params: &Map<String, Value>) -> Result<T, ParamsError> {
    let found = match params.get(PARAM_SCHEMA) {
        None => 0,
        Some(v) => v.as_u64().ok_or_else(|| ParamsError::Corrupt {
            action: action_name(action),
            reason: format!("schema is not a number: {v}"),
        })?,
    };
    if found > u64::from(PARAMS_SCHEMA) {
        return Err(ParamsError::NewerSchema { action: action_name(action), found });
    }
    // Schema 0 and 1 share their keys: 1 only added the version itself.
    serde_json::from_value(Value::Object(params.clone()))
        .map_err(|e| ParamsError::Corrupt { action: action_name(action), reason: e.to_string() })
}

fn action_name(action: Action) -> String {
    serde_json::to_value(action).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
}

fn object<T: serde::Serialize>(value: &T) -> Map<String, Value> {
    match serde_json::to_value(value) {
        Ok(Value::Object(map)) => map,
        _ => Map::new(),
    }
}

impl EventParams {
    /// Reads `params` as the payload of `action`.
    pub fn parse(action: Action, params: &Map<String, Value>) -> Result<Self, ParamsError> {
        Ok(match action {
            Action::Acquired => Self::Acquired(parse(action, params)?),
            Action::Identified => Self::Identified(parse(action, params)?),
            Action::Explored => Self::Explored(parse(action, params)?),
            Action::Extracted => Self::Extracted(parse(action, params)?),
            Action::Verified => Self::Verified(parse(action, params)?),
            Action::Transcoded => Self::Transcoded(parse(action, params)?),
            Action::Ocr => Self::Ocr(parse(action, params)?),
            Action::Failed => Self::Failed(parse(action, params)?),
            Action::Exported => Self::Exported(parse(action, params)?),
            Action::Accessed => Self::Accessed(parse(action, params)?),
            Action::KeyAdded => Self::KeyAdded(parse(action, params)?),
            Action::Described => Self::Described(parse(action, params)?),
            Action::Assembled => Self::Assembled(parse(action, params)?),
            Action::Stored => {
                parse::<Map<String, Value>>(action, params)?;
                Self::Stored
            }
        })
    }

    /// The action these params belong to.
    pub fn action(&self) -> Action {
        match self {
            Self::Acquired(_) => Action::Acquired,
            Self::Identified(_) => Action::Identified,
            Self::Explored(_) => Action::Explored,
            Self::Extracted(_) => Action::Extracted,
            Self::Verified(_) => Action::Verified,
            Self::Transcoded(_) => Action::Transcoded,
            Self::Ocr(_) => Action::Ocr,
            Self::Failed(_) => Action::Failed,
            Self::Exported(_) => Action::Exported,
            Self::Accessed(_) => Action::Accessed,
            Self::KeyAdded(_) => Action::KeyAdded,
            Self::Described(_) => Action::Described,
            Self::Assembled(_) => Action::Assembled,
            Self::Stored => Action::Stored,
        }
    }

    /// The wire form, stamped with the current schema.
    pub fn to_map(&self) -> Map<String, Value> {
        let mut map = match self {
            Self::Acquired(p) => object(p),
            Self::Identified(p) => object(p),
            Self::Explored(p) => object(p),
            Self::Extracted(p) => object(p),
            Self::Verified(p) => object(p),
            Self::Transcoded(p) => object(p),
            Self::Ocr(p) => object(p),
            Self::Failed(p) => object(p),
            Self::Exported(p) => object(p),
            Self::Accessed(p) => object(p),
            Self::KeyAdded(p) => object(p),
            Self::Described(p) => object(p),
            Self::Assembled(p) => object(p),
            Self::Stored => Map::new(),
        };
        map.insert(PARAM_SCHEMA.into(), PARAMS_SCHEMA.into());
        map
    }

    /// The job an event completed or failed, whatever its action.
    pub fn job_id(&self) -> Option<&str> {
        match self {
            Self::Acquired(p) => p.job_id.as_deref(),
            Self::Identified(p) => p.job_id.as_deref(),
            Self::Explored(p) => p.job_id.as_deref(),
            Self::Transcoded(p) => p.job_id.as_deref(),
            Self::Ocr(p) => p.job_id.as_deref(),
            Self::Failed(p) => p.job_id.as_deref(),
            Self::Assembled(p) => p.job_id.as_deref(),
            _ => None,
        }
    }

    /// The source an event read (`acquired`, `extracted`, `failed`).
    pub fn source_key(&self) -> Option<&str> {
        match self {
            Self::Acquired(p) => p.source_key.as_deref(),
            Self::Extracted(p) => p.source_key.as_deref(),
            Self::Failed(p) => p.source_key.as_deref(),
            _ => None,
        }
    }

    /// The derivation rule and policy version of an output (`transcoded`,
    /// `ocr`), when it has a rule.
    pub fn rule(&self) -> Option<(&str, Option<&str>)> {
        match self {
            Self::Transcoded(p) => p.rule.as_deref().map(|r| (r, p.policy_version.as_deref())),
            Self::Ocr(p) => p.rule.as_deref().map(|r| (r, p.policy_version.as_deref())),
            _ => None,
        }
    }
}

impl CustodyEvent {
    /// This event's params, typed by its action.
    pub fn typed_params(&self) -> Result<EventParams, ParamsError> {
        EventParams::parse(self.action, &self.params)
    }

    /// Replaces this event's params with `params` in the current schema.
    /// Params of another action are a bug in the caller; they are written
    /// as given, and the mismatch shows in the debug build.
    pub fn set_params(&mut self, params: EventParams) {
        debug_assert_eq!(params.action(), self.action, "params of another action");
        self.params = params.to_map();
    }
}

/// One getter per action: the event's params when it is that action and
/// they read; `None` otherwise (a newer schema or a damaged entry is
/// [`CustodyEvent::typed_params`]'s error to report).
macro_rules! typed_getters {
    ($($getter:ident => $variant:ident($ty:ty)),* $(,)?) => {
        impl CustodyEvent {
            $(
                #[doc = concat!("This event's params if it is `", stringify!($variant), "`.")]
                pub fn $getter(&self) -> Option<$ty> {
                    match self.typed_params() {
                        Ok(EventParams::$variant(p)) => Some(p),
                        _ => None,
                    }
                }
            )*
        }
    };
}

typed_getters! {
    acquired_params => Acquired(AcquiredParams),
    identified_params => Identified(IdentifiedParams),
    explored_params => Explored(ExploredParams),
    extracted_params => Extracted(ExtractedParams),
    verified_params => Verified(VerifiedParams),
    transcoded_params => Transcoded(TranscodedParams),
    ocr_params => Ocr(OcrParams),
    failed_params => Failed(FailedParams),
    exported_params => Exported(ExportedParams),
    accessed_params => Accessed(AccessedParams),
    key_added_params => KeyAdded(KeyAddedParams),
    described_params => Described(DescribedParams),
    assembled_params => Assembled(AssembledParams),
}

#[cfg(test)]
mod tests;
