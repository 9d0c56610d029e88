//! `[queue] delivery_limit` as it was written. Any value that is not a
//! whole number from 1 to 1000 (`"abc"`, `-1`, `2.5`, `0`, `1001`) gets
//! the same message, naming the key and the range, from
//! [`crate::config::QueueConfig`]'s check; a `u32` field let the
//! deserialiser answer text and negative numbers in words of its own.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The setting: the number, or how the value that is not one was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryLimit(Result<u32, String>);

impl DeliveryLimit {
    /// A limit of `n` deliveries.
    pub fn new(n: u32) -> Self {
        Self(Ok(n))
    }

    /// The number, if it is one that fits (its range is checked apart).
    pub fn number(&self) -> Option<u32> {
        self.0.as_ref().ok().copied()
    }
}

impl fmt::Display for DeliveryLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Ok(n) => write!(f, "{n}"),
            Err(written) => f.write_str(written),
        }
    }
}

impl Serialize for DeliveryLimit {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Ok(n) => s.serialize_u32(*n),
            Err(written) => s.serialize_str(written),
        }
    }
}

impl<'de> Deserialize<'de> for DeliveryLimit {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(AnyScalar)
    }
}

struct AnyScalar;

impl Visitor<'_> for AnyScalar {
    type Value = DeliveryLimit;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a whole number from 1 to 1000")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<DeliveryLimit, E> {
        Ok(DeliveryLimit(u32::try_from(v).map_err(|_| v.to_string())))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<DeliveryLimit, E> {
        Ok(DeliveryLimit(u32::try_from(v).map_err(|_| v.to_string())))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<DeliveryLimit, E> {
        Ok(DeliveryLimit(Err(v.to_string())))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<DeliveryLimit, E> {
        Ok(DeliveryLimit(Err(v.to_string())))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<DeliveryLimit, E> {
        Ok(DeliveryLimit(Err(format!("{v:?}"))))
    }
}
