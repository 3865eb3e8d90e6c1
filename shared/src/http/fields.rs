//! Reading the fields of a JSON object one by one, collecting every problem per field, so that one
//! 400 names all of them. A field the endpoint does not know is itself a problem: this is what
//! stops mass assignment of `role`, `organizer`, `confirmed_count` and the like.

use serde_json::{Map, Value};

use super::problem::ApiError;
use crate::domain::Instant;
use crate::domain::event::FieldErrors;

/// The fields of one request body, with the problems found so far.
pub struct Fields {
    map: Map<String, Value>,
    errors: FieldErrors,
}

/// What an optional field held: absent, `null`, or a valid value.
#[derive(Debug, Clone, PartialEq)]
pub enum Slot<T> {
    Absent,
    Null,
    Value(T),
    /// Present but refused; the problem is already recorded.
    Invalid,
}

impl<T> Slot<T> {
    /// `None` unless a value was given; absent and `null` both mean "none" on create.
    pub fn value(self) -> Option<T> {
        match self {
            Slot::Value(v) => Some(v),
            _ => None,
        }
    }

    /// For partial updates of a field that has a default: `None` to leave alone, the default
    /// for `null`, the value given otherwise.
    pub fn change_or_default(self) -> Option<T>
    where
        T: Default,
    {
        self.change().map(Option::unwrap_or_default)
    }

    /// For partial updates: `None` to leave alone, `Some(None)` to clear, `Some(Some(v))` to set.
    pub fn change(self) -> Option<Option<T>> {
        match self {
            Slot::Absent | Slot::Invalid => None,
            Slot::Null => Some(None),
            Slot::Value(v) => Some(Some(v)),
        }
    }
}

impl Fields {
    /// Starts reading `map`, recording each key not in `allowed` as unknown.
    pub fn new(map: Map<String, Value>, allowed: &[&str]) -> Self {
        let mut errors = FieldErrors::new();
        for key in map.keys() {
            if !allowed.contains(&key.as_str()) {
                errors.insert(key.clone(), vec!["is not a known field".to_owned()]);
            }
        }
        Fields { map, errors }
    }

    /// Records a problem with a field found by a rule of the caller's own.
    pub fn fail(&mut self, name: &str, message: String) {
        self.errors.entry(name.to_owned()).or_default().push(message);
    }

    /// A field that must be present and not null.
    pub fn required<T>(&mut self, name: &str, parse: impl FnOnce(&Value) -> Result<T, String>) -> Option<T> {
        match self.optional(name, parse) {
            Slot::Value(v) => Some(v),
            Slot::Invalid => None,
            Slot::Absent => {
                self.fail(name, "is required".to_owned());
                None
            }
            Slot::Null => {
                self.fail(name, "must not be null".to_owned());
                None
            }
        }
    }

    /// A field that may be absent or null.
    pub fn optional<T>(&mut self, name: &str, parse: impl FnOnce(&Value) -> Result<T, String>) -> Slot<T> {
        match self.map.get(name) {
            None => Slot::Absent,
            Some(Value::Null) => Slot::Null,
            Some(raw) => match parse(raw) {
                Ok(v) => Slot::Value(v),
                Err(message) => {
                    self.fail(name, message);
                    Slot::Invalid
                }
            },
        }
    }

    /// A field that may be absent but, when present, must not be null.
    pub fn present<T>(&mut self, name: &str, parse: impl FnOnce(&Value) -> Result<T, String>) -> Option<T> {
        match self.optional(name, parse) {
            Slot::Value(v) => Some(v),
            Slot::Absent | Slot::Invalid => None,
            Slot::Null => {
                self.fail(name, "must not be null".to_owned());
                None
            }
        }
    }

    /// Adds problems found by a rule spanning fields.
    pub fn merge(&mut self, errors: FieldErrors) {
        for (field, messages) in errors {
            self.errors.entry(field).or_default().extend(messages);
        }
    }

