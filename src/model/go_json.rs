//! Go's `encoding/json` reading of a line into the model, for the lines the strict fast path
//! refuses. The rules, each checked against Go by the vectors in `testdata/go`:
//!
//! - A key matches a field name in any letter case (Go's `EqualFold`); unknown keys are skipped.
//! - A repeated key decodes again into what the first one left: the last scalar wins, a `null`
//!   changes nothing in a scalar or a struct but empties a map, a slice or a pointer, two
//!   objects for one struct merge, and an array decodes element by element into the slice that
//!   is there (Go reuses the elements, so `[{"a":1}]` then `[{"b":2}]` gives `[{"a":1,"b":2}]`).
//! - A `null` element of an array leaves that element as it was.
//! - A value of the wrong type rejects the line even when a later key replaces it, but for
//!   one replaced by a later `null` or `[]` (listed in `testdata/go/divergences.txt`).
//!
//! The line is first read into [`GoJson`], which keeps members in document order with repeated
//! keys; [`GoValues`] is then a serde `Deserializer` that decodes "these values, one after the
//! other, into one target" as Go would.

use std::fmt;

use serde::de::value::{MapDeserializer, SeqDeserializer};
use serde::de::{Error as _, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde::{forward_to_deserialize_any, Deserialize, Deserializer};
use serde_json::{Error, Number, Value};

use crate::gotime::GoTime;

/// A JSON value with object members in document order and repeated keys kept.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum GoJson {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Array(Vec<GoJson>),
    Object(Vec<(String, GoJson)>),
}

impl GoJson {
    fn is_null(&self) -> bool {
        matches!(self, GoJson::Null)
    }

    fn is_scalar(&self) -> bool {
        !matches!(self, GoJson::Array(_) | GoJson::Object(_))
    }

    /// As a `serde_json::Value`, for scalars and for error messages (a repeated key in an
    /// object keeps its last value there).
    fn into_value(self) -> Value {
        match self {
            GoJson::Null => Value::Null,
            GoJson::Bool(b) => Value::Bool(b),
            GoJson::Number(n) => Value::Number(n),
            GoJson::String(s) => Value::String(s),
            GoJson::Array(items) => {
                Value::Array(items.into_iter().map(GoJson::into_value).collect())
            }
            GoJson::Object(members) => Value::Object(
                members
                    .into_iter()
                    .map(|(k, v)| (k, v.into_value()))
                    .collect(),
            ),
        }
    }
}

