//! The form of an MCP elicitation (`elicitation/create`, spec 2025-06-18 with SEP-1034
//! defaults): the fields a server's `requestedSchema` asks for, their defaults, and the
//! validation of an answer. Shared by the MCP client (which answers the server) and the TUI
//! (which draws the form), so both check answers the same way.
//!
//! Everything here comes from a server: treat it as hostile. Texts are kept free of control
//! characters and bounded; nothing is ever prefilled except the schema's own `default`.

use serde_json::{Map, Value};

/// The most fields a form may have (a server asking for more is refused).
pub const MAX_FIELDS: usize = 32;
/// The most characters of a shown text (message, title, description, choice label).
const MAX_TEXT_CHARS: usize = 500;
/// The most choices an enum may offer.
const MAX_CHOICES: usize = 100;

/// One field of an elicitation form.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// The property name (the key of the answer).
    pub name: String,
    /// The schema's `title`, else the name (control characters removed).
    pub label: String,
    pub description: Option<String>,
    pub kind: FieldKind,
    pub required: bool,
    /// The schema's `default`, when it has the field's type (SEP-1034).
    pub default: Option<Value>,
}

/// What a field holds.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldKind {
    /// A string; `format` is the schema's (`email`, `uri`, `date`, `date-time`), only shown.
    Text {
        format: Option<String>,
        min_length: Option<u64>,
        max_length: Option<u64>,
    },
    Number {
        minimum: Option<f64>,
        maximum: Option<f64>,
    },
    Integer {
        minimum: Option<f64>,
        maximum: Option<f64>,
    },
    Boolean,
    /// One of `values` (`enum`, or `oneOf` / `anyOf` of `const` with `title`s as labels).
    Choice {
        values: Vec<String>,
        labels: Vec<String>,
    },
    /// Several of `values` (an array of an enum).
    MultiChoice {
        values: Vec<String>,
        labels: Vec<String>,
        min_items: Option<u64>,
        max_items: Option<u64>,
    },
}

/// How the user (or a policy) answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ElicitationAnswer {
    /// Submitted, with the values (validated by [`validate`]).
    Accept(Map<String, Value>),
    /// Said no; the tool goes on without the information.
    Decline,
    /// Dismissed the request (Esc): the operation should stop.
    Cancel,
}

/// A server-chosen text, fit for a terminal: control characters become spaces, at most
/// [`MAX_TEXT_CHARS`] characters.
pub fn clean_text(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_TEXT_CHARS)
        .collect();
    if s.chars().count() > MAX_TEXT_CHARS {
        out.push('…');
    }
    out.trim().to_string()
}

/// The fields of a `requestedSchema` (in name order), or why the schema
/// cannot be shown as a form (not an object of primitive properties).
pub fn parse_schema(schema: &Value) -> Result<Vec<Field>, String> {
    let obj = schema
        .as_object()
        .ok_or("the requested schema is not an object")?;
    if obj.get("type").and_then(Value::as_str) != Some("object") {
        return Err("the requested schema is not of type object".into());
    }
    let props = match obj.get("properties") {
        Some(Value::Object(p)) => p,
        None => return Ok(Vec::new()),
        Some(_) => return Err("the requested schema's properties are not an object".into()),
    };
    if props.len() > MAX_FIELDS {
        return Err(format!(
            "the requested schema has {} fields (at most {MAX_FIELDS} are shown)",
            props.len()
        ));
    }
    let required: Vec<&str> = obj
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let mut out = Vec::new();
    for (name, prop) in props {
        let kind = field_kind(prop).map_err(|e| format!("field `{}`: {e}", clean_text(name)))?;
        let default = prop.get("default").filter(|d| fits(&kind, d)).cloned();
        out.push(Field {
            name: name.clone(),
            label: prop
                .get("title")
                .and_then(Value::as_str)
                .map(clean_text)
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| clean_text(name)),
            description: prop
                .get("description")
                .and_then(Value::as_str)
                .map(clean_text)
                .filter(|t| !t.is_empty()),
            required: required.contains(&name.as_str()),
            kind,
            default,
        });
    }
    Ok(out)
}

fn num(prop: &Value, key: &str) -> Option<f64> {
    prop.get(key).and_then(Value::as_f64)
}

fn count(prop: &Value, key: &str) -> Option<u64> {
    prop.get(key).and_then(Value::as_u64)
}

/// `enum` (with `enumNames` as labels), or `oneOf` / `anyOf` of `{const, title}`.
fn choices(prop: &Value) -> Option<(Vec<String>, Vec<String>)> {
    if let Some(values) = prop.get("enum").and_then(Value::as_array) {
        let values: Vec<String> = values
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect();
        let names: Vec<String> = prop
            .get("enumNames")
            .and_then(Value::as_array)
            .map(|n| n.iter().filter_map(Value::as_str).map(clean_text).collect())
            .unwrap_or_default();
        let labels = if names.len() == values.len() {
            names
        } else {
            values.iter().map(|v| clean_text(v)).collect()
        };
        return Some((values, labels));
    }
    let options = prop
        .get("oneOf")
        .or_else(|| prop.get("anyOf"))
        .and_then(Value::as_array)?;
    let mut values = Vec::new();
    let mut labels = Vec::new();
    for o in options {
        let v = o.get("const").and_then(Value::as_str)?;
        values.push(v.to_string());
        labels.push(
            o.get("title")
                .and_then(Value::as_str)
                .map(clean_text)
                .unwrap_or_else(|| clean_text(v)),
        );
    }
    Some((values, labels))
}

