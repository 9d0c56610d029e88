//! Canonical JSON (RFC 8785 style): object keys sorted, no whitespace,
//! strings escaped as serde_json does. Integers only: a float has more than
//! one text form, so it is refused rather than signed ambiguously.
//!
//! For the values exhibit writes (ASCII keys, strings, integers, booleans and
//! null) the output equals Python's
//! `json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)`,
//! which lets a third party rebuild signed bytes with stock tools.

use serde::Serialize;
use serde_json::Value;
use thiserror::Error;

/// A value that has no canonical form.
#[derive(Debug, Error)]
pub enum CanonicalError {
    /// Serialisation itself failed.
    #[error("cannot serialise to JSON: {0}")]
    Serialise(#[from] serde_json::Error),
    /// Floats are not allowed in signed data.
    #[error("floating-point number {0} has no canonical form; store an integer instead")]
    Float(String),
}

/// Serialises `value` to canonical JSON bytes.
pub fn to_canonical_vec<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, CanonicalError> {
    let value = serde_json::to_value(value)?;
    let mut out = Vec::with_capacity(256);
    write_value(&value, &mut out)?;
    Ok(out)
}

fn write_value(value: &Value, out: &mut Vec<u8>) -> Result<(), CanonicalError> {
    match value {
        Value::Number(n) if !(n.is_i64() || n.is_u64()) => return Err(CanonicalError::Float(n.to_string())),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(item, out)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push(b'{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                serde_json::to_writer(&mut *out, key)?;
                out.push(b':');
                write_value(item, out)?;
            }
            out.push(b'}');
        }
        scalar => serde_json::to_writer(&mut *out, scalar)?,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_sorted_and_whitespace_dropped() {
        let v = json!({"b": 1, "a": {"d": [true, null], "c": "x\ny"}});
        assert_eq!(to_canonical_vec(&v).unwrap(), br#"{"a":{"c":"x\ny","d":[true,null]},"b":1}"#);
    }

    #[test]
    fn floats_are_refused() {
        assert!(matches!(to_canonical_vec(&json!({"x": 1.5})), Err(CanonicalError::Float(_))));
    }

    #[test]
    fn non_ascii_is_written_raw() {
        assert_eq!(to_canonical_vec(&json!("Fé\u{1}")).unwrap(), "\"Fé\\u0001\"".as_bytes());
    }
}
