//! A JSON manifest item read with its keys in order and every duplicate
//! kept, so a row that gives a key twice (`"exhibit":"J/7",...,
//! "exhibit":"J/8"`) is refused rather than silently taking the last, and
//! each value with the text it was written as, so a refusal can quote a
//! number as typed (22 digits, not the float serde_json reads them as).

use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

/// One item of a JSON manifest's array.
#[derive(Debug)]
pub enum JsonItem {
    /// An object: its keys and values as written, duplicates included.
    Object(Vec<(String, JsonValue)>),
    /// Anything else (refused as a row, not as the whole manifest).
    Other,
}

/// One value of an item: what it parses to and the text it was written as.
#[derive(Debug)]
pub struct JsonValue {
    /// The value.
    pub value: serde_json::Value,
    /// Its JSON text exactly as written (a number's digits, all of them).
    pub typed: Box<RawValue>,
}

impl<'de> de::Deserialize<'de> for JsonItem {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ItemVisitor)
    }
}

struct ItemVisitor;

impl<'de> Visitor<'de> for ItemVisitor {
    type Value = JsonItem;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<JsonItem, A::Error> {
        let mut pairs = Vec::new();
        while let Some((k, typed)) = map.next_entry::<String, Box<RawValue>>()? {
            // Parsed again with serde_json's nesting limit, as a Value is.
            let value = serde_json::from_str(typed.get()).map_err(de::Error::custom)?;
            pairs.push((k, JsonValue { value, typed }));
        }
        Ok(JsonItem::Object(pairs))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<JsonItem, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(JsonItem::Other)
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<JsonItem, E> {
        Ok(JsonItem::Other)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<JsonItem, E> {
        Ok(JsonItem::Other)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<JsonItem, E> {
        Ok(JsonItem::Other)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<JsonItem, E> {
        Ok(JsonItem::Other)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<JsonItem, E> {
        Ok(JsonItem::Other)
    }

    fn visit_unit<E: de::Error>(self) -> Result<JsonItem, E> {
        Ok(JsonItem::Other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Any JSON value is an item or refused as a row; only text that is
    /// not a JSON array fails, and nothing panics on cut or changed bytes.
    #[test]
    fn items_keep_duplicate_keys_and_hostile_text_never_panics() {
        let sample = br#"[{"exhibit":"J/7","path":"a","exhibit":"J/8"},[1,{"a":2}],"x",1,-2,1.5,true,null,{}]"#;
        let items: Vec<JsonItem> = serde_json::from_slice(sample).unwrap();
        assert_eq!(items.len(), 9);
        match &items[0] {
            JsonItem::Object(pairs) => assert_eq!(pairs.iter().filter(|(k, _)| k == "exhibit").count(), 2),
            JsonItem::Other => panic!("an object"),
        }
        assert!(items[1..8].iter().all(|i| matches!(i, JsonItem::Other)));
        for i in 0..sample.len() {
            for byte in [b'"', b'{', b'[', b',', 0xff, b'\\'] {
                let mut bytes = sample.to_vec();
                bytes[i] = byte;
                let _ = serde_json::from_slice::<Vec<JsonItem>>(&bytes);
                let _ = serde_json::from_slice::<Vec<JsonItem>>(&sample[..i]);
            }
        }
        // As deep as a manifest under the 16 MiB cap can nest: no stack
        // overflow, one refused item (or a refused manifest).
        let deep = format!("[{}{}]", "[".repeat(4_000_000), "]".repeat(4_000_000));
        if let Ok(items) = serde_json::from_str::<Vec<JsonItem>>(&deep) {
            assert!(matches!(items.as_slice(), [JsonItem::Other]));
        }
        let deep = format!("[{}{}]", "{\"a\":".repeat(1_000_000), "}".repeat(1_000_000));
        if let Ok(items) = serde_json::from_str::<Vec<JsonItem>>(&deep) {
            assert!(matches!(items.as_slice(), [JsonItem::Other]), "never an object with a nested value");
        }
    }
}