fn field_kind(prop: &Value) -> Result<FieldKind, String> {
    let kind = match prop.get("type").and_then(Value::as_str) {
        Some("string") => match choices(prop) {
            Some((values, labels)) => FieldKind::Choice { values, labels },
            None => FieldKind::Text {
                format: prop.get("format").and_then(Value::as_str).map(clean_text),
                min_length: count(prop, "minLength"),
                max_length: count(prop, "maxLength"),
            },
        },
        Some("number") => FieldKind::Number {
            minimum: num(prop, "minimum"),
            maximum: num(prop, "maximum"),
        },
        Some("integer") => FieldKind::Integer {
            minimum: num(prop, "minimum"),
            maximum: num(prop, "maximum"),
        },
        Some("boolean") => FieldKind::Boolean,
        Some("array") => {
            let (values, labels) = prop
                .get("items")
                .and_then(choices)
                .ok_or("an array that is not a list of choices")?;
            FieldKind::MultiChoice {
                values,
                labels,
                min_items: count(prop, "minItems"),
                max_items: count(prop, "maxItems"),
            }
        }
        Some(other) => return Err(format!("unsupported type `{}`", clean_text(other))),
        None => return Err("no type".into()),
    };
    match &kind {
        FieldKind::Choice { values, .. } | FieldKind::MultiChoice { values, .. }
            if values.is_empty() || values.len() > MAX_CHOICES =>
        {
            Err(format!("{} choices", values.len()))
        }
        _ => Ok(kind),
    }
}

/// Whether `v` is a valid value of a field of `kind` (types, ranges, lengths, choices).
fn fits(kind: &FieldKind, v: &Value) -> bool {
    check(kind, v).is_ok()
}

fn check(kind: &FieldKind, v: &Value) -> Result<(), String> {
    let in_range = |x: f64, min: &Option<f64>, max: &Option<f64>| {
        if min.is_some_and(|m| x < m) || max.is_some_and(|m| x > m) {
            Err(match (min, max) {
                (Some(a), Some(b)) => format!("must be between {a} and {b}"),
                (Some(a), None) => format!("must be at least {a}"),
                (None, Some(b)) => format!("must be at most {b}"),
                (None, None) => String::new(),
            })
        } else {
            Ok(())
        }
    };
    match kind {
        FieldKind::Text {
            min_length,
            max_length,
            ..
        } => {
            let s = v.as_str().ok_or("must be text")?;
            let n = s.chars().count() as u64;
            if min_length.is_some_and(|m| n < m) {
                return Err(format!(
                    "needs at least {} characters",
                    min_length.unwrap_or(0)
                ));
            }
            if max_length.is_some_and(|m| n > m) {
                return Err(format!(
                    "takes at most {} characters",
                    max_length.unwrap_or(0)
                ));
            }
            Ok(())
        }
        FieldKind::Number { minimum, maximum } => {
            let x = v.as_f64().ok_or("must be a number")?;
            in_range(x, minimum, maximum)
        }
        FieldKind::Integer { minimum, maximum } => {
            let x = v
                .as_i64()
                .map(|i| i as f64)
                .or_else(|| v.as_f64().filter(|f| f.fract() == 0.0))
                .ok_or("must be a whole number")?;
            in_range(x, minimum, maximum)
        }
        FieldKind::Boolean => v
            .as_bool()
            .map(|_| ())
            .ok_or_else(|| "must be yes or no".into()),
        FieldKind::Choice { values, .. } => {
            let s = v.as_str().ok_or("must be one of the choices")?;
            if values.iter().any(|c| c == s) {
                Ok(())
            } else {
                Err("must be one of the choices".into())
            }
        }
        FieldKind::MultiChoice {
            values,
            min_items,
            max_items,
            ..
        } => {
            let items = v.as_array().ok_or("must be a list of choices")?;
            if !items
                .iter()
                .all(|i| i.as_str().is_some_and(|s| values.iter().any(|c| c == s)))
            {
                return Err("must be a list of the choices".into());
            }
            let n = items.len() as u64;
            if min_items.is_some_and(|m| n < m) {
                return Err(format!("needs at least {} choices", min_items.unwrap_or(0)));
            }
            if max_items.is_some_and(|m| n > m) {
                return Err(format!("takes at most {} choices", max_items.unwrap_or(0)));
            }
            Ok(())
        }
    }
}

/// The schema's defaults (SEP-1034): every field that has one, with it.
pub fn defaults(fields: &[Field]) -> Map<String, Value> {
    fields
        .iter()
        .filter_map(|f| f.default.clone().map(|d| (f.name.clone(), d)))
        .collect()
}