impl<'de> Deserialize<'de> for GoJson {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct JsonVisitor;
        impl<'de> Visitor<'de> for JsonVisitor {
            type Value = GoJson;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_unit<E>(self) -> Result<GoJson, E> {
                Ok(GoJson::Null)
            }
            fn visit_bool<E>(self, v: bool) -> Result<GoJson, E> {
                Ok(GoJson::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<GoJson, E> {
                Ok(GoJson::Number(v.into()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<GoJson, E> {
                Ok(GoJson::Number(v.into()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<GoJson, E> {
                Number::from_f64(v)
                    .map(GoJson::Number)
                    .ok_or_else(|| E::custom("a number JSON cannot hold"))
            }
            fn visit_str<E>(self, v: &str) -> Result<GoJson, E> {
                Ok(GoJson::String(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<GoJson, E> {
                Ok(GoJson::String(v))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<GoJson, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(GoJson::Array(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<GoJson, A::Error> {
                let mut members = Vec::new();
                while let Some(member) = map.next_entry()? {
                    members.push(member);
                }
                Ok(GoJson::Object(members))
            }
        }
        deserializer.deserialize_any(JsonVisitor)
    }
}

/// The values one target received, decoded into it one after the other.
pub(super) struct GoValues(pub(super) Vec<GoJson>);

impl GoValues {
    pub(super) fn one(value: GoJson) -> Self {
        GoValues(vec![value])
    }

    /// For a scalar target: the last non-null value, or the first one of a type `fits`
    /// refuses (Go keeps the first type error, whatever follows).
    fn last_scalar(self, fits: impl Fn(&GoJson) -> bool) -> Scalar {
        let mut last = Scalar::AllNull;
        for value in self.0 {
            if value.is_null() {
                continue;
            }
            if !fits(&value) {
                return Scalar::WrongType(value.into_value());
            }
            last = Scalar::Last(value.into_value());
        }
        last
    }
}

enum Scalar {
    Last(Value),
    WrongType(Value),
    AllNull,
}

macro_rules! scalar {
    ($method:ident, $fits:expr, $zero:ident($($zero_arg:expr)?)) => {
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            match self.last_scalar($fits) {
                Scalar::Last(value) => value.$method(visitor),
                // serde_json names the type error; should it take the value after all, the
                // line is still refused.
                Scalar::WrongType(value) => match value.$method(visitor) {
                    Err(e) => Err(e),
                    Ok(_) => Err(Error::custom("a value of the wrong type")),
                },
                Scalar::AllNull => visitor.$zero($($zero_arg)?),
            }
        }
    };
}

impl<'de> Deserializer<'de> for GoValues {
    type Error = Error;

    /// A scalar whose type the target decides (a time): the last non-null value, `null` when
    /// there is none.
    ///
    /// Only times are read this way: a replaced value must have been a time too (Go keeps the
    /// first error of `Time.UnmarshalJSON`).
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let mut values: Vec<GoJson> = self.0.into_iter().filter(|v| !v.is_null()).collect();
        let Some(last) = values.pop() else {
            return visitor.visit_unit();
        };
        let is_time = |v: &GoJson| matches!(v, GoJson::String(s) if GoTime::parse(s).is_ok());
        match values.into_iter().find(|v| !is_time(v)) {
            // The time visitor names what is wrong with it.
            Some(replaced) => match replaced.into_value().deserialize_any(visitor) {
                Err(e) => Err(e),
                Ok(_) => Err(Error::custom("a value of the wrong type")),
            },
            None => last.into_value().deserialize_any(visitor),
        }
    }

    scalar!(
        deserialize_str,
        |v| matches!(v, GoJson::String(_)),
        visit_str("")
    );
    scalar!(
        deserialize_string,
        |v| matches!(v, GoJson::String(_)),
        visit_str("")
    );
    scalar!(
        deserialize_f64,
        |v| matches!(v, GoJson::Number(_)),
        visit_f64(0.0)
    );
    scalar!(
        deserialize_i64,
        |v| matches!(v, GoJson::Number(n) if n.as_i64().is_some()),
        visit_i64(0)
    );
    scalar!(
        deserialize_u64,
        |v| matches!(v, GoJson::Number(n) if n.as_u64().is_some()),
        visit_u64(0)
    );

    /// A pointer, or a field that reads `null` as its zero value. A `null` empties a pointer,
    /// a map or a slice, so only what follows the last one counts; a scalar ignores `null`.
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let values = if self.0.iter().all(GoJson::is_scalar) {
            self.0.into_iter().filter(|v| !v.is_null()).collect()
        } else {
            let after = self
                .0
                .iter()
                .rposition(GoJson::is_null)
                .map_or(0, |i| i + 1);
            let mut values = self.0;
            values.drain(..after);
            values
        };
        if values.is_empty() {
            visitor.visit_none()
        } else {
            visitor.visit_some(GoValues(values))
        }
    }

    /// A slice: each array decodes element by element into the elements already there (Go
    /// keeps even those a shorter array cut off, for a longer one to reuse); `null` and `[]`
    /// start a new slice.
    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let mut elements: Vec<Vec<GoJson>> = Vec::new();
        let mut len = 0;
        for value in self.0 {
            match value {
                GoJson::Null => {
                    elements.clear();
                    len = 0;
                }
                GoJson::Array(items) => {
                    if items.is_empty() {
                        elements.clear();
                    }
                    len = items.len();
                    for (i, item) in items.into_iter().enumerate() {
                        match elements.get_mut(i) {
                            Some(element) => element.push(item),
                            None => elements.push(vec![item]),
                        }
                    }
                }
                other => return other.into_value().deserialize_seq(visitor),
            }
        }
        elements.truncate(len);
        let mut seq = SeqDeserializer::new(elements.into_iter().map(GoValues));
        let value = visitor.visit_seq(&mut seq)?;
        seq.end()?;
        Ok(value)
    }

    /// A string map: `null` empties it, each object adds its entries (a repeated key keeps
    /// its last value, and a `null` value is the empty string).
    ///
    /// Every entry since the last `null` is handed over in order, repeated keys too, so that
    /// each value is type-checked (as Go decodes each) and the map keeps the last.
    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let mut entries: Vec<(String, GoJson)> = Vec::new();
        for value in self.0 {
            match value {
                GoJson::Null => entries.clear(),
                GoJson::Object(members) => entries.extend(members),
                other => return other.into_value().deserialize_map(visitor),
            }
        }
        visitor.visit_map(MapDeserializer::new(
            entries.into_iter().map(|(k, v)| (k, GoValues::one(v))),
        ))
    }

    /// A struct: the members of every object, in order, go to the fields they match; `null`
    /// leaves the struct as it is.
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        let mut by_field: Vec<(&'static str, GoValues)> = Vec::new();
        for value in self.0 {
            match value {
                GoJson::Null => {}
                GoJson::Object(members) => {
                    for (key, value) in members {
                        let Some(field) = go_field(&key, fields) else {
                            continue;
                        };
                        match by_field.iter_mut().find(|(f, _)| *f == field) {
                            Some((_, values)) => values.0.push(value),
                            None => by_field.push((field, GoValues::one(value))),
                        }
                    }
                }
                other => {
                    let unexpected = match &other {
                        GoJson::Array(_) => serde::de::Unexpected::Seq,
                        GoJson::String(s) => serde::de::Unexpected::Str(s),
                        GoJson::Bool(b) => serde::de::Unexpected::Bool(*b),
                        _ => serde::de::Unexpected::Other("a number"),
                    };
                    return Err(Error::invalid_type(unexpected, &visitor));
                }
            }
        }
        visitor.visit_map(MapDeserializer::new(by_field.into_iter()))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    // No field of the model has these types; should one come, its replaced values are
    // checked like any scalar's.
    scalar!(
        deserialize_bool,
        |v| matches!(v, GoJson::Bool(_)),
        visit_bool(false)
    );
    scalar!(
        deserialize_i32,
        |v| matches!(v, GoJson::Number(n) if n.as_i64().is_some_and(|n| i32::try_from(n).is_ok())),
        visit_i32(0)
    );
    scalar!(
        deserialize_u32,
        |v| matches!(v, GoJson::Number(n) if n.as_u64().is_some_and(|n| u32::try_from(n).is_ok())),
        visit_u32(0)
    );
    scalar!(
        deserialize_f32,
        |v| matches!(v, GoJson::Number(_)),
        visit_f32(0.0)
    );

    forward_to_deserialize_any! {
        i8 i16 i128 u8 u16 u128 char bytes byte_buf
        unit unit_struct tuple tuple_struct enum identifier ignored_any
    }
}

impl<'de> IntoDeserializer<'de, Error> for GoValues {
    type Deserializer = Self;

    fn into_deserializer(self) -> Self {
        self
    }
}

/// The field a key sets, as Go matches it: equal under case folding (an exact match is
/// one).
fn go_field(key: &str, fields: &'static [&'static str]) -> Option<&'static str> {
    fields.iter().copied().find(|f| go_equal_fold(key, f))
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

/// Wraps a deserializer so that a derived struct accepts only an object: serde's derive also
/// takes an array of the fields in order, which Go refuses.
pub(super) struct ObjectOnly<D>(pub(super) D);

struct ObjectVisitor<V>(V);

impl<'de, V: Visitor<'de>> Visitor<'de> for ObjectVisitor<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        self.0.expecting(f)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.0.visit_map(map)
    }
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for ObjectOnly<D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_any(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0
            .deserialize_struct(name, fields, ObjectVisitor(visitor))
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
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
