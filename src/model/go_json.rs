//! Go's lenient reading of JSON objects into structs, for the lines the strict fast path
//! refuses: a key matches a field name in any letter case (Go's `EqualFold`, so `Metrics` and
//! `HOSTNAME` count), an unknown key is skipped, and of a repeated key the last value wins.
//!
//! The fast path reads straight from the text with `deny_unknown_fields`, so a line the agent
//! wrote never comes here; a hand-edited or foreign one is read a second time, through a
//! `serde_json::Value`, instead of having its metrics dropped without a word.

use serde::de::value::{MapDeserializer, SeqDeserializer};
use serde::de::{IntoDeserializer, Visitor};
use serde::forward_to_deserialize_any;
use serde_json::{Map, Value};

/// A JSON value that deserializes into the model the way Go's `encoding/json` would.
pub(super) struct GoValue(pub(super) Value);

impl<'de> IntoDeserializer<'de, serde_json::Error> for GoValue {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

impl<'de> serde::Deserializer<'de> for GoValue {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Array(items) => visit_array(items, visitor),
            // A map (dimensions, labels, tags): keys are data, not field names.
            Value::Object(map) => visitor.visit_map(MapDeserializer::new(
                map.into_iter().map(|(k, v)| (k, GoValue(v))),
            )),
            scalar => scalar.deserialize_any(visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Array(items) => visit_array(items, visitor),
            other => other.deserialize_seq(visitor),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Object(map) => {
                visitor.visit_map(MapDeserializer::new(go_fields(map, fields).into_iter()))
            }
            other => other.deserialize_struct(name, fields, visitor),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct map tuple tuple_struct enum identifier ignored_any
    }
}

fn visit_array<'de, V: Visitor<'de>>(
    items: Vec<Value>,
    visitor: V,
) -> Result<V::Value, serde_json::Error> {
    let mut seq = SeqDeserializer::new(items.into_iter().map(GoValue));
    let value = visitor.visit_seq(&mut seq)?;
    seq.end()?;
    Ok(value)
}

/// The object's members renamed to the struct's field names, as Go matches them: the exact
/// name, else the first field equal under case folding; keys matching no field are dropped.
/// One field set twice keeps the value seen last (the object's keys come in sorted order, so
/// when one field is spelled two ways in one object, which spelling wins can differ from Go).
fn go_fields(map: Map<String, Value>, fields: &'static [&'static str]) -> Vec<(String, GoValue)> {
    let mut members: Vec<(String, GoValue)> = Vec::with_capacity(map.len());
    for (key, value) in map {
        let name = if fields.contains(&key.as_str()) {
            key
        } else if let Some(field) = fields.iter().find(|f| go_equal_fold(&key, f)) {
            (*field).to_owned()
        } else {
            continue;
        };
        match members.iter_mut().find(|(k, _)| *k == name) {
            Some(member) => member.1 = GoValue(value),
            None => members.push((name, GoValue(value))),
        }
    }
    members
}

/// Go's `bytes.EqualFold` against a field name written in ASCII: letters match in either case,
/// and `k` and `s` also match the Kelvin sign and the long s, which fold to them in Unicode.
fn go_equal_fold(key: &str, field: &str) -> bool {
    let mut field = field.chars();
    for k in key.chars() {
        let Some(f) = field.next() else {
            return false;
        };
        let same = k.eq_ignore_ascii_case(&f)
            || (f.eq_ignore_ascii_case(&'k') && k == '\u{212A}')
            || (f.eq_ignore_ascii_case(&'s') && k == '\u{017F}');
        if !same {
            return false;
        }
    }
    field.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_is_gos() {
        assert!(go_equal_fold("Metrics", "metrics"));
        assert!(go_equal_fold("HOST_ID", "host_id"));
        assert!(go_equal_fold("\u{212A}ind", "kind"));
        assert!(go_equal_fold("\u{017F}ource", "source"));
        assert!(!go_equal_fold("metric", "metrics"));
        assert!(!go_equal_fold("metricss", "metrics"));
        assert!(!go_equal_fold("métrics", "metrics"));
    }
}