/// Checks an answer before it is sent: every required field present, every value of its
/// field's type (integers as JSON integers); unknown keys and nulls are dropped. The error
/// names the field and what is wrong.
pub fn validate(
    fields: &[Field],
    content: &Map<String, Value>,
) -> Result<Map<String, Value>, String> {
    let mut out = Map::new();
    for f in fields {
        match content.get(&f.name).filter(|v| !v.is_null()) {
            Some(v) => {
                check(&f.kind, v).map_err(|e| format!("{} {e}", f.label))?;
                let v = match (&f.kind, v.as_f64()) {
                    (FieldKind::Integer { .. }, Some(x)) if v.as_i64().is_none() => {
                        Value::from(x as i64)
                    }
                    _ => v.clone(),
                };
                out.insert(f.name.clone(), v);
            }
            None if f.required => return Err(format!("{} is required", f.label)),
            None => {}
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The conformance suite's SEP-1034 schema, with a required field added.
    fn schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "name": {"type": "string", "description": "User name", "default": "John Doe"},
                "age": {"type": "integer", "default": 30, "minimum": 0, "maximum": 150},
                "score": {"type": "number", "default": 95.5},
                "status": {"type": "string", "enum": ["active", "inactive"], "default": "active"},
                "verified": {"type": "boolean", "default": true},
                "hero": {"type": "string", "title": "Hero\u{1b}[2J",
                         "oneOf": [{"const": "h1", "title": "Superman"}, {"const": "h2"}]},
                "fish": {"type": "array", "items": {"anyOf": [{"const": "f1", "title": "Tuna"}]},
                         "default": ["f1"]},
                "email": {"type": "string", "format": "email", "default": 7}
            },
            "required": ["email"]
        })
    }

    #[test]
    fn a_schema_becomes_fields_with_their_defaults() {
        let fields = parse_schema(&schema()).unwrap();
        let by = |n: &str| fields.iter().find(|f| f.name == n).unwrap();
        assert_eq!(
            by("age").kind,
            FieldKind::Integer {
                minimum: Some(0.0),
                maximum: Some(150.0)
            }
        );
        assert_eq!(by("hero").label, "Hero [2J");
        assert_eq!(
            by("hero").kind,
            FieldKind::Choice {
                values: vec!["h1".into(), "h2".into()],
                labels: vec!["Superman".into(), "h2".into()]
            }
        );
        assert!(by("email").required && !by("name").required);
        // A default of the wrong type is ignored.
        assert_eq!(by("email").default, None);
        let d = defaults(&fields);
        assert_eq!(
            Value::Object(d),
            json!({"name": "John Doe", "age": 30, "score": 95.5, "status": "active",
                   "verified": true, "fish": ["f1"]})
        );
    }

    #[test]
    fn answers_are_checked_against_the_fields() {
        let fields = parse_schema(&schema()).unwrap();
        let mut answer = defaults(&fields);
        assert_eq!(validate(&fields, &answer).unwrap_err(), "email is required");
        answer.insert("email".into(), json!("a@b.c"));
        answer.insert("unknown".into(), json!("dropped"));
        answer.insert("age".into(), json!(31.0));
        let ok = validate(&fields, &answer).unwrap();
        assert_eq!(ok["age"], json!(31));
        assert!(ok["age"].is_i64());
        assert!(!ok.contains_key("unknown"));
        for (key, bad, why) in [
            ("age", json!(200), "age must be between 0 and 150"),
            ("age", json!(1.5), "age must be a whole number"),
            ("score", json!("high"), "score must be a number"),
            ("status", json!("gone"), "status must be one of the choices"),
            ("verified", json!("yes"), "verified must be yes or no"),
            ("fish", json!(["f9"]), "fish must be a list of the choices"),
        ] {
            let mut a = answer.clone();
            a.insert(key.into(), bad);
            assert_eq!(validate(&fields, &a).unwrap_err(), why);
        }
    }

    #[test]
    fn schemas_that_are_no_form_are_refused() {
        assert!(parse_schema(&json!([])).is_err());
        assert!(parse_schema(&json!({"type": "string"})).is_err());
        let nested = json!({"type": "object", "properties": {"a": {"type": "object"}}});
        assert_eq!(
            parse_schema(&nested).unwrap_err(),
            "field `a`: unsupported type `object`"
        );
        let many: Map<String, Value> = (0..40)
            .map(|i| (format!("f{i}"), json!({"type": "string"})))
            .collect();
        let too_big = json!({"type": "object", "properties": many});
        assert!(parse_schema(&too_big).unwrap_err().contains("40 fields"));
        assert_eq!(parse_schema(&json!({"type": "object"})).unwrap(), vec![]);
    }

    #[test]
    fn server_texts_lose_control_characters_and_length() {
        assert_eq!(clean_text("a\u{1b}]52;c;x\u{7}b\n"), "a ]52;c;x b");
        assert_eq!(
            clean_text(&"x".repeat(600)).chars().count(),
            MAX_TEXT_CHARS + 1
        );
    }
}