    /// Whether `field` has no problem so far.
    pub fn is_valid_field(&self, field: &str) -> bool {
        !self.errors.contains_key(field)
    }

    /// Ends reading: a 400 naming every problem, if there was one.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.errors.is_empty() { Ok(()) } else { Err(ApiError::Validation(self.errors)) }
    }
}

/// Unwraps a field that [`Fields::finish`] has already vouched for.
pub fn checked<T>(value: Option<T>) -> Result<T, ApiError> {
    value.ok_or_else(|| ApiError::Internal("a validated field was missing".to_owned()))
}

/// A string field parsed by a domain rule.
pub fn text<T>(parse: impl FnOnce(&str) -> Result<T, String>) -> impl FnOnce(&Value) -> Result<T, String> {
    move |v| match v {
        Value::String(s) => parse(s),
        _ => Err("must be a string".to_owned()),
    }
}

/// A whole-number field parsed by a domain rule. JSON has one number type, and JSON Schema's
/// `integer` (which the API document declares) includes `5.0`, so a whole number written with a
/// fraction of zero counts, as long as it is exact (at most 2^53 in size).
pub fn integer<T>(parse: impl FnOnce(i64) -> Result<T, String>) -> impl FnOnce(&Value) -> Result<T, String> {
    const EXACT: f64 = 9_007_199_254_740_992.0;
    move |v| {
        let whole = v
            .as_i64()
            .or_else(|| v.as_f64().filter(|f| f.fract() == 0.0 && f.abs() <= EXACT).map(|f| f as i64));
        match whole {
            Some(n) => parse(n),
            None => Err("must be a whole number".to_owned()),
        }
    }
}

/// A boolean field.
pub fn boolean(v: &Value) -> Result<bool, String> {
    v.as_bool().ok_or_else(|| "must be true or false".to_owned())
}

/// An RFC 3339 datetime with an offset.
pub fn instant(v: &Value) -> Result<Instant, String> {
    text(Instant::parse)(v)
}

/// Any string, unchecked (passwords being verified, opaque tokens).
pub fn raw_string(v: &Value) -> Result<String, String> {
    text(|s| Ok(s.to_owned()))(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn collects_every_problem() {
        let mut f = Fields::new(obj(json!({"a": 1, "role": "admin", "c": null})), &["a", "b", "c"]);
        assert_eq!(f.required("a", text(|s| Ok(s.to_owned()))), None);
        assert_eq!(f.required("b", boolean), None);
        assert_eq!(f.required("c", boolean), None);
        let Err(ApiError::Validation(errors)) = f.finish() else { panic!("expected a 400") };
        assert_eq!(errors["a"], vec!["must be a string"]);
        assert_eq!(errors["b"], vec!["is required"]);
        assert_eq!(errors["c"], vec!["must not be null"]);
        assert_eq!(errors["role"], vec!["is not a known field"]);
    }

    #[test]
    fn optional_distinguishes_absent_null_and_value() {
        let mut f = Fields::new(obj(json!({"n": null, "v": true})), &["n", "v", "a"]);
        assert_eq!(f.optional("a", boolean), Slot::Absent);
        assert_eq!(f.optional("n", boolean), Slot::Null);
        assert_eq!(f.optional("v", boolean), Slot::Value(true));
        assert!(f.finish().is_ok());
    }

    #[test]
    fn integers_refuse_fractions_strings_and_inexact_numbers() {
        let parse = |v: Value| integer(Ok::<i64, String>)(&v);
        assert_eq!(parse(json!(5)), Ok(5));
        assert_eq!(parse(json!(5.0)), Ok(5), "a whole number with a zero fraction");
        assert_eq!(parse(json!(-2.0)), Ok(-2));
        assert!(parse(json!(5.5)).is_err());
        assert!(parse(json!("5")).is_err());
        assert!(parse(json!(1e300)).is_err());
        assert!(parse(json!(u64::MAX)).is_err());
    }
}
